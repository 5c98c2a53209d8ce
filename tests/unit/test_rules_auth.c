/* test_rules_auth.c - the list, authentication and network plugins' eval: tests (WLBLEval,
 * WelcomeListSubject, FreeMail, SPF, DKIM, DMARC, URIDNSBL, AskDNS, DNSEval), each hitting and
 * not hitting, on messages built here; the network ones with a table of answers in place of a
 * resolver. The list and FreeMail cases are the messages of SpamAssassin 4.0.1 runs
 * (`spamassassin -L -t` with the same directives): the rules named "SA:" hit there too, the
 * others did not. SPF, DKIM and DMARC are fed from our own results (rules_envelope): without
 * them nothing hits, as with SpamAssassin's -L. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "header.h"
#include "message_view.h"
#include "rules.h"
#include "rules_helpers.h"

struct msg {
    struct header_field headers[16];
    size_t header_count;
    struct message_view view;
    struct message_uri uris[8];
    const char *envelope_from;
    struct rules_envelope env;
    bool with_env;
};

static void header(struct msg *m, const char *name, const char *value)
{
    m->headers[m->header_count].name = (char *)name;
    m->headers[m->header_count].value = (char *)value;
    m->header_count++;
}

static void body(struct msg *m, const char *text)
{
    m->view.text = (char *)text;
    m->view.text_len = strlen(text);
    m->view.rawtext = (char *)text;
    m->view.rawtext_len = strlen(text);
}

static void uri(struct msg *m, const char *url, const char *host, const char *link_text)
{
    m->uris[m->view.uri_count] = (struct message_uri){ .url = (char *)url, .host = (char *)host,
        .link_text = (char *)link_text };
    m->view.uri_count++;
    m->view.uris = m->uris;
}

static struct rules_helper_hits run(const struct ruleset *rs, struct msg *m)
{
    struct rules_helper_hits h = { 0 };
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message rm = {
        .headers = m->headers, .header_count = m->header_count, .view = &m->view,
        .body = m->view.rawtext, .body_len = m->view.rawtext_len,
        .envelope_from = m->envelope_from, .envelope = m->with_env ? &m->env : NULL,
    };
    ruleset_eval(rs, &rm, &limits, rules_helper_collect, &h, NULL);
    return h;
}

/* SpamAssassin's message a.eml (tests/unit/test_rules_auth.c's comment at the top). */
static void message_a(struct msg *m)
{
    *m = (struct msg){ 0 };
    header(m, "Received", "from mail.sender.example (mail.sender.example [203.0.113.5])\n"
        "\tby mx.example.net (Postfix) with ESMTP id 1234\n"
        "\tfor <bob@example.net>; Thu, 3 Dec 2026 08:00:00 +0000 (UTC)");
    header(m, "From", "Alice <alice@gmail.com>");
    header(m, "Reply-To", "carol123@yahoo.com");
    header(m, "To", "bob@example.net");
    header(m, "Cc", "list@lists.example.com");
    header(m, "Subject", "Re: cheap pills for you");
    body(m, "Re: cheap pills for you Hi Bob, write to dave@hotmail.com please, and see "
        "http://www.example.org/x");
    uri(m, "http://www.example.org/x", "www.example.org", NULL);
}

/* ... and b.eml */
static void message_b(struct msg *m)
{
    *m = (struct msg){ 0 };
    header(m, "Received", "from mail.sender.example (mail.sender.example [203.0.113.5])\n"
        "\tby mx.example.net (Postfix) with ESMTP id 1234; Thu, 3 Dec 2026 08:00:00 +0000");
    header(m, "From", "Bank <service@paypal.com>");
    header(m, "Reply-To", "Helper <helper@scam.top>");
    header(m, "To", "Bob <bob@example.net>");
    header(m, "Subject", "account notice");
    body(m, "account notice Please visit http://sub.bad.example.com/login and "
        "http://good.bad.example.com/");
    uri(m, "http://sub.bad.example.com/login", "sub.bad.example.com", NULL);
    uri(m, "http://good.bad.example.com/", "good.bad.example.com", NULL);
}

static const char *const list_rules =
    "blocklist_from *@gmail.com\n"
    "welcomelist_to bob@example.net\n"
    "blocklist_to nobody@example.net\n"
    "more_spam_to list@lists.example.com\n"
    "all_spam_to none@example.com\n"
    "enlist_addrlist (MYLIST) alice@*\n"
    "enlist_addrlist (NOLIST) mallory@*\n"
    "enlist_addrlist (SCAM) *@scam.top\n"
    "welcomelist_subject *cheap pills*\n"
    "blocklist_subject nothing here\n"
    "enlist_uri_host (MYHOSTS) example.org\n"
    "enlist_uri_host (BADHOSTS) !good.bad.example.com bad.example.com\n"
    "header USER_IN_BLOCKLIST eval:check_from_in_blocklist()\n"
    "header USER_IN_WELCOMELIST eval:check_from_in_welcomelist()\n"
    "header USER_IN_BLOCKLIST_TO eval:check_to_in_blocklist()\n"
    "header USER_IN_WELCOMELIST_TO eval:check_to_in_welcomelist()\n"
    "header USER_IN_MORE_SPAM_TO eval:check_to_in_more_spam()\n"
    "header USER_IN_ALL_SPAM_TO eval:check_to_in_all_spam()\n"
    "header T_FROM_MYLIST eval:check_from_in_list('MYLIST')\n"
    "header T_FROM_NOLIST eval:check_from_in_list('NOLIST')\n"
    "header T_TO_MYLIST eval:check_to_in_list('MYLIST')\n"
    "header T_REPLYTO_SCAM eval:check_replyto_in_list('SCAM')\n"
    "header T_MYHOSTS eval:check_uri_host_listed('MYHOSTS')\n"
    "header T_BADHOSTS eval:check_uri_host_listed('BADHOSTS')\n"
    "header SUBJECT_IN_WELCOMELIST eval:check_subject_in_welcomelist()\n"
    "header SUBJECT_IN_BLOCKLIST eval:check_subject_in_blocklist()\n";

static void test_wlbl_lists_as_spamassassin(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(list_rules);
    assert_int_equal(ruleset_skipped(rs), 0);
    struct msg m;
    message_a(&m);
    struct rules_helper_hits h = run(rs, &m);
    /* SA: USER_IN_BLOCKLIST USER_IN_MORE_SPAM_TO USER_IN_WELCOMELIST_TO T_FROM_MYLIST
     * T_MYHOSTS SUBJECT_IN_WELCOMELIST */
    assert_true(rules_helper_has(&h, "USER_IN_BLOCKLIST"));
    assert_true(rules_helper_has(&h, "USER_IN_WELCOMELIST_TO"));
    assert_true(rules_helper_has(&h, "USER_IN_MORE_SPAM_TO"));
    assert_true(rules_helper_has(&h, "T_FROM_MYLIST"));
    assert_true(rules_helper_has(&h, "T_MYHOSTS"));
    assert_true(rules_helper_has(&h, "SUBJECT_IN_WELCOMELIST"));
    assert_false(rules_helper_has(&h, "USER_IN_WELCOMELIST"));
    assert_false(rules_helper_has(&h, "USER_IN_BLOCKLIST_TO"));
    assert_false(rules_helper_has(&h, "USER_IN_ALL_SPAM_TO"));
    assert_false(rules_helper_has(&h, "T_FROM_NOLIST"));
    assert_false(rules_helper_has(&h, "T_TO_MYLIST"));
    assert_false(rules_helper_has(&h, "T_REPLYTO_SCAM"));
    assert_false(rules_helper_has(&h, "T_BADHOSTS"));
    assert_false(rules_helper_has(&h, "SUBJECT_IN_BLOCKLIST"));

    message_b(&m);
    h = run(rs, &m);
    /* SA: USER_IN_WELCOMELIST_TO T_BADHOSTS (sub.bad.example.com; good. is excepted) */
    assert_true(rules_helper_has(&h, "USER_IN_WELCOMELIST_TO"));
    assert_true(rules_helper_has(&h, "T_BADHOSTS"));
    assert_true(rules_helper_has(&h, "T_REPLYTO_SCAM"));
    assert_false(rules_helper_has(&h, "USER_IN_BLOCKLIST"));
    assert_false(rules_helper_has(&h, "T_FROM_MYLIST"));
    assert_false(rules_helper_has(&h, "T_MYHOSTS"));
    assert_false(rules_helper_has(&h, "SUBJECT_IN_WELCOMELIST"));
    ruleset_free(rs);
}

static void test_wlbl_aliases_and_removals(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(
        "whitelist_from *@gmail.com\n"
        "blacklist_from alice@gmail.com\n"
        "unblacklist_from alice@gmail.com\n"
        "whitelist_to bob@example.net\n"
        "blacklist_uri_host example.org\n"
        "delist_uri_host example.org\n"
        "whitelist_subject re: cheap*\n"
        "header USER_IN_WHITELIST eval:check_from_in_whitelist()\n"
        "header USER_IN_BLACKLIST eval:check_from_in_blacklist()\n"
        "header USER_IN_WHITELIST_TO eval:check_to_in_whitelist()\n"
        "body URI_HOST_IN_BLACKLIST eval:check_uri_host_in_blacklist()\n"
        "header SUBJECT_IN_WHITELIST eval:check_subject_in_whitelist()\n");
    assert_int_equal(ruleset_skipped(rs), 0);
    struct msg m;
    message_a(&m);
    struct rules_helper_hits h = run(rs, &m);
    assert_true(rules_helper_has(&h, "USER_IN_WHITELIST"));
    assert_true(rules_helper_has(&h, "USER_IN_WHITELIST_TO"));
    assert_true(rules_helper_has(&h, "SUBJECT_IN_WHITELIST"));
    assert_false(rules_helper_has(&h, "USER_IN_BLACKLIST"));          /* removed again */
    assert_false(rules_helper_has(&h, "URI_HOST_IN_BLACKLIST"));      /* delisted */
    ruleset_free(rs);
}

static void test_welcomelist_from_rcvd_needs_relays(void **state)
{
    (void)state;
    /* SpamAssassin: an address listed with welcomelist_from_rcvd matches only when the relay
     * named matches; a message without parsed relays never matches and is never "forged" */
    struct ruleset *rs = rules_helper_load(
        "welcomelist_from_rcvd alice@gmail.com gmail.com\n"
        "header USER_IN_WELCOMELIST eval:check_from_in_welcomelist()\n"
        "header FORGED_IN_WELCOMELIST eval:check_forged_in_welcomelist()\n"
        "header USER_IN_DEF_WELCOMELIST eval:check_from_in_default_welcomelist()\n");
    struct msg m;
    message_a(&m);
    m.header_count = 0;
    header(&m, "From", "alice@gmail.com");
    struct rules_helper_hits h = run(rs, &m);
    assert_false(rules_helper_has(&h, "USER_IN_WELCOMELIST"));
    assert_false(rules_helper_has(&h, "FORGED_IN_WELCOMELIST"));
    assert_false(rules_helper_has(&h, "USER_IN_DEF_WELCOMELIST"));
    ruleset_free(rs);
}

static const char *const freemail_rules =
    "freemail_domains gmail.com yahoo.com hotmail.com *.freemail.example\n"
    "freemail_welcomelist helper@yahoo.com\n"
    "header __freemail_replyto eval:check_freemail_replyto('replyto')\n"
    "header __freemail_reply eval:check_freemail_replyto('reply')\n"
    "header FREEMAIL_FROM eval:check_freemail_from()\n"
    "header FREEMAIL_ENVFROM_END_DIGIT eval:check_freemail_header('EnvelopeFrom', '\\d@')\n"
    "header FREEMAIL_REPLYTO_END_DIGIT eval:check_freemail_header('Reply-To', '\\d@')\n"
    "header T_FM_BODY eval:check_freemail_body()\n"
    "header T_FM_CC eval:check_freemail_header('Cc')\n"
    "meta FREEMAIL_REPLYTO __freemail_replyto\n"
    "meta FREEMAIL_REPLY __freemail_reply && !__freemail_replyto\n";

static void test_freemail_as_spamassassin(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(freemail_rules);
    assert_int_equal(ruleset_skipped(rs), 0);
    struct msg m;
    message_a(&m);
    struct rules_helper_hits h = run(rs, &m);
    /* SA: FREEMAIL_FROM FREEMAIL_REPLYTO FREEMAIL_REPLYTO_END_DIGIT T_FM_BODY */
    assert_true(rules_helper_has(&h, "FREEMAIL_FROM"));
    assert_true(rules_helper_has(&h, "FREEMAIL_REPLYTO"));
    assert_true(rules_helper_has(&h, "FREEMAIL_REPLYTO_END_DIGIT"));
    assert_true(rules_helper_has(&h, "T_FM_BODY"));
    assert_false(rules_helper_has(&h, "FREEMAIL_REPLY"));
    assert_false(rules_helper_has(&h, "FREEMAIL_ENVFROM_END_DIGIT"));
    assert_false(rules_helper_has(&h, "T_FM_CC"));

    message_b(&m);
    h = run(rs, &m);
    assert_false(rules_helper_has(&h, "FREEMAIL_FROM"));
    assert_false(rules_helper_has(&h, "FREEMAIL_REPLYTO"));
    assert_false(rules_helper_has(&h, "T_FM_BODY"));
    ruleset_free(rs);
}

static void test_freemail_exceptions_wildcards_and_limits(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(freemail_rules);
    struct msg m = { 0 };
    header(&m, "From", "x9@mail.freemail.example");
    header(&m, "Reply-To", "helper@yahoo.com");          /* freemail_welcomelist */
    m.envelope_from = "abc7@gmail.com";
    body(&m, "hello");
    struct rules_helper_hits h = run(rs, &m);
    assert_true(rules_helper_has(&h, "FREEMAIL_FROM"));               /* * within one label */
    assert_true(rules_helper_has(&h, "FREEMAIL_ENVFROM_END_DIGIT"));
    assert_false(rules_helper_has(&h, "FREEMAIL_REPLYTO"));
    assert_false(rules_helper_has(&h, "FREEMAIL_REPLYTO_END_DIGIT"));

    m = (struct msg){ 0 };
    header(&m, "From", "x@a.b.freemail.example");        /* * does not cross a dot */
    body(&m, "write to a@gmail.com b@gmail.com c@gmail.com");    /* 3 freemails: over */
    h = run(rs, &m);
    assert_false(rules_helper_has(&h, "FREEMAIL_FROM"));
    assert_false(rules_helper_has(&h, "T_FM_BODY"));

    m = (struct msg){ 0 };
    header(&m, "From", "postmaster@gmail.com");          /* the plugin's own exceptions */
    body(&m, "write to a@gmail.com");
    h = run(rs, &m);
    assert_false(rules_helper_has(&h, "FREEMAIL_FROM"));
    assert_true(rules_helper_has(&h, "T_FM_BODY"));
    ruleset_free(rs);

    /* without freemail_domains the plugin is off */
    rs = rules_helper_load("header FREEMAIL_FROM eval:check_freemail_from()\n");
    m = (struct msg){ 0 };
    header(&m, "From", "a@gmail.com");
    h = run(rs, &m);
    assert_false(rules_helper_has(&h, "FREEMAIL_FROM"));
    ruleset_free(rs);
}

static const char *const spf_rules =
    "def_welcomelist_auth *@bank.example\n"
    "welcomelist_from_spf *@friend.example\n"
    "header SPF_PASS eval:check_for_spf_pass()\n"
    "header SPF_FAIL eval:check_for_spf_fail()\n"
    "header SPF_SOFTFAIL eval:check_for_spf_softfail()\n"
    "header SPF_NEUTRAL eval:check_for_spf_neutral()\n"
    "header SPF_NONE eval:check_for_spf_none()\n"
    "header T_SPF_PERMERROR eval:check_for_spf_permerror()\n"
    "header T_SPF_TEMPERROR eval:check_for_spf_temperror()\n"
    "header SPF_HELO_PASS eval:check_for_spf_helo_pass()\n"
    "header SPF_HELO_FAIL eval:check_for_spf_helo_fail()\n"
    "header SPF_HELO_NONE eval:check_for_spf_helo_none()\n"
    "header USER_IN_DEF_SPF_WL eval:check_for_def_spf_welcomelist_from()\n"
    "header USER_IN_SPF_WELCOMELIST eval:check_for_spf_welcomelist_from()\n";

static void test_spf_from_our_results(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(spf_rules);
    assert_int_equal(ruleset_skipped(rs), 0);
    struct msg m = { 0 };
    header(&m, "From", "news@bank.example");
    m.envelope_from = "bounce@bank.example";
    struct rules_helper_hits h = run(rs, &m);                         /* nothing known: as -L */
    assert_int_equal(h.n, 0);

    m.with_env = true;
    m.env.spf_mailfrom = "pass";
    m.env.spf_helo = "none";
    h = run(rs, &m);
    assert_true(rules_helper_has(&h, "SPF_PASS"));
    assert_true(rules_helper_has(&h, "SPF_HELO_NONE"));
    assert_true(rules_helper_has(&h, "USER_IN_DEF_SPF_WL"));
    assert_false(rules_helper_has(&h, "USER_IN_SPF_WELCOMELIST"));
    assert_false(rules_helper_has(&h, "SPF_FAIL"));
    assert_false(rules_helper_has(&h, "SPF_HELO_PASS"));

    const char *results[] = { "fail", "softfail", "neutral", "none", "permerror",
        "temperror" };
    const char *rules[] = { "SPF_FAIL", "SPF_SOFTFAIL", "SPF_NEUTRAL", "SPF_NONE",
        "T_SPF_PERMERROR", "T_SPF_TEMPERROR" };
    for (size_t i = 0; i < 6; i++) {
        m.env.spf_mailfrom = results[i];
        m.env.spf_helo = "fail";
        h = run(rs, &m);
        assert_true(rules_helper_has(&h, rules[i]));
        assert_true(rules_helper_has(&h, "SPF_HELO_FAIL"));
        assert_false(rules_helper_has(&h, "SPF_PASS"));
        assert_false(rules_helper_has(&h, "USER_IN_DEF_SPF_WL"));     /* needs SPF pass */
    }

    m.env.spf_mailfrom = "pass";
    m.envelope_from = "someone@friend.example";
    h = run(rs, &m);
    assert_true(rules_helper_has(&h, "USER_IN_SPF_WELCOMELIST"));
    assert_false(rules_helper_has(&h, "USER_IN_DEF_SPF_WL"));
    ruleset_free(rs);
}

static const char *const dkim_rules =
    "def_welcomelist_auth *@bank.example\n"
    "def_welcomelist_from_dkim *@shop.example esp.example\n"
    "welcomelist_from_dkim *@club.example .lists.example\n"
    "adsp_override paypal.com\n"
    "adsp_override *.ebay.example all\n"
    "full DKIM_SIGNED eval:check_dkim_signed()\n"
    "full DKIM_VALID eval:check_dkim_valid()\n"
    "full DKIM_VALID_AU eval:check_dkim_valid_author_sig()\n"
    "full DKIM_VALID_EF eval:check_dkim_valid_envelopefrom()\n"
    "full __DKIM_DEPENDABLE eval:check_dkim_dependable()\n"
    "full __RESIGNER2 eval:check_dkim_valid('googlegroups.com','yahoogroups.com')\n"
    "header DKIM_ADSP_DISCARD eval:check_dkim_adsp('D')\n"
    "header DKIM_ADSP_ALL eval:check_dkim_adsp('A')\n"
    "header USER_IN_DEF_DKIM_WL eval:check_for_def_dkim_welcomelist_from()\n"
    "header USER_IN_DKIM_WELCOMELIST eval:check_for_dkim_welcomelist_from()\n";

static void test_dkim_from_our_results(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(dkim_rules);
    assert_int_equal(ruleset_skipped(rs), 0);
    struct rules_dkim_sig sigs[2] = {
        { .domain = "bank.example", .identity = "@bank.example", .selector = "s1",
          .algorithm = "rsa-sha256", .pass = true, .key_bits = 2048 },
        { .domain = "googlegroups.com", .identity = "@googlegroups.com", .selector = "g",
          .algorithm = "rsa-sha256", .pass = false, .key_bits = 2048 },
    };
    struct msg m = { 0 };
    header(&m, "From", "news@bank.example");
    m.envelope_from = "bounce@bank.example";
    struct rules_helper_hits h = run(rs, &m);                         /* nothing known: as -L */
    assert_int_equal(h.n, 0);

    m.with_env = true;
    m.env.dkim_verified = true;
    m.env.dkim_dependable = true;
    m.env.dkim_sigs = sigs;
    m.env.dkim_sig_count = 2;
    h = run(rs, &m);
    assert_true(rules_helper_has(&h, "DKIM_SIGNED"));
    assert_true(rules_helper_has(&h, "DKIM_VALID"));
    assert_true(rules_helper_has(&h, "DKIM_VALID_AU"));
    assert_true(rules_helper_has(&h, "DKIM_VALID_EF"));
    assert_true(rules_helper_has(&h, "__DKIM_DEPENDABLE"));
    assert_true(rules_helper_has(&h, "USER_IN_DEF_DKIM_WL"));
    assert_false(rules_helper_has(&h, "__RESIGNER2"));                /* googlegroups' did not verify */
    assert_false(rules_helper_has(&h, "USER_IN_DKIM_WELCOMELIST"));

    sigs[1].pass = true;
    sigs[0].key_bits = 512;                              /* too weak for an author signature */
    h = run(rs, &m);
    assert_true(rules_helper_has(&h, "__RESIGNER2"));
    assert_false(rules_helper_has(&h, "DKIM_VALID_AU"));
    assert_false(rules_helper_has(&h, "USER_IN_DEF_DKIM_WL"));

    /* a third party's signature for an author it is listed for */
    m.header_count = 0;
    header(&m, "From", "orders@shop.example");
    sigs[0] = (struct rules_dkim_sig){ .domain = "esp.example", .identity = "@esp.example",
        .selector = "e", .pass = true, .key_bits = 1024 };
    h = run(rs, &m);
    assert_true(rules_helper_has(&h, "USER_IN_DEF_DKIM_WL"));
    assert_true(rules_helper_has(&h, "DKIM_VALID"));
    assert_false(rules_helper_has(&h, "DKIM_VALID_AU"));
    assert_false(rules_helper_has(&h, "DKIM_VALID_EF"));

    m.header_count = 0;
    header(&m, "From", "member@club.example");
    sigs[0].domain = "x.lists.example";
    sigs[0].identity = "@x.lists.example";
    h = run(rs, &m);
    assert_true(rules_helper_has(&h, "USER_IN_DKIM_WELCOMELIST"));
    assert_false(rules_helper_has(&h, "USER_IN_DEF_DKIM_WL"));
    ruleset_free(rs);
}

static void test_dkim_adsp_overrides(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(dkim_rules);
    struct msg m = { 0 };
    header(&m, "From", "service@paypal.com");
    m.with_env = true;
    m.env.dkim_verified = true;
    m.env.dkim_dependable = true;
    struct rules_helper_hits h = run(rs, &m);                         /* unsigned, ADSP discardable */
    assert_true(rules_helper_has(&h, "DKIM_ADSP_DISCARD"));
    assert_false(rules_helper_has(&h, "DKIM_ADSP_ALL"));
    assert_false(rules_helper_has(&h, "DKIM_SIGNED"));

    struct rules_dkim_sig sig = { .domain = "paypal.com", .identity = "@paypal.com",
        .selector = "p", .pass = true, .key_bits = 2048 };
    m.env.dkim_sigs = &sig;
    m.env.dkim_sig_count = 1;
    h = run(rs, &m);                                     /* a valid author signature */
    assert_false(rules_helper_has(&h, "DKIM_ADSP_DISCARD"));

    m.header_count = 0;
    header(&m, "From", "x@shop.ebay.example");
    m.env.dkim_sig_count = 0;
    h = run(rs, &m);
    assert_true(rules_helper_has(&h, "DKIM_ADSP_ALL"));
    assert_false(rules_helper_has(&h, "DKIM_ADSP_DISCARD"));

    m.with_env = false;                                  /* not verified: as -L */
    h = run(rs, &m);
    assert_false(rules_helper_has(&h, "DKIM_ADSP_ALL"));
    ruleset_free(rs);
}

static void test_dmarc_from_our_results(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(
        "header DMARC_PASS eval:check_dmarc_pass()\n"
        "header DMARC_REJECT eval:check_dmarc_reject()\n"
        "header DMARC_QUAR eval:check_dmarc_quarantine()\n"
        "header DMARC_NONE eval:check_dmarc_none()\n"
        "header DMARC_MISSING eval:check_dmarc_missing()\n");
    assert_int_equal(ruleset_skipped(rs), 0);
    struct msg m = { 0 };
    header(&m, "From", "a@example.com");
    struct rules_helper_hits h = run(rs, &m);
    assert_int_equal(h.n, 0);
    m.with_env = true;
    struct { const char *result, *policy, *rule; } cases[] = {
        { "pass", "reject", "DMARC_PASS" }, { "fail", "reject", "DMARC_REJECT" },
        { "fail", "quarantine", "DMARC_QUAR" }, { "fail", "none", "DMARC_NONE" },
        { "none", NULL, "DMARC_MISSING" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m.env.dmarc_result = cases[i].result;
        m.env.dmarc_policy = cases[i].policy;
        h = run(rs, &m);
        assert_int_equal(h.n, 1);
        assert_true(rules_helper_has(&h, cases[i].rule));
    }
    ruleset_free(rs);
}

/* ---- the network plugins with a table of answers instead of a resolver ---- */

struct fake_answer {
    const char *name;
    int type;
    enum rules_dns_status status;
    const char *records[3];
};

static const struct fake_answer fake_answers[] = {
    { "www.bad.test.dbl.test", 1, RULES_DNS_ANSWER, { "127.0.1.2" } },
    { "bad.test.multi.test", 1, RULES_DNS_ANSWER, { "127.0.0.10" } },
    { "good.test.multi.test", 1, RULES_DNS_NXDOMAIN, { NULL } },
    { "mail.bad.test", 1, RULES_DNS_ANSWER, { "192.0.2.77" } },
    { "77.2.0.192.zen.test", 1, RULES_DNS_ANSWER, { "127.0.0.2" } },
    { "news.test.fresh.test", 1, RULES_DNS_ANSWER, { "127.2.0.14" } },
    { "news.test.rhsbl.test", 1, RULES_DNS_ANSWER, { "127.0.0.2" } },
    { "spf.test", 16, RULES_DNS_ANSWER, { "v=spf1 +all" } },
    { "unsure.test.multi.test", 1, RULES_DNS_UNKNOWN, { NULL } },  /* a timeout */
    { "1a1zp1ep5qgefi2dmptftl5slmv7divfna.btc.test", 1, RULES_DNS_ANSWER, { "127.0.0.2" } },
    /* sha1("3j98t1wpez73cnmqviecrnyiwrnqrhwnly") */
    { "1c80efe4e3661183eae82e0cdb9cc7e325b0d957.btc.test", 1, RULES_DNS_ANSWER, { "127.0.0.2" } },
};

static size_t fake_lookups;

static enum rules_dns_status fake_lookup(void *arg, const char *name, int type,
    const char *const **records, size_t *count)
{
    (void)arg;
    fake_lookups++;
    for (size_t i = 0; i < sizeof fake_answers / sizeof fake_answers[0]; i++) {
        const struct fake_answer *a = &fake_answers[i];
        if (a->type != type || strcasecmp(a->name, name) != 0)
            continue;
        *records = a->records;
        for (*count = 0; a->records[*count] != NULL; (*count)++)
            ;
        return a->status;
    }
    return RULES_DNS_UNKNOWN;
}

static const struct rules_dns fake_dns = { fake_lookup, NULL };

static const char *const net_rules =
    "util_rb_tld test\n"     /* URI domains only under util_rb_tld, as SpamAssassin */
    "urirhssub T_DBL dbl.test. A 127.0.1.2\n"
    "body T_DBL eval:check_uridnsbl('T_DBL')\n"
    "tflags T_DBL net domains_only notrim\n"
    "urirhssub T_PH multi.test. A 8\n"
    "body T_PH eval:check_uridnsbl('T_PH')\n"
    "urirhssub T_MW multi.test. A 16\n"
    "body T_MW eval:check_uridnsbl('T_MW')\n"
    "uridnssub T_SBL_A zen.test. A 127.0.0.2\n"
    "body T_SBL_A eval:check_uridnsbl('T_SBL_A')\n"
    "tflags T_SBL_A net a\n"
    "uridnsbl_skip_domain skipped.test\n"
    "askdns T_NEWDOM _AUTHORDOMAIN_.fresh.test. A /^127\\.2\\.0\\.14$/\n"
    "askdns T_NEWDOM28 _AUTHORDOMAIN_.fresh.test. A 127.2.0.28\n"
    "askdns T_SPF_ALL _SENDERDOMAIN_ TXT /^v=spf1 \\+all$/\n"
    "header T_FROM_RHSBL eval:check_rbl_from_host('rhs', 'rhsbl.test.')\n"
    "header T_ENVFROM_RHSBL eval:check_rbl_envfrom('rhs', 'rhsbl.test.')\n"
    "header NO_DNS_FOR_FROM eval:check_dns_sender()\n"
    "body T_BTC eval:check_hashbl_bodyre('btc.test', 'raw/max=10/shuffle', "
        "'\\b([13][a-km-zA-HJ-NP-Z1-9]{25,34})\\b')\n"
    "body T_BTC_SHA1 eval:check_hashbl_bodyre('btc.test', 'sha1', '\\b(3[a-zA-Z0-9]{25,34})\\b')\n";

struct asked {
    char names[32][128];
    size_t n;
};

static void note_asked(const char *name, int type, void *arg)
{
    struct asked *a = arg;
    if (a->n < 32)
        snprintf(a->names[a->n++], sizeof a->names[0], "%d %s", type, name);
}

static bool was_asked(const struct asked *a, const char *what)
{
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->names[i], what) == 0)
            return true;
    }
    return false;
}

static void net_message(struct msg *m)
{
    *m = (struct msg){ 0 };
    header(m, "From", "a@news.test");
    m->envelope_from = "bounce@spf.test";
    body(m, "see http://www.bad.test/x http://www.skipped.test/ http://mail.bad.test/ and pay "
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa or 3J98t1WpEZ73CNmQviecrnyiwrnqRhWNLy");
    uri(m, "http://www.bad.test/x", "www.bad.test", NULL);
    uri(m, "http://www.skipped.test/", "www.skipped.test", NULL);
    uri(m, "http://mail.bad.test/", "mail.bad.test", NULL);
}

static void test_network_rules_list_their_queries(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(net_rules);
    assert_int_equal(ruleset_skipped(rs), 0);
    struct msg m;
    net_message(&m);
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message rm = { .headers = m.headers, .header_count = m.header_count,
        .view = &m.view, .envelope_from = m.envelope_from };
    struct asked a = { 0 };
    ruleset_dns_queries(rs, &rm, &limits, note_asked, &a);
    assert_true(was_asked(&a, "1 www.bad.test.dbl.test"));     /* notrim: the host */
    assert_true(was_asked(&a, "1 bad.test.multi.test"));       /* else the domain */
    assert_true(was_asked(&a, "1 mail.bad.test"));             /* tflags a: its address */
    assert_true(was_asked(&a, "1 news.test.fresh.test"));
    assert_true(was_asked(&a, "16 spf.test"));
    assert_true(was_asked(&a, "1 news.test.rhsbl.test"));
    assert_true(was_asked(&a, "1 1a1zp1ep5qgefi2dmptftl5slmv7divfna.btc.test"));
    assert_false(was_asked(&a, "1 skipped.test.multi.test")); /* uridnsbl_skip_domain */
    assert_false(was_asked(&a, "1 77.2.0.192.zen.test"));     /* not before the address */
    for (size_t i = 0; i < a.n; i++) {                        /* each once */
        for (size_t k = i + 1; k < a.n; k++)
            assert_string_not_equal(a.names[i], a.names[k]);
    }
    /* a second round with the answers so far asks the address's list */
    rm.dns = &fake_dns;
    a = (struct asked){ 0 };
    ruleset_dns_queries(rs, &rm, &limits, note_asked, &a);
    assert_true(was_asked(&a, "1 77.2.0.192.zen.test"));
    ruleset_free(rs);
}

static void test_network_rules_read_the_answers(void **state)
{
    (void)state;
    struct ruleset *rs = rules_helper_load(net_rules);
    struct msg m;
    net_message(&m);
    struct rules_helper_hits h = run(rs, &m);                  /* no resolver: as SpamAssassin -L */
    assert_int_equal(h.n, 0);

    struct rules_helper_hits got = { 0 };
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message rm = { .headers = m.headers, .header_count = m.header_count,
        .view = &m.view, .envelope_from = m.envelope_from, .dns = &fake_dns };
    fake_lookups = 0;
    ruleset_eval(rs, &rm, &limits, rules_helper_collect, &got, NULL);
    assert_true(fake_lookups > 0);
    assert_true(rules_helper_has(&got, "T_DBL"));
    assert_true(rules_helper_has(&got, "T_PH"));               /* 127.0.0.10 & 8 */
    assert_true(rules_helper_has(&got, "T_SBL_A"));
    assert_true(rules_helper_has(&got, "T_NEWDOM"));
    assert_true(rules_helper_has(&got, "T_SPF_ALL"));
    assert_true(rules_helper_has(&got, "T_FROM_RHSBL"));
    assert_true(rules_helper_has(&got, "T_BTC"));
    assert_true(rules_helper_has(&got, "T_BTC_SHA1"));           /* the value's sha1, lower case */
    assert_false(rules_helper_has(&got, "T_MW"));              /* 127.0.0.10 & 16 = 0 */
    assert_false(rules_helper_has(&got, "T_NEWDOM28"));
    assert_false(rules_helper_has(&got, "T_ENVFROM_RHSBL"));   /* spf.test is not listed */
    assert_false(rules_helper_has(&got, "NO_DNS_FOR_FROM"));

    /* a lookup that failed is read as nothing, as a timeout: never as listed */
    m.view.uri_count = 0;
    uri(&m, "http://unsure.test/", "unsure.test", NULL);
    got = (struct rules_helper_hits){ 0 };
    ruleset_eval(rs, &rm, &limits, rules_helper_collect, &got, NULL);
    assert_false(rules_helper_has(&got, "T_PH"));
    assert_false(rules_helper_has(&got, "T_MW"));
    m.view.text = (char *)"pay 1BoatSLRHtKNngkdXEeobR76b53LETtpyT";    /* not listed */
    m.view.text_len = strlen(m.view.text);
    got = (struct rules_helper_hits){ 0 };
    ruleset_eval(rs, &rm, &limits, rules_helper_collect, &got, NULL);
    assert_false(rules_helper_has(&got, "T_BTC"));
    ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wlbl_lists_as_spamassassin),
        cmocka_unit_test(test_wlbl_aliases_and_removals),
        cmocka_unit_test(test_welcomelist_from_rcvd_needs_relays),
        cmocka_unit_test(test_freemail_as_spamassassin),
        cmocka_unit_test(test_freemail_exceptions_wildcards_and_limits),
        cmocka_unit_test(test_spf_from_our_results),
        cmocka_unit_test(test_dkim_from_our_results),
        cmocka_unit_test(test_dkim_adsp_overrides),
        cmocka_unit_test(test_dmarc_from_our_results),
        cmocka_unit_test(test_network_rules_list_their_queries),
        cmocka_unit_test(test_network_rules_read_the_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
