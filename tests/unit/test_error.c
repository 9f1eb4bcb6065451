/*
 * test_error.c - error strings, names and the diagnostic helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/* The one renderer: where first, then the reason; each unknown part left out. */
static void diag_format_renders_every_part(void **state)
{
    pinset_diag d = PINSET_DIAG_INIT;
    char line[512];

    (void)state;
    (void)PINSET_DIAG(&d, PINSET_E_PARSE, "invalid base64 pin");
    assert_int_equal(pinset_diag_format(line, sizeof(line), &d), strlen("invalid base64 pin"));
    assert_string_equal(line, "invalid base64 pin");
    pinset__diag_input(&d, "p.json");
    assert_string_equal((pinset_diag_format(line, sizeof(line), &d), line),
                        "p.json: invalid base64 pin");
    pinset__diag_pos(&d, SIZE_MAX, 7, 20, 99);
    pinset__diag_path(&d, "rules[0].pins[0].sha256");
    (void)pinset_diag_format(line, sizeof(line), &d);
    assert_string_equal(line, "p.json:7:20: rules[0].pins[0].sha256: invalid base64 pin");
    /* no input: the position starts the line */
    d.input = NULL;
    (void)pinset_diag_format(line, sizeof(line), &d);
    assert_string_equal(line, "7:20: rules[0].pins[0].sha256: invalid base64 pin");
    /* an object (shown counting from 1) with its label; a byte offset where there are no lines */
    pinset_diag_init(&d);
    pinset__diag_input(&d, "chain.pem");
    pinset__diag_object(&d, 1, "CERTIFICATE", 11);
    (void)PINSET_DIAG(&d, PINSET_E_PARSE, "truncated");
    (void)pinset_diag_format(line, sizeof(line), &d);
    assert_string_equal(line, "chain.pem: object 2 (CERTIFICATE): truncated");
    pinset_diag_init(&d);
    pinset__diag_input(&d, "x.der");
    pinset__diag_offset(&d, 0);
    (void)PINSET_DIAG(&d, PINSET_E_PARSE, "not der");
    (void)pinset_diag_format(line, sizeof(line), &d);
    assert_string_equal(line, "x.der: byte 0: not der");
    /* no message: the code's text */
    pinset_diag_init(&d);
    d.code = PINSET_E_NOMEM;
    (void)pinset_diag_format(line, sizeof(line), &d);
    assert_string_equal(line, "out of memory");
    assert_int_equal(pinset_diag_format(line, sizeof(line), NULL), strlen("unknown error"));
    assert_string_equal(line, "unknown error");
}

/* A 4,000-character input name is written once and whole; a short buffer is cut, never overrun. */
static void diag_format_long_input_and_short_buffer(void **state)
{
    pinset_diag d = PINSET_DIAG_INIT;
    char *name = malloc(4001), *line;
    size_t n;

    (void)state;
    assert_non_null(name);
    memset(name, 'd', 4000);
    name[4000] = '\0';
    pinset__diag_input(&d, name);
    pinset__diag_pos(&d, SIZE_MAX, 3, 5, 0);
    (void)PINSET_DIAG(&d, PINSET_E_PARSE, "reason");
    n = pinset_diag_format(NULL, 0, &d);
    assert_int_equal(n, 4000 + strlen(":3:5: reason"));
    line = malloc(n + 1);
    assert_non_null(line);
    assert_int_equal(pinset_diag_format(line, n + 1, &d), n);
    assert_memory_equal(line, name, 4000);
    assert_string_equal(line + 4000, ":3:5: reason");
    /* cut: NUL-terminated at cap - 1, and the whole length still returned */
    assert_int_equal(pinset_diag_format(line, 10, &d), n);
    assert_int_equal(strlen(line), 9);
    free(line);
    free(name);
}

/* Control characters in any part cannot forge lines or terminal escapes. */
static void diag_format_neutralises_control_characters(void **state)
{
    pinset_diag d = PINSET_DIAG_INIT;
    char line[128];

    (void)state;
    pinset__diag_input(&d, "a\nb\x1b[31m");
    (void)PINSET_DIAG(&d, PINSET_E_PARSE, "bad\rvalue\x7f");
    (void)pinset_diag_format(line, sizeof(line), &d);
    assert_string_equal(line, "a?b?[31m: bad?value?");
}

/* A path longer than the field keeps its end (the value it names), after "...". */
static void diag_path_keeps_its_end(void **state)
{
    pinset_diag d = PINSET_DIAG_INIT;
    char path[2000];

    (void)state;
    memset(path, 'k', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    memcpy(path + sizeof(path) - 1 - 7, ".sha256", 7);
    pinset__diag_path(&d, path);
    assert_int_equal(strlen(d.path), PINSET_DIAG_PATH_MAX - 1);
    assert_memory_equal(d.path, "...", 3);
    assert_string_equal(d.path + strlen(d.path) - 7, ".sha256");
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
        cmocka_unit_test(diag_format_renders_every_part),
        cmocka_unit_test(diag_format_long_input_and_short_buffer),
        cmocka_unit_test(diag_format_neutralises_control_characters),
        cmocka_unit_test(diag_path_keeps_its_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
