/* check_rdns.h - the client's reverse name as check_rdns found it, for the checks after it. */
#ifndef MW_CHECK_RDNS_H
#define MW_CHECK_RDNS_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

struct txn;

/* The client's forward-confirmed reverse name (lower case), or NULL when there is none, it is
 * not confirmed, or it was not looked up. Valid for the connection. */
const char *rdns_confirmed_name(struct txn *t);
/* Whether check_rdns looked the client up on this connection (false with spam.rdns off, no
 * resolver, or no client address). */
bool rdns_looked_up(struct txn *t);
/* Whether the name looks generic or dynamic for the address (exposed for tests). */
bool rdns_name_is_dynamic(const char *name, const struct ipaddr *addr, const char *const *keywords,
    size_t keyword_count);

#endif
