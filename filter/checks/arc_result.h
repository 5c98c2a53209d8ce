/* arc_result.h - the ARC verdict of the transaction (RFC 8617) as check_arc left it in its
 * state slot: arc=none|pass|fail, where and why a chain failed, the oldest instance whose
 * message signature still verifies, and what each hop's ARC-Authentication-Results says, for
 * whoever reports or builds on it (Authentication-Results, sealing, DMARC, mailwarden-check)
 * without reaching into check_arc. Cleared when the transaction ends. */
#ifndef MW_ARC_RESULT_H
#define MW_ARC_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "arc_aar.h"

struct txn;
struct pattern_list;

enum arc_verdict {
    ARC_RESULT_NONE,              /* no ARC header field */
    ARC_RESULT_PASS,
    ARC_RESULT_FAIL,
};

/* Why a chain failed, for the symbol. */
enum arc_failure {
    ARC_FAILURE_NONE,
    ARC_FAILURE_STRUCTURE,        /* RFC 8617 5.2 steps 1-3, or a seal says cv=fail: ARC_INVALID */
    ARC_FAILURE_SIGNATURE,        /* a seal, the latest message signature or its body hash:
                                     ARC_FAIL */
    ARC_FAILURE_LIMIT,            /* arc.max_instances, arc.max_key_lookups, the budget, a key
                                     lookup that failed or a header field past a limit: ARC_REJECT */
};

/* One hop: instance i's seal and its ARC-Authentication-Results. */
struct arc_hop {
    unsigned instance;
    char sealer[256];             /* the ARC-Seal's d=, lower case */
    char selector[64];            /* the ARC-Seal's s= */
    bool aar_read;                /* false: its payload has no authserv-id */
    struct arc_aar aar;
};

struct arc_outcome {
    bool checked;                 /* false: not verified (outbound, disabled, skipped) */
    enum arc_verdict result;
    enum arc_failure failure;
    unsigned failed_instance;     /* the instance at fault; 0 when none can be named */
    char reason[200];             /* fail: why, naming the field */
    unsigned oldest_pass;         /* pass: RFC 8617 header.oldest-pass (0: every AMS verifies) */
    unsigned count;               /* the chain's instances (0 for none) */
    struct arc_hop *hops;         /* hops[i] is instance i+1; count of them (for a chain that
                                     failed structurally: those that could be read) */
};

/* The transaction's ARC outcome; never NULL ("not checked" when check_arc did not run).
 * Valid until the transaction ends. */
const struct arc_outcome *arc_result_get(struct txn *t);

/* RFC 8617 7.2 / RFC 9989 local policy "trusted_forwarder": the chain passed, and a hop
 * sealed by a domain in `sealers` (domain patterns, pattern.h) recorded spf=pass or
 * dkim=pass in its ARC-Authentication-Results. The newest such hop is named in sealer_out
 * (its d=, "" when false). */
bool arc_result_trusted_pass(struct txn *t, const struct pattern_list *sealers,
    char *sealer_out, size_t size);

#endif
