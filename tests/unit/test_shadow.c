/* test_shadow.c - mode "shadow" (engine.c): a check, a rule set or a rate limit in shadow mode
 * still computes its symbols, which the per-message log and X-Spam-Status name with
 * "(shadow)", but they never change the score, the action or the verdict; the verdict is the
 * one the policy gives without them, and verdict_shadow_counts() counts what they would have
 * done. Each case runs the same message under the enforcing policy first, to show the symbol
 * does decide there. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "policy_fixture.h"
#include "util.h"

static char log_path[] = "/tmp/mw-test-shadow-log-XXXXXX";
static int log_fd = -1;

static int setup(void **state)
{
    (void)state;
    if (!fixture_init())
        return -1;
    log_fd = mkstemp(log_path);
    if (log_fd < 0)
        return -1;
    log_open("test_shadow", LOG_MAIL, true, false);
    log_set_level(LOG_INFO);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    close(log_fd);
    unlink(log_path);
    return 0;
}

/* Runs a session with stderr (the log) going to the log file; returns the action and leaves
 * the log of this run in `log` (freed by the caller). */
static enum action run_logged(const struct smtp_session *s, char **log)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(ftruncate(log_fd, 0), 0);
    assert_int_equal(lseek(log_fd, 0, SEEK_SET), 0);
    assert_true(dup2(log_fd, STDERR_FILENO) >= 0);
    enum action a = fixture_run(s);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t size = lseek(log_fd, 0, SEEK_END);
    assert_true(size >= 0);
    *log = xcalloc(1, (size_t)size + 1);
    assert_int_equal(pread(log_fd, *log, (size_t)size, 0), size);
    return a;
}

static const struct result *result_of(const char *symbol)
{
    const struct txn *t = fixture_txn();
    for (size_t i = 0; i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, symbol) == 0)
            return &t->results[i];
    }
    return NULL;
}

/* HELO localhost: HELO_NOT_FQDN, scored 7.0 here, with reject at 5.0. */
#define THRESHOLDS "actions: { add_header = 1.0; reject = 5.0 }\n" \
    "symbols: { HELO_NOT_FQDN: { score = 7.0 } }\n"

static void test_native_check_in_shadow_is_logged_but_never_rejects(void **state)
{
    (void)state;
    struct smtp_session s = {.helo = "localhost", .message = fixture_clean_message(NULL, NULL)};
    char *log;
    fixture_policy(THRESHOLDS);
    assert_int_equal(run_logged(&s, &log), ACTION_REJECT);
    assert_null(strstr(log, "(shadow)"));
    free(log);

    struct shadow_counts before, after;
    verdict_shadow_counts(&before);
    fixture_policy(THRESHOLDS "spam: { mode = \"shadow\" }\n");
    s.message = fixture_clean_message(NULL, NULL);
    assert_int_equal(run_logged(&s, &log), ACTION_ACCEPT);
    const struct result *r = result_of("HELO_NOT_FQDN");
    assert_non_null(r);
    assert_true(r->shadow);
    assert_true(fixture_txn()->verdict.score == 0.0);
    assert_non_null(strstr(log, "HELO_NOT_FQDN(shadow)(7.0)"));
    assert_non_null(strstr(log, " action=accept "));
    assert_non_null(strstr(log, " shadow_action=reject"));
    assert_non_null(strstr(fixture_header_edit("X-Spam-Status"), "HELO_NOT_FQDN(shadow)=7"));
    assert_string_equal(fixture_header_edit("X-Spam-Score"), "0.0");
    free(log);
    verdict_shadow_counts(&after);
    assert_true(after.symbol_hits >= before.symbol_hits + 1);
    assert_int_equal(after.transactions, before.transactions + 1);
    assert_int_equal(after.would_have[ACTION_REJECT], before.would_have[ACTION_REJECT] + 1);
}

/* A forced action (symbols { X: { action = "reject" } }) of a shadow check is not taken. */
static void test_forced_action_of_a_shadow_check_is_not_taken(void **state)
{
    (void)state;
    struct smtp_session s = {.helo = "localhost", .message = fixture_clean_message(NULL, NULL)};
    char *log;
    fixture_policy("symbols: { HELO_NOT_FQDN: { action = \"reject\" } }\n");
    assert_int_equal(run_logged(&s, &log), ACTION_REJECT);
    free(log);
    fixture_policy("symbols: { HELO_NOT_FQDN: { action = \"reject\" } }\n"
        "spam: { mode = \"shadow\" }\n");
    s.message = fixture_clean_message(NULL, NULL);
    assert_int_equal(run_logged(&s, &log), ACTION_ACCEPT);
    assert_non_null(strstr(log, "HELO_NOT_FQDN(shadow)"));
    assert_non_null(strstr(log, " shadow_action=reject"));
    free(log);
}

#define RULE "rules: { files = []; inline = [ \"body MW_SHADOW_TEST /cheap pills/\", " \
    "\"score MW_SHADOW_TEST 9.0\" ]"

static void test_rule_set_in_shadow_is_logged_but_never_rejects(void **state)
{
    (void)state;
    struct smtp_session s = {.message = fixture_clean_message(NULL, "buy cheap pills now\n")};
    char *log;
    fixture_policy("actions: { reject = 5.0 }\n" RULE " }\n");
    assert_int_equal(run_logged(&s, &log), ACTION_REJECT);
    assert_non_null(strstr(log, "MW_SHADOW_TEST(9.0)"));
    free(log);
    fixture_policy("actions: { reject = 5.0 }\n" RULE "; mode = \"shadow\" }\n");
    s.message = fixture_clean_message(NULL, "buy cheap pills now\n");
    assert_int_equal(run_logged(&s, &log), ACTION_ACCEPT);
    assert_non_null(strstr(log, "MW_SHADOW_TEST(shadow)(9.0)"));
    assert_true(result_of("MW_SHADOW_TEST")->shadow);
    free(log);
}

/* rules.shadow_files: only the rules of the files named are shadow. */
static void test_rule_file_in_shadow_files_is_shadow_and_others_are_not(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw-test-shadow-rules-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char new_rules[128], old_rules[128];
    snprintf(new_rules, sizeof new_rules, "%s/new.cf", dir);
    snprintf(old_rules, sizeof old_rules, "%s/old.cf", dir);
    FILE *f = fopen(new_rules, "w");
    assert_non_null(f);
    fputs("body MW_NEW_RULE /cheap pills/\nscore MW_NEW_RULE 9.0\n", f);
    fclose(f);
    f = fopen(old_rules, "w");
    assert_non_null(f);
    fputs("body MW_OLD_RULE /buy/\nscore MW_OLD_RULE 1.0\n", f);
    fclose(f);
    char policy[512];
    snprintf(policy, sizeof policy, "actions: { reject = 5.0 }\nrules: { files = [ \"%s/*.cf\" ]; "
        "shadow_files = [ \"%s/new*.cf\" ] }\n", dir, dir);
    fixture_policy(policy);
    struct smtp_session s = {.message = fixture_clean_message(NULL, "buy cheap pills now\n")};
    char *log;
    assert_int_equal(run_logged(&s, &log), ACTION_ACCEPT);
    assert_true(result_of("MW_NEW_RULE")->shadow);
    assert_false(result_of("MW_OLD_RULE")->shadow);
    assert_true(fixture_txn()->verdict.score == 1.0);
    assert_non_null(strstr(log, "MW_NEW_RULE(shadow)(9.0)"));
    assert_non_null(strstr(log, "MW_OLD_RULE(1.0)"));
    free(log);
    unlink(new_rules);
    unlink(old_rules);
    rmdir(dir);
}

/* A rate limit of one message an hour per client: the second message is deferred when it
 * enforces; in shadow (ratelimit.mode, a limit's mode, or the old dry_run) it is accepted. */
static void rate_limited_twice(const char *policy, const char *client_ip, enum action second)
{
    fixture_policy(policy);
    struct smtp_session s = {.client_ip = client_ip, .message = fixture_clean_message(NULL, NULL)};
    char *log;
    assert_int_equal(run_logged(&s, &log), ACTION_ACCEPT);
    free(log);
    s.message = fixture_clean_message(NULL, NULL);
    assert_int_equal(run_logged(&s, &log), second);
    const struct result *r = result_of("RATELIMIT_ONE");
    if (second == ACTION_ACCEPT) {
        assert_non_null(r);
        assert_true(r->shadow);
        assert_non_null(strstr(log, "RATELIMIT_ONE(shadow)"));
        assert_non_null(strstr(log, " shadow_action=tempfail"));
    }
    free(log);
}

#define LIMIT(extra, mode) "ratelimit: { " mode " limits = ( { name = \"one\"; key = \"client_ip\"; " \
    "count = \"messages\"; rate = \"1/1h\"; " extra " } ) }\n"

static void test_rate_limit_in_shadow_never_defers(void **state)
{
    (void)state;
    rate_limited_twice(LIMIT("", ""), "198.51.100.1", ACTION_TEMPFAIL);
    rate_limited_twice(LIMIT("", "mode = \"shadow\";"), "198.51.100.2", ACTION_ACCEPT);
    rate_limited_twice(LIMIT("mode = \"shadow\";", ""), "198.51.100.3", ACTION_ACCEPT);
    rate_limited_twice(LIMIT("dry_run = true;", ""), "198.51.100.4", ACTION_ACCEPT);
}

static void test_mode_other_than_enforce_or_shadow_is_an_error(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    assert_null(fixture_load("spf: {\n  mode = \"shadows\"\n}\n", &errs));
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 2);
    assert_string_equal(errs.items[0].option, "spf.mode");
    assert_non_null(strstr(errs.items[0].reason, "\"enforce\" or \"shadow\""));
    config_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_check_in_shadow_is_logged_but_never_rejects),
        cmocka_unit_test(test_forced_action_of_a_shadow_check_is_not_taken),
        cmocka_unit_test(test_rule_set_in_shadow_is_logged_but_never_rejects),
        cmocka_unit_test(test_rule_file_in_shadow_files_is_shadow_and_others_are_not),
        cmocka_unit_test(test_rate_limit_in_shadow_never_defers),
        cmocka_unit_test(test_mode_other_than_enforce_or_shadow_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
