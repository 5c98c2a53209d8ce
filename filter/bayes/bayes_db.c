/* bayes_db.c - a Bayes database in the generic store (bayes_db.h): packed spam/ham counters
 * read in one batch per message and changed with the learnt-message mark in one transaction
 * per learn, and expiry by age (the keys' TTL) and by size (a scan). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_db.h"
#include "log.h"
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

/* The writes of one learn or forget, applied together (store_update_many: one LMDB
 * transaction, one MULTI/EXEC on Redis, the memory store's locks): delta_spam/delta_ham on
 * every token (their age renewed) and on the message counts, and the learnt-message mark set
 * to seen ('s', 'h') or deleted (0). A token left with nothing stays until it expires or the
 * size expiry drops it (deleting it would be a read then a write). */
static enum store_status apply_learn(const struct bayes_db *db, const struct bayes_tokens *tokens,
    int64_t delta_spam, int64_t delta_ham, const char *seen_key_text, char seen)
{
    if (tokens->count > STORE_MANY_MAX - 2) {
        log_warn("bayes: a message of %zu tokens is not learnt: one transaction takes at most "
            "%d", tokens->count, STORE_MANY_MAX - 2);
        return STORE_INVALID;
    }
    int64_t delta = packed(delta_spam, delta_ham);
    size_t count = tokens->count + 2;
    struct store_write *writes = xcalloc(count, sizeof *writes);
    char (*keys)[BAYES_DB_PREFIX_MAX + 16] = xmalloc(tokens->count * sizeof *keys);
    for (size_t i = 0; i < tokens->count; i++) {
        token_store_key(db, tokens->items[i].key, keys[i], sizeof keys[i]);
        writes[i] = (struct store_write){ .kind = STORE_WRITE_COUNTER_ADD, .key = keys[i],
            .delta = delta, .ttl_ms = db->token_ttl_ms };
    }
    char count_key[BAYES_DB_PREFIX_MAX + 2];
    snprintf(count_key, sizeof count_key, "%sn", db->prefix);
    writes[tokens->count] = (struct store_write){ .kind = STORE_WRITE_COUNTER_ADD,
        .key = count_key, .delta = delta };
    char mark[1] = { seen };
    writes[tokens->count + 1] = seen != 0
        ? (struct store_write){ .kind = STORE_WRITE_VALUE_SET, .key = seen_key_text,
            .value = mark, .len = 1, .ttl_ms = db->seen_ttl_ms }
        : (struct store_write){ .kind = STORE_WRITE_DELETE, .key = seen_key_text };
    enum store_status st = store_update_many(db->store, writes, count, NULL);
    free(keys);
    free(writes);
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
    if (seen == 's' || seen == 'h')
        *outcome = BAYES_RELEARNT;   /* the other class's counts go in the same transaction */
    int64_t delta_spam = (spam ? 1 : 0) - (seen == 's' ? 1 : 0);
    int64_t delta_ham = (spam ? 0 : 1) - (seen == 'h' ? 1 : 0);
    return apply_learn(db, tokens, delta_spam, delta_ham, key, spam ? 's' : 'h');
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
    st = apply_learn(db, tokens, seen == 's' ? -1 : 0, seen == 'h' ? -1 : 0, key, 0);
    if (st == STORE_OK)
        *outcome = BAYES_FORGOTTEN;
    return st;
}

enum store_status bayes_db_read(const struct bayes_db *db, const struct bayes_tokens *tokens,
    int64_t *nspam, int64_t *nham, int64_t (*counts)[2])
{
    *nspam = *nham = 0;
    enum store_status st = STORE_OK;
    char count_key[BAYES_DB_PREFIX_MAX + 2];
    snprintf(count_key, sizeof count_key, "%sn", db->prefix);
    /* [n, tokens...] in one read; a message with more tokens than one batch takes more */
    size_t chunk = STORE_MANY_MAX;
    const char **names = xmalloc(chunk * sizeof *names);
    char (*keys)[BAYES_DB_PREFIX_MAX + 16] = xmalloc(chunk * sizeof *keys);
    int64_t *values = xmalloc(chunk * sizeof *values);
    size_t done = 0;
    bool first = true;
    while (st == STORE_OK && (first || done < tokens->count)) {
        size_t n = 0;
        if (first)
            names[n++] = count_key;
        for (; n < chunk && done < tokens->count; n++, done++) {
            token_store_key(db, tokens->items[done].key, keys[n], sizeof keys[n]);
            names[n] = keys[n];
        }
        st = store_counter_get_many(db->store, names, n, values, NULL);
        for (size_t i = 0; st == STORE_OK && i < n; i++) {
            if (first && i == 0) {
                unpack(values[0], nspam, nham);
                continue;
            }
            size_t token = done - n + i;
            unpack(values[i], &counts[token][0], &counts[token][1]);
        }
        first = false;
    }
    free(values);
    free(keys);
    free(names);
    return st;
}

enum store_status bayes_db_touch(const struct bayes_db *db,
    const unsigned char (*keys)[BAYES_KEY_LEN], size_t count)
{
    if (db->token_ttl_ms == 0 || count == 0)
        return STORE_OK;
    if (count > STORE_BATCH_MAX)
        count = STORE_BATCH_MAX;
    struct store_write *writes = xcalloc(count, sizeof *writes);
    char (*names)[STORE_KEY_MAX + 1] = xmalloc(count * sizeof *names);
    for (size_t i = 0; i < count; i++) {
        token_store_key(db, keys[i], names[i], sizeof names[i]);
        writes[i] = (struct store_write){ .kind = STORE_WRITE_COUNTER_ADD, .key = names[i],
            .delta = 0, .ttl_ms = db->token_ttl_ms };
    }
    enum store_status st = store_update_many(db->store, writes, count, NULL);
    free(names);
    free(writes);
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
