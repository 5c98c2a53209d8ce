/* store_memory.c - the embedded store: a hash table split into shards, each with its own lock,
 * so threads deciding on different keys rarely wait for each other and a decision on one key
 * is atomic (a batch of counter adds locks its shards in index order, so it is atomic too).
 * Generic records (counters, values) live beside the GCRA and greylisting records and are
 * bounded and evicted with them: this store is for one process, not for keeping. It holds at most max_keys entries (at least one per shard): when a shard is full,
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
#define NEVER INT64_MAX

enum record_kind { KIND_GCRA, KIND_GREY, KIND_COUNTER, KIND_VALUE };

struct entry {
    struct entry *chain;               /* next in the bucket */
    struct entry *older, *newer;       /* the shard's LRU list */
    uint64_t hash;
    int64_t expires_us;
    int64_t value;                     /* GCRA: TAT; grey: first seen; counter */
    unsigned char *data;               /* KIND_VALUE: its bytes (malloc'ed) */
    size_t data_len;
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
    free(e->data);
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
        free(e->data);
        e->data = NULL;
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
    free(e->data);
    e->data = NULL;
    e->kind = KIND_GREY;
    e->value = rec.first_seen_us;
    e->passed = rec.passed;
    e->expires_us = now_us + ttl_us;
    pthread_mutex_unlock(&sh->lock);
    return true;
}

/* Generic records. */

static bool is_generic(const struct entry *e)
{
    return e->kind == KIND_COUNTER || e->kind == KIND_VALUE;
}

static int64_t expiry(int64_t now_us, uint64_t ttl_ms)
{
    if (ttl_ms == 0 || ttl_ms > (uint64_t)(NEVER - now_us) / 1000)
        return NEVER;
    return now_us + (int64_t)ttl_ms * 1000;
}

struct located {
    size_t len;
    uint64_t hash;
    struct shard *sh;
};

static struct located locate(struct memory_store *m, const char *key)
{
    struct located at;
    at.len = strnlen(key, MAX_KEY_LEN);
    at.hash = hash_key(key, at.len);
    at.sh = shard_for(m, at.hash);
    return at;
}

/* The live entry at key when it is a counter (or absent); false when it is not one. Under
 * the shard's lock. A GCRA or greylisting record of the same key counts as absent. */
static bool counter_entry(struct shard *sh, const char *key, const struct located *at,
    int64_t now_us, struct entry **e, char *err, size_t err_size)
{
    *e = find(sh, key, at->len, at->hash, now_us);
    if (*e != NULL && (*e)->kind == KIND_VALUE) {
        snprintf(err, err_size, "invalid: a counter op on a key that holds a value");
        return false;
    }
    if (*e != NULL && !is_generic(*e))
        *e = NULL;
    return true;
}

static bool add_checked(int64_t a, int64_t b, int64_t *sum, char *err, size_t err_size)
{
    if (__builtin_add_overflow(a, b, sum)) {
        snprintf(err, err_size, "invalid: the counter would overflow");
        return false;
    }
    return true;
}

/* Writes the counter (the entry found by counter_entry, or a new one). */
static void counter_store(struct memory_store *m, struct shard *sh, struct entry *e,
    const char *key, const struct located *at, int64_t value, uint64_t ttl_ms, int64_t now_us)
{
    if (e == NULL) {
        struct entry *old = find(sh, key, at->len, at->hash, now_us);
        if (old != NULL)
            remove_entry(sh, old);         /* a GCRA or greylisting record of the same name */
        e = insert(m, sh, key, at->len, at->hash, now_us);
        e->expires_us = NEVER;
    } else {
        touch(sh, e);
    }
    e->kind = KIND_COUNTER;
    e->value = value;
    if (ttl_ms > 0)
        e->expires_us = expiry(now_us, ttl_ms);
}

static bool memory_counter_add(void *impl, const char *key, int64_t delta, uint64_t ttl_ms,
    int64_t now_us, int64_t *value, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    struct located at = locate(m, key);
    pthread_mutex_lock(&at.sh->lock);
    struct entry *e;
    bool ok = counter_entry(at.sh, key, &at, now_us, &e, err, err_size)
        && add_checked(e != NULL ? e->value : 0, delta, value, err, err_size);
    if (ok)
        counter_store(m, at.sh, e, key, &at, *value, ttl_ms, now_us);
    pthread_mutex_unlock(&at.sh->lock);
    return ok;
}

static int compare_shard_index(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the count shard indexes and drops repeats: the order a batch locks them in (each
 * once, lowest first, so two batches never wait on each other). Returns how many are left. */
static size_t unique_shards(unsigned *index, size_t count)
{
    qsort(index, count, sizeof *index, compare_shard_index);
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (n == 0 || index[n - 1] != index[i])
            index[n++] = index[i];
    return n;
}

/* The shards of the batch, each once, in index order. */
static size_t batch_shards(struct memory_store *m, const struct store_counter_change *changes,
    size_t count, unsigned *index)
{
    for (size_t i = 0; i < count; i++)
        index[i] = (unsigned)(locate(m, changes[i].key).sh - m->shards);
    return unique_shards(index, count);
}

static bool memory_counter_add_many(void *impl, struct store_counter_change *changes,
    size_t count, uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    unsigned *index = xcalloc(count, sizeof *index);
    size_t shards = batch_shards(m, changes, count, index);
    for (size_t i = 0; i < shards; i++)
        pthread_mutex_lock(&m->shards[index[i]].lock);
    /* first every check (and the sums, with the same key twice in mind), then every write */
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        struct located at = locate(m, changes[i].key);
        struct entry *e;
        ok = counter_entry(at.sh, changes[i].key, &at, now_us, &e, err, err_size);
        int64_t base = e != NULL ? e->value : 0;
        for (size_t j = 0; j < i && ok; j++)
            if (strcmp(changes[j].key, changes[i].key) == 0)
                base = changes[j].value;
        ok = ok && add_checked(base, changes[i].delta, &changes[i].value, err, err_size);
    }
    for (size_t i = 0; i < count && ok; i++) {
        struct located at = locate(m, changes[i].key);
        struct entry *e;
        counter_entry(at.sh, changes[i].key, &at, now_us, &e, err, err_size);
        counter_store(m, at.sh, e, changes[i].key, &at, changes[i].value, ttl_ms, now_us);
    }
    for (size_t i = shards; i > 0; i--)
        pthread_mutex_unlock(&m->shards[index[i - 1]].lock);
    free(index);
    return ok;
}

static bool memory_value_set(void *impl, const char *key, const void *value, size_t len,
    uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    struct located at = locate(m, key);
    unsigned char *copy = xmalloc(len > 0 ? len : 1);
    if (len > 0)
        memcpy(copy, value, len);
    pthread_mutex_lock(&at.sh->lock);
    struct entry *e = find(at.sh, key, at.len, at.hash, now_us);
    bool ok = e == NULL || e->kind != KIND_COUNTER;
    if (!ok) {
        snprintf(err, err_size, "invalid: a value op on a key that holds a counter");
    } else {
        if (e != NULL)
            remove_entry(at.sh, e);
        e = insert(m, at.sh, key, at.len, at.hash, now_us);
        e->kind = KIND_VALUE;
        e->data = copy;
        e->data_len = len;
        e->expires_us = expiry(now_us, ttl_ms);
        copy = NULL;
    }
    pthread_mutex_unlock(&at.sh->lock);
    free(copy);
    return ok;
}

/* The shards of an update batch, each once, in index order (as batch_shards). */
static size_t write_shards(struct memory_store *m, const struct store_write *writes,
    size_t count, unsigned *index)
{
    for (size_t i = 0; i < count; i++)
        index[i] = (unsigned)(locate(m, writes[i].key).sh - m->shards);
    return unique_shards(index, count);
}

/* Whether write i may be applied after writes 0..i-1 (kinds, overflow); sums[i] is the
 * counter's new value. Under the batch's locks. */
static bool write_allowed(struct memory_store *m, const struct store_write *writes, size_t i,
    int64_t *sums, int64_t now_us, char *err, size_t err_size)
{
    const struct store_write *w = &writes[i];
    struct located at = locate(m, w->key);
    struct entry *e = find(at.sh, w->key, at.len, at.hash, now_us);
    /* the kind the key will hold when write i comes: the last earlier write's, else the entry's */
    int kind = e != NULL && is_generic(e) ? (int)e->kind : -1;
    int64_t base = e != NULL && e->kind == KIND_COUNTER ? e->value : 0;
    for (size_t j = 0; j < i; j++) {
        if (strcmp(writes[j].key, w->key) != 0)
            continue;
        kind = writes[j].kind == STORE_WRITE_COUNTER_ADD ? (int)KIND_COUNTER
            : writes[j].kind == STORE_WRITE_VALUE_SET ? (int)KIND_VALUE : -1;
        base = writes[j].kind == STORE_WRITE_COUNTER_ADD ? sums[j] : 0;
    }
    if (w->kind == STORE_WRITE_COUNTER_ADD) {
        if (kind == (int)KIND_VALUE) {
            snprintf(err, err_size, "invalid: a counter op on a key that holds a value");
            return false;
        }
        return add_checked(base, w->delta, &sums[i], err, err_size);
    }
    if (w->kind == STORE_WRITE_VALUE_SET && kind == (int)KIND_COUNTER) {
        snprintf(err, err_size, "invalid: a value op on a key that holds a counter");
        return false;
    }
    return true;
}

static void write_apply(struct memory_store *m, const struct store_write *w, int64_t sum,
    int64_t now_us)
{
    struct located at = locate(m, w->key);
    struct entry *e = find(at.sh, w->key, at.len, at.hash, now_us);
    if (w->kind == STORE_WRITE_COUNTER_ADD) {
        if (e != NULL && e->kind != KIND_COUNTER) {
            remove_entry(at.sh, e);          /* a GCRA or greylisting record of the same name */
            e = NULL;
        }
        counter_store(m, at.sh, e, w->key, &at, sum, w->ttl_ms, now_us);
        return;
    }
    if (e != NULL)
        remove_entry(at.sh, e);
    if (w->kind == STORE_WRITE_DELETE)
        return;
    e = insert(m, at.sh, w->key, at.len, at.hash, now_us);
    e->kind = KIND_VALUE;
    e->data = xmalloc(w->len > 0 ? w->len : 1);
    if (w->len > 0)
        memcpy(e->data, w->value, w->len);
    e->data_len = w->len;
    e->expires_us = expiry(now_us, w->ttl_ms);
}

/* Every check first, then every write, all under the locks of the batch's shards: no other
 * thread sees half of it. */
static bool memory_update_many(void *impl, const struct store_write *writes, size_t count,
    int64_t now_us, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    unsigned *index = xcalloc(count, sizeof *index);
    int64_t *sums = xcalloc(count, sizeof *sums);
    size_t shards = write_shards(m, writes, count, index);
    for (size_t i = 0; i < shards; i++)
        pthread_mutex_lock(&m->shards[index[i]].lock);
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++)
        ok = write_allowed(m, writes, i, sums, now_us, err, err_size);
    for (size_t i = 0; i < count && ok; i++)
        write_apply(m, &writes[i], sums[i], now_us);
    for (size_t i = shards; i > 0; i--)
        pthread_mutex_unlock(&m->shards[index[i - 1]].lock);
    free(sums);
    free(index);
    return ok;
}

static void item_of(const struct entry *e, struct store_item *out)
{
    out->kind = e->kind == KIND_COUNTER ? STORE_ITEM_COUNTER : STORE_ITEM_VALUE;
    out->counter = e->kind == KIND_COUNTER ? e->value : 0;
    out->value_len = e->kind == KIND_VALUE ? e->data_len : 0;
    if (out->value_len > 0)
        memcpy(out->value, e->data, out->value_len);
}

static bool memory_get(void *impl, const char *key, int64_t now_us, struct store_item *out,
    bool *found, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    struct located at = locate(m, key);
    (void)err, (void)err_size;
    pthread_mutex_lock(&at.sh->lock);
    struct entry *e = find(at.sh, key, at.len, at.hash, now_us);
    *found = e != NULL && is_generic(e);
    if (*found)
        item_of(e, out);
    pthread_mutex_unlock(&at.sh->lock);
    return true;
}

static bool memory_remove(void *impl, const char *key, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    struct located at = locate(m, key);
    (void)err, (void)err_size;
    pthread_mutex_lock(&at.sh->lock);
    struct entry *e = find(at.sh, key, at.len, at.hash, INT64_MIN);
    if (e != NULL && is_generic(e))
        remove_entry(at.sh, e);
    pthread_mutex_unlock(&at.sh->lock);
    return true;
}

/* A shard's matching entries, copied under its lock, handed to the callback after it. */
struct scan_copy {
    char *key;
    uint8_t kind;
    int64_t value;
    unsigned char *data;
    size_t data_len;
};

static size_t copy_matches(struct shard *sh, const char *prefix, size_t prefix_len,
    int64_t now_us, struct scan_copy **out)
{
    size_t n = 0;
    *out = xcalloc(sh->count > 0 ? sh->count : 1, sizeof **out);
    for (struct entry *e = sh->oldest; e != NULL; e = e->newer) {
        if (!is_generic(e) || e->expires_us <= now_us || e->key_len < prefix_len
            || memcmp(e->key, prefix, prefix_len) != 0)
            continue;
        struct scan_copy *c = &(*out)[n++];
        c->key = xmalloc((size_t)e->key_len + 1);
        memcpy(c->key, e->key, e->key_len);
        c->key[e->key_len] = '\0';
        c->kind = e->kind;
        c->value = e->value;
        c->data_len = e->kind == KIND_VALUE ? e->data_len : 0;
        c->data = xmalloc(c->data_len > 0 ? c->data_len : 1);
        if (c->data_len > 0)
            memcpy(c->data, e->data, c->data_len);
    }
    return n;
}

static bool memory_scan(void *impl, const char *prefix, int64_t now_us, store_scan_fn fn,
    void *arg, char *err, size_t err_size)
{
    struct memory_store *m = impl;
    size_t prefix_len = strlen(prefix);
    struct store_item *item = xmalloc(sizeof *item);
    bool go_on = true;
    (void)err, (void)err_size;
    for (unsigned i = 0; i < SHARD_COUNT && go_on; i++) {
        struct scan_copy *copies;
        pthread_mutex_lock(&m->shards[i].lock);
        size_t n = copy_matches(&m->shards[i], prefix, prefix_len, now_us, &copies);
        pthread_mutex_unlock(&m->shards[i].lock);
        for (size_t j = 0; j < n; j++) {
            if (go_on) {
                item->kind = copies[j].kind == KIND_COUNTER ? STORE_ITEM_COUNTER
                    : STORE_ITEM_VALUE;
                item->counter = copies[j].kind == KIND_COUNTER ? copies[j].value : 0;
                item->value_len = copies[j].data_len;
                if (item->value_len > 0)
                    memcpy(item->value, copies[j].data, item->value_len);
                go_on = fn(arg, copies[j].key, item);
            }
            free(copies[j].key);
            free(copies[j].data);
        }
        free(copies);
    }
    free(item);
    return true;
}

const struct store_backend_ops store_memory_ops = {
    .name = "memory",
    .gcra = memory_gcra,
    .greylist = memory_greylist,
    .counter_add = memory_counter_add,
    .counter_add_many = memory_counter_add_many,
    .update_many = memory_update_many,
    .value_set = memory_value_set,
    .get = memory_get,
    .remove = memory_remove,
    .scan = memory_scan,
    .free = store_memory_free,
};
