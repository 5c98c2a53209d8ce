/* arc_aar.c - see arc_aar.h. The payload is first made plain: comments removed (outside
 * quoted strings, nested, with backslash escapes), white space around "=" and "/" dropped;
 * then it is cut at ";" outside quotes: the first piece holds the authserv-id (and an
 * optional version), every other piece one method's "method[/version]=result" followed by
 * "reason=..." and "ptype.property=value" words. */
#include "arc_aar.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PLAIN_MAX 8192            /* a longer payload is read up to here */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copies payload into out (size PLAIN_MAX) without comments; quoted strings kept whole. */
static void strip_comments(const char *in, char *out)
{
    size_t n = 0;
    int depth = 0;
    bool quoted = false;
    for (const char *p = in; *p != '\0' && n + 2 < PLAIN_MAX; p++) {
        if (depth > 0) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')')
                depth--;
            continue;
        }
        if (!quoted && *p == '(') {
            depth = 1;
            out[n++] = ' ';
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (quoted && *p == '\\' && p[1] != '\0')
            out[n++] = *p++;
        out[n++] = is_space(*p) && !quoted ? ' ' : *p;
    }
    out[n] = '\0';
}

/* Drops the white space around "=" and "/" outside quotes, in place. */
static void join_around_equals(char *s)
{
    size_t n = 0;
    bool quoted = false;
    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        if (c == '"')
            quoted = !quoted;
        if (!quoted && (c == '=' || c == '/')) {
            while (n > 0 && s[n - 1] == ' ')
                n--;
            s[n++] = c;
            while (s[i + 1] == ' ')
                i++;
            continue;
        }
        s[n++] = c;
    }
    s[n] = '\0';
}

/* The next word of *p (outside quotes, up to a space), unquoted into out; false at the end. */
static bool next_word(const char **p, char *out, size_t size)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (*s == '\0')
        return false;
    size_t n = 0;
    bool quoted = false;
    for (; *s != '\0' && (quoted || *s != ' '); s++) {
        if (*s == '"') {
            quoted = !quoted;
            continue;
        }
        if (quoted && *s == '\\' && s[1] != '\0')
            s++;
        if (n + 1 < size)
            out[n++] = *s;
    }
    out[n] = '\0';
    *p = s;
    return true;
}

static void copy_lower(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size)
        len = size - 1;
    for (size_t i = 0; i < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[len] = '\0';
}

/* The domain an identity names: after the last "@" when there is one. */
static void set_domain(struct arc_aar_result *r, const char *value)
{
    const char *at = strrchr(value, '@');
    const char *d = at != NULL ? at + 1 : value;
    copy_lower(r->domain, sizeof r->domain, d, strlen(d));
}

/* Which property gives the identity a method judged; the first one given wins. */
static bool identity_property(const char *method, const char *property)
{
    if (strcmp(method, "dkim") == 0)
        return strcmp(property, "header.d") == 0 || strcmp(property, "header.i") == 0;
    if (strcmp(method, "spf") == 0)
        return strcmp(property, "smtp.mailfrom") == 0 || strcmp(property, "smtp.helo") == 0;
    if (strcmp(method, "dmarc") == 0)
        return strcmp(property, "header.from") == 0;
    return false;
}

/* One resinfo piece; false when it does not start with method=result. */
static bool parse_result(const char *piece, struct arc_aar_result *r)
{
    char word[512];
    const char *p = piece;
    if (!next_word(&p, word, sizeof word))
        return false;
    char *eq = strchr(word, '=');
    if (eq == NULL || eq == word || eq[1] == '\0')
        return false;
    char *slash = memchr(word, '/', (size_t)(eq - word));
    size_t method_len = (size_t)((slash != NULL ? slash : eq) - word);
    if (method_len == 0)
        return false;                       /* "/1=pass": a version without a method */
    copy_lower(r->method, sizeof r->method, word, method_len);
    copy_lower(r->result, sizeof r->result, eq + 1, strlen(eq + 1));
    r->domain[0] = '\0';
    while (next_word(&p, word, sizeof word)) {
        eq = strchr(word, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        for (char *c = word; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (r->domain[0] == '\0' && identity_property(r->method, word))
            set_domain(r, eq + 1);
    }
    return true;
}

/* The end of the piece starting at s: the next ";" outside quotes, or the string's end. */
static char *piece_end(char *s)
{
    bool quoted = false;
    for (; *s != '\0'; s++) {
        if (*s == '\\' && quoted && s[1] != '\0')
            s++;
        else if (*s == '"')
            quoted = !quoted;
        else if (*s == ';' && !quoted)
            return s;
    }
    return s;
}

bool arc_aar_parse(const char *payload, struct arc_aar *out)
{
    memset(out, 0, sizeof *out);
    char *plain = malloc(PLAIN_MAX);
    if (plain == NULL)
        return false;
    strip_comments(payload, plain);
    join_around_equals(plain);
    char *piece = plain;
    char *end = piece_end(piece);
    bool last = *end == '\0';
    *end = '\0';
    const char *p = piece;
    char word[256];
    bool ok = next_word(&p, word, sizeof word) && word[0] != '\0' && strchr(word, '=') == NULL;
    if (ok)
        copy_lower(out->authserv_id, sizeof out->authserv_id, word, strlen(word));
    while (ok && !last) {
        piece = end + 1;
        end = piece_end(piece);
        last = *end == '\0';
        *end = '\0';
        struct arc_aar_result r;
        const char *q = piece;
        if (!next_word(&q, word, sizeof word))
            continue;                       /* an empty piece: a trailing ";" */
        if (strcmp(word, "none") == 0)
            continue;                       /* no-result */
        if (!parse_result(piece, &r) || out->count == ARC_AAR_MAX_RESULTS) {
            out->dropped++;
            continue;
        }
        out->result[out->count++] = r;
    }
    free(plain);
    if (!ok)
        memset(out, 0, sizeof *out);
    return ok;
}

bool arc_aar_passed(const struct arc_aar *aar, const char *method)
{
    for (size_t i = 0; i < aar->count; i++) {
        if (strcmp(aar->result[i].method, method) == 0 && strcmp(aar->result[i].result, "pass") == 0)
            return true;
    }
    return false;
}
