/* dkim_verifier.h - verifies the DKIM-Signature fields of one message (RFC 6376, RFC 8463,
 * RFC 8301): the signatures are read from the header at the start, the body is fed in chunks
 * as it arrives (CRLF line ends), and at the end each signature's key is asked of an injected
 * lookup (like spf_eval.c: tests and the fuzzer give a fake one) and the signature checked.
 * Every signature ends in one outcome with the tags it had and, when it did not pass, why.
 * Public keys are decoded through dkim_pubkeys (once per distinct key record).
 * Promises: at most max_signatures signatures (the topmost) are examined, one lookup per
 * distinct key; no outcome is PASS unless the body hash and the signature both verify with a
 * usable key; a lookup that failed is TEMPERROR, never a pass or a missing key. */
#ifndef MW_DKIM_VERIFIER_H
#define MW_DKIM_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "header.h"

enum dkim_outcome {
    DKIM_OUTCOME_PASS,
    DKIM_OUTCOME_FAIL,         /* the signature or the body hash does not verify */
    DKIM_OUTCOME_TEMPERROR,    /* the key lookup failed */
    DKIM_OUTCOME_PERMERROR,    /* no key, a key record that cannot be used */
    DKIM_OUTCOME_NEUTRAL,      /* the signature's own syntax */
    DKIM_OUTCOME_SMALL_KEY,    /* an RSA key under min_key_bits */
    DKIM_OUTCOME_SHA1,         /* rsa-sha1 while the policy refuses it (RFC 8301) */
    DKIM_OUTCOME_EXPIRED,      /* x= has passed, or t= is in the future */
    DKIM_OUTCOME_BODY_LENGTH,  /* verifies, but l= covers less than the body */
};

struct dkim_verify_params {
    unsigned max_signatures;
    unsigned min_key_bits;
    bool accept_rsa_sha1;
    int64_t now;               /* seconds since the epoch */
    int64_t clock_drift_s;     /* t= may be this far in the future */
};

struct dkim_sig_check {
    enum dkim_outcome outcome;
    char *domain;              /* d= (lower case); NULL when absent */
    char *selector;            /* s= */
    char *algorithm;           /* a= */
    char *identity;            /* i=, or "@" d= when absent */
    char b_prefix[9];          /* the first 8 characters of b= */
    unsigned key_bits;
    bool body_partial;         /* l= covered less than the body */
    char detail[240];          /* why it did not pass; empty on a pass */
};

/* The TXT lookup of name; arg is the caller's. Returns either an answer the caller lends (it
 * stays the caller's and valid until dkim_verifier_finish returns; out is left alone) or out,
 * filled like dns_query() (the verifier frees it). Never NULL. */
typedef const struct dns_answer *(*dkim_lookup_fn)(void *arg, const char *name,
    struct dns_answer *out);

struct dkim_verifier;

/* Reads the DKIM-Signature fields among fields. Never NULL. */
struct dkim_verifier *dkim_verifier_new(const struct header_field *fields, size_t count,
    const struct dkim_verify_params *p);
/* The signatures that will be examined (0: nothing to verify). */
size_t dkim_verifier_count(const struct dkim_verifier *v);
void dkim_verifier_body(struct dkim_verifier *v, const unsigned char *chunk, size_t len);
/* Checks every signature against fields (the same header as given to new): keys through
 * lookup. Call once. */
void dkim_verifier_finish(struct dkim_verifier *v, const struct header_field *fields,
    size_t count, dkim_lookup_fn lookup, void *arg);
/* The i-th signature's outcome (i < the count), valid until the verifier is freed. */
const struct dkim_sig_check *dkim_verifier_result(const struct dkim_verifier *v, size_t i);
void dkim_verifier_free(struct dkim_verifier *v);

#endif
