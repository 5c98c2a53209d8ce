/* dns.h - the daemon's one resolver: a libunbound context shared by every thread (SPF, DKIM keys,
 * DMARC records and DNS lists all come through here). Each query has a deadline; a query that
 * does not finish in time is cancelled and reported as a timeout, never waited on forever. */
#ifndef MW_DNS_H
#define MW_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum dns_status {
    DNS_OK,          /* an answer, possibly with no records (NODATA) */
    DNS_NXDOMAIN,
    DNS_SERVFAIL,    /* the server failed, or DNSSEC validation failed (bogus) */
    DNS_TIMEOUT,
    DNS_ERROR,       /* a local error: bad name, resolver not started */
};

struct dns_answer {
    enum dns_status status;
    int rcode;                 /* the DNS rcode; -1 when there was no reply (timeout, error) */
    bool secure;               /* DNSSEC validated */
    int ttl;                   /* seconds; for NXDOMAIN/NODATA the negative-caching TTL */
    size_t count;              /* records in data; only DNS_OK has any */
    char **data;               /* count strings, then a NULL; itself NULL unless DNS_OK.
                                  TXT (and SPF, 99): the character-strings of one record
                                  joined (RFC 7208 3.3), a NUL octet turned into DEL (0x7f);
                                  A/AAAA: printable address; MX: "pref name";
                                  PTR/CNAME/NS: the name; SRV: "prio weight port target";
                                  SOA: "mname rname serial refresh retry expire minimum";
                                  other types: RFC 3597 "\# len hex".
                                  Names are dotted, without the final dot ("." for the
                                  root), with RFC 1035 escapes for '.', '\' and unprintable
                                  octets inside a label. Malformed records are left out. */
};

struct dns_resolver;

/* Creates a resolver from the dns section, which it copies what it needs from: cfg may be
 * freed first. Returns NULL and sets why on failure. */
struct dns_resolver *dns_resolver_new(const struct config *cfg, char *why, size_t why_size);
/* dns_resolver_new in two steps, for a policy built in one process and served in another (the
 * daemon forks after loading): _prepare configures unbound without starting a thread (no
 * query may be made yet), _start starts the threads; on failure free it. */
struct dns_resolver *dns_resolver_prepare(const struct config *cfg, char *why, size_t why_size);
bool dns_resolver_start(struct dns_resolver *r, char *why, size_t why_size);
/* No dns_query on r may be running or start; answers still on the way are dropped. */
void dns_resolver_free(struct dns_resolver *r);

/* type is an RR type number (1 A, 28 AAAA, 15 MX, 16 TXT, 12 PTR, ...). timeout_ms 0 = the
 * configured timeout. Thread-safe. Returns within the timeout (DNS_TIMEOUT when nothing came).
 * name may end in a dot; an empty name, an empty label, a label over 63 or a name over 253
 * characters gives DNS_ERROR. out is always filled; give it to dns_answer_free. */
void dns_query(struct dns_resolver *r, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);
void dns_answer_free(struct dns_answer *a);

/* Several queries in flight from one thread: dns_start sends a query and returns at once;
 * dns_finish waits for its answer until deadline_ms (on dns_now_ms's clock), fills out as
 * dns_query does (DNS_TIMEOUT when nothing came in time) and frees the query; dns_cancel
 * frees it without waiting. Every started query goes to exactly one of the two. dns_start
 * never returns NULL: a query that could not be sent (bad name, no resolver) finishes at
 * once with DNS_ERROR. dns_pending_done says whether dns_finish would return without
 * waiting. Thread-safe; a query may be finished by another thread than the one that
 * started it. */
struct dns_pending;
struct dns_pending *dns_start(struct dns_resolver *r, const char *name, int type);
bool dns_pending_done(struct dns_pending *p);
void dns_finish(struct dns_pending *p, uint64_t deadline_ms, struct dns_answer *out);
void dns_cancel(struct dns_pending *p);
/* Milliseconds on a clock that never goes back. */
uint64_t dns_now_ms(void);
/* dns_now_ms() + timeout_ms, where 0 means the configured timeout (r may be NULL). */
uint64_t dns_deadline_after(struct dns_resolver *r, uint64_t timeout_ms);
const char *dns_status_name(enum dns_status status);
/* "A" -> 1, "TXT" -> 16, ...; -1 when unknown. */
int dns_type_from_name(const char *name);

#endif
