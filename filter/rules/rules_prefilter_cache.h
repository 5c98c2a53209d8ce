/* rules_prefilter_cache.h - compiled Hyperscan databases kept on disk (rules_prefilter_cache.c),
 * so a restart or a reload with unchanged rules does not compile them again. */
#ifndef MW_RULES_PREFILTER_CACHE_H
#define MW_RULES_PREFILTER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <hs.h>

#define PREFILTER_CACHE_KEY_LEN 32          /* SHA-256 */
#define PREFILTER_CACHE_MAX_AGE (30 * 24 * 3600)   /* a file unused this long is removed */

/* Makes dir if it is missing (its parent must exist) and checks that only this user (or
 * root) owns and may write it. false, with why, when it cannot be used. */
bool prefilter_cache_open(const char *dir, char *why, size_t why_size);

/* The name of one compile: Hyperscan's version, this machine's platform, the mode and, for
 * each of the count patterns, its id, flags and expression. */
void prefilter_cache_key(const char *const *expressions, const unsigned *flags,
    const unsigned *ids, size_t count, unsigned char key[PREFILTER_CACHE_KEY_LEN]);

/* The database stored under key, with the ids it holds (at most *count of them, which are
 * written to ids, and *count set); NULL when there is none, or it is not ours, damaged, or
 * refused by this Hyperscan. A file used is touched, so pruning keeps it. */
hs_database_t *prefilter_cache_load(const char *dir, const unsigned char key[PREFILTER_CACHE_KEY_LEN],
    unsigned *ids, size_t *count);

/* Stores db (holding the count ids) under key: written whole, then renamed into place. A
 * failure only costs a compile next time. */
void prefilter_cache_store(const char *dir, const unsigned char key[PREFILTER_CACHE_KEY_LEN],
    const hs_database_t *db, const unsigned *ids, size_t count);

/* Removes the cache files (and left-over temporary files) not used for max_age seconds. */
void prefilter_cache_prune(const char *dir, time_t max_age);

#endif
