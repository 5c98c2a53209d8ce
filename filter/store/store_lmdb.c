/* store_lmdb.c - the store on disk: an LMDB environment (Debian's liblmdb) in a directory, so
 * rate limits, greylisting and the generic records survive a restart, and every process of
 * the host that opens the same directory (the daemon, mailwarden-report) sees one store.
 *
 * What it promises:
 * - Each op is one LMDB transaction: a decision or a batch is atomic between threads and
 *   between processes (LMDB serialises writers with a lock in the directory's lock.mdb).
 * - Times are the wall clock (CLOCK_REALTIME, microseconds), not the caller's monotonic clock:
 *   records outlive a reboot, as the Redis backend's use the server's clock.
 * - The records never take more than max_size: a write that finds more pages in use (LMDB's
 *   pages less its free list) first sweeps every expired record (at most once a second), and
 *   fails if that was not enough, with an error that names the path and the fix; store.c's
 *   fail mode decides (never a pass: a full store does not make a message cleaner). LMDB's
 *   map is max_size and an eighth (at least 1M) more, so that the sweep, whose deletions
 *   need pages too, always has room. Expired records are also swept a slice at a time by the
 *   writers, so the store rarely comes near its bound.
 * - The environment is opened lazily, by the first op of a process (after the daemon has
 *   detached and dropped root, so the files belong to its user), once per directory per
 *   process (LMDB forbids opening one twice in a process: every store of that directory
 *   shares it), and again in a forked child (LMDB forbids using a parent's). The directory
 *   is created 0750 when it is absent; the files are 0640 (less the umask).
 * - Commits are not flushed one by one (MDB_NOSYNC: an fsync per decision would cost
 *   milliseconds, serialised over every thread); the writers flush the environment at most
 *   once a second (mdb_env_sync), and it is flushed when closed. A crash of mailwarden loses
 *   nothing; a crash of the system can lose the writes of the last second or so, and LMDB
 *   keeps the file consistent only where the file system preserves the order of writes.
 * - MDB_NOTLS: read transactions are not tied to threads (the worker pool's threads come
 *   and go); every transaction is short, and none is held while a scan's callback runs.
 * - Keys of decisions longer than LMDB's key limit are stored as their first bytes and a
 *   SHA-256 of the whole key, so a long greylisting triplet cannot collide with another. */
#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

enum {
    KEY_LIMIT = 480,               /* below LMDB's 511: a longer decision key is hashed */
    KEY_KEEP = 400,                /* what stays of such a key before its hash */
    SWEEP_SLICE = 1000,            /* records a writer looks at per sweep slice */
    SCAN_BATCH = 256,              /* records a scan copies per read transaction */
    RETRY_OPEN_US = 1000000,       /* after a failed open, ops fail fast this long */
};

#define SWEEP_EVERY_US 1000000LL   /* a slice at most once a second per process */

enum record_kind { KIND_GCRA = 1, KIND_GREY = 2, KIND_COUNTER = 3, KIND_VALUE = 4 };

/* A record as stored: this head, then a value's bytes. */
struct record_head {
    uint8_t kind;
    uint8_t passed;                /* grey */
    uint8_t unused[6];
    int64_t expires_us;            /* wall clock; 0: until deleted */
    int64_t number;                /* GCRA: TAT; grey: first seen; counter */
};

/* One environment of this process: shared by every store of its directory. */
struct lmdb_env {
    struct lmdb_env *next;
    dev_t dev;
    ino_t ino;
    pid_t pid;                     /* the process that opened it */
    MDB_env *env;
    uint64_t max_size;             /* what the records may take (its first store's) */
    size_t page_size;
    int64_t next_full_sweep_us;    /* guarded by sweep_lock */
    int64_t last_flush_us;         /* atomic, monotonic: the last mdb_env_sync */
    MDB_dbi decisions;             /* GCRA and greylisting records */
    MDB_dbi records;               /* generic records: key = the caller's key */
    pthread_rwlock_t map_lock;     /* transactions: shared; adopting a new map size: exclusive */
    pthread_mutex_t sweep_lock;
    int64_t next_sweep_us;
    int sweep_dbi;                 /* 0: decisions, 1: records */
    unsigned char sweep_from[512]; /* where the next slice starts ("" = the beginning) */
    size_t sweep_from_len;
    unsigned users;                /* stores using it; the last one closes it */
};

struct lmdb_store {
    char *path;
    uint64_t max_size;
    pthread_mutex_t lock;          /* guards env, pid and retry_after_us */
    struct lmdb_env *env;
    pid_t pid;
    int64_t retry_after_us;
    char open_error[400];
    int64_t (*clock)(void);
};

static pthread_mutex_t envs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lmdb_env *envs;

static int64_t wall_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void *store_lmdb_new(const struct store_settings *settings, char *why, size_t why_size)
{
    if (settings->lmdb_path == NULL || settings->lmdb_path[0] != '/') {
        snprintf(why, why_size, "lmdb needs an absolute path (path = \"/var/lib/mailwarden/"
            "store\";)");
        return NULL;
    }
    if (settings->lmdb_max_size < 1024 * 1024) {
        snprintf(why, why_size, "lmdb max_size must be at least 1M");
        return NULL;
    }
    struct lmdb_store *l = xcalloc(1, sizeof *l);
    l->path = xstrdup(settings->lmdb_path);
    l->max_size = settings->lmdb_max_size;
    l->clock = wall_clock_us;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void store_lmdb_set_clock(void *impl, int64_t (*clock)(void))
{
    struct lmdb_store *l = impl;
    l->clock = clock != NULL ? clock : wall_clock_us;
}

static void env_release(struct lmdb_env *e, pid_t opener);

static void store_lmdb_free(void *impl)
{
    struct lmdb_store *l = impl;
    if (l == NULL)
        return;
    env_release(l->env, l->pid);
    free(l->path);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* A store stops using its environment: the last user of this process closes it. */
static void env_release(struct lmdb_env *e, pid_t opener)
{
    if (e == NULL || opener != getpid())
        return;                                /* a parent's, in a forked child: not ours */
    pthread_mutex_lock(&envs_lock);
    if (--e->users == 0) {
        struct lmdb_env **p = &envs;
        while (*p != e)
            p = &(*p)->next;
        *p = e->next;
        mdb_env_sync(e->env, 1);
        mdb_env_close(e->env);
        pthread_rwlock_destroy(&e->map_lock);
        pthread_mutex_destroy(&e->sweep_lock);
        free(e);
    }
    pthread_mutex_unlock(&envs_lock);
}

/* The directory, made when absent; false and why (with the fix) otherwise. */
static bool prepare_directory(const char *path, struct stat *st, char *why, size_t why_size)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        snprintf(why, why_size, "cannot create the directory %s: %s; create it for the user "
            "mailwarden runs as (install -d -m 750 -o USER %s) or change path", path,
            strerror(errno), path);
        return false;
    }
    if (stat(path, st) != 0 || !S_ISDIR(st->st_mode)) {
        snprintf(why, why_size, "%s is not a directory: point path at a directory of its own",
            path);
        return false;
    }
    if (access(path, R_OK | W_OK | X_OK) != 0) {
        snprintf(why, why_size, "%s is not writable by uid %ld: chown it to the user mailwarden "
            "runs as (and mailwarden-report)", path, (long)geteuid());
        return false;
    }
    return true;
}

/* Room beyond max_size for the sweep's own pages. */
static uint64_t headroom(uint64_t max_size)
{
    return max_size / 8 > 1024 * 1024 ? max_size / 8 : 1024 * 1024;
}

static size_t page_rounded(uint64_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t p = page > 0 ? (uint64_t)page : 4096;
    return (size_t)((size + p - 1) / p * p);
}

static bool open_databases(struct lmdb_env *e, char *why, size_t why_size, const char *path)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "decisions", MDB_CREATE, &e->decisions);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "records", MDB_CREATE, &e->records);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0)
        snprintf(why, why_size, "cannot open the databases in %s: %s%s", path,
            mdb_strerror(rc), rc == MDB_MAP_FULL ? " (raise max_size)" : "");
    return rc == 0;
}

/* Opens the environment at path for this process. */
static struct lmdb_env *env_open(const char *path, uint64_t max_size, const struct stat *st,
    char *why, size_t why_size)
{
    struct lmdb_env *e = xcalloc(1, sizeof *e);
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->pid = getpid();
    int rc = mdb_env_create(&e->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(e->env, 2);
    if (rc == 0)
        rc = mdb_env_set_mapsize(e->env, page_rounded(max_size + headroom(max_size)));
    if (rc == 0)
        rc = mdb_env_open(e->env, path, MDB_NOTLS | MDB_NOSYNC, 0640);
    if (rc != 0) {
        snprintf(why, why_size, "cannot open the LMDB environment %s: %s%s", path,
            mdb_strerror(rc), rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH
            || rc == MDB_CORRUPTED ? " (data.mdb there is damaged or not an LMDB file of this "
            "version: stop mailwarden and move it away; the store starts empty)"
            : rc == EACCES ? " (chown its files to the user mailwarden runs as)" : "");
        if (e->env != NULL)
            mdb_env_close(e->env);
        free(e);
        return NULL;
    }
    e->last_flush_us = store_now_us();
    int dead = 0;
    mdb_reader_check(e->env, &dead);           /* slots of processes that died reading */
    MDB_stat env_stat;
    mdb_env_stat(e->env, &env_stat);
    e->page_size = env_stat.ms_psize;
    e->max_size = max_size;
    if (!open_databases(e, why, why_size, path)) {
        mdb_env_close(e->env);
        free(e);
        return NULL;
    }
    pthread_rwlock_init(&e->map_lock, NULL);
    pthread_mutex_init(&e->sweep_lock, NULL);
    return e;
}

/* The process's environment of the directory, opened when it has none yet. */
static struct lmdb_env *env_for(const char *path, uint64_t max_size, char *why, size_t why_size)
{
    struct stat st;
    if (!prepare_directory(path, &st, why, why_size))
        return NULL;
    pid_t me = getpid();
    pthread_mutex_lock(&envs_lock);
    struct lmdb_env *e;
    for (e = envs; e != NULL; e = e->next)
        if (e->dev == st.st_dev && e->ino == st.st_ino && e->pid == me)
            break;
    if (e == NULL) {
        e = env_open(path, max_size, &st, why, why_size);
        if (e != NULL) {
            e->next = envs;
            envs = e;
        }
    }
    if (e != NULL)
        e->users++;
    pthread_mutex_unlock(&envs_lock);
    return e;
}

/* The store's environment in this process; NULL and err when it cannot be opened (then
 * ops fail fast for a second, and the next one tries again). */
static struct lmdb_env *store_env(struct lmdb_store *l, char *err, size_t err_size)
{
    pthread_mutex_lock(&l->lock);
    pid_t me = getpid();
    if (l->env != NULL && l->pid != me)
        l->env = NULL;                         /* a forked child: never the parent's */
    struct lmdb_env *e = l->env;
    int64_t now = wall_clock_us();
    if (e == NULL && now < l->retry_after_us) {
        snprintf(err, err_size, "%s", l->open_error);
    } else if (e == NULL) {
        e = env_for(l->path, l->max_size, l->open_error, sizeof l->open_error);
        if (e == NULL) {
            l->retry_after_us = now + RETRY_OPEN_US;
            snprintf(err, err_size, "%s", l->open_error);
        }
        l->env = e;
        l->pid = me;
    }
    pthread_mutex_unlock(&l->lock);
    return e;
}

/* Begins a transaction under the map lock (held shared until txn_end), adopting a larger
 * map another process made (MDB_MAP_RESIZED). */
static int txn_begin(struct lmdb_env *e, unsigned flags, MDB_txn **txn)
{
    for (int attempt = 0;; attempt++) {
        pthread_rwlock_rdlock(&e->map_lock);
        int rc = mdb_txn_begin(e->env, NULL, flags, txn);
        if (rc != MDB_MAP_RESIZED || attempt > 0) {
            if (rc != 0)
                pthread_rwlock_unlock(&e->map_lock);
            return rc;
        }
        pthread_rwlock_unlock(&e->map_lock);
        pthread_rwlock_wrlock(&e->map_lock);
        mdb_env_set_mapsize(e->env, 0);
        pthread_rwlock_unlock(&e->map_lock);
    }
}

static int txn_commit(struct lmdb_env *e, MDB_txn *txn)
{
    int rc = mdb_txn_commit(txn);
    pthread_rwlock_unlock(&e->map_lock);
    return rc;
}

static void txn_abort(struct lmdb_env *e, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&e->map_lock);
}

static bool record_read(const MDB_val *v, struct record_head *head)
{
    if (v->mv_size < sizeof *head)
        return false;
    memcpy(head, v->mv_data, sizeof *head);
    return head->kind >= KIND_GCRA && head->kind <= KIND_VALUE;
}

static bool expired(const struct record_head *head, int64_t now_us)
{
    return head->expires_us != 0 && head->expires_us <= now_us;
}

/* Deletes the expired records among up to limit of one database from *from (updated: the
 * next key, or "" when the end was reached). Returns the MDB status. */
static int sweep_range(MDB_txn *txn, MDB_dbi dbi, unsigned char *from, size_t *from_len,
    size_t from_size, size_t limit, int64_t now_us, bool *reached_end)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    MDB_val k = {.mv_size = *from_len, .mv_data = from}, v;
    rc = *from_len > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
        : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    size_t seen = 0;
    while (rc == 0 && seen < limit) {
        struct record_head head;
        if (record_read(&v, &head) && expired(&head, now_us)) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
        }
        seen++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    *reached_end = rc == MDB_NOTFOUND;
    if (rc == 0 && k.mv_size <= from_size) {
        memcpy(from, k.mv_data, k.mv_size);
        *from_len = k.mv_size;
    } else {
        *from_len = 0;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A slice of the sweep, in a writer's transaction, at most once a second per process. */
static int sweep_slice(struct lmdb_env *e, MDB_txn *txn, int64_t now_us)
{
    if (pthread_mutex_trylock(&e->sweep_lock) != 0)
        return 0;
    int rc = 0;
    if (now_us >= e->next_sweep_us) {
        bool end = false;
        rc = sweep_range(txn, e->sweep_dbi == 0 ? e->decisions : e->records, e->sweep_from,
            &e->sweep_from_len, sizeof e->sweep_from, SWEEP_SLICE, now_us, &end);
        if (end)
            e->sweep_dbi = !e->sweep_dbi;
        e->next_sweep_us = now_us + SWEEP_EVERY_US;
    }
    pthread_mutex_unlock(&e->sweep_lock);
    return rc;
}

/* Every expired record, in one transaction of its own (the map is full). */
static int sweep_all(struct lmdb_env *e, int64_t now_us)
{
    MDB_txn *txn;
    int rc = txn_begin(e, 0, &txn);
    if (rc != 0)
        return rc;
    MDB_dbi dbis[2] = {e->decisions, e->records};
    for (int i = 0; i < 2 && rc == 0; i++) {
        unsigned char from[1];
        size_t from_len = 0;
        bool end;
        rc = sweep_range(txn, dbis[i], from, &from_len, 0, SIZE_MAX, now_us, &end);
    }
    if (rc != 0) {
        txn_abort(e, txn);
        return rc;
    }
    return txn_commit(e, txn);
}

/* Whether the records take more than max_size: pages used so far (the file's high-water
 * mark, which never goes down) less the pages on LMDB's free list (database 0, whose values
 * are lists of page numbers that start with their count). */
static bool over_bound(struct lmdb_env *e)
{
    MDB_envinfo info;
    if (mdb_env_info(e->env, &info) != 0)
        return false;
    size_t used = info.me_last_pgno + 1;
    if ((uint64_t)used * e->page_size <= e->max_size)
        return false;
    MDB_txn *txn;
    MDB_cursor *cur;
    if (txn_begin(e, MDB_RDONLY, &txn) != 0)
        return false;
    size_t free_pages = 0;
    if (mdb_cursor_open(txn, 0, &cur) == 0) {
        MDB_val k, v;
        while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
            size_t n = 0;
            if (v.mv_size >= sizeof n)
                memcpy(&n, v.mv_data, sizeof n);
            free_pages += n;
        }
        mdb_cursor_close(cur);
    }
    txn_abort(e, txn);
    size_t in_use = free_pages < used ? used - free_pages : 0;
    return (uint64_t)in_use * e->page_size > e->max_size;
}

/* Before a write: when the records take more than max_size, a sweep of everything (at most
 * once a second per process); false when still over. */
static bool room_to_write(struct lmdb_env *e, int64_t now_us)
{
    if (!over_bound(e))
        return true;
    pthread_mutex_lock(&e->sweep_lock);
    bool sweep = now_us >= e->next_full_sweep_us || now_us < e->next_full_sweep_us - 2000000;
    if (sweep)
        e->next_full_sweep_us = now_us + 1000000;
    pthread_mutex_unlock(&e->sweep_lock);
    if (sweep)
        sweep_all(e, now_us);
    return sweep && !over_bound(e);
}

/* What a writer does inside its transaction: an MDB status, or WRITE_REFUSED (err set:
 * the caller's mistake, "invalid: ..."). */
enum { WRITE_REFUSED = -1 };                  /* apart from MDB's codes and errno values */
typedef int (*write_fn)(struct lmdb_env *e, MDB_txn *txn, void *arg, int64_t now_us,
    char *err, size_t err_size);

static void describe_failure(const struct lmdb_store *l, int rc, char *err, size_t err_size)
{
    if (rc == MDB_MAP_FULL)
        snprintf(err, err_size, "%s is full (max_size %llu bytes reached, expired records "
            "swept): raise max_size, or shorten what the records are kept for", l->path,
            (unsigned long long)l->max_size);   /* the env's bound is its first store's */
    else
        snprintf(err, err_size, "%s: %s", l->path, mdb_strerror(rc));
}

/* After a commit: flushes the environment when the last flush is a second old (one writer
 * does it; the others go on). */
static void flush_now_and_then(struct lmdb_env *e)
{
    int64_t now = store_now_us();
    int64_t last = __atomic_load_n(&e->last_flush_us, __ATOMIC_RELAXED);
    if (now - last < 1000000 || !__atomic_compare_exchange_n(&e->last_flush_us, &last, now,
            false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    pthread_rwlock_rdlock(&e->map_lock);
    mdb_env_sync(e->env, 1);
    pthread_rwlock_unlock(&e->map_lock);
}

/* Runs fn in a write transaction: a sweep slice first, and when the map is full, a sweep of
 * everything and one more try. */
static bool in_write_txn(struct lmdb_store *l, write_fn fn, void *arg, char *err,
    size_t err_size)
{
    struct lmdb_env *e = store_env(l, err, err_size);
    if (e == NULL)
        return false;
    int64_t now_us = l->clock();
    int rc = room_to_write(e, now_us) ? 0 : MDB_MAP_FULL;
    for (int attempt = 0; attempt < 2 && rc == 0; attempt++) {
        MDB_txn *txn;
        rc = txn_begin(e, 0, &txn);
        if (rc != 0)
            break;
        rc = sweep_slice(e, txn, now_us);
        if (rc == 0)
            rc = fn(e, txn, arg, now_us, err, err_size);
        if (rc == WRITE_REFUSED) {
            txn_abort(e, txn);
            return false;
        }
        if (rc == 0)
            rc = txn_commit(e, txn);
        else
            txn_abort(e, txn);
        if (rc != MDB_MAP_FULL || attempt > 0)
            break;
        int swept = sweep_all(e, now_us);
        if (swept != 0 && swept != MDB_MAP_FULL) {
            rc = swept;
            break;
        }
        rc = 0;                                /* one more try after the sweep */
    }
    if (rc != 0)
        describe_failure(l, rc, err, err_size);
    else
        flush_now_and_then(e);
    return rc == 0;
}

/* The stored key of a decision: itself, or when longer than KEY_LIMIT, its first KEY_KEEP
 * bytes, "~" and the SHA-256 of the whole key in hex. */
static size_t decision_key(const char *key, char out[KEY_LIMIT + 1])
{
    size_t len = strlen(key);
    if (len <= KEY_LIMIT) {
        memcpy(out, key, len);
        return len;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    EVP_Digest(key, len, md, &md_len, EVP_sha256(), NULL);
    memcpy(out, key, KEY_KEEP);
    out[KEY_KEEP] = '~';
    size_t n = KEY_KEEP + 1;
    for (unsigned i = 0; i < md_len && n + 2 <= KEY_LIMIT; i++, n += 2)
        snprintf(out + n, 3, "%02x", md[i]);
    return n;
}

static int put_record(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, const struct record_head *head,
    const void *bytes, size_t len)
{
    MDB_val v = {.mv_size = sizeof *head + len, .mv_data = NULL};
    int rc = mdb_put(txn, dbi, k, &v, MDB_RESERVE);
    if (rc == 0) {
        memcpy(v.mv_data, head, sizeof *head);
        if (len > 0)
            memcpy((unsigned char *)v.mv_data + sizeof *head, bytes, len);
    }
    return rc;
}

/* The live record at k in dbi: 0 and *head, MDB_NOTFOUND (absent or expired), or an error. */
static int get_record(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, int64_t now_us,
    struct record_head *head, MDB_val *v)
{
    int rc = mdb_get(txn, dbi, k, v);
    if (rc == 0 && (!record_read(v, head) || expired(head, now_us)))
        rc = MDB_NOTFOUND;
    return rc;
}

static int64_t expiry_after(int64_t now_us, int64_t ttl_us)
{
    if (ttl_us <= 0)
        return 0;
    return ttl_us > INT64_MAX - now_us ? 0 : now_us + ttl_us;
}

struct gcra_call {
    const char *key;
    const struct gcra_limit *limit;
    int64_t cost;
    struct gcra_result *out;
};

static int gcra_in_txn(struct lmdb_env *e, MDB_txn *txn, void *arg, int64_t now_us, char *err,
    size_t err_size)
{
    struct gcra_call *c = arg;
    char kbuf[KEY_LIMIT + 1];
    MDB_val k = {.mv_size = decision_key(c->key, kbuf), .mv_data = kbuf}, v;
    struct record_head head;
    (void)err, (void)err_size;
    int rc = get_record(txn, e->decisions, &k, now_us, &head, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    bool have = rc == 0 && head.kind == KIND_GCRA;
    gcra_decide(c->limit, have, have ? head.number : 0, c->cost, now_us, c->out);
    if (!c->out->store || c->out->ttl_us <= 0)
        return 0;
    head = (struct record_head){.kind = KIND_GCRA, .number = c->out->new_tat_us,
        .expires_us = expiry_after(now_us, c->out->ttl_us)};
    return put_record(txn, e->decisions, &k, &head, NULL, 0);
}

static bool lmdb_gcra(void *impl, const char *key, const struct gcra_limit *limit, int64_t cost,
    int64_t now_us, struct gcra_result *out, char *err, size_t err_size)
{
    struct gcra_call c = {.key = key, .limit = limit, .cost = cost, .out = out};
    (void)now_us;                  /* the wall clock decides: records outlive a reboot */
    return in_write_txn(impl, gcra_in_txn, &c, err, err_size);
}

struct grey_call {
    const char *key;
    const struct grey_params *p;
    struct grey_result *out;
};

static int grey_in_txn(struct lmdb_env *e, MDB_txn *txn, void *arg, int64_t now_us, char *err,
    size_t err_size)
{
    struct grey_call *c = arg;
    char kbuf[KEY_LIMIT + 1];
    MDB_val k = {.mv_size = decision_key(c->key, kbuf), .mv_data = kbuf}, v;
    struct record_head head;
    (void)err, (void)err_size;
    int rc = get_record(txn, e->decisions, &k, now_us, &head, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    bool have = rc == 0 && head.kind == KIND_GREY;
    struct grey_record rec = {0};
    if (have) {
        rec.first_seen_us = head.number;
        rec.passed = head.passed != 0;
    }
    int64_t ttl_us;
    grey_decide(c->p, have, &rec, now_us, c->out, &ttl_us);
    head = (struct record_head){.kind = KIND_GREY, .passed = rec.passed,
        .number = rec.first_seen_us, .expires_us = expiry_after(now_us, ttl_us)};
    return put_record(txn, e->decisions, &k, &head, NULL, 0);
}

static bool lmdb_greylist(void *impl, const char *key, const struct grey_params *p,
    int64_t now_us, struct grey_result *out, char *err, size_t err_size)
{
    struct grey_call c = {.key = key, .p = p, .out = out};
    (void)now_us;
    return in_write_txn(impl, grey_in_txn, &c, err, err_size);
}

/* Generic records. */

static MDB_val generic_key(const char *key)
{
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    return k;
}

static int64_t ttl_expiry(int64_t now_us, uint64_t ttl_ms)
{
    if (ttl_ms == 0 || ttl_ms > (uint64_t)INT64_MAX / 1000)
        return 0;
    return expiry_after(now_us, (int64_t)ttl_ms * 1000);
}

/* Adds delta to the counter at key in the transaction: 0, an MDB error or WRITE_REFUSED. */
static int add_in_txn(struct lmdb_env *e, MDB_txn *txn, const char *key, int64_t delta,
    uint64_t ttl_ms, int64_t now_us, int64_t *value, char *err, size_t err_size)
{
    MDB_val k = generic_key(key), v;
    struct record_head head;
    int rc = get_record(txn, e->records, &k, now_us, &head, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (rc == 0 && head.kind != KIND_COUNTER) {
        snprintf(err, err_size, "invalid: a counter op on a key that holds a value");
        return WRITE_REFUSED;
    }
    if (rc != 0)
        head = (struct record_head){.kind = KIND_COUNTER};
    if (__builtin_add_overflow(head.number, delta, value)) {
        snprintf(err, err_size, "invalid: the counter would overflow");
        return WRITE_REFUSED;
    }
    head.number = *value;
    if (ttl_ms > 0)
        head.expires_us = ttl_expiry(now_us, ttl_ms);
    return put_record(txn, e->records, &k, &head, NULL, 0);
}

struct add_call {
    struct store_counter_change *changes;
    size_t count;
    uint64_t ttl_ms;
};

static int add_many_in_txn(struct lmdb_env *e, MDB_txn *txn, void *arg, int64_t now_us,
    char *err, size_t err_size)
{
    struct add_call *c = arg;
    int rc = 0;
    for (size_t i = 0; i < c->count && rc == 0; i++)
        rc = add_in_txn(e, txn, c->changes[i].key, c->changes[i].delta, c->ttl_ms, now_us,
            &c->changes[i].value, err, err_size);
    return rc;
}

static bool lmdb_counter_add(void *impl, const char *key, int64_t delta, uint64_t ttl_ms,
    int64_t now_us, int64_t *value, char *err, size_t err_size)
{
    struct store_counter_change change = {.key = key, .delta = delta};
    struct add_call c = {.changes = &change, .count = 1, .ttl_ms = ttl_ms};
    (void)now_us;
    bool ok = in_write_txn(impl, add_many_in_txn, &c, err, err_size);
    *value = change.value;
    return ok;
}

static bool lmdb_counter_add_many(void *impl, struct store_counter_change *changes,
    size_t count, uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size)
{
    struct add_call c = {.changes = changes, .count = count, .ttl_ms = ttl_ms};
    (void)now_us;
    return in_write_txn(impl, add_many_in_txn, &c, err, err_size);
}

struct set_call {
    const char *key;
    const void *value;
    size_t len;
    uint64_t ttl_ms;
};

static int set_in_txn(struct lmdb_env *e, MDB_txn *txn, void *arg, int64_t now_us, char *err,
    size_t err_size)
{
    struct set_call *c = arg;
    MDB_val k = generic_key(c->key), v;
    struct record_head head;
    int rc = get_record(txn, e->records, &k, now_us, &head, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (rc == 0 && head.kind != KIND_VALUE) {
        snprintf(err, err_size, "invalid: a value op on a key that holds a counter");
        return WRITE_REFUSED;
    }
    head = (struct record_head){.kind = KIND_VALUE, .expires_us = ttl_expiry(now_us, c->ttl_ms)};
    return put_record(txn, e->records, &k, &head, c->value, c->len);
}

static bool lmdb_value_set(void *impl, const char *key, const void *value, size_t len,
    uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size)
{
    struct set_call c = {.key = key, .value = value, .len = len, .ttl_ms = ttl_ms};
    (void)now_us;
    return in_write_txn(impl, set_in_txn, &c, err, err_size);
}

static int remove_in_txn(struct lmdb_env *e, MDB_txn *txn, void *arg, int64_t now_us,
    char *err, size_t err_size)
{
    MDB_val k = generic_key(arg);
    (void)now_us, (void)err, (void)err_size;
    int rc = mdb_del(txn, e->records, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static bool lmdb_remove(void *impl, const char *key, char *err, size_t err_size)
{
    return in_write_txn(impl, remove_in_txn, (void *)key, err, err_size);
}

struct update_call {
    const struct store_write *writes;
    size_t count;
};

/* Every write of the batch in the one write transaction: committed together or not at all. */
static int update_many_in_txn(struct lmdb_env *e, MDB_txn *txn, void *arg, int64_t now_us,
    char *err, size_t err_size)
{
    struct update_call *c = arg;
    int rc = 0;
    for (size_t i = 0; i < c->count && rc == 0; i++) {
        const struct store_write *w = &c->writes[i];
        int64_t value;
        if (w->kind == STORE_WRITE_COUNTER_ADD) {
            rc = add_in_txn(e, txn, w->key, w->delta, w->ttl_ms, now_us, &value, err, err_size);
        } else if (w->kind == STORE_WRITE_VALUE_SET) {
            struct set_call set = {.key = w->key, .value = w->value, .len = w->len,
                .ttl_ms = w->ttl_ms};
            rc = set_in_txn(e, txn, &set, now_us, err, err_size);
        } else {
            rc = remove_in_txn(e, txn, (void *)w->key, now_us, err, err_size);
        }
    }
    return rc;
}

static bool lmdb_update_many(void *impl, const struct store_write *writes, size_t count,
    int64_t now_us, char *err, size_t err_size)
{
    struct update_call c = {.writes = writes, .count = count};
    (void)now_us;
    return in_write_txn(impl, update_many_in_txn, &c, err, err_size);
}

/* The item of a stored generic record; false when it is not one. */
static bool item_of(const MDB_val *v, const struct record_head *head, struct store_item *out)
{
    size_t len = v->mv_size - sizeof *head;
    if (head->kind == KIND_COUNTER) {
        out->kind = STORE_ITEM_COUNTER;
        out->counter = head->number;
        out->value_len = 0;
        return true;
    }
    if (head->kind != KIND_VALUE || len > STORE_VALUE_MAX)
        return false;
    out->kind = STORE_ITEM_VALUE;
    out->counter = 0;
    out->value_len = len;
    if (len > 0)
        memcpy(out->value, (const unsigned char *)v->mv_data + sizeof *head, len);
    return true;
}

static bool lmdb_get(void *impl, const char *key, int64_t now_us, struct store_item *out,
    bool *found, char *err, size_t err_size)
{
    struct lmdb_store *l = impl;
    (void)now_us;
    struct lmdb_env *e = store_env(l, err, err_size);
    if (e == NULL)
        return false;
    MDB_txn *txn;
    int rc = txn_begin(e, MDB_RDONLY, &txn);
    if (rc != 0) {
        describe_failure(l, rc, err, err_size);
        return false;
    }
    MDB_val k = generic_key(key), v;
    struct record_head head;
    rc = get_record(txn, e->records, &k, l->clock(), &head, &v);
    *found = rc == 0 && item_of(&v, &head, out);
    txn_abort(e, txn);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        describe_failure(l, rc, err, err_size);
        return false;
    }
    return true;
}

/* A batch of a scan, copied out of the read transaction. */
struct scan_entry {
    char *key;
    struct store_item *item;
};

/* Copies up to SCAN_BATCH live records from *from on (after it when after_from) whose key
 * starts with prefix; *more says whether the scan goes on. */
static int scan_batch(struct lmdb_env *e, MDB_txn *txn, const char *prefix, char *from,
    bool after_from, int64_t now_us, struct scan_entry *batch, size_t *count, bool *more)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, e->records, &cur);
    if (rc != 0)
        return rc;
    size_t prefix_len = strlen(prefix);
    MDB_val k = {.mv_size = strlen(from), .mv_data = from}, v;
    rc = k.mv_size > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
        : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && after_from && k.mv_size == strlen(from) && memcmp(k.mv_data, from,
            k.mv_size) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    *count = 0;
    *more = false;
    while (rc == 0) {
        if (k.mv_size < prefix_len || memcmp(k.mv_data, prefix, prefix_len) != 0)
            break;                             /* sorted: past the prefix */
        if (*count == SCAN_BATCH) {
            *more = true;
            break;
        }
        struct record_head head;
        struct store_item item;
        if (record_read(&v, &head) && !expired(&head, now_us) && k.mv_size <= STORE_KEY_MAX
            && item_of(&v, &head, &item)) {
            struct scan_entry *s = &batch[(*count)++];
            s->key = xmalloc(k.mv_size + 1);
            memcpy(s->key, k.mv_data, k.mv_size);
            s->key[k.mv_size] = '\0';
            size_t item_size = offsetof(struct store_item, value) + item.value_len;
            s->item = xmalloc(item_size);
            memcpy(s->item, &item, item_size);
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static bool lmdb_scan(void *impl, const char *prefix, int64_t now_us, store_scan_fn fn,
    void *arg, char *err, size_t err_size)
{
    struct lmdb_store *l = impl;
    (void)now_us;
    struct lmdb_env *e = store_env(l, err, err_size);
    if (e == NULL)
        return false;
    struct scan_entry *batch = xcalloc(SCAN_BATCH, sizeof *batch);
    struct store_item *item = xmalloc(sizeof *item);
    char from[STORE_KEY_MAX + 1];
    snprintf(from, sizeof from, "%s", prefix);
    bool after_from = false, more = true, go_on = true;
    int rc = 0;
    while (more && go_on && rc == 0) {
        MDB_txn *txn;
        size_t count = 0;
        rc = txn_begin(e, MDB_RDONLY, &txn);
        if (rc != 0)
            break;
        rc = scan_batch(e, txn, prefix, from, after_from, l->clock(), batch, &count, &more);
        txn_abort(e, txn);                     /* no transaction while fn runs */
        for (size_t i = 0; i < count; i++) {
            if (go_on && rc == 0) {
                memcpy(item, batch[i].item, offsetof(struct store_item, value)
                    + batch[i].item->value_len);
                go_on = fn(arg, batch[i].key, item);
            }
            if (i + 1 == count)
                snprintf(from, sizeof from, "%s", batch[i].key);
            free(batch[i].key);
            free(batch[i].item);
        }
        after_from = true;
    }
    free(item);
    free(batch);
    if (rc != 0)
        describe_failure(l, rc, err, err_size);
    return rc == 0;
}

/* Whether the environment opens (mailwarden-ctl status, mailwarden -t). */
static bool lmdb_ping(void *impl, char *err, size_t err_size)
{
    return store_env(impl, err, err_size) != NULL;
}

const struct store_backend_ops store_lmdb_ops = {
    .name = "lmdb",
    .gcra = lmdb_gcra,
    .greylist = lmdb_greylist,
    .counter_add = lmdb_counter_add,
    .counter_add_many = lmdb_counter_add_many,
    .update_many = lmdb_update_many,
    .value_set = lmdb_value_set,
    .get = lmdb_get,
    .remove = lmdb_remove,
    .scan = lmdb_scan,
    .free = store_lmdb_free,
    .ping = lmdb_ping,
};
