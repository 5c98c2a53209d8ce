/* spf_config.h - the typed settings of the policy's `spf` section (spf_config.c), read by the
 * SPF check (check_spf.c) through cfg->spf. Symbols, scores, actions and replies of the SPF
 * results are not here: they are the SPF_* / SPF_HELO_* symbols, overridden in `symbols`. */
#ifndef MW_SPF_CONFIG_H
#define MW_SPF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "pattern.h"

struct spf_policy {
    bool enabled;
    bool shadow;                  /* mode "shadow" (engine.c) */
    bool check_helo;              /* the HELO identity (when it is a FQDN) */
    bool check_mail_from;         /* the MAIL FROM identity (postmaster@HELO for <>) */
    bool received_spf;            /* also add Received-SPF: (RFC 7208 9.1) */
    uint64_t budget_ms;           /* one identity's whole evaluation */
    uint64_t query_timeout_ms;    /* one DNS query; 0 = dns.timeout */
    unsigned max_dns_lookups;     /* RFC 7208 4.6.4: 10 */
    unsigned max_void_lookups;    /* RFC 7208 4.6.4: 2 */
    struct cidr_list allow_clients;
    char *allow_helo_text;        /* as written: patterns separated by blanks or commas */
    char *allow_sender_domains_text;
    struct pattern_list allow_helo;            /* compiled from the texts (pattern.h) */
    struct pattern_list allow_sender_domains;
};

struct config;
struct spf_limits;
/* The evaluation limits of this policy: spf.budget, the lookup limits, and the time one query
 * may take: spf.query_timeout, or dns.timeout when it is 0 (spf_eval.c caps either by what is
 * left of the budget). */
void spf_limits_for(const struct config *cfg, struct spf_limits *lim);

#endif
