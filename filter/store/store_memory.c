/* store_memory.c - the embedded store: a hash table split into shards, each with its own lock,
 * so threads deciding on different keys rarely wait for each other and a decision on one key
 * is atomic. It holds at most max_keys entries (at least one per shard): when a shard is full,
 * expired entries go first (a sweep of the shard, at most once a second), then the least
 * recently used. A flood of distinct keys therefore costs a bounded amount of memory; an
 * expired entry is never read (it counts as absent). Times are the caller's monotonic clock. */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define SHARD_BITS 6
#define SHARD_COUNT (1u << SHARD_BITS)
#define SWEEP_INTERVAL_US 1000000
#define MAX_KEY_LEN 1024

enum record_kind { KIND_GCRA, KIND_GREY };

struct entry {
    struct entry *chain;               /* next in the bucket */
    struct entry *older, *newer;       /* the shard's LRU list */
    uint64_t hash;
    int64_t expires_us;
    int64_t value;                     /* GCRA: TAT; grey: first seen */
    uint16_t key_len;
    uint8_t kind;
    uint8_t passed;                    /* grey */
    char key[];
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t bucket_mask;
    size_t count;
    size_t cap;
    struct entry *oldest, *newest;
    int64_t next_sweep_us;
    uint64_t live_evictions;
};

struct memory_store {
    struct shard shards[SHARD_COUNT];
    pthread_mutex_t warn_lock;
    int64_t last_warn_us;
};

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;          /* FNV-1a, then a final mix */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static size_t shard_cap(uint64_t max_keys, unsigned index)
{
    uint64_t cap = max_keys / SHARD_COUNT + (index < max_keys % SHARD_COUNT ? 1 : 0);
    return cap > 0 ? (size_t)cap : 1;
}

static size_t buckets_for(size_t cap)
{
    size_t n = 16;
    while (n < cap)
        n <<= 1;
    return n;
}

static void rehash(struct shard *sh, size_t nbuckets)
{
    struct entry **fresh = xcalloc(nbuckets, sizeof *fresh);
    for (size_t i = 0; i <= sh->bucket_mask; i++) {
        struct entry *e = sh->buckets[i];
        while (e != NULL) {
            struct entry *next = e->chain;
            size_t b = e->hash & (nbuckets - 1);
            e->chain = fresh[b];
            fresh[b] = e;
            e = next;
        }
    }
    free(sh->buckets);
    sh->buckets = fresh;
    sh->bucket_mask = nbuckets - 1;
}

void *store_memory_new(uint64_t max_keys)
{
    struct memory_store *m = xcalloc(1, sizeof *m);
    for (unsigned i = 0; i < SHARD_COUNT; i++) {
        struct shard *sh = &m->shards[i];
        pthread_mutex_init(&sh->lock, NULL);
        sh->cap = shard_cap(max_keys, i);
        size_t n = buckets_for(sh->cap);
        sh->buckets = xcalloc(n, sizeof *sh->buckets);
        sh->bucket_mask = n - 1;
    }
    pthread_mutex_init(&m->warn_lock, NULL);
    return m;
}

static void lru_unlink(struct shard *sh, struct entry *e)
{
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        sh->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        sh->newest = e->older;
    e->older = e->newer = NULL;
}

static void lru_push_newest(struct shard *sh, struct entry *e)
{
    e->older = sh->newest;
    e->newer = NULL;
    if (sh->newest != NULL)
        sh->newest->newer = e;
    else
        sh->oldest = e;
    sh->newest = e;
}

static void remove_entry(struct shard *sh, struct entry *e)
{
    struct entry **p = &sh->buckets[e->hash & sh->bucket_mask];
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    lru_unlink(sh, e);
    sh->count--;
    free(e);
}

void store_memory_set_max_keys(void *impl, uint64_t max_keys)
{
    struct memory_store *m = impl;
    for (unsigned i = 0; i < SHARD_COUNT; i++) {
        struct shard *sh = &m->shards[i];
        pthread_mutex_lock(&sh->lock);
        sh->cap = shard_cap(max_keys, i);
        while (sh->count > sh->cap)
            remove_entry(sh, sh->oldest);
        if (buckets_for(sh->cap) > sh->bucket_mask + 1)
            rehash(sh, buckets_for(sh->cap));
        pthread_mutex_unlock(&sh->lock);
    }
}

uint64_t store_memory_key_count(void *impl)
{
    struct memory_store *m = impl;
    uint64_t total = 0;
    for (unsigned i = 0; i < SHARD_COUNT; i++) {
        pthread_mutex_lock(&m->shards[i].lock);
        total += m->shards[i].count;
        pthread_mutex_unlock(&m->shards[i].lock);
    }
    return total;
}

static void store_memory_free(void *impl)
{
    struct memory_store *m = impl;
    if (m == NULL)
        return;
    for (unsigned i = 0; i < SHARD_COUNT; i++) {
        struct shard *sh = &m->shards[i];
        while (sh->oldest != NULL)
            remove_entry(sh, sh->oldest);
        free(sh->buckets);
        pthread_mutex_destroy(&sh->lock);
    }
    pthread_mutex_destroy(&m->warn_lock);
    free(m);
}

/* A full shard evicted entries that had not expired: its counters restart. Once a minute. */
static void warn_live_eviction(struct memory_store *m, int64_t now_us)
{
    pthread_mutex_lock(&m->warn_lock);
    if (m->last_warn_us == 0 || now_us - m->last_warn_us >= 60 * 1000000LL) {
        m->last_warn_us = now_us;
        log_warn("store memory: full, evicting entries that have not expired (their counters "
            "restart); raise ratelimit.store.max_keys if this is not a flood");
    }
    pthread_mutex_unlock(&m->warn_lock);
}

/* Makes room for one entry: expired ones first, then the least recently used. */
static void make_room(struct memory_store *m, struct shard *sh, int64_t now_us)
{
    if (sh->count < sh->cap)
        return;
    if (now_us >= sh->next_sweep_us) {
        sh->next_sweep_us = now_us + SWEEP_INTERVAL_US;
        struct entry *e = sh->oldest;
        while (e != NULL) {
            struct entry *next = e->newer;
            if (e->expires_us <= now_us)
                remove_entry(sh, e);
            e = next;
        }
    }
    /* the oldest few may well have expired since the last sweep */
    for (int i = 0; i < 4 && sh->count >= sh->cap && sh->oldest->expires_us <= now_us; i++)
        remove_entry(sh, sh->oldest);
    if (sh->count >= sh->cap) {
        sh->live_evictions++;
        remove_entry(sh, sh->oldest);
        warn_live_eviction(m, now_us);
    }
}

/* The live entry for key, or NULL; an expired one is removed. */
static struct entry *find(struct shard *sh, const char *key, size_t len, uint64_t hash,
    int64_t now_us)
{
    for (struct entry *e = sh->buckets[hash & sh->bucket_mask]; e != NULL; e = e->chain) {
        if (e->hash == hash && e->key_len == len && memcmp(e->key, key, len) == 0) {
            if (e->expires_us <= now_us) {
                remove_entry(sh, e);
                return NULL;
            }
            return e;
        }
    }
    return NULL;
}

static struct entry *insert(struct memory_store *m, struct shard *sh, const char *key,
    size_t len, uint64_t hash, int64_t now_us)
{
    make_room(m, sh, now_us);
    struct entry *e = xmalloc(sizeof *e + len);
    memset(e, 0, sizeof *e);
    e->hash = hash;
    e->key_len = (uint16_t)len;
    memcpy(e->key, key, len);
    size_t b = hash & sh->bucket_mask;
    e->chain = sh->buckets[b];
    sh->buckets[b] = e;
    lru_push_newest(sh, e);
    sh->count++;
    return e;
}

static void touch(struct shard *sh, struct entry *e)
{
    lru_unlink(sh, e);
    lru_push_newest(sh, e);
}

static struct shard *shard_for(struct memory_store *m, uint64_t hash)
{
    return &m->shards[hash >> (64 - SHARD_BITS)];
}

static bool memory_gcra(void *impl, const char *key, const struct gcra_limit *limit, int64_t cost,
    int64_t now_us, struct gcra_result *out, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    size_t len = strnlen(key, MAX_KEY_LEN);
    uint64_t hash = hash_key(key, len);
    struct shard *sh = shard_for(m, hash);
    (void)err, (void)err_size;
    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, key, len, hash, now_us);
    bool have = e != NULL && e->kind == KIND_GCRA;
    gcra_decide(limit, have, have ? e->value : 0, cost, now_us, out);
    if (out->store && out->ttl_us > 0) {
        if (e == NULL)
            e = insert(m, sh, key, len, hash, now_us);
        else
            touch(sh, e);
        e->kind = KIND_GCRA;
        e->value = out->new_tat_us;
        e->expires_us = now_us + out->ttl_us;
    }
    pthread_mutex_unlock(&sh->lock);
    return true;
}

static bool memory_greylist(void *impl, const char *key, const struct grey_params *p,
    int64_t now_us, struct grey_result *out, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    size_t len = strnlen(key, MAX_KEY_LEN);
    uint64_t hash = hash_key(key, len);
    struct shard *sh = shard_for(m, hash);
    (void)err, (void)err_size;
    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, key, len, hash, now_us);
    bool have = e != NULL && e->kind == KIND_GREY;
    struct grey_record rec = {0};
    if (have) {
        rec.first_seen_us = e->value;
        rec.passed = e->passed;
    }
    int64_t ttl_us;
    grey_decide(p, have, &rec, now_us, out, &ttl_us);
    if (e == NULL)
        e = insert(m, sh, key, len, hash, now_us);
    else
        touch(sh, e);
    e->kind = KIND_GREY;
    e->value = rec.first_seen_us;
    e->passed = rec.passed;
    e->expires_us = now_us + ttl_us;
    pthread_mutex_unlock(&sh->lock);
    return true;
}

const struct store_backend_ops store_memory_ops = {
    .name = "memory",
    .gcra = memory_gcra,
    .greylist = memory_greylist,
    .free = store_memory_free,
};
