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
#include "rules_regex_class.h"
#include "util.h"

/* The largest lower bound kept on one item (X{998} stays X{998,}: Hyperscan then reports only
 * the lines that long), and on a group of at most PREFILTER_SHORT_GROUP bytes (its copies are
 * unrolled by the compiler). */
#define PREFILTER_KEEP_MIN 1000
#define PREFILTER_KEEP_GROUP_MIN 6
#define PREFILTER_SHORT_GROUP 64
#define PREFILTER_MAX_DEPTH 64

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

/* What neither rewrite touches, copied to out: an escape, or a bracket class whole (the rest of
 * the expression when the class is not closed). Returns the bytes copied, 0 when p is at
 * neither. */
static size_t copied_as_is(const char *p, struct textbuf *out)
{
    size_t n = 0;
    if (*p == '\\') {
        n = escape_length(p);
    } else if (*p == '[') {
        const char *end = regex_class_end(p);
        n = end != NULL ? (size_t)(end + 1 - p) : strlen(p);
    }
    if (n > 0)
        textbuf_append(out, p, n);
    return n;
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
    size_t opened[PREFILTER_MAX_DEPTH], depth = 0, group_len = SIZE_MAX;
    for (const char *p = pattern; *p;) {
        size_t same = copied_as_is(p, &out);
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
        size_t n = regex_counted_repeat(p, &min, &max);
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
    bool removed = false;
    for (const char *p = expression; *p;) {
        if (p[0] == '\\' && p[1] != '\0' && strchr("AZzG", p[1]) != NULL) {
            removed = true;                       /* \A, \Z, \z, \G */
            p += 2;
            continue;
        }
        size_t same = copied_as_is(p, &out);
        if (same > 0) {
            p += same;
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
