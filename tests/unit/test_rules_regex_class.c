/* test_rules_regex_class.c - the readers of a rule's regex text that the prefilter's rewrites
 * share (rules_regex_class.c): class ends, member bytes, classes of high bytes only, the
 * branches of one alternation level (not split inside groups, classes or after a backslash),
 * branches of high bytes only, with and without a "+", and counted repeats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <limits.h>

#include "rules_regex_class.h"

static void test_class_end_and_members(void **state)
{
    (void)state;
    const char *s = "[]a\\]b]x";
    assert_ptr_equal(regex_class_end(s), s + 6);
    assert_null(regex_class_end("[abc"));
    size_t len;
    assert_int_equal(regex_member_byte("\\xe4", &len), 0xe4);
    assert_int_equal(len, 4);
    assert_int_equal(regex_member_byte("a", &len), 'a');
    assert_int_equal(regex_member_byte("\\s", &len), -1);
    s = "[\\x80-\\xff]";
    assert_true(regex_class_high_only(s, regex_class_end(s)));
    s = "[\\x80-\\xffa]";
    assert_false(regex_class_high_only(s, regex_class_end(s)));
    s = "[^\\x80-\\xff]";
    assert_false(regex_class_high_only(s, regex_class_end(s)));
}

/* The branches of s at its top level, joined by " / ". */
static char *branches(const char *s)
{
    static char out[256];
    size_t n = strlen(s), used = 0;
    out[0] = '\0';
    for (size_t start = 0;;) {
        size_t end;
        if (!regex_branch_end(s, n, start, &end))
            return NULL;
        used += (size_t)snprintf(out + used, sizeof out - used, "%s%.*s", start ? " / " : "",
            (int)(end - start), s + start);
        if (end == n)
            break;
        start = end + 1;
    }
    return out;
}

static void test_counted_repeats(void **state)
{
    (void)state;
    unsigned long min = 7, max = 7;
    assert_int_equal(regex_counted_repeat("{5}x", &min, &max), 3);
    assert_int_equal(min, 5);
    assert_int_equal(max, 5);
    assert_int_equal(regex_counted_repeat("{2,}", &min, &max), 4);
    assert_int_equal(min, 2);
    assert_true(max == ULONG_MAX);
    assert_int_equal(regex_counted_repeat("{10,64}?", &min, &max), 7);
    assert_int_equal(min, 10);
    assert_int_equal(max, 64);
    assert_int_equal(regex_counted_repeat("{,5}", &min, &max), 0);
    assert_int_equal(regex_counted_repeat("{x}", &min, &max), 0);
    assert_int_equal(regex_counted_repeat("{5", &min, &max), 0);
    assert_int_equal(regex_counted_repeat("{5, 6}", &min, &max), 0);
    assert_int_equal(regex_counted_repeat("a{5}", &min, &max), 0);
}

static void test_branches_of_one_level(void **state)
{
    (void)state;
    assert_string_equal(branches("a|b"), "a / b");
    assert_string_equal(branches("a(?:b|c)|d"), "a(?:b|c) / d");
    assert_string_equal(branches("[|]|\\||x"), "[|] / \\| / x");
    assert_string_equal(branches(""), "");
    assert_string_equal(branches("a||b"), "a /  / b");
    assert_null(branches("a|[bc"));
}

static void test_branches_of_high_bytes_only(void **state)
{
    (void)state;
    static const char *high[] = { "[\\xc3][\\x80\\x81]", "\\xe4", "(?:[\\xd0][\\x90]|\\xe4)",
        "[\\xe1](?:[\\xb8][\\x80\\x81]|[\\xba][\\xa0-\\xb7])" };
    for (size_t i = 0; i < sizeof high / sizeof high[0]; i++) {
        if (!regex_branch_high_only(high[i], strlen(high[i]), false))
            fail_msg("%s: not high bytes only", high[i]);
        if (!regex_branch_high_only(high[i], strlen(high[i]), true))
            fail_msg("%s: not high bytes only with plus", high[i]);
    }
    static const char *other[] = { "[\\xc3]a", "[\\xc3]?", "[\\xc3]*", "([\\xc3])",
        "(?:[\\xc3]|)", "[\\xc3])", "(?:[\\xc3]", "", "[^\\x00-\\x7f]", "\\s" };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        if (regex_branch_high_only(other[i], strlen(other[i]), true))
            fail_msg("%s: taken for high bytes only", other[i]);
    }
    assert_true(regex_branch_high_only("[\\x80-\\xff]+", 12, true));
    assert_false(regex_branch_high_only("[\\x80-\\xff]+", 12, false));
    assert_false(regex_branch_high_only("[\\x80-\\xff]++", 13, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_end_and_members),
        cmocka_unit_test(test_counted_repeats),
        cmocka_unit_test(test_branches_of_one_level),
        cmocka_unit_test(test_branches_of_high_bytes_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
