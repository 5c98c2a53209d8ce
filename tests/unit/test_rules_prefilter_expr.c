/* test_rules_prefilter_expr.c - what Hyperscan is given for a rule's regex
 * (rules_prefilter_expr.c): counted repeats loosened to a kept lower bound or to * and +,
 * groups short and long, escapes and classes left alone, (?x) written out, and the anchors
 * removed for the patterns Hyperscan refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_prefilter_expr.h"

static void expect_expression(const char *pattern, bool keep_counts, const char *want)
{
    char *got = prefilter_expression(pattern, false, keep_counts);
    if (strcmp(got, want) != 0)
        fail_msg("%s (keep_counts %d): %s, expected %s", pattern, keep_counts, got, want);
    free(got);
}

static void expect_anchor_free(const char *expression, const char *want)
{
    char *got = prefilter_anchor_free(expression);
    if (want == NULL && got != NULL)
        fail_msg("%s: %s, expected no anchor-free form", expression, got);
    if (want != NULL && (got == NULL || strcmp(got, want) != 0))
        fail_msg("%s: %s, expected %s", expression, got ? got : "(none)", want);
    free(got);
}

static void test_item_repeats_keep_their_lower_bound(void **state)
{
    (void)state;
    expect_expression("[a-z0-9]{6}\\s{8}[a-z0-9]{5}", true, "[a-z0-9]{6,}\\s{8,}[a-z0-9]{5,}");
    expect_expression("[-0-9a-f]{10,64}", true, "[-0-9a-f]{10,}");
    expect_expression("^[^\\r\\n]{998}", true, "^[^\\r\\n]{998,}");
    expect_expression("x{5000}", true, "x{1000,}");             /* the most kept */
    expect_expression("a{0,2048}b{1,30}", true, "a*b+");
    expect_expression("a{2,4}b{3}", true, "a{2,4}b{3}");        /* small ones stay exact */
    expect_expression("a{2,}", true, "a{2,}");
    expect_expression("a{8,}?b{9}+", true, "a{8,}b{9,}");       /* lazy, possessive: dropped */
}

static void test_item_repeats_loosened_without_keep_counts(void **state)
{
    (void)state;
    expect_expression("[a-z0-9]{6}\\s{8}[a-z0-9]{5}", false, "[a-z0-9]+\\s+[a-z0-9]+");
    expect_expression("a{0,50}", false, "a*");
    expect_expression("a{2,4}", false, "a{2,4}");
}

static void test_group_repeats(void **state)
{
    (void)state;
    /* a short group keeps up to 6 copies, a long one none, without keep_counts neither */
    expect_expression("\\b(?:[a-z]{8,}[\\s\\.]+){6}", true, "\\b(?:[a-z]{8,}[\\s\\.]+){6,}");
    expect_expression("(?:ab){9}", true, "(?:ab){6,}");
    expect_expression("(?:ab){2}", true, "(?:ab){2,}");
    expect_expression("(?:ab){1,3}", true, "(?:ab)+");
    expect_expression("(?:ab){0,3}", true, "(?:ab)*");
    char long_group[200] = "(?:";
    for (int i = 0; i < 40; i++)
        strcat(long_group, "ab");
    char pattern[220], want[220];
    snprintf(pattern, sizeof pattern, "%s){3}", long_group);
    snprintf(want, sizeof want, "%s)+", long_group);
    expect_expression(pattern, true, want);
    expect_expression("(?:ab){6}", false, "(?:ab)+");
    /* the group measured is the one closed just before the count */
    expect_expression("(?:(?:a)b){3}", true, "(?:(?:a)b){3,}");
}

static void test_escapes_and_classes_are_not_counts(void **state)
{
    (void)state;
    expect_expression("\\x{41}{9}", true, "\\x{41}{9,}");
    expect_expression("\\{9}", true, "\\{9}");                 /* an escaped brace */
    expect_expression("[{9}]{9}", true, "[{9}]{9,}");
    expect_expression("[]{5}]", true, "[]{5}]");                /* ] first in a class */
    expect_expression("[^]{5}]", true, "[^]{5}]");
    expect_expression("a{x}", true, "a{x}");                    /* not a count */
    char *x = prefilter_expression("a b{9}", true, true);
    assert_string_equal(x, "(?x)a b{9,}");
    free(x);
}

static void test_anchor_free(void **state)
{
    (void)state;
    expect_anchor_free("(?:$|\\W)opt[-\\s]?out(?:$|\\W)", "(?:|\\W)opt[-\\s]?out(?:|\\W)");
    expect_anchor_free("^Message-Id:.*?^Received:", "Message-Id:.*?Received:");
    expect_anchor_free("\\Afoo\\z|bar\\Z\\G", "foo|bar");
    expect_anchor_free("[$^]x[^$]", NULL);                     /* in classes: characters */
    expect_anchor_free("\\$5\\^", NULL);                       /* escaped */
    expect_anchor_free("\\x{24}", NULL);
    expect_anchor_free("foo", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_repeats_keep_their_lower_bound),
        cmocka_unit_test(test_item_repeats_loosened_without_keep_counts),
        cmocka_unit_test(test_group_repeats),
        cmocka_unit_test(test_escapes_and_classes_are_not_counts),
        cmocka_unit_test(test_anchor_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
