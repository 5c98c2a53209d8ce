/* test_dmarc_check.c - the DMARC check (filter/checks/check_dmarc.c) driven through the engine
 * against a real DNS server on loopback (tests/tools/dnsserver.py): a reject policy rejects
 * with 550 5.7.1 naming the domain, quarantine holds or scores, pass and relaxed alignment add
 * Authentication-Results, t=y lowers the policy, several From fields and none at all follow
 * dmarc.several_from / no_from, internal/authenticated clients are skipped, the local
 * overrides and the admin's symbols change the disposition with the reason a report gives,
 * the tree walk's queries go out together, and bad settings name file, line and fix.
 * Needs Debian's python3-dnslib. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_errors.h"
#include "dmarc_result.h"
#include "engine.h"
#include "policy_fixture.h"
#include "util.h"

static const char zone[] =
    "5.113.0.203.in-addr.arpa PTR mail.sender.test\n"
    "mail.sender.test A 203.0.113.5\n"
    /* SPF passes for 203.0.113.5 at these */
    "other.test TXT v=spf1 ip4:203.0.113.5 -all\n"
    "pass.test TXT v=spf1 ip4:203.0.113.5 -all\n"
    "bounce.org.test TXT v=spf1 ip4:203.0.113.5 -all\n"
    "fwd.test TXT v=spf1 ip4:203.0.113.5 -all\n"
    "list.test TXT v=spf1 ip4:203.0.113.5 -all\n"
    /* DMARC */
    "_dmarc.reject.test TXT v=DMARC1; p=reject; rua=mailto:agg@reject.test\n"
    "_dmarc.quarantine.test TXT v=DMARC1; p=quarantine\n"
    "_dmarc.testing.test TXT v=DMARC1; p=reject; t=y\n"
    "_dmarc.monitor.test TXT v=DMARC1; p=none\n"
    "_dmarc.pass.test TXT v=DMARC1; p=reject\n"
    "_dmarc.org.test TXT v=DMARC1; p=reject; sp=quarantine\n"
    "mail.org.test A 192.0.2.7\n"
    /* a tree walk whose names the server answers only once all four are asked together */
    "_dmarc.a.b.delay.example HOLD 4\n"
    "_dmarc.b.delay.example HOLD 4\n"
    "_dmarc.delay.example HOLD 4\n"
    "_dmarc.example HOLD 4\n";

static int group_setup(void **state)
{
    (void)state;
    if (!fixture_init())
        return -1;
    if (!fixture_dns_start(zone)) {
        fprintf(stderr, "SKIP: no DNS test server (Debian's python3-dnslib)\n");
        fixture_cleanup();
        exit(77);
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    return 0;
}

#define NO_RDNS "networks: { internal = [ \"10.0.0.0/8\" ] }\nspam: { rdns = false }\n"

static int setup(void **state)
{
    (void)state;
    fixture_policy(NO_RDNS);
    return 0;
}

static char message[4096];

/* A clean message whose From fields are from_lines ("From: a@b.test\n", possibly several). */
static const char *message_from(const char *from_lines)
{
    snprintf(message, sizeof message, "Date: Thu, 03 Dec 2026 05:00:00 +0000\n"
        "Message-ID: <1234@sender.test>\n%sTo: Bob <bob@our.test>\nSubject: Lunch\n\n"
        "Shall we meet at noon?\n", from_lines);
    return message;
}

static enum action run(const char *sender, const char *from_lines)
{
    struct smtp_session s = {.sender = sender, .message = message_from(from_lines)};
    return fixture_run(&s);
}

static const struct dmarc_outcome *outcome(void)
{
    return dmarc_result_get(fixture_txn());
}

static bool queried(const char *name)
{
    const struct dmarc_outcome *o = outcome();
    for (size_t i = 0; i < o->query_count; i++)
        if (strcmp(o->queries[i].name, name) == 0)
            return true;
    return false;
}

static void test_reject_policy_rejects_naming_the_domain(void **state)
{
    (void)state;
    assert_int_equal(run("bounce@other.test", "From: Alice <alice@reject.test>\n"), ACTION_REJECT);
    struct txn *t = fixture_txn();
    assert_string_equal(t->verdict.decided_by, "DMARC_FAIL_REJECT");
    assert_int_equal(t->verdict.reply.code, 550);
    assert_string_equal(t->verdict.reply.dsn, "5.7.1");
    assert_non_null(strstr(t->verdict.reply.text, "reject.test"));
    const struct dmarc_outcome *o = outcome();
    assert_true(o->evaluated);
    assert_int_equal(o->from_outcome, DMARC_FROM_ONE);
    assert_int_equal(o->domain_count, 1);
    const struct dmarc_domain_outcome *d = dmarc_result_decisive(o);
    assert_non_null(d);
    assert_string_equal(d->header_from, "reject.test");
    assert_int_equal(d->result, DMARC_RESULT_FAIL);
    assert_true(d->has_record);
    assert_int_equal(d->record.p, DMARC_POLICY_REJECT);
    assert_int_equal(d->record.rua_count, 1);
    assert_string_equal(d->record.rua[0], "mailto:agg@reject.test");
    assert_string_equal(d->policy_domain, "reject.test");
    assert_string_equal(d->org_domain, "reject.test");
    assert_string_equal(d->policy_tag, "p");
    assert_int_equal(o->disposition, DMARC_POLICY_REJECT);
    assert_int_equal(o->override, DMARC_OVERRIDE_NONE);
    /* the identities a report row needs */
    assert_string_equal(o->envelope_from, "other.test");
    assert_true(o->spf.present);
    assert_string_equal(o->spf.domain, "other.test");
    assert_string_equal(o->spf.scope, "mfrom");
    assert_int_equal(o->spf.result, SPF_RESULT_PASS);
    assert_false(o->spf.aligned);
    /* the register of names asked (for mailwarden-check --verbose) */
    assert_true(queried("_dmarc.reject.test"));
    assert_true(queried("_dmarc.test"));
}

static void test_quarantine_policy_holds_or_scores(void **state)
{
    (void)state;
    assert_int_equal(run("bounce@other.test", "From: alice@quarantine.test\n"), ACTION_QUARANTINE);
    assert_string_equal(fixture_txn()->verdict.decided_by, "DMARC_FAIL_QUARANTINE");
    assert_int_equal(outcome()->disposition, DMARC_POLICY_QUARANTINE);

    fixture_policy(NO_RDNS "dmarc: { quarantine = \"score\" }\n");
    assert_int_equal(run("bounce@other.test", "From: alice@quarantine.test\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_FAIL_QUARANTINE"));
    assert_true(fixture_score_of("DMARC_FAIL_QUARANTINE") > 0);
    assert_int_equal(outcome()->disposition, DMARC_POLICY_NONE);
    assert_int_equal(outcome()->override, DMARC_OVERRIDE_LOCAL_POLICY);
    assert_non_null(strstr(outcome()->override_comment, "dmarc.quarantine"));
}

static void test_pass_adds_authentication_results(void **state)
{
    (void)state;
    assert_int_equal(run("alice@pass.test", "From: alice@pass.test\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_PASS"));
    const char *ar = fixture_header_edit("Authentication-Results");
    assert_non_null(ar);
    assert_non_null(strstr(ar, "dmarc=pass header.from=pass.test policy.dmarc=reject"));
    assert_true(outcome()->spf.aligned);
    /* relaxed: the MAIL FROM domain shares the Organizational Domain, sp applies */
    assert_int_equal(run("bounce@bounce.org.test", "From: alice@mail.org.test\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_PASS"));
    const struct dmarc_domain_outcome *d = dmarc_result_decisive(outcome());
    assert_string_equal(d->org_domain, "org.test");
    assert_string_equal(d->policy_domain, "org.test");
    assert_string_equal(d->policy_tag, "sp");
    ar = fixture_header_edit("Authentication-Results");
    assert_non_null(strstr(ar, "dmarc=pass header.from=mail.org.test policy.dmarc=quarantine"));
}

static void test_no_record_is_dmarc_none(void **state)
{
    (void)state;
    assert_int_equal(run("alice@pass.test", "From: alice@nothing.test\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_NONE"));
    const char *ar = fixture_header_edit("Authentication-Results");
    assert_non_null(strstr(ar, "dmarc=none header.from=nothing.test"));
    assert_null(strstr(ar, "policy.dmarc"));
}

static void test_t_y_lowers_reject_to_quarantine(void **state)
{
    (void)state;
    assert_int_equal(run("bounce@other.test", "From: alice@testing.test\n"), ACTION_QUARANTINE);
    assert_true(fixture_has("DMARC_FAIL_QUARANTINE"));
    assert_int_equal(outcome()->override, DMARC_OVERRIDE_POLICY_TEST_MODE);
    const char *ar = fixture_header_edit("Authentication-Results");
    assert_non_null(strstr(ar, "dmarc=fail header.from=testing.test policy.dmarc=quarantine"));
}

static void test_authenticated_and_internal_clients_are_skipped(void **state)
{
    (void)state;
    struct smtp_session s = {.sender = "bounce@other.test", .sasl_user = "alice",
        .message = message_from("From: alice@reject.test\n")};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_false(outcome()->evaluated);
    assert_string_equal(outcome()->skipped, "authenticated client");
    assert_false(fixture_has("DMARC_FAIL_REJECT"));
    s.sasl_user = NULL;
    s.client_ip = "10.1.2.3";
    s.message = message_from("From: alice@reject.test\n");
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_string_equal(outcome()->skipped, "internal network");
    /* unless the admin wants them checked */
    fixture_policy(NO_RDNS "dmarc: { skip_authenticated = false }\n");
    s.client_ip = NULL;
    s.sasl_user = "alice";
    s.message = message_from("From: alice@reject.test\n");
    assert_int_equal(fixture_run(&s), ACTION_REJECT);
    assert_true(outcome()->evaluated);
}

static void test_several_from_strictest_reject_or_accept(void **state)
{
    (void)state;
    /* strictest (the default): both evaluated, the reject policy decides */
    assert_int_equal(run("alice@pass.test", "From: alice@pass.test, bob@reject.test\n"),
        ACTION_REJECT);
    const struct dmarc_outcome *o = outcome();
    assert_int_equal(o->from_outcome, DMARC_FROM_SEVERAL_ADDRESSES);
    assert_int_equal(o->domain_count, 2);
    assert_string_equal(dmarc_result_decisive(o)->header_from, "reject.test");
    assert_int_equal(o->domains[0].result, DMARC_RESULT_PASS);
    /* two From fields, the same */
    assert_int_equal(run("alice@pass.test", "From: alice@pass.test\nFrom: bob@reject.test\n"),
        ACTION_REJECT);
    assert_int_equal(outcome()->from_outcome, DMARC_FROM_SEVERAL_FIELDS);
    fixture_policy(NO_RDNS "dmarc: { several_from = \"reject\" }\n");
    assert_int_equal(run("alice@pass.test", "From: alice@pass.test, bob@pass.test\n"),
        ACTION_REJECT);
    assert_string_equal(fixture_txn()->verdict.decided_by, "DMARC_FROM_SEVERAL");
    assert_true(outcome()->from_refused);
    fixture_policy(NO_RDNS "dmarc: { several_from = \"accept\" }\n");
    assert_int_equal(run("alice@pass.test", "From: alice@pass.test, bob@reject.test\n"),
        ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_FROM_SEVERAL"));
    assert_int_equal(outcome()->domain_count, 0);
}

static void test_more_authors_than_max_domains_is_refused(void **state)
{
    (void)state;
    fixture_policy(NO_RDNS "dmarc: { max_domains = 2 }\n");
    assert_int_equal(run("alice@pass.test", "From: a@pass.test, b@pass.test, c@pass.test\n"),
        ACTION_REJECT);
    assert_string_equal(fixture_txn()->verdict.decided_by, "DMARC_FROM_SEVERAL");
    assert_int_equal(outcome()->domain_count, 0);
}

static void test_no_usable_from_scores_or_rejects(void **state)
{
    (void)state;
    assert_int_equal(run("alice@pass.test", "From: undisclosed-recipients:;\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_FROM_INVALID"));
    assert_int_equal(run("alice@pass.test", "From: Alice <alice@pass.test>>\n"), ACTION_ACCEPT);
    assert_int_equal(outcome()->from_outcome, DMARC_FROM_UNPARSEABLE);
    assert_true(fixture_has("DMARC_FROM_INVALID"));
    fixture_policy(NO_RDNS "dmarc: { no_from = \"reject\" }\n");
    assert_int_equal(run("alice@pass.test", ""), ACTION_REJECT);
    assert_int_equal(outcome()->from_outcome, DMARC_FROM_NO_FIELD);
    assert_string_equal(fixture_txn()->verdict.decided_by, "DMARC_FROM_INVALID");
}

/* A second From field dropped by limits.max_checked_header_bytes must not leave the first one
 * to pass alone: the From fields are then unparseable (DMARC_FROM_INVALID), never DMARC_PASS. */
static void test_a_from_field_lost_to_a_header_limit_is_not_a_pass(void **state)
{
    (void)state;
    fixture_policy(NO_RDNS "limits: { max_checked_header_bytes = 1024 }\n"
        "dmarc: { no_from = \"reject\" }\n");
    char from_lines[2048] = "From: alice@pass.test\n";
    for (int i = 0; i < 20; i++)
        strcat(from_lines, "Cc: carol-with-a-long-name-to-fill-the-budget@example.org\n");
    strcat(from_lines, "From: mallory@reject.test\n");
    assert_int_equal(run("alice@pass.test", from_lines), ACTION_REJECT);
    assert_int_equal(outcome()->from_outcome, DMARC_FROM_UNPARSEABLE);
    assert_true(fixture_has("DMARC_FROM_INVALID"));
    assert_false(fixture_has("DMARC_PASS"));
}

static void test_local_overrides_need_an_authenticated_identity(void **state)
{
    (void)state;
    fixture_policy(NO_RDNS "dmarc: { trusted_forwarders = \"fwd.test\"; "
        "mailing_lists = [ \"list.test\" ]; local_overrides = \".nothing.test\" }\n");
    assert_int_equal(run("fwd@fwd.test", "From: alice@reject.test\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_FAIL_NONE"));
    assert_int_equal(outcome()->override, DMARC_OVERRIDE_TRUSTED_FORWARDER);
    assert_int_equal(outcome()->disposition, DMARC_POLICY_NONE);
    assert_non_null(strstr(outcome()->override_comment, "fwd.test"));
    assert_int_equal(run("owner@list.test", "From: alice@reject.test\n"), ACTION_ACCEPT);
    assert_int_equal(outcome()->override, DMARC_OVERRIDE_MAILING_LIST);
    /* under p=none there is nothing to override: no reason is reported */
    assert_int_equal(run("fwd@fwd.test", "From: alice@monitor.test\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_FAIL_NONE"));
    assert_int_equal(outcome()->override, DMARC_OVERRIDE_NONE);
    assert_string_equal(outcome()->override_comment, "");
    /* a listed envelope domain that SPF did not authenticate overrides nothing */
    assert_int_equal(run("x@sub.nothing.test", "From: alice@reject.test\n"), ACTION_REJECT);
    assert_int_equal(outcome()->override, DMARC_OVERRIDE_NONE);
}

static void test_symbols_and_shadow_change_the_disposition(void **state)
{
    (void)state;
    fixture_policy(NO_RDNS "symbols: { DMARC_FAIL_REJECT: { action = \"score\"; score = 2.5 } }\n");
    assert_int_equal(run("bounce@other.test", "From: alice@reject.test\n"), ACTION_ACCEPT);
    assert_true(fixture_score_of("DMARC_FAIL_REJECT") == 2.5);
    assert_int_equal(outcome()->disposition, DMARC_POLICY_NONE);
    assert_int_equal(outcome()->override, DMARC_OVERRIDE_LOCAL_POLICY);
    fixture_policy(NO_RDNS "dmarc: { mode = \"shadow\" }\n");
    assert_int_equal(run("bounce@other.test", "From: alice@reject.test\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_FAIL_REJECT"));
    assert_int_equal(outcome()->disposition, DMARC_POLICY_NONE);
    assert_non_null(strstr(outcome()->override_comment, "shadow"));
    fixture_policy(NO_RDNS "dmarc: { enabled = false }\n");
    assert_int_equal(run("bounce@other.test", "From: alice@reject.test\n"), ACTION_ACCEPT);
    assert_string_equal(outcome()->skipped, "disabled");
}

/* The server holds each of the walk's four names until all four are being asked
 * (dnsserver.py, HOLD): asked one after the other, the first would never be answered within
 * the resolver's 3 s timeout and the walk would end in a temporary error; started together at
 * the end of the message they are all answered, and the walk finds no record. No clock is
 * read: a busy machine cannot make it pass or fail. */
static void test_walk_queries_go_out_together(void **state)
{
    (void)state;
    assert_int_equal(run("alice@pass.test", "From: alice@a.b.delay.example\n"), ACTION_ACCEPT);
    assert_true(fixture_has("DMARC_NONE"));
    assert_false(fixture_has("DMARC_TEMPERROR"));
    assert_int_equal(outcome()->query_count, 4);
}

/* Asserts an error at this line and option whose reason says `fix`. */
static void assert_error(const char *text, int line, const char *option, const char *fix)
{
    struct config_errors errs = {0};
    struct config *cfg = fixture_load(text, &errs);
    assert_null(cfg);
    bool found = false;
    for (size_t i = 0; i < errs.count && !found; i++)
        found = errs.items[i].line == line && strcmp(errs.items[i].option, option) == 0
            && strstr(errs.items[i].reason, fix) != NULL && errs.items[i].file[0] != '\0';
    if (!found)
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "got %s:%d: %s: %s\n", errs.items[i].file, errs.items[i].line,
                errs.items[i].option, errs.items[i].reason);
    config_errors_free(&errs);
    assert_true(found);
}

static void test_bad_settings_name_line_and_fix(void **state)
{
    (void)state;
    assert_error("dmarc: {\n  several_from = \"first\";\n}\n", 2, "dmarc.several_from",
        "\"strictest\"");
    assert_error("dmarc: {\n\n  no_from = \"strictest\";\n}\n", 3, "dmarc.no_from",
        "nothing to evaluate");
    assert_error("dmarc: {\n  quarantine = \"drop\";\n}\n", 2, "dmarc.quarantine", "\"hold\"");
    assert_error("dmarc: {\n  trusted_arc_sealers = \"!a.test\";\n}\n", 2,
        "dmarc.trusted_arc_sealers", "");
    assert_error("dmarc: {\n  mailing_lists = 7;\n}\n", 2, "dmarc.mailing_lists",
        "string of patterns separated by blanks or commas, or a list of strings");
    assert_error("dmarc: {\n  max_queries = 65;\n}\n", 2, "dmarc.max_queries", "");
    assert_error("dmarc: {\n  reject_reply = \"451 4.7.1 later\";\n}\n", 2, "dmarc.reject_reply",
        "");
    struct config *cfg = fixture_load_ok("dmarc: { trusted_arc_sealers = \"arc.example.org "
        ".lists.example.net\"; several_from = \"accept\"; no_from = \"reject\" }\n");
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reject_policy_rejects_naming_the_domain, setup),
        cmocka_unit_test_setup(test_quarantine_policy_holds_or_scores, setup),
        cmocka_unit_test_setup(test_pass_adds_authentication_results, setup),
        cmocka_unit_test_setup(test_no_record_is_dmarc_none, setup),
        cmocka_unit_test_setup(test_t_y_lowers_reject_to_quarantine, setup),
        cmocka_unit_test_setup(test_authenticated_and_internal_clients_are_skipped, setup),
        cmocka_unit_test_setup(test_several_from_strictest_reject_or_accept, setup),
        cmocka_unit_test_setup(test_more_authors_than_max_domains_is_refused, setup),
        cmocka_unit_test_setup(test_no_usable_from_scores_or_rejects, setup),
        cmocka_unit_test_setup(test_a_from_field_lost_to_a_header_limit_is_not_a_pass, setup),
        cmocka_unit_test_setup(test_local_overrides_need_an_authenticated_identity, setup),
        cmocka_unit_test_setup(test_symbols_and_shadow_change_the_disposition, setup),
        cmocka_unit_test_setup(test_walk_queries_go_out_together, setup),
        cmocka_unit_test(test_bad_settings_name_line_and_fix),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
