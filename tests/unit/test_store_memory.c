/* test_store_memory.c - the embedded store and the store interface (fake clock): GCRA and
 * greylisting decisions kept per key; a flood of distinct keys never holds more than max_keys;
 * expired entries are evicted before live ones (a live counter survives a flood that a pure
 * LRU would have evicted it by); lowering max_keys shrinks it; threads hammering one key let
 * exactly the burst through (no lost updates); the shared embedded store is one per process;
 * a failing backend gives STORE_DOWN or the embedded store's decision, as the fail mode says. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store.h"

#define S 1000000LL

static struct gcra_limit limit(int64_t count, int64_t period_us, int64_t burst)
{
    struct gcra_limit l;
    const char *why;
    assert_true(gcra_limit_make(count, period_us, burst, &l, &why));
    return l;
}

static bool allowed(struct store *s, const char *key, const struct gcra_limit *l, int64_t now)
{
    struct gcra_result r;
    assert_int_equal(store_gcra(s, key, l, 1, now, &r, NULL), STORE_OK);
    return r.allowed;
}

static void test_gcra_per_key(void **state)
{
    (void)state;
    void *m = store_memory_new(10000);
    struct store *s = store_wrap(&store_memory_ops, m, "memory", STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(10, 60 * S, 3);
    int64_t now = 100 * S;
    for (int i = 0; i < 3; i++) {
        assert_true(allowed(s, "rl:a|alice", &l, now));
        assert_true(allowed(s, "rl:a|bob", &l, now));
    }
    assert_false(allowed(s, "rl:a|alice", &l, now));
    assert_false(allowed(s, "rl:a|bob", &l, now));
    assert_true(allowed(s, "rl:a|alice", &l, now + 6 * S));
    assert_false(allowed(s, "rl:a|alice", &l, now + 6 * S));
    assert_int_equal(store_memory_key_count(m), 2);
    /* once the burst has refilled the entry has expired: a full burst again, no more */
    for (int i = 0; i < 3; i++)
        assert_true(allowed(s, "rl:a|alice", &l, now + 1000 * S));
    assert_false(allowed(s, "rl:a|alice", &l, now + 1000 * S));
    assert_int_equal(store_memory_key_count(m), 2);
    store_free(s);
}

static void test_greylist(void **state)
{
    (void)state;
    struct store *s = store_wrap(&store_memory_ops, store_memory_new(10000), "memory",
        STORE_FAIL_TEMPFAIL);
    struct grey_params p = {.delay_us = 300 * S, .retry_window_us = 3600 * S,
        .remember_us = 30 * 86400 * S};
    struct grey_result r;
    int64_t now = 5000 * S;
    assert_int_equal(store_greylist(s, "gl:t1", &p, now, &r, NULL), STORE_OK);
    assert_int_equal(r.state, GREY_NEW);
    assert_int_equal(r.wait_us, 300 * S);
    store_greylist(s, "gl:t1", &p, now + 100 * S, &r, NULL);
    assert_int_equal(r.state, GREY_EARLY);
    assert_int_equal(r.wait_us, 200 * S);
    store_greylist(s, "gl:t1", &p, now + 300 * S, &r, NULL);
    assert_int_equal(r.state, GREY_PASSED);
    store_greylist(s, "gl:t1", &p, now + 20 * 86400 * S, &r, NULL);
    assert_int_equal(r.state, GREY_PASSED);       /* remembered, and refreshed */
    store_greylist(s, "gl:t1", &p, now + 45 * 86400 * S, &r, NULL);
    assert_int_equal(r.state, GREY_PASSED);
    /* a triplet never retried within the window is forgotten */
    store_greylist(s, "gl:t2", &p, now, &r, NULL);
    assert_int_equal(r.state, GREY_NEW);
    store_greylist(s, "gl:t2", &p, now + 3601 * S, &r, NULL);
    assert_int_equal(r.state, GREY_NEW);
    store_free(s);
}

/* 200 000 distinct keys into a store of 1000: never more than 1000 entries. */
static void test_flood_is_bounded(void **state)
{
    (void)state;
    void *m = store_memory_new(1000);
    struct store *s = store_wrap(&store_memory_ops, m, "memory", STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(1, 3600 * S, 5);
    char key[64];
    for (int i = 0; i < 200000; i++) {
        snprintf(key, sizeof key, "rl:flood|198.51.%d.%d", i / 256, i % 256);
        assert_true(allowed(s, key, &l, 10 * S + i));
        if (i % 10000 == 0)
            assert_true(store_memory_key_count(m) <= 1000);
    }
    assert_true(store_memory_key_count(m) <= 1000);
    assert_true(store_memory_key_count(m) >= 900);
    /* a lower bound on reload shrinks it at once */
    store_memory_set_max_keys(m, 1000 / 2);
    assert_true(store_memory_key_count(m) <= 500);
    store_free(s);
}

/* A live counter that is the least recently used survives a flood, because the flood's
 * entries that expired go first. */
static void test_expired_evicted_first(void **state)
{
    (void)state;
    void *m = store_memory_new(64000);
    struct store *s = store_wrap(&store_memory_ops, m, "memory", STORE_FAIL_TEMPFAIL);
    struct gcra_limit slow = limit(1, 3600 * S, 2);       /* lives an hour */
    struct gcra_limit fast = limit(1, S, 1);              /* expires after 1 s */
    int64_t t0 = 100 * S;
    assert_true(allowed(s, "rl:live|alice", &slow, t0));
    char key[64];
    for (int i = 0; i < 32000; i++) {
        snprintf(key, sizeof key, "rl:old|%d", i);
        assert_true(allowed(s, key, &fast, t0));
    }
    for (int i = 0; i < 48000; i++) {
        snprintf(key, sizeof key, "rl:new|%d", i);
        assert_true(allowed(s, key, &slow, t0 + 10 * S));
    }
    assert_int_equal(store_memory_key_count(m), 48001);
    /* alice's counter was kept: her second request passes, the third does not */
    assert_true(allowed(s, "rl:live|alice", &slow, t0 + 10 * S));
    assert_false(allowed(s, "rl:live|alice", &slow, t0 + 10 * S));
    store_free(s);
}

struct hammer {
    struct store *store;
    const struct gcra_limit *limit;
    int attempts;
    int passed;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->attempts; i++) {
        struct gcra_result r;
        if (store_gcra(h->store, "rl:hammer|one-key", h->limit, 1, store_now_us(), &r, NULL)
            == STORE_OK && r.allowed)
            h->passed++;
    }
    return NULL;
}

/* 8 threads x 20 000 attempts on one key with a burst of 5000 and a refill of one a day:
 * exactly 5000 pass. */
static void test_parallel_one_key(void **state)
{
    (void)state;
    struct store *s = store_wrap(&store_memory_ops, store_memory_new(1000), "memory",
        STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(1, 86400 * S, 5000);
    pthread_t threads[8];
    struct hammer h[8];
    for (int i = 0; i < 8; i++) {
        h[i] = (struct hammer){.store = s, .limit = &l, .attempts = 20000};
        assert_int_equal(pthread_create(&threads[i], NULL, hammer_thread, &h[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        total += h[i].passed;
    }
    assert_int_equal(total, 5000);
    store_free(s);
}

/* The process's embedded store is one store: counters follow it across policies. */
static void test_shared_is_process_wide(void **state)
{
    (void)state;
    struct store *a = store_memory_shared(10000);
    struct gcra_limit l = limit(1, 3600 * S, 1);
    assert_true(allowed(a, "rl:shared|x", &l, 7 * S));
    struct store_settings settings = {.backend = STORE_MEMORY, .max_keys = 20000};
    char why[128];
    struct store *b = store_open(&settings, why, sizeof why);
    assert_ptr_equal(a, b);
    assert_false(allowed(b, "rl:shared|x", &l, 7 * S));
    store_close_all();
}

/* A backend that always fails, as an unreachable Redis does. */
static int failing_calls;
static bool failing_gcra(void *impl, const char *key, const struct gcra_limit *limit,
    int64_t cost, int64_t now_us, struct gcra_result *out, char *err, size_t err_size)
{
    (void)impl, (void)key, (void)limit, (void)cost, (void)now_us, (void)out;
    failing_calls++;
    snprintf(err, err_size, "connection refused");
    return false;
}
static bool failing_greylist(void *impl, const char *key, const struct grey_params *p,
    int64_t now_us, struct grey_result *out, char *err, size_t err_size)
{
    (void)impl, (void)key, (void)p, (void)now_us, (void)out;
    failing_calls++;
    snprintf(err, err_size, "connection refused");
    return false;
}
static void failing_free(void *impl)
{
    (void)impl;
}
static const struct store_backend_ops failing_ops = {
    .name = "failing", .gcra = failing_gcra, .greylist = failing_greylist, .free = failing_free,
};

static void test_fail_modes(void **state)
{
    (void)state;
    struct gcra_limit l = limit(1, 3600 * S, 2);
    struct gcra_result r;
    struct grey_result g;
    struct grey_params p = {.delay_us = S, .retry_window_us = 10 * S, .remember_us = 100 * S};
    bool fell_back = true;
    struct store *down = store_wrap(&failing_ops, NULL, "failing", STORE_FAIL_TEMPFAIL);
    assert_int_equal(store_gcra(down, "rl:f|k", &l, 1, S, &r, &fell_back), STORE_DOWN);
    assert_false(fell_back);
    assert_int_equal(store_greylist(down, "gl:f", &p, S, &g, NULL), STORE_DOWN);
    struct store *fallback = store_wrap(&failing_ops, NULL, "failing", STORE_FAIL_MEMORY);
    assert_int_equal(store_gcra(fallback, "rl:f|k", &l, 1, S, &r, &fell_back), STORE_OK);
    assert_true(fell_back);
    assert_true(r.allowed);
    assert_int_equal(store_gcra(fallback, "rl:f|k", &l, 1, S, &r, NULL), STORE_OK);
    assert_true(r.allowed);
    assert_int_equal(store_gcra(fallback, "rl:f|k", &l, 1, S, &r, NULL), STORE_OK);
    assert_false(r.allowed);                       /* the embedded store counts */
    assert_int_equal(store_greylist(fallback, "gl:f", &p, S, &g, &fell_back), STORE_OK);
    assert_int_equal(g.state, GREY_NEW);
    assert_int_equal(failing_calls, 6);            /* the backend is tried every time */
    store_free(down);
    store_free(fallback);
    store_close_all();
}

int main(void)
{
    log_open("test_store_memory", LOG_MAIL, false, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcra_per_key),
        cmocka_unit_test(test_greylist),
        cmocka_unit_test(test_flood_is_bounded),
        cmocka_unit_test(test_expired_evicted_first),
        cmocka_unit_test(test_parallel_one_key),
        cmocka_unit_test(test_shared_is_process_wide),
        cmocka_unit_test(test_fail_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
