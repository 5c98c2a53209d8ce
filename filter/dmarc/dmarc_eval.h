/* dmarc_eval.h - DMARC evaluation of RFC 9989 for one Author Domain: policy discovery and the
 * Organizational Domain by the DNS tree walk (no Public Suffix List), strict and relaxed
 * alignment of the SPF and DKIM identities given to it, and the result with the policy to
 * apply. Pure but for the DNS, which goes through an injected lookup function (dns_query on
 * the daemon's resolver in production, a fake table in the tests and the fuzzer).
 * Promises: one tree walk sends at most 8 queries (RFC 9989's shortcut for long names), a
 * name is asked once per evaluation, the whole evaluation at most max_queries and nothing
 * after its time budget; a DNS failure in policy discovery is temperror; an identity whose
 * Organizational Domain could not be found (DNS failure, a limit) is never aligned, and when
 * nothing else aligns the result is temperror, not fail, and never pass. */
#ifndef MW_DMARC_EVAL_H
#define MW_DMARC_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmarc_from.h"
#include "dmarc_record.h"
#include "dns.h"

enum dmarc_result {
    DMARC_RESULT_NONE,            /* no DMARC policy record for the Author Domain */
    DMARC_RESULT_PASS,
    DMARC_RESULT_FAIL,
    DMARC_RESULT_TEMPERROR,
    DMARC_RESULT_PERMERROR,       /* the Author Domain is not a domain name */
};

/* "none", "pass", "fail", "temperror", "permerror" */
const char *dmarc_result_name(enum dmarc_result result);

/* Fills out like dns_query(); arg is the caller's. */
typedef void (*dmarc_lookup_fn)(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);
/* The production lookup: arg is a struct dns_resolver *. */
void dmarc_lookup_resolver(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);

#define DMARC_WALK_MAX_QUERIES 8  /* RFC 9989: one tree walk */

struct dmarc_limits {
    unsigned max_queries;         /* the whole evaluation, every walk and the existence test
                                   * (default 32); at most 64 */
    uint64_t budget_ms;           /* the whole evaluation (default 10 s) */
    uint64_t query_timeout_ms;    /* one query, capped by the rest of the budget; 0 = the budget */
};
void dmarc_limits_default(struct dmarc_limits *lim);

struct dmarc_request {
    const char *from_domain;      /* the Author Domain (dmarc_from's DMARC_FROM_ONE domain) */
    const char *spf_domain;       /* the domain SPF checked (MAIL FROM's), NULL for none */
    bool spf_pass;                /* SPF's result for spf_domain was pass */
    const char *const *dkim_domains; /* d= of each signature that verified (pass) */
    size_t dkim_count;
};

struct dmarc_verdict {
    enum dmarc_result result;
    enum dmarc_policy published;  /* the p, sp or np that applies (UNSET without a record) */
    const char *policy_tag;       /* "p", "sp" or "np" ("" without a record) */
    enum dmarc_policy policy;     /* what to do: published, lowered one step by t=y;
                                   * DMARC_POLICY_NONE unless the result is fail */
    bool testing;                 /* t=y */
    bool has_record;              /* record below is the policy record */
    struct dmarc_record record;   /* for reports (rua, ruf, fo) */
    char policy_domain[DMARC_DOMAIN_MAX + 1];  /* where the record was found */
    char org_domain[DMARC_DOMAIN_MAX + 1];     /* the Author Domain's ("" when unknown) */
    bool author_exists;           /* false: NXDOMAIN (RFC 8020) for A: np applies */
    bool spf_aligned;
    bool dkim_aligned;
    char dkim_aligned_domain[DMARC_DOMAIN_MAX + 1];  /* the first d= that aligned */
    unsigned queries;             /* DNS queries sent */
    char problem[256];            /* none/temperror/permerror: why; fail: what failed */
};

/* The k-th (from 0) name the tree walk from domain asks for (without "_dmarc."), into out
 * (DMARC_DOMAIN_MAX + 1 bytes, lower case); false past the walk's end or when domain is not a
 * domain name. For a caller that starts the walk's queries early (check_dmarc's prefetch). */
bool dmarc_walk_name(const char *domain, size_t k, char *out);

/* Evaluates req; fills out completely (give it to dmarc_verdict_free). */
void dmarc_evaluate(const struct dmarc_request *req, const struct dmarc_limits *lim,
    dmarc_lookup_fn lookup, void *lookup_arg, struct dmarc_verdict *out);
void dmarc_verdict_free(struct dmarc_verdict *v);

#endif
