/* dkim_util.c - the From: address for the DKIM signing check. */
#include "dkim_util.h"

#include <ctype.h>
#include <string.h>

/* Copies value without RFC 5322 comments and quoted strings (for finding the address). */
static void strip_comments(const char *value, char *out, size_t size)
{
    size_t n = 0;
    int depth = 0;
    bool quoted = false;
    for (const char *p = value; *p != '\0' && n + 1 < size; p++) {
        if (*p == '\\' && p[1] != '\0') {
            if (depth == 0 && !quoted)
                out[n++] = p[1];
            p++;
        } else if (quoted) {
            quoted = *p != '"';
        } else if (*p == '"' && depth == 0) {
            quoted = true;
        } else if (*p == '(') {
            depth++;
        } else if (*p == ')' && depth > 0) {
            depth--;
        } else if (depth == 0) {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

bool dkim_from_address(const char *value, char *out, size_t size)
{
    char clean[1024];
    strip_comments(value, clean, sizeof clean);
    const char *start = strchr(clean, '<');
    const char *end;
    if (start != NULL) {
        start++;
        end = strchr(start, '>');
        if (end == NULL)
            return false;
    } else {
        start = clean;
        while (isspace((unsigned char)*start))
            start++;
        end = start;
        while (*end != '\0' && *end != ',' && !isspace((unsigned char)*end))
            end++;
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= size)
        return false;
    memcpy(out, start, len);
    out[len] = '\0';
    str_lower(out);
    const char *at = strrchr(out, '@');
    return at != NULL && at[1] != '\0' && at != out;
}
