/* bayes_policy.h - the Bayes policy (the `bayes` section): where the token databases live (a
 * named store: "lmdb" to survive restarts, "redis" to share them between MTAs), one global
 * database or one per recipient, SpamAssassin's minimum counts before it scores, autolearn
 * thresholds and expiry. Built by bayes_config.c, read by check_bayes.c and mailwarden-learn;
 * immutable once loaded. */
#ifndef MW_BAYES_POLICY_H
#define MW_BAYES_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "store_config.h"

#define BAYES_GLOBAL_DB "global"

struct bayes_policy {
    bool enabled;
    bool per_user;                  /* database = "per_user": one per recipient address */
    int64_t min_spam, min_ham;      /* bayes_min_spam_num / bayes_min_ham_num (200) */
    bool autolearn;                 /* bayes_auto_learn (on) */
    double autolearn_spam;          /* bayes_auto_learn_threshold_spam (12.0) */
    double autolearn_ham;           /* bayes_auto_learn_threshold_nonspam (0.1) */
    bool autolearn_on_error;        /* bayes_auto_learn_on_error (off): not what Bayes
                                     * already said with BAYES_99 / BAYES_00 */
    uint64_t token_ttl_ms;          /* bayes_token_ttl (21 days); 0 = never by age */
    uint64_t seen_ttl_ms;           /* bayes_seen_ttl (8 days) */
    uint64_t max_tokens;            /* bayes_expiry_max_db_size (150000); 0 = no bound */
    uint64_t expire_interval_ms;    /* size expiry at most this often per database (12 h) */
    struct store_use store_use;     /* bayes.store = "NAME" (store_config.h) */
    struct store *store;            /* set by finish; NULL in config_defaults() */
};

#endif
