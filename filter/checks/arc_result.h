/* arc_result.h - the ARC verdict of the transaction (RFC 8617) as check_arc left it in its
 * state slot: arc_verify's result (none/pass/fail, the instance, field and reason of a
 * failure, header.oldest-pass, the cv= for our own seal, each hop's signer and AAR) and each
 * hop's ARC-Authentication-Results read (arc_aar.h), for whoever reports or builds on it
 * (Authentication-Results, sealing, DMARC, mailwarden-check) without reaching into check_arc.
 * Cleared when the transaction ends. */
#ifndef MW_ARC_RESULT_H
#define MW_ARC_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "arc_aar.h"
#include "arc_verify.h"

struct txn;
struct pattern_list;

/* One hop's ARC-Authentication-Results as read. */
struct arc_hop_aar {
    bool read;                    /* false: no payload, or no authserv-id in it */
    struct arc_aar aar;
};

struct arc_outcome {
    bool checked;                 /* false: not verified (outbound and not sealed, disabled) */
    bool header_limit;            /* ARC fields may be among header fields past a limit: the
                                     chain is fail (verdict.detail says so), ARC_REJECT */
    struct arc_result verdict;    /* arc_verify.h; hop_count hops */
    struct arc_hop_aar *aar;      /* aar[i] for verdict.hop[i] */
};

/* The transaction's ARC outcome; never NULL ("not checked" when check_arc did not run).
 * Valid until the transaction ends. */
const struct arc_outcome *arc_result_get(struct txn *t);

/* The symbol of an outcome: ARC_NONE, ARC_PASS, ARC_INVALID (structure, or a seal says
 * cv=fail), ARC_FAIL (a signature, a body hash, a key that is absent or bad) or ARC_REJECT
 * (a limit: sets, key lookups, the budget, a key lookup that failed, header fields past a
 * limit). NULL when not checked. */
const char *arc_result_symbol(const struct arc_outcome *o);

/* For SpamAssassin's ARC rules (DKIM.pm's check_arc_signed, check_arc_valid): whether the
 * message has ARC fields (any verdict but none), and whether one of its ARC-Seal or
 * ARC-Message-Signature fields, with a selector, verified (each signature counts, not the
 * chain). The verifier stops at the first failure: a signature it did not reach counts as
 * not verified, and fields past a header limit make none verified, so a limit never turns
 * ARC_INVALID into ARC_VALID. False (both false) when the chain was not checked. */
bool arc_result_signatures(const struct arc_outcome *o, bool *has_signatures,
    bool *one_verified);

/* RFC 8617 7.2 / RFC 9989 local policy "trusted_forwarder": the chain passed, and a hop
 * sealed by a domain in `sealers` (domain patterns, pattern.h) recorded spf=pass or
 * dkim=pass in its ARC-Authentication-Results. The newest such hop's sealer (the seal's d=)
 * is written to sealer_out ("" when false). False while arc is in mode "shadow". */
bool arc_result_trusted_pass(struct txn *t, const struct pattern_list *sealers,
    char *sealer_out, size_t size);

#endif
