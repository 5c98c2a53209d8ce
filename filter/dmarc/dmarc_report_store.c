/* dmarc_report_store.c - report rows in the store: the daemon's add, and mailwarden-report's
 * collect, sent marks and clear. Key layout and promises: dmarc_report_store.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dmarc_report_mail.h"
#include "dmarc_report_row.h"
#include "dmarc_report_store.h"

void dmarc_report_period(int64_t now, uint64_t interval_s, int64_t *begin, int64_t *end)
{
    int64_t step = interval_s > 0 ? (int64_t)interval_s : 86400;
    int64_t b = now - ((now % step) + step) % step;
    *begin = b;
    *end = b + step - 1;
}

static void hash_hex(const char *text, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    EVP_Digest(text, len, md, &md_len, EVP_sha256(), NULL);
    for (size_t i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void key(char *out, size_t size, char kind, int64_t begin, int64_t end,
    const char *domain, const char *tail)
{
    snprintf(out, size, "dmarc:%c:%" PRId64 ":%" PRId64 ":%s%s%s", kind, begin, end, domain,
        tail != NULL ? ":" : "", tail != NULL ? tail : "");
}

enum store_status dmarc_report_store_add(struct store *s, const struct dmarc_report_policy *pol,
    const struct dmarc_report_row *row, int64_t begin, int64_t end, uint64_t keep_ms)
{
    if (!dmarc_report_domain_ok(pol->domain))
        return STORE_INVALID;               /* no report could name it */
    struct dmarc_report_row r = *row;
    struct textbuf text;
    textbuf_init(&text);
    dmarc_report_row_encode(&r, &text);
    while (text.len > STORE_VALUE_MAX && r.dkim_count > 0) {
        r.dkim_count--;                      /* the least preferred signatures go first */
        text.len = 0;
        text.data[0] = 0;
        dmarc_report_row_encode(&r, &text);
    }
    char hash[33], k[STORE_KEY_MAX + 1];
    hash_hex(text.data, text.len, hash);
    key(k, sizeof k, 'd', begin, end, pol->domain, hash);
    enum store_status st = store_value_set(s, k, text.data, text.len, keep_ms, NULL);
    textbuf_free(&text);
    if (st != STORE_OK)
        return st;
    struct textbuf ptext;
    textbuf_init(&ptext);
    dmarc_report_policy_encode(pol, &ptext);
    key(k, sizeof k, 'p', begin, end, pol->domain, NULL);
    st = ptext.len <= STORE_VALUE_MAX ? store_value_set(s, k, ptext.data, ptext.len, keep_ms, NULL)
        : STORE_INVALID;
    textbuf_free(&ptext);
    if (st != STORE_OK)
        return st;
    key(k, sizeof k, 'r', begin, end, pol->domain, hash);
    return store_counter_add(s, k, 1, keep_ms, NULL, NULL);
}

/* ---- collect ---- */

struct found_row {
    char domain[DMARC_REPORT_DOMAIN_MAX + 1];
    int64_t begin, end;
    char hash[33];
    int64_t count;
};

struct scan_state {
    int64_t finished_by;
    struct found_row *rows;
    size_t count, cap;
};

/* "dmarc:r:BEGIN:END:DOMAIN:HASH" into f; false for anything else. */
static bool parse_row_key(const char *k, struct found_row *f)
{
    int used = 0;
    long long b, e;
    if (sscanf(k, "dmarc:r:%lld:%lld:%n", &b, &e, &used) != 2 || used == 0)
        return false;
    const char *domain = k + used;
    const char *colon = strrchr(domain, ':');
    if (colon == NULL || strlen(colon + 1) != 32 || (size_t)(colon - domain) > DMARC_REPORT_DOMAIN_MAX)
        return false;
    memcpy(f->domain, domain, (size_t)(colon - domain));
    f->domain[colon - domain] = 0;
    memcpy(f->hash, colon + 1, 33);
    f->begin = b;
    f->end = e;
    return dmarc_report_domain_ok(f->domain) && b >= 0 && e >= b;
}

static bool collect_one(void *arg, const char *k, const struct store_item *item)
{
    struct scan_state *st = arg;
    struct found_row f;
    if (item->kind != STORE_ITEM_COUNTER || !parse_row_key(k, &f) || item->counter <= 0)
        return true;
    if (f.end >= st->finished_by)
        return true;                           /* the period is not over */
    f.count = item->counter;
    if (st->count == st->cap) {
        st->cap = st->cap == 0 ? 64 : st->cap * 2;
        st->rows = xrealloc(st->rows, st->cap * sizeof *st->rows);
    }
    st->rows[st->count++] = f;
    return true;
}

static int by_batch(const void *a, const void *b)
{
    const struct found_row *x = a, *y = b;
    int c = strcmp(x->domain, y->domain);
    if (c != 0)
        return c;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->hash, y->hash);
}

static bool same_batch(const struct found_row *a, const struct found_row *b)
{
    return strcmp(a->domain, b->domain) == 0 && a->begin == b->begin && a->end == b->end;
}

static void load_policy(struct store *s, struct dmarc_report_batch *b)
{
    char k[STORE_KEY_MAX + 1], why[128];
    struct store_item *item = xmalloc(sizeof *item);
    bool found = false;
    key(k, sizeof k, 'p', b->begin, b->end, b->domain, NULL);
    if (store_get(s, k, item, &found, NULL) == STORE_OK && found &&
        item->kind == STORE_ITEM_VALUE)
        b->has_policy = dmarc_report_policy_decode((const char *)item->value, item->value_len,
            &b->policy, why, sizeof why) && strcmp(b->policy.domain, b->domain) == 0;
    free(item);
}

static bool load_row(struct store *s, const struct dmarc_report_batch *b, const char *hash,
    struct dmarc_report_row *row)
{
    char k[STORE_KEY_MAX + 1], why[128];
    struct store_item *item = xmalloc(sizeof *item);
    bool found = false, ok = false;
    key(k, sizeof k, 'd', b->begin, b->end, b->domain, hash);
    if (store_get(s, k, item, &found, NULL) == STORE_OK && found && item->kind == STORE_ITEM_VALUE)
        ok = dmarc_report_row_decode((const char *)item->value, item->value_len, row, why,
            sizeof why);
    free(item);
    return ok;
}

bool dmarc_report_store_collect(struct store *s, int64_t finished_by,
    struct dmarc_report_batch **out, size_t *count, char *why, size_t why_size)
{
    struct scan_state st = { .finished_by = finished_by };
    *out = NULL;
    *count = 0;
    if (store_scan(s, "dmarc:r:", collect_one, &st, NULL) != STORE_OK) {
        snprintf(why, why_size, "the store (%s) did not answer the scan", store_describe(s));
        free(st.rows);
        return false;
    }
    if (st.count > 0)                         /* no rows: st.rows is NULL */
        qsort(st.rows, st.count, sizeof *st.rows, by_batch);
    struct dmarc_report_batch *batches = NULL;
    size_t n = 0;
    for (size_t i = 0; i < st.count;) {
        size_t j = i;
        while (j < st.count && same_batch(&st.rows[i], &st.rows[j]))
            j++;
        batches = xrealloc(batches, (n + 1) * sizeof *batches);
        struct dmarc_report_batch *b = &batches[n++];
        memset(b, 0, sizeof *b);
        memcpy(b->domain, st.rows[i].domain, sizeof b->domain);
        b->begin = st.rows[i].begin;
        b->end = st.rows[i].end;
        load_policy(s, b);
        b->rows = xcalloc(j - i, sizeof *b->rows);
        b->hashes = xcalloc(j - i, sizeof *b->hashes);
        for (size_t k = i; k < j; k++) {
            if (!load_row(s, b, st.rows[k].hash, &b->rows[b->count])) {
                b->unreadable++;
                continue;
            }
            b->rows[b->count].count = (uint64_t)st.rows[k].count;
            memcpy(b->hashes[b->count], st.rows[k].hash, 33);
            b->count++;
        }
        i = j;
    }
    free(st.rows);
    *out = batches;
    *count = n;
    return true;
}

void dmarc_report_batches_free(struct dmarc_report_batch *b, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(b[i].rows);
        free(b[i].hashes);
    }
    free(b);
}

/* ---- sent marks and clear ---- */

bool dmarc_report_store_was_sent(struct store *s, const struct dmarc_report_batch *b,
    const char *address)
{
    char k[STORE_KEY_MAX + 1];
    struct store_item *item = xmalloc(sizeof *item);
    bool found = false;
    key(k, sizeof k, 's', b->begin, b->end, b->domain, address);
    bool ok = store_get(s, k, item, &found, NULL) == STORE_OK && found;
    free(item);
    return ok;
}

enum store_status dmarc_report_store_mark_sent(struct store *s, const struct dmarc_report_batch *b,
    const char *address, uint64_t keep_ms)
{
    char k[STORE_KEY_MAX + 1];
    key(k, sizeof k, 's', b->begin, b->end, b->domain, address);
    return store_value_set(s, k, "1", 1, keep_ms, NULL);
}

struct mark_list {
    char prefix[STORE_KEY_MAX + 1];
    char **keys;
    size_t count;
};

static bool gather_key(void *arg, const char *k, const struct store_item *item)
{
    (void)item;
    struct mark_list *m = arg;
    m->keys = xrealloc(m->keys, (m->count + 1) * sizeof *m->keys);
    m->keys[m->count++] = xstrdup(k);
    return true;
}

bool dmarc_report_store_clear(struct store *s, const struct dmarc_report_batch *b, char *why,
    size_t why_size)
{
    char k[STORE_KEY_MAX + 1];
    bool ok = true, rows_left = false;
    for (size_t i = 0; i < b->count && ok; i++) {
        int64_t left = 0;
        key(k, sizeof k, 'r', b->begin, b->end, b->domain, b->hashes[i]);
        ok = store_counter_add(s, k, -(int64_t)b->rows[i].count, 0, &left, NULL) == STORE_OK;
        if (ok && left <= 0) {
            ok = store_delete(s, k, NULL) == STORE_OK;
            key(k, sizeof k, 'd', b->begin, b->end, b->domain, b->hashes[i]);
            ok = ok && store_delete(s, k, NULL) == STORE_OK;
        } else {
            rows_left = true;                /* added after the collect: the next run's */
        }
    }
    struct mark_list m = { .keys = NULL, .count = 0 };
    key(m.prefix, sizeof m.prefix, 's', b->begin, b->end, b->domain, "");
    if (ok)
        ok = store_scan(s, m.prefix, gather_key, &m, NULL) == STORE_OK;
    for (size_t i = 0; i < m.count; i++) {
        ok = ok && store_delete(s, m.keys[i], NULL) == STORE_OK;
        free(m.keys[i]);
    }
    free(m.keys);
    key(k, sizeof k, 'p', b->begin, b->end, b->domain, NULL);
    if (!rows_left)
        ok = ok && store_delete(s, k, NULL) == STORE_OK;
    if (!ok)
        snprintf(why, why_size, "the store (%s) failed while clearing %s %" PRId64 "-%" PRId64
            ": what remains is reported again", store_describe(s), b->domain, b->begin, b->end);
    return ok;
}
