/* dnslist.h - DNS lists (DNSBL/DNSWL on the client address, RHSBL on sender and From domains,
 * URIBL on the domains of body links): one zone description shared by every kind, the answer
 * to symbols mapping (per return code, exact or bitmask), and the kinds themselves, each in its
 * own file (dnslist_ip.c, dnslist_domain.c, dnslist_uri.c). Every query goes through the
 * configuration's resolver (dns_query); a list that fails or times out adds nothing. */
#ifndef MW_DNSLIST_H
#define MW_DNSLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

struct txn;
struct cfg_reader;

/* One return code of a zone: an exact answer ("127.0.0.2") or, for bitmask zones, the bits of
 * the last octet ("mask = 8"). */
struct dnslist_code {
    uint32_t address;          /* host order, for an exact code; 0 with mask */
    uint32_t mask;             /* last-octet bits, for a bitmask code; 0 for exact */
    double score;
    char *symbol;              /* NULL: the zone's symbol */
};

enum dnslist_kind {
    DNSLIST_IP,                /* client address, reversed: d.c.b.a.zone / nibbles for IPv6 */
    DNSLIST_DOMAIN,            /* envelope sender and header From domains */
    DNSLIST_URI,               /* domains of links in the body */
};

struct dnslist_zone {
    char *zone;                /* "zen.spamhaus.org" */
    char *symbol;              /* "RBL_ZEN" */
    enum dnslist_kind kind;
    struct dnslist_code *codes;
    size_t code_count;
    double score;              /* an answer in 127.0.0.0/8 no code matches */
    bool ipv6;                 /* ip lists: also look up IPv6 clients */
    bool check_sender;         /* domain lists: the envelope sender's domain */
    bool check_from;           /* domain lists: the header From domain */
    bool registrable;          /* domain and uri lists: look up the registrable domain (PSL) */
    char *file;                /* where it was declared, for logs */
    int line;
};

/* What a kind does, and when. */
struct dnslist_backend {
    const char *name;          /* "ip", "domain", "uri": the zone's `type` */
    enum dnslist_kind kind;
    int stage;                 /* enum stage it runs at */
    void (*run)(struct txn *t, const struct dnslist_zone *z);
    /* Optional: starts the queries run() will make (dnslist_start), without waiting. */
    void (*prefetch)(struct txn *t, const struct dnslist_zone *z);
};

extern const struct dnslist_backend dnslist_ip;
extern const struct dnslist_backend dnslist_domain;
extern const struct dnslist_backend dnslist_uri;
/* NULL-terminated. */
extern const struct dnslist_backend *const dnslist_backends[];

/* Looks up `name` under z's zone (A records) and adds the symbol of every code the answers
 * match, each once. Returns false when the list did not answer in time (a caller with many
 * names stops asking it for this message). */
bool dnslist_lookup(struct txn *t, const struct dnslist_zone *z, const char *name);
/* Sends the query dnslist_lookup(t, z, name) will read, now. */
void dnslist_start(struct txn *t, const struct dnslist_zone *z, const char *name);

/* Policy: reads `dnslists = ( { zone = "..."; type = "ip"; ... } )` (adds to zones). */
void dnslist_read_zones(struct cfg_reader *r, const config_setting_t *list,
    struct dnslist_zone **zones, size_t *count);
void dnslist_zone_free(struct dnslist_zone *z);

#endif
