/*
 * test_cursor.c - the bounds-checked read cursor (cursor.c): every read
 * either succeeds completely or fails and leaves the cursor unchanged, and
 * nothing reads past the span.
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

static void reads_in_order_then_stops(void **state)
{
    static const uint8_t buf[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    struct pinset_cursor c;
    const uint8_t *p = NULL;
    uint8_t b = 0;

    (void)state;
    pinset__cursor_init(&c, buf, sizeof(buf));
    assert_int_equal(pinset__cursor_remaining(&c), 5);
    assert_true(pinset__cursor_peek_u8(&c, &b));
    assert_int_equal(b, 0x30);
    assert_int_equal(pinset__cursor_offset(&c), 0);
    assert_true(pinset__cursor_read_u8(&c, &b));
    assert_int_equal(b, 0x30);
    assert_true(pinset__cursor_read_bytes(&c, 2, &p));
    assert_ptr_equal(p, buf + 1);
    assert_int_equal(pinset__cursor_offset(&c), 3);
    assert_ptr_equal(pinset__cursor_ptr(&c), buf + 3);
    assert_false(pinset__cursor_read_bytes(&c, 3, &p)); /* only 2 left */
    assert_ptr_equal(p, buf + 1);                       /* untouched */
    assert_int_equal(pinset__cursor_remaining(&c), 2);
    assert_true(pinset__cursor_skip(&c, 2));
    assert_true(pinset__cursor_at_end(&c));
    assert_false(pinset__cursor_read_u8(&c, &b));
    assert_false(pinset__cursor_peek_u8(&c, &b));
    assert_false(pinset__cursor_skip(&c, 1));
    assert_true(pinset__cursor_read_bytes(&c, 0, &p)); /* zero bytes always fit */
    assert_true(pinset__cursor_at_end(&c));
}

static void huge_lengths_never_wrap(void **state)
{
    static const uint8_t buf[] = {1, 2, 3, 4};
    struct pinset_cursor c;
    struct pinset_cursor sub;
    const uint8_t *p = NULL;

    (void)state;
    pinset__cursor_init(&c, buf, sizeof(buf));
    assert_true(pinset__cursor_skip(&c, 1));
    assert_false(pinset__cursor_read_bytes(&c, SIZE_MAX, &p));
    assert_false(pinset__cursor_read_bytes(&c, SIZE_MAX - 1, &p));
    assert_false(pinset__cursor_skip(&c, (size_t)-1));
    assert_false(pinset__cursor_sub(&c, SIZE_MAX, &sub));
    assert_false(pinset__cursor_expect(&c, buf, SIZE_MAX));
    assert_null(p);
    assert_int_equal(pinset__cursor_remaining(&c), 3);
}

static void expect_matches_exactly(void **state)
{
    static const uint8_t buf[] = {0x02, 0x01, 0x02, 0xff};
    static const uint8_t v3[] = {0x02, 0x01, 0x02};
    static const uint8_t v2[] = {0x02, 0x01, 0x01};
    static const uint8_t longer[] = {0x02, 0x01, 0x02, 0xff, 0x00};
    struct pinset_cursor c;

    (void)state;
    pinset__cursor_init(&c, buf, sizeof(buf));
    assert_false(pinset__cursor_expect(&c, v2, sizeof(v2)));
    assert_int_equal(pinset__cursor_offset(&c), 0);
    assert_false(pinset__cursor_expect(&c, longer, sizeof(longer)));
    assert_int_equal(pinset__cursor_offset(&c), 0);
    assert_true(pinset__cursor_expect(&c, v3, sizeof(v3)));
    assert_int_equal(pinset__cursor_offset(&c), 3);
    assert_true(pinset__cursor_expect(&c, v3, 0));
    assert_int_equal(pinset__cursor_offset(&c), 3);
}

static void sub_cursor_is_confined(void **state)
{
    static const uint8_t buf[] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4};
    struct pinset_cursor c;
    struct pinset_cursor sub;
    uint8_t b = 0;

    (void)state;
    pinset__cursor_init(&c, buf, sizeof(buf));
    assert_true(pinset__cursor_skip(&c, 1));
    assert_true(pinset__cursor_sub(&c, 2, &sub));
    assert_int_equal(pinset__cursor_offset(&c), 3);
    assert_int_equal(pinset__cursor_remaining(&sub), 2);
    assert_true(pinset__cursor_read_u8(&sub, &b));
    assert_int_equal(b, 0xa1);
    assert_true(pinset__cursor_read_u8(&sub, &b));
    assert_int_equal(b, 0xa2);
    assert_false(pinset__cursor_read_u8(&sub, &b)); /* 0xa3 belongs to the parent */
    assert_true(pinset__cursor_at_end(&sub));
    assert_false(pinset__cursor_sub(&c, 3, &sub));
    assert_int_equal(pinset__cursor_offset(&c), 3);
}

static void empty_span(void **state)
{
    struct pinset_cursor c;
    const uint8_t *p = (const uint8_t *)"x";
    uint8_t b;

    (void)state;
    pinset__cursor_init(&c, NULL, 0);
    assert_true(pinset__cursor_at_end(&c));
    assert_false(pinset__cursor_read_u8(&c, &b));
    assert_true(pinset__cursor_read_bytes(&c, 0, &p));
    assert_null(p);
    assert_false(pinset__cursor_read_bytes(&c, 1, &p));
}

/* Every read from a heap span of exact size: ASan catches a read past it. */
static void exact_heap_span(void **state)
{
    uint8_t *buf = malloc(7);
    struct pinset_cursor c;
    const uint8_t *p;
    uint8_t b;
    size_t got = 0;

    (void)state;
    assert_non_null(buf);
    memset(buf, 0x5a, 7);
    pinset__cursor_init(&c, buf, 7);
    while (pinset__cursor_read_u8(&c, &b)) {
        assert_int_equal(b, 0x5a);
        got++;
    }
    assert_int_equal(got, 7);
    pinset__cursor_init(&c, buf, 7);
    assert_true(pinset__cursor_read_bytes(&c, 7, &p));
    assert_false(pinset__cursor_peek_u8(&c, &b));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_in_order_then_stops),
        cmocka_unit_test(huge_lengths_never_wrap),
        cmocka_unit_test(expect_matches_exactly),
        cmocka_unit_test(sub_cursor_is_confined),
        cmocka_unit_test(empty_span),
        cmocka_unit_test(exact_heap_span),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
