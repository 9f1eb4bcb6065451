/*
 * test_cli_suggest.c - "did you mean" (src/cli/suggest.c): the edit distance
 * and the choice of the nearest known word.
 */
/* cmocka.h needs setjmp.h, stdarg.h and stddef.h before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "suggest.h"

static size_t dist(const char *a, const char *b)
{
    return suggest_distance(a, strlen(a), b, strlen(b), 10);
}

static void distance_counts_each_kind_of_edit_once(void **state)
{
    (void)state;
    assert_int_equal(dist("check", "check"), 0);
    assert_int_equal(dist("chek", "check"), 1);   /* insert */
    assert_int_equal(dist("checkk", "check"), 1); /* delete */
    assert_int_equal(dist("chack", "check"), 1);  /* substitute */
    assert_int_equal(dist("chekc", "check"), 1);  /* two neighbours swapped */
    assert_int_equal(dist("CHECK", "check"), 0);  /* case does not count */
    assert_int_equal(dist("", "lint"), 4);
    assert_int_equal(dist("kitten", "sitting"), 3);
}

static void distance_gives_up_past_the_cap_and_on_long_words(void **state)
{
    char big[SUGGEST_MAX_LEN + 2];

    (void)state;
    assert_int_equal(suggest_distance("abcdef", 6, "uvwxyz", 6, 2), SIZE_MAX);
    assert_int_equal(suggest_distance("a", 1, "abcd", 4, 2), SIZE_MAX); /* lengths alone */
    assert_int_equal(suggest_distance("abc", 3, "abd", 3, 1), 1);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(suggest_distance(big, strlen(big), big, strlen(big), 5), SIZE_MAX);
    assert_int_equal(suggest_distance(big, SUGGEST_MAX_LEN, big, SUGGEST_MAX_LEN, 5), 0);
}

static void nearest_word_wins_and_far_words_are_not_suggested(void **state)
{
    static const char *const cmds[] = {"hash", "fetch", "check", "explain", "lint", "demo"};
    suggest sg;

    (void)state;
    suggest_init(&sg, "chek", 4, 0);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        suggest_offer(&sg, cmds[i]);
    }
    assert_string_equal(suggest_result(&sg), "check");

    suggest_init(&sg, "zzzzz", 5, 0); /* nothing within one edit */
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        suggest_offer(&sg, cmds[i]);
    }
    assert_null(suggest_result(&sg));

    suggest_init(&sg, "lint", 4, 0); /* the word itself is never suggested */
    suggest_offer(&sg, "lint");
    assert_null(suggest_result(&sg));

    suggest_init(&sg, "polcy", 5, 0); /* the nearest, not the first near one */
    suggest_offer(&sg, "pol");
    suggest_offer(&sg, "policy");
    assert_string_equal(suggest_result(&sg), "policy");

    suggest_init(&sg, "tiemout", 7, 0); /* longer words allow two edits */
    suggest_offer(&sg, "timeout");
    assert_string_equal(suggest_result(&sg), "timeout");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distance_counts_each_kind_of_edit_once),
        cmocka_unit_test(distance_gives_up_past_the_cap_and_on_long_words),
        cmocka_unit_test(nearest_word_wins_and_far_words_are_not_suggested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
