/* message_view.c - builds the decoded view of a message (message_view.h) from its header
 * fields and buffered body (a message_source; txn_view.c makes one from the txn): GMime parses
 * the MIME structure and undoes base64 / quoted-printable, GMime's iconv wrapper converts
 * declared charsets to UTF-8, HTML is rendered to text as SpamAssassin's HTML.pm does and
 * yields its links, the body becomes SpamAssassin's lines and its URIs are found with
 * SpamAssassin's pattern (view_text.c, view_lines.c, view_charset.c, view_html*.c,
 * view_uri.c). Promises: bounded work
 * (spam.max_scan_bytes of body parsed, a cap on parts, URIs and nesting depth, text never
 * longer than the scan cap), never a crash on hostile input, malformed input decoded as far
 * as it goes and flagged. */
#include "message_view.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "header_cache.h"
#include "mime_init.h"
#include "header.h"
#include "util.h"
#include "view_build.h"

#define MAX_PARTS 500          /* leaf parts recorded; the rest is not decoded */
#define MAX_DEPTH 40           /* MIME nesting we descend into */

/* --- transfer encodings -------------------------------------------------------------------- */
/* Whether still-encoded content is well-formed for its transfer encoding. */
static bool encoding_is_valid(GMimeDataWrapper *content)
{
    GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(content);
    if (enc != GMIME_CONTENT_ENCODING_BASE64 && enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
        return true;
    GMimeStream *encoded = g_mime_data_wrapper_get_stream(content);
    GMimeStream *copy = g_mime_stream_mem_new();
    g_mime_stream_reset(encoded);
    g_mime_stream_write_to_stream(encoded, copy);
    g_mime_stream_reset(encoded);
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(copy));
    bool valid = enc == GMIME_CONTENT_ENCODING_BASE64 ? view_base64_valid(bytes->data, bytes->len)
                                                     : view_qp_valid(bytes->data, bytes->len);
    g_object_unref(copy);
    return valid;
}

/* --- the MIME walk ------------------------------------------------------------------------- */

static char *lower_dup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *out = xstrdup(s);
    str_lower(out);
    return out;
}

static struct message_part *new_part(struct message_view *view)
{
    view->parts = xrealloc(view->parts, (view->part_count + 1) * sizeof *view->parts);
    struct message_part *p = &view->parts[view->part_count++];
    memset(p, 0, sizeof *p);
    return p;
}

/* Adds one decoded text part (UTF-8) as SpamAssassin does: to rawbody when it is text/ or
 * message/ (not text/calendar), to body when it is text/plain or text/html (HTML rendered). */
static void add_text_part(struct view_builder *b, const char *type, char *utf8, size_t len)
{
    size_t kept = 0;                 /* CRLF line ends to LF, as SpamAssassin reads mail */
    for (size_t i = 0; i < len; i++) {
        if (!(utf8[i] == '\r' && i + 1 < len && utf8[i + 1] == '\n'))
            utf8[kept++] = utf8[i];
    }
    len = kept;
    bool raw = (strncmp(type, "text/", 5) == 0 && strcmp(type, "text/calendar") != 0)
        || strncmp(type, "message/", 8) == 0;
    if (raw)
        view_raw_add_part(b, utf8, len);
    if (strcmp(type, "text/plain") == 0) {
        view_body_add_part(b, utf8, len, utf8, len);
    } else if (strcmp(type, "text/html") == 0 && len > 0) {
        struct textbuf rendered, visible;
        textbuf_init(&rendered);
        textbuf_init(&visible);
        view_render_html(b, utf8, len, &rendered, &visible);
        view_body_add_part(b, rendered.data ? rendered.data : "", rendered.len,
            visible.data ? visible.data : "", visible.len);
        textbuf_free(&rendered);
        textbuf_free(&visible);
    } else if (strcmp(type, "text/html") == 0) {
        view_body_add_part(b, "", 0, "", 0);
    }
}

/* A leaf's MIME type as SpamAssassin's Util::parse_content_type reads its last Content-Type
 * field: the type before the first ';' (up to the first blank after a '/'), lower case; none,
 * or one that starts with the word "text" other than text/html, text/calendar and
 * text/x-vcard, is text/plain ("text plain", text/enriched); then the characters a type cannot
 * hold are dropped. Returns a malloc'd string. */
static char *leaf_type(GMimeObject *obj)
{
    GMimeHeaderList *headers = g_mime_object_get_header_list(obj);
    const char *raw = NULL;
    int count = headers != NULL ? g_mime_header_list_get_count(headers) : 0;
    for (int i = 0; i < count; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
        if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Content-Type") == 0)
            raw = g_mime_header_get_value(h);
    }
    struct textbuf type;
    textbuf_init(&type);
    const char *s = raw != NULL ? raw : "";
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t end = strcspn(s, ";");
    const char *slash = memchr(s, '/', end);
    if (slash != NULL) {
        size_t after = strcspn(slash + 1, "/ \t\r\n;");
        end = (size_t)(slash + 1 - s) + after;
    }
    textbuf_append(&type, s, end);
    char *t = lower_dup(type.data != NULL ? type.data : "");
    textbuf_free(&type);
    bool text_word = strncmp(t, "text", 4) == 0 && !(isalnum((unsigned char)t[4]) || t[4] == '_');
    if (t[0] == '\0' || (text_word && strcmp(t, "text/x-vcard") != 0
            && strcmp(t, "text/calendar") != 0 && strcmp(t, "text/html") != 0)) {
        free(t);
        return xstrdup("text/plain");
    }
    size_t kept = 0;
    for (size_t i = 0; t[i] != '\0'; i++) {
        unsigned char c = (unsigned char)t[i];
        bool drop = c <= 0x20 || c >= 0x7f || c == '"' || c == '(' || c == ')' || c == ','
            || (c >= 0x3a && c <= 0x3f) || c == '@' || (c >= 0x5b && c <= 0x5d);
        if (!drop)
            t[kept++] = t[i];
    }
    t[kept] = '\0';
    return t;
}

static void visit_leaf(struct view_builder *b, GMimePart *part)
{
    struct message_view *view = b->view;
    if (view->part_count >= MAX_PARTS) {
        view->truncated = true;
        return;
    }
    struct message_part *p = new_part(view);
    p->content_type = leaf_type(GMIME_OBJECT(part));
    const char *filename = g_mime_part_get_filename(part);
    p->filename = filename && *filename ? xstrdup(filename) : NULL;
    const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    p->charset = charset && *charset ? lower_dup(charset) : NULL;
    bool is_text = strncmp(p->content_type, "text/", 5) == 0;
    p->is_attachment = g_mime_part_is_attachment(part) || (p->filename != NULL && !is_text);

    GMimeDataWrapper *content = g_mime_part_get_content(part);
    if (content == NULL)
        return;
    if (!encoding_is_valid(content))
        p->bad_encoding = true;
    GMimeStream *decoded = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(content, decoded);
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(decoded));
    p->decoded_size = bytes->len;
    if (is_text || strncmp(p->content_type, "message/", 8) == 0) {
        size_t utf8_len;
        bool bad = false;
        char *utf8 = view_to_utf8(p->charset, (const char *)bytes->data, bytes->len, &utf8_len, &bad);
        p->bad_encoding = p->bad_encoding || bad;
        add_text_part(b, p->content_type, utf8, utf8_len);
        free(utf8);
    }
    g_object_unref(decoded);
}

static void visit(struct view_builder *b, GMimeObject *obj, unsigned depth);

/* A multipart whose boundary never occurs: SpamAssassin's Message.pm keeps the whole body as
 * one part without a Content-Type, so text/plain (GMime calls it the prologue and has no
 * part); the leading header lines of a nested one are that part's headers (the message's own
 * body gets a blank line on top first, Message.pm's bug 6845, so it has none). */
static void visit_unbounded_multipart(struct view_builder *b, const char *body, unsigned depth)
{
    size_t len = strlen(body);
    size_t name = depth == 0 ? 0 : strspn(body, "!\"#$%&'()*+,-./0123456789;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");
    if (name > 0 && body[name + strspn(body + name, " \t")] == ':') {
        GMimeStream *stream = g_mime_stream_mem_new_with_buffer(body, len);
        GMimeParser *parser = g_mime_parser_new_with_stream(stream);
        GMimeObject *part = g_mime_parser_construct_part(parser, NULL);
        if (part != NULL) {
            visit(b, part, depth + 1);
            g_object_unref(part);
        }
        g_object_unref(parser);
        g_object_unref(stream);
        return;
    }
    if (b->view->part_count >= MAX_PARTS) {
        b->view->truncated = true;
        return;
    }
    struct message_part *p = new_part(b->view);
    p->content_type = xstrdup("text/plain");
    p->decoded_size = len;
    bool bad = false;
    size_t utf8_len;
    char *utf8 = view_to_utf8(NULL, body, len, &utf8_len, &bad);
    p->bad_encoding = bad;
    add_text_part(b, "text/plain", utf8, utf8_len);
    free(utf8);
}

static void visit(struct view_builder *b, GMimeObject *obj, unsigned depth)
{
    if (obj == NULL)
        return;
    if (depth > MAX_DEPTH) {
        b->view->mime_error = true;
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int count = g_mime_multipart_get_count(mp);
        for (int i = 0; i < count; i++)
            visit(b, g_mime_multipart_get_part(mp, i), depth + 1);
        const char *prologue = g_mime_multipart_get_prologue(mp);
        if (count == 0 && prologue != NULL && prologue[0] != '\0')
            visit_unbounded_multipart(b, prologue, depth);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner != NULL)
            visit(b, g_mime_message_get_mime_part(inner), depth + 1);
    } else if (GMIME_IS_PART(obj)) {
        visit_leaf(b, GMIME_PART(obj));
    }
}

static void parser_warning(gint64 offset, GMimeParserWarning errcode, const gchar *item,
    gpointer user_data)
{
    (void)offset;
    (void)item;
    struct message_view *view = user_data;
    switch (errcode) {
    case GMIME_WARN_MALFORMED_MULTIPART:
    case GMIME_WARN_MALFORMED_MESSAGE:
    case GMIME_WARN_PART_WITHOUT_CONTENT:
    case GMIME_WARN_INVALID_CONTENT_TYPE:
    case GMIME_CRIT_INVALID_HEADER_NAME:
    case GMIME_CRIT_CONFLICTING_HEADER:
    case GMIME_CRIT_CONFLICTING_PARAMETER:
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
    case GMIME_CRIT_NESTING_OVERFLOW:
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        view->mime_error = true;
        break;
    case GMIME_WARN_TRUNCATED_MESSAGE:
        /* a body we cut at the scan cap ends early by design */
        if (!view->truncated)
            view->mime_error = true;
        break;
    default:
        break;
    }
}

/* --- building ------------------------------------------------------------------------------ */

/* The message as the MTA sent it: the headers we kept, a blank line, the body up to the cap. */
static void raw_message(const struct message_source *src, size_t body_cap, struct textbuf *raw,
    bool *cut)
{
    for (size_t i = 0; i < src->header_count; i++) {
        textbuf_puts(raw, src->headers[i].name);
        textbuf_puts(raw, ": ");
        textbuf_puts(raw, src->headers[i].value);
        textbuf_puts(raw, "\r\n");
    }
    textbuf_puts(raw, "\r\n");
    size_t body_len = src->body_len;
    if (body_len > body_cap) {
        body_len = body_cap;
        *cut = true;
    }
    if (src->body != NULL)
        textbuf_append(raw, src->body, body_len);
}

struct message_view *message_view_build(const struct message_source *src)
{
    mime_libraries_init();
    struct message_view *view = xcalloc(1, sizeof *view);
    uint64_t cap = src->max_scan_bytes;
    struct view_builder b = {.view = view, .cap = cap > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)cap};
    textbuf_init(&b.text);
    textbuf_init(&b.rawtext);
    textbuf_init(&b.body_parts);
    textbuf_init(&b.visible_parts);
    view->truncated = src->truncated;
    view->header_cache = header_cache_new(src->headers, src->header_count);

    struct textbuf raw;
    textbuf_init(&raw);
    raw_message(src, b.cap, &raw, &view->truncated);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw.data, raw.len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeParserOptions *options = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(options, parser_warning, view);
    GMimeMessage *message = g_mime_parser_construct_message(parser, options);
    if (message != NULL) {
        visit(&b, g_mime_message_get_mime_part(message), 0);
        const char *subject = g_mime_message_get_subject(message);
        struct textbuf clean;
        textbuf_init(&clean);
        if (subject != NULL)
            view_utf8_sanitize(subject, strlen(subject), &clean);
        view_body_finish(&b, subject ? (clean.data ? clean.data : "") : NULL);
        textbuf_free(&clean);
        g_object_unref(message);
    } else {
        /* nothing GMime could read: treat the body as plain text */
        view->mime_error = true;
        bool bad = false;
        size_t len;
        size_t body_len = src->body_len < b.cap ? src->body_len : b.cap;
        char *utf8 = view_to_utf8(NULL, src->body ? src->body : "", body_len, &len, &bad);
        add_text_part(&b, "text/plain", utf8, len);
        free(utf8);
        view_body_finish(&b, NULL);
    }
    g_mime_parser_options_free(options);
    g_object_unref(parser);
    g_object_unref(stream);
    textbuf_free(&raw);

    textbuf_free(&b.body_parts);
    textbuf_free(&b.visible_parts);
    view_scan_body_uris(&b);
    if (b.text.data == NULL)
        textbuf_puts(&b.text, "");
    if (b.rawtext.data == NULL)
        textbuf_puts(&b.rawtext, "");
    view->text = b.text.data;
    view->text_len = b.text.len;
    view->rawtext = b.rawtext.data;
    view->rawtext_len = b.rawtext.len;
    return view;
}

/* Frees what the view holds, not the view itself: for heap views and scratch views alike. */
static void free_view_fields(struct message_view *view)
{
    header_cache_free(view->header_cache);
    free(view->text);
    free(view->rawtext);
    free(view->lines);
    free(view->raw_lines);
    for (size_t i = 0; i < view->part_count; i++) {
        free(view->parts[i].content_type);
        free(view->parts[i].filename);
        free(view->parts[i].charset);
    }
    free(view->parts);
    for (size_t i = 0; i < view->uri_count; i++) {
        free(view->uris[i].url);
        free(view->uris[i].host);
        free(view->uris[i].link_text);
        free(view->uris[i].anchor_text);
    }
    free(view->uris);
    for (size_t i = 0; i < view->html_part_count; i++)
        view_html_part_free(&view->html_parts[i]);
    free(view->html_parts);
    free(view->visible_text);
}

void message_view_free(struct message_view *view)
{
    if (view == NULL)
        return;
    free_view_fields(view);
    free(view);
}

char *message_view_render_html(const char *html, size_t len, size_t *out_len)
{
    struct message_view scratch;
    memset(&scratch, 0, sizeof scratch);
    struct view_builder b = { .view = &scratch, .cap = SIZE_MAX / 4 };
    struct textbuf out;
    textbuf_init(&out);
    view_render_html(&b, html, len, &out, NULL);
    free_view_fields(&scratch);
    *out_len = out.len;
    return out.data != NULL ? out.data : xstrdup("");
}
