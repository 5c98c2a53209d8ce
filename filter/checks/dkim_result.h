/* dkim_result.h - the DKIM verification results of the transaction, one per signature
 * examined, as check_dkim_verify left them in its state slot, for whoever reports or builds
 * on them (Authentication-Results, DMARC) without reaching into check_dkim_verify. Cleared
 * when the transaction ends. */
#ifndef MW_DKIM_RESULT_H
#define MW_DKIM_RESULT_H

#include <stdbool.h>
#include <stddef.h>

struct txn;
struct dkim_verifier;
struct dkim_prefetch;

enum dkim_verdict {
    DKIM_RESULT_NONE,
    DKIM_RESULT_PASS,
    DKIM_RESULT_FAIL,
    DKIM_RESULT_NEUTRAL,
    DKIM_RESULT_POLICY,
    DKIM_RESULT_TEMPERROR,
    DKIM_RESULT_PERMERROR,
};

/* "none", "pass", "fail", "neutral", "policy", "temperror", "permerror" (RFC 8601's words for
 * dkim= in Authentication-Results) */
const char *dkim_verdict_name(enum dkim_verdict v);

struct dkim_sig_result {
    enum dkim_verdict result;
    char *domain;              /* d= (lower case); NULL when the signature had none */
    char *identity;            /* i=, or "@" d= when absent */
    char *selector;            /* s= */
    char *algorithm;           /* a= */
    char b_prefix[9];          /* the first 8 characters of b= */
    unsigned key_bits;
    bool body_partial;         /* l= covered less than the body */
};

/* check_dkim_verify's per-transaction state (what its slot holds; present once the verifier
 * ran on the message): its working parts, private to the check, and the results, public
 * through the accessors below. */
struct dkim_verify_state {
    struct dkim_verifier *verifier;  /* NULL when there was nothing to verify */
    struct dkim_prefetch *keys;  /* every signature's key lookup, started at the headers */
    struct dkim_sig_result *results;
    size_t result_count;
};

/* Whether the verifier ran on this message (inbound, DKIM verification on). */
bool dkim_result_verified(struct txn *t);
/* The number of signatures examined, and the i-th one's result (i < the count). Valid until
 * the transaction ends. */
size_t dkim_result_count(struct txn *t);
const struct dkim_sig_result *dkim_result_get(struct txn *t, size_t i);

#endif
