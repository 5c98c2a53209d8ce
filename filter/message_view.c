/* message_view.c - builds the decoded view of a message (message_view.h) from what the txn
 * buffered: GMime parses the MIME structure and undoes base64 / quoted-printable, GMime's iconv
 * wrapper converts declared charsets to UTF-8, libxml2's HTML parser (recovering, no network,
 * no external entities) renders HTML to text and yields its links, and a small scanner finds
 * bare URLs in text. Promises: bounded work (spam.max_scan_bytes of body parsed, a cap on
 * parts, URIs and nesting depth, text never longer than the scan cap), never a crash on
 * hostile input, malformed input decoded as far as it goes and flagged. */
#include "message_view.h"

#include <arpa/inet.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "mime_init.h"
#include "spam_config.h"
#include "txn.h"
#include "util.h"

#define MAX_PARTS 500          /* leaf parts recorded; the rest is not decoded */
#define MAX_URIS 1000          /* URIs recorded per message */
#define MAX_DEPTH 40           /* MIME nesting we descend into */

struct builder {
    struct message_view *view;
    struct textbuf text;
    struct textbuf rawtext;
    size_t cap;                /* bytes of text / rawtext at most */
    size_t uri_alloc;
};

/* --- text buffers ------------------------------------------------------------------------- */

static bool is_space_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Appends at most what fits under the cap, cut at a UTF-8 character boundary. */
static void append_capped(struct builder *b, struct textbuf *buf, const char *data, size_t len)
{
    if (buf->len >= b->cap) {
        b->view->truncated = b->view->truncated || len > 0;
        return;
    }
    if (buf->len + len > b->cap) {
        len = b->cap - buf->len;
        while (len > 0 && ((unsigned char)data[len] & 0xC0) == 0x80)
            len--;
        b->view->truncated = true;
    }
    textbuf_append(buf, data, len);
}

/* Appends text with every whitespace run collapsed: to "\n" when it held a line break, else
 * to one space. A no-break space (U+00A0) counts as whitespace. */
static void append_collapsed(struct builder *b, struct textbuf *buf, const char *s, size_t len)
{
    struct textbuf out;
    textbuf_init(&out);
    size_t i = 0;
    while (i < len) {
        bool newline = false;
        size_t start = i;
        for (;;) {
            if (i < len && is_space_byte((unsigned char)s[i])) {
                newline = newline || s[i] == '\n';
                i++;
            } else if (i + 1 < len && (unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0) {
                i += 2;
            } else {
                break;
            }
        }
        if (i > start) {
            char last = out.len > 0 ? out.data[out.len - 1] : (buf->len > 0 ? buf->data[buf->len - 1] : '\n');
            if (newline && last == ' ' && out.len > 0) {
                out.data[--out.len] = '\0';
                last = out.len > 0 ? out.data[out.len - 1]
                                   : (buf->len > 0 ? buf->data[buf->len - 1] : '\n');
            }
            if (newline && last != '\n')
                textbuf_puts(&out, "\n");
            else if (!newline && last != ' ' && last != '\n')
                textbuf_puts(&out, " ");
            continue;
        }
        size_t run = i;
        while (run < len && !is_space_byte((unsigned char)s[run])
            && !(run + 1 < len && (unsigned char)s[run] == 0xC2 && (unsigned char)s[run + 1] == 0xA0))
            run++;
        textbuf_append(&out, s + i, run - i);
        i = run;
    }
    append_capped(b, buf, out.data ? out.data : "", out.len);
    textbuf_free(&out);
}

static void end_block(struct builder *b, struct textbuf *buf)
{
    if (buf->len > 0 && buf->data[buf->len - 1] != '\n')
        append_capped(b, buf, "\n", 1);
}

/* --- UTF-8 ---------------------------------------------------------------------------------- */

/* Copies s into out as valid UTF-8: each invalid byte becomes U+FFFD and each NUL a space.
 * Returns false when anything had to be replaced. */
static bool utf8_sanitize(const char *s, size_t len, struct textbuf *out)
{
    bool clean = true;
    const char *p = s, *end = s + len;
    while (p < end) {
        const gchar *bad = NULL;
        if (g_utf8_validate(p, end - p, &bad)) {
            textbuf_append(out, p, (size_t)(end - p));
            break;
        }
        textbuf_append(out, p, (size_t)(bad - p));
        if (*bad == '\0') {
            textbuf_puts(out, " ");
        } else {
            textbuf_puts(out, "\xEF\xBF\xBD");
            clean = false;
        }
        p = bad + 1;
    }
    return clean;
}

static bool is_utf8_name(const char *charset)
{
    return charset == NULL || g_ascii_strcasecmp(charset, "utf-8") == 0
        || g_ascii_strcasecmp(charset, "utf8") == 0 || g_ascii_strcasecmp(charset, "us-ascii") == 0
        || g_ascii_strcasecmp(charset, "ascii") == 0;
}

/* Converts len bytes in charset to UTF-8 (malloc'd, NUL-terminated, *out_len set). Sets *bad
 * when the charset is unknown or a sequence is invalid; never fails. */
static char *to_utf8(const char *charset, const char *in, size_t len, size_t *out_len, bool *bad)
{
    if (in == NULL) {
        in = "";
        len = 0;
    }
    struct textbuf raw;
    textbuf_init(&raw);
    iconv_t cd = is_utf8_name(charset) ? (iconv_t)-1 : g_mime_iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) {
        if (!is_utf8_name(charset))
            *bad = true;             /* unknown charset: keep what is valid UTF-8 */
        textbuf_append(&raw, in, len);
    } else {
        char chunk[4096];
        char *src = (char *)in;
        size_t left = len;
        while (left > 0) {
            char *dst = chunk;
            size_t room = sizeof chunk;
            size_t rc = iconv(cd, &src, &left, &dst, &room);
            textbuf_append(&raw, chunk, (size_t)(dst - chunk));
            if (rc == (size_t)-1 && errno != E2BIG) {
                /* invalid or incomplete sequence: mark it and step over one byte */
                textbuf_puts(&raw, "\xEF\xBF\xBD");
                *bad = true;
                src++;
                left--;
                iconv(cd, NULL, NULL, NULL, NULL);
            }
        }
        g_mime_iconv_close(cd);
    }
    struct textbuf out;
    textbuf_init(&out);
    if (!utf8_sanitize(raw.data ? raw.data : "", raw.len, &out))
        *bad = true;
    textbuf_free(&raw);
    if (out.data == NULL)
        textbuf_puts(&out, "");
    *out_len = out.len;
    return out.data;
}

/* --- URIs ----------------------------------------------------------------------------------- */

/* One dotted label of an IPv4 literal in any form inet_aton accepts: decimal, 0x hex, octal. */
static bool is_numeric_label(const char *s, size_t len)
{
    if (len == 0)
        return false;
    size_t i = 0;
    bool hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex)
        i = 2;
    for (; i < len; i++) {
        if (hex ? !g_ascii_isxdigit(s[i]) : !g_ascii_isdigit(s[i]))
            return false;
    }
    return true;
}

/* Whether host (lower case, no brackets for IPv6) is an IP literal, including the decimal
 * (http://3232235777/), hex and octal forms browsers accept. */
static bool host_is_ip_literal(const char *host)
{
    unsigned char addr[16];
    if (strchr(host, ':') != NULL)
        return inet_pton(AF_INET6, host, addr) == 1;
    size_t labels = 0;
    const char *p = host;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!is_numeric_label(p, len))
            return false;
        labels++;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return labels >= 1 && labels <= 4;
}

/* The lower-case host of url, or NULL (mailto:, relative links, no host). */
static char *uri_host(const char *url)
{
    const char *p = url;
    if (g_ascii_strncasecmp(p, "www.", 4) != 0) {
        const char *colon = strstr(p, "//");
        if (colon == p) {
            p += 2;                                  /* protocol-relative //host/ */
        } else {
            size_t i = 0;
            while (g_ascii_isalnum(p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.')
                i++;
            if (i == 0 || p[i] != ':' || p[i + 1] != '/' || p[i + 2] != '/')
                return NULL;
            p += i + 3;
        }
    }
    size_t end = strcspn(p, "/?#\\");
    const char *at = memchr(p, '@', end);
    while (at != NULL) {                             /* user:pass@host: the last @ counts */
        size_t skip = (size_t)(at - p) + 1;
        p += skip;
        end -= skip;
        at = memchr(p, '@', end);
    }
    const char *host = p;
    size_t host_len;
    if (*p == '[') {
        const char *close = memchr(p, ']', end);
        if (close == NULL)
            return NULL;
        host = p + 1;
        host_len = (size_t)(close - host);
    } else {
        const char *port = memchr(p, ':', end);
        host_len = port ? (size_t)(port - p) : end;
    }
    while (host_len > 0 && host[host_len - 1] == '.')
        host_len--;
    if (host_len == 0 || host_len > 255)
        return NULL;
    char *out = xstrndup(host, host_len);
    str_lower(out);
    return out;
}

static bool uri_known(const struct message_view *view, const char *url)
{
    for (size_t i = 0; i < view->uri_count; i++) {
        if (strcmp(view->uris[i].url, url) == 0)
            return true;
    }
    return false;
}

/* Records a URI (trimmed of surrounding whitespace). A bare URL already known is not added
 * again; every link is, since its text matters. */
static void add_uri(struct builder *b, const char *url, size_t len, const char *link_text)
{
    struct message_view *view = b->view;
    while (len > 0 && is_space_byte((unsigned char)*url)) {
        url++;
        len--;
    }
    while (len > 0 && is_space_byte((unsigned char)url[len - 1]))
        len--;
    if (len == 0 || view->uri_count >= MAX_URIS)
        return;
    char *copy = xstrndup(url, len);
    for (char *c = copy; *c; c++) {
        if (*c == '\r' || *c == '\n' || *c == '\t')
            *c = ' ';
    }
    if (link_text == NULL && uri_known(view, copy)) {
        free(copy);
        return;
    }
    if (view->uri_count == b->uri_alloc) {
        b->uri_alloc = b->uri_alloc ? 2 * b->uri_alloc : 16;
        view->uris = xrealloc(view->uris, b->uri_alloc * sizeof *view->uris);
    }
    struct message_uri *u = &view->uris[view->uri_count++];
    u->url = copy;
    u->host = uri_host(copy);
    u->link_text = link_text ? xstrdup(link_text) : NULL;
    u->host_is_ip = u->host != NULL && host_is_ip_literal(u->host);
}

static bool url_stop_byte(unsigned char c)
{
    return c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`'
        || c == '{' || c == '}' || c == '|' || c == '^';
}

/* Where a bare URL may start at s[i]: "http://", "https://", "ftp://" or a "www." not glued
 * to a preceding word. Returns the length of the prefix, 0 when none. */
static size_t url_prefix(const char *s, size_t len, size_t i)
{
    static const char *const schemes[] = {"http://", "https://", "ftp://", "www.", NULL};
    if (i > 0 && (g_ascii_isalnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '/'
            || s[i - 1] == '@' || s[i - 1] == '-'))
        return 0;
    for (size_t k = 0; schemes[k] != NULL; k++) {
        size_t n = strlen(schemes[k]);
        if (len - i > n && g_ascii_strncasecmp(s + i, schemes[k], n) == 0)
            return n;
    }
    return 0;
}

/* Finds bare URLs in plain text. Linear in len. */
static void scan_bare_urls(struct builder *b, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c != 'h' && c != 'H' && c != 'f' && c != 'F' && c != 'w' && c != 'W') {
            i++;
            continue;
        }
        size_t prefix = url_prefix(s, len, i);
        if (prefix == 0) {
            i++;
            continue;
        }
        size_t end = i + prefix;
        while (end < len && !url_stop_byte((unsigned char)s[end]))
            end++;
        size_t stop = end;
        while (stop > i + prefix && strchr(".,;:!?)]", s[stop - 1]) != NULL)
            stop--;
        if (stop > i + prefix)
            add_uri(b, s + i, stop - i, NULL);
        i = end;
    }
}

/* --- HTML ----------------------------------------------------------------------------------- */

static bool name_is(const xmlNode *n, const char *name)
{
    return n->name != NULL && g_ascii_strcasecmp((const char *)n->name, name) == 0;
}

static bool is_block_element(const xmlNode *n)
{
    static const char *const blocks[] = {
        "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "hr", "title", "dd", "dt", "section", "article", "header",
        "footer", "form", NULL,
    };
    for (size_t i = 0; blocks[i] != NULL; i++) {
        if (name_is(n, blocks[i]))
            return true;
    }
    return false;
}

static void add_attribute_uri(struct builder *b, xmlNode *n, const char *attr)
{
    xmlChar *value = xmlGetProp(n, (const xmlChar *)attr);
    if (value != NULL) {
        add_uri(b, (const char *)value, strlen((const char *)value), NULL);
        xmlFree(value);
    }
}

/* Entering node n: text goes to out; returns whether to descend into its children. An <a>
 * or <area> with an href remembers where its text starts (in n->_private, offset + 1). */
static bool html_enter(struct builder *b, struct textbuf *out, xmlNode *n)
{
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content != NULL)
            textbuf_puts(out, (const char *)n->content);
        return false;
    }
    if (n->type != XML_ELEMENT_NODE)
        return false;
    if (name_is(n, "script") || name_is(n, "style") || name_is(n, "template"))
        return false;
    if (is_block_element(n))
        textbuf_puts(out, "\n");
    if ((name_is(n, "a") || name_is(n, "area")) && xmlHasProp(n, (const xmlChar *)"href"))
        n->_private = (void *)(uintptr_t)(out->len + 1);
    else if (name_is(n, "img") || name_is(n, "iframe") || name_is(n, "frame"))
        add_attribute_uri(b, n, "src");
    else if (name_is(n, "form"))
        add_attribute_uri(b, n, "action");
    return true;
}

/* Leaving node n (after its children): ends blocks and records links with their text. */
static void html_leave(struct builder *b, struct textbuf *out, xmlNode *n)
{
    if (n->type != XML_ELEMENT_NODE)
        return;
    if (is_block_element(n))
        textbuf_puts(out, "\n");
    if (n->_private == NULL)
        return;
    size_t start = (size_t)(uintptr_t)n->_private - 1;
    n->_private = NULL;
    if (start > out->len)
        start = out->len;
    struct builder scratch = {.view = b->view, .cap = SIZE_MAX};
    struct textbuf link;
    textbuf_init(&link);
    append_collapsed(&scratch, &link, out->data ? out->data + start : "", out->len - start);
    size_t from = 0, to = link.len;
    while (from < to && is_space_byte((unsigned char)link.data[from]))
        from++;
    while (to > from && is_space_byte((unsigned char)link.data[to - 1]))
        to--;
    char *text = xstrndup(link.data ? link.data + from : "", to - from);
    textbuf_free(&link);
    xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
    if (href != NULL) {
        add_uri(b, (const char *)href, strlen((const char *)href), text);
        xmlFree(href);
    }
    free(text);
}

/* Renders HTML (UTF-8) to text in out and records its links. The tree is walked without
 * recursion, so deep nesting costs no stack. */
static void render_html(struct builder *b, const char *html, size_t len, struct textbuf *out)
{
    if (len > INT_MAX)
        len = INT_MAX;
    htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (doc == NULL)
        return;
    xmlNode *n = doc->children;
    while (n != NULL) {
        if (html_enter(b, out, n) && n->children != NULL) {
            n = n->children;
            continue;
        }
        html_leave(b, out, n);
        while (n != NULL && n->next == NULL) {
            n = n->parent;
            if (n == NULL || n == (xmlNode *)doc) {
                n = NULL;
                break;
            }
            html_leave(b, out, n);
        }
        if (n != NULL)
            n = n->next;
    }
    xmlFreeDoc(doc);
}

/* --- transfer encodings -------------------------------------------------------------------- */

static bool base64_is_valid(const unsigned char *s, size_t len)
{
    size_t padding = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (is_space_byte(c))
            continue;
        if (c == '=') {
            padding++;
            continue;
        }
        if (padding > 0 || !(g_ascii_isalnum(c) || c == '+' || c == '/'))
            return false;       /* data after padding, or a byte outside the alphabet */
    }
    return padding <= 2;
}

static bool qp_is_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '=')
            continue;
        size_t j = i + 1;
        while (j < len && (s[j] == ' ' || s[j] == '\t'))
            j++;
        if (j >= len || s[j] == '\r' || s[j] == '\n')
            continue;                                   /* soft line break */
        if (i + 2 >= len || !g_ascii_isxdigit(s[i + 1]) || !g_ascii_isxdigit(s[i + 2]))
            return false;
    }
    return true;
}

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
    bool valid = enc == GMIME_CONTENT_ENCODING_BASE64 ? base64_is_valid(bytes->data, bytes->len)
                                                     : qp_is_valid(bytes->data, bytes->len);
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

/* Adds one decoded text part (UTF-8) to text and rawtext; HTML is rendered for text. */
static void add_text_part(struct builder *b, const char *utf8, size_t len, bool html)
{
    end_block(b, &b->rawtext);
    append_capped(b, &b->rawtext, utf8, len);
    end_block(b, &b->text);
    if (!html) {
        append_collapsed(b, &b->text, utf8, len);
        scan_bare_urls(b, utf8, len);
        return;
    }
    struct textbuf rendered;
    textbuf_init(&rendered);
    render_html(b, utf8, len, &rendered);
    append_collapsed(b, &b->text, rendered.data ? rendered.data : "", rendered.len);
    scan_bare_urls(b, rendered.data ? rendered.data : "", rendered.len);
    textbuf_free(&rendered);
}

static void visit_leaf(struct builder *b, GMimePart *part)
{
    struct message_view *view = b->view;
    if (view->part_count >= MAX_PARTS) {
        view->truncated = true;
        return;
    }
    struct message_part *p = new_part(view);
    GMimeContentType *type = g_mime_object_get_content_type(GMIME_OBJECT(part));
    char *mime_type = type ? g_mime_content_type_get_mime_type(type) : NULL;
    p->content_type = lower_dup(mime_type ? mime_type : "text/plain");
    g_free(mime_type);
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
    bool html = strcmp(p->content_type, "text/html") == 0;
    if (is_text && !p->is_attachment) {
        size_t utf8_len;
        bool bad = false;
        char *utf8 = to_utf8(p->charset, (const char *)bytes->data, bytes->len, &utf8_len, &bad);
        p->bad_encoding = p->bad_encoding || bad;
        add_text_part(b, utf8, utf8_len, html);
        free(utf8);
    }
    g_object_unref(decoded);
}

static void visit(struct builder *b, GMimeObject *obj, unsigned depth)
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
static void raw_message(const struct txn *t, size_t body_cap, struct textbuf *raw, bool *cut)
{
    for (size_t i = 0; i < t->header_count; i++) {
        textbuf_puts(raw, t->headers[i].name);
        textbuf_puts(raw, ": ");
        textbuf_puts(raw, t->headers[i].value);
        textbuf_puts(raw, "\r\n");
    }
    textbuf_puts(raw, "\r\n");
    size_t body_len = t->body_len;
    if (body_len > body_cap) {
        body_len = body_cap;
        *cut = true;
    }
    if (t->body != NULL)
        textbuf_append(raw, t->body, body_len);
}

static void add_subject(struct builder *b, GMimeMessage *message)
{
    const char *subject = message ? g_mime_message_get_subject(message) : NULL;
    if (subject == NULL)
        return;
    struct textbuf clean;
    textbuf_init(&clean);
    utf8_sanitize(subject, strlen(subject), &clean);
    append_collapsed(b, &b->text, clean.data ? clean.data : "", clean.len);
    textbuf_free(&clean);
    end_block(b, &b->text);
}

static struct message_view *build_view(const struct txn *t)
{
    mime_libraries_init();
    struct message_view *view = xcalloc(1, sizeof *view);
    uint64_t cap = t->cfg->spam != NULL ? t->cfg->spam->max_scan_bytes : SPAM_DEFAULT_MAX_SCAN_BYTES;
    struct builder b = {.view = view, .cap = cap > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)cap};
    textbuf_init(&b.text);
    textbuf_init(&b.rawtext);
    view->truncated = t->body_truncated || t->headers_truncated;

    struct textbuf raw;
    textbuf_init(&raw);
    raw_message(t, b.cap, &raw, &view->truncated);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw.data, raw.len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeParserOptions *options = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(options, parser_warning, view);
    GMimeMessage *message = g_mime_parser_construct_message(parser, options);
    if (message != NULL) {
        add_subject(&b, message);
        visit(&b, g_mime_message_get_mime_part(message), 0);
        g_object_unref(message);
    } else {
        /* nothing GMime could read: treat the body as plain text */
        view->mime_error = true;
        bool bad = false;
        size_t len;
        size_t body_len = t->body_len < b.cap ? t->body_len : b.cap;
        char *utf8 = to_utf8(NULL, t->body ? t->body : "", body_len, &len, &bad);
        add_text_part(&b, utf8, len, false);
        free(utf8);
    }
    g_mime_parser_options_free(options);
    g_object_unref(parser);
    g_object_unref(stream);
    textbuf_free(&raw);

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

const struct message_view *message_view_get(struct txn *t)
{
    if (t->view == NULL)
        t->view = build_view(t);
    return t->view;
}

void message_view_free(struct message_view *view)
{
    if (view == NULL)
        return;
    free(view->text);
    free(view->rawtext);
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
    }
    free(view->uris);
    free(view);
}
