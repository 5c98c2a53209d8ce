/* util.c - allocation that never returns NULL (it aborts with a log line: the MTA then applies
 * milter_default_action, so no mail is lost), strings, size and duration parsing, clock. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static void out_of_memory(size_t size)
{
    log_err("out of memory allocating %zu bytes", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void line_vprintf(void (*out)(const char *line, void *arg), void *arg, const char *fmt,
    va_list ap)
{
    if (out == NULL)
        return;
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    out(line, arg);
}

void line_printf(void (*out)(const char *line, void *arg), void *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_vprintf(out, arg, fmt, ap);
    va_end(ap);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        out_of_memory(0);
    char *p = xmalloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t strlcpy_mw(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

void textbuf_init(struct textbuf *sb)
{
    sb->cap = 64;
    sb->len = 0;
    sb->data = xmalloc(sb->cap);
    sb->data[0] = '\0';
}

void textbuf_append(struct textbuf *sb, const char *data, size_t len)
{
    if (sb->len + len + 1 > sb->cap) {
        while (sb->len + len + 1 > sb->cap)
            sb->cap *= 2;
        sb->data = xrealloc(sb->data, sb->cap);
    }
    memcpy(sb->data + sb->len, data, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
}

void textbuf_puts(struct textbuf *sb, const char *s)
{
    textbuf_append(sb, s, strlen(s));
}

void textbuf_printf(struct textbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len <= 0)
        return;
    char *tmp = xmalloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)len + 1, fmt, ap);
    va_end(ap);
    textbuf_append(sb, tmp, (size_t)len);
    free(tmp);
}

void textbuf_free(struct textbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

/* Parses a decimal number followed by an optional unit from units[]. */
struct unit {
    const char *suffix;
    uint64_t factor;
};

static bool parse_with_units(const char *text, const struct unit *units, uint64_t *out)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    errno = 0;
    char *end;
    unsigned long long value = strtoull(p, &end, 10);
    if (errno != 0)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    size_t suffix_len = strlen(end);
    while (suffix_len > 0 && isspace((unsigned char)end[suffix_len - 1]))
        suffix_len--;
    for (const struct unit *u = units; u->suffix != NULL; u++) {
        if (strlen(u->suffix) != suffix_len || strncasecmp(end, u->suffix, suffix_len) != 0)
            continue;
        if (u->factor != 0 && value > UINT64_MAX / u->factor)
            return false;
        *out = value * u->factor;
        return true;
    }
    return false;
}

bool parse_size(const char *text, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1}, {"b", 1}, {"k", 1024}, {"kb", 1024}, {"kib", 1024}, {"m", 1024 * 1024},
        {"mb", 1024 * 1024}, {"mib", 1024 * 1024}, {"g", 1024ull * 1024 * 1024},
        {"gb", 1024ull * 1024 * 1024}, {"gib", 1024ull * 1024 * 1024},
        {NULL, 0},
    };
    return parse_with_units(text, units, out);
}

bool parse_duration_ms(const char *text, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
        {NULL, 0},
    };
    return parse_with_units(text, units, out);
}

bool str_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    }
    return *a == *b;
}

bool str_iendswith(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return lx <= ls && str_ieq(s + ls - lx, suffix);
}

void str_lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

char *smtp_addr_strip(const char *arg)
{
    const char *start = arg;
    while (isspace((unsigned char)*start))
        start++;
    size_t len = strlen(start);
    while (len > 0 && isspace((unsigned char)start[len - 1]))
        len--;
    if (len >= 2 && start[0] == '<' && start[len - 1] == '>') {
        start++;
        len -= 2;
    }
    return xstrndup(start, len);
}

const char *addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
