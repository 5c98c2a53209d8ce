/* greylist.h - the greylisting policy (the `greylist` section): the first message of an
 * unknown (client network, sender, recipient) triplet is tempfailed for `delay`, then passes
 * and the triplet is remembered for `remember`. Kept in the store greylist.store names (store_config.h).
 * Built by greylist_config.c, read by check_greylist.c; immutable once loaded. */
#ifndef MW_GREYLIST_H
#define MW_GREYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "store_config.h"
#include "verdict.h"

enum greylist_mode {
    GREYLIST_EVERYONE,       /* every inbound triplet, decided at RCPT */
    GREYLIST_SCORE,          /* only messages scoring >= score, decided at end of DATA */
};

struct greylist_policy {
    bool enabled;
    enum greylist_mode mode;
    bool shadow;                            /* mode "shadow" (engine.c) */
    double score;
    uint64_t delay_ms;
    uint64_t retry_window_ms;
    uint64_t remember_ms;
    unsigned ipv4_prefix, ipv6_prefix;
    struct reply reply;
    struct cidr_list exempt_networks;       /* besides networks.internal/.trusted and access
                                               rules with action "accept" */
    struct store_use store_use;             /* greylist.store = "NAME" (store_config.h) */
    struct store *store;                    /* set by finish; NULL in config_defaults() */
};

#endif
