/* test_spam_dns.c - the checks that ask DNS, against a real DNS server on loopback
 * (tests/tools/dnsserver.py): reverse DNS (none, not forward-confirmed, dynamic-looking, a
 * failure scoring nothing), HELO against the confirmed reverse name, and DNS lists of each
 * kind - DNSBL with per-code scores and symbols, an IPv6 client by nibbles, an allow list with
 * a negative score, the "may not query" answers ignored; RHSBL on the sender's and From's
 * registrable domains; URIBL with bitmask codes, the lookup cap, and no more lookups after
 * a query to the list timed out; reverse DNS and the DNS lists of a connection asked
 * together, not one after the other, and so are SPF's HELO and MAIL FROM identities (the
 * server answers them only while both are asked: no clock is read); one DNS
 * budget per message (dns.message_budget): spent at connect, no later stage asks or waits,
 * and every check gives what a timeout gives; the next message of the connection gets the
 * whole budget again. Skipped
 * (77) without
 * Debian's python3-dnslib. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_rdns.h"
#include "dkim_result.h"
#include "engine.h"
#include "stats.h"
#include "rdns_result.h"
#include "policy_fixture.h"
#include "util.h"

static const char zone[] =
    "5.113.0.203.in-addr.arpa PTR mail.sender.test\n"
    "mail.sender.test A 203.0.113.5\n"
    "7.113.0.203.in-addr.arpa PTR host.unconfirmed.test\n"
    "8.113.0.203.in-addr.arpa PTR 203-0-113-8.cust.isp.test\n"
    "203-0-113-8.cust.isp.test A 203.0.113.8\n"
    "9.113.0.203.in-addr.arpa PTR adsl-pool.isp.test\n"
    "adsl-pool.isp.test A 203.0.113.9\n"
    "10.113.0.203.in-addr.arpa SERVFAIL\n"
    /* DNSBL / DNSWL */
    "5.113.0.203.bl.test A 127.0.0.2\n"
    "8.113.0.203.bl.test A 127.0.0.4\n"
    "8.113.0.203.bl.test A 127.0.0.2\n"
    "9.113.0.203.bl.test A 127.255.255.254\n"
    "10.113.0.203.bl.test A 127.0.0.9\n"
    "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test A 127.0.0.2\n"
    "7.113.0.203.wl.test A 127.0.15.1\n"
    /* RHSBL */
    "spammer.test.rhs.test A 127.0.0.2\n"
    /* URIBL, bitmask */
    "evil.test.uri.test A 127.0.0.6\n"
    "grey.test.uri.test A 127.0.0.4\n"
    "slow.test.uri.test TIMEOUT\n"
    /* a client whose reverse zone and DNSBL entry both never answer */
    "20.113.0.203.in-addr.arpa TIMEOUT\n"
    "20.113.0.203.bl.test TIMEOUT\n"
    /* a HELO name and a sender domain whose SPF records never come */
    "slowhelo.test TIMEOUT\n"
    "slowsender.test TIMEOUT\n"
    "_dmarc.slowsender.test TIMEOUT\n"
    /* a HELO name that does answer, for a client whose reverse zone never does */
    "goodhelo.test TXT \"v=spf1 ip4:203.0.113.20 -all\"\n"
    /* a DKIM key that never comes */
    "sel._domainkey.slowkey.test TIMEOUT\n"
    /* a client whose reverse name and DNSBL entry are answered only while both are asked */
    "22.113.0.203.in-addr.arpa PTR mail.together.test\n"
    "22.113.0.203.in-addr.arpa HOLD 2\n"
    "mail.together.test A 203.0.113.22\n"
    "22.113.0.203.bl.test A 127.0.0.2\n"
    "22.113.0.203.bl.test HOLD 2\n"
    /* a HELO name and a sender domain whose SPF records come only while both are asked */
    "helo.together.test TXT \"v=spf1 ip4:203.0.113.23 -all\"\n"
    "helo.together.test HOLD 2\n"
    "sender.together.test TXT \"v=spf1 ip4:203.0.113.23 -all\"\n"
    "sender.together.test HOLD 2\n";

#define POLICY \
    "networks: { internal = [ \"10.0.0.0/8\" ] }\n" \
    "spam: { max_uri_lookups = 3; dnslists = (\n" \
    "  { zone = \"bl.test\"; type = \"ip\"; symbol = \"RBL_TEST\"; ipv6 = true; score = 0.5;\n" \
    "    codes = ( { code = \"127.0.0.2\"; score = 3.0; symbol = \"RBL_TEST_SBL\" },\n" \
    "              { code = \"127.0.0.4\"; score = 1.5 } ) },\n" \
    "  { zone = \"wl.test\"; type = \"ip\"; symbol = \"DNSWL_TEST\"; score = -2.0 },\n" \
    "  { zone = \"rhs.test\"; type = \"domain\"; symbol = \"RHSBL_TEST\"; score = 2.0 },\n" \
    "  { zone = \"uri.test\"; type = \"uri\"; symbol = \"URIBL_TEST\";\n" \
    "    codes = ( { mask = 2; score = 4.0; symbol = \"URIBL_BLACK\" },\n" \
    "              { mask = 4; score = 1.0; symbol = \"URIBL_GREY\" } ) }\n" \
    ") }\n"

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

static int setup(void **state)
{
    (void)state;
    fixture_policy(POLICY);
    return 0;
}

static void test_rdns_confirmed(void **state)
{
    (void)state;
    struct smtp_session s = {.client_ip = "203.0.113.5", .helo = "mail.sender.test"};
    fixture_run(&s);
    assert_false(fixture_has("RDNS_NONE"));
    assert_false(fixture_has("RDNS_NOT_CONFIRMED"));
    assert_false(fixture_has("RDNS_DYNAMIC"));
    assert_false(fixture_has("HELO_RDNS_MISMATCH"));
    assert_string_equal(rdns_confirmed_name(fixture_txn()), "mail.sender.test");

    s.helo = "smtp.sender.test";              /* same registrable domain */
    fixture_run(&s);
    assert_false(fixture_has("HELO_RDNS_MISMATCH"));
    s.helo = "mx.someone-else.test";
    fixture_run(&s);
    assert_true(fixture_has("HELO_RDNS_MISMATCH"));
}

static void test_rdns_missing_unconfirmed_dynamic(void **state)
{
    (void)state;
    struct smtp_session s = {.client_ip = "203.0.113.6"};
    fixture_run(&s);
    assert_true(fixture_has("RDNS_NONE"));
    assert_true(fixture_score_of("RDNS_NONE") == 1.3);
    assert_false(fixture_has("HELO_RDNS_MISMATCH"));   /* nothing to compare with */

    s.client_ip = "203.0.113.7";
    fixture_run(&s);
    assert_true(fixture_has("RDNS_NOT_CONFIRMED"));
    assert_false(fixture_has("RDNS_NONE"));
    assert_null(rdns_confirmed_name(fixture_txn()));

    s.client_ip = "203.0.113.8";                        /* confirmed, but generic */
    fixture_run(&s);
    assert_true(fixture_has("RDNS_DYNAMIC"));
    assert_false(fixture_has("RDNS_NOT_CONFIRMED"));
    s.client_ip = "203.0.113.9";
    fixture_run(&s);
    assert_true(fixture_has("RDNS_DYNAMIC"));

    s.client_ip = "203.0.113.10";                       /* SERVFAIL: no verdict */
    fixture_run(&s);
    assert_false(fixture_has("RDNS_NONE"));
    assert_false(fixture_has("RDNS_NOT_CONFIRMED"));
}

static void test_dynamic_name_heuristic(void **state)
{
    (void)state;
    struct smtp_session unused = {0};
    (void)unused;
    struct ipaddr a;
    const char *const keywords[] = {"dsl", "pool", "dyn", "cable"};
    assert_true(ipaddr_parse("198.51.100.23", &a));
    assert_true(rdns_name_is_dynamic("c-198-51-100-23.hsd1.isp.test", &a, keywords, 4));
    assert_true(rdns_name_is_dynamic("23.100.51.198.in.isp.test", &a, keywords, 4));
    assert_true(rdns_name_is_dynamic("host-c6336417.isp.test", &a, keywords, 4));
    assert_true(rdns_name_is_dynamic("dsl.isp.test", &a, keywords, 4));
    assert_true(rdns_name_is_dynamic("cable-7.isp.test", &a, keywords, 4));
    assert_false(rdns_name_is_dynamic("mail.example.test", &a, keywords, 4));
    assert_false(rdns_name_is_dynamic("mx23.example.test", &a, keywords, 4));
    /* the registrable domain itself is not inspected: a provider named "cable" sends mail */
    assert_false(rdns_name_is_dynamic("mail.cable.test", &a, keywords, 4));
    assert_false(rdns_name_is_dynamic("smtp.dsl.co.uk", &a, keywords, 4));
}

static void test_dnsbl_codes(void **state)
{
    (void)state;
    struct smtp_session s = {.client_ip = "203.0.113.5", .helo = "mail.sender.test"};
    fixture_run(&s);
    assert_true(fixture_has("RBL_TEST_SBL"));
    assert_true(fixture_score_of("RBL_TEST_SBL") == 3.0);
    assert_false(fixture_has("RBL_TEST"));

    s.client_ip = "203.0.113.8";                        /* two codes: two symbols */
    fixture_run(&s);
    assert_true(fixture_has("RBL_TEST_SBL"));
    assert_true(fixture_has("RBL_TEST"));
    assert_true(fixture_score_of("RBL_TEST") == 1.5);

    s.client_ip = "203.0.113.9";                        /* 127.255.255.254: refused query */
    fixture_run(&s);
    assert_false(fixture_has("RBL_TEST"));
    assert_false(fixture_has("RBL_TEST_SBL"));

    s.client_ip = "203.0.113.10";                       /* an unlisted code: the zone's score */
    fixture_run(&s);
    assert_true(fixture_has("RBL_TEST"));
    assert_true(fixture_score_of("RBL_TEST") == 0.5);

    s.client_ip = "203.0.113.6";
    fixture_run(&s);
    assert_false(fixture_has("RBL_TEST"));
    assert_false(fixture_has("RBL_TEST_SBL"));

    s.client_ip = "2001:db8::5";                        /* IPv6 by nibbles */
    fixture_run(&s);
    assert_true(fixture_has("RBL_TEST_SBL"));
}

static void test_dnswl_negative(void **state)
{
    (void)state;
    struct smtp_session s = {.client_ip = "203.0.113.7"};
    fixture_run(&s);
    assert_true(fixture_has("DNSWL_TEST"));
    assert_true(fixture_score_of("DNSWL_TEST") == -2.0);
}

static void test_rhsbl_sender_and_from(void **state)
{
    (void)state;
    struct smtp_session s = {.client_ip = "203.0.113.6", .sender = "bounce@mail.spammer.test"};
    fixture_run(&s);
    assert_true(fixture_has("RHSBL_TEST"));
    s.sender = "alice@sender.test";
    fixture_run(&s);
    assert_false(fixture_has("RHSBL_TEST"));
    s.message = "From: Deals <deals@news.spammer.test>\nTo: bob@our.test\n\nx\n";
    fixture_run(&s);
    assert_true(fixture_has("RHSBL_TEST"));
    s.sender = "";                                      /* null sender, clean From */
    s.message = NULL;
    fixture_run(&s);
    assert_false(fixture_has("RHSBL_TEST"));
}

static void test_uribl_bitmask_and_cap(void **state)
{
    (void)state;
    struct smtp_session s = {.client_ip = "203.0.113.6",
        .message = "From: a@sender.test\nContent-Type: text/html\n\n"
                   "<a href=\"http://www.evil.test/x\">click</a> http://grey.test/y\n"};
    fixture_run(&s);
    assert_true(fixture_has("URIBL_BLACK"));
    assert_true(fixture_has("URIBL_GREY"));
    assert_true(fixture_score_of("URIBL_BLACK") == 4.0);

    s.message = "From: a@sender.test\n\nhttp://a.test/ http://b.test/ http://c.test/ http://www.evil.test/\n";
    fixture_run(&s);
    assert_false(fixture_has("URIBL_BLACK"));           /* the fourth domain: past the cap */
    s.message = "From: a@sender.test\n\nhttp://a.test/ http://www.a.test/ http://www.evil.test/\n";
    fixture_run(&s);
    assert_true(fixture_has("URIBL_BLACK"));            /* a.test counted once */
    s.message = "From: a@sender.test\n\nhttp://good.test/\n";
    fixture_run(&s);
    assert_false(fixture_has("URIBL_BLACK"));
    assert_false(fixture_has("URIBL_GREY"));
}

static void test_uribl_stops_after_a_timeout(void **state)
{
    (void)state;
    fixture_policy("spam: { rdns = false; dnslist_timeout = \"300ms\"; dnslists = (\n"
        "  { zone = \"uri.test\"; type = \"uri\"; symbol = \"URIBL_TEST\"; score = 4.0 } ) }\n");
    struct smtp_session s = {.client_ip = "203.0.113.6",
        .message = "From: a@sender.test\n\nhttp://slow.test/ http://a.test/ http://b.test/ http://www.evil.test/\n"};
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    fixture_run(&s);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    assert_false(fixture_has("URIBL_TEST"));            /* not asked after the timeout */
    assert_true(seconds < 1.5);
    s.message = "From: a@sender.test\n\nhttp://www.evil.test/ http://slow.test/\n";
    fixture_run(&s);
    assert_true(fixture_has("URIBL_TEST"));
}

/* Reverse DNS and the DNS lists of one connection are asked together: the server answers the
 * client's PTR and DNSBL names only while both are being asked (dnsserver.py, HOLD), so asked
 * one after the other, the first would time out. No clock is read. */
static void test_rdns_and_dnsbl_are_asked_together(void **state)
{
    (void)state;
    fixture_policy("spam: { dnslist_timeout = \"3s\"; dnslists = (\n"
        "  { zone = \"bl.test\"; type = \"ip\"; symbol = \"RBL_TEST\"; score = 3.0 } ) }\n");
    struct smtp_session s = {.client_ip = "203.0.113.22"};
    fixture_run(&s);
    assert_true(fixture_has("RBL_TEST"));
    assert_false(fixture_has("RDNS_NONE"));
    assert_string_equal(rdns_confirmed_name(fixture_txn()), "mail.together.test");
}

/* When reverse DNS and the DNS list both never answer, the connection waits out the timeout
 * (3 s) and neither adds anything. */
static void test_rdns_and_dnsbl_timeouts_add_nothing(void **state)
{
    (void)state;
    fixture_policy("spam: { dnslist_timeout = \"3s\"; dnslists = (\n"
        "  { zone = \"bl.test\"; type = \"ip\"; symbol = \"RBL_TEST\"; score = 3.0 } ) }\n");
    struct smtp_session s = {.client_ip = "203.0.113.20"};
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    fixture_run(&s);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    assert_false(fixture_has("RBL_TEST"));               /* a late list adds nothing */
    assert_false(fixture_has("RDNS_NONE"));              /* a failed lookup scores nothing */
    assert_true(seconds >= 2.9);                         /* it waited the timeout */
}

/* SPF's HELO and MAIL FROM identities are evaluated together: the server answers their two
 * records only while both are being asked (HOLD), so one after the other, the first would
 * time out and give a temperror. No clock is read. */
static void test_spf_helo_and_mailfrom_are_asked_together(void **state)
{
    (void)state;
    fixture_policy("spam: { rdns = false }\nspf: { budget = \"3s\" }\n");
    struct smtp_session s = {.client_ip = "203.0.113.23", .helo = "helo.together.test",
        .sender = "alice@sender.together.test"};
    fixture_run(&s);
    assert_true(fixture_has("SPF_HELO_PASS"));
    assert_true(fixture_has("SPF_PASS"));
}

/* When neither domain answers, both identities end in a temperror after spf.budget (3 s). */
static void test_spf_helo_and_mailfrom_timeouts_are_temperrors(void **state)
{
    (void)state;
    fixture_policy("spam: { rdns = false }\nspf: { budget = \"3s\" }\n"
        "symbols: { SPF_HELO_TEMPERROR: { action = \"score\" }; SPF_TEMPERROR: { action = \"score\" } }\n");
    struct smtp_session s = {.client_ip = "203.0.113.21", .helo = "slowhelo.test",
        .sender = "alice@slowsender.test"};
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    fixture_run(&s);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    assert_true(fixture_has("SPF_HELO_TEMPERROR"));
    assert_true(fixture_has("SPF_TEMPERROR"));
    assert_true(seconds >= 2.9);                         /* it waited the budget */
}

/* DNS queries started so far (mailwarden_dns_queries_total). */
static unsigned long long dns_queries_so_far(void)
{
    struct textbuf out;
    textbuf_init(&out);
    stats_format(&out);
    const char *line = strstr(out.data, "\nmailwarden_dns_queries_total ");
    assert_non_null(line);
    unsigned long long n = strtoull(line + strlen("\nmailwarden_dns_queries_total "), NULL, 10);
    textbuf_free(&out);
    return n;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    return (double)(end.tv_sec - start->tv_sec) + (double)(end.tv_nsec - start->tv_nsec) / 1e9;
}

/* Every lookup of this session never answers: reverse DNS at connect, SPF of HELO and MAIL
 * FROM at MAIL FROM, a DKIM key at the end of the headers, the From domain's DMARC record at
 * the end of the message. */
#define SLOW_SIGNATURE \
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=slowkey.test;\n" \
    " i=@slowkey.test; q=dns/txt; s=sel; t=1796236456; h=from : to :\n" \
    " subject; bh=hikbH7pXGPhKeWBUl6VOlZkFi9Jd1nTDjR4nu8UhjMM=;\n" \
    " b=WIr1dVGhzzdv8da1z/XWNUGv1OIWVijfMghQQLsBJWrAZMaS7DZ6Mh7mYsusWxjMTjTav\n" \
    " UK2ci3fc5EMAy50+gGUxz0nrV1pnd5gLdSiQX7q+vgryo55/4W+kdGw8FaghCqiuEan9CCw\n" \
    " gU62gBCOXGCI2OYICqlUETKglQFW3ZlVB9jEB+Q4J+ODcvMFSCnOtAAX7uXXp/U0oZrczUz\n" \
    " X2WVt+b24cfD4I4vvH1RfnllvJMeRMZkkKmCQjsS/CjrWPx6MKc0akZ3YrfjdCI9JujNAJK\n" \
    " D5R0Nd89rkSu+6GqxtejIXH8PB0AqQ6OQl99wcS1fNgNTodSYnTAZ5IOZSSQ==\n"
#define EVERY_CHECK_3S \
    "spf: { budget = \"3s\" }\ndkim: { verify: { budget = \"3s\" } }\n" \
    "symbols: { SPF_HELO_TEMPERROR: { action = \"score\" }; SPF_TEMPERROR: { action = \"score\" } }\n"

/* The clean message, from alice@slowsender.test. */
static const char *slow_message(void)
{
    static char text[4096];
    const char *clean = fixture_clean_message(SLOW_SIGNATURE, NULL);
    const char *at = strstr(clean, "alice@sender.test");
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*salice@slowsender.test%s", (int)(at - clean), clean,
        at + strlen("alice@sender.test"));
    return text;
}

static struct smtp_session slow_session(void)
{
    struct smtp_session s = {.client_ip = "203.0.113.20", .helo = "slowhelo.test",
        .sender = "alice@slowsender.test", .message = slow_message()};
    return s;
}

/* What the checks concluded: the action, each symbol with its score, and our
 * Authentication-Results. */
static char *outcome(enum action action)
{
    struct textbuf out;
    textbuf_init(&out);
    textbuf_printf(&out, "action=%d", (int)action);
    struct txn *t = fixture_txn();
    for (size_t i = 0; i < t->result_count; i++)
        textbuf_printf(&out, " %s=%.2f", t->results[i].symbol, t->results[i].score);
    const char *ar = fixture_header_edit("Authentication-Results");
    textbuf_printf(&out, " | %s", ar != NULL ? ar : "(none)");
    return out.data;
}

/* The reverse DNS query used the whole message budget (1 s) at connect: SPF at MAIL FROM and
 * the DKIM key at the end of the headers send no query and wait for nothing (each would wait
 * 3 s before), and the message gets exactly what it gets when every lookup times out. */
static void test_spent_message_budget_asks_nothing_more(void **state)
{
    (void)state;
    struct smtp_session s = slow_session();
    /* the reference: a generous message budget, every check's own timeout spent */
    fixture_policy_dns("message_budget = \"30s\"", EVERY_CHECK_3S);
    unsigned long long before = dns_queries_so_far();
    char *timed_out = outcome(fixture_run(&s));
    /* PTR, 2 x SPF TXT, DKIM key, the DMARC tree walk's 2 TXT (slowsender.test, test) */
    assert_int_equal(dns_queries_so_far() - before, 6);

    fixture_policy_dns("message_budget = \"1s\"", EVERY_CHECK_3S);
    s.message = slow_message();
    before = dns_queries_so_far();
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char *budget_spent = outcome(fixture_run(&s));
    double seconds = seconds_since(&start);
    assert_int_equal(dns_queries_so_far() - before, 1);   /* the reverse DNS query only */
    assert_true(seconds >= 0.9);                           /* it waited the budget ... */
    assert_true(seconds < 2.9);                            /* ... and nothing after it */
    assert_true(fixture_has("SPF_HELO_TEMPERROR"));
    assert_true(fixture_has("SPF_TEMPERROR"));
    assert_false(fixture_has("RDNS_NONE"));
    assert_int_equal(dkim_result_count(fixture_txn()), 1);
    assert_int_equal(dkim_result_get(fixture_txn(), 0)->result, DKIM_RESULT_TEMPERROR);
    assert_non_null(strstr(budget_spent, "dkim=temperror"));
    assert_non_null(strstr(budget_spent, "spf=temperror"));
    assert_non_null(strstr(budget_spent, "dmarc=temperror header.from=slowsender.test"));
    assert_string_equal(budget_spent, timed_out);
    free(timed_out);
    free(budget_spent);
}

/* A wait that ran to the budget's deadline can be measured a millisecond or two short of it
 * (both clock readings are truncated to ms): what is left then answers no lookup, so the
 * budget is spent (and logged as such) rather than left with 3 ms. */
static void test_budget_with_less_than_5_ms_left_is_spent(void **state)
{
    (void)state;
    fixture_policy_dns("message_budget = \"1s\"", EVERY_CHECK_3S);
    struct txn *t = fixture_connection();
    txn_dns_budget_start(t);
    txn_dns_charge(t, dns_now_ms() - 997);
    assert_int_equal(txn_dns_budget_left_ms(t), 0);
    txn_dns_budget_start(t);
    txn_dns_charge(t, dns_now_ms() - 500);
    assert_true(txn_dns_budget_left_ms(t) >= 400 && txn_dns_budget_left_ms(t) <= 500);
}

/* The second message of a connection gets the whole budget again: the first message's MAIL
 * FROM, after a connect that spent the budget, asks nothing; the second one asks and waits
 * (1 s, the budget) for its sender's SPF record, and both end in a temperror. */
static void test_second_message_gets_a_fresh_budget(void **state)
{
    (void)state;
    fixture_policy_dns("message_budget = \"1s\"", EVERY_CHECK_3S);
    struct txn *t = fixture_connection();
    t->mta_hostname = xstrdup("mx.our.test");
    struct ipaddr addr;
    assert_true(ipaddr_parse("203.0.113.20", &addr));
    assert_int_equal(engine_connect(t, "[203.0.113.20]", &addr), ACTION_NONE);
    assert_int_equal(engine_helo(t, "203.0.113.20"), ACTION_NONE);   /* no HELO SPF check */

    unsigned long long before = dns_queries_so_far();
    assert_int_equal(engine_mail(t, config_current(), "QID1", "alice@slowsender.test", NULL, NULL),
        ACTION_NONE);
    assert_int_equal(dns_queries_so_far() - before, 0);
    assert_true(fixture_has("SPF_TEMPERROR"));

    before = dns_queries_so_far();
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(engine_mail(t, config_current(), "QID2", "bob@slowsender.test", NULL, NULL),
        ACTION_NONE);
    double seconds = seconds_since(&start);
    assert_true(dns_queries_so_far() - before >= 1);
    assert_true(seconds >= 0.9);
    assert_true(fixture_has("SPF_TEMPERROR"));
}

/* A HELO verdict that is a temperror because the first message spent the budget is not kept
 * for the connection: the second message, with the whole budget again, evaluates the HELO
 * anew and gets its real result (a verdict that is not a temperror is kept, as before). */
static void test_helo_temperror_is_not_kept_for_the_connection(void **state)
{
    (void)state;
    fixture_policy_dns("message_budget = \"1s\"", EVERY_CHECK_3S);
    struct txn *t = fixture_connection();
    t->mta_hostname = xstrdup("mx.our.test");
    struct ipaddr addr;
    assert_true(ipaddr_parse("203.0.113.20", &addr));
    assert_int_equal(engine_connect(t, "[203.0.113.20]", &addr), ACTION_NONE);
    assert_int_equal(engine_helo(t, "goodhelo.test"), ACTION_NONE);

    assert_int_equal(engine_mail(t, config_current(), "QID1", "alice@goodhelo.test", NULL, NULL),
        ACTION_NONE);
    assert_true(fixture_has("SPF_HELO_TEMPERROR"));
    txn_reset(t);

    unsigned long long before = dns_queries_so_far();
    assert_int_equal(engine_mail(t, config_current(), "QID2", "bob@goodhelo.test", NULL, NULL),
        ACTION_NONE);
    assert_true(dns_queries_so_far() - before >= 1);
    assert_false(fixture_has("SPF_HELO_TEMPERROR"));
    assert_true(fixture_has("SPF_HELO_PASS"));
    assert_true(fixture_has("SPF_PASS"));
    txn_reset(t);

    /* the third message is told the kept pass */
    assert_int_equal(engine_mail(t, config_current(), "QID3", "carol@goodhelo.test", NULL, NULL),
        ACTION_NONE);
    assert_true(fixture_has("SPF_HELO_PASS"));
}

/* An internal client gets no DNS list or reverse DNS check, and no query is even sent for
 * it: the client is classified before the connect stage's lookups start. */
static void test_lists_skip_internal_clients(void **state)
{
    (void)state;
    struct smtp_session s = {.client_ip = "10.0.0.5", .sender = "x@spammer.test",
        .message = "From: a@sender.test\n\nhttp://www.evil.test/\n"};
    unsigned long long before = dns_queries_so_far();
    fixture_run(&s);
    assert_int_equal(dns_queries_so_far() - before, 0);
    assert_false(fixture_has("RHSBL_TEST"));
    assert_false(fixture_has("URIBL_BLACK"));
    assert_false(fixture_has("RDNS_NONE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rdns_confirmed, setup),
        cmocka_unit_test_setup(test_rdns_missing_unconfirmed_dynamic, setup),
        cmocka_unit_test(test_dynamic_name_heuristic),
        cmocka_unit_test_setup(test_dnsbl_codes, setup),
        cmocka_unit_test_setup(test_dnswl_negative, setup),
        cmocka_unit_test_setup(test_rhsbl_sender_and_from, setup),
        cmocka_unit_test_setup(test_uribl_bitmask_and_cap, setup),
        cmocka_unit_test_setup(test_uribl_stops_after_a_timeout, setup),
        cmocka_unit_test_setup(test_lists_skip_internal_clients, setup),
        cmocka_unit_test_setup(test_rdns_and_dnsbl_are_asked_together, setup),
        cmocka_unit_test_setup(test_rdns_and_dnsbl_timeouts_add_nothing, setup),
        cmocka_unit_test_setup(test_spf_helo_and_mailfrom_are_asked_together, setup),
        cmocka_unit_test_setup(test_spf_helo_and_mailfrom_timeouts_are_temperrors, setup),
        cmocka_unit_test(test_spent_message_budget_asks_nothing_more),
        cmocka_unit_test(test_helo_temperror_is_not_kept_for_the_connection),
        cmocka_unit_test(test_budget_with_less_than_5_ms_left_is_spent),
        cmocka_unit_test(test_second_message_gets_a_fresh_budget),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
