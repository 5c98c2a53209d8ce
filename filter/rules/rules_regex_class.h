/* rules_regex_class.h - reading bracket classes, byte escapes, counted repeats, the branches of
 * one alternation level and branches of high bytes only in a rule's regex text, for the code that
 * rewrites patterns for the prefilter (rules_tags.c, rules_prefilter_ascii.c,
 * rules_prefilter_squeeze.c, rules_prefilter_expr.c, rules_prefilter_chain.c).
 * Pure string functions; they never read past the terminating NUL. */
#ifndef MW_RULES_REGEX_CLASS_H
#define MW_RULES_REGEX_CLASS_H

#include <stdbool.h>
#include <stddef.h>

/* The "]" closing the class opening at p ("[...]", "[^...]", "[]...]"), or NULL. */
const char *regex_class_end(const char *p);

/* The byte of the class member or escape at p: "\xHH" or a plain character, its length in
 * *len; -1 for any other escape (\s, \d, \x{...}, ...). */
int regex_member_byte(const char *p, size_t *len);

/* Whether the class [p .. end] holds at least one member and only bytes >= 0x80 (ranges
 * included); a negated class never does. */
bool regex_class_high_only(const char *p, const char *end);

/* The counted repeat "{m}", "{m,}" or "{m,n}" at p: its length, 0 when p is not one (as "{,n}"
 * or "{x}"); its bounds in *min and *max, ULONG_MAX for no upper bound. */
size_t regex_counted_repeat(const char *p, unsigned long *min, unsigned long *max);

/* The end of the branch of s[0 .. n) (one alternation level) that starts at start: the index of
 * the next "|" outside groups and classes, or n. false when a class in it cannot be read. */
bool regex_branch_end(const char *s, size_t n, size_t start, size_t *end);

/* Whether the branch b[0 .. n) matches only non-empty strings of bytes >= 0x80: classes of
 * such bytes and \xHH escapes, in non-capturing groups, with no empty alternative; with plus,
 * an item may also be followed by one "+" (still high bytes only). */
bool regex_branch_high_only(const char *b, size_t n, bool plus);

#endif
