/* ratelimit.h - the rate-limit policy (the `ratelimit` section): named limits, each a GCRA
 * rate and burst on a key made of connection and envelope facts, and the store they share.
 * Built by ratelimit_config.c, read by check_ratelimit.c; immutable once loaded. */
#ifndef MW_RATELIMIT_H
#define MW_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "gcra.h"
#include "pattern.h"
#include "store.h"
#include "store_config.h"
#include "verdict.h"

enum rl_part {
    RL_CLIENT_IP,
    RL_CLIENT_SUBNET,        /* IPv4 /ipv4_prefix, IPv6 /ipv6_prefix (default /24, /64) */
    RL_HELO,
    RL_SENDER,
    RL_SENDER_DOMAIN,
    RL_SASL_USER,
    RL_RECIPIENT,
    RL_RECIPIENT_DOMAIN,
};
#define RL_MAX_PARTS 4

enum rl_count { RL_CONNECTIONS, RL_MESSAGES, RL_RECIPIENTS, RL_BYTES };

#define RL_SCOPE_INBOUND  0x1u
#define RL_SCOPE_OUTBOUND 0x2u

struct rl_limit {
    char *name;
    char *symbol;                    /* RATELIMIT_<NAME> */
    enum rl_part parts[RL_MAX_PARTS];
    size_t part_count;
    enum rl_count count;
    struct gcra_limit gcra;
    unsigned ipv4_prefix, ipv6_prefix;
    enum action action;              /* TEMPFAIL (default), REJECT or NONE (symbol only) */
    double score;
    struct reply reply;
    bool shadow;                     /* mode "shadow" (dry_run = true is its old name) */
    unsigned scope;                  /* RL_SCOPE_* bits */
    struct pattern_list exempt_networks;    /* patterns (pattern.h) of each kind */
    struct pattern_list exempt_sasl_users;
    struct pattern_list exempt_senders;
    struct pattern_list exempt_recipients;
    int stage;                       /* enum stage at which it decides (check_ratelimit.c) */
    uint64_t dry_run_hits;           /* "would have limited" (shadow or allow-listed) since this
                                        policy loaded (atomic) */
};

struct ratelimit_policy {
    struct store_use store_use;      /* which store: ratelimit.store = "NAME" (store_config.h) */
    bool shadow;                     /* ratelimit.mode "shadow": every limit (engine.c) */
    struct store *store;             /* process-lifetime (store.h); set by finish */
    struct rl_limit *limits;
    size_t limit_count;
};

/* The names the policy uses, for messages and docs. */
const char *rl_part_name(enum rl_part part);

#endif
