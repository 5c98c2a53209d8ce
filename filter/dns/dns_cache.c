/* dns_cache.c - answers kept in the process for their TTL (dns_cache.h). Sixteen shards, each a
 * hash table under its own lock with its entries in the order they were kept, so that the
 * oldest is dropped first when the shard is full; an expired entry is dropped when it is
 * found. Entries own deep copies of the answers, and callers get deep copies back. */
#include "dns_cache.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SHARDS 16
#define LONGEST_TTL_S (7 * 86400)       /* dns.cache_max_ttl's own limit */

struct entry {
    char *key;                 /* "TYPE name", the name lower-case without its final dot */
    uint64_t hash;
    uint64_t expires_ms;
    struct dns_answer answer;
    struct entry *chain;       /* next in the bucket */
    struct entry *older, *newer;
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t bucket_count;       /* a power of two */
    size_t count, cap;
    struct entry *oldest, *newest;
};

struct dns_cache {
    int max_ttl_s;
    struct shard shards[SHARDS];
};

static uint64_t hash_of(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static char *key_of(const char *name, int type)
{
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    char *key = xmalloc(len + 16);
    int n = snprintf(key, 16, "%d ", type);
    for (size_t i = 0; i < len; i++)
        key[n + (int)i] = (char)tolower((unsigned char)name[i]);
    key[n + (int)len] = '\0';
    return key;
}

static void copy_answer(struct dns_answer *to, const struct dns_answer *from)
{
    *to = *from;
    to->data = NULL;
    to->count = 0;
    if (from->data == NULL)
        return;
    to->data = xcalloc(from->count + 1, sizeof(char *));
    for (size_t i = 0; i < from->count; i++)
        to->data[i] = xstrdup(from->data[i]);
    to->count = from->count;
}

struct dns_cache *dns_cache_new(size_t max_entries, int max_ttl_s)
{
    struct dns_cache *c = xcalloc(1, sizeof *c);
    c->max_ttl_s = max_ttl_s > 0 && max_ttl_s < LONGEST_TTL_S ? max_ttl_s : LONGEST_TTL_S;
    size_t per_shard = (max_entries + SHARDS - 1) / SHARDS;
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->cap = max_entries == 0 ? 0 : per_shard;
        s->bucket_count = 16;
        while (s->bucket_count < 2 * s->cap)
            s->bucket_count *= 2;
        s->buckets = xcalloc(s->bucket_count, sizeof *s->buckets);
    }
    return c;
}

/* Unlinks e from its bucket and the age list and frees it; under the shard's lock. */
static void drop(struct shard *s, struct entry *e)
{
    struct entry **at = &s->buckets[e->hash & (s->bucket_count - 1)];
    while (*at != e)
        at = &(*at)->chain;
    *at = e->chain;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    s->count--;
    free(e->key);
    dns_answer_free(&e->answer);
    free(e);
}

static struct entry *find(struct shard *s, const char *key, uint64_t hash)
{
    for (struct entry *e = s->buckets[hash & (s->bucket_count - 1)]; e != NULL; e = e->chain) {
        if (e->hash == hash && strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

bool dns_cache_get(struct dns_cache *c, const char *name, int type, uint64_t now_ms,
    struct dns_answer *out)
{
    if (c == NULL || name == NULL)
        return false;
    char *key = key_of(name, type);
    uint64_t hash = hash_of(key);
    struct shard *s = &c->shards[hash % SHARDS];
    bool hit = false;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, key, hash);
    if (e != NULL && e->expires_ms <= now_ms) {
        drop(s, e);
        e = NULL;
    }
    if (e != NULL) {
        copy_answer(out, &e->answer);
        out->ttl = (int)((e->expires_ms - now_ms + 999) / 1000);
        hit = true;
    }
    pthread_mutex_unlock(&s->lock);
    free(key);
    return hit;
}

void dns_cache_put(struct dns_cache *c, const char *name, int type, uint64_t now_ms,
    const struct dns_answer *a)
{
    if (c == NULL || name == NULL || a->ttl <= 0)
        return;
    if (a->status != DNS_OK && a->status != DNS_NXDOMAIN)
        return;
    char *key = key_of(name, type);
    uint64_t hash = hash_of(key);
    struct shard *s = &c->shards[hash % SHARDS];
    if (s->cap == 0) {
        free(key);
        return;
    }
    int ttl = a->ttl < c->max_ttl_s ? a->ttl : c->max_ttl_s;
    struct entry *e = xcalloc(1, sizeof *e);
    e->key = key;
    e->hash = hash;
    e->expires_ms = now_ms + (uint64_t)ttl * 1000;
    copy_answer(&e->answer, a);
    pthread_mutex_lock(&s->lock);
    struct entry *old = find(s, key, hash);
    if (old != NULL)
        drop(s, old);
    while (s->count >= s->cap)
        drop(s, s->oldest);
    struct entry **bucket = &s->buckets[hash & (s->bucket_count - 1)];
    e->chain = *bucket;
    *bucket = e;
    e->older = s->newest;
    if (s->newest)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
    s->count++;
    pthread_mutex_unlock(&s->lock);
}

size_t dns_cache_count(struct dns_cache *c)
{
    size_t n = 0;
    for (size_t i = 0; c != NULL && i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        n += c->shards[i].count;
        pthread_mutex_unlock(&c->shards[i].lock);
    }
    return n;
}

void dns_cache_free(struct dns_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        while (s->oldest != NULL)
            drop(s, s->oldest);
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}
