/* spf_result.h - the SPF results of the transaction, as check_spf left them in its state slot,
 * for whoever reports or builds on them (mailwarden-check, Authentication-Results, DMARC)
 * without reaching into check_spf. Cleared when the transaction ends. */
#ifndef MW_SPF_RESULT_H
#define MW_SPF_RESULT_H

#include <stdbool.h>

#include "spf.h"

struct txn;

#define SPF_OUTCOME_RECORD_MAX 1023

/* One identity's result. */
struct spf_outcome {
    bool checked;              /* false: not evaluated (skipped, allowlisted, disabled) */
    enum spf_result result;
    char domain[256];          /* the domain checked (MAIL FROM domain, or the HELO name) */
    unsigned dns_lookups;      /* DNS-querying terms counted against the limit of 10 */
    unsigned void_lookups;     /* lookups that found nothing, against the limit of 2 */
    unsigned queries;          /* DNS queries sent */
    char record[SPF_OUTCOME_RECORD_MAX + 1];  /* the domain's own v=spf1 record (RFC 6591
                               * SPF-DNS); "" when none or longer than SPF_OUTCOME_RECORD_MAX */
};

/* check_spf's per-transaction state (what its slot holds): the outcomes, public through the
 * accessors below, and the Received-SPF value it adds at the end of the message. */
struct spf_txn_state {
    struct spf_outcome mailfrom;
    struct spf_outcome helo;
    char *received_spf;
};

/* The MAIL FROM and HELO identities' results; never NULL ("not checked" when SPF did not
 * run on this transaction). Valid until the transaction ends. */
const struct spf_outcome *spf_result_mailfrom(struct txn *t);
const struct spf_outcome *spf_result_helo(struct txn *t);

#endif
