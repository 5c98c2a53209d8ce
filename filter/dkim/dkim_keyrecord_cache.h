/* dkim_keyrecord_cache.h - a small cache of DKIM key record answers (the TXT records of
 * selector._domainkey.domain), kept as the finished DNS reply handed to libopendkim, so a
 * repeated key lookup needs neither the resolver's thread hop nor building the reply again.
 *
 * Promises: an entry lives no longer than its answer's TTL, capped at max_ttl_s; answers
 * with a TTL of 0 and anything that is not a positive answer are never stored (the caller
 * stores only records; errors and NXDOMAIN/NODATA are not cached at all); the cache holds at
 * most max_entries entries (when full, expired entries go first, then the one that expires
 * soonest); names compare case-insensitively; every function is thread-safe. */
#ifndef MW_DKIM_KEYRECORD_CACHE_H
#define MW_DKIM_KEYRECORD_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct keyrecord_cache;

/* Seconds on a clock that never goes back (tests pass their own). */
typedef int64_t keyrecord_clock_fn(void);

/* clock NULL: CLOCK_MONOTONIC. */
struct keyrecord_cache *keyrecord_cache_new(size_t max_entries, int max_ttl_s,
    keyrecord_clock_fn *clock);
void keyrecord_cache_free(struct keyrecord_cache *c);

/* Copies the unexpired reply stored for name/type into buf and returns its length; 0 when
 * there is none, it has expired, or it does not fit in size bytes. */
size_t keyrecord_cache_get(struct keyrecord_cache *c, const char *name, int type,
    unsigned char *buf, size_t size);

/* Stores reply[0..len) for name/type for ttl_s seconds (capped); replaces an older entry of
 * the same name and type. Does nothing when ttl_s <= 0, len is 0 or the name is too long. */
void keyrecord_cache_put(struct keyrecord_cache *c, const char *name, int type,
    const unsigned char *reply, size_t len, int ttl_s);

/* Entries held, expired or not (for tests and statistics). */
size_t keyrecord_cache_count(struct keyrecord_cache *c);

#endif
