/* checks.c - the table of checks, in the order they run at each stage. Adding a check is a
 * new file with one `const struct check` and one line here. */
#include "check.h"

#include <stdlib.h>

extern const struct check check_networks;
extern const struct check check_access;
extern const struct check check_limits;        /* limits a message passed (issue 10) */
extern const struct check check_dkim_verify;
extern const struct check check_arc;           /* ARC verification (issue 13) */
extern const struct check check_dkim_sign;
extern const struct check check_arc_seal;      /* ARC sealing (issue 13) */
extern const struct check check_ratelimit;     /* rate limits (issue 5) */
extern const struct check check_greylist;      /* greylisting (issue 6 part 4) */
/* spam heuristics (issue 6) */
extern const struct check check_rdns;
extern const struct check check_helo;
extern const struct check check_dnslists;
extern const struct check check_headers;
extern const struct check check_mime;
extern const struct check check_gtube;         /* GTUBE without rule files (issue 11) */
extern const struct check check_spf;
extern const struct check check_dmarc;       /* DMARC (issue 12) */
extern const struct check check_dmarc_report; /* DMARC aggregate report rows (issue 12) */
extern const struct check check_rules;
extern const struct check check_bayes;       /* Bayes classification (issue 11) */
extern const struct check check_bayes_learn; /* Bayes autolearn (issue 11) */

const struct check *const check_table[] = {
    &check_networks,     /* first: the client's class (txn_set_client) as symbols */
    &check_access,
    &check_limits,       /* before the checks that read what the limits cut */
    &check_spf,          /* SPF: HELO and MAIL FROM identities, at MAIL FROM */
    &check_ratelimit,    /* after access: an allow list is known; counts even then */
    &check_dkim_verify,  /* dkim: inbound verification */
    &check_arc,          /* ARC chain verification, after DKIM (issue 13) */
    /* spam heuristics (issue 6): rdns before helo, which reads its confirmed name */
    &check_rdns,
    &check_helo,
    &check_dnslists,
    &check_headers,
    &check_mime,
    &check_gtube,
    &check_dmarc,        /* DMARC at end of message: after SPF and DKIM verification, before
                            the rules and greylisting read the score, before signing */
    &check_dmarc_report, /* after check_dmarc: one aggregate-report row per evaluated message */
    &check_bayes,        /* Bayes before the rules: their check_bayes reads its result */
    &check_rules,        /* SpamAssassin-syntax rules at end of message (check_rules.c) */
    &check_greylist,     /* last that scores: mode "score" reads every other check's score */
    &check_bayes_learn,  /* Bayes autolearn from the final score */
    &check_dkim_sign,    /* dkim: signing last, so it sees the final decision */
    &check_arc_seal,     /* ARC sealing: after signing; seals in .after_edits, after our
                            Authentication-Results (engine.c) */
    NULL,
};

static size_t check_index(const struct check *c)
{
    for (size_t i = 0; check_table[i] != NULL; i++) {
        if (check_table[i] == c) {
            if (i >= TXN_CHECK_SLOTS)
                abort();      /* raise TXN_CHECK_SLOTS in txn.h */
            return i;
        }
    }
    abort();                  /* a check that is not in the table has no state slot */
}

void **txn_check_state(struct txn *t, const struct check *c)
{
    return &t->check_txn_state[check_index(c)];
}

void **txn_conn_state(struct txn *t, const struct check *c)
{
    return &t->check_conn_state[check_index(c)];
}

bool check_never_refuses(const struct config *cfg, enum stage stage)
{
    (void)cfg;
    (void)stage;
    return false;
}

void checks_txn_end(struct txn *t)
{
    for (size_t i = 0; check_table[i] != NULL && i < TXN_CHECK_SLOTS; i++) {
        if (t->check_txn_state[i] == NULL)
            continue;
        if (check_table[i]->txn_end != NULL)
            check_table[i]->txn_end(t, t->check_txn_state[i]);
        t->check_txn_state[i] = NULL;
    }
}

void checks_conn_end(struct txn *t)
{
    for (size_t i = 0; check_table[i] != NULL && i < TXN_CHECK_SLOTS; i++) {
        if (t->check_conn_state[i] == NULL)
            continue;
        if (check_table[i]->conn_end != NULL)
            check_table[i]->conn_end(t, t->check_conn_state[i]);
        t->check_conn_state[i] = NULL;
    }
}
