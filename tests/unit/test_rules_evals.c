/* test_rules_evals.c - the native stand-ins of SpamAssassin's HeaderEval, MIMEEval, MIMEHeader,
 * BodyEval, VBounce and ImageInfo plugins, each eval on small whole messages (parsed, decoded by
 * the real MIME path) that make it hit and that do not. Every message here was given to
 * SpamAssassin 4.0.1 (`spamassassin -L -t --cf='use_bayes 0'`, a meta rule over each subrule
 * to see it) and the expectations are what it reported; the rule lines are the stock ones of
 * /usr/share/spamassassin. */
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

/* A message parsed from its text: header fields (values as after "Name:", a leading blank
 * dropped, folding kept) and the body; the view built as the daemon builds it. */
struct parsed {
    struct header_field fields[64];
    size_t count;
    char *copy;
    const char *body;
    struct message_view *view;
};

static void parse(struct parsed *p, const char *text)
{
    memset(p, 0, sizeof *p);
    p->copy = xstrdup(text);
    char *line = p->copy;
    while (*line != '\0' && *line != '\n') {
        char *end = strchr(line, '\n');
        while (end != NULL && (end[1] == ' ' || end[1] == '\t'))
            end = strchr(end + 1, '\n');
        char *next = end != NULL ? end + 1 : line + strlen(line);
        if (end != NULL)
            *end = '\0';
        char *colon = strchr(line, ':');
        assert_non_null(colon);
        *colon = '\0';
        char *value = colon + 1;
        if (*value == ' ')
            value++;
        assert_true(p->count < 64);
        p->fields[p->count].name = line;
        p->fields[p->count].value = value;
        p->count++;
        line = next;
    }
    p->body = *line == '\n' ? line + 1 : line;
    struct message_source src = { .headers = p->fields, .header_count = p->count,
        .body = p->body, .body_len = strlen(p->body), .max_scan_bytes = 1 << 20 };
    p->view = message_view_build(&src);
}

static void parsed_free(struct parsed *p)
{
    message_view_free(p->view);
    free(p->copy);
}

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

static bool has(const struct hits *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->names[i], name) == 0)
            return true;
    }
    return false;
}

/* The rules (stock lines) run on a message with this envelope sender (NULL: none). */
static struct hits run_on(const char *rules, const char *message, const char *envelope_from)
{
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "test", rules, strlen(rules));
    ruleset_finish(rs);
    struct parsed p;
    parse(&p, message);
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message msg = { .headers = p.fields, .header_count = p.count, .view = p.view,
        .body = p.body, .body_len = strlen(p.body), .envelope_from = envelope_from };
    struct hits h = {0};
    ruleset_eval(rs, &msg, &limits, collect, &h, NULL);
    parsed_free(&p);
    ruleset_free(rs);
    return h;
}

/* Every rule given is loaded (none skipped). */
static void assert_all_loaded(const char *rules, const char *const *names)
{
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "test", rules, strlen(rules));
    ruleset_finish(rs);
    for (size_t i = 0; names[i] != NULL; i++) {
        if (!ruleset_has_rule(rs, names[i]))
            fail_msg("%s not loaded: %s", names[i], ruleset_skip_reason(rs, names[i]));
    }
    ruleset_free(rs);
}

#define RCVD "Received: from mail.example.org (mail.example.org [192.0.2.10])\n" \
    "\tby mx.example.net with ESMTP id abc123; Tue, 1 Dec 2026 10:00:00 +0000\n"

/* --- HeaderEval ----------------------------------------------------------------------------- */

static const char header_rules[] =
    "header SORTED_RECIPS eval:sorted_recipients()\n"
    "header SUSPICIOUS_RECIPS eval:similar_recipients('0.65','undef')\n"
    "header MISSING_HEADERS eval:check_for_missing_to_header()\n"
    "header UNRESOLVED_TEMPLATE eval:check_unresolved_template()\n"
    "header SUBJ_ALL_CAPS eval:subject_is_all_caps()\n"
    "header LOCALPART_IN_SUBJECT eval:check_for_to_in_subject('user')\n"
    "header MSGID_OUTLOOK_INVALID eval:check_outlook_message_id()\n"
    "header HEADER_COUNT_CTYPE eval:check_header_count_range('Content-Type','2','999')\n"
    "header RATWARE_EFROM eval:check_ratware_envelope_from()\n"
    "header FROM_ILLEGAL_CHARS eval:check_illegal_chars('From','0.20','2')\n"
    "header __SUBJ_ILLEGAL_CHARS eval:check_illegal_chars('Subject','0.00','2')\n"
    "header __HEAD_ILLEGAL_CHARS eval:check_illegal_chars('ALL','0.010','2')\n"
    "header CHARSET_FARAWAY_HEADER eval:check_for_faraway_charset_in_headers()\n"
    "header __GATED_THROUGH_RCVD_REMOVER eval:gated_through_received_hdr_remover()\n"
    "header __RATWARE_NAME_ID eval:check_ratware_name_id()\n"
    "header __ENV_AND_HDR_FROM_MATCH eval:check_for_matching_env_and_hdr_from()\n"
    "header HEADER_FROM_DIFFERENT_DOMAINS eval:check_equal_from_domains()\n";

static void test_headereval_loaded(void **state)
{
    (void)state;
    static const char *const names[] = { "SORTED_RECIPS", "SUSPICIOUS_RECIPS",
        "MISSING_HEADERS", "UNRESOLVED_TEMPLATE", "SUBJ_ALL_CAPS", "LOCALPART_IN_SUBJECT",
        "MSGID_OUTLOOK_INVALID", "HEADER_COUNT_CTYPE", "RATWARE_EFROM", "FROM_ILLEGAL_CHARS",
        "__SUBJ_ILLEGAL_CHARS", "__HEAD_ILLEGAL_CHARS", "CHARSET_FARAWAY_HEADER",
        "__GATED_THROUGH_RCVD_REMOVER", "__RATWARE_NAME_ID", "__ENV_AND_HDR_FROM_MATCH",
        "HEADER_FROM_DIFFERENT_DOMAINS", NULL };
    assert_all_loaded(header_rules, names);
}

/* Seven sorted recipients sharing their first two letters; the local part opening the
 * Subject; an Outlook Message-ID whose time token is far from the Date; 8-bit bytes in the
 * Subject; an envelope sender in another domain than From. */
static void test_headereval_recipients_msgid_subject(void **state)
{
    (void)state;
    struct hits h = run_on(header_rules,
        RCVD
        "From: \"Bob\" <bob@sub.example.org>\n"
        "To: aa1@example.net, aa2@example.net, aa3@example.net, aa4@example.net,\n"
        " aa5@example.net, aa6@example.net, aa7@example.net\n"
        "Subject: aa1: hello there caf\xe9 \xe9t\xe9\n"
        "Date: Tue, 1 Dec 2026 10:00:00 +0000\n"
        "Message-ID: <0123456789ab$01234567$89abcdef@example.org>\n"
        "\n"
        "Hello there.\n", "bounce@mailer.other-domain.com");
    assert_true(has(&h, "SORTED_RECIPS"));
    assert_true(has(&h, "SUSPICIOUS_RECIPS"));
    assert_true(has(&h, "LOCALPART_IN_SUBJECT"));
    assert_true(has(&h, "MSGID_OUTLOOK_INVALID"));
    assert_true(has(&h, "__SUBJ_ILLEGAL_CHARS"));
    assert_true(has(&h, "HEADER_FROM_DIFFERENT_DOMAINS"));
    assert_false(has(&h, "MISSING_HEADERS"));
    assert_false(has(&h, "SUBJ_ALL_CAPS"));
    assert_false(has(&h, "__ENV_AND_HDR_FROM_MATCH"));
    assert_false(has(&h, "__GATED_THROUGH_RCVD_REMOVER"));

    /* the same recipients unsorted and unalike, an Outlook id matching its Date, a plain
     * Subject: none of these */
    h = run_on(header_rules,
        RCVD
        "From: \"Bob\" <bob@sub.example.org>\n"
        "To: zed@zeta.net, bob@beta.org, carl@gamma.com, ann@delta.net,\n"
        " yves@epsilon.de, mia@kappa.fr, olga@omega.ru\n"
        "Subject: hello there\n"
        "Date: Mon, 1 Jan 2018 12:00:00 +0000\n"
        "Message-ID: <000001d382f8$5bc6a580$1353f080@example.org>\n"
        "\n"
        "Hello there.\n", "bob@example.org");
    assert_false(has(&h, "SORTED_RECIPS"));
    assert_false(has(&h, "SUSPICIOUS_RECIPS"));
    assert_false(has(&h, "LOCALPART_IN_SUBJECT"));
    assert_false(has(&h, "MSGID_OUTLOOK_INVALID"));
    assert_false(has(&h, "__SUBJ_ILLEGAL_CHARS"));
    assert_false(has(&h, "__HEAD_ILLEGAL_CHARS"));
    assert_false(has(&h, "HEADER_FROM_DIFFERENT_DOMAINS"));
}

/* A Subject in capitals, an unresolved %TEMPLATE in a header, 8-bit bytes filling From, an
 * envelope sender <domain>.<user>@ of the recipient, two Content-Type fields. */
static void test_headereval_caps_template_ratware(void **state)
{
    (void)state;
    struct hits h = run_on(header_rules,
        RCVD
        "From: \xe9\xe9\xe9\xe9\xe9\xe9 <j@s.com>\n"
        "To: joe@example.net\n"
        "Subject: THIS IS A GREAT OFFER FOR YOU\n"
        "Date: Tue, 1 Dec 2026 10:00:00 +0000\n"
        "X-Mailer: %MAILER_NAME\n"
        "Content-Type: text/plain\n"
        "Content-Type: text/html\n"
        "\n"
        "Hello there.\n", "example.net.joe@spammer.example.com");
    assert_true(has(&h, "SUBJ_ALL_CAPS"));
    assert_true(has(&h, "UNRESOLVED_TEMPLATE"));
    assert_true(has(&h, "FROM_ILLEGAL_CHARS"));
    assert_true(has(&h, "__HEAD_ILLEGAL_CHARS"));
    assert_true(has(&h, "RATWARE_EFROM"));
    assert_true(has(&h, "HEADER_COUNT_CTYPE"));

    /* a one-word capital Subject, a template name in References (exempt), UTF-8 in From */
    h = run_on(header_rules,
        RCVD
        "From: J\xc3\xa9r\xc3\xb4me <j@s.com>\n"
        "To: joe@example.net\n"
        "Subject: RE: HELLOWORLD\n"
        "References: <%MSGID@example.net>\n"
        "Date: Tue, 1 Dec 2026 10:00:00 +0000\n"
        "\n"
        "Hello there.\n", "j@s.com");
    assert_false(has(&h, "SUBJ_ALL_CAPS"));
    assert_false(has(&h, "UNRESOLVED_TEMPLATE"));
    assert_false(has(&h, "FROM_ILLEGAL_CHARS"));
    assert_false(has(&h, "RATWARE_EFROM"));
    assert_false(has(&h, "HEADER_COUNT_CTYPE"));
    assert_true(has(&h, "__ENV_AND_HDR_FROM_MATCH"));
}

/* No To (nor Apparently-To), no Received line at all, a ratware Message-ID naming From. */
static void test_headereval_missing_headers(void **state)
{
    (void)state;
    struct hits h = run_on(header_rules,
        "From: \"Joe Q\" <joe@example.net>\n"
        "Subject: hello\n"
        "Message-ID: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@example.net>\n"
        "\n"
        "Hello there.\n", NULL);
    assert_true(has(&h, "MISSING_HEADERS"));
    assert_true(has(&h, "__GATED_THROUGH_RCVD_REMOVER"));
    assert_true(has(&h, "__RATWARE_NAME_ID"));
    h = run_on(header_rules,
        RCVD
        "From: \"Joe Q\" <joe@example.net>\n"
        "Apparently-To: ann@example.net\n"
        "Subject: hello\n"
        "Message-ID: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.ann@example.net>\n"
        "\n"
        "Hello there.\n", NULL);
    assert_false(has(&h, "MISSING_HEADERS"));
    assert_false(has(&h, "__GATED_THROUGH_RCVD_REMOVER"));
    assert_false(has(&h, "__RATWARE_NAME_ID"));
}

/* CHARSET_FARAWAY_HEADER: only with ok_locales narrower than "all" (the default). */
static void test_headereval_faraway_charset(void **state)
{
    (void)state;
    static const char message[] =
        RCVD
        "From: =?koi8-r?B?8NLJ18XU?= <a@example.ru>\n"
        "To: joe@example.net\n"
        "Subject: hello\n"
        "\n"
        "Hello there.\n";
    struct hits h = run_on(header_rules, message, NULL);
    assert_false(has(&h, "CHARSET_FARAWAY_HEADER"));
    char *rules = xasprintf("%sok_locales en\n", header_rules);
    h = run_on(rules, message, NULL);
    assert_true(has(&h, "CHARSET_FARAWAY_HEADER"));
    free(rules);
    rules = xasprintf("%sok_locales en ru\n", header_rules);
    h = run_on(rules, message, NULL);
    assert_false(has(&h, "CHARSET_FARAWAY_HEADER"));
    free(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headereval_loaded),
        cmocka_unit_test(test_headereval_recipients_msgid_subject),
        cmocka_unit_test(test_headereval_caps_template_ratware),
        cmocka_unit_test(test_headereval_missing_headers),
        cmocka_unit_test(test_headereval_faraway_charset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
