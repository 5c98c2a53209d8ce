/* dmarc_config.h - the typed settings of the policy's `dmarc` section (dmarc_config.c), read by
 * the DMARC check (check_dmarc.c) through cfg->dmarc. Scores and actions of the results are
 * not here: they are the DMARC_* symbols, overridden in `symbols`. */
#ifndef MW_DMARC_CONFIG_H
#define MW_DMARC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "pattern.h"
#include "verdict.h"

/* What to do with From fields that do not name exactly one Author Domain. */
enum dmarc_from_policy {
    DMARC_FROM_REJECT,            /* refuse the message (DMARC_FROM_* symbol, 550 5.7.1) */
    DMARC_FROM_STRICTEST,         /* evaluate every domain, apply the strictest (several only) */
    DMARC_FROM_ACCEPT,            /* add the DMARC_FROM_* symbol (a score), evaluate nothing */
};

struct dmarc_settings {
    bool enabled;
    bool shadow;                  /* mode "shadow" (engine.c) */
    enum dmarc_from_policy several_from;  /* several fields, several addresses, a group */
    enum dmarc_from_policy no_from;       /* no field, no address, a bad domain, unparseable
                                           * (reject or accept: nothing to evaluate) */
    bool quarantine_hold;         /* quarantine = "hold" (the MTA's hold queue) or "score" */
    struct reply reject_reply;    /* 5xx; "%d" in the text is the policy domain */
    bool skip_internal;           /* networks.internal clients */
    bool skip_trusted;            /* networks.trusted clients */
    bool skip_authenticated;      /* SASL-authenticated clients */
    /* local overrides: an authenticated identity of the message (the MAIL FROM domain with
     * SPF pass, a d= with DKIM pass) in one of these lets a failing message through, with the
     * reason RFC 9990 reports */
    struct pattern_list trusted_forwarders;
    struct pattern_list mailing_lists;
    struct pattern_list local_overrides;
    /* ARC sealers (d= of the ARC-Seal) whose arc=pass, with a passing SPF or DKIM result in
     * their ARC-Authentication-Results, lets a failing message through (arc_result.h) */
    struct pattern_list trusted_arc_sealers;
    unsigned max_queries;         /* one Author Domain's evaluation (dmarc_eval.h), 1..64 */
    unsigned max_domains;         /* several_from = "strictest": Author Domains evaluated */
    uint64_t budget_ms;           /* one Author Domain's evaluation */
    uint64_t query_timeout_ms;    /* one DNS query; 0 = dns.timeout */
};

struct config;
struct dmarc_limits;
/* The evaluation limits of this policy (dmarc_eval.h). */
void dmarc_limits_for(const struct config *cfg, struct dmarc_limits *lim);

#endif
