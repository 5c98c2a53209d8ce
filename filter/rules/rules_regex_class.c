/* rules_regex_class.c - bracket classes and byte escapes of a rule's regex text (see
 * rules_regex_class.h): the one reader of them for the prefilter's pattern rewrites. */
#include "rules_regex_class.h"

#include <ctype.h>
#include <stdlib.h>

const char *regex_class_end(const char *p)
{
    const char *q = p + 1;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++;
    while (*q != '\0' && *q != ']')
        q += (*q == '\\' && q[1] != '\0') ? 2 : 1;
    return *q == ']' ? q : NULL;
}

int regex_member_byte(const char *p, size_t *len)
{
    if (p[0] == '\\' && p[1] == 'x' && isxdigit((unsigned char)p[2])
            && isxdigit((unsigned char)p[3])) {
        char hex[3] = { p[2], p[3], '\0' };
        *len = 4;
        return (int)strtol(hex, NULL, 16);
    }
    if (p[0] == '\\') {
        *len = p[1] != '\0' ? 2 : 1;
        return -1;
    }
    *len = 1;
    return (unsigned char)p[0];
}

bool regex_class_high_only(const char *p, const char *end)
{
    if (p[1] == '^' || end == p + 1)
        return false;
    for (const char *q = p + 1; q < end;) {
        size_t len;
        if (regex_member_byte(q, &len) < 0x80)
            return false;
        q += len;
        if (*q == '-' && q + 1 < end) {
            if (regex_member_byte(q + 1, &len) < 0x80)
                return false;
            q += 1 + len;
        }
    }
    return true;
}
