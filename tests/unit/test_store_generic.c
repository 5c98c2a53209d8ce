/* test_store_generic.c - the generic records of store.h (counters, values, delete, prefix
 * scan, batches of counter adds), the same tests on every backend: the memory store, the
 * LMDB store in a temporary directory, a real redis-server. Each backend must give the same
 * transcript for the same sequence of ops (test_same_transcript compares it with one text),
 * sums must be exact under threads, a batch is all or nothing, a key of the other kind or an
 * overflow is STORE_INVALID and changes nothing, and a scan may be followed (or accompanied)
 * by deleting what it saw. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "redis_fixture.h"
#include "store.h"

/* A backend under test: its group setup and teardown, and a fresh empty store per test. */
struct test_backend {
    const char *name;
    int (*setup)(void **state);
    int (*teardown)(void **state);
    struct store *(*open)(struct test_backend *b);
    void (*close)(struct test_backend *b, struct store *s);
};

static struct store *memory_open(struct test_backend *b)
{
    (void)b;
    return store_wrap(&store_memory_ops, store_memory_new(100000), "memory",
        STORE_FAIL_TEMPFAIL);
}

static void plain_close(struct test_backend *b, struct store *s)
{
    (void)b;
    store_free(s);
}

/* redis: one server for the group, emptied before each test. */
static pid_t redis_pid;
static int redis_port;
static char redis_dir[] = "/tmp/mw-test-generic.XXXXXX";
static bool have_redis;

static int redis_setup(void **state)
{
    (void)state;
    have_redis = redis_fixture_installed(false);
    if (!have_redis)
        return 0;
    if (!redis_fixture_make_dir(redis_dir))
        return -1;
    redis_port = redis_fixture_free_port();
    if (redis_port <= 0)
        return -1;
    redis_pid = redis_fixture_start(redis_port, redis_dir, NULL);
    return redis_fixture_wait(redis_port, 5000) ? 0 : -1;
}

static int redis_teardown(void **state)
{
    (void)state;
    redis_fixture_stop(&redis_pid);
    if (have_redis && !redis_fixture_remove_dir(redis_dir))
        return -1;
    return 0;
}

static struct store *redis_open(struct test_backend *b)
{
    (void)b;
    if (!have_redis)
        return NULL;
    redisContext *c = redis_fixture_connect(redis_port, 1000);
    assert_non_null(c);
    redisReply *reply = redisCommand(c, "FLUSHALL");
    assert_non_null(reply);
    freeReplyObject(reply);
    redisFree(c);
    static char host[] = "127.0.0.1", prefix[] = "mw:";
    struct store_settings st = {
        .backend = STORE_REDIS, .max_keys = 10000, .fail_mode = STORE_FAIL_TEMPFAIL,
        .redis_host = host, .redis_port = redis_port, .redis_prefix = prefix,
        .connect_timeout_ms = 2000, .command_timeout_ms = 2000, .retry_interval_ms = 300,
        .pool_size = 4,
    };
    return store_wrap(&store_redis_ops, store_redis_new(&st), "redis test",
        STORE_FAIL_TEMPFAIL);
}

/* lmdb: a fresh directory per test, removed after it. */
static char lmdb_dir[4096];

static struct store *lmdb_open(struct test_backend *b)
{
    (void)b;
    char template[] = "/tmp/mw-test-lmdb.XXXXXX";
    assert_non_null(mkdtemp(template));
    snprintf(lmdb_dir, sizeof lmdb_dir, "%s/store", template);   /* made by the store */
    struct store_settings st = {.backend = STORE_LMDB, .lmdb_path = lmdb_dir,
        .lmdb_max_size = 64 * 1024 * 1024, .fail_mode = STORE_FAIL_TEMPFAIL};
    char why[300];
    void *impl = store_lmdb_new(&st, why, sizeof why);
    assert_non_null(impl);
    return store_wrap(&store_lmdb_ops, impl, "lmdb test", STORE_FAIL_TEMPFAIL);
}

static void lmdb_close(struct test_backend *b, struct store *s)
{
    (void)b;
    store_free(s);
    char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", lmdb_dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof path, "%s/lock.mdb", lmdb_dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(lmdb_dir), 0);
    *strrchr(lmdb_dir, '/') = '\0';
    assert_int_equal(rmdir(lmdb_dir), 0);
}

static struct test_backend test_backends[] = {
    {"memory", NULL, NULL, memory_open, plain_close},
    {"lmdb", NULL, NULL, lmdb_open, lmdb_close},
    {"redis", redis_setup, redis_teardown, redis_open, plain_close},
};
static const size_t test_backend_count = sizeof test_backends / sizeof test_backends[0];

static struct test_backend *current_backend;

static struct store *open_store(void **state)
{
    (void)state;
    struct test_backend *b = current_backend;
    struct store *s = b->open(b);
    if (s == NULL)
        skip();                                       /* redis-server is not installed */
    return s;
}

static void close_store(void **state, struct store *s)
{
    (void)state;
    current_backend->close(current_backend, s);
}

static void test_counter_add_and_get(void **state)
{
    struct store *s = open_store(state);
    int64_t v = -1;
    struct store_item item;
    bool found = true;
    assert_int_equal(store_get(s, "t:c", &item, &found, NULL), STORE_OK);
    assert_false(found);
    assert_int_equal(store_counter_add(s, "t:c", 5, 0, &v, NULL), STORE_OK);
    assert_int_equal(v, 5);
    assert_int_equal(store_counter_add(s, "t:c", -7, 0, &v, NULL), STORE_OK);
    assert_int_equal(v, -2);
    assert_int_equal(store_counter_add(s, "t:c", 0, 0, &v, NULL), STORE_OK);
    assert_int_equal(v, -2);
    assert_int_equal(store_get(s, "t:c", &item, &found, NULL), STORE_OK);
    assert_true(found);
    assert_int_equal(item.kind, STORE_ITEM_COUNTER);
    assert_int_equal(item.counter, -2);
    close_store(state, s);
}

static void test_counter_overflow_is_invalid(void **state)
{
    struct store *s = open_store(state);
    int64_t v = 0;
    assert_int_equal(store_counter_add(s, "t:big", INT64_MAX - 1, 0, &v, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "t:big", 2, 0, &v, NULL), STORE_INVALID);
    assert_int_equal(store_counter_add(s, "t:big", 1, 0, &v, NULL), STORE_OK);
    assert_true(v == INT64_MAX);
    close_store(state, s);
}

static void test_value_set_get_binary(void **state)
{
    struct store *s = open_store(state);
    unsigned char big[STORE_VALUE_MAX];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7);
    big[10] = 0;
    struct store_item item;
    bool found = false;
    assert_int_equal(store_value_set(s, "t:v", big, sizeof big, 0, NULL), STORE_OK);
    assert_int_equal(store_get(s, "t:v", &item, &found, NULL), STORE_OK);
    assert_true(found);
    assert_int_equal(item.kind, STORE_ITEM_VALUE);
    assert_int_equal(item.value_len, sizeof big);
    assert_memory_equal(item.value, big, sizeof big);
    /* overwritten by a shorter one, then an empty one */
    assert_int_equal(store_value_set(s, "t:v", "ab\0c", 4, 0, NULL), STORE_OK);
    assert_int_equal(store_get(s, "t:v", &item, &found, NULL), STORE_OK);
    assert_int_equal(item.value_len, 4);
    assert_memory_equal(item.value, "ab\0c", 4);
    assert_int_equal(store_value_set(s, "t:v", NULL, 0, 0, NULL), STORE_OK);
    assert_int_equal(store_get(s, "t:v", &item, &found, NULL), STORE_OK);
    assert_true(found);
    assert_int_equal(item.kind, STORE_ITEM_VALUE);
    assert_int_equal(item.value_len, 0);
    close_store(state, s);
}

static void test_bounds_are_invalid(void **state)
{
    struct store *s = open_store(state);
    static unsigned char too_big[STORE_VALUE_MAX + 1];
    char long_key[STORE_KEY_MAX + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    struct store_item item;
    bool found;
    assert_int_equal(store_value_set(s, "t:v", too_big, sizeof too_big, 0, NULL), STORE_INVALID);
    assert_int_equal(store_counter_add(s, "", 1, 0, NULL, NULL), STORE_INVALID);
    assert_int_equal(store_counter_add(s, long_key, 1, 0, NULL, NULL), STORE_INVALID);
    long_key[STORE_KEY_MAX] = '\0';                  /* exactly STORE_KEY_MAX: fine */
    assert_int_equal(store_counter_add(s, long_key, 1, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_get(s, long_key, &item, &found, NULL), STORE_OK);
    assert_true(found);
    assert_int_equal(store_get(s, "t:v", &item, &found, NULL), STORE_OK);
    assert_false(found);
    close_store(state, s);
}

static void test_wrong_kind_is_invalid(void **state)
{
    struct store *s = open_store(state);
    struct store_item item;
    bool found;
    assert_int_equal(store_value_set(s, "t:val", "x", 1, 0, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "t:cnt", 1, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "t:val", 1, 0, NULL, NULL), STORE_INVALID);
    assert_int_equal(store_value_set(s, "t:cnt", "y", 1, 0, NULL), STORE_INVALID);
    assert_int_equal(store_get(s, "t:val", &item, &found, NULL), STORE_OK);
    assert_int_equal(item.kind, STORE_ITEM_VALUE);
    assert_memory_equal(item.value, "x", 1);
    assert_int_equal(store_get(s, "t:cnt", &item, &found, NULL), STORE_OK);
    assert_int_equal(item.kind, STORE_ITEM_COUNTER);
    assert_int_equal(item.counter, 1);
    close_store(state, s);
}

static void test_delete(void **state)
{
    struct store *s = open_store(state);
    struct store_item item;
    bool found;
    assert_int_equal(store_value_set(s, "t:d1", "x", 1, 0, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "t:d2", 3, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_delete(s, "t:d1", NULL), STORE_OK);
    assert_int_equal(store_delete(s, "t:d2", NULL), STORE_OK);
    assert_int_equal(store_delete(s, "t:never", NULL), STORE_OK);
    assert_int_equal(store_get(s, "t:d1", &item, &found, NULL), STORE_OK);
    assert_false(found);
    assert_int_equal(store_get(s, "t:d2", &item, &found, NULL), STORE_OK);
    assert_false(found);
    int64_t v;
    assert_int_equal(store_counter_add(s, "t:d2", 1, 0, &v, NULL), STORE_OK);
    assert_int_equal(v, 1);                           /* a deleted counter starts again */
    close_store(state, s);
}

/* What a scan saw: keys and counters summed, in a fixed-size list. */
struct seen {
    char keys[600][64];
    int64_t sum;
    size_t count;
    struct store *delete_from;                        /* non-NULL: delete each key as seen */
    size_t stop_after;                                /* 0: never stop */
};

static bool remember(void *arg, const char *key, const struct store_item *item)
{
    struct seen *seen = arg;
    assert_true(seen->count < 600);
    snprintf(seen->keys[seen->count++], sizeof seen->keys[0], "%s", key);
    if (item->kind == STORE_ITEM_COUNTER)
        seen->sum += item->counter;
    if (seen->delete_from != NULL)
        assert_int_equal(store_delete(seen->delete_from, key, NULL), STORE_OK);
    return seen->stop_after == 0 || seen->count < seen->stop_after;
}

static bool seen_has(const struct seen *seen, const char *key)
{
    size_t hits = 0;
    for (size_t i = 0; i < seen->count; i++)
        hits += strcmp(seen->keys[i], key) == 0;
    assert_true(hits <= 1);                           /* each key once */
    return hits == 1;
}

static void test_scan_prefix(void **state)
{
    struct store *s = open_store(state);
    char key[64];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "scan:a:%03d", i);
        assert_int_equal(store_counter_add(s, key, i, 0, NULL, NULL), STORE_OK);
    }
    assert_int_equal(store_value_set(s, "scan:b:1", "v", 1, 0, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "scan:", 1, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "scan*a:000", 1, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "other", 1, 0, NULL, NULL), STORE_OK);
    struct gcra_limit l = {.emission_us = 1000000, .burst = 5};
    struct gcra_result r;
    assert_int_equal(store_gcra(s, "scan:a:rl", &l, 1, store_now_us(), &r, NULL), STORE_OK);
    struct seen *seen = calloc(1, sizeof *seen);
    assert_int_equal(store_scan(s, "scan:a:", remember, seen, NULL), STORE_OK);
    assert_int_equal(seen->count, 500);
    assert_int_equal(seen->sum, 499 * 500 / 2);
    assert_true(seen_has(seen, "scan:a:000"));
    assert_true(seen_has(seen, "scan:a:499"));
    assert_false(seen_has(seen, "scan*a:000"));      /* a glob character is a character */
    assert_false(seen_has(seen, "scan:a:rl"));       /* never a GCRA record */
    memset(seen, 0, sizeof *seen);
    assert_int_equal(store_scan(s, "scan:", remember, seen, NULL), STORE_OK);
    assert_int_equal(seen->count, 502);
    assert_true(seen_has(seen, "scan:"));
    assert_true(seen_has(seen, "scan:b:1"));
    memset(seen, 0, sizeof *seen);
    seen->stop_after = 3;
    assert_int_equal(store_scan(s, "scan:a:", remember, seen, NULL), STORE_OK);
    assert_int_equal(seen->count, 3);
    free(seen);
    close_store(state, s);
}

static void test_scan_then_delete(void **state)
{
    struct store *s = open_store(state);
    char key[64];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "sd:%d", i);
        assert_int_equal(store_counter_add(s, key, 1, 0, NULL, NULL), STORE_OK);
    }
    assert_int_equal(store_counter_add(s, "keep:1", 1, 0, NULL, NULL), STORE_OK);
    /* deleting in the callback */
    struct seen *seen = calloc(1, sizeof *seen);
    seen->delete_from = s;
    assert_int_equal(store_scan(s, "sd:", remember, seen, NULL), STORE_OK);
    assert_int_equal(seen->count, 300);
    memset(seen, 0, sizeof *seen);
    assert_int_equal(store_scan(s, "sd:", remember, seen, NULL), STORE_OK);
    assert_int_equal(seen->count, 0);
    /* and after the scan, from what it saw */
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "sd:%d", i);
        assert_int_equal(store_counter_add(s, key, 2, 0, NULL, NULL), STORE_OK);
    }
    assert_int_equal(store_scan(s, "sd:", remember, seen, NULL), STORE_OK);
    assert_int_equal(seen->count, 300);
    assert_int_equal(seen->sum, 600);
    for (size_t i = 0; i < seen->count; i++)
        assert_int_equal(store_delete(s, seen->keys[i], NULL), STORE_OK);
    memset(seen, 0, sizeof *seen);
    assert_int_equal(store_scan(s, "", remember, seen, NULL), STORE_OK);
    assert_int_equal(seen->count, 1);
    assert_true(seen_has(seen, "keep:1"));
    free(seen);
    close_store(state, s);
}

static void test_batch_add(void **state)
{
    struct store *s = open_store(state);
    struct store_counter_change c[4] = {
        {.key = "b:one", .delta = 1}, {.key = "b:two", .delta = 2},
        {.key = "b:one", .delta = 10}, {.key = "b:three", .delta = -3},
    };
    assert_int_equal(store_counter_add_many(s, c, 4, 0, NULL), STORE_OK);
    assert_int_equal(c[0].value, 1);
    assert_int_equal(c[1].value, 2);
    assert_int_equal(c[2].value, 11);                 /* the same key twice: both count */
    assert_int_equal(c[3].value, -3);
    assert_int_equal(store_counter_add_many(s, c, 4, 0, NULL), STORE_OK);
    assert_int_equal(c[2].value, 22);
    /* one key of the other kind: nothing of the batch happens */
    assert_int_equal(store_value_set(s, "b:val", "x", 1, 0, NULL), STORE_OK);
    struct store_counter_change bad[3] = {
        {.key = "b:one", .delta = 100}, {.key = "b:val", .delta = 1}, {.key = "b:new", .delta = 1},
    };
    assert_int_equal(store_counter_add_many(s, bad, 3, 0, NULL), STORE_INVALID);
    struct store_item item;
    bool found;
    assert_int_equal(store_get(s, "b:one", &item, &found, NULL), STORE_OK);
    assert_int_equal(item.counter, 22);
    assert_int_equal(store_get(s, "b:new", &item, &found, NULL), STORE_OK);
    assert_false(found);
    close_store(state, s);
}

struct hammer {
    struct store *s;
    int rounds;
    bool ok;
};

static void *hammer_counter(void *arg)
{
    struct hammer *h = arg;
    h->ok = true;
    for (int i = 0; i < h->rounds && h->ok; i++) {
        struct store_counter_change c[2] = {{.key = "h:batch1", .delta = 1},
            {.key = "h:batch2", .delta = 2}};
        h->ok = store_counter_add(h->s, "h:one", 1, 0, NULL, NULL) == STORE_OK
            && store_counter_add_many(h->s, c, 2, 0, NULL) == STORE_OK
            && c[1].value == 2 * c[0].value;        /* both of a batch, or neither */
    }
    return NULL;
}

static void test_counter_atomic_under_threads(void **state)
{
    struct store *s = open_store(state);
    enum { THREADS = 4, ROUNDS = 1000 };
    pthread_t t[THREADS];
    struct hammer h[THREADS];
    for (int i = 0; i < THREADS; i++) {
        h[i] = (struct hammer){.s = s, .rounds = ROUNDS};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_counter, &h[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_true(h[i].ok);
    }
    struct store_item item;
    bool found;
    assert_int_equal(store_get(s, "h:one", &item, &found, NULL), STORE_OK);
    assert_int_equal(item.counter, THREADS * ROUNDS);
    assert_int_equal(store_get(s, "h:batch1", &item, &found, NULL), STORE_OK);
    assert_int_equal(item.counter, THREADS * ROUNDS);
    assert_int_equal(store_get(s, "h:batch2", &item, &found, NULL), STORE_OK);
    assert_int_equal(item.counter, 2 * THREADS * ROUNDS);
    close_store(state, s);
}

static bool present(struct store *s, const char *key)
{
    struct store_item item;
    bool found = false;
    assert_int_equal(store_get(s, key, &item, &found, NULL), STORE_OK);
    return found;
}

/* Polls (every 20 ms, up to 20 s) until key is absent. */
static bool expires(struct store *s, const char *key)
{
    for (int i = 0; i < 1000; i++) {
        if (!present(s, key))
            return true;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static bool count_one(void *arg, const char *key, const struct store_item *item)
{
    (void)key, (void)item;
    ++*(int *)arg;
    return true;
}

/* A TTL makes a key absent once it has passed (polled, not timed); a counter add with ttl 0
 * keeps the expiry the key has; an expired counter starts again from 0; a scan never shows an
 * expired key. */
static void test_ttl(void **state)
{
    struct store *s = open_store(state);
    assert_int_equal(store_counter_add(s, "ttl:a", 1, 1, NULL, NULL), STORE_OK);
    assert_int_equal(store_value_set(s, "ttl:b", "x", 1, 1, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "ttl:c", 1, 600000, NULL, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "ttl:d", 1, 3000, NULL, NULL), STORE_OK);
    assert_int_equal(store_counter_add(s, "ttl:d", 1, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_value_set(s, "ttl:e", "y", 1, 0, NULL), STORE_OK);
    assert_true(expires(s, "ttl:a"));
    assert_true(expires(s, "ttl:b"));
    assert_true(expires(s, "ttl:d"));                /* the second add kept its expiry */
    assert_true(present(s, "ttl:c"));
    assert_true(present(s, "ttl:e"));
    int n = 0;
    assert_int_equal(store_scan(s, "ttl:", count_one, &n, NULL), STORE_OK);
    assert_int_equal(n, 2);
    int64_t v;
    assert_int_equal(store_counter_add(s, "ttl:a", 5, 0, &v, NULL), STORE_OK);
    assert_int_equal(v, 5);
    close_store(state, s);
}

/* Appends what an op gave to the transcript. */
static void note(char *out, size_t size, const char *fmt, ...)
{
    size_t used = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + used, size - used, fmt, ap);
    va_end(ap);
}

static bool note_item(void *arg, const char *key, const struct store_item *item)
{
    char *out = arg;
    if (item->kind == STORE_ITEM_COUNTER)
        note(out, 4096, "{%s=%lld}", key, (long long)item->counter);
    else
        note(out, 4096, "{%s=\"%.*s\"}", key, (int)item->value_len, (const char *)item->value);
    return true;
}

static bool count_item(void *arg, const char *key, const struct store_item *item)
{
    (void)key, (void)item;
    ++*(int *)arg;
    return true;
}

/* The same sequence of ops on every backend must give this transcript. The scan is on one
 * key only, as the backends promise no order. */
static void test_same_transcript(void **state)
{
    struct store *s = open_store(state);
    char out[4096] = "";
    int64_t v;
    struct store_item item;
    bool found;
    enum store_status st;
    st = store_counter_add(s, "x:a", 3, 0, &v, NULL);
    note(out, sizeof out, "add %d %lld;", st, (long long)v);
    st = store_counter_add(s, "x:a", -1, 60000, &v, NULL);
    note(out, sizeof out, "add %d %lld;", st, (long long)v);
    st = store_value_set(s, "x:b", "hello", 5, 0, NULL);
    note(out, sizeof out, "set %d;", st);
    st = store_get(s, "x:b", &item, &found, NULL);
    note(out, sizeof out, "get %d %d %d %.*s;", st, found, item.kind, (int)item.value_len,
        (const char *)item.value);
    st = store_counter_add(s, "x:b", 1, 0, &v, NULL);
    note(out, sizeof out, "add-on-value %d;", st);
    struct store_counter_change c[2] = {{.key = "x:a", .delta = 5}, {.key = "x:c", .delta = 7}};
    st = store_counter_add_many(s, c, 2, 0, NULL);
    note(out, sizeof out, "many %d %lld %lld;", st, (long long)c[0].value, (long long)c[1].value);
    st = store_scan(s, "x:c", note_item, out, NULL);
    note(out, sizeof out, "scan %d;", st);
    st = store_scan(s, "x:b", note_item, out, NULL);
    note(out, sizeof out, "scan %d;", st);
    st = store_delete(s, "x:a", NULL);
    note(out, sizeof out, "del %d;", st);
    st = store_get(s, "x:a", &item, &found, NULL);
    note(out, sizeof out, "get %d %d;", st, found);
    int n = 0;
    st = store_scan(s, "x:", count_item, &n, NULL);
    note(out, sizeof out, "scan %d %d;", st, n);
    assert_string_equal(out, "add 0 3;add 0 2;set 0;get 0 1 2 hello;add-on-value 2;"
        "many 0 7 7;{x:c=7}scan 0;{x:b=\"hello\"}scan 0;del 0;get 0 0;scan 0 2;");
    close_store(state, s);
}

int main(void)
{
    log_open("test_store_generic", LOG_MAIL, false, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_add_and_get),
        cmocka_unit_test(test_counter_overflow_is_invalid),
        cmocka_unit_test(test_value_set_get_binary),
        cmocka_unit_test(test_bounds_are_invalid),
        cmocka_unit_test(test_wrong_kind_is_invalid),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_scan_prefix),
        cmocka_unit_test(test_scan_then_delete),
        cmocka_unit_test(test_batch_add),
        cmocka_unit_test(test_counter_atomic_under_threads),
        cmocka_unit_test(test_same_transcript),
        cmocka_unit_test(test_ttl),
    };
    int failed = 0;
    for (size_t i = 0; i < test_backend_count; i++) {
        current_backend = &test_backends[i];
        failed += _cmocka_run_group_tests(current_backend->name, tests,
            sizeof tests / sizeof tests[0], current_backend->setup, current_backend->teardown);
    }
    return failed;
}
