/* rdns_result.c - see rdns_result.h. */
#include "rdns_result.h"

#include <stdlib.h>

#include "check.h"
#include "util.h"

extern const struct check check_rdns;     /* only for its slot: no call into the check */

struct rdns_result {
    char *confirmed;
};

void rdns_result_set(struct txn *t, const char *confirmed)
{
    void **slot = txn_conn_state(t, &check_rdns);
    rdns_result_free(t, *slot);
    struct rdns_result *r = xcalloc(1, sizeof *r);
    if (confirmed != NULL) {
        r->confirmed = xstrdup(confirmed);
        str_lower(r->confirmed);
    }
    *slot = r;
}

const char *rdns_confirmed_name(struct txn *t)
{
    struct rdns_result *r = *txn_conn_state(t, &check_rdns);
    return r != NULL ? r->confirmed : NULL;
}

bool rdns_looked_up(struct txn *t)
{
    return *txn_conn_state(t, &check_rdns) != NULL;
}

void rdns_result_free(struct txn *t, void *state)
{
    (void)t;
    struct rdns_result *r = state;
    if (r == NULL)
        return;
    free(r->confirmed);
    free(r);
}
