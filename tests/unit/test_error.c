/*
 * test_error.c - error strings, names and the diagnostic helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/err.h>

#include <pinset/error.h>

#include "internal.h"

static void strerror_covers_every_code(void **state)
{
    (void)state;
    for (int e = PINSET_OK; e <= PINSET_E_PASSPHRASE; e++) {
        assert_string_not_equal(pinset_strerror((pinset_err)e), "unknown error");
        assert_string_not_equal(pinset_err_name((pinset_err)e), "PINSET_E_UNKNOWN");
    }
    assert_string_equal(pinset_err_name(PINSET_E_PARSE), "PINSET_E_PARSE");
    assert_string_equal(pinset_strerror((pinset_err)9999), "unknown error");
    assert_string_equal(pinset_err_name((pinset_err)-1), "PINSET_E_UNKNOWN");
}

static void diag_records_code_message_and_position(void **state)
{
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(PINSET_DIAG(&d, PINSET_E_PARSE, "bad %s at %d", "thing", 7), PINSET_E_PARSE);
    pinset__diag_pos(&d, 2, 3, 4, 5);
    pinset__diag_path(&d, "rules[1].host");
    assert_int_equal(d.code, PINSET_E_PARSE);
    assert_string_equal(d.message, "bad thing at 7");
    assert_int_equal(d.object, 2);
    assert_int_equal(d.line, 3);
    assert_int_equal(d.column, 4);
    assert_int_equal(d.offset, 5);
    assert_string_equal(d.path, "rules[1].host");
#ifndef NDEBUG
    assert_non_null(d.src_file);
#endif
    pinset_diag_init(&d);
    assert_int_equal(d.code, PINSET_OK);
    assert_string_equal(d.message, "");
    /* NULL diag is allowed everywhere */
    assert_int_equal(PINSET_DIAG(NULL, PINSET_E_LIMIT, "x"), PINSET_E_LIMIT);
}

static void diag_message_is_truncated_not_overflowed(void **state)
{
    pinset_diag d = PINSET_DIAG_INIT;
    char big[1000];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    (void)PINSET_DIAG(&d, PINSET_E_PARSE, "%s", big);
    assert_int_equal(strlen(d.message), PINSET_DIAG_MESSAGE_MAX - 1);
}

static void openssl_diag_leaves_callers_queue(void **state)
{
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    ERR_clear_error();
    ERR_raise(ERR_LIB_USER, 1); /* the caller's own pending error */
    ERR_set_mark();
    ERR_raise(ERR_LIB_X509, 2);
    (void)PINSET_DIAG_OSSL(&d, PINSET_E_CRYPTO, "load");
    assert_int_equal(d.code, PINSET_E_CRYPTO);
    assert_true(strncmp(d.message, "load: ", 6) == 0);
    assert_int_equal(ERR_GET_LIB(ERR_peek_last_error()), ERR_LIB_USER);
    ERR_clear_error();
}

static void alloc_rejects_overflow_and_can_fail_on_demand(void **state)
{
    void *p;

    (void)state;
    assert_null(pinset__alloc_array(SIZE_MAX / 2, 4));
    assert_null(pinset__alloc(0));
    pinset__alloc_fail_at(1);
    assert_null(pinset__alloc(16));
    p = pinset__alloc(16);
    assert_non_null(p);
    pinset__free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strerror_covers_every_code),
        cmocka_unit_test(diag_records_code_message_and_position),
        cmocka_unit_test(diag_message_is_truncated_not_overflowed),
        cmocka_unit_test(openssl_diag_leaves_callers_queue),
        cmocka_unit_test(alloc_rejects_overflow_and_can_fail_on_demand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
