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
#include "rules_helpers.h"
#include "util.h"

/* A message parsed from its text (rules_helpers.h: values as after "Name:", a leading blank
 * dropped, folding kept) and the body; the view built as the daemon builds it. */
struct parsed {
    struct message_text text;
    struct message_view *view;
};

static void parse(struct parsed *p, const char *text)
{
    message_text_split(&p->text, text, strlen(text));
    assert_int_equal(p->text.lines_without_colon, 0);
    for (size_t i = 0; i < p->text.count; i++) {
        if (p->text.fields[i].value[0] == ' ')
            p->text.fields[i].value++;
    }
    struct message_source src = { .headers = p->text.fields, .header_count = p->text.count,
        .body = p->text.body, .body_len = p->text.body_len, .max_scan_bytes = 1 << 20 };
    p->view = message_view_build(&src);
}

static void parsed_free(struct parsed *p)
{
    message_view_free(p->view);
    message_text_free(&p->text);
}

/* The rules (stock lines) run on a message with this envelope sender (NULL: none). */
static struct rules_helper_hits run_on(const char *rules, const char *message, const char *envelope_from)
{
    struct ruleset *rs = rules_helper_load(rules);
    struct parsed p;
    parse(&p, message);
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message msg = { .headers = p.text.fields, .header_count = p.text.count,
        .view = p.view, .body = p.text.body, .body_len = p.text.body_len,
        .envelope_from = envelope_from };
    struct rules_helper_hits h = {0};
    ruleset_eval(rs, &msg, &limits, rules_helper_collect, &h, NULL);
    parsed_free(&p);
    ruleset_free(rs);
    return h;
}

/* Every rule given is loaded (none skipped). */
static void assert_all_loaded(const char *rules, const char *const *names)
{
    struct ruleset *rs = rules_helper_load(rules);
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
    struct rules_helper_hits h = run_on(header_rules,
        RCVD
        "From: \"Bob\" <bob@sub.example.org>\n"
        "To: aa1@example.net, aa2@example.net, aa3@example.net, aa4@example.net,\n"
        " aa5@example.net, aa6@example.net, aa7@example.net\n"
        "Subject: aa1: hello there caf\xe9 \xe9t\xe9\n"
        "Date: Tue, 1 Dec 2026 10:00:00 +0000\n"
        "Message-ID: <0123456789ab$01234567$89abcdef@example.org>\n"
        "\n"
        "Hello there.\n", "bounce@mailer.other-domain.com");
    assert_true(rules_helper_has(&h, "SORTED_RECIPS"));
    assert_true(rules_helper_has(&h, "SUSPICIOUS_RECIPS"));
    assert_true(rules_helper_has(&h, "LOCALPART_IN_SUBJECT"));
    assert_true(rules_helper_has(&h, "MSGID_OUTLOOK_INVALID"));
    assert_true(rules_helper_has(&h, "__SUBJ_ILLEGAL_CHARS"));
    assert_true(rules_helper_has(&h, "HEADER_FROM_DIFFERENT_DOMAINS"));
    assert_false(rules_helper_has(&h, "MISSING_HEADERS"));
    assert_false(rules_helper_has(&h, "SUBJ_ALL_CAPS"));
    assert_false(rules_helper_has(&h, "__ENV_AND_HDR_FROM_MATCH"));
    assert_false(rules_helper_has(&h, "__GATED_THROUGH_RCVD_REMOVER"));

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
    assert_false(rules_helper_has(&h, "SORTED_RECIPS"));
    assert_false(rules_helper_has(&h, "SUSPICIOUS_RECIPS"));
    assert_false(rules_helper_has(&h, "LOCALPART_IN_SUBJECT"));
    assert_false(rules_helper_has(&h, "MSGID_OUTLOOK_INVALID"));
    assert_false(rules_helper_has(&h, "__SUBJ_ILLEGAL_CHARS"));
    assert_false(rules_helper_has(&h, "__HEAD_ILLEGAL_CHARS"));
    assert_false(rules_helper_has(&h, "HEADER_FROM_DIFFERENT_DOMAINS"));
}

/* A Subject in capitals, an unresolved %TEMPLATE in a header, 8-bit bytes filling From, an
 * envelope sender <domain>.<user>@ of the recipient, two Content-Type fields. */
static void test_headereval_caps_template_ratware(void **state)
{
    (void)state;
    struct rules_helper_hits h = run_on(header_rules,
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
    assert_true(rules_helper_has(&h, "SUBJ_ALL_CAPS"));
    assert_true(rules_helper_has(&h, "UNRESOLVED_TEMPLATE"));
    assert_true(rules_helper_has(&h, "FROM_ILLEGAL_CHARS"));
    assert_true(rules_helper_has(&h, "__HEAD_ILLEGAL_CHARS"));
    assert_true(rules_helper_has(&h, "RATWARE_EFROM"));
    assert_true(rules_helper_has(&h, "HEADER_COUNT_CTYPE"));

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
    assert_false(rules_helper_has(&h, "SUBJ_ALL_CAPS"));
    assert_false(rules_helper_has(&h, "UNRESOLVED_TEMPLATE"));
    assert_false(rules_helper_has(&h, "FROM_ILLEGAL_CHARS"));
    assert_false(rules_helper_has(&h, "RATWARE_EFROM"));
    assert_false(rules_helper_has(&h, "HEADER_COUNT_CTYPE"));
    assert_true(rules_helper_has(&h, "__ENV_AND_HDR_FROM_MATCH"));
}

/* No To (nor Apparently-To), no Received line at all, a ratware Message-ID naming From. */
static void test_headereval_missing_headers(void **state)
{
    (void)state;
    struct rules_helper_hits h = run_on(header_rules,
        "From: \"Joe Q\" <joe@example.net>\n"
        "Subject: hello\n"
        "Message-ID: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@example.net>\n"
        "\n"
        "Hello there.\n", NULL);
    assert_true(rules_helper_has(&h, "MISSING_HEADERS"));
    assert_true(rules_helper_has(&h, "__GATED_THROUGH_RCVD_REMOVER"));
    assert_true(rules_helper_has(&h, "__RATWARE_NAME_ID"));
    h = run_on(header_rules,
        RCVD
        "From: \"Joe Q\" <joe@example.net>\n"
        "Apparently-To: ann@example.net\n"
        "Subject: hello\n"
        "Message-ID: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.ann@example.net>\n"
        "\n"
        "Hello there.\n", NULL);
    assert_false(rules_helper_has(&h, "MISSING_HEADERS"));
    assert_false(rules_helper_has(&h, "__GATED_THROUGH_RCVD_REMOVER"));
    assert_false(rules_helper_has(&h, "__RATWARE_NAME_ID"));
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
    struct rules_helper_hits h = run_on(header_rules, message, NULL);
    assert_false(rules_helper_has(&h, "CHARSET_FARAWAY_HEADER"));
    char *rules = xasprintf("%sok_locales en\n", header_rules);
    h = run_on(rules, message, NULL);
    assert_true(rules_helper_has(&h, "CHARSET_FARAWAY_HEADER"));
    free(rules);
    rules = xasprintf("%sok_locales en ru\n", header_rules);
    h = run_on(rules, message, NULL);
    assert_false(rules_helper_has(&h, "CHARSET_FARAWAY_HEADER"));
    free(rules);
}


/* --- MIMEHeader ----------------------------------------------------------------------------- */

#define MIME_HEAD RCVD \
    "From: bob@example.org\n" \
    "To: joe@example.net\n" \
    "Subject: files\n" \
    "Date: Tue, 1 Dec 2026 10:00:00 +0000\n" \
    "Message-ID: <abc@example.org>\n" \
    "MIME-Version: 1.0\n"

static const char mimeheader_rules[] =
    "mimeheader __CTYPE_ONETAB_GIF Content-Type:raw =~ /^image\\/gif;\\n\\tname=\\\".+?\\\"$/s\n"
    "mimeheader TVD_FW_GRAPHIC_NAME_LONG Content-Type =~ /\\bname=\"[a-z]{8,}\\.gif/\n"
    "mimeheader T_OBFU_PDF_ATTACH Content-Type =~ m,\\bapplication/octet-stream\\b.+\\.pdf\\b,i\n"
    "mimeheader __PDF_ATTACH_FN2 Content-Disposition =~ /=\"[^\"]+\\.pdf\"/i\n"
    "mimeheader __TVD_OUTLOOK_IMG Content-Id =~ /<image\\d+\\.(?:gif|jpe?g|png)\\@/\n"
    "mimeheader __TVD_MIME_ATT_TP Content-Type =~ /^text\\/plain/i\n"
    "mimeheader __ZIP_ATTACH_MT Content-Type =~ m,\\bapplication/(?:zip|x-(?:zip-)?compress(?:ed)?)\\b,i\n"
    "mimeheader __CTYPE_NULL Content-Type =~ /^\\s*;/\n";

static const char mixed_message[] =
    MIME_HEAD
    "Content-Type: multipart/mixed; boundary=\"XX\"\n"
    "\n"
    "preamble\n"
    "--XX\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Hello there.\n"
    "--XX\n"
    "Content-Type: image/gif;\n"
    "\tname=\"abcdefghij.gif\"\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-ID: <image001.gif@01D0>\n"
    "\n"
    "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=\n"
    "--XX\n"
    "Content-Type: application/octet-stream; name=\"invoice.pdf\"\n"
    "Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQK\n"
    "--XX--\n";

/* Each part's own header fields, decoded or :raw (the folding kept); the message's fields too. */
static void test_mimeheader_rules(void **state)
{
    (void)state;
    static const char *const names[] = { "__CTYPE_ONETAB_GIF", "TVD_FW_GRAPHIC_NAME_LONG",
        "T_OBFU_PDF_ATTACH", "__PDF_ATTACH_FN2", "__TVD_OUTLOOK_IMG", "__TVD_MIME_ATT_TP",
        "__ZIP_ATTACH_MT", "__CTYPE_NULL", NULL };
    assert_all_loaded(mimeheader_rules, names);
    struct rules_helper_hits h = run_on(mimeheader_rules, mixed_message, NULL);
    assert_true(rules_helper_has(&h, "__CTYPE_ONETAB_GIF"));
    assert_true(rules_helper_has(&h, "TVD_FW_GRAPHIC_NAME_LONG"));
    assert_true(rules_helper_has(&h, "T_OBFU_PDF_ATTACH"));
    assert_true(rules_helper_has(&h, "__PDF_ATTACH_FN2"));
    assert_true(rules_helper_has(&h, "__TVD_OUTLOOK_IMG"));
    assert_true(rules_helper_has(&h, "__TVD_MIME_ATT_TP"));
    assert_false(rules_helper_has(&h, "__ZIP_ATTACH_MT"));
    assert_false(rules_helper_has(&h, "__CTYPE_NULL"));
    /* a plain message: only its own Content-Type is looked at */
    h = run_on(mimeheader_rules, MIME_HEAD "Content-Type: text/plain\n\nHello.\n", NULL);
    assert_true(rules_helper_has(&h, "__TVD_MIME_ATT_TP"));
    assert_false(rules_helper_has(&h, "__CTYPE_ONETAB_GIF"));
    assert_false(rules_helper_has(&h, "T_OBFU_PDF_ATTACH"));
}

/* --- MIMEEval ------------------------------------------------------------------------------- */

static const char mimeeval_rules[] =
    "rawbody __MIME_BASE64 eval:check_for_mime('mime_base64_count')\n"
    "rawbody __MIME_QP eval:check_for_mime('mime_qp_count')\n"
    "rawbody MIME_BASE64_TEXT eval:check_for_mime('mime_base64_encoded_text')\n"
    "body MISSING_MIME_HB_SEP eval:check_msg_parse_flags('missing_mime_head_body_separator')\n"
    "body MIME_HTML_MOSTLY eval:check_mime_multipart_ratio('0.00','0.01')\n"
    "body MIME_HTML_ONLY eval:check_for_mime_html_only()\n"
    "rawbody MIME_QP_LONG_LINE eval:check_for_mime('mime_qp_long_line')\n"
    "body MIME_BAD_ISO_CHARSET eval:check_for_mime('mime_bad_iso_charset')\n"
    "body __MIME_ATTACHMENT eval:check_for_mime('mime_attachment')\n"
    "body MULTIPART_ALT_NON_TEXT eval:check_ma_non_text()\n"
    "body __UPPERCASE_75_100 eval:check_for_uppercase('75', '100')\n"
    "body __MIME_HTML eval:check_for_mime_html()\n"
    "body BASE64_LENGTH_78_79 eval:check_base64_length('78','79')\n"
    "body BASE64_LENGTH_79_INF eval:check_base64_length('79')\n"
    "body T_TVD_MIME_EPI eval:check_msg_parse_flags('mime_epilogue_exists')\n"
    "body T_TVD_MIME_NO_HEADERS eval:check_msg_parse_flags('missing_mime_headers')\n"
    "ifplugin Mail::SpamAssassin::Plugin::MIMEEval\n"
    "if can(Mail::SpamAssassin::Plugin::MIMEEval::has_check_for_ascii_text_illegal)\n"
    "  body PP_MIME_FAKE_ASCII_TEXT eval:check_for_ascii_text_illegal()\n"
    "endif\n"
    "if can(Mail::SpamAssassin::Plugin::MIMEEval::has_check_abundant_unicode_ratio)\n"
    "  body PP_TOO_MUCH_UNICODE05 eval:check_abundant_unicode_ratio(0.05)\n"
    "endif\n"
    "endif\n";

/* multipart/alternative: a tiny us-ascii text part with an 8-bit byte and unicode entities, a
 * large quoted-printable HTML part with a long line, an image beside them; an epilogue. */
static void test_mimeeval_alternative(void **state)
{
    (void)state;
    struct textbuf m;
    textbuf_init(&m);
    textbuf_puts(&m, MIME_HEAD "Content-Type: multipart/alternative; boundary=\"AA\"\n\n"
        "--AA\nContent-Type: text/plain; charset=us-ascii\n\nhi \xe9 &#x0041;&#x0042;&#x0043;\n"
        "--AA\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        "<html><body>");
    for (int i = 0; i < 90; i++)
        textbuf_puts(&m, "x");
    textbuf_puts(&m, "=3D=3D\n");
    for (int i = 1; i <= 60; i++)
        textbuf_printf(&m, "<p>Some html paragraph number %d with words</p>\n", i);
    textbuf_puts(&m, "</body></html>\n--AA\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\n"
        "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=\n--AA--\nepilogue text here\n");
    struct rules_helper_hits h = run_on(mimeeval_rules, m.data, NULL);
    textbuf_free(&m);
    assert_true(rules_helper_has(&h, "MIME_HTML_MOSTLY"));
    assert_true(rules_helper_has(&h, "MIME_QP_LONG_LINE"));
    assert_true(rules_helper_has(&h, "MULTIPART_ALT_NON_TEXT"));
    assert_true(rules_helper_has(&h, "PP_MIME_FAKE_ASCII_TEXT"));
    assert_true(rules_helper_has(&h, "PP_TOO_MUCH_UNICODE05"));
    assert_true(rules_helper_has(&h, "T_TVD_MIME_EPI"));
    assert_true(rules_helper_has(&h, "__MIME_BASE64"));
    assert_true(rules_helper_has(&h, "__MIME_HTML"));
    assert_false(rules_helper_has(&h, "MIME_HTML_ONLY"));
    assert_false(rules_helper_has(&h, "__MIME_QP"));        /* "=3D", an escaped "=", is not counted */
}

/* multipart/mixed: base64 text without a charset in 78-byte lines, a part whose header runs
 * into its text, a bad ISO charset, a part without headers; text in capitals. */
static void test_mimeeval_mixed(void **state)
{
    (void)state;
    struct textbuf m;
    textbuf_init(&m);
    textbuf_puts(&m, MIME_HEAD "Content-Type: multipart/mixed; boundary=\"BB\"\n\n--BB\n"
        "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n");
    for (int line = 0; line < 6; line++) {
        for (int i = 0; i < 78; i++)
            textbuf_puts(&m, "Q");
        textbuf_puts(&m, "\n");
    }
    textbuf_puts(&m, "--BB\nContent-Type: text/plain; charset=\"iso-1234-5\"\n\nsome text\n");
    textbuf_puts(&m, "--BB\nno headers here\n--BB--\n");
    struct rules_helper_hits h = run_on(mimeeval_rules, m.data, NULL);
    textbuf_free(&m);
    assert_true(rules_helper_has(&h, "MIME_BASE64_TEXT"));
    assert_true(rules_helper_has(&h, "BASE64_LENGTH_78_79"));
    assert_true(rules_helper_has(&h, "BASE64_LENGTH_79_INF"));
    assert_true(rules_helper_has(&h, "MIME_BAD_ISO_CHARSET"));
    assert_true(rules_helper_has(&h, "T_TVD_MIME_NO_HEADERS"));
    assert_true(rules_helper_has(&h, "MISSING_MIME_HB_SEP"));     /* "no headers here" */
    assert_false(rules_helper_has(&h, "MIME_HTML_MOSTLY"));
    assert_false(rules_helper_has(&h, "T_TVD_MIME_EPI"));
    assert_false(rules_helper_has(&h, "MULTIPART_ALT_NON_TEXT"));

    /* a header running into the text; a body in capitals */
    textbuf_init(&m);
    textbuf_puts(&m, MIME_HEAD "Content-Type: multipart/mixed; boundary=\"CC\"\n\n--CC\n"
        "Content-Type: text/plain\nHELLO THERE\n--CC--\n");
    h = run_on(mimeeval_rules, m.data, NULL);
    textbuf_free(&m);
    assert_true(rules_helper_has(&h, "MISSING_MIME_HB_SEP"));
    assert_false(rules_helper_has(&h, "__UPPERCASE_75_100"));           /* under 200 characters */
    textbuf_init(&m);
    textbuf_puts(&m, MIME_HEAD "\n");
    for (int i = 0; i < 8; i++)
        textbuf_puts(&m, "THIS IS A VERY IMPORTANT MESSAGE FOR YOU TODAY. ");
    textbuf_puts(&m, "\n");
    h = run_on(mimeeval_rules, m.data, NULL);
    textbuf_free(&m);
    assert_true(rules_helper_has(&h, "__UPPERCASE_75_100"));
    assert_false(rules_helper_has(&h, "MISSING_MIME_HB_SEP"));
    assert_false(rules_helper_has(&h, "__MIME_BASE64"));
}

/* --- BodyEval ------------------------------------------------------------------------------- */

static const char bodyeval_rules[] =
    "body MPART_ALT_DIFF eval:multipart_alternative_difference('99', '100')\n"
    "body MPART_ALT_DIFF_COUNT eval:multipart_alternative_difference_count('3', '1')\n"
    "body BLANK_LINES_80_90 eval:check_blank_line_ratio('80','90','4')\n"
    "body __TVD_SPACE_RATIO eval:tvd_vertical_words('0','10')\n"
    "body TVD_STOCK1 eval:check_stock_info('2')\n"
    "if can(Mail::SpamAssassin::Plugin::BodyEval::has_check_body_length)\n"
    "  body __KAM_BODY_LENGTH_LT_128 eval:check_body_length('128')\n"
    "  body __KAM_BODY_LENGTH_LT_1024 eval:check_body_length('1024')\n"
    "endif\n";

#define ALTERNATIVE(text, html) MIME_HEAD \
    "Content-Type: multipart/alternative; boundary=\"AA\"\n\n--AA\nContent-Type: text/plain\n\n" \
    text "\n--AA\nContent-Type: text/html\n\n" html "\n--AA--\n"

/* The HTML's words missing from the text part; the text part far wordier than the HTML. */
/* Message.pm's bug 6845: a multipart message's body that starts with neither a blank line nor
 * the boundary gets a blank line on top, so a boundary that never comes leaves one text/plain
 * part with a separator: no missing separator, no MIME headers read from the body. */
static void test_multipart_body_gets_a_blank_line_on_top(void **state)
{
    (void)state;
    const char *rules =
        "body HB_SEP eval:check_msg_parse_flags('missing_mime_head_body_separator')\n"
        "body NONEMPTY /send the coins/\n";
    const char *msg =
        "From: a@example.com\n"
        "Subject: Fwd:\n"
        "Content-Type: multipart/alternative; boundary=\"declared-boundary\"\n"
        "\n"
        "--another-boundary\n"
        "Content-Type: text/plain; charset=\"UTF-8\"\n"
        "\n"
        "send the coins\n"
        "--another-boundary--\n";
    struct rules_helper_hits h = run_on(rules, msg, "");
    assert_false(rules_helper_has(&h, "HB_SEP"));
    assert_true(rules_helper_has(&h, "NONEMPTY"));
}

static void test_bodyeval_alternative(void **state)
{
    (void)state;
    struct rules_helper_hits h = run_on(bodyeval_rules, ALTERNATIVE("Hello world",
        "<html><body><p>Buy cheap watches now at our store today</p></body></html>"), NULL);
    assert_true(rules_helper_has(&h, "MPART_ALT_DIFF"));
    assert_false(rules_helper_has(&h, "MPART_ALT_DIFF_COUNT"));
    assert_true(rules_helper_has(&h, "__KAM_BODY_LENGTH_LT_1024"));
    assert_false(rules_helper_has(&h, "__KAM_BODY_LENGTH_LT_128"));
    h = run_on(bodyeval_rules, ALTERNATIVE(
        "one two three four five six seven eight nine ten eleven twelve",
        "<html><body><p>one two</p></body></html>"), NULL);
    assert_false(rules_helper_has(&h, "MPART_ALT_DIFF"));
    assert_true(rules_helper_has(&h, "MPART_ALT_DIFF_COUNT"));
}

/* Mostly blank lines, a spaced-out line, stock-tip fields; then a line without spaces. */
static void test_bodyeval_text(void **state)
{
    (void)state;
    struct rules_helper_hits h = run_on(bodyeval_rules,
        MIME_HEAD "\n\n\n\n\n\n\n\n\n\nH e l l o   w o r l d\n\n\n\n\n\n\n\n\n"
        "Symbol: ABCD\nTarget: 5 USD\nSector: mining\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", NULL);
    assert_true(rules_helper_has(&h, "BLANK_LINES_80_90"));
    assert_true(rules_helper_has(&h, "TVD_STOCK1"));
    assert_true(rules_helper_has(&h, "__KAM_BODY_LENGTH_LT_128"));
    assert_false(rules_helper_has(&h, "__TVD_SPACE_RATIO"));
    h = run_on(bodyeval_rules,
        MIME_HEAD "\nAveryveryverylonglinewithoutspacesatall hello\n", NULL);
    assert_true(rules_helper_has(&h, "__TVD_SPACE_RATIO"));
    assert_false(rules_helper_has(&h, "BLANK_LINES_80_90"));
    assert_false(rules_helper_has(&h, "TVD_STOCK1"));
    assert_false(rules_helper_has(&h, "MPART_ALT_DIFF"));
}

/* check_body_length counts the body as sent with each CRLF as LF: 12 lines of "abcdefghi\r\n"
 * are 132 bytes sent, 120 counted; a CR alone is counted. */
static void test_bodyeval_body_length_counts_crlf_as_lf(void **state)
{
    (void)state;
    struct rules_helper_hits h = run_on(bodyeval_rules, MIME_HEAD "\n"
        "abcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\n"
        "abcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\n", NULL);
    assert_true(rules_helper_has(&h, "__KAM_BODY_LENGTH_LT_128"));
    h = run_on(bodyeval_rules, MIME_HEAD "\n"
        "abcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\n"
        "abcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\nabcdefghi\r\n"
        "\r\r\r\r\r\r\r\r\r", NULL);
    assert_false(rules_helper_has(&h, "__KAM_BODY_LENGTH_LT_128"));
}

/* tvd_vertical_words measures the lines of SpamAssassin's body array as they are, each with
 * its "\n" (split(/^/m)): the Subject line "abcde\n" is 6 bytes, over 5, so it counts (value 0,
 * __TVD_SPACE_RATIO), "abcd\n" is not; "x y z w\n" is 3 spaces to 5 other bytes: 60, not 75.
 * A raw 8-bit Subject counts in UTF-8 bytes: Latin-1 "\xe9\xe9\xe9\xe9" is 8 bytes as UTF-8.
 * (The values are spamassassin -D eval's on the same messages.) */
static void test_tvd_vertical_words_counts_each_line_with_its_newline(void **state)
{
    (void)state;
    const char *rules =
        "body __TVD_SPACE_RATIO eval:tvd_vertical_words('0','10')\n"
        "body TVD_55_70 eval:tvd_vertical_words('55','70')\n"
        "body TVD_70_80 eval:tvd_vertical_words('70','80')\n";
#define TVD_HEAD RCVD "From: bob@example.org\nTo: joe@example.net\n" \
    "Message-ID: <1@example.org>\nDate: Tue, 1 Dec 2026 10:00:00 +0000\n"
    struct rules_helper_hits h = run_on(rules, TVD_HEAD "Subject: abcde\n\nx\n", NULL);
    assert_true(rules_helper_has(&h, "__TVD_SPACE_RATIO"));
    h = run_on(rules, TVD_HEAD "Subject: abcd\n\nx\n", NULL);
    assert_false(rules_helper_has(&h, "__TVD_SPACE_RATIO"));
    h = run_on(rules, TVD_HEAD "Subject: ab\n\nx y z w\n\nabcdefghijklmnopqrstu\n", NULL);
    assert_true(rules_helper_has(&h, "TVD_55_70"));
    assert_false(rules_helper_has(&h, "TVD_70_80"));
    assert_false(rules_helper_has(&h, "__TVD_SPACE_RATIO"));
    h = run_on(rules, TVD_HEAD "Subject: \xe9\xe9\xe9\xe9\n\nx\n", NULL);
    assert_true(rules_helper_has(&h, "__TVD_SPACE_RATIO"));
    h = run_on(rules, TVD_HEAD "Subject: \xc2\xa3" "600\n\ntest\n", NULL);
    assert_true(rules_helper_has(&h, "__TVD_SPACE_RATIO"));
#undef TVD_HEAD
    /* a view made without its line entries is split at each newline, kept */
    struct ruleset *rs = rules_helper_load(rules);
    struct message_view view = { .text = (char *)"ab\nx y z w\nend",
        .text_len = strlen("ab\nx y z w\nend") };
    struct rules_message msg = { .view = &view, .body = "", .body_len = 0, .envelope_from = "" };
    struct rules_limits limits;
    rules_limits_default(&limits);
    h = (struct rules_helper_hits){ 0 };
    ruleset_eval(rs, &msg, &limits, rules_helper_collect, &h, NULL);
    assert_true(rules_helper_has(&h, "TVD_55_70"));
    ruleset_free(rs);
}

/* --- ImageInfo ------------------------------------------------------------------------------ */

static const char imageinfo_rules[] =
    "rawbody __DC_IMG_HTML_RATIO eval:image_to_text_ratio('all', '0.000', '0.015')\n"
    "body __DC_IMG_TEXT_RATIO eval:image_to_text_ratio('all', '0.000', '0.008')\n"
    "body __GIF_ATTACH_1 eval:image_count('gif','1','1')\n"
    "body __GIF_ATTACH_2P eval:image_count('gif','2')\n"
    "body __PNG_ATTACH_1 eval:image_count('png','1','1')\n"
    "body __JPEG_ATTACH_1 eval:image_count('jpeg',1,1)\n"
    "body __GIF_AREA_180K eval:pixel_coverage('gif','180000','475000')\n"
    "body __PNG_AREA_180K eval:pixel_coverage('png','180000','475000')\n"
    "body __IMG_LE_300K eval:pixel_coverage('all',62500,300000)\n"
    "body __ONE_IMG eval:image_count('all',1,1)\n"
    "body GIF_600_400 eval:image_size_exact('gif',400,600)\n"
    "body BIG_PNG eval:image_size_range('png',400,400)\n";

/* 600x400 GIF, 500x500 PNG and 200x100 JPEG headers (the rest of each image left out: the
 * plugin reads only the header) */
#define GIF_600_400 "R0lGODlhWAKQAYAAAAAAAAAAACwAAAAAAQABAAACAkQBADs=\n"
#define PNG_500_500 "iVBORw0KGgoAAAANSUhEUgAAAfQAAAH0CAIAAABEtEjdAAAAAElFTkSuQmCC\n"
#define JPEG_200_100 "/9j/4AAQSkZJRgABAQAAAQABAAD/wAALCABkAMgBAREA/9k=\n"
#define IMAGE(type, name, data) "--ZZ\nContent-Type: " type "; name=\"" name "\"\n" \
    "Content-Transfer-Encoding: base64\n\n" data

static void test_imageinfo(void **state)
{
    (void)state;
    struct rules_helper_hits h = run_on(imageinfo_rules, MIME_HEAD
        "Content-Type: multipart/related; boundary=\"ZZ\"\n\n"
        "--ZZ\nContent-Type: text/html\n\n<html><body><img src=\"cid:a\">Hi</body></html>\n"
        IMAGE("image/gif", "a.gif", GIF_600_400) IMAGE("image/png", "b.png", PNG_500_500)
        IMAGE("image/jpeg", "c.jpg", JPEG_200_100) "--ZZ--\n", NULL);
    assert_true(rules_helper_has(&h, "__GIF_ATTACH_1"));
    assert_true(rules_helper_has(&h, "__PNG_ATTACH_1"));
    assert_true(rules_helper_has(&h, "__JPEG_ATTACH_1"));
    assert_true(rules_helper_has(&h, "__GIF_AREA_180K"));
    assert_true(rules_helper_has(&h, "__PNG_AREA_180K"));
    assert_true(rules_helper_has(&h, "__DC_IMG_HTML_RATIO"));
    assert_true(rules_helper_has(&h, "__DC_IMG_TEXT_RATIO"));
    assert_true(rules_helper_has(&h, "GIF_600_400"));
    assert_true(rules_helper_has(&h, "BIG_PNG"));
    assert_false(rules_helper_has(&h, "__ONE_IMG"));
    assert_false(rules_helper_has(&h, "__IMG_LE_300K"));        /* 510000 pixels */
    assert_false(rules_helper_has(&h, "__GIF_ATTACH_2P"));

    h = run_on(imageinfo_rules, MIME_HEAD "Content-Type: multipart/mixed; boundary=\"ZZ\"\n\n"
        "--ZZ\nContent-Type: text/plain\n\nHi there, the picture\n"
        IMAGE("image/gif", "a.gif", GIF_600_400) "--ZZ--\n", NULL);
    assert_true(rules_helper_has(&h, "__ONE_IMG"));
    assert_true(rules_helper_has(&h, "__IMG_LE_300K"));
    assert_false(rules_helper_has(&h, "__PNG_ATTACH_1"));
    assert_false(rules_helper_has(&h, "BIG_PNG"));
    /* no image at all */
    h = run_on(imageinfo_rules, MIME_HEAD "\nHello.\n", NULL);
    assert_false(rules_helper_has(&h, "__ONE_IMG"));
    assert_false(rules_helper_has(&h, "__DC_IMG_TEXT_RATIO"));
}

/* --- VBounce -------------------------------------------------------------------------------- */

static const char bounce_message[] =
    RCVD
    "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
    "To: joe@example.net\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Date: Tue, 1 Dec 2026 10:00:00 +0000\n"
    "Message-ID: <abc@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"RR\"\n\n"
    "--RR\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.net.\n"
    "--RR\nContent-Type: message/rfc822\n\n"
    "Received: from relay.mycompany.example (relay.mycompany.example [192.0.2.5])\n"
    "\tby mx.example.net with ESMTP id 123; Tue, 1 Dec 2026 09:00:00 +0000\n"
    "From: joe@mycompany.example\nTo: nobody@example.net\nSubject: hi\n\nhello\n--RR--\n";

static const char vbounce_rules[] =
    "ifplugin Mail::SpamAssassin::Plugin::VBounce\n"
    "  body __MY_SERVERS_FOUND eval:check_welcomelist_bounce_relays()\n"
    "  body __HAVE_BOUNCE_RELAYS eval:have_any_bounce_relays()\n"
    "  body OLD_NAME eval:check_whitelist_bounce_relays()\n"
    "endif\n";

/* A bounce quoting a Received line of our relay: found when the relay is listed (by glob),
 * not when another is. */
static void test_vbounce(void **state)
{
    (void)state;
    struct rules_helper_hits h = run_on(vbounce_rules, bounce_message, NULL);
    assert_false(rules_helper_has(&h, "__HAVE_BOUNCE_RELAYS"));
    assert_false(rules_helper_has(&h, "__MY_SERVERS_FOUND"));
    char *rules = xasprintf("%swelcomelist_bounce_relays relay*.mycompany.example\n",
        vbounce_rules);
    h = run_on(rules, bounce_message, NULL);
    free(rules);
    assert_true(rules_helper_has(&h, "__HAVE_BOUNCE_RELAYS"));
    assert_true(rules_helper_has(&h, "__MY_SERVERS_FOUND"));
    assert_true(rules_helper_has(&h, "OLD_NAME"));
    rules = xasprintf("%swhitelist_bounce_relays other.example\n", vbounce_rules);
    h = run_on(rules, bounce_message, NULL);
    free(rules);
    assert_true(rules_helper_has(&h, "__HAVE_BOUNCE_RELAYS"));
    assert_false(rules_helper_has(&h, "__MY_SERVERS_FOUND"));
}

/* --- hostile structure ------------------------------------------------------------------------ */

/* 200 nested multiparts and a multipart of 3000 parts: the tree stops at SpamAssassin's 20
 * levels and 1000 parts per multipart (flagged), every plugin still answers, quickly. */
static void test_mime_tree_hostile_bounded(void **state)
{
    (void)state;
    char *rules = xasprintf("%s%s%s%s"
        "body LIMIT_FLAG eval:check_msg_parse_flags('mimepart_limit_exceeded')\n"
        "body LIMIT_MIME eval:check_for_mime('mimepart_limit_exceeded')\n",
        mimeheader_rules, mimeeval_rules, bodyeval_rules, imageinfo_rules);
    struct textbuf m;
    textbuf_init(&m);
    textbuf_puts(&m, MIME_HEAD "Content-Type: multipart/mixed; boundary=\"b0\"\n\n");
    for (int i = 0; i < 200; i++)
        textbuf_printf(&m, "--b%d\nContent-Type: multipart/alternative; boundary=\"b%d\"\n\n", i, i + 1);
    textbuf_puts(&m, "--b200\nContent-Type: text/html\n\n<p>deep</p>\n");
    for (int i = 200; i >= 0; i--)
        textbuf_printf(&m, "--b%d--\n", i);
    struct rules_helper_hits h = run_on(rules, m.data, NULL);
    assert_false(rules_helper_has(&h, "LIMIT_FLAG"));
    textbuf_free(&m);

    textbuf_init(&m);
    textbuf_puts(&m, MIME_HEAD "Content-Type: multipart/mixed; boundary=\"W\"\n\n");
    for (int i = 0; i < 3000; i++)
        textbuf_puts(&m, "--W\nContent-Type: image/gif; name=\"x.gif\"\n"
            "Content-Transfer-Encoding: base64\n\n" GIF_600_400);
    textbuf_puts(&m, "--W--\n");
    h = run_on(rules, m.data, NULL);
    textbuf_free(&m);
    free(rules);
    assert_true(rules_helper_has(&h, "LIMIT_FLAG"));
    assert_false(rules_helper_has(&h, "LIMIT_MIME"));       /* never set where MIMEEval 4.0.1 looks */
    assert_true(rules_helper_has(&h, "__MIME_BASE64"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headereval_loaded),
        cmocka_unit_test(test_headereval_recipients_msgid_subject),
        cmocka_unit_test(test_headereval_caps_template_ratware),
        cmocka_unit_test(test_headereval_missing_headers),
        cmocka_unit_test(test_headereval_faraway_charset),
        cmocka_unit_test(test_mimeheader_rules),
        cmocka_unit_test(test_mimeeval_alternative),
        cmocka_unit_test(test_mimeeval_mixed),
        cmocka_unit_test(test_multipart_body_gets_a_blank_line_on_top),
        cmocka_unit_test(test_bodyeval_alternative),
        cmocka_unit_test(test_bodyeval_text),
        cmocka_unit_test(test_bodyeval_body_length_counts_crlf_as_lf),
        cmocka_unit_test(test_tvd_vertical_words_counts_each_line_with_its_newline),
        cmocka_unit_test(test_imageinfo),
        cmocka_unit_test(test_vbounce),
        cmocka_unit_test(test_mime_tree_hostile_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
