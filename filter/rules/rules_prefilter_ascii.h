/* rules_prefilter_ascii.h - the ASCII form of a prefilter pattern (rules_prefilter_ascii.c),
 * private to filter/rules. */
#ifndef MW_RULES_PREFILTER_ASCII_H
#define MW_RULES_PREFILTER_ASCII_H

#include <stdbool.h>
#include <stddef.h>

/* The expression without its alternatives of bytes >= 0x80 only (to free): it matches a text
 * with no such byte exactly where the expression does. NULL when there is no such
 * alternative, or the expression cannot be reduced (a group would be left empty, an inline
 * option or named group, an unbalanced group or class). */
char *prefilter_ascii_form(const char *expression);

/* Whether text[0 .. len) has no byte >= 0x80. */
bool prefilter_text_is_ascii(const char *text, size_t len);

#endif
