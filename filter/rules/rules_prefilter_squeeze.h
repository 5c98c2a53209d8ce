/* rules_prefilter_squeeze.h - the squeezed forms of body lines and prefilter patterns
 * (rules_prefilter_squeeze.c), private to filter/rules. */
#ifndef MW_RULES_PREFILTER_SQUEEZE_H
#define MW_RULES_PREFILTER_SQUEEZE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the squeezed form of a text keeps byte c: letters, digits and the punctuation
 * obfuscated words use for letters, @!|$&#;\/()<> . */
bool prefilter_squeeze_keeps(unsigned char c);

/* Writes the bytes of text[0 .. len) the squeezed form keeps, in order, to out (room for len
 * bytes); returns how many. */
size_t prefilter_squeeze_text(const char *text, size_t len, char *out);

/* The squeezed form of a prefilter expression (to free), with the shortest text it matches in
 * *min_len: wherever the expression matches a text with no byte >= 0x80, the squeezed form
 * matches (with the same Hyperscan flags) the squeezed text of that match, which is a
 * substring of the squeezed text. NULL when it cannot be made: a construct this reader does
 * not know (back references, inline options other than i, m, s at the start, \Q, \p, POSIX
 * classes, ...), or an expression that cannot match such a text. */
char *prefilter_squeeze_form(const char *expression, size_t *min_len);

#endif
