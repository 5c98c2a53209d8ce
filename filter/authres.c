/* authres.c - Authentication-Results (RFC 8601). Ours is "authserv-id; method=result ..." or
 * "authserv-id; none"; an incoming field is ours (and so forged) when its authserv-id, after
 * comments and white space, equals our id. */
#include "authres.h"

#include <ctype.h>
#include <string.h>

#include "util.h"

char *authres_build(const struct txn *t)
{
    struct textbuf sb;
    textbuf_init(&sb);
    textbuf_puts(&sb, t->cfg->authres.authserv_id);
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

/* RFC 2045 token characters, plus '@' and '.' so that user@domain stays readable unquoted. */
static bool plain_value(const char *s)
{
    if (*s == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 32 || *p >= 127 || strchr("()<>,;:\\\"/[]?=", *p) != NULL)
            return false;
    }
    return true;
}

char *authres_auth_method(const char *user)
{
    struct textbuf sb;
    textbuf_init(&sb);
    textbuf_puts(&sb, "auth=pass smtp.auth=");
    if (plain_value(user)) {
        textbuf_puts(&sb, user);
    } else {
        textbuf_puts(&sb, "\"");
        for (const unsigned char *p = (const unsigned char *)user; *p; p++) {
            if (*p < 32 || *p == 127)
                continue;            /* no control characters in a header */
            if (*p == '"' || *p == '\\')
                textbuf_append(&sb, "\\", 1);
            textbuf_append(&sb, (const char *)p, 1);
        }
        textbuf_puts(&sb, "\"");
    }
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
