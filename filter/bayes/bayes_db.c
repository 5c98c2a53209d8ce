/* bayes_db.c - a Bayes database in the generic store (bayes_db.h): packed spam/ham counters
 * changed in batches of one transaction each, learnt-message marks, and expiry by age (the
 * keys' TTL) and by size (a scan). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_db.h"
#include "util.h"

#define PACK_SHIFT 4294967296LL          /* 2^32: spam count * 2^32 + ham count */

static int64_t packed(int64_t spam, int64_t ham)
{
    return spam * PACK_SHIFT + ham;
}

/* The counts of a packed counter; a part below 0 (a forget of an expired token) is 0. */
static void unpack(int64_t v, int64_t *spam, int64_t *ham)
{
    int32_t h = (int32_t)(uint32_t)((uint64_t)v & 0xffffffffu);
    int64_t s = (v - h) / PACK_SHIFT;
    *spam = s > 0 ? s : 0;
    *ham = h > 0 ? h : 0;
}

bool bayes_db_init(struct bayes_db *db, struct store *store, const char *name,
    uint64_t token_ttl_ms, uint64_t seen_ttl_ms)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > BAYES_DB_NAME_MAX)
        return false;
    memset(db, 0, sizeof *db);
    memcpy(db->prefix, "bayes:", 6);
    size_t n = 6;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || n + 4 >= sizeof db->prefix)
            return false;
        /* ':' ends the name and '%' escapes: "a:t" must not be a prefix of "a"'s keys */
        if (c == ':' || c == '%') {
            n += (size_t)snprintf(db->prefix + n, 4, "%%%02X", c);
            continue;
        }
        db->prefix[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    db->prefix[n++] = ':';
    db->prefix[n] = '\0';
    db->store = store;
    db->token_ttl_ms = token_ttl_ms;
    db->seen_ttl_ms = seen_ttl_ms;
    return true;
}

static void token_store_key(const struct bayes_db *db, const unsigned char *key, char *out,
    size_t size)
{
    snprintf(out, size, "%st:%02x%02x%02x%02x%02x", db->prefix, key[0], key[1], key[2], key[3],
        key[4]);
}

enum store_status bayes_db_message_counts(const struct bayes_db *db, int64_t *nspam,
    int64_t *nham)
{
    char key[BAYES_DB_PREFIX_MAX + 2];
    snprintf(key, sizeof key, "%sn", db->prefix);
    struct store_item *item = xmalloc(sizeof *item);
    bool found = false;
    enum store_status st = store_get(db->store, key, item, &found, NULL);
    *nspam = *nham = 0;
    if (st == STORE_OK && found && item->kind == STORE_ITEM_COUNTER)
        unpack(item->counter, nspam, nham);
    free(item);
    return st;
}

enum store_status bayes_db_token_counts(const struct bayes_db *db, const unsigned char *key,
    int64_t *spam, int64_t *ham)
{
    char k[STORE_KEY_MAX + 1];
    token_store_key(db, key, k, sizeof k);
    struct store_item *item = xmalloc(sizeof *item);
    bool found = false;
    enum store_status st = store_get(db->store, k, item, &found, NULL);
    *spam = *ham = 0;
    if (st == STORE_OK && found && item->kind == STORE_ITEM_COUNTER)
        unpack(item->counter, spam, ham);
    free(item);
    return st;
}

/* The learnt-message mark's key: the digest of the token set (what learning added is what
 * forgetting takes back). */
static void seen_key(const struct bayes_db *db, const struct bayes_tokens *tokens, char *out,
    size_t size)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1)
        abort();
    for (size_t i = 0; i < tokens->count; i++)
        EVP_DigestUpdate(ctx, tokens->items[i].key, BAYES_KEY_LEN);
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    int n = snprintf(out, size, "%sseen:", db->prefix);
    for (unsigned i = 0; i < len && (size_t)n + 2 < size; i++)
        n += snprintf(out + n, size - (size_t)n, "%02x", digest[i]);
}

/* Adds delta_spam/delta_ham to every token (batches of STORE_BATCH_MAX, one transaction
 * each) and to the message counts; a token left with nothing is deleted. */
static enum store_status change_counts(const struct bayes_db *db,
    const struct bayes_tokens *tokens, int64_t delta_spam, int64_t delta_ham)
{
    int64_t delta = packed(delta_spam, delta_ham);
    struct store_counter_change *changes = xmalloc(STORE_BATCH_MAX * sizeof *changes);
    char (*keys)[STORE_KEY_MAX + 1] = xmalloc(STORE_BATCH_MAX * sizeof *keys);
    enum store_status st = STORE_OK;
    for (size_t done = 0; done < tokens->count && st == STORE_OK;) {
        size_t n = tokens->count - done;
        if (n > STORE_BATCH_MAX)
            n = STORE_BATCH_MAX;
        for (size_t i = 0; i < n; i++) {
            token_store_key(db, tokens->items[done + i].key, keys[i], sizeof keys[i]);
            changes[i] = (struct store_counter_change){ .key = keys[i], .delta = delta };
        }
        st = store_counter_add_many(db->store, changes, n, db->token_ttl_ms, NULL);
        for (size_t i = 0; st == STORE_OK && delta < 0 && i < n; i++) {
            int64_t s, h;
            unpack(changes[i].value, &s, &h);
            if (s == 0 && h == 0)
                (void)store_delete(db->store, keys[i], NULL);
        }
        done += n;
    }
    if (st == STORE_OK) {
        char key[STORE_KEY_MAX + 1];
        snprintf(key, sizeof key, "%sn", db->prefix);
        st = store_counter_add(db->store, key, delta, 0, NULL, NULL);
    }
    free(keys);
    free(changes);
    return st;
}

/* 's', 'h' or 0 (not learnt). */
static enum store_status seen_get(const struct bayes_db *db, const char *key, char *seen)
{
    struct store_item *item = xmalloc(sizeof *item);
    bool found = false;
    enum store_status st = store_get(db->store, key, item, &found, NULL);
    *seen = 0;
    if (st == STORE_OK && found && item->kind == STORE_ITEM_VALUE && item->value_len == 1)
        *seen = (char)item->value[0];
    free(item);
    return st;
}

enum store_status bayes_db_learn(const struct bayes_db *db, const struct bayes_tokens *tokens,
    bool spam, enum bayes_learn_outcome *outcome)
{
    char key[STORE_KEY_MAX + 1];
    seen_key(db, tokens, key, sizeof key);
    char seen = 0;
    enum store_status st = seen_get(db, key, &seen);
    if (st != STORE_OK)
        return st;
    *outcome = BAYES_LEARNT;
    if ((seen == 's' && spam) || (seen == 'h' && !spam)) {
        *outcome = BAYES_ALREADY_LEARNT;
        return STORE_OK;
    }
    if (seen == 's' || seen == 'h') {
        st = change_counts(db, tokens, seen == 's' ? -1 : 0, seen == 'h' ? -1 : 0);
        if (st != STORE_OK)
            return st;
        *outcome = BAYES_RELEARNT;
    }
    st = change_counts(db, tokens, spam ? 1 : 0, spam ? 0 : 1);
    if (st != STORE_OK)
        return st;
    return store_value_set(db->store, key, spam ? "s" : "h", 1, db->seen_ttl_ms, NULL);
}

enum store_status bayes_db_forget(const struct bayes_db *db, const struct bayes_tokens *tokens,
    enum bayes_learn_outcome *outcome)
{
    char key[STORE_KEY_MAX + 1];
    seen_key(db, tokens, key, sizeof key);
    char seen = 0;
    enum store_status st = seen_get(db, key, &seen);
    if (st != STORE_OK)
        return st;
    if (seen != 's' && seen != 'h') {
        *outcome = BAYES_NOT_LEARNT;
        return STORE_OK;
    }
    st = change_counts(db, tokens, seen == 's' ? -1 : 0, seen == 'h' ? -1 : 0);
    if (st != STORE_OK)
        return st;
    *outcome = BAYES_FORGOTTEN;
    return store_delete(db->store, key, NULL);
}

enum store_status bayes_db_touch(const struct bayes_db *db,
    const unsigned char (*keys)[BAYES_KEY_LEN], size_t count)
{
    if (db->token_ttl_ms == 0 || count == 0)
        return STORE_OK;
    if (count > STORE_BATCH_MAX)
        count = STORE_BATCH_MAX;
    struct store_counter_change *changes = xmalloc(count * sizeof *changes);
    char (*names)[STORE_KEY_MAX + 1] = xmalloc(count * sizeof *names);
    for (size_t i = 0; i < count; i++) {
        token_store_key(db, keys[i], names[i], sizeof names[i]);
        changes[i] = (struct store_counter_change){ .key = names[i], .delta = 0 };
    }
    enum store_status st = store_counter_add_many(db->store, changes, count, db->token_ttl_ms,
        NULL);
    free(names);
    free(changes);
    return st;
}

struct expiry_entry {
    char *key;
    int64_t total;
};

struct expiry_scan {
    struct expiry_entry *items;
    size_t count, cap;
};

static bool collect_token(void *arg, const char *key, const struct store_item *item)
{
    struct expiry_scan *sc = arg;
    if (item->kind != STORE_ITEM_COUNTER)
        return true;
    if (sc->count == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 4096;
        sc->items = xrealloc(sc->items, sc->cap * sizeof *sc->items);
    }
    int64_t s, h;
    unpack(item->counter, &s, &h);
    sc->items[sc->count].key = xstrdup(key);
    sc->items[sc->count].total = s + h;
    sc->count++;
    return true;
}

static int by_total(const void *a, const void *b)
{
    int64_t x = ((const struct expiry_entry *)a)->total, y = ((const struct expiry_entry *)b)->total;
    return x < y ? -1 : x > y ? 1 : 0;
}

enum store_status bayes_db_expire(const struct bayes_db *db, uint64_t max_tokens,
    uint64_t *tokens, uint64_t *removed)
{
    char prefix[STORE_KEY_MAX + 1];
    snprintf(prefix, sizeof prefix, "%st:", db->prefix);
    struct expiry_scan sc = { 0 };
    enum store_status st = store_scan(db->store, prefix, collect_token, &sc, NULL);
    uint64_t gone = 0;
    if (st == STORE_OK && max_tokens > 0 && sc.count > max_tokens) {
        uint64_t goal = max_tokens / 4 * 3;
        qsort(sc.items, sc.count, sizeof *sc.items, by_total);
        for (size_t i = 0; i < sc.count && sc.count - gone > goal && st == STORE_OK; i++) {
            st = store_delete(db->store, sc.items[i].key, NULL);
            if (st == STORE_OK)
                gone++;
        }
    }
    if (tokens != NULL)
        *tokens = sc.count - gone;
    if (removed != NULL)
        *removed = gone;
    for (size_t i = 0; i < sc.count; i++)
        free(sc.items[i].key);
    free(sc.items);
    return st;
}
