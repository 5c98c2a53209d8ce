/* registrable.h - the registrable domain of a host name ("mail.example.co.uk" ->
 * "example.co.uk") by the Public Suffix List (libpsl), and comparisons built on it. */
#ifndef MW_REGISTRABLE_H
#define MW_REGISTRABLE_H

#include <stdbool.h>

/* A new lower-case string: the registrable domain of host, or host itself (lower case, no
 * final dot) when the list knows none (a public suffix, a single label, an address). */
char *registrable_domain(const char *host);
/* Whether a and b share a registrable domain (case-insensitive). */
bool same_registrable_domain(const char *a, const char *b);

#endif
