/* view_charset.c - text to valid UTF-8: declared charsets converted through GMime's iconv
 * wrapper (which knows the aliases mail uses), invalid sequences replaced by U+FFFD and
 * reported; and whether base64 or quoted-printable content is well-formed (GMime's decoders
 * skip what they cannot read without saying so). */
#include "view_build.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <string.h>

/* Copies s into out as valid UTF-8: each invalid byte becomes U+FFFD and each NUL a space.
 * Returns false when anything had to be replaced. */
bool view_utf8_sanitize(const char *s, size_t len, struct textbuf *out)
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
char *view_to_utf8(const char *charset, const char *in, size_t len, size_t *out_len, bool *bad)
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
    if (!view_utf8_sanitize(raw.data ? raw.data : "", raw.len, &out))
        *bad = true;
    textbuf_free(&raw);
    if (out.data == NULL)
        textbuf_puts(&out, "");
    *out_len = out.len;
    return out.data;
}


bool view_base64_valid(const unsigned char *s, size_t len)
{
    size_t padding = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (view_is_space(c))
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

bool view_qp_valid(const unsigned char *s, size_t len)
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

