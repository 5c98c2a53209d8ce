/* rules_prefilter_chain.c - the counted check of a rule that is one group repeated: a pattern
 * "(?:G){n}" (or {n,}, {n,m}, lazy or possessive; n >= 2) can only match where n matches of
 * G follow each other. The prefilter's own pattern loosens the count to "+" (Hyperscan's
 * prefilter approximation of the count is looser still), so such a rule is a candidate on
 * every line one G matches; this file gives the string and arithmetic parts of an exact
 * second check (rules_prefilter.c runs it with Hyperscan): every end of a G match in the
 * text, and a chain of n of them, each at least G's shortest match after the one before
 * (the first one at least that far from the start). The n ends of a real match of G{n}
 * are such a chain, so a text without one cannot match: the check drops candidates, never
 * a hit. Pure functions, no Hyperscan. */
#include <stdlib.h>
#include <string.h>

#include "rules_prefilter_chain.h"
#include "rules_regex_class.h"
#include "util.h"

/* The index of the ")" closing the group opened at pattern[0], or 0 when there is none. */
static size_t group_end(const char *pattern)
{
    size_t depth = 0;
    bool in_class = false;
    for (size_t i = 0; pattern[i] != '\0'; i++) {
        char c = pattern[i];
        if (c == '\\') {
            if (pattern[i + 1] == '\0')
                return 0;
            i++;                                /* an escaped character, in or out of [] */
            continue;
        }
        if (in_class) {
            in_class = c != ']';
            continue;
        }
        if (c == '[') {
            in_class = true;
            if (pattern[i + 1] == '^')
                i++;
            if (pattern[i + 1] == ']')
                i++;                            /* a literal ] first in a class */
            continue;
        }
        if (c == '(')
            depth++;
        if (c == ')' && --depth == 0)
            return i;
    }
    return 0;
}

char *prefilter_chain_group(const char *pattern, unsigned long *count)
{
    if (strncmp(pattern, "(?:", 3) != 0)
        return NULL;
    size_t close = group_end(pattern);
    if (close == 0)
        return NULL;
    unsigned long min, max;
    const char *rest = pattern + close + 1;
    size_t n = regex_counted_repeat(rest, &min, &max);
    if (n == 0 || min < 2)
        return NULL;
    rest += n;
    if (*rest == '?' || *rest == '+')
        rest++;
    if (*rest != '\0')
        return NULL;                            /* more after the repeat: not the whole pattern */
    *count = min;
    return xstrndup(pattern, close + 1);        /* "(?:G)": the group alone, once */
}

static int compare_ends(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

bool prefilter_chain_possible(unsigned long long *ends, size_t count, unsigned long want,
    unsigned min_width)
{
    if (min_width == 0)
        return true;                            /* no spacing to count on: cannot tell */
    bool sorted = true;
    for (size_t i = 1; i < count && sorted; i++)
        sorted = ends[i - 1] <= ends[i];
    if (!sorted)
        qsort(ends, count, sizeof *ends, compare_ends);
    /* the earliest end that can follow the last one taken: a longest chain */
    unsigned long found = 0;
    unsigned long long last = 0;
    for (size_t i = 0; i < count && found < want; i++) {
        if (ends[i] >= last + min_width) {
            found++;
            last = ends[i];
        }
    }
    return found >= want;
}
