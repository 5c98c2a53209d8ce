/* dkim_keyrecord.c - the DKIM key record parser (RFC 6376 3.6.1, RFC 8463; see
 * dkim_keyrecord.h). Tag syntax as in RFC 6376 3.2; values lose all white space (key records
 * fold p= freely). */
#include "dkim_keyrecord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool fail(struct dkim_keyrecord *rec, const char *why)
{
    free(rec->public_b64);
    rec->public_b64 = NULL;
    snprintf(rec->error, sizeof rec->error, "%s", why);
    return false;
}

/* Whether the colon-separated list (white space already removed) holds word; "*" matches. */
static bool list_has(const char *list, const char *word, bool star_matches)
{
    size_t wlen = strlen(word);
    const char *p = list;
    while (*p != '\0') {
        const char *end = strchr(p, ':');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if ((n == wlen && strncmp(p, word, n) == 0) || (star_matches && n == 1 && *p == '*'))
            return true;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return false;
}

/* One tag=value; name and value are NUL-terminated, value without white space. */
static bool take_tag(struct dkim_keyrecord *rec, const char *name, const char *value,
    bool first, unsigned *seen_p)
{
    if (strcmp(name, "v") == 0) {
        if (!first)
            return fail(rec, "v= is not the first tag of the key record");
        if (strcmp(value, "DKIM1") != 0)
            return fail(rec, "v= is not DKIM1");
    } else if (strcmp(name, "k") == 0) {
        if (strcmp(value, "rsa") == 0)
            rec->type = DKIM_KEYRECORD_RSA;
        else if (strcmp(value, "ed25519") == 0)
            rec->type = DKIM_KEYRECORD_ED25519;
        else
            rec->type = DKIM_KEYRECORD_OTHER;
    } else if (strcmp(name, "h") == 0) {
        rec->sha256_allowed = list_has(value, "sha256", false);
        rec->sha1_allowed = list_has(value, "sha1", false);
    } else if (strcmp(name, "s") == 0) {
        rec->email_service = list_has(value, "email", true);
    } else if (strcmp(name, "t") == 0) {
        rec->testing = list_has(value, "y", false);
        rec->strict = list_has(value, "s", false);
    } else if (strcmp(name, "p") == 0) {
        (*seen_p)++;
        if (value[0] == '\0') {
            rec->revoked = true;
        } else {
            for (const char *c = value; *c != '\0'; c++) {
                if (!is_alpha(*c) && !(*c >= '0' && *c <= '9') && *c != '+' && *c != '/'
                    && *c != '=')
                    return fail(rec, "p= is not base64");
            }
            free(rec->public_b64);
            rec->public_b64 = xstrdup(value);
        }
    }
    return true;                       /* unknown tags are ignored (RFC 6376 3.6.1) */
}

bool dkim_keyrecord_parse(const char *record, struct dkim_keyrecord *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->type = DKIM_KEYRECORD_RSA;
    rec->sha256_allowed = true;
    rec->sha1_allowed = true;
    rec->email_service = true;
    char names[32][16];
    size_t name_count = 0;
    unsigned seen_p = 0;
    const char *p = record;
    bool first = true;
    for (;;) {
        while (is_space(*p))
            p++;
        if (*p == '\0')
            break;
        if (!is_alpha(*p))
            return fail(rec, "a tag name does not start with a letter");
        const char *name_start = p;
        while (is_alpha(*p) || (*p >= '0' && *p <= '9') || *p == '_')
            p++;
        size_t name_len = (size_t)(p - name_start);
        while (is_space(*p))
            p++;
        if (*p != '=')
            return fail(rec, "a tag without \"=\"");
        p++;
        const char *end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        char *value = xmalloc((size_t)(end - p) + 1);
        size_t n = 0;
        for (const char *c = p; c < end; c++) {
            if (!is_space(*c))
                value[n++] = *c;
        }
        value[n] = '\0';
        char name[16];
        if (name_len >= sizeof name) {
            free(value);
            first = false;                 /* a long unknown tag name: ignored */
            p = *end == ';' ? end + 1 : end;
            continue;
        }
        memcpy(name, name_start, name_len);
        name[name_len] = '\0';
        for (size_t i = 0; i < name_count; i++) {
            if (strcmp(names[i], name) == 0) {
                free(value);
                return fail(rec, "a tag appears twice in the key record");
            }
        }
        if (name_count < 32)
            memcpy(names[name_count++], name, name_len + 1);
        bool ok = take_tag(rec, name, value, first, &seen_p);
        free(value);
        if (!ok)
            return false;
        first = false;
        p = *end == ';' ? end + 1 : end;
    }
    if (seen_p == 0)
        return fail(rec, "no p= tag in the key record");
    return true;
}

void dkim_keyrecord_free(struct dkim_keyrecord *rec)
{
    free(rec->public_b64);
    rec->public_b64 = NULL;
}
