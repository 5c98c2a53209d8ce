/* spf_result.c - see spf_result.h. */
#include "spf_result.h"

#include "check.h"

extern const struct check check_spf;      /* only for its slot: no call into the check */

static const struct spf_outcome not_checked;

static const struct spf_txn_state *state_of(struct txn *t)
{
    return *txn_check_state(t, &check_spf);
}

const struct spf_outcome *spf_result_mailfrom(struct txn *t)
{
    const struct spf_txn_state *s = state_of(t);
    return s != NULL ? &s->mailfrom : &not_checked;
}

const struct spf_outcome *spf_result_helo(struct txn *t)
{
    const struct spf_txn_state *s = state_of(t);
    return s != NULL ? &s->helo : &not_checked;
}
