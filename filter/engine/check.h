/* check.h - the interface every check implements, and the table that lists them.
 * A check reads the transaction and the policy and appends results; it never decides the
 * verdict by itself (the engine does, from the results). Adding a check means adding a file
 * with one `const struct check` and a line in checks.c. */
#ifndef MW_CHECK_H
#define MW_CHECK_H

#include "txn.h"

#define STAGE_BIT(s) (1u << (s))

/* check.flags */
#define CHECK_EVEN_WHEN_ALLOWED 0x1u   /* runs after an ACCEPT was forced (signing, counting);
                                          never for networks.skip clients */

struct check {
    const char *name;
    unsigned stages;                                  /* STAGE_BIT()s it runs at */
    void (*run)(struct txn *t, enum stage stage);
    unsigned flags;
    /* Optional: starts, without waiting, the DNS queries run() will read at this stage
     * (txn_dns_start); the engine calls every check's prefetch before the stage's first run,
     * so the lookups of all checks of a stage are in flight together. */
    void (*prefetch)(struct txn *t, enum stage stage);
    /* Optional: every body chunk as the MTA sends it (the txn keeps only the first
     * limits.max_body_buffer bytes; a check that needs all of it streams it here). */
    void (*body)(struct txn *t, const unsigned char *data, size_t len);
    /* Optional: frees this check's per-transaction state (*txn_check_state) at the end of each
     * transaction, and its per-connection state (*txn_conn_state) when the connection ends. */
    void (*txn_end)(struct txn *t, void *state);
    void (*conn_end)(struct txn *t, void *state);
    /* Optional: whether the policy puts this check in mode "shadow" (its section's `mode`):
     * the engine then marks every result it adds as shadow (txn.h). */
    bool (*shadowed)(const struct config *cfg);
    /* Optional: at the end of a message that is delivered (accepted or quarantined), after
     * the engine's own header edits (Authentication-Results, X-Spam-*): the last edits, for
     * what must cover every other one (ARC sealing signs our final Authentication-Results
     * and DKIM-Signature). In table order, when the check runs (check_runs in engine.c). */
    void (*after_edits)(struct txn *t);
    /* Optional, for the checks of the connect and HELO stages: whether, under this policy, the
     * check can refuse (add a REJECT or TEMPFAIL result) at this stage. A check without it is
     * taken to be able to. When no check can, the MTA is told not to wait for that stage's
     * reply (engine_may_refuse_at). */
    bool (*may_refuse)(const struct config *cfg, enum stage stage);
};

/* may_refuse of the checks that only ever add scores and symbols. */
bool check_never_refuses(const struct config *cfg, enum stage stage);

extern const struct check *const check_table[];       /* NULL-terminated, in run order */

/* Slots for a check's own state in the txn: per transaction and per connection. Start NULL;
 * freed by the check's txn_end / conn_end. */
void **txn_check_state(struct txn *t, const struct check *c);
void **txn_conn_state(struct txn *t, const struct check *c);
/* Called by txn.c: run every check's txn_end / conn_end on the state it left. */
void checks_txn_end(struct txn *t);
void checks_conn_end(struct txn *t);

#endif
