/* test_rules_stock.c - the loader on Debian's stock SpamAssassin rules (package spamassassin,
 * /usr/share/spamassassin; MW_SA_RULES overrides): plausible counts loaded and skipped, known
 * eval and plugin rules skipped with their reason, known plain rules loaded, and the GTUBE and
 * other named rules hitting a message built by hand (and not its altered twin). Skipped by
 * name when the rules are not installed. mailwarden-check on real messages:
 * tests/rules/test-rules-stock.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "message_view.h"
#include "rules.h"
#include "rules_fixture.h"
#include "header.h"
#include "util.h"

static void test_counts(void **state)
{
    (void)state;
    struct ruleset *stock = rules_fixture_need_stock();
    size_t loaded = ruleset_loaded(stock), skipped = ruleset_skipped(stock);
    fprintf(stderr, "stock rules: %zu loaded, %zu skipped\n", loaded, skipped);
    assert_true(loaded > 1000);
    assert_true(skipped > 0);          /* network services, plugins SpamAssassin does not load */
    assert_true(skipped < loaded);
    /* none of the stock regexes is beyond PCRE2 */
    assert_true(ruleset_skipped_for(stock, "regex") < 10);
}

static void test_known_rules(void **state)
{
    (void)state;
    struct ruleset *stock = rules_fixture_need_stock();
    const char *loaded[] = { "GTUBE", "DEAR_FRIEND", "SUBJ_YOUR_FAMILY", "NORMAL_HTTP_TO_IP",
        "AC_BR_BONANZA", "URG_BIZ", "FROM_OFFERS", "TO_MALFORMED", "MILLION_USD",
        "__LOTSA_MONEY_00", "SUBJECT_FUZZY_MEDS" /* ReplaceTags */, "BAYES_99" /* eval_bayes.c */,
        /* native plugins: HeaderEval */
        "MISSING_HEADERS", "SUBJ_ALL_CAPS", "MSGID_OUTLOOK_INVALID", "SUSPICIOUS_RECIPS",
        /* MIMEEval, MIMEHeader, BodyEval */
        "MIME_HTML_ONLY", "MIME_QP_LONG_LINE", "PP_MIME_FAKE_ASCII_TEXT", "__ANY_IMAGE_ATTACH",
        "MPART_ALT_DIFF", "__KAM_BODY_LENGTH_LT_128",
        /* WLBLEval, FreeMail, SPF, DKIM, DNSEval, URIDNSBL, ... */
        "DKIM_VALID", "SPF_FAIL", "FREEMAIL_FROM", "USER_IN_DEF_SPF_WL", "USER_IN_WELCOMELIST",
        "SUBJECT_IN_BLOCKLIST", "__FROM_ADDRLIST_BANKS", "PDS_OTHER_BAD_TLD", "URIBL_BLACK",
        "RCVD_IN_DNSWL_HI", "__FROM_FMBLA_NEWDOM", "RCVD_IN_SBL",
        /* capture rules (rules_capture.c) and the DKIM plugin's ARC rules */
        "__GB_TO_ADDR", "T_GB_YOUTUBE_EMAIL", "T_GB_STORAGE_GOOGLE_EMAIL", "__GB_CUSTOM_HTM_URI0",
        "GB_CUSTOM_HTM_URI", "ARC_SIGNED", "ARC_VALID", "ARC_INVALID" };
    /* HTMLEval is ours: its rules load */
    assert_true(ruleset_has_rule(stock, "HTML_MESSAGE"));
    assert_true(ruleset_has_rule(stock, "HTML_FONT_LOW_CONTRAST"));
    for (size_t i = 0; i < sizeof loaded / sizeof loaded[0]; i++) {
        if (!ruleset_has_rule(stock, loaded[i]))
            fail_msg("%s not loaded: %s", loaded[i], ruleset_skip_reason(stock, loaded[i]));
    }
    /* eval: tests and rules of plugins: skipped with a reason, never loaded */
    /* network services we do not run, plugins SpamAssassin does not load either */
    const char *skipped[] = { "RAZOR2_CHECK", "PYZOR_CHECK", "GMD_PDF_HORIZ" };
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++) {
        if (ruleset_skip_reason(stock, skipped[i]) == NULL)
            fail_msg("%s is not reported as skipped", skipped[i]);
        assert_false(ruleset_has_rule(stock, skipped[i]));
    }
    /* the only false blocks left (besides plugins SpamAssassin does not load and network
     * services) are false in SpamAssassin too: "if !can(...compat_welcomelist_blocklist)"
     * (Debian's init.pre enables it) for the 11 old list names, "if !plugin(ReplaceTags)" */
    const char *false_block[] = { "USER_IN_WHITELIST", "USER_IN_BLACKLIST", "USER_IN_DEF_WHITELIST",
        "USER_IN_SPF_WHITELIST", "USER_IN_DKIM_WHITELIST", "USER_IN_BLACKLIST_TO",
        "USER_IN_WHITELIST_TO", "URI_HOST_IN_BLACKLIST", "URI_HOST_IN_WHITELIST",
        "SUBJECT_IN_WHITELIST", "SUBJECT_IN_BLACKLIST", "__BTC_OBFU_4" };
    size_t n_false = sizeof false_block / sizeof false_block[0];
    for (size_t i = 0; i < n_false; i++) {
        const char *why = ruleset_skip_reason(stock, false_block[i]);
        if (why == NULL || strncmp(why, "in a false if/ifplugin block", 28) != 0)
            fail_msg("%s: %s", false_block[i], why != NULL ? why : "loaded");
    }
    assert_int_equal(ruleset_skipped_for(stock, "in a false if/ifplugin block"), n_false);
}

struct found {
    bool gtube, dear_friend, family, ip_link;
    double score;
};

static void note(const struct rules_hit *hit, void *arg)
{
    struct found *f = arg;
    if (hit->subrule)
        return;
    f->score += hit->score;
    f->gtube |= strcmp(hit->name, "GTUBE") == 0;
    f->dear_friend |= strcmp(hit->name, "DEAR_FRIEND") == 0;
    f->family |= strcmp(hit->name, "SUBJ_YOUR_FAMILY") == 0;
    f->ip_link |= strcmp(hit->name, "NORMAL_HTTP_TO_IP") == 0;
}

static struct found run(const char *subject, const char *text, const char *url)
{
    struct header_field headers[] = {
        { .name = (char *)"From", .value = (char *)"Someone <someone@example.net>" },
        { .name = (char *)"To", .value = (char *)"rcpt@example.org" },
        { .name = (char *)"Subject", .value = (char *)subject },
    };
    struct message_uri uri = { .url = (char *)url };
    struct message_view view = {
        .text = (char *)text, .text_len = strlen(text),
        .rawtext = (char *)text, .rawtext_len = strlen(text),
        .uris = &uri, .uri_count = 1,
    };
    struct rules_message msg = { headers, 3, &view, text, strlen(text), "someone@example.net", NULL,
        NULL };
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct found f = {0};
    ruleset_eval(rules_fixture_stock(), &msg, &limits, note, &f, NULL);
    return f;
}

static void test_messages(void **state)
{
    (void)state;
    rules_fixture_need_stock();
    struct found f = run("Protect Your Family",
        "Protect Your Family\nDear Friend,\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n",
        "http://203.0.113.9/login");
    assert_true(f.gtube);
    assert_true(f.dear_friend);
    assert_true(f.family);
    assert_true(f.ip_link);
    assert_true(f.score >= 1000);
    f = run("Family reunion", "Family reunion\nDear friends,\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE\n",
        "https://www.example.org/");
    assert_false(f.gtube);
    assert_false(f.dear_friend);
    assert_false(f.family);
    assert_false(f.ip_link);
    assert_true(f.score < 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_known_rules),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, rules_fixture_load_stock, rules_fixture_free_stock);
}
