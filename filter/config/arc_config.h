/* arc_config.h - the typed settings of the policy's `arc` section (arc_config.c): whether
 * inbound ARC chains are verified (RFC 8617) and within which limits, and which mail is
 * sealed with which key of the DKIM key table. Read by check_arc.c and check_arc_seal.c
 * through cfg->arc. Symbols and scores are not here: they are ARC_PASS, ARC_FAIL, ARC_NONE,
 * ARC_INVALID and ARC_REJECT, overridden in `symbols`. */
#ifndef MW_ARC_CONFIG_H
#define MW_ARC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pattern.h"

struct arc_policy {
    bool enabled;                 /* verify inbound chains */
    bool shadow;                  /* mode "shadow" (engine.c) */
    unsigned max_instances;       /* more ARC sets than this: arc=fail (RFC 8617: 50) */
    unsigned max_key_lookups;     /* key records one chain may need; more: arc=fail */
    uint64_t budget_ms;           /* every key lookup of one message together */
    bool report_none;             /* Authentication-Results arc=none for mail without a chain */

    struct {
        bool enabled;
        char *key;                /* the name of a dkim.keys entry */
        bool relayed;             /* every outbound message (internal or authenticated) */
        struct pattern_list recipients;   /* any recipient matching (address patterns) */
        struct pattern_list senders;      /* the envelope sender (address patterns) */
        struct pattern_list clients;      /* the client's address (network patterns) */
        char *decl_file;          /* where seal.key was set, for errors */
        int decl_line;
        size_t key_index;         /* into cfg->dkim->keys, resolved by finish() */
    } seal;
};

#endif
