/* test_rules_prefilter_chain.c - the counted check of a rule that is one group repeated
 * (rules_prefilter_chain.c): which patterns are "(?:G){n}" as a whole, and when the ends of
 * G's matches hold a chain of n. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "rules_prefilter_chain.h"

static void expect_group(const char *pattern, const char *group, unsigned long count)
{
    unsigned long n = 0;
    char *g = prefilter_chain_group(pattern, &n);
    if (g == NULL)
        fail_msg("%s: no repeated group found", pattern);
    assert_string_equal(g, group);
    assert_int_equal(n, count);
    free(g);
}

static void expect_none(const char *pattern)
{
    unsigned long n = 0;
    char *g = prefilter_chain_group(pattern, &n);
    if (g != NULL)
        fail_msg("%s: taken as \"%s\" repeated %lu times", pattern, g, n);
}

static void test_repeated_group_is_found(void **state)
{
    (void)state;
    expect_group("(?:ab|cd){5}", "(?:ab|cd)", 5);
    expect_group("(?:a(?:b|c)d\\)){3,}", "(?:a(?:b|c)d\\))", 3);
    expect_group("(?:[)(]x){2,7}?", "(?:[)(]x)", 2);
    expect_group("(?:[]a)]+y){4}+", "(?:[]a)]+y)", 4);
    expect_group("(?:x[^)]\\d{1,3}){3}", "(?:x[^)]\\d{1,3})", 3);
}

static void test_other_patterns_are_not_taken(void **state)
{
    (void)state;
    expect_none("(?:ab){1}");           /* once: nothing to count */
    expect_none("(?:ab){0,5}");
    expect_none("(?:ab){5}c");          /* the group is not the whole pattern */
    expect_none("c(?:ab){5}");
    expect_none("(?:ab)(?:cd){5}");
    expect_none("(ab){5}");             /* a capturing group: left alone */
    expect_none("(?:ab)+");
    expect_none("(?:ab){x}");
    expect_none("(?:ab");
    expect_none("(?:a\\");
}

static void test_chain_of_ends(void **state)
{
    (void)state;
    unsigned long long spaced[] = { 4, 8, 12, 16, 20 };
    assert_true(prefilter_chain_possible(spaced, 5, 5, 4));
    assert_false(prefilter_chain_possible(spaced, 5, 5, 5));   /* 5, then 10: only 3 fit */
    assert_true(prefilter_chain_possible(spaced, 5, 2, 5));      /* 8, 16 */
    assert_false(prefilter_chain_possible(spaced, 5, 3, 5));
    assert_false(prefilter_chain_possible(spaced, 4, 5, 4));
    /* too close to the start: a match of width 4 cannot end at 3 */
    unsigned long long early[] = { 3, 7, 11 };
    assert_false(prefilter_chain_possible(early, 3, 3, 4));
    assert_true(prefilter_chain_possible(early, 3, 2, 4));
    /* out of order, and ends too close to each other: the earliest next end is taken */
    unsigned long long mixed[] = { 30, 9, 10, 11, 20, 21 };
    assert_true(prefilter_chain_possible(mixed, 6, 3, 9));
    assert_false(prefilter_chain_possible(mixed, 6, 4, 9));
    unsigned long long none[1];
    assert_false(prefilter_chain_possible(none, 0, 2, 1));
    /* G may match empty: no spacing proves anything */
    assert_true(prefilter_chain_possible(none, 0, 2, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated_group_is_found),
        cmocka_unit_test(test_other_patterns_are_not_taken),
        cmocka_unit_test(test_chain_of_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
