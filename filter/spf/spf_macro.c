/* spf_macro.c - RFC 7208 section 7 macros: checks and expands macro-strings (domain-specs and
 * explanation text). Promises: every letter, the digit and "r" transformers and all seven
 * delimiters; upper-case letters URL-escaped; c, r and t refused outside explanations; the
 * output bounded by SPF_MACRO_MAX_OUTPUT; a domain result cut to 253 characters from the
 * left. The values come from the caller; only %{p} calls back (for its DNS lookups). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf.h"
#include "util.h"

#define MAX_PARTS 128

static bool is_literal(unsigned char c, enum spf_macro_mode mode)
{
    if (c == ' ')
        return mode == SPF_MACRO_EXPLAIN;
    return c >= 0x21 && c <= 0x7e && c != '%';
}

static bool is_delimiter(char c)
{
    return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

struct macro_spec {
    char letter;          /* lower case */
    bool escape;          /* written in upper case */
    unsigned keep;        /* right-hand parts to keep; 0 = all */
    bool reverse;
    char delimiters[8];
};

/* Parses "%{...}" at s (s[0] == '%', s[1] == '{'); returns the length or 0 on error. */
static size_t parse_expand(const char *s, size_t len, enum spf_macro_mode mode,
    struct macro_spec *spec, char *why, size_t why_size)
{
    memset(spec, 0, sizeof *spec);
    size_t i = 2;
    if (i >= len) {
        snprintf(why, why_size, "unterminated macro");
        return 0;
    }
    char letter = (char)tolower((unsigned char)s[i]);
    if (strchr("slodiphcrtv", letter) == NULL || s[i] == '\0') {
        snprintf(why, why_size, "unknown macro letter '%c'", isprint((unsigned char)s[i])
            ? s[i] : '?');
        return 0;
    }
    if (mode == SPF_MACRO_DOMAIN && strchr("crt", letter) != NULL) {
        snprintf(why, why_size, "macro letter '%c' is allowed only in explanations", s[i]);
        return 0;
    }
    spec->letter = letter;
    spec->escape = isupper((unsigned char)s[i]) != 0;
    i++;
    if (i < len && isdigit((unsigned char)s[i])) {
        unsigned long keep = 0;
        while (i < len && isdigit((unsigned char)s[i])) {
            if (keep < MAX_PARTS * 10)
                keep = keep * 10 + (unsigned long)(s[i] - '0');
            i++;
        }
        if (keep == 0) {
            snprintf(why, why_size, "a macro's digit transformer must not be 0");
            return 0;
        }
        spec->keep = keep > MAX_PARTS ? MAX_PARTS : (unsigned)keep;
    }
    if (i < len && (s[i] == 'r' || s[i] == 'R')) {
        spec->reverse = true;
        i++;
    }
    size_t ndelim = 0;
    while (i < len && is_delimiter(s[i])) {
        if (strchr(spec->delimiters, s[i]) == NULL && ndelim < sizeof spec->delimiters - 1)
            spec->delimiters[ndelim++] = s[i];
        i++;
    }
    if (i >= len || s[i] != '}') {
        snprintf(why, why_size, "bad macro: expected '}'");
        return 0;
    }
    return i + 1;
}

/* Walks text; for each piece calls literal() or expand(). Returns false on a syntax error. */
static bool walk(const char *text, size_t len, enum spf_macro_mode mode, char *why,
    size_t why_size, bool (*emit)(void *arg, const char *lit, size_t n,
    const struct macro_spec *spec), void *arg)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c != '%') {
            if (!is_literal(c, mode)) {
                snprintf(why, why_size, "character 0x%02x is not allowed here", c);
                return false;
            }
            size_t start = i;
            while (i < len && text[i] != '%' && is_literal((unsigned char)text[i], mode))
                i++;
            if (emit != NULL && !emit(arg, text + start, i - start, NULL))
                return false;
            continue;
        }
        if (i + 1 >= len) {
            snprintf(why, why_size, "a '%%' at the end (write %%%% for a percent sign)");
            return false;
        }
        char next = text[i + 1];
        const char *lit = next == '%' ? "%" : next == '_' ? " " : next == '-' ? "%20" : NULL;
        if (lit != NULL) {
            if (emit != NULL && !emit(arg, lit, strlen(lit), NULL))
                return false;
            i += 2;
            continue;
        }
        if (next != '{') {
            snprintf(why, why_size, "'%%' must be followed by {, %%, _ or -");
            return false;
        }
        struct macro_spec spec;
        size_t n = parse_expand(text + i, len - i, mode, &spec, why, why_size);
        if (n == 0)
            return false;
        if (emit != NULL && !emit(arg, NULL, 0, &spec))
            return false;
        i += n;
    }
    return true;
}

bool spf_macro_valid(const char *text, size_t len, enum spf_macro_mode mode, char *why,
    size_t why_size)
{
    return walk(text, len, mode, why, why_size, NULL, NULL);
}

struct expansion {
    const struct spf_macro_vars *vars;
    struct textbuf out;
    bool too_long;
};

static void append_bounded(struct expansion *x, const char *s, size_t n)
{
    if (x->out.len + n > SPF_MACRO_MAX_OUTPUT) {
        x->too_long = true;
        return;
    }
    textbuf_append(&x->out, s, n);
}

static void ip_dotted(const struct ipaddr *ip, char *buf, size_t size)
{
    if (ip->family != AF_INET6) {
        snprintf(buf, size, "%u.%u.%u.%u", ip->bytes[0], ip->bytes[1], ip->bytes[2],
            ip->bytes[3]);
        return;
    }
    /* upper-case nibbles, as the OpenSPF suite expects (v-macro-ip6); DNS ignores case */
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (int i = 0; i < 16 && o + 4 < size; i++) {
        buf[o++] = hex[ip->bytes[i] >> 4];
        buf[o++] = '.';
        buf[o++] = hex[ip->bytes[i] & 15];
        if (i < 15)
            buf[o++] = '.';
    }
    buf[o] = '\0';
}

static const char *letter_value(const struct expansion *x, char letter, char *buf, size_t size)
{
    const struct spf_macro_vars *v = x->vars;
    const char *value = NULL;
    switch (letter) {
    case 's': value = v->sender; break;
    case 'l': value = v->local_part; break;
    case 'o': value = v->sender_domain; break;
    case 'd': value = v->domain; break;
    case 'h': value = v->helo; break;
    case 'i':
        ip_dotted(&v->client, buf, size);
        return buf;
    case 'c':
        ipaddr_format(&v->client, buf, size);
        return buf;
    case 'v':
        return v->client.family == AF_INET6 ? "ip6" : "in-addr";
    case 'r':
        value = v->receiver != NULL ? v->receiver : "unknown";
        break;
    case 't':
        snprintf(buf, size, "%llu", (unsigned long long)v->now);
        return buf;
    case 'p':
        value = v->validated_name != NULL ? v->validated_name(v->validated_name_arg) : NULL;
        if (value == NULL)
            value = "unknown";
        break;
    default: break;
    }
    return value != NULL ? value : "";
}

/* Splits value on the delimiters, keeps the rightmost `keep` parts (after reversal) and joins
 * them with dots. */
static void transform(struct expansion *x, const char *value, const struct macro_spec *spec)
{
    const char *delims = spec->delimiters[0] != '\0' ? spec->delimiters : ".";
    const char *starts[MAX_PARTS];
    size_t lens[MAX_PARTS];
    size_t count = 0;
    const char *p = value;
    for (;;) {
        size_t n = strcspn(p, delims);
        if (count == MAX_PARTS) {      /* more parts than anyone keeps: fold the rest in */
            lens[count - 1] = (size_t)(p + strlen(p) - starts[count - 1]);
            break;
        }
        starts[count] = p;
        lens[count] = n;
        count++;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    size_t first = 0;
    if (spec->keep > 0 && spec->keep < count)
        first = count - spec->keep;
    /* reversal comes before removing left-hand parts (RFC 7208 7.3) */
    size_t order[MAX_PARTS];
    for (size_t k = 0; k < count; k++)
        order[k] = spec->reverse ? count - 1 - k : k;
    bool any = false;
    for (size_t k = first; k < count; k++) {
        if (any)
            append_bounded(x, ".", 1);
        any = true;
        append_bounded(x, starts[order[k]], lens[order[k]]);
    }
}

static void url_escape_append(struct expansion *x, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            append_bounded(x, (const char *)&s[i], 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            append_bounded(x, esc, 3);
        }
    }
}

static bool emit_expansion(void *arg, const char *lit, size_t n, const struct macro_spec *spec)
{
    struct expansion *x = arg;
    if (spec == NULL) {
        append_bounded(x, lit, n);
        return !x->too_long;
    }
    char buf[128];
    const char *value = letter_value(x, spec->letter, buf, sizeof buf);
    if (!spec->escape) {
        transform(x, value, spec);
        return !x->too_long;
    }
    struct expansion plain = {.vars = x->vars};
    textbuf_init(&plain.out);
    transform(&plain, value, spec);
    if (plain.too_long)
        x->too_long = true;
    else
        url_escape_append(x, plain.out.data != NULL ? plain.out.data : "", plain.out.len);
    textbuf_free(&plain.out);
    return !x->too_long;
}

/* Removes labels from the left until the name is at most 253 characters. */
static void cut_to_253(struct textbuf *b)
{
    if (b->len <= 253)
        return;
    size_t start = 0;
    while (b->len - start > 253) {
        const char *dot = memchr(b->data + start, '.', b->len - start);
        if (dot == NULL) {
            start = b->len;
            break;
        }
        start = (size_t)(dot - b->data) + 1;
    }
    memmove(b->data, b->data + start, b->len - start + 1);
    b->len -= start;
}

bool spf_macro_expand(const char *text, enum spf_macro_mode mode, const struct spf_macro_vars *v,
    char **out, char *why, size_t why_size)
{
    struct expansion x = {.vars = v};
    textbuf_init(&x.out);
    *out = NULL;
    if (!walk(text, strlen(text), mode, why, why_size, emit_expansion, &x)) {
        if (x.too_long)
            snprintf(why, why_size, "macro expansion longer than %d characters",
                SPF_MACRO_MAX_OUTPUT);
        textbuf_free(&x.out);
        return false;
    }
    if (mode == SPF_MACRO_DOMAIN)
        cut_to_253(&x.out);
    *out = x.out.data != NULL ? x.out.data : xstrdup("");
    return true;
}
