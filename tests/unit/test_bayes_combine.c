/* test_bayes_combine.c - Robinson's token probability and Fisher's chi-square combining give
 * SpamAssassin's numbers (Bayes/CombineChi.pm and Plugin/Bayes.pm, values computed by its Perl
 * code), the underflow guard keeps 150 extreme tokens finite, and the significant tokens are
 * the 150 strongest at least 0.346 from 0.5. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bayes_classify.h"
#include "bayes_combine.h"

static void assert_close(double got, double want)
{
    if (fabs(got - want) > 1e-12)
        fail_msg("got %.17g, SpamAssassin %.17g", got, want);
}

static void test_chi2q_matches_spamassassin(void **state)
{
    (void)state;
    assert_close(bayes_chi2q(10.0, 3), 0.12465201948308113);
    assert_close(bayes_chi2q(3.5, 10), 0.99998470201643663);
    assert_close(bayes_chi2q(0.0, 5), 1.0);
}

static void test_combine_matches_spamassassin(void **state)
{
    (void)state;
    double score = -1;
    const double a[] = { 0.99, 0.95, 0.9, 0.1, 0.98 };
    assert_true(bayes_chi_combine(300, 250, a, 5, &score));
    assert_close(score, 0.88268922912637482);
    const double b[] = { 0.01, 0.02, 0.05, 0.9 };
    assert_true(bayes_chi_combine(200, 1000, b, 4, &score));
    assert_close(score, 0.30139471933519063);
    assert_false(bayes_chi_combine(0, 0, a, 5, &score));
    assert_false(bayes_chi_combine(10, 10, a, 0, &score));
}

/* 150 tokens near 1 (or near 0) underflow a double without SpamAssassin's frexp guard. */
static void test_combine_extreme_tokens_stay_finite(void **state)
{
    (void)state;
    double p[150], q[150], score = -1;
    for (int i = 0; i < 150; i++) {
        p[i] = (i + 1) % 2 ? 0.999999 : 0.99;
        q[i] = 1e-6;
    }
    assert_true(bayes_chi_combine(500, 500, p, 150, &score));
    assert_close(score, 1.0);
    assert_true(bayes_chi_combine(500, 500, q, 150, &score));
    assert_close(score, 0.0);
}

static void test_token_probability_is_robinson(void **state)
{
    (void)state;
    double p = -1;
    assert_true(bayes_token_probability(3, 1, 200, 400, &p));
    assert_close(p, 0.854767103863878);
    assert_true(bayes_token_probability(1, 0, 200, 400, &p));
    assert_close(p, 0.98654368932038838);
    assert_false(bayes_token_probability(0, 0, 200, 400, &p));
    assert_false(bayes_token_probability(1, 1, 0, 400, &p));
}

static void test_select_keeps_150_strongest(void **state)
{
    (void)state;
    double probs[400];
    for (int i = 0; i < 400; i++)
        probs[i] = i < 100 ? 0.5 : i < 250 ? 0.9 : 0.001;   /* 100 weak, 150 + 150 strong */
    size_t keep = bayes_select_significant(probs, NULL, 400);
    assert_int_equal(keep, 150);
    for (size_t i = 0; i < keep; i++)
        assert_close(probs[i], 0.001);                     /* the strongest first */
    double weak[3] = { 0.6, 0.4, 0.84 };
    assert_int_equal(bayes_select_significant(weak, NULL, 3), 0);   /* all < 0.346 away */
}

/* check_bayes('lo', 'hi'): (lo, hi], [0, hi] for lo = 0; BAYES_999 hits with BAYES_99. */
static void test_rule_ranges_are_check_bayes(void **state)
{
    (void)state;
    const char *names[2];
    assert_int_equal(bayes_rule_names(0.0, names), 1);
    assert_string_equal(names[0], "BAYES_00");
    assert_int_equal(bayes_rule_names(0.01, names), 1);
    assert_string_equal(names[0], "BAYES_00");
    assert_int_equal(bayes_rule_names(0.5, names), 1);
    assert_string_equal(names[0], "BAYES_50");
    assert_int_equal(bayes_rule_names(0.995, names), 1);
    assert_string_equal(names[0], "BAYES_99");
    assert_int_equal(bayes_rule_names(1.0, names), 2);
    assert_string_equal(names[0], "BAYES_99");
    assert_string_equal(names[1], "BAYES_999");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chi2q_matches_spamassassin),
        cmocka_unit_test(test_combine_matches_spamassassin),
        cmocka_unit_test(test_combine_extreme_tokens_stay_finite),
        cmocka_unit_test(test_token_probability_is_robinson),
        cmocka_unit_test(test_select_keeps_150_strongest),
        cmocka_unit_test(test_rule_ranges_are_check_bayes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
