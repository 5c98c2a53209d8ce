/* test_message_view.c - the decoded message view (message_view.c) on crafted messages: charsets
 * and quoted-printable to UTF-8, encoded Subject first in the text, base64 HTML rendered to text
 * without markup or script, links with their visible text, bare URLs (trimmed, IP literals in
 * dotted, decimal and IPv6 form), parts with attachments and file names, broken base64 and
 * invalid UTF-8 flagged, the scan cap, and hostile input (deep nesting, 100 000 lines, NUL
 * bytes, no MIME at all) that must finish with bounded output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "config.h"
#include "message_view.h"
#include "rules_helpers.h"
#include "spam_config.h"
#include "txn.h"
#include "util.h"

static struct txn *t;

static int setup(void **state)
{
    (void)state;
    t = txn_new(config_defaults());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    txn_free(t);
    t = NULL;
    return 0;
}

/* Feeds a whole message (headers, blank line, body; "\n" line ends) to the txn the way the
 * milter does: one call per unfolded header, the body with CRLF line ends. */
static void feed_len(const char *msg, size_t len)
{
    txn_reset(t);
    struct message_text m;
    message_text_split(&m, msg, len);
    for (size_t i = 0; i < m.count; i++) {
        const char *value = m.fields[i].value;
        while (*value == ' ')
            value++;
        txn_add_header(t, m.fields[i].name, value);
    }
    struct textbuf body;
    textbuf_init(&body);
    for (size_t i = 0; i < m.body_len; i++) {
        if (m.body[i] == '\n')
            textbuf_append(&body, "\r\n", 2);
        else
            textbuf_append(&body, m.body + i, 1);
    }
    txn_add_body(t, (const unsigned char *)body.data, body.len);
    textbuf_free(&body);
    message_text_free(&m);
}

static const struct message_view *view_of(const char *msg)
{
    feed_len(msg, strlen(msg));
    return message_view_get(t);
}

static const struct message_uri *find_uri(const struct message_view *v, const char *url)
{
    for (size_t i = 0; i < v->uri_count; i++) {
        if (strcmp(v->uris[i].url, url) == 0)
            return &v->uris[i];
    }
    return NULL;
}

/* --- decoding ------------------------------------------------------------------------------ */

static void test_qp_latin1_and_subject(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\n"
        "Subject: =?utf-8?B?R3LDvMOfZQ==?= again\n"
        "Content-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Caf=E9   au   lait=\n"
        " soft break\n");
    /* SpamAssassin's body: the Subject line, then the paragraph on one line; the final line
     * break is whitespace like any other */
    assert_string_equal(v->text, "Grüße again\nCafé au lait soft break ");
    assert_int_equal(v->line_count, 2);
    assert_non_null(strstr(v->rawtext, "Café   au   lait soft break"));
    assert_int_equal(v->part_count, 1);
    assert_string_equal(v->parts[0].content_type, "text/plain");
    assert_string_equal(v->parts[0].charset, "iso-8859-1");
    assert_false(v->parts[0].bad_encoding);
    assert_false(v->parts[0].is_attachment);
    assert_false(v->mime_error);
    assert_false(v->truncated);
    /* built once: the same view on the second call */
    assert_ptr_equal(message_view_get(t), v);
}

/* A multipart whose boundary never occurs is, to SpamAssassin, one text/plain part holding the
 * whole body (boundary lines included): its text is the message's body text, not nothing. */
static void test_multipart_without_its_boundary_is_one_text_part(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\n"
        "Subject: Fwd:\n"
        "Content-Type: multipart/alternative; boundary=\"declared-boundary\"\n"
        "\n"
        "--another-boundary\n"
        "Content-Type: text/plain; charset=\"UTF-8\"\n"
        "\n"
        "send the coins to this address\n"
        "--another-boundary--\n");
    assert_non_null(strstr(v->text, "send the coins to this address"));
    assert_non_null(strstr(v->rawtext, "--another-boundary"));
    assert_int_equal(v->part_count, 1);
    assert_string_equal(v->parts[0].content_type, "text/plain");
}

/* SpamAssassin's parse_content_type: a type starting with the word "text" (but text/html,
 * text/calendar, text/x-vcard) is text/plain, so its text is body text. */
static void test_text_types_read_as_text_plain(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\n"
        "Subject: camp\n"
        "Content-Type: text plain\n"
        "\n"
        "totally natural\n");
    assert_string_equal(v->parts[0].content_type, "text/plain");
    assert_non_null(strstr(v->text, "totally natural"));
    v = view_of(
        "From: a@example.com\n"
        "Subject: rich\n"
        "Content-Type: text/enriched\n"
        "\n"
        "rich words here\n");
    assert_string_equal(v->parts[0].content_type, "text/plain");
    assert_non_null(strstr(v->text, "rich words here"));
    v = view_of(
        "From: a@example.com\n"
        "Subject: cal\n"
        "Content-Type: text/calendar; method=REQUEST\n"
        "\n"
        "BEGIN:VCALENDAR\n");
    assert_string_equal(v->parts[0].content_type, "text/calendar");
    assert_null(strstr(v->text, "VCALENDAR"));
}

static void test_html_rendered_with_links(void **state)
{
    (void)state;
    /* base64 of the HTML below */
    const char *html =
        "<html><head><title>Hi</title><style>p{color:red}</style>"
        "<script>var secret='SCRIPTTEXT';</script></head><body>"
        "<p>Dear&nbsp;customer,</p><p>Please <a href=\"http://evil.example/login\">"
        "<b>www.paypal.com</b></a> now &amp; <a href='mailto:x@example.org'>mail us</a>.</p>"
        "<img src=\"http://img.example/pixel.gif\"></body></html>";
    gchar *b64 = g_base64_encode((const guchar *)html, strlen(html));
    char *msg = xasprintf("From: a@example.com\nSubject: hi\nMIME-Version: 1.0\n"
                          "Content-Type: text/html; charset=utf-8\n"
                          "Content-Transfer-Encoding: base64\n\n%s\n", b64);
    const struct message_view *v = view_of(msg);
    g_free(b64);
    free(msg);
    assert_null(strstr(v->text, "<"));
    assert_null(strstr(v->text, "SCRIPTTEXT"));
    assert_null(strstr(v->text, "color:red"));
    assert_non_null(strstr(v->text, "Dear customer,"));
    assert_non_null(strstr(v->text, "Please www.paypal.com now & mail us."));
    assert_non_null(strstr(v->rawtext, "<a href=\"http://evil.example/login\">"));
    const struct message_uri *u = find_uri(v, "http://evil.example/login");
    assert_non_null(u);
    assert_string_equal(u->host, "evil.example");
    assert_string_equal(u->link_text, "www.paypal.com");
    assert_false(u->host_is_ip);
    u = find_uri(v, "mailto:x@example.org");
    assert_non_null(u);
    assert_null(u->host);
    assert_string_equal(u->link_text, "mail us");
    u = find_uri(v, "http://img.example/pixel.gif");
    assert_non_null(u);
    assert_null(u->link_text);
    /* the visible text of the link is a bare URL of its own, with the scheme SpamAssassin adds */
    u = find_uri(v, "http://www.paypal.com");
    assert_non_null(u);
    assert_string_equal(u->host, "www.paypal.com");
    assert_false(v->parts[0].bad_encoding);
}

static void test_bare_urls(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\n\n"
        "See http://192.168.1.1/x, or (https://User:pw@Sub.Example.COM.:8080/p?q=1).\n"
        "Decimal http://3232235777/ and v6 http://[2001:db8::1]/a and www.shop.example!\n"
        "Not a URL: foowww.example.com nor http:// alone. Dup http://192.168.1.1/x\n");
    const struct message_uri *u = find_uri(v, "http://192.168.1.1/x");
    assert_non_null(u);
    assert_true(u->host_is_ip);
    assert_null(u->link_text);
    u = find_uri(v, "https://User:pw@Sub.Example.COM.:8080/p?q=1");
    assert_non_null(u);
    assert_string_equal(u->host, "sub.example.com");
    assert_false(u->host_is_ip);
    u = find_uri(v, "http://3232235777/");
    assert_non_null(u);
    assert_true(u->host_is_ip);
    /* SpamAssassin's text scan stops at '[': no IPv6 literal from text */
    assert_null(find_uri(v, "http://[2001:db8::1]/a"));
    u = find_uri(v, "http://www.shop.example");
    assert_non_null(u);
    assert_string_equal(u->host, "www.shop.example");
    assert_true(u->schemeless);
    assert_false(u->unlinked);
    /* a host name glued to a word is still a schemeless host name to SpamAssassin */
    u = find_uri(v, "http://foowww.example.com");
    assert_non_null(u);
    assert_true(u->unlinked);
    assert_int_equal(v->uri_count, 5);
}

/* The pattern runs only over the words that may hold a URI (view_uri.c): URIs next to an
 * escape sequence, two addresses in one word, a URI between two Unicode spaces (not a word
 * end to the word split, a \s to the pattern), after '<' and '|', with a port, and words with
 * dots that are no host name must come out as one run over the whole line gives them. */
static void test_bare_urls_at_word_edges(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\n"
        "Words\x1b(Bwww.esc.example and a@one.example,b@two.example"
        "\xe3\x80\x80http://ideo.example/p\xe3\x80\x80next.\n"
        "plain words only, ending in a dot. Then <host.example> and |pipe.example|x\n"
        "last\tftp.files.example:21/get end. e.g. 3.5 kg\n");
    assert_non_null(find_uri(v, "http://Bwww.esc.example"));
    assert_non_null(find_uri(v, "mailto:a@one.example"));
    assert_non_null(find_uri(v, "mailto:b@two.example"));
    assert_non_null(find_uri(v, "http://ideo.example/p"));
    assert_non_null(find_uri(v, "http://host.example"));
    assert_non_null(find_uri(v, "http://pipe.example"));
    const struct message_uri *u = find_uri(v, "ftp://ftp.files.example:21/get");
    assert_non_null(u);
    assert_string_equal(u->host, "ftp.files.example");
    assert_int_equal(v->uri_count, 7);
}

static void test_multipart_parts_and_attachments(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
        "preamble\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=inner\n\n"
        "--inner\nContent-Type: text/plain; charset=utf-8\n\nplain words\n"
        "--inner\nContent-Type: text/html\n\n<p>html words</p>\n"
        "--inner--\n"
        "--outer\n"
        "Content-Type: application/octet-stream; name=\"invoice.pdf.exe\"\n"
        "Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\n"
        "Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n"
        "--outer\n"
        "Content-Type: text/plain; name=\"notes.txt\"\n"
        "Content-Disposition: attachment; filename=\"notes.txt\"\n\nattached notes\n"
        "--outer--\n");
    assert_int_equal(v->part_count, 4);
    assert_string_equal(v->parts[0].content_type, "text/plain");
    assert_string_equal(v->parts[1].content_type, "text/html");
    assert_string_equal(v->parts[2].content_type, "application/octet-stream");
    assert_string_equal(v->parts[2].filename, "invoice.pdf.exe");
    assert_true(v->parts[2].is_attachment);
    assert_int_equal(v->parts[2].decoded_size, 33);
    assert_true(v->parts[3].is_attachment);
    assert_false(v->parts[0].is_attachment);
    assert_non_null(strstr(v->text, "plain words"));
    assert_non_null(strstr(v->text, "html words"));
    /* SpamAssassin renders every text/plain part into body, attachments too */
    assert_non_null(strstr(v->text, "attached notes"));
    assert_false(v->mime_error);
}

static void test_broken_base64_and_bad_utf8(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        "aGVsbG8g!!!d29ybGQ=\n"
        "--b\nContent-Type: text/plain; charset=utf-8\n\nbad \xC3\x28 byte \xFF end\n"
        "--b\nContent-Type: text/plain; charset=x-no-such-charset\n\nunknown\n"
        "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        "broken =ZZ escape\n"
        "--b\nContent-Type: text/plain; charset=utf-8\n\nclean\n"
        "--b--\n");
    assert_int_equal(v->part_count, 5);
    assert_true(v->parts[0].bad_encoding);
    assert_true(v->parts[1].bad_encoding);
    assert_true(v->parts[2].bad_encoding);
    assert_true(v->parts[3].bad_encoding);
    assert_false(v->parts[4].bad_encoding);
    assert_true(g_utf8_validate(v->text, (gssize)v->text_len, NULL));
    assert_true(g_utf8_validate(v->rawtext, (gssize)v->rawtext_len, NULL));
    assert_non_null(strstr(v->text, "bad \xEF\xBF\xBD( byte \xEF\xBF\xBD end"));
}

static void test_windows_1252_converted(void **state)
{
    (void)state;
    const struct message_view *v = view_of(
        "From: a@example.com\nContent-Type: text/plain; charset=windows-1252\n\n"
        "\x93quoted\x94 \x80" "5\n");
    /* no Subject: an empty first line */
    assert_string_equal(v->text, "\n\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC" "5 ");
    assert_false(v->parts[0].bad_encoding);
}

/* --- limits and hostile input -------------------------------------------------------------- */

static void test_scan_cap(void **state)
{
    (void)state;
    t->cfg->spam->max_scan_bytes = 4096;
    struct textbuf msg;
    textbuf_init(&msg);
    textbuf_puts(&msg, "From: a@example.com\n\n");
    for (int i = 0; i < 2000; i++)
        textbuf_puts(&msg, "word ");
    textbuf_puts(&msg, "\nhttp://after-the-cap.example/\n");
    const struct message_view *v = view_of(msg.data);
    textbuf_free(&msg);
    assert_true(v->truncated);
    assert_true(v->text_len <= 4096);
    assert_true(v->rawtext_len <= 4096);
    assert_null(find_uri(v, "http://after-the-cap.example/"));
}

static void test_deep_nesting_bounded(void **state)
{
    (void)state;
    enum { LEVELS = 3000 };
    struct textbuf msg;
    textbuf_init(&msg);
    textbuf_puts(&msg, "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n");
    for (int i = 1; i < LEVELS; i++)
        textbuf_printf(&msg, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i - 1, i);
    textbuf_printf(&msg, "--b%d\nContent-Type: text/plain\n\ndeep inside\n", LEVELS - 1);
    for (int i = LEVELS - 1; i >= 0; i--)
        textbuf_printf(&msg, "--b%d--\n", i);
    const struct message_view *v = view_of(msg.data);
    textbuf_free(&msg);
    assert_true(v->mime_error);
    assert_true(v->part_count <= 1);
}

static void test_many_lines_and_parts(void **state)
{
    (void)state;
    struct textbuf msg;
    textbuf_init(&msg);
    textbuf_puts(&msg, "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n");
    for (int i = 0; i < 2000; i++)
        textbuf_puts(&msg, "--b\nContent-Type: text/plain\n\nx\n");
    textbuf_puts(&msg, "--b\nContent-Type: text/plain\n\n");
    for (int i = 0; i < 100000; i++)
        textbuf_puts(&msg, "line http://a.example/\n");
    textbuf_puts(&msg, "--b--\n");
    t->cfg->spam->max_scan_bytes = 64 * 1024 * 1024;
    const struct message_view *v = view_of(msg.data);
    textbuf_free(&msg);
    assert_true(v->part_count <= 500);
    assert_true(v->truncated);
    assert_true(v->uri_count <= 1000);
}

static void test_nul_bytes_and_no_mime(void **state)
{
    (void)state;
    static const char msg[] = "From: a@example.com\nContent-Type: text/html\n\nA\0B<p>C\0D</p>\0\n";
    feed_len(msg, sizeof msg - 1);
    const struct message_view *v = message_view_get(t);
    assert_int_equal(strlen(v->text), v->text_len);
    assert_int_equal(strlen(v->rawtext), v->rawtext_len);

    v = view_of("this is not a header line at all\n\x01\x02\xFF\n\n--x\n");
    assert_int_equal(strlen(v->text), v->text_len);
    v = view_of("");
    assert_non_null(v->text);
    v = view_of("Content-Type: multipart/mixed\n\nno boundary given\n");
    assert_int_equal(strlen(v->text), v->text_len);
    v = view_of("Content-Type: text/html\n\n<a href=\"http://x.example/\"><a href='http://y.example/'>"
                "<div><table><tr><td><a href=\"\">deep</a>");
    assert_non_null(find_uri(v, "http://x.example/"));
    assert_non_null(find_uri(v, "http://y.example/"));
}

static void test_html_deep_tags(void **state)
{
    (void)state;
    struct textbuf msg;
    textbuf_init(&msg);
    textbuf_puts(&msg, "Content-Type: text/html\n\n");
    for (int i = 0; i < 20000; i++)
        textbuf_puts(&msg, "<div><span><a href=\"http://n.example/\">");
    textbuf_puts(&msg, "bottom");
    const struct message_view *v = view_of(msg.data);
    textbuf_free(&msg);
    assert_true(v->uri_count <= 1000);
    assert_true(v->text_len <= t->cfg->spam->max_scan_bytes);
}

static void test_view_freed_between_transactions(void **state)
{
    (void)state;
    const struct message_view *v = view_of("Subject: one\n\nfirst\n");
    assert_non_null(strstr(v->text, "first"));
    txn_reset(t);
    assert_null(t->view);
    v = view_of("Subject: two\n\nsecond\n");
    assert_null(strstr(v->text, "first"));
    assert_non_null(strstr(v->text, "second"));
}

/* message_view_render_html: one HTML part to text on its own, with the view's renderer, its
 * links and statistics freed (the ASan build's leak check sees what it leaves). */
static void test_render_html_alone(void **state)
{
    (void)state;
    const char *html = "<html><head><title>T</title><script>var s='SCRIPTTEXT';</script></head>"
                       "<body><p>Dear&nbsp;customer,</p><p>see <a href=\"http://x.example/\">"
                       "<b>here</b></a> &amp; <img src=\"http://img.example/p.gif\"></p></body></html>";
    size_t len = 0;
    char *text = message_view_render_html(html, strlen(html), &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    assert_null(strstr(text, "<"));
    assert_null(strstr(text, "SCRIPTTEXT"));
    assert_non_null(strstr(text, "Dear customer,"));
    assert_non_null(strstr(text, "see here &"));
    free(text);
    text = message_view_render_html("", 0, &len);
    assert_string_equal(text, "");
    assert_int_equal(len, 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_qp_latin1_and_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_rendered_with_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_urls_at_word_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart_parts_and_attachments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_base64_and_bad_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_windows_1252_converted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_lines_and_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes_and_no_mime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_deep_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_freed_between_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart_without_its_boundary_is_one_text_part,
            setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_types_read_as_text_plain, setup, teardown),
        cmocka_unit_test(test_render_html_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
