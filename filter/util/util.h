/* util.h - small helpers shared by every file: allocation that never returns NULL,
 * bounded string copies, a growable string buffer, and size/duration parsing. */
#ifndef MW_UTIL_H
#define MW_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Formats one line (at most 2047 bytes, cut beyond) and hands it to out(line, arg): how a
 * report goes to whoever prints it (mailwarden-ctl, -t, the log). Nothing when out is NULL. */
void line_printf(void (*out)(const char *line, void *arg), void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void line_vprintf(void (*out)(const char *line, void *arg), void *arg, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t strlcpy_mw(char *dst, const char *src, size_t size);

/* Growable, always NUL-terminated byte string. */
struct textbuf {
    char *data;
    size_t len;
    size_t cap;
};
void textbuf_init(struct textbuf *sb);
void textbuf_append(struct textbuf *sb, const char *data, size_t len);
void textbuf_puts(struct textbuf *sb, const char *s);
void textbuf_printf(struct textbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void textbuf_free(struct textbuf *sb);

/* "10M", "512k", "4096" -> bytes. Returns false on syntax error or overflow. */
bool parse_size(const char *text, uint64_t *out);
/* "30s", "5m", "2h", "1d", "250ms", "30" (seconds) -> milliseconds. */
bool parse_duration_ms(const char *text, uint64_t *out);

/* ASCII case-insensitive helpers that do not depend on the locale. */
bool str_ieq(const char *a, const char *b);
bool str_iendswith(const char *s, const char *suffix);
void str_lower(char *s);

/* Strips surrounding "<>" and whitespace from an SMTP address argument into a new string. */
char *smtp_addr_strip(const char *arg);
/* Points at the domain part of an address (after the last '@'), or "" when there is none. */
const char *addr_domain(const char *addr);

/* Monotonic clock in milliseconds. */
uint64_t now_ms(void);

#endif
