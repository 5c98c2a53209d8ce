/* bayes_result.h - the Bayes classification of the transaction, as check_bayes left it in its
 * state slot, for the rules' check_bayes (BAYES_xx), the autolearn at the end of the message
 * (check_bayes_learn.c) and mailwarden-check, without reaching into check_bayes. Cleared when
 * the transaction ends. */
#ifndef MW_BAYES_RESULT_H
#define MW_BAYES_RESULT_H

#include <stdbool.h>

#include "bayes_classify.h"
#include "bayes_tokens.h"

struct txn;

/* check_bayes's per-transaction state (what its slot holds). */
struct bayes_txn_state {
    bool classified;             /* the check ran (enabled, inbound): tokens are set */
    bool scan_available;         /* the store answered and the database holds bayes.min_spam
                                    spam and bayes.min_ham ham (SpamAssassin's
                                    is_scan_available): the rules score with set 2 or 3 */
    struct bayes_verdict verdict;
    struct bayes_tokens tokens;
};

/* The classification; NULL when Bayes did not run on this transaction. */
const struct bayes_txn_state *bayes_result(struct txn *t);

#endif
