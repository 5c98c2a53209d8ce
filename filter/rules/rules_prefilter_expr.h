/* rules_prefilter_expr.h - what Hyperscan is given for a rule's regex (rules_prefilter_expr.c),
 * private to filter/rules. */
#ifndef MW_RULES_PREFILTER_EXPR_H
#define MW_RULES_PREFILTER_EXPR_H

#include <stdbool.h>

/* The pattern Hyperscan gets (to free): a superset of the rule's. With keep_counts, a counted
 * repeat keeps a lower bound: X{m,n} becomes X{m',} with m' = min(m, PREFILTER_KEEP_MIN), a
 * repeated group (G){m,n} becomes (G){m',} with m' at most PREFILTER_KEEP_GROUP_MIN and only
 * when G is short (1 otherwise), and m' 0 or 1 is written * or +. Without keep_counts every
 * counted repeat of more than 4 (of a group: more than 1) becomes * or +. Repeats of at most 4
 * are kept as written. With extended, the pattern starts with (?x). */
char *prefilter_expression(const char *pattern, bool extended, bool keep_counts);

/* The expression without its anchors (^, $, \A, \Z, \z, \G outside a class; to free): a
 * superset, for the patterns Hyperscan refuses for an anchor where it cannot take one (as
 * "(?:$|\W)" at the start). NULL when it has none. */
char *prefilter_anchor_free(const char *expression);

#endif
