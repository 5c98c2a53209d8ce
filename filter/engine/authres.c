/* authres.c - Authentication-Results (RFC 8601). Ours is "authserv-id; method=result ..." or
 * "authserv-id; none"; an incoming field is ours (and so forged) when its authserv-id, after
 * comments and white space, equals our id. */
#include "authres.h"

#include <ctype.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* RFC 2045 token: 1*<any US-ASCII CHAR except SPACE, CTLs, or tspecials>. */
static bool is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
            return false;
    }
    return true;
}

const char *authres_id(const struct txn *t)
{
    const char *mta = t->mta_hostname;
    if (t->cfg->authres.authserv_id_is_default && mta != NULL && is_token(mta, strlen(mta)))
        return mta;
    return t->cfg->authres.authserv_id;
}

char *authres_build(const struct txn *t)
{
    struct textbuf sb;
    textbuf_init(&sb);
    textbuf_puts(&sb, authres_id(t));
    if (t->authres_method_count == 0) {
        textbuf_puts(&sb, "; none");
    } else {
        for (size_t i = 0; i < t->authres_method_count; i++) {
            textbuf_puts(&sb, ";\n\t");
            textbuf_puts(&sb, t->authres_methods[i]);
        }
    }
    return sb.data;
}

/* RFC 5322 dot-atom-text (ASCII): atext runs separated by single dots. */
static bool is_dot_atom(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' ? s[i + 1] == '.' : !(isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c)))
            return false;
    }
    return true;
}

/* RFC 6376 domain-name: sub-domain 1*("." sub-domain), each label of letters, digits and
 * inner hyphens. */
static bool is_domain_name(const char *s, size_t len)
{
    size_t labels = 0, label_len = 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)s[i] : '.';
        if (c == '.') {
            if (label_len == 0 || s[i - 1] == '-')
                return false;
            labels++;
            label_len = 0;
        } else if (isalnum(c) || (c == '-' && label_len > 0)) {
            label_len++;
        } else {
            return false;
        }
    }
    return labels >= 2;
}

/* RFC 8601 2.2 pvalue's second form: [ [ local-part ] "@" ] domain-name, written bare. */
static bool is_address_form(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (at == NULL)
        return false;
    size_t local = (size_t)(at - s);
    return (local == 0 || is_dot_atom(s, local)) && is_domain_name(at + 1, len - local - 1);
}

/* Length of the UTF-8 sequence (RFC 3629) at p that is allowed in a quoted-string (RFC 6532:
 * UTF8-non-ascii, not a C1 control U+0080..U+009F); 0 when it is not one. */
static size_t utf8_qtext_len(const unsigned char *p)
{
    size_t n;
    unsigned min;
    unsigned cp;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2, min = 0x80, cp = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3, min = 0x800, cp = p[0] & 0x0fu;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4, min = 0x10000, cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
        return 0;
    return n;
}

bool authres_value_writable(const char *value, const char **why)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; ) {
        if (*p == '\r' || *p == '\n') {
            *why = "it contains a line break";
            return false;
        }
        if ((*p < 32 && *p != '\t') || *p == 127) {
            *why = "it contains a control character";
            return false;
        }
        if (*p < 128) {
            p++;
            continue;
        }
        size_t n = utf8_qtext_len(p);
        if (n == 0) {
            *why = "it contains bytes that are not UTF-8 text";
            return false;
        }
        p += n;
    }
    return true;
}

bool authres_append_value(struct textbuf *b, const char *value)
{
    const char *why;
    if (!authres_value_writable(value, &why))
        return false;
    size_t len = strlen(value);
    if (is_token(value, len) || is_address_form(value, len)) {
        textbuf_append(b, value, len);
        return true;
    }
    textbuf_puts(b, "\"");
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            textbuf_append(b, "\\", 1);
        textbuf_append(b, p, 1);
    }
    textbuf_puts(b, "\"");
    return true;
}

bool authres_add_property(struct textbuf *b, const char *property, const char *value)
{
    const char *why;
    if (!authres_value_writable(value, &why)) {
        log_info("Authentication-Results: %s left out: %s", property, why);
        return false;
    }
    textbuf_printf(b, " %s=", property);
    return authres_append_value(b, value);
}

char *authres_auth_method(const char *user)
{
    struct textbuf sb;
    textbuf_init(&sb);
    textbuf_puts(&sb, "auth=pass");
    authres_add_property(&sb, "smtp.auth", user);
    return sb.data;
}

/* Skips white space and (nested) comments. */
static const char *skip_cfws(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '(')
            return p;
        int depth = 0;
        for (; *p; p++) {
            if (*p == '\\' && p[1] != '\0') {
                p++;
                continue;
            }
            if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
    }
}

bool authres_is_ours(const char *value, const char *authserv_id)
{
    const char *p = skip_cfws(value);
    const char *start = p;
    if (*p == '"') {       /* a quoted-string authserv-id */
        start = ++p;
        while (*p && *p != '"')
            p++;
    } else {
        while (*p && !isspace((unsigned char)*p) && *p != ';' && *p != '(')
            p++;
    }
    size_t len = (size_t)(p - start);
    return len == strlen(authserv_id) && strncasecmp(start, authserv_id, len) == 0;
}
