/* test_rules_scoresets.c - SpamAssassin's four score sets in the rules (rules.h): "score NAME s0
 * s1 s2 s3" keeps all four, one number gives all four, other counts are malformed lines, "(n)"
 * adds to the score before; the evaluation picks set 1 when the message has DNS answers
 * (msg->dns), 2 when Bayes can scan (envelope->bayes_available), 3 both, 0 neither; a network
 * rule scores its set 1 or 3 value; a Bayes rule (tflags learn) runs only in sets 2 and 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "message_view.h"
#include "rules.h"
#include "header.h"
#include "rules_helpers.h"

/* A resolver that knows nothing: every answer unknown (no network rule hits on it). */
static enum rules_dns_status nothing_known(void *arg, const char *name, int type,
    const char *const **records, size_t *count)
{
    (void)arg;
    (void)name;
    (void)type;
    (void)records;
    (void)count;
    return RULES_DNS_UNKNOWN;
}

static struct header_field headers[] = {
    { (char *)"Subject", (char *)"cheap pills", NULL },
    { (char *)"From", (char *)"someone@example.com", NULL },
};

/* Evaluates rs on a message whose text is "cheap pills": with DNS answers when net, with
 * Bayes usable (probability 0.999) when bayes. */
static struct rules_helper_hits run(const struct ruleset *rs, bool net, bool bayes, unsigned *set)
{
    struct rules_helper_hits h = { .n = 0 };
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct message_view view = { .text = (char *)"cheap pills\n", .text_len = 12,
        .rawtext = (char *)"cheap pills\n", .rawtext_len = 12 };
    struct rules_envelope env = { .bayes_available = bayes, .bayes_scored = bayes,
        .bayes_probability = 0.999 };
    struct rules_dns dns = { .lookup = nothing_known };
    struct rules_message msg = { .headers = headers, .header_count = 2, .view = &view,
        .body = "cheap pills\n", .body_len = 12, .envelope = &env, .dns = net ? &dns : NULL };
    struct rules_eval_stats stats;
    ruleset_eval(rs, &msg, &limits, rules_helper_collect, &h, &stats);
    if (set != NULL)
        *set = stats.score_set;
    assert_int_equal(stats.score_set, rules_score_set(&msg));
    return h;
}

static const char four_sets[] =
    "body PILLS /cheap pills/\n"
    "score PILLS 0.5 1.5 2.5 3.5\n";

static void test_four_scores_one_per_set_chosen_by_network_and_bayes(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(four_sets);
    unsigned set;
    struct rules_helper_hits h = run(rs, false, false, &set);
    assert_int_equal(set, 0);
    assert_true(rules_helper_score_of(&h, "PILLS") == 0.5);
    h = run(rs, true, false, &set);
    assert_int_equal(set, 1);
    assert_true(rules_helper_score_of(&h, "PILLS") == 1.5);
    h = run(rs, false, true, &set);
    assert_int_equal(set, 2);
    assert_true(rules_helper_score_of(&h, "PILLS") == 2.5);
    h = run(rs, true, true, &set);
    assert_int_equal(set, 3);
    assert_true(rules_helper_score_of(&h, "PILLS") == 3.5);
    ruleset_free(rs);
}

static void test_one_score_gives_all_four_sets(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load("body PILLS /cheap pills/\nscore PILLS 2.25\n");
    for (int net = 0; net <= 1; net++) {
        for (int bayes = 0; bayes <= 1; bayes++) {
            struct rules_helper_hits h = run(rs, net, bayes, NULL);
            assert_true(rules_helper_score_of(&h, "PILLS") == 2.25);
        }
    }
    ruleset_free(rs);
}

/* SpamAssassin's DNSBL scores are 0 in set 0: with a resolver (the daemon) they are set 1's. A
 * meta over a network rule: the set picks the meta's score too, and where it is 0 the meta
 * does not run (Check.pm). */
static void test_network_set_scores_what_set_0_zeroes(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(
        "body __PILLS /cheap pills/\n"
        "meta PILLS_META __PILLS\n"
        "score PILLS_META 0 1.246 0 0.8\n");
    struct rules_helper_hits h = run(rs, true, false, NULL);
    assert_true(rules_helper_score_of(&h, "PILLS_META") == 1.246);
    h = run(rs, false, false, NULL);
    assert_false(rules_helper_has(&h, "PILLS_META"));
    assert_true(rules_helper_has(&h, "__PILLS"));
    ruleset_free(rs);
}

/* tflags learn: SpamAssassin runs a Bayes rule only in a Bayes score set. */
static void test_bayes_rule_runs_only_in_a_bayes_set(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(
        "body BAYES_99 eval:check_bayes('0.99', '1.00')\n"
        "tflags BAYES_99 learn\n"
        "score BAYES_99 0 0 3.8 3.5\n");
    struct rules_helper_hits h = run(rs, true, true, NULL);
    assert_true(rules_helper_score_of(&h, "BAYES_99") == 3.5);
    h = run(rs, false, true, NULL);
    assert_true(rules_helper_score_of(&h, "BAYES_99") == 3.8);
    h = run(rs, true, false, NULL);
    assert_false(rules_helper_has(&h, "BAYES_99"));
    ruleset_free(rs);
}

/* Conf.pm: one or four scores, else the line is refused (the score before stays); "(n)" adds
 * n to each set, and needs a score before. */
static void test_score_line_counts_and_relative_scores(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(
        "body PILLS /cheap pills/\n"
        "score PILLS 1 2 3 4\n"
        "score PILLS 9 9\n"
        "score PILLS 9 9 9 9 9\n"
        "score PILLS 1x\n"
        "body OTHER /cheap/\n"
        "score OTHER 1 2 3 4\n"
        "score OTHER (0.5) (0.5) (0.5) (1)\n"
        "body NO_BASE /pills/\n"
        "score NO_BASE (2)\n");
    struct rules_helper_hits h = run(rs, true, false, NULL);
    assert_true(rules_helper_score_of(&h, "PILLS") == 2);
    assert_true(rules_helper_score_of(&h, "OTHER") == 2.5);
    assert_true(rules_helper_score_of(&h, "NO_BASE") == 1.0);      /* refused: SpamAssassin's default */
    h = run(rs, true, true, NULL);
    assert_true(rules_helper_score_of(&h, "OTHER") == 5);
    ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_scores_one_per_set_chosen_by_network_and_bayes),
        cmocka_unit_test(test_one_score_gives_all_four_sets),
        cmocka_unit_test(test_network_set_scores_what_set_0_zeroes),
        cmocka_unit_test(test_bayes_rule_runs_only_in_a_bayes_set),
        cmocka_unit_test(test_score_line_counts_and_relative_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
