/* dkim_util.h - the address in a From: field, for the DKIM signing check. */
#ifndef MW_DKIM_UTIL_H
#define MW_DKIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "header.h"
#include "util.h"

/* The addr-spec of the first mailbox in a From: value, lower case, into out; false when
 * there is none or it has no domain. */
bool dkim_from_address(const char *value, char *out, size_t size);

#endif
