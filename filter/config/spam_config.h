/* spam_config.h - the `spam` policy section: settings of the native spam checks (HELO, reverse
 * DNS, DNS lists, headers, MIME and body) and of the message view they share (the cap on bytes
 * scanned). Filled by spam_config.c; read-only once the policy is loaded. */
#ifndef MW_SPAM_CONFIG_H
#define MW_SPAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "config_read.h"
#include "dnslist.h"

#define SPAM_DEFAULT_MAX_SCAN_BYTES (1024 * 1024)

struct spam_policy {
    bool enabled;                  /* false: no native spam check runs */
    bool shadow;                   /* mode "shadow" for every native spam check (engine.c) */
    uint64_t max_scan_bytes;       /* body bytes the message view parses; the rest is not scanned */

    /* HELO and reverse DNS */
    struct string_list local_names;      /* our host names, besides the MTA's macro j */
    struct cidr_list local_addresses;    /* our addresses: a HELO claiming one is forged */
    struct string_list dynamic_keywords; /* name tokens of generic / dynamic reverse names */
    bool rdns;                           /* look up the client's reverse name */

    /* headers */
    int date_future_s;             /* Date more than this ahead of now: DATE_IN_FUTURE */
    int date_past_s;               /* Date more than this before now: DATE_IN_PAST */
    unsigned many_recipients;      /* To + Cc addresses above this: MANY_RECIPIENTS */

    /* MIME and body */
    struct string_list shorteners;       /* URL shortener hosts */
    struct string_list risky_extensions; /* attachment file name extensions, without the dot */
    struct string_list risky_types;      /* attachment content types */

    /* DNS lists */
    struct dnslist_zone *dnslists;
    size_t dnslist_count;
    unsigned max_uri_lookups;      /* distinct body domains looked up per URI list */
    uint64_t dnslist_timeout_ms;   /* per query */
};

/* Whether spam.mode is "shadow": every native spam check's symbols are then shadow (engine.c). */
bool spam_shadowed(const struct config *cfg);

#endif
