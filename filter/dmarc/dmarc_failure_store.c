/* dmarc_failure_store.c - pending DMARC failure reports and their hourly counts in the store
 * (see dmarc_failure_store.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_failure_store.h"
#include "dmarc_report_mail.h"
#include "util.h"

#define HOUR_S 3600
#define COUNT_TTL_MS (2ull * HOUR_S * 1000)

enum store_status dmarc_failure_store_count(struct store *s, const char *domain, int64_t now,
    unsigned rate, bool *allowed)
{
    char key[STORE_KEY_MAX];
    int64_t value = 0;
    *allowed = false;
    if (!dmarc_report_domain_ok(domain))
        return STORE_INVALID;
    snprintf(key, sizeof key, "dmarc:fr:%s:%" PRId64, domain, now / HOUR_S);
    enum store_status st = store_counter_add(s, key, 1, COUNT_TTL_MS, &value, NULL);
    if (st == STORE_OK)
        *allowed = value >= 1 && (uint64_t)value <= rate;
    return st;
}

/* The key of part n of the message of the report at key ("dmarc:f:..." -> "dmarc:fm:...:n") */
static bool part_key(char *out, size_t size, const char *key, size_t n)
{
    const char *prefix = "dmarc:f:";
    if (strncmp(key, prefix, strlen(prefix)) != 0)
        return false;
    int len = snprintf(out, size, "dmarc:fm:%s:%zu", key + strlen(prefix), n);
    return len > 0 && (size_t)len < size;
}

enum store_status dmarc_failure_store_delete(struct store *s, const char *key, size_t parts)
{
    char part[STORE_KEY_MAX + 32];
    for (size_t n = 0; n < parts; n++)
        if (part_key(part, sizeof part, key, n) && strlen(part) < STORE_KEY_MAX)
            store_delete(s, part, NULL);        /* a missing part is not an error */
    return store_delete(s, key, NULL);
}

/* The message in parts of STORE_VALUE_MAX under key's part keys; *parts gets their count. */
static enum store_status write_parts(struct store *s, const char *key,
    const struct dmarc_failure *f, uint64_t keep_ms, size_t *parts)
{
    char part[STORE_KEY_MAX + 32];
    *parts = 0;
    for (size_t o = 0; o < f->message_len; o += STORE_VALUE_MAX) {
        size_t len = f->message_len - o < STORE_VALUE_MAX ? f->message_len - o : STORE_VALUE_MAX;
        if (!part_key(part, sizeof part, key, *parts) || strlen(part) >= STORE_KEY_MAX)
            return STORE_INVALID;
        enum store_status st = store_value_set(s, part, f->message + o, len, keep_ms, NULL);
        if (st != STORE_OK)
            return st;
        (*parts)++;
    }
    return STORE_OK;
}

enum store_status dmarc_failure_store_add(struct store *s, const struct dmarc_failure *f,
    int64_t now, const char *nonce, uint64_t keep_ms)
{
    char key[STORE_KEY_MAX], clean[48];
    size_t c = 0;
    if (!dmarc_report_domain_ok(f->domain))
        return STORE_INVALID;
    for (const char *n = nonce != NULL ? nonce : ""; *n != 0 && c + 1 < sizeof clean; n++)
        if ((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9'))
            clean[c++] = *n;
    clean[c] = 0;
    snprintf(key, sizeof key, "dmarc:f:%s:%" PRId64 ":%s", f->domain, now, clean);
    size_t parts = 0;
    enum store_status st = STORE_OK;
    if (f->message != NULL && f->message_len > 0)
        st = write_parts(s, key, f, keep_ms, &parts);
    if (st != STORE_OK)
        return st;                    /* the parts written expire by themselves */
    struct dmarc_failure *record = xmalloc(sizeof *record);
    memcpy(record, f, sizeof *record);
    record->message_parts = parts;
    char *text = xmalloc(STORE_VALUE_MAX);
    size_t len;
    st = STORE_INVALID;
    if (dmarc_failure_encode(record, text, STORE_VALUE_MAX, &len))
        st = store_value_set(s, key, text, len, keep_ms, NULL);
    free(text);
    free(record);
    return st;
}

struct keys {
    char **items;
    size_t count, cap;
};

static bool gather(void *arg, const char *key, const struct store_item *item)
{
    struct keys *k = arg;
    (void)item;
    if (k->count == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 16;
        k->items = xrealloc(k->items, k->cap * sizeof *k->items);
    }
    k->items[k->count++] = xstrdup(key);
    return true;
}

/* f's message from its parts; NULL and message_lost when one is missing or they do not add
 * up to the length the report gives. */
static void read_parts(struct store *s, const char *key, struct store_item *item,
    struct dmarc_failure *f)
{
    char part[STORE_KEY_MAX + 32];
    char *m = xmalloc(f->message_len + 1);
    size_t o = 0;
    bool whole = true;
    for (size_t n = 0; whole && n < f->message_parts; n++) {
        bool found = false;
        whole = part_key(part, sizeof part, key, n) &&
            store_get(s, part, item, &found, NULL) == STORE_OK && found &&
            item->kind == STORE_ITEM_VALUE && item->value_len <= f->message_len - o;
        if (whole) {
            memcpy(m + o, item->value, item->value_len);
            o += item->value_len;
        }
    }
    if (!whole || o != f->message_len) {
        free(m);
        f->message_lost = true;
        return;
    }
    m[o] = 0;
    f->message = m;
}

enum store_status dmarc_failure_store_each(struct store *s, dmarc_failure_fn fn, void *arg)
{
    struct keys k = { NULL, 0, 0 };
    enum store_status st = store_scan(s, "dmarc:f:", gather, &k, NULL);
    struct store_item *item = xmalloc(sizeof *item);
    struct dmarc_failure *f = xmalloc(sizeof *f);
    for (size_t i = 0; st == STORE_OK && i < k.count; i++) {
        bool found = false;
        if (store_get(s, k.items[i], item, &found, NULL) != STORE_OK || !found)
            continue;
        bool ok = item->kind == STORE_ITEM_VALUE &&
            dmarc_failure_decode((const char *)item->value, item->value_len, f);
        if (ok && f->message_parts > 0)
            read_parts(s, k.items[i], item, f);
        fn(arg, k.items[i], ok ? f : NULL);
        if (ok)
            dmarc_failure_free_message(f);
    }
    for (size_t i = 0; i < k.count; i++)
        free(k.items[i]);
    free(k.items);
    free(item);
    free(f);
    return st;
}
