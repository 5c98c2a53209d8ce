/* dmarc_alabel.h - one DNS label of an Author Domain written in UTF-8 (a U-label) to its A-label
 * ("xn--" and the Punycode of RFC 3492), as RFC 9989 section 5.3.1 asks before the domain is
 * used. Promises: the input is checked as UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF) and its ASCII characters as letters, digits, '-' or '_' (letters lower-cased);
 * the output is an ASCII label of at most 63 characters or nothing at all; no allocation.
 * It does not check the rest of IDNA2008 (NFC, the code point tables, bidi): a label that is
 * not a valid U-label still gets an A-label, which names no registered domain, so its DMARC
 * lookups find nothing. */
#ifndef MW_DMARC_ALABEL_H
#define MW_DMARC_ALABEL_H

#include <stdbool.h>
#include <stddef.h>

#define DMARC_LABEL_MAX 63

/* label: len octets with at least one over 0x7f. Writes the A-label and its NUL into out
 * (DMARC_LABEL_MAX + 1 octets); false when the label is not UTF-8, has a character no label
 * may have, or its A-label is longer than DMARC_LABEL_MAX. */
bool dmarc_alabel(const char *label, size_t len, char out[DMARC_LABEL_MAX + 1]);

#endif
