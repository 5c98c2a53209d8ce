/* eval_mime.c - SpamAssassin's MIME tree of a message (eval_mime.h), rebuilt with the rules of
 * its Message.pm parser: part headers read until the first line that is not a header (flagged
 * when it is not blank), boundaries found as `--boundary` alone on a line (and nested ones
 * with the same boundary skipped once), a missing Content-Type is text/plain (message/rfc822
 * in a multipart/digest), a multipart without a boundary takes its parent's, message/rfc822
 * parts parsed as messages, lines over 2048 bytes split, 1000 parts per multipart at most,
 * 20 levels deep. Bounded by the body the rules were given. */
#include "eval_mime.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "header.h"
#include "mime_init.h"
#include "util.h"

#define MAX_BODY_LINE_LENGTH 2048
#define MAX_HEADER_KEY_LENGTH 256
#define MAX_HEADER_VALUE_LENGTH 8192
#define MAX_PARTS_PER_MULTIPART 1000
#define MAX_DEPTH 20
#define MAX_PARTS_TOTAL 5000

struct line {
    const char *s;
    size_t len;                /* with its newline, when it has one */
};

struct lines {
    struct line *v;
    size_t n;
};

/* --- small text helpers --------------------------------------------------------------------- */

static bool starts_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* ^[\041-\071\073-\176]+[ \t]*: (a header line); with_blanks false: no blanks before ':' */
static bool is_header_line(const char *s, size_t len, bool with_blanks)
{
    size_t i = 0;
    while (i < len && (unsigned char)s[i] >= 041 && (unsigned char)s[i] <= 0176 && s[i] != ':')
        i++;
    if (i == 0)
        return false;
    while (with_blanks && i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i < len && s[i] == ':';
}

/* ^--BOUNDARY(--)?\s*$ ; *closing says whether the "--" followed */
static bool is_boundary(const struct line *l, const char *boundary, bool *closing)
{
    size_t blen = strlen(boundary);
    if (l->len < 2 + blen || l->s[0] != '-' || l->s[1] != '-'
        || memcmp(l->s + 2, boundary, blen) != 0)
        return false;
    size_t i = 2 + blen;
    *closing = false;
    if (i + 2 <= l->len && l->s[i] == '-' && l->s[i + 1] == '-') {
        *closing = true;
        i += 2;
    }
    for (; i < l->len; i++) {
        if (!isspace((unsigned char)l->s[i]))
            return false;
    }
    return true;
}

/* --- Content-Type ----------------------------------------------------------------------------- */

/* A parameter's value: \bNAME\s*=\s*["']?(.*?)["']?(?:;|$) */
static char *ct_param(const char *ct, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = ct; *p != '\0'; p++) {
        if (strncasecmp(p, name, nlen) != 0)
            continue;
        if (p > ct && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        const char *q = p + nlen;
        while (isspace((unsigned char)*q))
            q++;
        if (*q != '=')
            continue;
        q++;
        while (isspace((unsigned char)*q))
            q++;
        if (*q == '"' || *q == '\'')
            q++;
        const char *end = q;
        while (*end != '\0' && *end != ';' && *end != '\n')
            end++;
        /* "$" without /m matches only at the very end (or before a final newline) */
        if (*end == '\n' && end[1] != '\0') {
            const char *semi = strchr(end, ';');
            if (semi == NULL) {
                end = q + strlen(q);
                if (end > q && end[-1] == '\n')
                    end--;
            } else {
                end = semi;
            }
        }
        if (end > q && (end[-1] == '"' || end[-1] == '\''))
            end--;
        return xstrndup(q, (size_t)(end - q));
    }
    return NULL;
}

/* Util::parse_content_type on the last Content-Type value (NULL: none). */
void sa_parse_content_type(const char *ct, char **type, char **boundary, char **charset,
    char **name, bool *missing)
{
    *missing = ct == NULL || *ct == '\0';
    if (*missing)
        ct = "text/plain; charset=us-ascii";
    *boundary = NULL;
    for (const char *p = ct; *p != '\0'; p++) {
        if (strncasecmp(p, "boundary", 8) != 0 || (p > ct && (isalnum((unsigned char)p[-1])
            || p[-1] == '_')))
            continue;
        const char *q = p + 8;
        while (isspace((unsigned char)*q))
            q++;
        if (*q != '=')
            continue;
        q++;
        while (isspace((unsigned char)*q))
            q++;
        const char *end;
        if (*q == '"') {
            end = q + 1;
            while (*end != '\0' && *end != '"')
                end++;
            if (end == q + 1)
                continue;
        } else {
            end = q;
            while (*end != '\0' && !isspace((unsigned char)*end) && *end != '"' && *end != ';')
                end++;
            if (end == q || (*end != '\0' && !isspace((unsigned char)*end) && *end != ';'))
                continue;
        }
        struct textbuf b;
        textbuf_init(&b);
        for (const char *c = q; c < end; c++) {
            if (*c != '"')
                textbuf_append(&b, c, 1);
        }
        *boundary = b.data != NULL ? b.data : xstrdup("");
        break;
    }
    *charset = ct_param(ct, "charset");
    *name = ct_param(ct, "name");
    if (*name == NULL)
        *name = ct_param(ct, "filename");
    /* the type: blanks off, up to ';', only "x/y" */
    while (isspace((unsigned char)*ct))
        ct++;
    size_t n = strcspn(ct, ";");
    const char *slash = memchr(ct, '/', n);
    size_t tlen;
    if (slash == NULL) {
        tlen = 0;
        while (tlen < n && ct[tlen] != '/')
            tlen++;
    } else {
        tlen = (size_t)(slash - ct) + 1;
        while (tlen < n && ct[tlen] != '/' && !isspace((unsigned char)ct[tlen]))
            tlen++;
    }
    char *t = xstrndup(ct, tlen);
    str_lower(t);
    if (*t == '\0')
        *missing = true;
    if (*t == '\0' || (strncmp(t, "text", 4) == 0 && !isalnum((unsigned char)t[4]) && t[4] != '_'
            && strcmp(t, "text/x-vcard") != 0 && strcmp(t, "text/calendar") != 0
            && strcmp(t, "text/html") != 0)) {
        free(t);
        t = xstrdup("text/plain");
    }
    /* tr/\000-\040\177-\377\042\050\051\054\072-\077\100\133-\135//d */
    size_t o = 0;
    for (size_t i = 0; t[i] != '\0'; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 040 || c >= 0177 || c == 042 || c == 050 || c == 051 || c == 054
            || (c >= 072 && c <= 077) || c == 0100 || (c >= 0133 && c <= 0135))
            continue;
        t[o++] = (char)c;
    }
    t[o] = '\0';
    *type = t;
}

/* --- the tree ----------------------------------------------------------------------------- */

struct builder {
    struct sa_mime *mime;
    char *text;                /* the body, CRLF read as LF */
};

static size_t new_part(struct builder *b, size_t parent)
{
    struct sa_mime *m = b->mime;
    m->parts = xrealloc(m->parts, (m->count + 1) * sizeof *m->parts);
    struct sa_mime_part *p = &m->parts[m->count];
    memset(p, 0, sizeof *p);
    p->parent = parent;
    p->leaf = true;
    if (parent != SIZE_MAX)
        m->parts[parent].leaf = false;
    return m->count++;
}

static char *decode_value(const char *raw)
{
    /* s/\n[ \t]+/ /g; trim; RFC 2047 */
    struct textbuf b;
    textbuf_init(&b);
    for (const char *p = raw; *p != '\0'; p++) {
        if (*p == '\n' && (p[1] == ' ' || p[1] == '\t')) {
            textbuf_append(&b, " ", 1);
            p++;
            while (p[1] == ' ' || p[1] == '\t')
                p++;
            continue;
        }
        textbuf_append(&b, p, 1);
    }
    char *s = b.data != NULL ? b.data : xstrdup("");
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    size_t lead = strspn(s, " \t\r\n\f\v");
    char *trimmed = xstrdup(s + lead);
    free(s);
    mime_libraries_init();
    char *decoded = g_mime_utils_header_decode_text(NULL, trimmed);
    char *out = xstrdup(decoded != NULL ? decoded : trimmed);
    g_free(decoded);
    free(trimmed);
    return out;
}

static void add_header(struct sa_mime_part *p, const char *name, size_t nlen, const char *raw,
    size_t rlen)
{
    p->headers = xrealloc(p->headers, (p->header_count + 1) * sizeof *p->headers);
    struct sa_mime_header *h = &p->headers[p->header_count++];
    h->name = xstrndup(name, nlen);
    h->raw = xstrndup(raw, rlen);
    h->decoded = decode_value(h->raw);
}

const char *sa_mime_header(const struct sa_mime_part *part, const char *name, bool raw)
{
    for (size_t i = part->header_count; i-- > 0;) {
        if (str_ieq(part->headers[i].name, name))
            return raw ? part->headers[i].raw : part->headers[i].decoded;
    }
    return NULL;
}

bool sa_mime_is_below(const struct sa_mime *mime, size_t part, size_t ancestor)
{
    for (size_t p = mime->parts[part].parent; p != SIZE_MAX; p = mime->parts[p].parent) {
        if (p == ancestor)
            return true;
    }
    return false;
}

/* A part's header block "Name: value" (split /:\s*\/ as for parts). */
static void store_part_header(struct sa_mime_part *p, const char *text, size_t len)
{
    const char *colon = memchr(text, ':', len);
    if (colon == NULL)
        return;
    const char *v = colon + 1;
    while (v < text + len && isspace((unsigned char)*v))
        v++;
    add_header(p, text, (size_t)(colon - text), v, (size_t)(text + len - v));
}

static void push_line(struct textbuf *body, const char *s, size_t len)
{
    while (len > MAX_BODY_LINE_LENGTH) {
        textbuf_append(body, s, MAX_BODY_LINE_LENGTH);
        textbuf_append(body, "\n", 1);
        s += MAX_BODY_LINE_LENGTH;
        len -= MAX_BODY_LINE_LENGTH;
    }
    textbuf_append(body, s, len);
}

static void parse_body(struct builder *b, size_t part, const char *boundary, struct lines *body,
    int depth);

static void set_type(struct builder *b, size_t part, bool digest_child, char **boundary_out)
{
    struct sa_mime_part *p = &b->mime->parts[part];
    char *type, *boundary, *charset, *name;
    bool missing;
    sa_parse_content_type(sa_mime_header(p, "Content-Type", false), &type, &boundary, &charset,
        &name, &missing);
    if (missing && digest_child) {
        free(type);
        type = xstrdup("message/rfc822");
    }
    p->type = type;
    p->charset = charset;
    const char *cd = sa_mime_header(p, "Content-Disposition", false);
    char *cdname = NULL;
    if (cd != NULL) {
        /* name=\s*"?([^";]+)"? */
        const char *q = strcasestr(cd, "name=");
        if (q != NULL) {
            q += 5;
            while (isspace((unsigned char)*q))
                q++;
            if (*q == '"')
                q++;
            size_t n = strcspn(q, "\";");
            if (n > 0)
                cdname = xstrndup(q, n);
        }
    }
    p->name = cdname != NULL ? cdname : name;
    if (cdname != NULL)
        free(name);
    *boundary_out = boundary;
}

static void split_lines(const char *text, size_t len, struct lines *out)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            out->v = xrealloc(out->v, cap * sizeof *out->v);
        }
        out->v[out->n++] = (struct line){ text + i, end - i };
        i = end;
    }
}

/* Message.pm's bug 6845: a multipart message whose body (of more than one line) starts with
 * neither a blank line nor its boundary gets a blank line on top, so lines that look like
 * MIME headers there are not read as the first part's headers (nor is a missing separator). */
static void insert_blank_line_if_needed(const struct sa_mime_part *root, const char *boundary,
    struct lines *body)
{
    if (strncmp(root->type, "multipart/", 10) != 0 || body->n < 2)
        return;
    const struct line *first = &body->v[0];
    bool visible = false;
    for (size_t i = 0; i < first->len && !visible; i++)
        visible = !isspace((unsigned char)first->s[i]);
    if (!visible)
        return;
    size_t blen = boundary != NULL ? strlen(boundary) : 0;
    if (boundary != NULL && first->len >= 2 + blen && first->s[0] == '-' && first->s[1] == '-'
        && memcmp(first->s + 2, boundary, blen) == 0)
        return;
    body->v = xrealloc(body->v, (body->n + 1) * sizeof *body->v);
    memmove(body->v + 1, body->v, body->n * sizeof *body->v);
    body->v[0] = (struct line){ "\n", 1 };
    body->n++;
}

/* Message.pm's _parse_multipart. */
static void parse_multipart(struct builder *b, size_t part, const char *boundary,
    struct lines *body, int depth)
{
    struct sa_mime *m = b->mime;
    size_t start = 0;
    bool closing;
    for (size_t i = 0; i < body->n; i++) {
        if (is_boundary(&body->v[i], boundary, &closing) && !closing) {
            if (i + 1 < body->n && !is_header_line(body->v[i + 1].s, body->v[i + 1].len, false))
                m->missing_mime_headers = true;
            start = i + 1;
            break;
        }
        /* ^--B\s*$ only: a closing boundary does not start the parts */
    }
    bool open_boundary = start > 0;
    bool digest = strcmp(m->parts[part].type, "multipart/digest") == 0;
    size_t child = SIZE_MAX;
    struct textbuf header, content;
    textbuf_init(&header);
    textbuf_init(&content);
    bool have_header = false, in_body = false, have_content = false, nested = false;
    size_t partcnt = 0;
    size_t remaining = body->n - start;
    size_t i = start;
    for (; i < body->n; i++) {
        const struct line *l = &body->v[i];
        if (child == SIZE_MAX)
            child = new_part(b, part);
        bool found_end = l->len >= 2 && l->s[0] == '-' && l->s[1] == '-'
            && is_boundary(l, boundary, &closing);
        bool found_last = found_end && closing;
        if (found_end && nested) {
            found_end = false;
            if (found_last)
                nested = false;
        }
        if (--remaining == 0 || found_end) {
            if (!found_end) {
                push_line(&content, l->s, l->len);
                have_content = true;
            } else if (have_content && content.len > 0 && content.data[content.len - 1] == '\n') {
                content.len--;      /* the line break before the boundary belongs to it */
            }
            /* a header still pending when the boundary comes is lost, as in Message.pm */
            have_header = false;
            char *child_boundary;
            set_type(b, child, digest, &child_boundary);
            const char *use = child_boundary != NULL ? child_boundary : boundary;
            struct lines sub;
            char *copy = xstrndup(content.data != NULL ? content.data : "", content.len);
            split_lines(copy, content.len, &sub);
            if (depth < MAX_DEPTH && m->count < MAX_PARTS_TOTAL)
                parse_body(b, child, use, &sub, depth + 1);
            else {
                m->parts[child].raw = copy;
                m->parts[child].raw_len = content.len;
                copy = NULL;
            }
            free(sub.v);
            free(copy);
            free(child_boundary);
            if (found_last)
                break;
            if (remaining > 0 && !is_header_line(body->v[i + 1].s, body->v[i + 1].len, false))
                m->missing_mime_headers = true;
            if (++partcnt == MAX_PARTS_PER_MULTIPART) {
                m->mimepart_limit_exceeded = true;
                textbuf_free(&header);
                textbuf_free(&content);
                return;
            }
            in_body = false;
            have_content = false;
            content.len = 0;
            header.len = 0;
            child = SIZE_MAX;
            continue;
        }
        if (!in_body) {
            if (is_header_line(l->s, l->len, true)) {
                if (have_header)
                    store_part_header(&m->parts[child], header.data, header.len);
                header.len = 0;
                textbuf_append(&header, l->s, l->len);
                have_header = true;
                continue;
            }
            if ((l->s[0] == ' ' || l->s[0] == '\t') && have_header) {
                textbuf_append(&header, l->s, l->len);
                continue;
            }
            if (have_header) {
                store_part_header(&m->parts[child], header.data, header.len);
                have_header = false;
                const char *ct = sa_mime_header(&m->parts[child], "Content-Type", false);
                if (ct != NULL) {
                    char *t, *nb, *cs, *nm;
                    bool miss;
                    sa_parse_content_type(ct, &t, &nb, &cs, &nm, &miss);
                    nested = nested || (nb != NULL && strcmp(nb, boundary) == 0);
                    free(t);
                    free(nb);
                    free(cs);
                    free(nm);
                }
            }
            in_body = true;
            if (l->len == 0 || l->s[0] == '\n' || (l->s[0] == '\r' && l->len <= 2))
                continue;
            m->missing_mime_head_body_separator = true;
        }
        push_line(&content, l->s, l->len);
        have_content = true;
    }
    if (open_boundary && !(i < body->n))
        m->missing_boundary = true;
    for (size_t k = i + 1; k < body->n; k++) {
        const struct line *l = &body->v[k];
        for (size_t c = 0; c < l->len; c++) {
            if (!isspace((unsigned char)l->s[c]) && l->s[c] != '.') {
                m->mime_epilogue_exists = true;
                break;
            }
        }
        if (m->mime_epilogue_exists)
            break;
    }
    textbuf_free(&header);
    textbuf_free(&content);
}

static void parse_message(struct builder *b, size_t part, const char *text, size_t len, int depth);

/* A node's body: a multipart's parts, or a leaf (a message/rfc822 leaf parsed as a message). */
static void parse_body(struct builder *b, size_t part, const char *boundary, struct lines *body,
    int depth)
{
    struct sa_mime_part *p = &b->mime->parts[part];
    if (strncmp(p->type, "multipart/", 10) == 0 && boundary != NULL) {
        p->boundary = xstrdup(boundary);
        parse_multipart(b, part, boundary, body, depth);
        return;
    }
    if (strncmp(p->type, "multipart/", 10) == 0) {
        free(p->type);
        p->type = xstrdup("text/plain");
    }
    struct textbuf raw;
    textbuf_init(&raw);
    for (size_t i = 0; i < body->n; i++)
        push_line(&raw, body->v[i].s, body->v[i].len);
    p->raw = raw.data != NULL ? raw.data : xstrdup("");
    p->raw_len = raw.len;
    if ((strcmp(p->type, "message/rfc822") == 0 || strcmp(p->type, "message/global") == 0)
        && depth < MAX_DEPTH) {
        size_t dlen;
        char *decoded = sa_mime_decode(p, &dlen);
        if (dlen > 0)
            parse_message(b, part, decoded, dlen, depth + 1);
        free(decoded);
    }
}

/* Message.pm's header reader on a whole message (an attached one): "Name:" up to the first
 * blank line, a "--" line, or a fourth malformed line; values keep the blank after ':'. */
static void parse_message(struct builder *b, size_t parent, const char *text, size_t len, int depth)
{
    size_t part = new_part(b, parent);
    struct lines all;
    split_lines(text, len, &all);
    size_t i = 0, errors = 0;
    struct textbuf header;
    textbuf_init(&header);
    bool have = false;
    for (; i <= all.n; i++) {
        bool eof = i == all.n;
        const struct line *l = eof ? NULL : &all.v[i];
        if (!eof && (l->s[0] == ' ' || l->s[0] == '\t')) {
            textbuf_append(&header, l->s, l->len);
            have = true;
            continue;
        }
        if (have) {
            const char *colon = memchr(header.data, ':', header.len);
            if (colon != NULL) {
                const char *v = colon + 1;
                add_header(&b->mime->parts[part], header.data, (size_t)(colon - header.data), v,
                    (size_t)(header.data + header.len - v));
            }
            header.len = 0;
            have = false;
        }
        if (eof || l->s[0] == '\n')
            break;
        if (l->len >= 2 && l->s[0] == '-' && l->s[1] == '-')
            break;
        if (!is_header_line(l->s, l->len, true) && ++errors > 3)
            break;
        textbuf_append(&header, l->s, l->len);
        have = true;
    }
    textbuf_free(&header);
    size_t body_start = i < all.n && all.v[i].s[0] == '\n' ? i + 1 : i;
    struct lines body = { all.v + body_start, all.n - body_start };
    char *boundary;
    set_type(b, part, false, &boundary);
    parse_body(b, part, boundary, &body, depth);
    free(boundary);
    free(all.v);
}

static size_t b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : 64;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *sa_mime_decode(const struct sa_mime_part *part, size_t *len)
{
    const char *cte = sa_mime_header(part, "Content-Transfer-Encoding", false);
    char *out = xmalloc(part->raw_len + 1);
    size_t n = 0;
    if (cte != NULL && starts_ci(cte, "base64")) {
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < part->raw_len; i++) {
            size_t v = b64_value((unsigned char)part->raw[i]);
            if (v == 64)
                continue;       /* '=' and anything else: skipped */
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[n++] = (char)((acc >> bits) & 0xFF);
            }
        }
    } else if (cte != NULL && starts_ci(cte, "quoted-printable")) {
        const char *s = part->raw;
        size_t slen = part->raw_len;
        for (size_t i = 0; i < slen; i++) {
            char c = s[i];
            if (c == ' ' || c == '\t') {
                size_t j = i;
                while (j < slen && (s[j] == ' ' || s[j] == '\t'))
                    j++;
                if (j < slen && s[j] == '\n') {
                    i = j - 1;
                    continue;   /* trailing blanks deleted */
                }
            }
            if (c == '=' && i + 1 < slen && s[i + 1] == '\n') {
                i++;
                continue;
            }
            if (c == '=' && i + 2 < slen && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
                out[n++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
                i += 2;
                continue;
            }
            out[n++] = c;
        }
    } else {
        memcpy(out, part->raw, part->raw_len);
        n = part->raw_len;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

/* --- per message ------------------------------------------------------------------------------ */

static void mime_free(void *data)
{
    struct sa_mime *m = data;
    for (size_t i = 0; i < m->count; i++) {
        struct sa_mime_part *p = &m->parts[i];
        free(p->type);
        free(p->boundary);
        free(p->charset);
        free(p->name);
        free(p->raw);
        for (size_t h = 0; h < p->header_count; h++) {
            free(p->headers[h].name);
            free(p->headers[h].raw);
            free(p->headers[h].decoded);
        }
        free(p->headers);
    }
    free(m->parts);
    free(m);
}

static void *mime_make(struct eval_ctx *ctx)
{
    const struct rules_message *msg = ctx->msg;
    struct sa_mime *m = xcalloc(1, sizeof *m);
    struct builder b = { .mime = m };
    /* the body, CRLF as LF */
    size_t len = msg->body != NULL ? msg->body_len : 0;
    b.text = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (msg->body[i] == '\r' && i + 1 < len && msg->body[i + 1] == '\n')
            continue;
        b.text[n++] = msg->body[i];
    }
    b.text[n] = '\0';
    size_t root = new_part(&b, SIZE_MAX);
    for (size_t i = 0; i < msg->header_count; i++) {
        const struct header_field *h = &msg->headers[i];
        if (h->value == NULL)
            continue;
        /* the message's own fields keep the blank after the colon, as Message.pm does */
        const char *v = h->raw_value != NULL ? h->raw_value : h->value;
        struct textbuf raw;
        textbuf_init(&raw);
        if (h->raw_value == NULL)
            textbuf_append(&raw, " ", 1);
        for (const char *p = v; *p != '\0'; p++) {
            if (*p == '\r' && p[1] == '\n')
                continue;
            textbuf_append(&raw, p, 1);
        }
        textbuf_append(&raw, "\n", 1);
        size_t nlen = strlen(h->name);
        if (nlen > MAX_HEADER_KEY_LENGTH) {
            nlen = MAX_HEADER_KEY_LENGTH;
            m->truncated_header = true;
        }
        if (raw.len > MAX_HEADER_VALUE_LENGTH) {
            raw.len = MAX_HEADER_VALUE_LENGTH;
            m->truncated_header = true;
        }
        add_header(&m->parts[root], h->name, nlen, raw.data, raw.len);
        textbuf_free(&raw);
    }
    char *boundary;
    set_type(&b, root, false, &boundary);
    struct lines body;
    split_lines(b.text, n, &body);
    insert_blank_line_if_needed(&m->parts[root], boundary, &body);
    parse_body(&b, root, boundary, &body, 0);
    free(body.v);
    free(boundary);
    free(b.text);
    return m;
}

const struct sa_mime *eval_mime(struct eval_ctx *ctx)
{
    return eval_plugin_data(ctx, EVAL_MIMEHEADER, mime_make, mime_free);
}
