/* arc_verify.h - verification of a message's Authenticated Received Chain (RFC 8617 5.2):
 * the structure (arc_set), the body hash and signature of the newest ARC-Message-Signature,
 * every ARC-Seal (oldest first: a failure names the first seal that does not verify), the
 * older AMSes for oldest-pass, and the key records of their signers. Pure but for the DNS,
 * which goes through an injected lookup function with the shape of dmarc_lookup_fn (the
 * daemon passes its resolver, within its budget; the tests pass a fake table).
 * Use: arc_verify_begin() with the header fields, arc_verify_body() with the body in chunks
 * (any sizes; not needed when the result is already decided, see arc_verify_needs_body()),
 * arc_verify_finish() for the result, arc_verify_free().
 * Promises: at most lim->max_instances sets are looked at (more is fail, never pass), at most
 * lim->max_lookups key queries are sent and none after lim->budget_ms; a key that cannot be
 * fetched (DNS failure, a limit) makes the chain fail with that reason, never pass; rsa-sha1
 * is refused (RFC 8617 requires sha256; reason ARC_REASON_ALGORITHM, "rsa-sha1 refused");
 * RSA keys under 1024 bits are refused (RFC 8301). Results for each instance are kept for the
 * caller (AAR payload, signer) whenever the structure could be read (hop_count 0 for
 * none and for a structurally invalid chain). */
#ifndef MW_ARC_VERIFY_H
#define MW_ARC_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arc_set.h"
#include "dns.h"
#include "header.h"

/* Fills out like dns_query(); arg is the caller's (same shape as dmarc_lookup_fn). */
typedef void (*arc_lookup_fn)(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);
/* The production lookup: arg is a struct dns_resolver *. */
void arc_lookup_resolver(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);

enum arc_status {
    ARC_STATUS_NONE,              /* no ARC header field: arc=none */
    ARC_STATUS_PASS,
    ARC_STATUS_FAIL,
};

/* Why a chain failed (ARC_STATUS_FAIL); ARC_REASON_OK otherwise. */
enum arc_reason {
    ARC_REASON_OK,
    ARC_REASON_STRUCTURE,         /* RFC 8617 5.2 steps 1-3 (arc_set.h); detail says which */
    ARC_REASON_CV_FAIL,           /* a seal says cv=fail (the chain ended before us) */
    ARC_REASON_TOO_MANY,          /* more sets than lim->max_instances */
    ARC_REASON_ALGORITHM,         /* a= is not rsa-sha256 or ed25519-sha256 (rsa-sha1 too) */
    ARC_REASON_BAD_TAG,           /* a tag we need is unusable (c=, l=, h= lists ARC-Seal,
                                     b=/bh= not base64) */
    ARC_REASON_BODY_HASH,         /* the AMS's bh= does not match the body */
    ARC_REASON_SIGNATURE,         /* the AMS's or the seal's b= does not verify */
    ARC_REASON_KEY_NOT_FOUND,     /* NXDOMAIN or no DKIM key record at the name */
    ARC_REASON_KEY_TEMPERROR,     /* the key lookup failed (SERVFAIL, timeout, error) */
    ARC_REASON_KEY_PERMERROR,     /* a bad key record: syntax, revoked (p= empty), k= or h=
                                     that does not allow a=, an RSA key under 1024 bits */
    ARC_REASON_LOOKUP_LIMIT,      /* lim->max_lookups reached */
    ARC_REASON_BUDGET,            /* lim->budget_ms spent */
};

/* "ok", "structure", "cv-fail", "too-many", "algorithm", "bad-tag", "body-hash",
 * "signature", "key-not-found", "key-temperror", "key-permerror", "lookup-limit", "budget" */
const char *arc_reason_name(enum arc_reason reason);
/* "none", "pass", "fail" (the Authentication-Results arc= result) */
const char *arc_status_name(enum arc_status status);

/* Which field of an instance a failure is about. */
enum arc_field {
    ARC_FIELD_NONE,               /* the chain as a whole (e.g. too many sets) */
    ARC_FIELD_AAR,
    ARC_FIELD_AMS,
    ARC_FIELD_SEAL,
};
/* "chain", "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal" */
const char *arc_field_name(enum arc_field field);

struct arc_limits {
    unsigned max_instances;       /* sets looked at; default and most ARC_MAX_INSTANCES (50) */
    unsigned max_lookups;         /* key queries per message (default 16; at most 100) */
    uint64_t budget_ms;           /* all key queries of a message (default 10 s) */
    uint64_t query_timeout_ms;    /* one query, capped by the rest of the budget; 0 = budget */
    bool check_older_ams;         /* also verify the AMSes below the newest, for oldest-pass
                                   * (RFC 8617 5.2 step 6); default true */
};
void arc_limits_default(struct arc_limits *lim);

/* One instance as found, whatever the verdict (for DMARC's trusted sealers and for logs). */
struct arc_hop {
    unsigned instance;
    enum arc_cv cv;
    char seal_domain[254];        /* the seal's d= and s= ("" when unreadable) */
    char seal_selector[64];
    char ams_domain[254];
    char ams_selector[64];
    char *aar_payload;            /* the AAR's value after "i=N;" (the authserv-id and the
                                     results), unfolded (a line break and the blanks after
                                     it made one SP), white space at
                                     both ends removed, a copy */
    bool seal_checked, seal_ok;   /* its seal's signature was verified, and verified */
    bool ams_checked, ams_ok;     /* its AMS was verified (body hash and signature), and ok */
};

struct arc_result {
    enum arc_status status;
    unsigned count;               /* N, the number of sets (0 for none) */
    unsigned fail_instance;       /* FAIL: the instance at fault, 0 when none can be named */
    enum arc_field fail_field;    /* FAIL: which of its fields */
    enum arc_reason reason;       /* FAIL: why; ARC_REASON_OK otherwise */
    char detail[512];             /* FAIL: a sentence naming the instance, field and tag */
    unsigned oldest_pass;         /* PASS: RFC 8617 header.oldest-pass: 0 when every AMS
                                     verified, else the lowest instance from which every
                                     AMS up to N verified (N when the older AMSes were not
                                     checked: lim->check_older_ams false) */
    enum arc_cv seal_cv;          /* the cv= to put in our own seal (RFC 8617 5.1.1): none
                                     for no chain, pass for pass, fail for fail */
    unsigned hop_count;           /* hops filled (the sets that were read; up to count) */
    struct arc_hop *hop;          /* hop[0..hop_count-1] for instances 1..hop_count */
    unsigned lookups;             /* key queries sent */
};

struct arc_verify;

/* Starts verifying the message whose header fields are fields[0..count-1] in message order,
 * name and value as received (raw_value used when set: see header.h). The fields must
 * outlive the verifier. Never NULL. lim NULL = the defaults. */
struct arc_verify *arc_verify_begin(const struct header_field *fields, size_t count,
    const struct arc_limits *lim);
/* The key record names (selector._domainkey.domain) the verification may ask for, newest
 * instance first, each once, for a caller that starts the queries early (the lookup it
 * passes to arc_verify_finish can then answer from them). Returns how many were written
 * (at most max); pointers valid until arc_verify_free. */
size_t arc_verify_key_names(const struct arc_verify *v, const char **names, size_t max);
/* Whether the body is needed (false when there is no chain or it already failed). */
bool arc_verify_needs_body(const struct arc_verify *v);
/* Feeds the next len bytes of the body (CRLF line ends, as the MTA gives it); one body
 * hash is computed for each distinct (canonicalization, hash, l=) the AMSes ask for. */
void arc_verify_body(struct arc_verify *v, const unsigned char *chunk, size_t len);
/* Ends the body, fetches the keys, verifies and fills out (give it to arc_result_free). */
void arc_verify_finish(struct arc_verify *v, arc_lookup_fn lookup, void *lookup_arg,
    struct arc_result *out);
void arc_verify_free(struct arc_verify *v);
void arc_result_free(struct arc_result *r);

#endif
