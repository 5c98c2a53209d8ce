/* spf.h - our own RFC 7208 SPF evaluator: record parsing (spf_record.c), macro expansion
 * (spf_macro.c) and check_host() (spf_eval.c). It is written for hostile input: the records,
 * the names and the explanation text are controlled by whoever runs the sender's DNS.
 * Promises: every evaluation ends within its time budget and the DNS limits of RFC 7208
 * section 4.6.4 (10 DNS-querying terms and 2 void lookups counted over the whole evaluation,
 * including includes and redirects; 10 MX and 10 PTR names per term); DNS failures give
 * temperror; syntax errors anywhere in a record give permerror before anything is evaluated.
 * All DNS goes through an injected lookup function: dns_query() on the daemon's resolver in
 * production (spf_lookup_resolver), a fake in the fuzzer. */
#ifndef MW_SPF_H
#define MW_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "dns.h"

enum spf_result {
    SPF_RESULT_NONE,
    SPF_RESULT_NEUTRAL,
    SPF_RESULT_PASS,
    SPF_RESULT_FAIL,
    SPF_RESULT_SOFTFAIL,
    SPF_RESULT_TEMPERROR,
    SPF_RESULT_PERMERROR,
};
#define SPF_RESULT_COUNT 7

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" */
const char *spf_result_name(enum spf_result result);

/* ---------------------------------------------------------------------------------------
 * Records (spf_record.c) */

enum spf_mech_type {
    SPF_MECH_ALL,
    SPF_MECH_INCLUDE,
    SPF_MECH_A,
    SPF_MECH_MX,
    SPF_MECH_PTR,
    SPF_MECH_IP4,
    SPF_MECH_IP6,
    SPF_MECH_EXISTS,
};

struct spf_mechanism {
    enum spf_result qualifier;    /* pass (+), fail (-), softfail (~), neutral (?) */
    enum spf_mech_type type;
    char *domain_spec;            /* unexpanded macro-string; NULL = the current domain */
    unsigned cidr4;               /* a, mx, ip4: 0..32 (32 when absent) */
    unsigned cidr6;               /* a, mx, ip6: 0..128 (128 when absent) */
    uint8_t network[16];          /* ip4 (4 bytes used) / ip6 */
    char *term;                   /* the term as written, for explanations and logs */
};

/* A compiled record: syntax fully checked, nothing expanded. */
struct spf_record {
    struct spf_mechanism *mechs;
    size_t mech_count;
    char *redirect;               /* domain-spec or NULL */
    char *exp;                    /* domain-spec or NULL */
};

/* True when a TXT string is an SPF version 1 record: "v=spf1" (any case) then a space or the
 * end (RFC 7208 4.5). */
bool spf_is_spf1(const char *txt);
/* Parses a whole record ("v=spf1 ..."). On a syntax error returns false, leaves out empty
 * and writes the reason (naming the term) into why. */
bool spf_record_parse(const char *text, struct spf_record *out, char *why, size_t why_size);
void spf_record_free(struct spf_record *rec);

/* ---------------------------------------------------------------------------------------
 * Macros (spf_macro.c) */

enum spf_macro_mode {
    SPF_MACRO_DOMAIN,             /* domain-spec: no spaces, no c/r/t letters */
    SPF_MACRO_EXPLAIN,            /* explain-string (exp= text): spaces and every letter */
};

#define SPF_MACRO_MAX_OUTPUT 8192 /* longer expansions are an error */

/* The values the macro letters stand for. */
struct spf_macro_vars {
    const char *sender;           /* s: local-part@domain (local-part "postmaster" if none) */
    const char *local_part;       /* l */
    const char *sender_domain;    /* o */
    const char *domain;           /* d: the current domain */
    struct ipaddr client;         /* i, c, v */
    const char *helo;             /* h */
    const char *receiver;         /* r: NULL = "unknown" */
    uint64_t now;                 /* t: seconds since the epoch */
    /* p: the validated client name; called only when %{p} is used. NULL = "unknown". */
    const char *(*validated_name)(void *arg);
    void *validated_name_arg;
};

/* Checks the syntax of a macro-string of len bytes without expanding it. */
bool spf_macro_valid(const char *text, size_t len, enum spf_macro_mode mode, char *why,
    size_t why_size);
/* Expands text into a new string (*out, to free). For SPF_MACRO_DOMAIN the result is cut
 * from the left, label by label, to at most 253 characters (RFC 7208 7.3). Returns false
 * with why on a syntax error or an expansion over SPF_MACRO_MAX_OUTPUT. */
bool spf_macro_expand(const char *text, enum spf_macro_mode mode, const struct spf_macro_vars *v,
    char **out, char *why, size_t why_size);

/* ---------------------------------------------------------------------------------------
 * Evaluation (spf_eval.c) */

/* Fills out like dns_query(); arg is the caller's. */
typedef void (*spf_lookup_fn)(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);
/* The production lookup: arg is a struct dns_resolver *. */
void spf_lookup_resolver(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);

struct spf_limits {
    unsigned max_dns_terms;       /* 10 */
    unsigned max_void_lookups;    /* 2 */
    unsigned max_names;           /* 10 MX names per mx, 10 PTR names per ptr */
    uint64_t budget_ms;           /* the whole evaluation, every query included */
    uint64_t query_timeout_ms;    /* one query, capped by the rest of the budget; 0 = no cap but
                                   * the budget (the check sets it: spf_limits_for) */
};
void spf_limits_default(struct spf_limits *lim);

struct spf_request {
    struct ipaddr client;         /* IPv4-mapped IPv6 is treated as IPv4 */
    const char *sender;           /* MAIL FROM address without <>; "" = the null sender */
    const char *helo;             /* HELO/EHLO argument, may be NULL */
    const char *receiver;         /* our host name for %{r}; NULL = "unknown" */
    bool check_helo;              /* evaluate the HELO identity instead of MAIL FROM */
};

struct spf_verdict {
    enum spf_result result;
    char *domain;                 /* the domain checked (NULL when none could be) */
    char *identity;               /* the sender checked: "user@domain", "postmaster@helo" */
    char *explanation;            /* fail only: the exp= text, or our default */
    bool explanation_from_domain; /* the explanation came from the domain's exp= */
    char *mechanism;              /* the term that decided, or NULL (default/neutral) */
    char *problem;                /* permerror/temperror/none: why */
    char *record;                 /* the checked domain's own v=spf1 record as published (not
                                   * an include's or redirect's), or NULL when it has not one
                                   * (kept when it does not parse: SPF-DNS of RFC 6591) */
    unsigned dns_terms;           /* DNS-querying terms counted against the limit */
    unsigned void_lookups;
    unsigned queries;             /* DNS queries actually sent */
    uint64_t elapsed_ms;
};

/* RFC 7208 2.3/2.4/4.3: picks the identity (MAIL FROM, or postmaster@HELO for the null
 * sender; the HELO name when check_helo), validates the domain and runs check_host(). */
void spf_check(const struct spf_request *req, const struct spf_limits *lim,
    spf_lookup_fn lookup, void *lookup_arg, struct spf_verdict *out);
void spf_verdict_free(struct spf_verdict *v);

/* True when name is a syntactically valid multi-label domain for SPF (RFC 7208 4.3): labels
 * 1..63 characters, at most 253 in all, at least two labels. */
bool spf_domain_valid(const char *name);

#endif
