/* rules_prefilter_chain.h - the counted check of a rule that is one group repeated
 * (rules_prefilter_chain.c), private to filter/rules. */
#ifndef MW_RULES_PREFILTER_CHAIN_H
#define MW_RULES_PREFILTER_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

/* When the whole pattern is "(?:G){n}", "(?:G){n,}" or "(?:G){n,m}" (then "?" or "+" allowed)
 * with n >= 2: "(?:G)" (to free) and *count = n. NULL for any other pattern. */
char *prefilter_chain_group(const char *pattern, unsigned long *count);

/* Whether the ends (end offsets of G's matches in one text, in any order: sorted in place)
 * hold `want` ends each at least min_width after the previous one, the first at least
 * min_width from 0: false proves that G{want} does not match the text when min_width is
 * G's shortest match. min_width 0 proves nothing: true. */
bool prefilter_chain_possible(unsigned long long *ends, size_t count, unsigned long want,
    unsigned min_width);

#endif
