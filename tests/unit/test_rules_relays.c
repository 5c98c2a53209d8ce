/* test_rules_relays.c - the relay model against what SpamAssassin 4.0.1 computes on the same
 * messages: Received lines of many MTAs read into the X-Spam-Relays-* pseudo-headers
 * (tests/unit/data/received-sa401.txt, recorded from spamassassin -L -t), the trust path
 * (inferred, trusted networks, fetchmail restart, qmail-scanner, originating-IP headers), the
 * MTA's real client as first relay, header rules on the pseudo-headers, RelayEval's tests and
 * HeaderEval's Received/Date functions, each hitting and not hitting where SpamAssassin does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "header.h"
#include "header_cache.h"
#include "rules.h"
#include "rules_evalfn.h"
#include "rules_relays.h"
#include "util.h"

/* A message from text "Name: value\n..." (continuation lines kept in the value). */
struct test_message {
    struct header_field headers[32];
    size_t count;
    char *text;
};

static void parse_message(struct test_message *m, const char *text)
{
    memset(m, 0, sizeof *m);
    m->text = xstrdup(text);
    char *p = m->text;
    while (*p != '\0' && *p != '\n' && m->count < 32) {
        char *colon = strchr(p, ':');
        assert_non_null(colon);
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        char *end = value;
        for (;;) {
            char *nl = strchr(end, '\n');
            if (nl == NULL) {
                end += strlen(end);
                break;
            }
            end = nl;
            if (nl[1] != ' ' && nl[1] != '\t')
                break;
            end = nl + 1;
        }
        char *next = *end != '\0' ? end + 1 : end;
        *end = '\0';
        m->headers[m->count].name = p;
        m->headers[m->count].value = value;
        m->count++;
        p = next;
    }
}

static struct rules_relays *relays_of(const char *text, const struct rules_envelope *env)
{
    struct test_message m;
    parse_message(&m, text);
    struct rules_message msg = { .headers = m.headers, .header_count = m.count, .envelope = env };
    struct rules_relays *r = rules_relays_build(&msg);
    free(m.text);
    return r;
}

/* ---- Received lines, one per message, against SpamAssassin's own output ---- */

static char *field_after(char *line, const char *label)
{
    size_t n = strlen(label);
    assert_true(strncmp(line, label, n) == 0);
    char *v = line + n;
    if (*v == ' ')
        v++;
    v[strcspn(v, "\n")] = '\0';
    return v;
}

static void test_received_lines_parse_as_spamassassin(void **state)
{
    (void)state;
    FILE *f = fopen(SRCDIR "/tests/unit/data/received-sa401.txt", "r");
    assert_non_null(f);
    char line[5][4096];
    size_t cases = 0, with_relay = 0;
    while (fgets(line[0], sizeof line[0], f) != NULL) {
        if (strncmp(line[0], "received:", 9) != 0)
            continue;
        for (int i = 1; i < 5; i++)
            assert_non_null(fgets(line[i], sizeof line[i], f));
        const char *received = field_after(line[0], "received:");
        const char *want[4] = { field_after(line[1], "trusted:"), field_after(line[2], "untrusted:"),
            field_after(line[3], "internal:"), field_after(line[4], "external:") };
        char *msg = xasprintf("Received: %s\nFrom: a@example.org\nSubject: x\n\nbody\n", received);
        struct rules_relays *r = relays_of(msg, NULL);
        const char *got[4] = { r->pseudo_trusted, r->pseudo_untrusted, r->pseudo_internal,
            r->pseudo_external };
        for (int i = 0; i < 4; i++) {
            if (strcmp(got[i], want[i]) != 0)
                fail_msg("Received: %s\n  SpamAssassin: %s\n  ours:         %s", received, want[i], got[i]);
        }
        with_relay += r->count > 0;
        rules_relays_free(r);
        free(msg);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 140);
    assert_int_equal(with_relay, 91);      /* the rest are handovers SpamAssassin ignores */
}

/* ---- the trust path ---- */

static const char msg_private_then_public[] =
        "Received: from relay.example.org (relay.example.org [10.0.0.5]) by mx.example.net (Postfix) with ESMTP id 4AB1 for <bob@example.net>; Tue, 1 Dec 2026 10:00:02 +0000\n"
        "Received: from out.example.com (out.example.com [198.51.100.20]) by relay.example.org (Postfix) with ESMTP id 4AB2 for <bob@example.net>; Tue, 1 Dec 2026 10:00:01 +0000\n"
        "Received: from [192.168.1.9] (helo=pc) by out.example.com with esmtp (Exim 4.96) id 1q-00; Tue, 01 Dec 2026 10:00:00 +0000\n"
        "From: a@example.com\n\nbody\n";

static const char msg_authenticated_first[] =
        "Received: from laptop (unknown [203.0.113.77]) (Authenticated sender: a@example.org) by smtp.example.org (Postfix) with ESMTPSA id 4BBB for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n"
        "Received: from client.example.com (client.example.com [198.51.100.30]) by laptop (Postfix) with ESMTP id 4CC for <bob@example.net>; Tue, 1 Dec 2026 09:59:00 +0000 (UTC)\n"
        "From: a@example.org\n\nbody\n";

static const char msg_fetchmail[] =
        "Received: from localhost [127.0.0.1] by localhost with IMAP (fetchmail-6.4.37) for <bob@localhost> (single-drop); Tue, 01 Dec 2026 10:05:00 +0000 (UTC)\n"
        "Received: from mx.isp.example (mx.isp.example [10.9.9.9]) by imap.isp.example (Postfix) with ESMTP id 1A for <bob@isp.example>; Tue, 1 Dec 2026 10:00:01 +0000\n"
        "Received: from sender.example.com (sender.example.com [198.51.100.40]) by mx.isp.example (Postfix) with ESMTP id 1B for <bob@isp.example>; Tue, 1 Dec 2026 10:00:00 +0000\n"
        "From: a@example.com\n\nbody\n";

static const char msg_qmail_scanner[] =
        "Received: from 156.56.111.196 by blazing.arsecandle.org (envelope-from <list-return@lists.example.org>, uid 502) with qmail-scanner-1.24 (clamdscan: 0.80/594. Clear:RC:0(156.56.111.196):. Processed in 0.288806 secs); 06 Feb 2005 21:11:38 -0000\n"
        "Received: from lists.example.org (156.56.111.196) by blazing.arsecandle.org with SMTP; 06 Feb 2005 21:11:37 -0000\n"
        "Received: from garbage without anything useful here; Tue, 1 Dec 2026 10:00:00 +0000\n"
        "X-Originating-IP: [93.184.216.34]\n"
        "From: a@example.com\n\nbody\n";


static void assert_relays(const char *text, const struct rules_envelope *env, const char *trusted,
    const char *untrusted, const char *internal, const char *external)
{
    struct rules_relays *r = relays_of(text, env);
    assert_string_equal(r->pseudo_trusted, trusted);
    assert_string_equal(r->pseudo_untrusted, untrusted);
    assert_string_equal(r->pseudo_internal, internal);
    assert_string_equal(r->pseudo_external, external);
    rules_relays_free(r);
}

static void test_trust_inferred_private_then_public(void **state)
{
    (void)state;
    const char *msg = msg_private_then_public;
    const char *first = "[ ip=10.0.0.5 rdns=relay.example.org helo=relay.example.org by=mx.example.net ident= envfrom= intl=1 id=4AB1 auth= msa=0 ]";
    const char *rest = "[ ip=198.51.100.20 rdns=out.example.com helo=out.example.com by=relay.example.org ident= envfrom= intl=0 id=4AB2 auth= msa=0 ] [ ip=192.168.1.9 rdns= helo=pc by=out.example.com ident= envfrom= intl=0 id=1q-00 auth= msa=0 ]";
    assert_relays(msg, NULL, first, rest, first, rest);
}

static void test_trust_inferred_from_authentication(void **state)
{
    (void)state;
    const char *msg = msg_authenticated_first;
    const char *first = "[ ip=203.0.113.77 rdns= helo=laptop by=smtp.example.org ident= envfrom= intl=1 id=4BBB auth=ESMTPSA msa=0 ]";
    const char *rest = "[ ip=198.51.100.30 rdns=client.example.com helo=client.example.com by=laptop ident= envfrom= intl=0 id=4CC auth= msa=0 ]";
    assert_relays(msg, NULL, first, rest, first, rest);
}

static void test_fetchmail_line_restarts_the_trusted_relays(void **state)
{
    (void)state;
    const char *msg = msg_fetchmail;
    const char *first = "[ ip=10.9.9.9 rdns=mx.isp.example helo=mx.isp.example by=imap.isp.example ident= envfrom= intl=1 id= auth= msa=0 ]";
    const char *rest = "[ ip=198.51.100.40 rdns=sender.example.com helo=sender.example.com by=mx.isp.example ident= envfrom= intl=0 id= auth= msa=0 ]";
    assert_relays(msg, NULL, first, rest, first, rest);
}

static void test_qmail_scanner_envfrom_unparseable_and_originating_ip(void **state)
{
    (void)state;
    const char *msg = msg_qmail_scanner;
    const char *all = "[ ip=156.56.111.196 rdns=lists.example.org helo=lists.example.org by=blazing.arsecandle.org ident= envfrom=list-return@lists.example.org intl=0 id= auth= msa=0 ] [ ip=93.184.216.34 rdns= helo= by= ident= envfrom= intl=0 id= auth= msa=0 ]";
    assert_relays(msg, NULL, "", all, "", all);
    struct rules_relays *r = relays_of(msg, NULL);
    assert_int_equal(r->unparsed_lines, 1);
    assert_int_equal(r->received_lines, 4);   /* three Received lines and the X-Originating-IP one */
    rules_relays_free(r);
}

/* A line too long, or past the hundredth, is counted as unparseable instead of parsed: bounded
 * work, and the message cannot look more trusted for it (ALL_TRUSTED needs none unparseable). */
static void test_hostile_received_lines_are_bounded(void **state)
{
    (void)state;
    struct textbuf t;
    textbuf_init(&t);
    textbuf_puts(&t, "Received: from [10.0.0.1] (x [10.0.0.1]) by mx.example.net (Postfix) with ESMTP id 4AB1 (");
    for (int i = 0; i < 400; i++)
        textbuf_puts(&t, "a(b [1.2.3.4] ");
    textbuf_puts(&t, ")\nFrom: a@example.com\n\nbody\n");
    struct rules_relays *r = relays_of(t.data, NULL);
    assert_int_equal(r->count, 0);
    assert_int_equal(r->unparsed_lines, 1);
    rules_relays_free(r);
    textbuf_free(&t);

    struct header_field many[102];
    for (int i = 0; i < 101; i++)
        many[i] = (struct header_field){ .name = (char *)"Received",
            .value = (char *)"from [10.0.0.1] (x [10.0.0.1]) by mx.example.net (Postfix) with ESMTP id 4AB1" };
    many[101] = (struct header_field){ .name = (char *)"From", .value = (char *)"a@example.com" };
    struct rules_message msg = { .headers = many, .header_count = 102 };
    r = rules_relays_build(&msg);
    assert_int_equal(r->count, 100);
    assert_int_equal(r->unparsed_lines, 1);
    rules_relays_free(r);
}

/* ")by" glued to the comment, as some MTAs write it, at the very end of the line: SpamAssassin
 * inserts a space; so do we, within the buffer (found by fuzz_received under ASan) */
static void test_glued_by_at_end_of_line(void **state)
{
    (void)state;
    struct rules_relays *r = relays_of(
        "Received: from a.example (a.example [192.0.2.1])by mx.example.net (Postfix) with ESMTP id 4AB1\n"
        "From: a@example.com\n\nbody\n", NULL);
    assert_int_equal(r->count, 1);
    assert_string_equal(r->relay[0].by, "mx.example.net");
    assert_string_equal(r->relay[0].ip, "192.0.2.1");
    rules_relays_free(r);
}

/* networks.trusted = 198.51.100.0/24 (SpamAssassin: trusted_networks 198.51.100.0/24) */
static bool in_test_trusted(const char *ip, void *arg)
{
    (void)arg;
    return strncmp(ip, "198.51.100.", 11) == 0;
}

static void test_trusted_networks_as_spamassassin(void **state)
{
    (void)state;
    const char *msg =
        "Received: from out.example.com (out.example.com [198.51.100.20]) by mx.example.net (Postfix) with ESMTP id 4AB2 for <bob@example.net>; Tue, 1 Dec 2026 10:00:01 +0000\n"
        "Received: from sender.example.org (sender.example.org [203.0.113.40]) by out.example.com (Postfix) with ESMTP id 4AB3 for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000\n"
        "From: a@example.com\n\nbody\n";
    struct rules_envelope env = { .ip_trusted = in_test_trusted, .ip_internal = in_test_trusted };
    const char *first = "[ ip=198.51.100.20 rdns=out.example.com helo=out.example.com by=mx.example.net ident= envfrom= intl=1 id=4AB2 auth= msa=0 ]";
    const char *rest = "[ ip=203.0.113.40 rdns=sender.example.org helo=sender.example.org by=out.example.com ident= envfrom= intl=0 id=4AB3 auth= msa=0 ]";
    assert_relays(msg, &env, first, rest, first, rest);
    /* without trusted networks, the public first relay is not trusted */
    assert_relays(msg, NULL, "", "[ ip=198.51.100.20 rdns=out.example.com helo=out.example.com by=mx.example.net ident= envfrom= intl=0 id=4AB2 auth= msa=0 ] [ ip=203.0.113.40 rdns=sender.example.org helo=sender.example.org by=out.example.com ident= envfrom= intl=0 id=4AB3 auth= msa=0 ]",
        "", "[ ip=198.51.100.20 rdns=out.example.com helo=out.example.com by=mx.example.net ident= envfrom= intl=0 id=4AB2 auth= msa=0 ] [ ip=203.0.113.40 rdns=sender.example.org helo=sender.example.org by=out.example.com ident= envfrom= intl=0 id=4AB3 auth= msa=0 ]");
}

/* ---- the MTA's own client data as first relay ---- */

static void test_mta_client_is_the_first_relay(void **state)
{
    (void)state;
    const char *msg =
        "Received: from a.example.com (a.example.com [93.184.216.34]) by mail.example.com (Postfix) with ESMTP id 4AB1; Tue, 1 Dec 2026 10:00:00 +0000\n"
        "From: a@example.com\n\nbody\n";
    struct rules_envelope env = { .client_ip = "198.51.100.7", .client_rdns = "mail.example.com",
        .helo = "mail.example.com" };
    assert_relays(msg, &env, "",
        "[ ip=198.51.100.7 rdns=mail.example.com helo=mail.example.com by= ident= envfrom= intl=0 id= auth= msa=0 ] "
        "[ ip=93.184.216.34 rdns=a.example.com helo=a.example.com by=mail.example.com ident= envfrom= intl=0 id=4AB1 auth= msa=0 ]",
        "",
        "[ ip=198.51.100.7 rdns=mail.example.com helo=mail.example.com by= ident= envfrom= intl=0 id= auth= msa=0 ] "
        "[ ip=93.184.216.34 rdns=a.example.com helo=a.example.com by=mail.example.com ident= envfrom= intl=0 id=4AB1 auth= msa=0 ]");
    struct rules_relays *r = relays_of(msg, &env);
    assert_true(r->relay[0].from_mta);
    assert_false(r->relay[0].no_reverse_dns);
    rules_relays_free(r);

    /* no verified name: no reverse DNS, as Postfix's "unknown" */
    struct rules_envelope bare = { .client_ip = "198.51.100.7", .helo = "[198.51.100.7]" };
    r = relays_of(msg, &bare);
    assert_string_equal(r->relay[0].rdns, "");
    assert_string_equal(r->relay[0].helo, "!198.51.100.7!");
    assert_true(r->relay[0].no_reverse_dns);
    rules_relays_free(r);
}

static void test_mta_own_received_line_is_not_read_twice(void **state)
{
    (void)state;
    const char *msg =
        "Received: from mail.example.com (mail.example.com [198.51.100.7]) by mx.example.net (Postfix) with ESMTPS id 4ZZ; Tue, 1 Dec 2026 10:00:01 +0000\n"
        "Received: from a.example.com (a.example.com [93.184.216.34]) by mail.example.com (Postfix) with ESMTP id 4AB1; Tue, 1 Dec 2026 10:00:00 +0000\n"
        "From: a@example.com\n\nbody\n";
    struct rules_envelope env = { .client_ip = "198.51.100.7", .client_rdns = "mail.example.com",
        .helo = "mail.example.com" };
    struct rules_relays *r = relays_of(msg, &env);
    assert_int_equal(r->count, 2);
    assert_true(r->relay[0].from_mta);
    assert_string_equal(r->relay[1].ip, "93.184.216.34");
    rules_relays_free(r);
}

static void test_mta_sasl_login_makes_the_client_trusted(void **state)
{
    (void)state;
    const char *msg = "From: a@example.com\n\nbody\n";
    struct rules_envelope env = { .client_ip = "203.0.113.9", .helo = "laptop",
        .sasl_user = "alice" };
    const char *relay = "[ ip=203.0.113.9 rdns= helo=laptop by= ident= envfrom= intl=1 id= auth=alice msa=0 ]";
    assert_relays(msg, &env, relay, "", relay, "");
    struct rules_envelope internal = { .client_ip = "203.0.113.9", .helo = "laptop",
        .client_internal = true, .client_trusted = true, .ip_trusted = in_test_trusted,
        .ip_internal = in_test_trusted };
    assert_relays(msg, &internal, "[ ip=203.0.113.9 rdns= helo=laptop by= ident= envfrom= intl=1 id= auth= msa=0 ]",
        "", "[ ip=203.0.113.9 rdns= helo=laptop by= ident= envfrom= intl=1 id= auth= msa=0 ]", "");
}

/* ---- rules: pseudo-headers and RelayEval, hits as SpamAssassin's on the same messages ---- */

struct hits {
    char names[64][64];
    size_t n;
};

static void collect(const struct rules_hit *hit, void *arg)
{
    struct hits *h = arg;
    if (h->n < 64)
        snprintf(h->names[h->n++], sizeof h->names[0], "%s", hit->name);
}

static bool hit(const struct hits *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->names[i], name) == 0)
            return true;
    }
    return false;
}

/* The stock rules these tests run (Debian's /usr/share/spamassassin, as written there). */
static const char relay_rules[] =
    "header ALL_TRUSTED      eval:check_all_trusted()\n"
    "header NO_RELAYS        eval:check_no_relays()\n"
    "header __UNPARSEABLE_RELAY_COUNT        eval:check_relays_unparseable()\n"
    "header RCVD_HELO_IP_MISMATCH\teval:helo_ip_mismatch()\n"
    "header NO_RDNS_DOTCOM_HELO\teval:check_for_no_rdns_dotcom_helo()\n"
    "header __FORGED_RCVD_TRAIL\teval:check_for_forged_received_trail()\n"
    "header __RDNS_NONE  X-Spam-Relays-External =~ /^[^\\]]+ rdns= /\n"
    "header __LAST_UNTRUSTED_RELAY_NO_AUTH X-Spam-Relays-Untrusted =~ /^[^\\]]+ auth= /\n"
    "header RCVD_ILLEGAL_IP\t\tX-Spam-Relays-Untrusted =~ / (?:by|ip)=(?=\\d+\\.\\d+\\.\\d+\\.\\d+ )(?:(?:0|2(?:2[4-9]|[3-5]\\d)|192\\.0\\.2|198\\.51\\.100|203\\.0\\.113)\\.|(?:\\d+\\.){0,3}(?!(?:2(?:[0-4]\\d|5[0-5])|[01]?\\d\\d?)\\b))/\n";

static struct hits run_rules(const char *text, const struct rules_envelope *env)
{
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "stock-extract", relay_rules, strlen(relay_rules));
    ruleset_finish(rs);
    assert_int_equal(ruleset_skipped(rs), 0);
    struct test_message m;
    parse_message(&m, text);
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message msg = { .headers = m.headers, .header_count = m.count, .envelope = env };
    struct hits h = { .n = 0 };
    ruleset_eval(rs, &msg, &limits, collect, &h, NULL);
    free(m.text);
    ruleset_free(rs);
    return h;
}

#define TAIL "From: a@example.org\nTo: bob@example.net\nSubject: t\nDate: Tue, 1 Dec 2026 10:00:00 +0000\n\nhello\n"

static void test_all_trusted_and_no_relays(void **state)
{
    (void)state;
    struct hits h = run_rules("Received: from [10.0.0.2] (unknown [10.0.0.2]) by mail.example.org (Postfix) with ESMTP id 4AB12345 for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n" TAIL, NULL);
    assert_true(hit(&h, "ALL_TRUSTED"));
    assert_false(hit(&h, "NO_RELAYS"));
    assert_false(hit(&h, "__RDNS_NONE"));
    h = run_rules(TAIL, NULL);
    assert_true(hit(&h, "NO_RELAYS"));
    assert_false(hit(&h, "ALL_TRUSTED"));
    h = run_rules("Received: from garbage without anything useful here; Tue, 1 Dec 2026 10:00:00 +0000\n" TAIL, NULL);
    assert_true(hit(&h, "__UNPARSEABLE_RELAY_COUNT"));
    assert_false(hit(&h, "NO_RELAYS"));
    assert_false(hit(&h, "ALL_TRUSTED"));
}

static void test_rdns_none_and_helo_checks(void **state)
{
    (void)state;
    /* SpamAssassin: RCVD_HELO_IP_MISMATCH, RDNS_NONE */
    struct hits h = run_rules("Received: from 8.8.4.4 (unknown [93.184.216.34]) by mx.example.net (Postfix) with ESMTP id 4AB12345 for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n" TAIL, NULL);
    assert_true(hit(&h, "RCVD_HELO_IP_MISMATCH"));
    assert_true(hit(&h, "__RDNS_NONE"));
    assert_true(hit(&h, "__LAST_UNTRUSTED_RELAY_NO_AUTH"));
    assert_false(hit(&h, "NO_RDNS_DOTCOM_HELO"));
    /* SpamAssassin: NO_RDNS_DOTCOM_HELO, RDNS_NONE */
    h = run_rules("Received: from hotmail.com (unknown [93.184.216.34]) by mx.example.net (Postfix) with ESMTP id 4AB12345 for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n" TAIL, NULL);
    assert_true(hit(&h, "NO_RDNS_DOTCOM_HELO"));
    assert_false(hit(&h, "RCVD_HELO_IP_MISMATCH"));
    /* with a reverse name: neither */
    h = run_rules("Received: from hotmail.com (mail.example.org [93.184.216.34]) by mx.example.net (Postfix) with ESMTP id 4AB12345 for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n" TAIL, NULL);
    assert_false(hit(&h, "NO_RDNS_DOTCOM_HELO"));
    assert_false(hit(&h, "__RDNS_NONE"));
    /* TEST-NET addresses: RCVD_ILLEGAL_IP, as SpamAssassin */
    h = run_rules("Received: from mail.example.org (mail.example.org [203.0.113.9]) by mx.example.net (Postfix) with ESMTPS id 4AB12345; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n" TAIL, NULL);
    assert_true(hit(&h, "RCVD_ILLEGAL_IP"));
}

static void test_forged_received_trail(void **state)
{
    (void)state;
    /* SpamAssassin: __FORGED_RCVD_TRAIL (two hops whose "by" is not the next one's name) */
    struct hits h = run_rules(
        "Received: from a.example.com (a.example.com [93.184.216.34]) by mx.example.net (Postfix) with ESMTP id 4AB12345 for <bob@example.net>; Tue, 1 Dec 2026 10:00:02 +0000 (UTC)\n"
        "Received: from b.example.org (b.example.org [93.184.216.35]) by relay.other.com (Postfix) with ESMTP id 4AB12346 for <bob@example.net>; Tue, 1 Dec 2026 10:00:01 +0000 (UTC)\n"
        "Received: from c.example.info (c.example.info [93.184.216.36]) by relay.third.net (Postfix) with ESMTP id 4AB12347 for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n" TAIL, NULL);
    assert_true(hit(&h, "__FORGED_RCVD_TRAIL"));
    /* the same hops, each "by" the next one's domain: no hit */
    h = run_rules(
        "Received: from a.example.com (a.example.com [93.184.216.34]) by mx.example.net (Postfix) with ESMTP id 4AB12345 for <bob@example.net>; Tue, 1 Dec 2026 10:00:02 +0000 (UTC)\n"
        "Received: from b.example.org (b.example.org [93.184.216.35]) by mail.example.com (Postfix) with ESMTP id 4AB12346 for <bob@example.net>; Tue, 1 Dec 2026 10:00:01 +0000 (UTC)\n"
        "Received: from c.example.info (c.example.info [93.184.216.36]) by mx.example.org (Postfix) with ESMTP id 4AB12347 for <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\n" TAIL, NULL);
    assert_false(hit(&h, "__FORGED_RCVD_TRAIL"));
}

/* ALL-EXTERNAL: the fields from the first external relay's Received line on; SpamAssassin's
 * __DOS_RELAYED_EXT hits where two Received lines are in it */
static void test_all_external_starts_after_the_internal_relays(void **state)
{
    (void)state;
    const char *rules =
        "header __DOS_RELAYED_EXT\tALL-EXTERNAL =~ /(?:^|\\n)[Rr][eE][cC][eE][iI][vV][eE][dD]:\\s.+\\n[Rr][eE][cC][eE][iI][vV][eE][dD]:\\s/s\n";
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "stock-extract", rules, strlen(rules));
    ruleset_finish(rs);
    assert_int_equal(ruleset_skipped(rs), 0);
    static const struct {
        const char *text;
        bool hits;             /* as SpamAssassin 4.0.1 */
    } cases[] = {
        { msg_private_then_public, true }, { msg_authenticated_first, false },
        { msg_fetchmail, false }, { msg_qmail_scanner, true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct test_message m;
        parse_message(&m, cases[i].text);
        struct rules_limits limits;
        rules_limits_default(&limits);
        struct rules_message msg = { .headers = m.headers, .header_count = m.count };
        struct hits h = { .n = 0 };
        ruleset_eval(rs, &msg, &limits, collect, &h, NULL);
        if (hit(&h, "__DOS_RELAYED_EXT") != cases[i].hits)
            fail_msg("case %zu: __DOS_RELAYED_EXT %d, SpamAssassin %d", i, !cases[i].hits, cases[i].hits);
        free(m.text);
    }
    ruleset_free(rs);
}

static void test_relay_rules_use_the_mta_client(void **state)
{
    (void)state;
    /* no Received line at all, but the MTA knows a public client without a name */
    struct rules_envelope env = { .client_ip = "93.184.216.34", .helo = "hotmail.com" };
    struct hits h = run_rules(TAIL, &env);
    assert_false(hit(&h, "NO_RELAYS"));
    assert_true(hit(&h, "__RDNS_NONE"));
    assert_true(hit(&h, "NO_RDNS_DOTCOM_HELO"));
    /* an authenticated client: all trusted */
    struct rules_envelope sasl = { .client_ip = "93.184.216.34", .helo = "laptop",
        .sasl_user = "alice" };
    h = run_rules(TAIL, &sasl);
    assert_true(hit(&h, "ALL_TRUSTED"));
    assert_false(hit(&h, "__RDNS_NONE"));
}

/* ---- HeaderEval's Received/Date functions, called through their table ---- */

static const struct eval_function *received_function(const char *name)
{
    for (size_t i = 0; eval_headereval_received[i].name != NULL; i++) {
        if (strcmp(eval_headereval_received[i].name, name) == 0)
            return &eval_headereval_received[i];
    }
    fail_msg("no function %s", name);
    return NULL;
}

/* Runs name(args) on the message as the rule engine would. */
static unsigned run_received_eval(const char *text, const char *name, const char *arg0,
    const char *arg1)
{
    const struct eval_function *f = received_function(name);
    char *args[2] = { (char *)arg0, (char *)arg1 };
    size_t argc = arg0 == NULL ? 0 : arg1 == NULL ? 1 : 2;
    void *st = NULL;
    if (f->prepare != NULL) {
        const char *why = NULL;
        assert_true(f->prepare(NULL, NULL, args, argc, &st, &why));
    }
    struct test_message m;
    parse_message(&m, text);
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message msg = { .headers = m.headers, .header_count = m.count };
    struct eval_ctx ctx = { .msg = &msg, .limits = &limits,
        .headers = header_cache_new(m.headers, m.count) };
    struct eval_call call = { NULL, args, argc, st };
    unsigned n = f->run(&ctx, &call);
    eval_ctx_release(&ctx);
    header_cache_free(ctx.headers);
    if (f->free_state != NULL)
        f->free_state(st);
    free(m.text);
    return n;
}

#define RCVD_AT(date) "Received: from out.example.com (out.example.com [198.51.100.20]) by mx.example.net (Postfix) with ESMTP id 4AB2 for <bob@example.net>; " date "\n"
#define MSG_DATED(rcvd, date) RCVD_AT(rcvd) "From: a@example.com\nTo: bob@example.net\nSubject: t\nDate: " date "\n\nhello\n"

struct shift_case {
    const char *received, *date;
    const char *hits;          /* the DATE_IN_* rule SpamAssassin hits, "" none */
};

static const struct {
    const char *name, *min, *max;
} shift_rules[] = {
    { "DATE_IN_PAST_03_06", "-6", "-3" }, { "DATE_IN_PAST_06_12", "-12", "-6" },
    { "DATE_IN_PAST_12_24", "-24", "-12" }, { "DATE_IN_PAST_24_48", "-48", "-24" },
    { "DATE_IN_PAST_96_XX", "undef", "-96" }, { "DATE_IN_FUTURE_03_06", "3", "6" },
    { "DATE_IN_FUTURE_06_12", "6", "12" }, { "DATE_IN_FUTURE_12_24", "12", "24" },
    { "DATE_IN_FUTURE_24_48", "24", "48" }, { "DATE_IN_FUTURE_48_96", "48", "96" },
    { "DATE_IN_FUTURE_Q_PLUS", "2920", "undef" },
};

static void test_date_against_received_as_spamassassin(void **state)
{
    (void)state;
    /* each case as spamassassin -L -t hit it */
    static const struct shift_case cases[] = {
        { "Tue, 1 Dec 2026 10:00:00 +0000", "Tue, 1 Dec 2026 06:00:00 +0000", "DATE_IN_PAST_03_06" },
        { "Tue, 1 Dec 2026 10:00:00 +0000", "Sun, 29 Nov 2026 16:00:00 +0000", "DATE_IN_PAST_24_48" },
        { "Tue, 1 Dec 2026 10:00:00 +0000", "Tue, 1 Dec 2026 10:00:00 -0700", "DATE_IN_FUTURE_06_12" },
        { "Tue, 1 Dec 2026 10:00:00 +0000", "27 Nov 26 04:00:00 GMT", "DATE_IN_PAST_96_XX" },
        { "Tue, 1 Dec 2026 10:00:00 +0000", "Tue, 1 Dec 2026 11:00:00 +0100", "" },
        { "Tue, 1 Dec 2026 10:00:00 EST", "Tue, 1 Dec 2026 10:00:00 +0000", "DATE_IN_PAST_03_06" },
        { "06 Feb 2005 21:11:37 -0000", "Tue, 1 Dec 2026 10:00:00 +0000", "DATE_IN_FUTURE_Q_PLUS" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *msg = xasprintf(RCVD_AT("%s") "From: a@example.com\nDate: %s\n\nhello\n",
            cases[c].received, cases[c].date);
        for (size_t r = 0; r < sizeof shift_rules / sizeof shift_rules[0]; r++) {
            unsigned got = run_received_eval(msg, "check_for_shifted_date", shift_rules[r].min,
                shift_rules[r].max);
            unsigned want = strcmp(cases[c].hits, shift_rules[r].name) == 0;
            if (got != want)
                fail_msg("Received %s, Date %s: %s is %u, SpamAssassin %u", cases[c].received,
                    cases[c].date, shift_rules[r].name, got, want);
        }
        free(msg);
    }
}

static void test_forged_provider_received_lines(void **state)
{
    (void)state;
    const char *plain = RCVD_AT("Tue, 1 Dec 2026 10:00:00 +0000");
    char *gmail = xasprintf("%sFrom: someone@gmail.com\nSubject: t\n\nhi\n", plain);
    char *yahoo = xasprintf("%sFrom: someone@yahoo.com\nSubject: t\n\nhi\n", plain);
    char *hotmail = xasprintf("%sFrom: someone@hotmail.com\nSubject: t\n\nhi\n", plain);
    char *other = xasprintf("%sFrom: someone@example.com\nSubject: t\n\nhi\n", plain);
    /* SpamAssassin hits FORGED_GMAIL_RCVD, FORGED_YAHOO_RCVD, FORGED_HOTMAIL_RCVD2 here */
    assert_int_equal(run_received_eval(gmail, "check_for_forged_gmail_received_headers", NULL, NULL), 1);
    assert_int_equal(run_received_eval(hotmail, "check_for_no_hotmail_received_headers", NULL, NULL), 1);
    assert_int_equal(run_received_eval(hotmail, "check_for_forged_hotmail_received_headers", NULL, NULL), 0);
    assert_int_equal(run_received_eval(other, "check_for_forged_gmail_received_headers", NULL, NULL), 0);
    assert_int_equal(run_received_eval(other, "check_for_no_hotmail_received_headers", NULL, NULL), 0);
    assert_int_equal(run_received_eval(other, "check_for_forged_yahoo_received_headers", NULL, NULL), 0);
    assert_int_equal(run_received_eval(yahoo, "check_for_forged_yahoo_received_headers", NULL, NULL),
        1);
    /* Gmail's own headers make it genuine */
    char *real_gmail = xasprintf("%sX-Received: by 2002:a17:906:1234:b0:a1b:2c3d with SMTP id abc;"
        " Tue, 1 Dec 2026 10:00:00 -0800\nFrom: someone@gmail.com\n\nhi\n", plain);
    assert_int_equal(run_received_eval(real_gmail, "check_for_forged_gmail_received_headers", NULL, NULL), 0);
    /* a HELO claiming hotmail.com: __FORGED_HOTMAIL_RCVD (SpamAssassin hits it) */
    char *helo_hotmail = xasprintf("Received: from hotmail.com (unknown [93.184.216.34]) by mx.example.net (Postfix) with ESMTP id 4AB12345; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)\nFrom: a@example.org\n\nhi\n");
    assert_int_equal(run_received_eval(helo_hotmail, "check_for_forged_hotmail_received_headers", NULL, NULL), 1);
    /* an AOL relay name in a line from elsewhere: __FORGED_AOL_RCVD */
    const char *aol = "Received: from unknown (HELO mta05bw.bigpond.com) (80.71.176.130) by rly-xw01.mx.aol.com with QMQP; Sat, 15 Jun 2002 23:37:16 -0000\nFrom: a@example.com\n\nhi\n";
    assert_int_equal(run_received_eval(aol, "check_for_fake_aol_relay_in_rcvd", NULL, NULL), 1);
    assert_int_equal(run_received_eval(other, "check_for_fake_aol_relay_in_rcvd", NULL, NULL), 0);
    /* no Received line: __GATED_THROUGH_RCVD_REMOVER */
    assert_int_equal(run_received_eval("From: a@example.com\n\nhi\n", "gated_through_received_hdr_remover", NULL, NULL), 1);
    assert_int_equal(run_received_eval(other, "gated_through_received_hdr_remover", NULL, NULL), 0);
    free(gmail);
    free(yahoo);
    free(hotmail);
    free(other);
    free(real_gmail);
    free(helo_hotmail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_received_lines_parse_as_spamassassin),
        cmocka_unit_test(test_trust_inferred_private_then_public),
        cmocka_unit_test(test_trust_inferred_from_authentication),
        cmocka_unit_test(test_fetchmail_line_restarts_the_trusted_relays),
        cmocka_unit_test(test_qmail_scanner_envfrom_unparseable_and_originating_ip),
        cmocka_unit_test(test_hostile_received_lines_are_bounded),
        cmocka_unit_test(test_glued_by_at_end_of_line),
        cmocka_unit_test(test_trusted_networks_as_spamassassin),
        cmocka_unit_test(test_mta_client_is_the_first_relay),
        cmocka_unit_test(test_mta_own_received_line_is_not_read_twice),
        cmocka_unit_test(test_mta_sasl_login_makes_the_client_trusted),
        cmocka_unit_test(test_all_trusted_and_no_relays),
        cmocka_unit_test(test_rdns_none_and_helo_checks),
        cmocka_unit_test(test_forged_received_trail),
        cmocka_unit_test(test_all_external_starts_after_the_internal_relays),
        cmocka_unit_test(test_relay_rules_use_the_mta_client),
        cmocka_unit_test(test_date_against_received_as_spamassassin),
        cmocka_unit_test(test_forged_provider_received_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
