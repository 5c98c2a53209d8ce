/* authres.h - the Authentication-Results header (RFC 8601): builds ours from the methods the
 * checks recorded, and recognises incoming ones that carry our authserv-id (forged). */
#ifndef MW_AUTHRES_H
#define MW_AUTHRES_H

#include <stdbool.h>

#include "txn.h"

/* The value (without "Authentication-Results:") for this transaction, newly allocated. */
char *authres_build(const struct txn *t);
/* "auth=pass smtp.auth=USER", the user quoted when it is not a plain token or address. */
char *authres_auth_method(const char *user);
/* True when an Authentication-Results value names authserv_id as its authserv-id
 * (case-insensitive, comments and version skipped). */
bool authres_is_ours(const char *value, const char *authserv_id);

#endif
