/* rules_prefilter_expr.c - what Hyperscan is given for a rule's regex: a superset of it, which
 * is all a prefilter needs. Counted repeats are loosened where their upper bound would cost
 * Hyperscan's compiler (its compile time grows with the bounds: a rule with [^>]{0,2048} twice
 * takes seconds; a lower bound on one item costs next to nothing, measured on the stock rules:
 * 31.8 s of compile with the lower bounds kept, 31.6 s without), and anchors are removed from
 * the few patterns Hyperscan refuses for them. Pure string rewriting: the output matches
 * everything the input matches. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rules_prefilter_expr.h"
#include "util.h"

/* The largest lower bound kept on one item (X{998} stays X{998,}: Hyperscan then reports only
 * the lines that long), and on a group of at most PREFILTER_SHORT_GROUP bytes (its copies are
 * unrolled by the compiler). */
#define PREFILTER_KEEP_MIN 1000
#define PREFILTER_KEEP_GROUP_MIN 6
#define PREFILTER_SHORT_GROUP 64
#define PREFILTER_MAX_DEPTH 64

/* A counted repeat {m}, {m,} or {m,n} at p: its length (0 when p is not one) and bounds. */
static size_t counted_repeat(const char *p, unsigned long *min, unsigned long *max)
{
    const char *q = p + 1;
    if (*p != '{' || *q < '0' || *q > '9')
        return 0;
    *min = strtoul(q, (char **)&q, 10);
    *max = *min;
    if (*q == ',') {
        q++;
        *max = ULONG_MAX;
        if (*q >= '0' && *q <= '9')
            *max = strtoul(q, (char **)&q, 10);
    }
    if (*q != '}')
        return 0;
    return (size_t)(q + 1 - p);
}

/* How many bytes of an escape start at p (a backslash): \x{..}, \o{..}, \p{..}, ... whole. */
static size_t escape_length(const char *p)
{
    if (p[1] == '\0')
        return 1;
    if (strchr("xopPNgk", p[1]) != NULL && p[2] == '{') {
        const char *close = strchr(p + 2, '}');
        return close != NULL ? (size_t)(close + 1 - p) : 2;   /* \x{..}: not a repeat */
    }
    return 2;
}

/* What neither rewrite touches, copied to out: an escape, a byte inside a bracket class, or
 * a class's opening ("[", "[^", with a literal "]" first). Returns the bytes copied, 0 when p is
 * at none of them; *in_class follows the classes. */
static size_t copied_as_is(const char *p, bool *in_class, struct textbuf *out)
{
    const char *start = p;
    if (*p == '\\') {
        p += escape_length(p);
    } else if (*in_class) {
        *in_class = *p != ']';
        p++;
    } else if (*p == '[') {
        *in_class = true;
        p++;
        if (*p == '^')
            p++;
        if (*p == ']')
            p++;                                  /* a literal ] first in a class */
    }
    if (p > start)
        textbuf_append(out, start, (size_t)(p - start));
    return (size_t)(p - start);
}

/* The lower bound written for a loosened repeat of min. */
static unsigned long kept_min(unsigned long min, bool after_group, size_t group_len,
    bool keep_counts)
{
    unsigned long most = 1;
    if (keep_counts && !after_group)
        most = PREFILTER_KEEP_MIN;
    else if (keep_counts && group_len <= PREFILTER_SHORT_GROUP)
        most = PREFILTER_KEEP_GROUP_MIN;
    return min < most ? min : most;
}

char *prefilter_expression(const char *pattern, bool extended, bool keep_counts)
{
    struct textbuf out;
    textbuf_init(&out);
    if (extended)
        textbuf_puts(&out, "(?x)");
    bool in_class = false;
    size_t opened[PREFILTER_MAX_DEPTH], depth = 0, group_len = SIZE_MAX;
    for (const char *p = pattern; *p;) {
        size_t same = copied_as_is(p, &in_class, &out);
        if (same > 0) {
            p += same;
            continue;
        }
        if (*p == '(') {
            if (depth < PREFILTER_MAX_DEPTH)
                opened[depth] = out.len;
            depth++;
        } else if (*p == ')' && depth > 0) {
            depth--;
            group_len = depth < PREFILTER_MAX_DEPTH ? out.len + 1 - opened[depth] : SIZE_MAX;
        }
        unsigned long min, max;
        size_t n = counted_repeat(p, &min, &max);
        bool after_group = p > pattern && p[-1] == ')';
        if (n > 0 && (max > 4 || (after_group && max > 1))) {
            min = kept_min(min, after_group, group_len, keep_counts);
            if (min <= 1)
                textbuf_puts(&out, min == 0 ? "*" : "+");
            else
                textbuf_printf(&out, "{%lu,}", min);
            p += n;
            if (*p == '?' || *p == '+')
                p++;                                /* lazy or possessive: a subset anyway */
            continue;
        }
        textbuf_append(&out, p++, 1);
    }
    return out.data ? out.data : xstrdup("");
}

char *prefilter_anchor_free(const char *expression)
{
    struct textbuf out;
    textbuf_init(&out);
    bool in_class = false, removed = false;
    for (const char *p = expression; *p;) {
        bool escaped_anchor = !in_class && p[0] == '\\' && p[1] != '\0'
            && strchr("AZzG", p[1]) != NULL;
        size_t same = escaped_anchor ? 0 : copied_as_is(p, &in_class, &out);
        if (same > 0) {
            p += same;
            continue;
        }
        if (escaped_anchor) {
            removed = true;
            p += 2;
            continue;
        }
        if (*p == '^' || *p == '$') {
            removed = true;
            p++;
            continue;
        }
        textbuf_append(&out, p++, 1);
    }
    if (!removed) {
        free(out.data);
        return NULL;
    }
    return out.data ? out.data : xstrdup("");
}
