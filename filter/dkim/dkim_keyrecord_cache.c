/* dkim_keyrecord_cache.c - the DKIM key record cache (see dkim_keyrecord_cache.h): a chained
 * hash table of (lower-case name, type) -> DNS reply bytes and expiry time, under one mutex.
 * Lookups copy the reply out while holding the lock, so no caller ever sees an entry that
 * another thread frees. */
#include "dkim_keyrecord_cache.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define MAX_NAME 256             /* a DNS name in text form is at most 253 characters */

struct entry {
    struct entry *next;
    uint64_t hash;
    int type;
    int64_t expires;             /* valid while now < expires */
    char *name;                  /* lower case */
    unsigned char *reply;
    size_t len;
};

struct keyrecord_cache {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t bucket_count;         /* a power of two */
    size_t count;
    size_t max_entries;
    int max_ttl_s;
    keyrecord_clock_fn *clock;
};

static int64_t monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Lower-cases name into out; false when it does not fit. */
static bool lower_name(const char *name, char out[MAX_NAME])
{
    size_t n = strlen(name);
    if (n >= MAX_NAME)
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    return true;
}

static uint64_t hash_key(const char *name, int type)
{
    uint64_t h = 14695981039346656037ULL;          /* FNV-1a */
    for (const char *p = name; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (h ^ (uint64_t)(unsigned)type) * 1099511628211ULL;
}

struct keyrecord_cache *keyrecord_cache_new(size_t max_entries, int max_ttl_s,
    keyrecord_clock_fn *clock)
{
    struct keyrecord_cache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->max_entries = max_entries > 0 ? max_entries : 1;
    c->max_ttl_s = max_ttl_s;
    c->clock = clock != NULL ? clock : monotonic_seconds;
    c->bucket_count = 16;
    while (c->bucket_count < c->max_entries)
        c->bucket_count *= 2;
    c->buckets = xcalloc(c->bucket_count, sizeof *c->buckets);
    return c;
}

static void entry_free(struct entry *e)
{
    free(e->name);
    free(e->reply);
    free(e);
}

void keyrecord_cache_free(struct keyrecord_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->bucket_count; i++) {
        struct entry *e = c->buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The link that points at the entry for name/type (or at the NULL ending its chain). */
static struct entry **find_link(struct keyrecord_cache *c, const char *name, int type,
    uint64_t hash)
{
    struct entry **link = &c->buckets[hash & (c->bucket_count - 1)];
    while (*link != NULL) {
        const struct entry *e = *link;
        if (e->hash == hash && e->type == type && strcmp(e->name, name) == 0)
            break;
        link = &(*link)->next;
    }
    return link;
}

static void unlink_entry(struct keyrecord_cache *c, struct entry **link)
{
    struct entry *e = *link;
    *link = e->next;
    entry_free(e);
    c->count--;
}

size_t keyrecord_cache_get(struct keyrecord_cache *c, const char *name, int type,
    unsigned char *buf, size_t size)
{
    char lname[MAX_NAME];
    if (!lower_name(name, lname))
        return 0;
    uint64_t hash = hash_key(lname, type);
    size_t len = 0;
    pthread_mutex_lock(&c->lock);
    struct entry **link = find_link(c, lname, type, hash);
    struct entry *e = *link;
    if (e != NULL && c->clock() >= e->expires)
        unlink_entry(c, link);
    else if (e != NULL && e->len <= size) {
        memcpy(buf, e->reply, e->len);
        len = e->len;
    }
    pthread_mutex_unlock(&c->lock);
    return len;
}

/* Frees every expired entry; then, if the cache is still full, the one expiring soonest. */
static void make_room(struct keyrecord_cache *c, int64_t now)
{
    struct entry **soonest = NULL;
    for (size_t i = 0; i < c->bucket_count; i++) {
        struct entry **link = &c->buckets[i];
        while (*link != NULL) {
            if (now >= (*link)->expires) {
                unlink_entry(c, link);
                continue;
            }
            link = &(*link)->next;
        }
    }
    if (c->count < c->max_entries)
        return;
    for (size_t i = 0; i < c->bucket_count; i++)
        for (struct entry **link = &c->buckets[i]; *link != NULL; link = &(*link)->next)
            if (soonest == NULL || (*link)->expires < (*soonest)->expires)
                soonest = link;
    if (soonest != NULL)
        unlink_entry(c, soonest);
}

void keyrecord_cache_put(struct keyrecord_cache *c, const char *name, int type,
    const unsigned char *reply, size_t len, int ttl_s)
{
    char lname[MAX_NAME];
    if (ttl_s <= 0 || len == 0 || !lower_name(name, lname))
        return;
    if (ttl_s > c->max_ttl_s)
        ttl_s = c->max_ttl_s;
    if (ttl_s <= 0)
        return;
    struct entry *fresh = xcalloc(1, sizeof *fresh);
    fresh->hash = hash_key(lname, type);
    fresh->type = type;
    fresh->name = xstrdup(lname);
    fresh->reply = xmalloc(len);
    memcpy(fresh->reply, reply, len);
    fresh->len = len;
    pthread_mutex_lock(&c->lock);
    int64_t now = c->clock();
    fresh->expires = now + ttl_s;
    struct entry **link = find_link(c, lname, type, fresh->hash);
    if (*link != NULL)
        unlink_entry(c, link);
    if (c->count >= c->max_entries)
        make_room(c, now);
    link = &c->buckets[fresh->hash & (c->bucket_count - 1)];
    fresh->next = *link;
    *link = fresh;
    c->count++;
    pthread_mutex_unlock(&c->lock);
}

size_t keyrecord_cache_count(struct keyrecord_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}
