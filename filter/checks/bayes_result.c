/* bayes_result.c - see bayes_result.h. */
#include "bayes_result.h"

#include "check.h"

extern const struct check check_bayes;      /* only for its slot: no call into the check */

const struct bayes_txn_state *bayes_result(struct txn *t)
{
    const struct bayes_txn_state *s = *txn_check_state(t, &check_bayes);
    return s != NULL && s->classified ? s : NULL;
}
