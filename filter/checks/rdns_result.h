/* rdns_result.h - the client's reverse name as check_rdns found it at connect, for the checks
 * after it (check_helo) to read without calling into check_rdns. The record lives in
 * check_rdns's per-connection state slot and is freed with the connection. */
#ifndef MW_RDNS_RESULT_H
#define MW_RDNS_RESULT_H

#include <stdbool.h>

struct txn;

/* check_rdns: records that it looked the client up, and the forward-confirmed name found
 * (NULL when none); stored lower case. Once per connection. */
void rdns_result_set(struct txn *t, const char *confirmed);
/* The client's forward-confirmed reverse name (lower case), or NULL when there is none, it is
 * not confirmed, or it was not looked up. Valid for the connection. */
const char *rdns_confirmed_name(struct txn *t);
/* Whether check_rdns looked the client up on this connection (false with spam.rdns off, no
 * resolver, or no client address). */
bool rdns_looked_up(struct txn *t);
/* check_rdns's conn_end: frees the record. */
void rdns_result_free(struct txn *t, void *state);

#endif
