/* test_text_model.c - SpamAssassin's text model, end to end: a message file of
 * tests/unit/textmodel/ is parsed into the message view and its rule file run on it; the T_
 * rules that hit must be exactly the ones `spamassassin -L -t` reports on the same file
 * (tests/unit/textmodel/sa-check.sh prints them; the lists below are its output for
 * SpamAssassin 4.0.1). Also the view's lines themselves: paragraphs joined, the Subject
 * first, the URI list with canonical forms. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "message_view.h"
#include "rules.h"
#include "util.h"

struct loaded {
    struct header_field headers[64];
    size_t header_count;
    char *text;
    const char *body;
    struct message_view *view;
};

static char *read_data(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/unit/textmodel/%s", SRCDIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    struct textbuf buf;
    textbuf_init(&buf);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        textbuf_append(&buf, chunk, n);
    fclose(f);
    return buf.data;
}

/* Splits a message file into unfolded header fields and the body; builds the view. */
static void load_message(struct loaded *m, const char *name)
{
    memset(m, 0, sizeof *m);
    m->text = read_data(name);
    char *p = m->text;
    while (*p != '\0' && *p != '\n' && m->header_count < 64) {
        char *end = strchr(p, '\n');
        while (end != NULL && (end[1] == ' ' || end[1] == '\t'))
            end = strchr(end + 1, '\n');
        if (end == NULL)
            end = p + strlen(p);
        char *colon = memchr(p, ':', (size_t)(end - p));
        char *next = *end ? end + 1 : end;
        *end = '\0';
        if (colon != NULL) {
            *colon = '\0';
            char *value = colon + 1;
            while (*value == ' ')
                value++;
            m->headers[m->header_count].name = p;
            m->headers[m->header_count].value = value;
            m->header_count++;
        }
        p = next;
    }
    m->body = *p == '\n' ? p + 1 : p;
    struct message_source src = {
        .headers = m->headers, .header_count = m->header_count,
        .body = m->body, .body_len = strlen(m->body), .max_scan_bytes = 1024 * 1024,
    };
    m->view = message_view_build(&src);
}

static void free_message(struct loaded *m)
{
    message_view_free(m->view);
    free(m->text);
}

struct names {
    char list[4096];
};

static void collect(const struct rules_hit *hit, void *arg)
{
    struct names *n = arg;
    if (strncmp(hit->name, "T_", 2) != 0)
        return;
    size_t len = strlen(n->list);
    snprintf(n->list + len, sizeof n->list - len, "%s ", hit->name);
}

static int compare_words(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The T_ rules of NAME.cf hitting NAME.eml, sorted, each followed by a space. */
static char *hits_of(const char *name)
{
    char file[256];
    snprintf(file, sizeof file, "%s.cf", name);
    char *rules = read_data(file);
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, file, rules, strlen(rules));
    ruleset_finish(rs);
    free(rules);
    assert_int_equal(ruleset_skipped(rs), 0);
    struct loaded m;
    snprintf(file, sizeof file, "%s.eml", name);
    load_message(&m, file);
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct rules_message msg = {
        .headers = m.headers, .header_count = m.header_count, .view = m.view,
        .body = m.body, .body_len = strlen(m.body),
    };
    struct names n = {{0}};
    ruleset_eval(rs, &msg, &limits, collect, &n, NULL);
    ruleset_free(rs);
    free_message(&m);
    char *words[256];
    size_t count = 0;
    for (char *w = strtok(n.list, " "); w != NULL && count < 256; w = strtok(NULL, " "))
        words[count++] = w;
    qsort(words, count, sizeof *words, compare_words);
    struct textbuf out;
    textbuf_init(&out);
    for (size_t i = 0; i < count; i++)
        textbuf_printf(&out, "%s ", words[i]);
    if (out.data == NULL)
        textbuf_puts(&out, "");
    return out.data;
}

/* paragraphs.eml: a phrase wrapped across lines, rules anchored at line ends, the Subject
 * line, HTML with invisible text, a comment, script and style, a bare address, a www. URI, a
 * decimal IP host and a redirector. */
static void test_rules_hit_as_spamassassin(void **state)
{
    (void)state;
    char *hits = hits_of("paragraphs");
    assert_string_equal(hits, "T_ANCH T_ANCH2 T_ANCH3 T_FULL T_HID T_IP T_MAILTO T_NONE T_PARA2 "
                              "T_RAW1 T_SUBJ T_TARGET T_TIT T_WRAP T_WWW ");
    free(hits);
}

/* tflags.eml: multiple with maxhits=3 counts 3 of 6 matches across lines, maxhits alone
 * leaves a rule single, nosubject skips the Subject line, and learn / net do not stop a
 * body rule (SpamAssassin skips only eval rules for them). */
static void test_tflags_as_spamassassin(void **state)
{
    (void)state;
    char *hits = hits_of("tflags");
    assert_string_equal(hits, "T_CASH1_ONLY T_CASH3 T_LEARNED T_NETBODY T_SPLIT6 T_SUBJ_OK ");
    free(hits);
}

/* htmleval.eml: each HTMLEval test on a message that makes about half of them hit: low
 * contrast, an odd font face, a mailto: form, an unclosed <head>, extra closing tags, unknown
 * tags, an image with little text, a "saved from" comment, a long title, an iframe. */
static void test_htmleval_as_spamassassin(void **state)
{
    (void)state;
    char *hits = hits_of("htmleval");
    assert_string_equal(hits, "T_BADTAG T_BAL_HEAD T_COMMENT T_FACEBAD T_HTML_MSG T_IFRAME "
                              "T_IMGONLY T_IMGRATIO T_LEN_SMALL T_LOWCON T_MAILTOFORM T_NONEL "
                              "T_OBF T_RANGE_EXTRA T_RANGE_MAX T_TAG_BODY T_TITLE_RATIO ");
    free(hits);
}

/* urieval.eml: a link to one domain showing an https URL of another, a link to an IP showing
 * an https name, a redirector; urieval_clean.eml: the same links consistent. */
static void test_urieval_httpsmismatch_as_spamassassin(void **state)
{
    (void)state;
    char *hits = hits_of("urieval");
    assert_string_equal(hits, "T_HTTPS_HTTP T_HTTPS_IP T_REDIR ");
    free(hits);
    hits = hits_of("urieval_clean");
    assert_string_equal(hits, "");
    free(hits);
}

/* uridetail.eml: uri_detail criteria on each key (raw, type, cleaned, text, domain, host),
 * with =~ and !~, some met by one URI and some by none. */
static void test_uridetail_as_spamassassin(void **state)
{
    (void)state;
    char *hits = hits_of("uridetail");
    assert_string_equal(hits, "T_UD_DOMAIN T_UD_IMG T_UD_NEG T_UD_PARSED T_UD_SCHEMELESS "
                              "T_UD_TEXT_HTTPS ");
    free(hits);
}

static bool has_line(const struct message_view *v, const char *want)
{
    for (size_t i = 0; i < v->line_count; i++) {
        if (v->lines[i].len == strlen(want)
            && memcmp(v->text + v->lines[i].start, want, v->lines[i].len) == 0)
            return true;
    }
    return false;
}

static bool has_uri(const struct message_view *v, const char *url)
{
    for (size_t i = 0; i < v->uri_count; i++) {
        if (strcmp(v->uris[i].url, url) == 0)
            return true;
    }
    return false;
}

/* The lines SpamAssassin's get_decoded_stripped_body_text_array gives for paragraphs.eml. */
static void test_paragraph_lines(void **state)
{
    (void)state;
    struct loaded m;
    load_message(&m, "paragraphs.eml");
    const struct message_view *v = m.view;
    assert_true(has_line(v, "Hello there\n"));
    assert_true(has_line(v, "Buy cheap watches now\n"));
    assert_true(has_line(v, "second para ends here write to sales@shop-example.com today or visit "
                            "www.example.com/x?a=1 and http:%2F%2Fevil.example.net/ and "
                            "http://3232235777/p\n"));
    assert_int_equal(v->lines[0].start, 0);
    /* text found in the text part: the address as mailto:, www. with http:// */
    assert_true(has_uri(v, "mailto:sales@shop-example.com"));
    assert_true(has_uri(v, "http://www.example.com/x?a=1"));
    assert_false(has_uri(v, "http:%2F%2Fevil.example.net/"));
    free_message(&m);
}

/* A line longer than 2048 bytes is cut after its last space before that, as SpamAssassin's
 * split_into_array_of_short_lines does. */
static void test_long_line_split(void **state)
{
    (void)state;
    struct textbuf body;
    textbuf_init(&body);
    for (int i = 0; i < 500; i++)
        textbuf_puts(&body, i ? " word" : "word");
    textbuf_puts(&body, "\n");
    struct header_field headers[] = { { .name = (char *)"Subject", .value = (char *)"long" } };
    struct message_source src = { .headers = headers, .header_count = 1, .body = body.data,
        .body_len = body.len, .max_scan_bytes = 1024 * 1024 };
    struct message_view *v = message_view_build(&src);
    assert_int_equal(v->line_count, 3);
    assert_int_equal(v->lines[1].len, 2045);         /* "word " x 409 */
    assert_int_equal(v->text[v->lines[1].start + v->lines[1].len - 1], ' ');
    assert_int_equal(v->lines[2].len, 455);
    message_view_free(v);
    textbuf_free(&body);
}

/* A line of 3000 bytes of three-byte characters without a space is split at 2048 bytes, inside
 * a character, as SpamAssassin splits it; the URI scan (PCRE2 in UTF mode) gets valid UTF-8
 * and still finds the address after it. */
static void test_split_inside_character(void **state)
{
    (void)state;
    struct textbuf body;
    textbuf_init(&body);
    for (int i = 0; i < 1000; i++)
        textbuf_puts(&body, "\xE2\x82\xAC");
    for (int i = 0; i < 40; i++)
        textbuf_puts(&body, " mail sales@shop-example.com \xE2\x82\xAC\xE2\x82\xAC");
    textbuf_puts(&body, "\n");
    struct header_field headers[] = {
        { .name = (char *)"Subject", .value = (char *)"euro" },
        { .name = (char *)"Content-Type", .value = (char *)"text/plain; charset=utf-8" },
    };
    struct message_source src = { .headers = headers, .header_count = 2, .body = body.data,
        .body_len = body.len, .max_scan_bytes = 1024 * 1024 };
    struct message_view *v = message_view_build(&src);
    textbuf_free(&body);
    assert_true(v->line_count >= 3);
    assert_int_equal(v->lines[1].len, 2048);
    assert_true(has_uri(v, "mailto:sales@shop-example.com"));
    message_view_free(v);
    /* the message fuzz_message_view found: PCRE2's JIT read out of bounds on such a line */
    struct loaded m;
    load_message(&m, "split-utf8-crash.msg");
    assert_true(m.view->line_count > 0);
    free_message(&m);
}

static struct message_view *html_view(const char *html)
{
    static struct header_field headers[] = {
        { .name = (char *)"Subject", .value = (char *)"x" },
        { .name = (char *)"Content-Type", .value = (char *)"text/html" },
    };
    struct message_source src = { .headers = headers, .header_count = 2, .body = html,
        .body_len = strlen(html), .max_scan_bytes = 4 * 1024 * 1024 };
    return message_view_build(&src);
}

/* Hostile HTML: a tag, a comment or a declaration that never closes makes the rest text (as
 * HTML::Parser does at the end of a document) instead of being searched again at every '<';
 * 20 000 text pieces inside one link are gathered, not copied again each time. */
static void test_hostile_html_is_text(void **state)
{
    (void)state;
    struct textbuf big;
    textbuf_init(&big);
    for (int i = 0; i < 100000; i++)
        textbuf_puts(&big, "<a ");
    struct message_view *v = html_view(big.data);
    assert_non_null(strstr(v->text, "<a <a <a"));
    message_view_free(v);
    big.len = 0;
    for (int i = 0; i < 100000; i++)
        textbuf_puts(&big, "<!--");
    v = html_view(big.data);
    assert_non_null(strstr(v->text, "<!--<!--"));
    message_view_free(v);
    big.len = 0;
    textbuf_puts(&big, "<title>T</title><a href=\"http://x.example.com/\">");
    for (int i = 0; i < 20000; i++)
        textbuf_puts(&big, "w<b>o</b>rd");
    v = html_view(big.data);
    assert_int_equal(v->html_part_count, 1);
    assert_int_equal(v->html_parts[0].title_count, 1);
    assert_string_equal(v->html_parts[0].titles[0], "T");
    assert_int_equal(v->html_parts[0].anchor_count, 1);
    assert_int_equal(strlen(v->html_parts[0].anchors[0]), 4 * 20000);
    message_view_free(v);
    textbuf_free(&big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_hit_as_spamassassin),
        cmocka_unit_test(test_tflags_as_spamassassin),
        cmocka_unit_test(test_htmleval_as_spamassassin),
        cmocka_unit_test(test_urieval_httpsmismatch_as_spamassassin),
        cmocka_unit_test(test_uridetail_as_spamassassin),
        cmocka_unit_test(test_paragraph_lines),
        cmocka_unit_test(test_long_line_split),
        cmocka_unit_test(test_hostile_html_is_text),
        cmocka_unit_test(test_split_inside_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
