/* dns_cache.h - answers kept in the process for their TTL, in front of libunbound's own cache:
 * a repeated lookup is answered on the caller's thread, without the round trip through
 * libunbound's thread and pipes (about 30 system calls and four thread wake-ups per query,
 * docs/PERFORMANCE.md). Keeps only what libunbound itself caches: answers (with or without
 * records) and NXDOMAIN, with their DNSSEC status, never failures or timeouts, and never longer
 * than their TTL (capped by dns.cache_max_ttl). Bounded: at most max_entries answers, the
 * oldest dropped first. Thread-safe. */
#ifndef MW_DNS_CACHE_H
#define MW_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

struct dns_cache;

/* max_entries 0 gives a cache that keeps nothing; max_ttl_s 0 means no cap but the TTL. */
struct dns_cache *dns_cache_new(size_t max_entries, int max_ttl_s);
void dns_cache_free(struct dns_cache *c);
/* A copy of the answer kept for name and type (names compare without case and final dot),
 * its ttl the seconds left; false when there is none or it expired. now_ms on dns_now_ms's
 * clock. */
bool dns_cache_get(struct dns_cache *c, const char *name, int type, uint64_t now_ms,
    struct dns_answer *out);
/* Keeps a copy of a DNS_OK or DNS_NXDOMAIN answer with a TTL above 0; anything else is not
 * kept. */
void dns_cache_put(struct dns_cache *c, const char *name, int type, uint64_t now_ms,
    const struct dns_answer *a);
/* Answers kept now (expired ones included until they are dropped). */
size_t dns_cache_count(struct dns_cache *c);

#endif
