/* test_symbol_clash.c - a symbol name is scored once: an admin's rule named like a native
 * check's symbol (MISSING_DATE) replaces the check's, as a later definition does in
 * SpamAssassin (a message without Date scored 1.0 + 2.7 = 3.7 for one fault when both
 * counted); a check's action (reject, ...) stands under a rule of its name, which only
 * rescores it; a symbol added twice keeps the later score; a rule scored 0 adds nothing unless
 * the policy rescores it; `mailwarden -t` (rules_report_config)
 * warns about the clash and names the rule's file and line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "policy_fixture.h"
#include "util.h"

#define NO_DATE_MESSAGE \
    "Message-ID: <nodate@sender.test>\nFrom: Alice <alice@sender.test>\n" \
    "To: Bob <bob@our.test>\nSubject: Lunch on Friday\n\nShall we meet at noon?\n"

/* rules.files empty: the stock rules, read by default, define MISSING_DATE too */
#define CLASH_POLICY \
    "actions: { add_header = 5.0; reject = 15.0 }\n" \
    "rules: { files = [ ]; inline = [ \"header MISSING_DATE Date =~ /^UNSET$/ [if-unset: UNSET]\",\n" \
    "  \"score MISSING_DATE 2.7\" ] }\n"

static int setup(void **state)
{
    (void)state;
    return fixture_init() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    return 0;
}

static size_t count_of(const char *symbol, double *total)
{
    const struct txn *t = fixture_txn();
    size_t n = 0;
    *total = 0;
    for (size_t i = 0; i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, symbol) == 0) {
            n++;
            *total += t->results[i].score;
        }
    }
    return n;
}

static void test_native_missing_date_alone_scores_its_default(void **state)
{
    (void)state;
    fixture_policy("actions: { add_header = 5.0; reject = 15.0 }\nrules: { files = [ ] }\n");
    struct smtp_session s = {.message = NO_DATE_MESSAGE};
    fixture_run(&s);
    double total;
    assert_int_equal(count_of("MISSING_DATE", &total), 1);
    assert_true(total == 1.0);
}

static void test_rule_named_like_a_native_symbol_replaces_it(void **state)
{
    (void)state;
    fixture_policy(CLASH_POLICY);
    struct smtp_session s = {.message = NO_DATE_MESSAGE};
    fixture_run(&s);
    double total;
    assert_int_equal(count_of("MISSING_DATE", &total), 1);
    assert_true(total == 2.7);                   /* the rule's score, not 1.0 + 2.7 */
    assert_true(fixture_txn()->verdict.score < 3.7);
}

/* With the rule loaded, a message that has a Date gets no MISSING_DATE from either. */
static void test_rule_replacing_a_native_symbol_does_not_fire_on_a_dated_message(void **state)
{
    (void)state;
    fixture_policy(CLASH_POLICY);
    struct smtp_session s = {.message = fixture_clean_message(NULL, NULL)};
    fixture_run(&s);
    assert_false(fixture_has("MISSING_DATE"));
}

static void test_symbol_added_twice_keeps_the_later_score(void **state)
{
    (void)state;
    fixture_policy("actions: { add_header = 5.0; reject = 15.0 }\n");
    struct smtp_session s = {.message = fixture_clean_message(NULL, NULL)};
    fixture_run(&s);
    struct txn *t = fixture_txn();
    txn_add_result(t, "LOCAL_TWICE", 1.0, ACTION_NONE, NULL);
    txn_add_result(t, "LOCAL_TWICE", 4.0, ACTION_NONE, NULL);
    double total;
    assert_int_equal(count_of("LOCAL_TWICE", &total), 1);
    assert_true(total == 4.0);
}

/* A check's decision stands under a rule of the same name (the stock SPF_FAIL rule over our
 * SPF check's reject): the check's result is kept with its action, and the rule's hit only
 * rescores it. Before, the check's result was dropped whole and the reject with it. */
static void test_check_action_survives_a_rule_of_its_name(void **state)
{
    (void)state;
    fixture_policy(CLASH_POLICY);
    struct smtp_session s = {.message = fixture_clean_message(NULL, NULL)};
    fixture_run(&s);
    struct txn *t = fixture_txn();
    struct reply reply = { .code = 550 };
    txn_add_result(t, "MISSING_DATE", 1.0, ACTION_REJECT, &reply);
    txn_add_rule_result(t, "MISSING_DATE", 2.7,
        &(struct result_learn){ .score = 2.7, .header_share = 1 });
    double total;
    assert_int_equal(count_of("MISSING_DATE", &total), 1);
    assert_true(total == 2.7);
    for (size_t i = 0; i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, "MISSING_DATE") == 0) {
            assert_int_equal(t->results[i].action, ACTION_REJECT);
            assert_int_equal(t->results[i].reply.code, 550);
        }
    }
    /* a check's symbol without an action is still the rule's alone */
    txn_add_result(t, "MISSING_DATE", 1.0, ACTION_NONE, NULL);
    assert_int_equal(count_of("MISSING_DATE", &total), 1);
    assert_true(total == 2.7);
}

/* score 0 disables a rule, as in SpamAssassin: its hit adds no symbol, unless the policy's
 * symbols section gives it a score. */
static void test_rule_scored_0_adds_no_symbol_unless_the_policy_rescores_it(void **state)
{
    (void)state;
    const char *rules = "actions: { add_header = 5.0; reject = 15.0 }\n"
        "rules: { files = [ ]; inline = [ \"body LOCAL_NOON_OFF /noon/\", \"score LOCAL_NOON_OFF 0\",\n"
        "  \"body LOCAL_NOON_ON /noon/\", \"score LOCAL_NOON_ON 0\" ] }\n";
    char *policy = xasprintf("%ssymbols: { LOCAL_NOON_ON: { score = 1.5 } }\n", rules);
    fixture_policy(policy);
    free(policy);
    struct smtp_session s = {.message = NO_DATE_MESSAGE};
    fixture_run(&s);
    double total;
    assert_int_equal(count_of("LOCAL_NOON_OFF", &total), 0);
    assert_int_equal(count_of("LOCAL_NOON_ON", &total), 1);
    assert_true(total == 1.5);
}

struct lines {
    char text[4096];
};

static void collect(const char *line, void *arg)
{
    struct lines *l = arg;
    strncat(l->text, line, sizeof l->text - strlen(l->text) - 2);
    strcat(l->text, "\n");
}

static void test_check_mode_warns_about_the_clash_with_file_and_line(void **state)
{
    (void)state;
    fixture_policy("rules: { files = [ ]; inline = [ \"header HELO_NOT_FQDN X-Helo =~ /^[^.]+$/\",\n"
        "  \"score HELO_NOT_FQDN 2.7\" ] }\n");
    struct config *cfg = config_current();
    struct lines out = {{0}};
    rules_report_config(cfg, collect, &out);
    config_release(cfg);
    const char *w = strstr(out.text, "warning: ");
    assert_non_null(w);
    /* an inline rule is named by the policy file, line and item: policy-N.conf:1:1 */
    assert_non_null(strstr(w, ".conf:1:1: rule HELO_NOT_FQDN replaces the native check's symbol"));
}

/* MISSING_DATE, MISSING_FROM, MIME_HTML_ONLY, GTUBE: the native checks are SpamAssassin's tests
 * of those names, so its stock rules taking the symbols lose nothing: `mailwarden -t` on the
 * shipped policy has nothing to warn about. */
static void test_check_mode_is_quiet_when_the_rule_is_spamassassins_test_of_that_name(void **state)
{
    (void)state;
    fixture_policy(CLASH_POLICY);
    struct config *cfg = config_current();
    struct lines out = {{0}};
    rules_report_config(cfg, collect, &out);
    config_release(cfg);
    assert_null(strstr(out.text, "warning: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_missing_date_alone_scores_its_default),
        cmocka_unit_test(test_rule_named_like_a_native_symbol_replaces_it),
        cmocka_unit_test(test_rule_replacing_a_native_symbol_does_not_fire_on_a_dated_message),
        cmocka_unit_test(test_symbol_added_twice_keeps_the_later_score),
        cmocka_unit_test(test_check_action_survives_a_rule_of_its_name),
        cmocka_unit_test(test_rule_scored_0_adds_no_symbol_unless_the_policy_rescores_it),
        cmocka_unit_test(test_check_mode_warns_about_the_clash_with_file_and_line),
        cmocka_unit_test(test_check_mode_is_quiet_when_the_rule_is_spamassassins_test_of_that_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
