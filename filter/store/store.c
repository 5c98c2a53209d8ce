/* store.c - the store interface: a registry of process-lifetime stores (so counters survive
 * a reload), the fail mode when a backend fails, and the outage log: one line when a backend
 * starts failing, one when it works again, never one per message. The backends retry by
 * themselves; nothing here waits. */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "stats.h"
#include "util.h"

struct store {
    const struct store_backend_ops *ops;
    void *impl;
    char *description;
    enum store_fail_mode fail_mode;
    struct store_settings settings;    /* what the registry compares */
    bool in_registry;

    pthread_mutex_t lock;              /* guards the outage state */
    bool down;
    uint64_t failed_during_outage;
    struct store *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *registry;
static struct store *memory_store;     /* the embedded store, shared */
static uint64_t memory_max_keys;       /* its bound, as last asked for */

int64_t store_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

void store_settings_copy(struct store_settings *dst, const struct store_settings *src)
{
    *dst = *src;
    dst->redis_host = dup_or_null(src->redis_host);
    dst->redis_socket = dup_or_null(src->redis_socket);
    dst->redis_password = dup_or_null(src->redis_password);
    dst->redis_prefix = dup_or_null(src->redis_prefix);
    dst->sentinels = dup_or_null(src->sentinels);
    dst->sentinel_master = dup_or_null(src->sentinel_master);
    dst->lmdb_path = dup_or_null(src->lmdb_path);
}

void store_settings_free(struct store_settings *s)
{
    free(s->redis_host);
    free(s->redis_socket);
    free(s->redis_password);
    free(s->redis_prefix);
    free(s->sentinels);
    free(s->sentinel_master);
    free(s->lmdb_path);
    memset(s, 0, sizeof *s);
}

static bool str_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Equal settings: the same backend, server or path, credentials and behaviour. */
static bool settings_equal(const struct store_settings *a, const struct store_settings *b)
{
    if (a->backend != b->backend)
        return false;
    if (a->backend == STORE_LMDB)
        return str_same(a->lmdb_path, b->lmdb_path) && a->lmdb_max_size == b->lmdb_max_size
            && a->fail_mode == b->fail_mode;
    return str_same(a->redis_host, b->redis_host) && a->redis_port == b->redis_port
        && str_same(a->redis_socket, b->redis_socket)
        && str_same(a->redis_password, b->redis_password) && a->redis_db == b->redis_db
        && str_same(a->redis_prefix, b->redis_prefix)
        && str_same(a->sentinels, b->sentinels) && str_same(a->sentinel_master, b->sentinel_master)
        && a->connect_timeout_ms == b->connect_timeout_ms
        && a->command_timeout_ms == b->command_timeout_ms
        && a->retry_interval_ms == b->retry_interval_ms && a->pool_size == b->pool_size
        && a->fail_mode == b->fail_mode;
}

struct store *store_wrap(const struct store_backend_ops *ops, void *impl, const char *description,
    enum store_fail_mode fail_mode)
{
    struct store *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->impl = impl;
    s->description = xstrdup(description);
    s->fail_mode = fail_mode;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    s->ops->free(s->impl);
    free(s->description);
    store_settings_free(&s->settings);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

struct store *store_memory_shared(uint64_t max_keys)
{
    pthread_mutex_lock(&registry_lock);
    if (memory_store == NULL) {
        memory_store = store_wrap(&store_memory_ops, store_memory_new(max_keys), "memory",
            STORE_FAIL_TEMPFAIL);
        memory_max_keys = max_keys;
    } else if (max_keys != memory_max_keys) {
        store_memory_set_max_keys(memory_store->impl, max_keys);
        memory_max_keys = max_keys;
    }
    struct store *s = memory_store;
    pthread_mutex_unlock(&registry_lock);
    return s;
}

/* The LMDB store of this path, from the registry or new. Its environment opens at the first
 * op (store_lmdb.c), so a policy load never creates files as root. */
static struct store *open_lmdb(const struct store_settings *settings, char *why,
    size_t why_size)
{
    if (settings->fail_mode == STORE_FAIL_MEMORY)
        store_memory_shared(settings->max_keys);
    pthread_mutex_lock(&registry_lock);
    struct store *s;
    for (s = registry; s != NULL; s = s->next)
        if (settings_equal(&s->settings, settings))
            break;
    if (s == NULL) {
        void *impl = store_lmdb_new(settings, why, why_size);
        if (impl != NULL) {
            char description[300];
            snprintf(description, sizeof description, "lmdb %s", settings->lmdb_path);
            s = store_wrap(&store_lmdb_ops, impl, description, settings->fail_mode);
            store_settings_copy(&s->settings, settings);
            s->in_registry = true;
            s->next = registry;
            registry = s;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return s;
}

struct store *store_open(const struct store_settings *settings, char *why, size_t why_size)
{
    if (settings->backend == STORE_MEMORY)
        return store_memory_shared(settings->max_keys);
    if (settings->backend == STORE_LMDB)
        return open_lmdb(settings, why, why_size);
    if (settings->redis_socket == NULL && settings->redis_host == NULL
        && settings->sentinels == NULL) {
        snprintf(why, why_size, "redis needs a host, a socket or sentinels");
        return NULL;
    }
    if ((settings->sentinels == NULL) != (settings->sentinel_master == NULL)) {
        snprintf(why, why_size, "sentinels and master_name go together");
        return NULL;
    }
    /* the fallback's bound follows the policy too */
    if (settings->fail_mode == STORE_FAIL_MEMORY)
        store_memory_shared(settings->max_keys);
    pthread_mutex_lock(&registry_lock);
    struct store *s;
    for (s = registry; s != NULL; s = s->next) {
        if (settings_equal(&s->settings, settings))
            break;
    }
    if (s == NULL) {
        char description[300];
        if (settings->sentinels != NULL)
            snprintf(description, sizeof description, "redis master %s (sentinels %s)",
                settings->sentinel_master, settings->sentinels);
        else if (settings->redis_socket != NULL)
            snprintf(description, sizeof description, "redis unix:%s", settings->redis_socket);
        else
            snprintf(description, sizeof description, "redis %s:%d", settings->redis_host,
                settings->redis_port);
        s = store_wrap(&store_redis_ops, store_redis_new(settings), description,
            settings->fail_mode);
        store_settings_copy(&s->settings, settings);
        s->in_registry = true;
        s->next = registry;
        registry = s;
    }
    pthread_mutex_unlock(&registry_lock);
    return s;
}

void store_close_all(void)
{
    pthread_mutex_lock(&registry_lock);
    while (registry != NULL) {
        struct store *next = registry->next;
        store_free(registry);
        registry = next;
    }
    store_free(memory_store);
    memory_store = NULL;
    memory_max_keys = 0;
    pthread_mutex_unlock(&registry_lock);
}

const char *store_describe(const struct store *s)
{
    return s->description;
}

/* The backend answered: an outage, if there was one, is over. */
static void note_success(struct store *s)
{
    if (!__atomic_load_n(&s->down, __ATOMIC_RELAXED))
        return;
    pthread_mutex_lock(&s->lock);
    if (s->down) {
        __atomic_store_n(&s->down, false, __ATOMIC_RELAXED);
        log_warn("store %s is back: rate limits and greylisting use it again (%llu decision%s "
            "made without it)", s->description, (unsigned long long)s->failed_during_outage,
            s->failed_during_outage == 1 ? "" : "s");
    }
    pthread_mutex_unlock(&s->lock);
}

/* The backend failed: log the first failure of an outage only. */
static void note_failure(struct store *s, const char *err)
{
    pthread_mutex_lock(&s->lock);
    s->failed_during_outage = s->down ? s->failed_during_outage + 1 : 1;
    if (!s->down) {
        __atomic_store_n(&s->down, true, __ATOMIC_RELAXED);
        log_err("store %s failed: %s; until it is back, %s (logged once per outage)",
            s->description, err, s->fail_mode == STORE_FAIL_MEMORY
            ? "this server decides with its embedded store"
            : "mail that needs it is tempfailed");
    }
    pthread_mutex_unlock(&s->lock);
}

static struct store *fallback_for(struct store *s)
{
    if (s->fail_mode != STORE_FAIL_MEMORY || s == memory_store)
        return NULL;
    pthread_mutex_lock(&registry_lock);
    if (memory_store == NULL) {      /* store_open made it; only a store_wrap()ed one lacks it */
        memory_store = store_wrap(&store_memory_ops, store_memory_new(100000), "memory",
            STORE_FAIL_TEMPFAIL);
        memory_max_keys = 100000;
    }
    struct store *m = memory_store;
    pthread_mutex_unlock(&registry_lock);
    return m;
}

bool store_ping(struct store *s, char *why, size_t why_size)
{
    if (why_size > 0)
        why[0] = '\0';
    return s->ops->ping == NULL || s->ops->ping(s->impl, why, why_size);
}

/* After a failed call: notes the outage, and returns the store to answer instead (the fail
 * mode "memory", *fell_back set) or NULL (the fail mode "tempfail": STORE_DOWN). */
static struct store *fallback_after_failure(struct store *s, const char *err, bool *fell_back)
{
    note_failure(s, err);
    struct store *m = fallback_for(s);
    if (m != NULL && fell_back != NULL)
        *fell_back = true;
    return m;
}

enum store_status store_gcra(struct store *s, const char *key, const struct gcra_limit *limit,
    int64_t cost, int64_t now_us, struct gcra_result *out, bool *fell_back)
{
    char err[256] = "";
    if (fell_back != NULL)
        *fell_back = false;
    bool ok = s->ops->gcra(s->impl, key, limit, cost, now_us, out, err, sizeof err);
    stats_store_op(s->ops->name, STATS_STORE_GCRA, ok);
    if (ok) {
        note_success(s);
        return STORE_OK;
    }
    struct store *m = fallback_after_failure(s, err, fell_back);
    return m == NULL ? STORE_DOWN : store_gcra(m, key, limit, cost, now_us, out, NULL);
}

enum store_status store_greylist(struct store *s, const char *key, const struct grey_params *p,
    int64_t now_us, struct grey_result *out, bool *fell_back)
{
    char err[256] = "";
    if (fell_back != NULL)
        *fell_back = false;
    bool ok = s->ops->greylist(s->impl, key, p, now_us, out, err, sizeof err);
    stats_store_op(s->ops->name, STATS_STORE_GREYLIST, ok);
    if (ok) {
        note_success(s);
        return STORE_OK;
    }
    struct store *m = fallback_after_failure(s, err, fell_back);
    return m == NULL ? STORE_DOWN : store_greylist(m, key, p, now_us, out, NULL);
}

/* Generic records. */

/* A key the backends can all hold: 1..STORE_KEY_MAX bytes (a NUL ends it, so it holds none). */
static bool key_valid(const char *key)
{
    return key != NULL && key[0] != '\0' && strnlen(key, STORE_KEY_MAX + 1) <= STORE_KEY_MAX;
}

/* A caller's mistake: logged (without the value), never a fallback. */
static enum store_status invalid(const struct store *s, const char *op, const char *why)
{
    log_err("store %s: %s refused: %s (a bug in the caller)", s->description, op, why);
    return STORE_INVALID;
}

/* The backend lacks the op: a failure, so the fail mode decides. */
static bool unsupported(const struct store *s, const char *op, char *err, size_t err_size)
{
    snprintf(err, err_size, "the %s backend has no %s", s->ops->name, op);
    return false;
}

/* The end of a generic op: success, or the fail mode's store (NULL: STORE_DOWN). A key of
 * the other kind, or a counter that would overflow, is the caller's mistake, not an outage:
 * the backends say so with an err that starts with "invalid: ". */
static struct store *after_generic(struct store *s, bool ok, const char *err, bool *fell_back,
    enum store_status *status)
{
    if (fell_back != NULL)
        *fell_back = false;
    if (ok) {
        note_success(s);
        *status = STORE_OK;
        return NULL;
    }
    if (strncmp(err, "invalid: ", 9) == 0) {
        *status = invalid(s, "an op", err + 9);
        return NULL;
    }
    *status = STORE_DOWN;
    return fallback_after_failure(s, err, fell_back);
}

enum store_status store_counter_add(struct store *s, const char *key, int64_t delta,
    uint64_t ttl_ms, int64_t *value, bool *fell_back)
{
    if (!key_valid(key))
        return invalid(s, "counter_add", "the key is empty or too long");
    char err[256] = "";
    int64_t v = 0;
    bool ok = s->ops->counter_add != NULL
        ? s->ops->counter_add(s->impl, key, delta, ttl_ms, store_now_us(), &v, err, sizeof err)
        : unsupported(s, "counter_add", err, sizeof err);
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    if (m != NULL)
        return store_counter_add(m, key, delta, ttl_ms, value, NULL);
    if (status == STORE_OK && value != NULL)
        *value = v;
    return status;
}

enum store_status store_counter_add_many(struct store *s, struct store_counter_change *changes,
    size_t count, uint64_t ttl_ms, bool *fell_back)
{
    if (count > STORE_BATCH_MAX)
        return invalid(s, "counter_add_many", "more than STORE_BATCH_MAX changes");
    for (size_t i = 0; i < count; i++)
        if (!key_valid(changes[i].key))
            return invalid(s, "counter_add_many", "a key is empty or too long");
    if (count == 0) {
        if (fell_back != NULL)
            *fell_back = false;
        return STORE_OK;
    }
    char err[256] = "";
    bool ok = s->ops->counter_add_many != NULL
        ? s->ops->counter_add_many(s->impl, changes, count, ttl_ms, store_now_us(), err,
            sizeof err)
        : unsupported(s, "counter_add_many", err, sizeof err);
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    return m != NULL ? store_counter_add_many(m, changes, count, ttl_ms, NULL) : status;
}

/* The fallback of a backend without counter_get_many: get, key by key. */
static bool counter_get_each(struct store *s, const char *const *keys, size_t count,
    int64_t *values, char *err, size_t err_size)
{
    if (s->ops->get == NULL)
        return unsupported(s, "counter_get_many", err, err_size);
    struct store_item *item = xmalloc(sizeof *item);
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        bool found = false;
        values[i] = 0;
        ok = s->ops->get(s->impl, keys[i], store_now_us(), item, &found, err, err_size);
        if (ok && found && item->kind != STORE_ITEM_COUNTER) {
            snprintf(err, err_size, "invalid: a counter op on a key that holds a value");
            ok = false;
        }
        if (ok && found)
            values[i] = item->counter;
    }
    free(item);
    return ok;
}

enum store_status store_counter_get_many(struct store *s, const char *const *keys, size_t count,
    int64_t *values, bool *fell_back)
{
    if (count > STORE_MANY_MAX)
        return invalid(s, "counter_get_many", "more than STORE_MANY_MAX keys");
    for (size_t i = 0; i < count; i++)
        if (!key_valid(keys[i]))
            return invalid(s, "counter_get_many", "a key is empty or too long");
    if (fell_back != NULL)
        *fell_back = false;
    if (count == 0)
        return STORE_OK;
    char err[256] = "";
    bool ok = s->ops->counter_get_many != NULL
        ? s->ops->counter_get_many(s->impl, keys, count, store_now_us(), values, err, sizeof err)
        : counter_get_each(s, keys, count, values, err, sizeof err);
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    return m != NULL ? store_counter_get_many(m, keys, count, values, NULL) : status;
}

enum store_status store_update_many(struct store *s, const struct store_write *writes,
    size_t count, bool *fell_back)
{
    if (count > STORE_MANY_MAX)
        return invalid(s, "update_many", "more than STORE_MANY_MAX writes");
    for (size_t i = 0; i < count; i++) {
        if (!key_valid(writes[i].key))
            return invalid(s, "update_many", "a key is empty or too long");
        if (writes[i].kind == STORE_WRITE_VALUE_SET && (writes[i].len > STORE_VALUE_MAX
                || (writes[i].len > 0 && writes[i].value == NULL)))
            return invalid(s, "update_many", "a value is longer than STORE_VALUE_MAX");
    }
    if (fell_back != NULL)
        *fell_back = false;
    if (count == 0)
        return STORE_OK;
    char err[256] = "";
    bool ok = s->ops->update_many != NULL
        ? s->ops->update_many(s->impl, writes, count, store_now_us(), err, sizeof err)
        : unsupported(s, "update_many", err, sizeof err);
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    return m != NULL ? store_update_many(m, writes, count, NULL) : status;
}

enum store_status store_value_set(struct store *s, const char *key, const void *value,
    size_t len, uint64_t ttl_ms, bool *fell_back)
{
    if (!key_valid(key))
        return invalid(s, "value_set", "the key is empty or too long");
    if (len > STORE_VALUE_MAX || (len > 0 && value == NULL))
        return invalid(s, "value_set", "the value is longer than STORE_VALUE_MAX");
    char err[256] = "";
    bool ok = s->ops->value_set != NULL
        ? s->ops->value_set(s->impl, key, value, len, ttl_ms, store_now_us(), err, sizeof err)
        : unsupported(s, "value_set", err, sizeof err);
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    return m != NULL ? store_value_set(m, key, value, len, ttl_ms, NULL) : status;
}

enum store_status store_get(struct store *s, const char *key, struct store_item *out,
    bool *found, bool *fell_back)
{
    *found = false;
    if (!key_valid(key))
        return invalid(s, "get", "the key is empty or too long");
    char err[256] = "";
    bool ok = s->ops->get != NULL
        ? s->ops->get(s->impl, key, store_now_us(), out, found, err, sizeof err)
        : unsupported(s, "get", err, sizeof err);
    if (!ok)
        *found = false;
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    return m != NULL ? store_get(m, key, out, found, NULL) : status;
}

enum store_status store_delete(struct store *s, const char *key, bool *fell_back)
{
    if (!key_valid(key))
        return invalid(s, "delete", "the key is empty or too long");
    char err[256] = "";
    bool ok = s->ops->remove != NULL ? s->ops->remove(s->impl, key, err, sizeof err)
        : unsupported(s, "delete", err, sizeof err);
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    return m != NULL ? store_delete(m, key, NULL) : status;
}

enum store_status store_scan(struct store *s, const char *prefix, store_scan_fn fn, void *arg,
    bool *fell_back)
{
    if (prefix == NULL || strnlen(prefix, STORE_KEY_MAX + 1) > STORE_KEY_MAX)
        return invalid(s, "scan", "the prefix is NULL or too long");
    char err[256] = "";
    bool ok = s->ops->scan != NULL
        ? s->ops->scan(s->impl, prefix, store_now_us(), fn, arg, err, sizeof err)
        : unsupported(s, "scan", err, sizeof err);
    enum store_status status;
    struct store *m = after_generic(s, ok, err, fell_back, &status);
    return m != NULL ? store_scan(m, prefix, fn, arg, NULL) : status;
}
