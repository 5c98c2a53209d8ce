/* test_rules_arc.c - SpamAssassin's ARC rules (25_dkim.cf: ARC_SIGNED, ARC_VALID, ARC_INVALID in
 * an `if can(Mail::SpamAssassin::Plugin::DKIM::has_arc)` block) fed from our own ARC verdict:
 * each ARC result (not checked, none, pass, fail, invalid, reject, fields past a header limit)
 * goes through arc_result_signatures into the rules' envelope, as check_rules.c does, and the
 * stock rules hit as DKIM.pm has them (any verified ARC signature is ARC_VALID; a limit never
 * makes a chain ARC_VALID); with domain arguments, or without DNS (tflags net), nothing hits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arc_result.h"
#include "header.h"
#include "message_view.h"
#include "rules.h"

/* 25_dkim.cf's lines, as Debian ships them */
static const char stock_arc_rules[] =
    "if can(Mail::SpamAssassin::Plugin::DKIM::has_arc)\n"
    "  full     ARC_SIGNED\t\teval:check_arc_signed()\n"
    "  tflags   ARC_SIGNED\t\tnet\n"
    "  reuse    ARC_SIGNED\n"
    "  full     ARC_VALID\t\teval:check_arc_valid()\n"
    "  tflags   ARC_VALID\t\tnet nice\n"
    "  reuse    ARC_VALID\n"
    "  meta     ARC_INVALID\t\tARC_SIGNED && !ARC_VALID\n"
    "endif\n"
    "full ARC_VALID_BY eval:check_arc_valid('example.com')\n"
    "tflags ARC_VALID_BY net\n";

struct hits {
    bool arc_signed, arc_valid, arc_invalid, valid_by;
};

static void note(const struct rules_hit *hit, void *arg)
{
    struct hits *h = arg;
    h->arc_signed |= strcmp(hit->name, "ARC_SIGNED") == 0;
    h->arc_valid |= strcmp(hit->name, "ARC_VALID") == 0;
    h->arc_invalid |= strcmp(hit->name, "ARC_INVALID") == 0;
    h->valid_by |= strcmp(hit->name, "ARC_VALID_BY") == 0;
}

static enum rules_dns_status no_answer(void *arg, const char *name, int type,
    const char *const **records, size_t *count)
{
    (void)arg;
    (void)name;
    (void)type;
    *records = NULL;
    *count = 0;
    return RULES_DNS_UNKNOWN;
}

static struct ruleset *rs;

static int setup(void **state)
{
    (void)state;
    rs = ruleset_new();
    ruleset_read_text(rs, "25_dkim.cf", stock_arc_rules, strlen(stock_arc_rules));
    ruleset_finish(rs);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ruleset_free(rs);
    return 0;
}

/* The rules on a message whose ARC outcome is o, as check_rules.c feeds them. */
static struct hits run(const struct arc_outcome *o, bool with_dns)
{
    struct header_field headers[] = {
        { .name = (char *)"From", .value = (char *)"a@example.com" },
        { .name = (char *)"Subject", .value = (char *)"hello" },
    };
    const char *body = "hello\n";
    struct message_view view = { .text = (char *)body, .text_len = strlen(body) };
    struct rules_envelope env = { 0 };
    env.arc_verified = arc_result_signatures(o, &env.arc_signed, &env.arc_valid);
    struct rules_dns dns = { no_answer, NULL };
    struct rules_message msg = { headers, 2, &view, body, strlen(body), NULL, &env,
        with_dns ? &dns : NULL };
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct hits h = { 0 };
    ruleset_eval(rs, &msg, &limits, note, &h, NULL);
    assert_false(h.valid_by);          /* DKIM.pm: with domains, check_arc_valid never hits */
    return h;
}

static struct arc_hop hop(unsigned instance, bool seal_checked, bool seal_ok, bool ams_checked,
    bool ams_ok)
{
    struct arc_hop h = { .instance = instance, .seal_checked = seal_checked,
        .seal_ok = seal_ok, .ams_checked = ams_checked, .ams_ok = ams_ok };
    strcpy(h.seal_domain, "forwarder.example");
    strcpy(h.seal_selector, "s1");
    strcpy(h.ams_domain, "forwarder.example");
    strcpy(h.ams_selector, "s1");
    return h;
}

static void test_arc_rules_load_with_has_arc(void **state)
{
    (void)state;
    assert_true(ruleset_has_rule(rs, "ARC_SIGNED"));
    assert_true(ruleset_has_rule(rs, "ARC_VALID"));
    assert_true(ruleset_has_rule(rs, "ARC_INVALID"));
}

static void test_arc_pass_is_signed_and_valid(void **state)
{
    (void)state;
    struct arc_hop hops[2] = { hop(1, true, true, true, true), hop(2, true, true, true, true) };
    struct arc_outcome o = { .checked = true };
    o.verdict = (struct arc_result){ .status = ARC_STATUS_PASS, .count = 2, .hop_count = 2,
        .hop = hops };
    struct hits h = run(&o, true);
    assert_true(h.arc_signed);
    assert_true(h.arc_valid);
    assert_false(h.arc_invalid);
    /* without DNS the net rules do not run, as SpamAssassin's -L */
    h = run(&o, false);
    assert_false(h.arc_signed || h.arc_valid || h.arc_invalid);
    /* no ARC fields, or not checked (outbound, ARC off): nothing */
    struct arc_outcome none = { .checked = true };
    none.verdict.status = ARC_STATUS_NONE;
    h = run(&none, true);
    assert_false(h.arc_signed || h.arc_valid || h.arc_invalid);
    struct arc_outcome unchecked = { 0 };
    h = run(&unchecked, true);
    assert_false(h.arc_signed || h.arc_valid || h.arc_invalid);
}

static void test_arc_fail_newest_ams_is_invalid(void **state)
{
    (void)state;
    /* the body changed after the last hop: its AMS fails, nothing else was reached */
    struct arc_hop hops[1] = { hop(1, false, false, true, false) };
    struct arc_outcome o = { .checked = true };
    o.verdict = (struct arc_result){ .status = ARC_STATUS_FAIL, .count = 1, .hop_count = 1,
        .hop = hops, .fail_instance = 1, .fail_field = ARC_FIELD_AMS,
        .reason = ARC_REASON_BODY_HASH };
    struct hits h = run(&o, true);
    assert_true(h.arc_signed);
    assert_false(h.arc_valid);
    assert_true(h.arc_invalid);
}

static void test_arc_fail_with_a_verified_signature_is_valid(void **state)
{
    (void)state;
    /* DKIM.pm counts each ARC signature: the newest AMS verified, a seal did not */
    struct arc_hop hops[2] = { hop(1, true, false, false, false), hop(2, false, false, true, true) };
    struct arc_outcome o = { .checked = true };
    o.verdict = (struct arc_result){ .status = ARC_STATUS_FAIL, .count = 2, .hop_count = 2,
        .hop = hops, .fail_instance = 1, .fail_field = ARC_FIELD_SEAL,
        .reason = ARC_REASON_SIGNATURE };
    struct hits h = run(&o, true);
    assert_true(h.arc_signed);
    assert_true(h.arc_valid);
    assert_false(h.arc_invalid);
}

static void test_arc_invalid_structure_is_invalid(void **state)
{
    (void)state;
    struct arc_outcome o = { .checked = true };
    o.verdict = (struct arc_result){ .status = ARC_STATUS_FAIL, .count = 2,
        .reason = ARC_REASON_STRUCTURE };    /* decided before any signature was checked */
    struct hits h = run(&o, true);
    assert_true(h.arc_signed);
    assert_false(h.arc_valid);
    assert_true(h.arc_invalid);
}

static void test_arc_limits_never_make_it_valid(void **state)
{
    (void)state;
    /* the key lookups ran out before the AMS was verified */
    struct arc_hop hops[1] = { hop(1, false, false, true, false) };
    struct arc_outcome o = { .checked = true };
    o.verdict = (struct arc_result){ .status = ARC_STATUS_FAIL, .count = 1, .hop_count = 1,
        .hop = hops, .reason = ARC_REASON_LOOKUP_LIMIT };
    struct hits h = run(&o, true);
    assert_true(h.arc_signed);
    assert_false(h.arc_valid);
    assert_true(h.arc_invalid);
    /* ARC fields past a header limit: even signatures that verified count for nothing */
    struct arc_hop ok_hops[1] = { hop(1, true, true, true, true) };
    struct arc_outcome cut = { .checked = true, .header_limit = true };
    cut.verdict = (struct arc_result){ .status = ARC_STATUS_PASS, .count = 1, .hop_count = 1,
        .hop = ok_hops };
    h = run(&cut, true);
    assert_true(h.arc_signed);
    assert_false(h.arc_valid);
    assert_true(h.arc_invalid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arc_rules_load_with_has_arc),
        cmocka_unit_test(test_arc_pass_is_signed_and_valid),
        cmocka_unit_test(test_arc_fail_newest_ams_is_invalid),
        cmocka_unit_test(test_arc_fail_with_a_verified_signature_is_valid),
        cmocka_unit_test(test_arc_invalid_structure_is_invalid),
        cmocka_unit_test(test_arc_limits_never_make_it_valid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
