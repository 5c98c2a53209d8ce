/* test_rules_capture.c - SpamAssassin 4.0's capture rules (rules_capture.c): a named group
 * (?<NAME>...) of a rule that matched sets the tag NAME, a %{NAME} template in another rule's
 * regex matches the captured text literally (quoted), a rule whose tag was not captured does
 * not run (no hit, even written with !~), capture rules run before the rules that read their
 * tags whatever the file order, `if can(...feature_capture_rules)` is true, and a tag past
 * the limits matches any text (never less than SpamAssassin would hit). Each with and without
 * the Hyperscan prefilter. SpamAssassin's own tags known before the rules (SENDERDOMAIN,
 * AUTHORDOMAIN, the relay tags) fill templates too (rules_template_tags.c). */
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
#include "header.h"
#include "util.h"

/* The stock rules' use (72_active.cf): the To address captured, looked for in URIs. */
static const char stock_like[] =
    "if (version >= 4.000000)\n"
    "if can(Mail::SpamAssassin::Conf::feature_capture_rules)\n"
    "  uri    T_GB_YOUTUBE_EMAIL m|^https?://(?:www\\.)?youtube\\.com/attribution_link\\?.{20,256}/%{GB_TO_ADDR}|i\n"
    "  header __GB_TO_ADDR To:addr =~ /(?<GB_TO_ADDR>.*)/\n"
    "endif\n"
    "endif\n"
    /* a subject word captured and looked for in the body, and its absence */
    "body   WORD_IN_BODY /\\b%{SUBJ_WORD}\\b/\n"
    "header NO_WORD_IN_FROM From !~ /%{SUBJ_WORD}/\n"
    "header __SUBJ_WORD Subject =~ /^Order (?<SUBJ_WORD>\\S+)/\n"
    "header NOT_CAPTURED_TAG Subject =~ /%{NEVER_SET}/\n"
    "header __NEVER_SET X-Nothing =~ /(?<NEVER_SET>.+)/\n";

struct hits {
    bool youtube, word, no_word_from, never;
};

static void note(const struct rules_hit *hit, void *arg)
{
    struct hits *h = arg;
    h->youtube |= strcmp(hit->name, "T_GB_YOUTUBE_EMAIL") == 0;
    h->word |= strcmp(hit->name, "WORD_IN_BODY") == 0;
    h->no_word_from |= strcmp(hit->name, "NO_WORD_IN_FROM") == 0;
    h->never |= strcmp(hit->name, "NOT_CAPTURED_TAG") == 0;
}

static void note_reader(const struct rules_hit *hit, void *arg)
{
    if (strcmp(hit->name, "READER") == 0)
        *(bool *)arg = true;
}

static void note_long(const struct rules_hit *hit, void *arg)
{
    if (strcmp(hit->name, "LONG_READER") == 0)
        *(bool *)arg = true;
}

struct wanted_hit {
    const char *name;
    bool hit;
};

static void note_named(const struct rules_hit *hit, void *arg)
{
    struct wanted_hit *want = arg;
    if (strcmp(hit->name, want->name) == 0)
        want->hit = true;
}

static struct ruleset *load(const char *text)
{
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "capture.cf", text, strlen(text));
    ruleset_finish(rs);
    return rs;
}

static struct hits run(const struct ruleset *rs, bool prefilter, const char *to,
    const char *subject, const char *body, const char *url)
{
    struct header_field headers[] = {
        { .name = (char *)"From", .value = (char *)"Shop <shop@example.net>" },
        { .name = (char *)"To", .value = (char *)to },
        { .name = (char *)"Subject", .value = (char *)subject },
    };
    struct message_uri uri = { .url = (char *)url };
    struct message_view view = {
        .text = (char *)body, .text_len = strlen(body),
        .rawtext = (char *)body, .rawtext_len = strlen(body),
        .uris = &uri, .uri_count = url != NULL ? 1 : 0,
    };
    struct rules_message msg = { headers, 3, &view, body, strlen(body), "shop@example.net", NULL,
        NULL };
    struct rules_limits limits;
    rules_limits_default(&limits);
    limits.prefilter = prefilter;
    if (prefilter)
        ruleset_prefilter_wait(rs);
    struct hits h = { 0 };
    ruleset_eval(rs, &msg, &limits, note, &h, NULL);
    return h;
}

static void test_capture_rules_feature_is_on(void **state)
{
    (void)state;
    struct ruleset *rs = load(stock_like);
    assert_true(ruleset_has_rule(rs, "T_GB_YOUTUBE_EMAIL"));
    assert_true(ruleset_has_rule(rs, "__GB_TO_ADDR"));
    ruleset_free(rs);
}

static void test_captured_address_feeds_uri_rule(void **state)
{
    (void)state;
    struct ruleset *rs = load(stock_like);
    const char *url = "https://www.youtube.com/attribution_link?a=xxxxxxxxxxxxxxxxxxxxxxxx/victim@example.org";
    for (int pf = 0; pf <= 1; pf++) {
        struct hits h = run(rs, pf, "Victim <victim@example.org>", "Hello", "text\n", url);
        assert_true(h.youtube);
        /* another recipient: the captured value differs, no hit */
        h = run(rs, pf, "other@example.org", "Hello", "text\n", url);
        assert_false(h.youtube);
    }
    ruleset_free(rs);
}

static void test_no_capture_no_hit(void **state)
{
    (void)state;
    struct ruleset *rs = load(stock_like);
    for (int pf = 0; pf <= 1; pf++) {
        /* the subject does not capture: neither the =~ nor the !~ rule runs */
        struct hits h = run(rs, pf, "a@example.org", "Hello there", "Order 12345 shipped\n", NULL);
        assert_false(h.word);
        assert_false(h.no_word_from);
        /* captured: both run */
        h = run(rs, pf, "a@example.org", "Order 12345", "your 12345 shipped\n", NULL);
        assert_true(h.word);
        assert_true(h.no_word_from);
        /* a tag no message sets here: never runs, not even on literal text */
        h = run(rs, pf, "a@example.org", "%{NEVER_SET}", "x\n", NULL);
        assert_false(h.never);
    }
    ruleset_free(rs);
}

static void test_captured_metacharacters_match_literally(void **state)
{
    (void)state;
    struct ruleset *rs = load(stock_like);
    for (int pf = 0; pf <= 1; pf++) {
        /* "a.c" quoted: "abc" in the body must not match, "a.c" must */
        struct hits h = run(rs, pf, "x@example.org", "Order a.c", "see abc here\n", NULL);
        assert_false(h.word);
        h = run(rs, pf, "x@example.org", "Order a.c", "see a.c here\n", NULL);
        assert_true(h.word);
        /* a value that would be a broken or greedy regex: matched as text */
        h = run(rs, pf, "x@example.org", "Order (.*|[", "nothing like it\n", NULL);
        assert_false(h.word);
        h = run(rs, pf, "x@example.org", "Order x+(.*|[", "we got x+(.*|[ \n", NULL);
        assert_false(h.word);          /* \b after "[" needs a word character next: as Perl */
        h = run(rs, pf, "x@example.org", "Order x+(.*|[a", "we got x+(.*|[a yes\n", NULL);
        assert_true(h.word);
    }
    ruleset_free(rs);
}

static void test_capture_rules_run_first(void **state)
{
    (void)state;
    /* the reader comes first in the file, the capture rule after it: still a hit */
    struct ruleset *rs = load(
        "body READER /id=%{TICKET}/\n"
        "body __TICKET /ticket (?<TICKET>[0-9]+)/\n");
    const char *body = "ticket 42 opened\nlink id=42\n";
    struct header_field headers[] = { { .name = (char *)"Subject", .value = (char *)"x" } };
    struct message_view view = { .text = (char *)body, .text_len = strlen(body) };
    struct rules_message msg = { headers, 1, &view, body, strlen(body), NULL, NULL, NULL };
    struct rules_limits limits;
    rules_limits_default(&limits);
    bool reader = false;
    ruleset_eval(rs, &msg, &limits, note_reader, &reader, NULL);
    assert_true(reader);
    ruleset_free(rs);
}

/* tflags multiple: every value captured, each matched */
static void test_multiple_values(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "body __CODES /code (?<CODE>[A-Z]+)/\n"
        "tflags __CODES multiple\n"
        "header READER Subject =~ /^re: %{CODE}$/\n");
    const char *body = "code ABC\ncode DEF\n";
    bool reader = false;
    for (int i = 0; i < 2; i++) {
        const char *subject = i == 0 ? "re: ABC" : "re: DEF";
        struct header_field headers[] = { { .name = (char *)"Subject", .value = (char *)subject } };
        struct message_view view = { .text = (char *)body, .text_len = strlen(body) };
        struct rules_message msg = { headers, 1, &view, body, strlen(body), NULL, NULL, NULL };
        struct rules_limits limits;
        rules_limits_default(&limits);
        reader = false;
        ruleset_eval(rs, &msg, &limits, note_reader, &reader, NULL);
        assert_true(reader);
    }
    ruleset_free(rs);
}

/* Past the limits (17 values, or one of 2000 bytes) the tag matches any text: the reader hits
 * more, never less, and the work stays bounded. */
static void test_limits_never_make_cleaner(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "body __CODES /code (?<CODE>[A-Z]+)/\n"
        "tflags __CODES multiple\n"
        "header READER Subject =~ /^re: %{CODE}$/\n"
        "header __LONG X-Long =~ /(?<LONG>.+)/\n"
        "body LONG_READER /^%{LONG}$/\n");
    struct textbuf body;
    textbuf_init(&body);
    for (int i = 0; i < 17; i++)
        textbuf_printf(&body, "code %c%c\n", 'A' + i, 'A' + i);
    bool reader = false;
    struct header_field headers[] = { { .name = (char *)"Subject", .value = (char *)"re: ZZZ" } };
    struct message_view view = { .text = body.data, .text_len = body.len };
    struct rules_message msg = { headers, 1, &view, body.data, body.len, NULL, NULL, NULL };
    struct rules_limits limits;
    rules_limits_default(&limits);
    ruleset_eval(rs, &msg, &limits, note_reader, &reader, NULL);
    assert_true(reader);            /* "ZZZ" was not captured, but 17 values: any text */
    /* with 16 values the tag is exact: ZZZ does not match */
    textbuf_free(&body);
    textbuf_init(&body);
    for (int i = 0; i < 16; i++)
        textbuf_printf(&body, "code %c%c\n", 'A' + i, 'A' + i);
    view.text = body.data;
    view.text_len = body.len;
    msg.body = body.data;
    msg.body_len = body.len;
    reader = false;
    ruleset_eval(rs, &msg, &limits, note_reader, &reader, NULL);
    assert_false(reader);
    textbuf_free(&body);

    /* a 2000-byte value: the template stands for any text */
    char *long_value = xmalloc(2001);
    memset(long_value, 'q', 2000);
    long_value[2000] = '\0';
    struct header_field long_headers[] = { { .name = (char *)"X-Long", .value = long_value } };
    const char *text = "something else entirely\n";
    struct message_view v2 = { .text = (char *)text, .text_len = strlen(text) };
    struct rules_message m2 = { long_headers, 1, &v2, text, strlen(text), NULL, NULL, NULL };
    bool long_hit = false;
    ruleset_eval(rs, &m2, &limits, note_long, &long_hit, NULL);
    assert_true(long_hit);
    free(long_value);
    ruleset_free(rs);
}

/* A template of a tag no rule captures and mailwarden does not compute (SpamAssassin's SCORE,
 * which depends on the rules that ran before) is reported. */
static void test_uncaptured_template_skipped(void **state)
{
    (void)state;
    struct ruleset *rs = load("header USES_SCORE Subject =~ /%{SCORE}/\n");
    const char *why = ruleset_skip_reason(rs, "USES_SCORE");
    assert_non_null(why);
    assert_non_null(strstr(why, "no loaded rule captures"));
    ruleset_free(rs);
}

/* SpamAssassin fills a template from any tag (Check.pm's capture_rules_replace: get_tag_raw),
 * so the tags it knows before its rules run work without a capture rule: SENDERDOMAIN (the
 * envelope sender's domain), AUTHORDOMAIN (each From domain), the relay tags LASTEXTERNALIP,
 * LASTEXTERNALRDNS, LASTEXTERNALHELO, FIRSTTRUSTEDIP and RELAYS*; an empty one does not run. */
static bool hit_named(const struct ruleset *rs, const struct rules_message *msg, const char *name)
{
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct wanted_hit want = { name, false };
    ruleset_eval(rs, msg, &limits, note_named, &want, NULL);
    return want.hit;
}

static void test_builtin_template_tags(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "header SENDER_IN_SUBJ Subject =~ /about %{SENDERDOMAIN}\\b/\n"
        "body   AUTHOR_IN_BODY /visit %{AUTHORDOMAIN}/\n"
        "header LASTEXT_IN_X X-Origin =~ /^%{LASTEXTERNALIP}$/\n"
        "header HELO_IN_X X-Origin =~ /^%{LASTEXTERNALHELO}$/\n"
        "header TRUSTED_IN_X X-Origin =~ /%{FIRSTTRUSTEDIP}/\n"
        "header RELAYS_IN_X X-Relays !~ /%{RELAYSUNTRUSTED}/\n");
    assert_true(ruleset_has_rule(rs, "SENDER_IN_SUBJ"));
    assert_true(ruleset_has_rule(rs, "LASTEXT_IN_X"));
    struct header_field headers[] = {
        { .name = (char *)"Received", .value = (char *)"from helo.example.org (mail.example.org"
            " [192.0.2.10]) by mx.example.net with ESMTP id abc123; Tue, 1 Dec 2026 10:00:00 +0000" },
        { .name = (char *)"From", .value = (char *)"Shop <shop@Example.NET>" },
        { .name = (char *)"Subject", .value = (char *)"about sender.example.com today" },
        { .name = (char *)"X-Origin", .value = (char *)"192.0.2.10" },
    };
    const char *body = "Please visit example.net now\n";
    struct message_view view = { .text = (char *)body, .text_len = strlen(body),
        .rawtext = (char *)body, .rawtext_len = strlen(body) };
    struct rules_message msg = { headers, 4, &view, body, strlen(body),
        "bounce@Sender.Example.COM", NULL, NULL };
    assert_true(hit_named(rs, &msg, "SENDER_IN_SUBJ"));
    assert_true(hit_named(rs, &msg, "AUTHOR_IN_BODY"));
    assert_true(hit_named(rs, &msg, "LASTEXT_IN_X"));
    assert_true(hit_named(rs, &msg, "RELAYS_IN_X"));       /* no X-Relays field: !~ hits */
    assert_false(hit_named(rs, &msg, "TRUSTED_IN_X"));     /* no trusted relay: not run */
    headers[3].value = (char *)"helo.example.org";
    assert_true(hit_named(rs, &msg, "HELO_IN_X"));
    assert_false(hit_named(rs, &msg, "LASTEXT_IN_X"));
    msg.envelope_from = "";                                 /* the null sender: no domain */
    assert_false(hit_named(rs, &msg, "SENDER_IN_SUBJ"));
    ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_rules_feature_is_on),
        cmocka_unit_test(test_captured_address_feeds_uri_rule),
        cmocka_unit_test(test_no_capture_no_hit),
        cmocka_unit_test(test_captured_metacharacters_match_literally),
        cmocka_unit_test(test_capture_rules_run_first),
        cmocka_unit_test(test_multiple_values),
        cmocka_unit_test(test_limits_never_make_cleaner),
        cmocka_unit_test(test_uncaptured_template_skipped),
        cmocka_unit_test(test_builtin_template_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
