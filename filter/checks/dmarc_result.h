/* dmarc_result.h - the DMARC outcome of the transaction (RFC 9989), as check_dmarc left it in
 * its state slot, for whoever reports or builds on it (Authentication-Results, aggregate
 * reports of RFC 9990, mailwarden-check --verbose) without reaching into check_dmarc.
 * Promises: one struct dmarc_outcome per transaction holds everything one row of an aggregate
 * report needs (the identities, each Author Domain's policy record as parsed, the result, the
 * disposition applied and why it differs from the policy), plus the register of the DNS names
 * asked; dmarc_result_get never returns NULL. Cleared when the transaction ends. */
#ifndef MW_DMARC_RESULT_H
#define MW_DMARC_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "dkim_result.h"
#include "dmarc_eval.h"
#include "dns.h"
#include "spf.h"
#include "spf_result.h"

struct txn;

/* Why a disposition differs from the published policy: RFC 9990's PolicyOverrideType. */
enum dmarc_override {
    DMARC_OVERRIDE_NONE,
    DMARC_OVERRIDE_LOCAL_POLICY,      /* dmarc.local_overrides, a `symbols` action, mode shadow */
    DMARC_OVERRIDE_MAILING_LIST,      /* dmarc.mailing_lists */
    DMARC_OVERRIDE_TRUSTED_FORWARDER, /* dmarc.trusted_forwarders, a trusted ARC sealer */
    DMARC_OVERRIDE_POLICY_TEST_MODE,  /* t=y lowered the policy */
    DMARC_OVERRIDE_OTHER,
};

/* "", "local_policy", "mailing_list", "trusted_forwarder", "policy_test_mode", "other" */
const char *dmarc_override_name(enum dmarc_override o);

/* One Author Domain's evaluation (one, or each of several under several_from = "strictest"). */
struct dmarc_domain_outcome {
    char header_from[DMARC_DOMAIN_MAX + 1];    /* the Author Domain, lower case */
    enum dmarc_result result;
    bool has_record;
    struct dmarc_record record;   /* the policy record as parsed (p, sp, np, adkim, aspf, fo, t,
                                   * psd, rua, ruf); owned, valid when has_record */
    char policy_domain[DMARC_DOMAIN_MAX + 1];  /* where the record was found ("" without) */
    char org_domain[DMARC_DOMAIN_MAX + 1];     /* "" when unknown */
    const char *policy_tag;       /* "p", "sp", "np"; "" without a record */
    enum dmarc_policy published;  /* the value of that tag (UNSET without a record) */
    enum dmarc_policy policy;     /* what it asks for this message: published, lowered by t=y;
                                   * NONE unless result is fail */
    bool testing;                 /* t=y */
    bool spf_aligned;
    bool dkim_aligned;
    char dkim_aligned_domain[DMARC_DOMAIN_MAX + 1];
    unsigned queries;
    char problem[256];            /* the evaluator's why (none, temperror, permerror, fail) */
};

/* The SPF identity DMARC used (RFC 9989: the MAIL FROM domain). */
struct dmarc_spf_identity {
    bool present;                 /* SPF ran and gave a result for an identity */
    char domain[256];
    const char *scope;            /* "mfrom" (RFC 9989: the null sender's is postmaster@HELO) */
    enum spf_result result;
    bool aligned;                 /* aligned with the decisive Author Domain, and pass */
    char record[SPF_OUTCOME_RECORD_MAX + 1];  /* the domain's own v=spf1 record ("" unknown) */
};

#define DMARC_DKIM_IDENTITY_MAX 319
#define DMARC_MAX_SIGNATURES 16   /* DKIM signatures kept; dkim_dropped counts the rest */

struct dmarc_dkim_identity {
    char domain[DMARC_DOMAIN_MAX + 1];   /* d= ("" when the signature had none) */
    char selector[64];            /* s= (cut to 63 characters) */
    char identity[DMARC_DKIM_IDENTITY_MAX + 1];  /* i=, or "@" d= when absent ("" when
                                   * longer) */
    enum dkim_verdict result;
    bool aligned;                 /* pass, and the d= that made DKIM aligned (the evaluator
                                   * stops at the first aligned one) */
};

#define DMARC_MAX_LOGGED_QUERIES 64   /* the evaluator's own limit (max_queries <= 64) */

struct dmarc_query {
    char name[DMARC_DOMAIN_MAX + 16]; /* "_dmarc.example.com", or the Author Domain (A/AAAA/MX) */
    int type;                     /* 16 TXT, 1 A, 28 AAAA, 15 MX */
    enum dns_status status;
    size_t answers;               /* records in the answer */
};

struct dmarc_outcome {
    bool evaluated;               /* false: skipped is why */
    const char *skipped;          /* static text ("authenticated client", "disabled"); NULL when
                                   * evaluated */
    enum dmarc_from_outcome from_outcome;
    char from_problem[160];       /* dmarc_from's why, for every outcome but one */
    size_t from_domain_count;     /* domains the From fields named (several/group) */
    /* the evaluations: one per Author Domain (several only under several_from = "strictest") */
    struct dmarc_domain_outcome domains[DMARC_FROM_MAX_DOMAINS];
    size_t domain_count;
    size_t decisive;              /* index of the domain that decided (the strictest) */
    enum dmarc_result result;     /* the decisive domain's (NONE when not evaluated) */
    bool from_refused;            /* the From fields' outcome itself decided (no_from, or
                                   * several_from = "reject") */
    enum dmarc_policy disposition;  /* what was applied: none, quarantine, reject */
    enum dmarc_override override; /* why the disposition differs from the policy */
    char override_comment[288];   /* which list or sealer, for the report's comment */
    struct dmarc_spf_identity spf;
    struct dmarc_dkim_identity dkim[DMARC_MAX_SIGNATURES];
    size_t dkim_count;
    size_t dkim_dropped;
    char envelope_from[256];      /* MAIL FROM's domain ("" for the null sender) */
    struct dmarc_query queries[DMARC_MAX_LOGGED_QUERIES];
    size_t query_count;
    size_t queries_unlogged;      /* asked past the register's size (several authors) */
};
/* The rest of a report row is the transaction's own: the source IP (t->client_addr), the
 * envelope recipients (t->rcpts) and the time. */

/* The transaction's outcome; never NULL (not evaluated, skipped "not run", when check_dmarc
 * did not run). Valid until the transaction ends. */
const struct dmarc_outcome *dmarc_result_get(struct txn *t);
/* The decisive Author Domain's evaluation, or NULL when none was evaluated. */
const struct dmarc_domain_outcome *dmarc_result_decisive(const struct dmarc_outcome *o);

/* Frees what an outcome owns (the records) and the outcome: check_dmarc's txn_end. */
void dmarc_outcome_free(struct dmarc_outcome *o);

#endif
