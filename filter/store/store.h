/* store.h - where rate-limit counters, greylisting triplets and the generic records of other
 * features (DMARC aggregate-report counts, Bayes tokens) live, behind one interface with three
 * backends (as OpenSMTPD's table.c in front of table_static.c and table_db.c): store_memory.c,
 * in this process (the default), store_lmdb.c, on disk (survives restarts, shared by the
 * processes of one host), and store_redis.c, shared by a fleet.
 *
 * A store is process-lifetime: store_open() returns the same store for the same settings on
 * every policy load, so counters survive SIGHUP. Each operation is one atomic decision (never
 * a read then a write from the caller), so parallel connections cannot lose updates.
 * When a backend is unreachable, store.c applies the fail mode: STORE_DOWN to the caller
 * (which tempfails) or the embedded store; it logs once when an outage starts and once when
 * it ends, and the backend retries by itself. Every function is thread-safe. */
#ifndef MW_STORE_H
#define MW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gcra.h"
#include "grey.h"

enum store_status {
    STORE_OK,
    STORE_DOWN,          /* the backend failed and the fail mode is tempfail */
    STORE_INVALID,       /* the caller's key, value or batch is out of bounds (logged) */
};

enum store_backend { STORE_MEMORY, STORE_REDIS, STORE_LMDB };
enum store_fail_mode { STORE_FAIL_TEMPFAIL, STORE_FAIL_MEMORY };

struct store_settings {
    enum store_backend backend;
    uint64_t max_keys;             /* embedded store: keys kept at most */
    enum store_fail_mode fail_mode;
    /* redis */
    char *redis_host;              /* "127.0.0.1" */
    int redis_port;                /* 6379 */
    char *redis_socket;            /* a unix socket path instead of host:port; NULL = TCP */
    char *redis_password;          /* AUTH; NULL = none */
    int redis_db;                  /* SELECT; 0 = leave */
    char *redis_prefix;            /* key prefix, "mw:" */
    char *sentinels;               /* "host:port,host:port" of Redis Sentinels; NULL = none */
    char *sentinel_master;         /* the master's name the sentinels know ("mymaster") */
    uint64_t connect_timeout_ms;
    uint64_t command_timeout_ms;
    uint64_t retry_interval_ms;    /* after a failure, calls fail fast this long */
    unsigned pool_size;            /* connections shared by the worker threads */
    /* lmdb */
    char *lmdb_path;               /* the environment's directory, created 0750 when absent */
    uint64_t lmdb_max_size;        /* bytes the records may take (full = failure, never eviction) */
};

/* Generic records. A key is text (no NUL) of 1..STORE_KEY_MAX bytes and holds either a
 * 64-bit counter or a value of at most STORE_VALUE_MAX bytes; the two never share a key
 * (an op on a key of the other kind is a failure). Callers name their keys with a prefix of
 * their own ("dmarc:", "bayes:"), apart from "rl:" (rate limits) and "gl:" (greylisting).
 * ttl_ms > 0 makes the key expire ttl_ms after the call; an expired key is absent. */
enum { STORE_KEY_MAX = 500, STORE_VALUE_MAX = 4096, STORE_BATCH_MAX = 1024 };   /* LMDB: keys < 512 */

enum store_item_kind { STORE_ITEM_COUNTER = 1, STORE_ITEM_VALUE = 2 };

/* What a key holds: a counter, or a value's bytes. */
struct store_item {
    enum store_item_kind kind;
    int64_t counter;                       /* STORE_ITEM_COUNTER */
    size_t value_len;                      /* STORE_ITEM_VALUE */
    unsigned char value[STORE_VALUE_MAX];
};

/* One counter of a batch: key and delta in, the counter's new value out. */
struct store_counter_change {
    const char *key;
    int64_t delta;
    int64_t value;
};

/* One write of an update batch (store_update_many). */
enum store_write_kind { STORE_WRITE_COUNTER_ADD, STORE_WRITE_VALUE_SET, STORE_WRITE_DELETE };
struct store_write {
    enum store_write_kind kind;
    const char *key;
    int64_t delta;             /* COUNTER_ADD */
    const void *value;         /* VALUE_SET: len bytes */
    size_t len;
    uint64_t ttl_ms;           /* COUNTER_ADD, VALUE_SET: > 0 sets the key's expiry */
};

/* Called once per key of a scan; false stops the scan. The store holds no lock and no
 * transaction while it runs, so it may call the store (delete what it saw, for one). */
typedef bool (*store_scan_fn)(void *arg, const char *key, const struct store_item *item);

/* A backend: what store_memory.c and store_redis.c implement. now_us is the caller's
 * monotonic clock; the Redis backend uses the server's clock instead (one clock for a fleet). */
struct store_backend_ops {
    const char *name;
    bool (*gcra)(void *impl, const char *key, const struct gcra_limit *limit, int64_t cost,
        int64_t now_us, struct gcra_result *out, char *err, size_t err_size);
    bool (*greylist)(void *impl, const char *key, const struct grey_params *p, int64_t now_us,
        struct grey_result *out, char *err, size_t err_size);
    /* Generic records (see above). now_us as for gcra (the memory backend's clock). */
    bool (*counter_add)(void *impl, const char *key, int64_t delta, uint64_t ttl_ms,
        int64_t now_us, int64_t *value, char *err, size_t err_size);
    /* All of the batch or none of it, in one transaction. */
    bool (*counter_add_many)(void *impl, struct store_counter_change *changes, size_t count,
        uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size);
    bool (*value_set)(void *impl, const char *key, const void *value, size_t len,
        uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size);
    bool (*get)(void *impl, const char *key, int64_t now_us, struct store_item *out,
        bool *found, char *err, size_t err_size);
    bool (*remove)(void *impl, const char *key, char *err, size_t err_size);
    /* Calls fn with no lock held (the backend copies a batch, then calls fn on it). */
    bool (*scan)(void *impl, const char *prefix, int64_t now_us, store_scan_fn fn, void *arg,
        char *err, size_t err_size);
    /* Optional: the counters at keys in one round trip (absent: 0); NULL: store.c calls get
     * once per key. A key that holds a value is a failure ("invalid: ..."). */
    bool (*counter_get_many)(void *impl, const char *const *keys, size_t count, int64_t now_us,
        int64_t *values, char *err, size_t err_size);
    /* Every write of the batch or none, in one transaction (Redis: one pipelined MULTI/EXEC). */
    bool (*update_many)(void *impl, const struct store_write *writes, size_t count,
        int64_t now_us, char *err, size_t err_size);
    void (*free)(void *impl);
    /* Optional: asks the backend whether it answers now (mailwarden-ctl status); NULL: always. */
    bool (*ping)(void *impl, char *err, size_t err_size);
};

struct store;

/* The process-lifetime store for these settings; the same one for equal settings. A Redis
 * store connects lazily, so opening one never blocks a policy load. NULL + why on error. */
struct store *store_open(const struct store_settings *settings, char *why, size_t why_size);
/* The embedded store of this process (one, shared by every policy and by fallbacks); its
 * bound follows the last max_keys asked for. */
struct store *store_memory_shared(uint64_t max_keys);
/* Frees every store (tests and the end of the process; nothing may use them afterwards). */
void store_close_all(void);

const char *store_describe(const struct store *s);
/* Whether the backend answers now (one round trip, outside the fail mode); why says what
 * failed. For mailwarden-ctl status, not for mail. */
bool store_ping(struct store *s, char *why, size_t why_size);
/* One decision on key; when the backend fails, the fail mode applies (STORE_DOWN or the
 * embedded store). *fell_back (may be NULL) says the embedded store decided. */
enum store_status store_gcra(struct store *s, const char *key, const struct gcra_limit *limit,
    int64_t cost, int64_t now_us, struct gcra_result *out, bool *fell_back);
enum store_status store_greylist(struct store *s, const char *key, const struct grey_params *p,
    int64_t now_us, struct grey_result *out, bool *fell_back);

/* Generic records. Each call is one atomic operation on the backend, with the fail mode
 * applied as for store_gcra (a write that fell back lives in this process's embedded store
 * only; it is not copied back when the backend returns). STORE_INVALID: a key that is empty,
 * longer than STORE_KEY_MAX or holds a NUL, a value over STORE_VALUE_MAX, a batch over
 * STORE_BATCH_MAX, an op on a key of the other kind, a counter that would overflow, a batch
 * over several Redis Cluster slots (logged; never a fallback, nothing changed). */

/* Adds delta to the counter at key (absent: 0) and sets *value (may be NULL) to the sum.
 * ttl_ms > 0 sets the key's expiry; 0 leaves it (a new key: kept until deleted). */
enum store_status store_counter_add(struct store *s, const char *key, int64_t delta,
    uint64_t ttl_ms, int64_t *value, bool *fell_back);
/* store_counter_add on every change of the batch, all in one transaction (none when it fails). */
enum store_status store_counter_add_many(struct store *s, struct store_counter_change *changes,
    size_t count, uint64_t ttl_ms, bool *fell_back);
/* The counters at keys (absent or expired: 0), read together: one round trip on Redis (MGET).
 * At most STORE_MANY_MAX keys; a key that holds a value is STORE_INVALID. */
enum { STORE_MANY_MAX = 65536 };
enum store_status store_counter_get_many(struct store *s, const char *const *keys, size_t count,
    int64_t *values, bool *fell_back);
/* Applies every write of the batch (at most STORE_MANY_MAX) or none of them: one LMDB write
 * transaction, the memory store's locks held throughout, one MULTI/EXEC on Redis (where a
 * write on a key of the other kind fails that write alone: Redis does not roll back; the
 * Bayes keys never mix kinds). */
enum store_status store_update_many(struct store *s, const struct store_write *writes,
    size_t count, bool *fell_back);
/* Sets key to the value's len bytes; ttl_ms = 0: kept until deleted. */
enum store_status store_value_set(struct store *s, const char *key, const void *value,
    size_t len, uint64_t ttl_ms, bool *fell_back);
/* What key holds: *found = false when it is absent (or expired). */
enum store_status store_get(struct store *s, const char *key, struct store_item *out,
    bool *found, bool *fell_back);
/* Deletes key (absent: nothing to do, still STORE_OK). */
enum store_status store_delete(struct store *s, const char *key, bool *fell_back);
/* Calls fn for every live key that starts with prefix ("" = all generic keys; rate-limit and
 * greylisting records are never shown), each key once, in no promised order. Keys written
 * during the scan may or may not be seen; fn may delete what it saw. On Redis: SCAN MATCH. */
enum store_status store_scan(struct store *s, const char *prefix, store_scan_fn fn, void *arg,
    bool *fell_back);

/* The clock the callers pass as now_us: monotonic microseconds. */
int64_t store_now_us(void);

void store_settings_free(struct store_settings *s);
void store_settings_copy(struct store_settings *dst, const struct store_settings *src);

/* Backend constructors (store_memory.c, store_redis.c). */
void *store_memory_new(uint64_t max_keys);
void store_memory_set_max_keys(void *impl, uint64_t max_keys);
uint64_t store_memory_key_count(void *impl);
extern const struct store_backend_ops store_memory_ops;
void *store_redis_new(const struct store_settings *settings);
extern const struct store_backend_ops store_redis_ops;
/* NULL + why (naming the path and the fix) when the environment cannot be opened. */
void *store_lmdb_new(const struct store_settings *settings, char *why, size_t why_size);
extern const struct store_backend_ops store_lmdb_ops;
/* Tests: the clock the LMDB store decides and expires with (NULL: the wall clock again). */
void store_lmdb_set_clock(void *impl, int64_t (*clock)(void));

/* A store made from a backend directly, outside the registry (tests, the benchmark). */
struct store *store_wrap(const struct store_backend_ops *ops, void *impl, const char *description,
    enum store_fail_mode fail_mode);
void store_free(struct store *s);

#endif
