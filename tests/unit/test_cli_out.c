/*
 * test_cli_out.c - the tool's output helpers (src/cli/out.c): colour choice,
 * terminal-safe text, JSON strings and key order, time formatting.
 *
 * out.c belongs to the tool, not the library: this test links the tool's
 * library (pinset_cli) and uses its header.
 */
#define _POSIX_C_SOURCE 200809L

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "out.h"

static void color_parse_accepts_the_three_words_only(void **state)
{
    out_color_mode m = OUT_COLOR_NEVER;

    (void)state;
    assert_int_equal(out_color_parse("auto", &m), 0);
    assert_int_equal(m, OUT_COLOR_AUTO);
    assert_int_equal(out_color_parse("always", &m), 0);
    assert_int_equal(m, OUT_COLOR_ALWAYS);
    assert_int_equal(out_color_parse("never", &m), 0);
    assert_int_equal(m, OUT_COLOR_NEVER);
    assert_int_equal(out_color_parse("Always", &m), -1);
    assert_int_equal(out_color_parse("", &m), -1);
    assert_int_equal(out_color_parse("yes", &m), -1);
    assert_int_equal(out_color_parse(NULL, &m), -1);
    assert_int_equal(m, OUT_COLOR_NEVER); /* unchanged on failure */
}

static void color_enabled_follows_mode_tty_and_no_color(void **state)
{
    FILE *f = tmpfile(); /* not a terminal */

    (void)state;
    assert_non_null(f);
    assert_int_equal(setenv("NO_COLOR", "1", 1), 0);
    assert_int_equal(out_color_enabled(f, OUT_COLOR_ALWAYS), 1); /* the flag wins */
    assert_int_equal(out_color_enabled(f, OUT_COLOR_AUTO), 0);
    assert_int_equal(out_color_enabled(f, OUT_COLOR_NEVER), 0);
    assert_int_equal(setenv("NO_COLOR", "", 1), 0);            /* empty: as if unset */
    assert_int_equal(out_color_enabled(f, OUT_COLOR_AUTO), 0); /* still not a terminal */
    assert_int_equal(unsetenv("NO_COLOR"), 0);
    assert_int_equal(out_color_enabled(f, OUT_COLOR_AUTO), 0);
    fclose(f);
    assert_string_equal(out_sgr(0, OUT_BOLD), "");
    assert_string_equal(out_sgr_reset(0), "");
    assert_string_equal(out_sgr(1, OUT_BOLD), "\033[1m");
    assert_string_equal(out_sgr(1, OUT_PLAIN), "");
    assert_string_equal(out_sgr_reset(1), "\033[0m");
}

static void safe_text_replaces_control_characters(void **state)
{
    char buf[16];
    char small[4];
    FILE *f = tmpfile();
    char back[32] = {0};

    (void)state;
    out_safe_copy(buf, sizeof(buf), "a\nb\033[31m\x7f\tc");
    assert_string_equal(buf, "a?b?[31m??c");
    out_safe_copy(buf, sizeof(buf), "caf\xc3\xa9"); /* UTF-8 passes through */
    assert_string_equal(buf, "caf\xc3\xa9");
    out_safe_copy(small, sizeof(small), "abcdef"); /* truncated, terminated */
    assert_string_equal(small, "abc");
    out_safe_copy(buf, sizeof(buf), NULL);
    assert_string_equal(buf, "-");
    assert_non_null(f);
    out_safe(f, "x\ry");
    out_safe(f, NULL);
    rewind(f);
    assert_non_null(fgets(back, sizeof(back), f));
    assert_string_equal(back, "x?y-");
    fclose(f);
}

static void json_strings_are_valid_utf8_or_null(void **state)
{
    json_t *v;

    (void)state;
    v = out_json_str("CN=caf\xc3\xa9");
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "CN=caf\xc3\xa9");
    json_decref(v);
    v = out_json_str("CN=\xff\xfe\x01x"); /* not UTF-8: bytes outside printable ASCII become '?' */
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "CN=???x");
    json_decref(v);
    v = out_json_str(NULL);
    assert_true(json_is_null(v));
    json_decref(v);
}

static void json_keys_keep_insertion_order(void **state)
{
    json_t *o = json_object();
    FILE *f = tmpfile();
    char back[128] = {0};
    size_t n;

    (void)state;
    assert_non_null(o);
    assert_non_null(f);
    assert_int_equal(out_json_set(o, "zeta", json_integer(1)), 0);
    assert_int_equal(out_json_set(o, "alpha", json_null()), 0);
    assert_int_equal(out_json_set(o, "mid", json_string("x")), 0);
    assert_int_equal(out_json_set(o, "bad", NULL), -1); /* an allocation that failed */
    assert_int_equal(out_json_dump(f, o), 0);
    rewind(f);
    n = fread(back, 1, sizeof(back) - 1, f);
    back[n] = '\0';
    assert_string_equal(back, "{\n  \"zeta\": 1,\n  \"alpha\": null,\n  \"mid\": \"x\"\n}\n");
    fclose(f);
    json_decref(o);
}

static void time_iso_is_rfc3339_utc(void **state)
{
    char buf[OUT_TIME_MAX];
    char tiny[8];

    (void)state;
    assert_int_equal(out_time_iso(buf, sizeof(buf), 0), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(out_time_iso(buf, sizeof(buf), 1000000000), 0);
    assert_string_equal(buf, "2001-09-09T01:46:40Z");
    assert_int_equal(out_time_iso(buf, sizeof(buf), -1), 0);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(out_time_iso(buf, sizeof(buf), INT64_MAX), -1); /* year out of range */
    assert_string_equal(buf, "invalid time");
    assert_int_equal(out_time_iso(tiny, sizeof(tiny), 0), -1); /* does not fit */
    assert_int_equal(strlen(tiny) < sizeof(tiny), 1);
}

static void time_relative_uses_the_largest_whole_unit(void **state)
{
    char buf[OUT_TIME_MAX];
    const int64_t now = 1700000000;

    (void)state;
    out_time_relative(buf, sizeof(buf), now, now);
    assert_string_equal(buf, "now");
    out_time_relative(buf, sizeof(buf), now + 3 * 86400 + 5, now);
    assert_string_equal(buf, "in 3 days");
    out_time_relative(buf, sizeof(buf), now - 5 * 3600 - 59, now);
    assert_string_equal(buf, "5 hours ago");
    out_time_relative(buf, sizeof(buf), now - 60, now);
    assert_string_equal(buf, "1 minute ago");
    out_time_relative(buf, sizeof(buf), now + 1, now);
    assert_string_equal(buf, "in 1 second");
    out_time_relative(buf, sizeof(buf), INT64_MAX, INT64_MIN); /* no overflow */
    assert_string_equal(buf, "in 213503982334601 days");
    out_time_relative(buf, sizeof(buf), INT64_MIN, INT64_MAX);
    assert_string_equal(buf, "213503982334601 days ago");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(color_parse_accepts_the_three_words_only),
        cmocka_unit_test(color_enabled_follows_mode_tty_and_no_color),
        cmocka_unit_test(safe_text_replaces_control_characters),
        cmocka_unit_test(json_strings_are_valid_utf8_or_null),
        cmocka_unit_test(json_keys_keep_insertion_order),
        cmocka_unit_test(time_iso_is_rfc3339_utc),
        cmocka_unit_test(time_relative_uses_the_largest_whole_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
