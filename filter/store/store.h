/* store.h - where rate-limit counters and greylisting triplets live, behind one interface
 * with two backends (as OpenSMTPD's table.c in front of table_static.c and table_db.c):
 * store_memory.c, in this process (the default), and store_redis.c, shared by a fleet.
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
};

enum store_backend { STORE_MEMORY, STORE_REDIS };
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
};

/* A backend: what store_memory.c and store_redis.c implement. now_us is the caller's
 * monotonic clock; the Redis backend uses the server's clock instead (one clock for a fleet). */
struct store_backend_ops {
    const char *name;
    bool (*gcra)(void *impl, const char *key, const struct gcra_limit *limit, int64_t cost,
        int64_t now_us, struct gcra_result *out, char *err, size_t err_size);
    bool (*greylist)(void *impl, const char *key, const struct grey_params *p, int64_t now_us,
        struct grey_result *out, char *err, size_t err_size);
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

/* A store made from a backend directly, outside the registry (tests, the benchmark). */
struct store *store_wrap(const struct store_backend_ops *ops, void *impl, const char *description,
    enum store_fail_mode fail_mode);
void store_free(struct store *s);

#endif
