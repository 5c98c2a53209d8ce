/* rules_regex_class.c - bracket classes, byte escapes, counted repeats, alternation branches and
 * branches of high bytes only of a rule's regex text (see rules_regex_class.h): the one reader of
 * them for the prefilter's pattern rewrites. */
#include "rules_regex_class.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

size_t regex_counted_repeat(const char *p, unsigned long *min, unsigned long *max)
{
    if (p[0] != '{' || p[1] < '0' || p[1] > '9')
        return 0;
    char *q;
    *min = strtoul(p + 1, &q, 10);
    *max = *min;
    if (*q == ',') {
        q++;
        *max = ULONG_MAX;
        if (*q >= '0' && *q <= '9')
            *max = strtoul(q, &q, 10);
    }
    return *q == '}' ? (size_t)(q + 1 - p) : 0;
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

bool regex_branch_end(const char *s, size_t n, size_t start, size_t *end)
{
    size_t depth = 0;
    for (size_t i = start; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '[') {
            const char *close = regex_class_end(s + i);
            if (close == NULL || close >= s + n)
                return false;
            i = (size_t)(close - s);
            continue;
        }
        if (s[i] == '(')
            depth++;
        if (s[i] == ')')
            depth--;
        if (s[i] == '|' && depth == 0) {
            *end = i;
            return true;
        }
    }
    *end = n;
    return true;
}

bool regex_branch_high_only(const char *b, size_t n, bool plus)
{
    bool item = false, expect_item = true, after_plus = false;
    size_t depth = 0;
    for (size_t i = 0; i < n;) {
        const char *p = b + i;
        size_t len;
        after_plus = after_plus && *p == '+';
        if (*p == '[') {
            const char *close = regex_class_end(p);
            if (close == NULL || close >= b + n || !regex_class_high_only(p, close))
                return false;
            i = (size_t)(close - b) + 1;
            item = true;
            expect_item = false;
        } else if (*p == '\\') {
            if (regex_member_byte(p, &len) < 0x80)
                return false;
            i += len;
            item = true;
            expect_item = false;
        } else if (strncmp(p, "(?:", 3) == 0 && i + 3 <= n) {
            i += 3;
            depth++;
            expect_item = true;
        } else if (plus && *p == '+' && !expect_item && !after_plus) {
            i++;                            /* once or more: still high bytes only */
            after_plus = true;
            continue;
        } else if (*p == '|' || *p == ')') {
            if (expect_item || (*p == ')' && depth == 0))
                return false;               /* an empty alternative, or unbalanced */
            depth -= *p == ')';
            i++;
            expect_item = *p == '|';
        } else {
            return false;                   /* a quantifier, a letter, a capture, ... */
        }
    }
    return item && !expect_item && depth == 0;
}
