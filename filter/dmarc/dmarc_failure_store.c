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
    char *text = xmalloc(STORE_VALUE_MAX);
    size_t len;
    enum store_status st = STORE_INVALID;
    if (dmarc_failure_encode(f, text, STORE_VALUE_MAX, &len))
        st = store_value_set(s, key, text, len, keep_ms, NULL);
    free(text);
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
        fn(arg, k.items[i], ok ? f : NULL);
    }
    for (size_t i = 0; i < k.count; i++)
        free(k.items[i]);
    free(k.items);
    free(item);
    free(f);
    return st;
}
