/* test_store_lmdb.c - the store on disk (store_lmdb.c), in temporary directories: rate limits,
 * greylisting and generic records survive closing and opening again (a restart); two stores
 * of one directory in one process share one environment; a forked child writes while its
 * parent writes and reads; threads on one key let exactly the burst through; expired records
 * are absent and swept away; a full map is a failure (STORE_DOWN, or the fallback), never a
 * pass, with an error naming the path and max_size; long greylisting keys stay distinct;
 * the directory is made 0750, and a path that cannot be one is an error naming it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define S 1000000LL
#define MB (1024 * 1024)

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

static char base[] = "/tmp/mw-test-lmdb.XXXXXX";
static char dir[4200];

static int setup(void **state)
{
    (void)state;
    fake_now = 1700000000 * S;
    if (mkdtemp(base) == NULL)
        return -1;
    snprintf(dir, sizeof dir, "%s/store", base);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close_all();
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

/* Each test starts with no directory. */
static int empty_dir(void **state)
{
    (void)state;
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_at(const char *path, uint64_t max_size, enum store_fail_mode mode,
    void **impl_out)
{
    struct store_settings st = {.backend = STORE_LMDB, .lmdb_path = (char *)path,
        .lmdb_max_size = max_size, .fail_mode = mode};
    char why[300];
    void *impl = store_lmdb_new(&st, why, sizeof why);
    assert_non_null(impl);
    store_lmdb_set_clock(impl, fake_clock);
    if (impl_out != NULL)
        *impl_out = impl;
    return store_wrap(&store_lmdb_ops, impl, "lmdb test", mode);
}

static struct store *open_store(void)
{
    return open_at(dir, 16 * MB, STORE_FAIL_TEMPFAIL, NULL);
}

/* How many times this process maps the directory's data.mdb (one per open environment). */
static int mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[8192], want[4300];
    snprintf(want, sizeof want, "%s/data.mdb", dir);
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, want) != NULL;
    fclose(f);
    return n;
}

static struct gcra_limit limit(int64_t count, int64_t period_us, int64_t burst)
{
    struct gcra_limit l;
    const char *why;
    assert_true(gcra_limit_make(count, period_us, burst, &l, &why));
    return l;
}

static int decide(struct store *s, const char *key, const struct gcra_limit *l)
{
    struct gcra_result r;
    if (store_gcra(s, key, l, 1, 0, &r, NULL) != STORE_OK)
        return -1;
    return r.allowed ? 1 : 0;
}

static int64_t counter(struct store *s, const char *key)
{
    struct store_item item;
    bool found = false;
    assert_int_equal(store_get(s, key, &item, &found, NULL), STORE_OK);
    assert_true(found);
    assert_int_equal(item.kind, STORE_ITEM_COUNTER);
    return item.counter;
}

static void test_survives_restart(void **state)
{
    (void)state;
    struct gcra_limit l = limit(1, 3600 * S, 3);
    struct grey_params p = {.delay_us = 300 * S, .retry_window_us = 86400 * S,
        .remember_us = 30 * 86400 * S};
    struct grey_result g;
    struct store *s = open_store();
    for (int i = 0; i < 3; i++)
        assert_int_equal(decide(s, "rl:restart|k", &l), 1);
    assert_int_equal(decide(s, "rl:restart|k", &l), 0);
    assert_int_equal(store_greylist(s, "gl:restart", &p, 0, &g, NULL), STORE_OK);
    assert_int_equal(g.state, GREY_NEW);
    assert_int_equal(store_counter_add(s, "dmarc:r", 41, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_value_set(s, "dmarc:v", "kept", 4, 0, NULL), STORE_OK);
    assert_int_equal(mappings(), 1);
    store_free(s);
    assert_int_equal(mappings(), 0);                /* closed: what follows reads the disk */
    fake_now += 600 * S;
    s = open_store();
    assert_int_equal(decide(s, "rl:restart|k", &l), 0);            /* still limited */
    assert_int_equal(store_greylist(s, "gl:restart", &p, 0, &g, NULL), STORE_OK);
    assert_int_equal(g.state, GREY_PASSED);         /* the retry after the delay passes */
    assert_int_equal(counter(s, "dmarc:r"), 41);
    struct store_item item;
    bool found;
    assert_int_equal(store_get(s, "dmarc:v", &item, &found, NULL), STORE_OK);
    assert_true(found);
    assert_int_equal(item.value_len, 4);
    assert_memory_equal(item.value, "kept", 4);
    fake_now += 3600 * S;                           /* one refilled */
    assert_int_equal(decide(s, "rl:restart|k", &l), 1);
    assert_int_equal(decide(s, "rl:restart|k", &l), 0);
    store_free(s);
}

/* LMDB forbids opening one environment twice in a process: two stores of the directory (one
 * named with a trailing slash) share it, and the first closed leaves the other working. */
static void test_two_openers_one_process(void **state)
{
    (void)state;
    struct store *a = open_store();
    char other_name[4300];
    snprintf(other_name, sizeof other_name, "%s/", dir);
    assert_int_equal(store_counter_add(a, "t:shared", 1, 0, NULL, NULL), STORE_OK);
    struct store *b = open_at(other_name, 16 * MB, STORE_FAIL_TEMPFAIL, NULL);
    assert_int_equal(store_counter_add(b, "t:shared", 1, 0, NULL, NULL), STORE_OK);
    assert_int_equal(mappings(), 1);
    assert_int_equal(counter(a, "t:shared"), 2);
    store_free(a);
    assert_int_equal(store_counter_add(b, "t:shared", 1, 0, NULL, NULL), STORE_OK);
    assert_int_equal(counter(b, "t:shared"), 3);
    assert_int_equal(mappings(), 1);
    store_free(b);
    assert_int_equal(mappings(), 0);
}

/* A forked child uses the parent's store object: it must open the environment again (LMDB
 * forbids using a parent's), and both processes' adds count, while the parent reads. */
static void test_forked_child_writes_parent_reads(void **state)
{
    (void)state;
    enum { CHILD_ADDS = 2000 };
    struct store *s = open_store();
    assert_int_equal(store_counter_add(s, "t:fork", 0, 0, NULL, NULL), STORE_OK);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        bool ok = true;
        for (int i = 0; i < CHILD_ADDS && ok; i++)
            ok = store_counter_add(s, "t:fork", 1, 0, NULL, NULL) == STORE_OK;
        ok = ok && store_value_set(s, "t:child", "done", 4, 0, NULL) == STORE_OK;
        /* its own environment beside the parent's, which it inherited and never uses */
        _exit(!ok ? 1 : mappings() != 2 ? 2 : 0);
    }
    int parent_adds = 0, status = 0;
    int64_t last = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        assert_int_equal(store_counter_add(s, "t:fork", 1, 0, NULL, NULL), STORE_OK);
        parent_adds++;
        int64_t now = counter(s, "t:fork");
        assert_true(now >= last);                    /* reads see a growing sum */
        last = now;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(counter(s, "t:fork"), CHILD_ADDS + parent_adds);
    struct store_item item;
    bool found;
    assert_int_equal(store_get(s, "t:child", &item, &found, NULL), STORE_OK);
    assert_true(found);
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
    for (int i = 0; i < h->attempts; i++)
        if (decide(h->store, "rl:hammer|one-key", h->limit) == 1)
            h->passed++;
    return NULL;
}

/* 4 threads x 1000 attempts on one key with a burst of 1500: exactly 1500 pass. */
static void test_parallel_one_key(void **state)
{
    (void)state;
    struct store *s = open_store();
    struct gcra_limit l = limit(1, 86400 * S, 1500);
    pthread_t threads[4];
    struct hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){.store = s, .limit = &l, .attempts = 1000};
        assert_int_equal(pthread_create(&threads[i], NULL, hammer_thread, &h[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        total += h[i].passed;
    }
    assert_int_equal(total, 1500);
    store_free(s);
}

/* Records in the "records" database, counted with LMDB itself once the store is closed. */
static size_t records_on_disk(void)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 2), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "records", 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &st), 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return st.ms_entries;
}

static bool count_key(void *arg, const char *key, const struct store_item *item)
{
    (void)key, (void)item;
    ++*(int *)arg;
    return true;
}

/* Expired records are absent at once, and the writers sweep them off the disk a slice at a
 * time (1000 records per slice, at most one slice a second). */
static void test_expiry_and_sweep(void **state)
{
    (void)state;
    struct store *s = open_store();
    char key[64];
    for (int i = 0; i < 2500; i++) {
        snprintf(key, sizeof key, "t:exp:%04d", i);
        assert_int_equal(store_counter_add(s, key, 1, 1000, NULL, NULL), STORE_OK);
    }
    assert_int_equal(store_counter_add(s, "t:keep", 1, 0, NULL, NULL), STORE_OK);
    int n = 0;
    assert_int_equal(store_scan(s, "t:", count_key, &n, NULL), STORE_OK);
    assert_int_equal(n, 2501);
    fake_now += 2 * S;
    struct store_item item;
    bool found = true;
    assert_int_equal(store_get(s, "t:exp:0000", &item, &found, NULL), STORE_OK);
    assert_false(found);
    n = 0;
    assert_int_equal(store_scan(s, "t:", count_key, &n, NULL), STORE_OK);
    assert_int_equal(n, 1);
    int64_t v;
    assert_int_equal(store_counter_add(s, "t:exp:0001", 5, 0, &v, NULL), STORE_OK);
    assert_int_equal(v, 5);                          /* an expired counter starts again */
    /* a few writes a second apart: the slices go round both databases */
    for (int i = 0; i < 8; i++) {
        fake_now += 2 * S;
        assert_int_equal(store_counter_add(s, "t:keep", 1, 0, NULL, NULL), STORE_OK);
    }
    store_free(s);
    assert_int_equal(records_on_disk(), 2);          /* t:keep and t:exp:0001 */
}

/* A full map: the op fails (STORE_DOWN in fail mode tempfail; the embedded store's decision
 * in fail mode memory), a rate limit is never passed for it, and the error names the path
 * and max_size; once records expire, the sweep makes room again. */
static void test_full_map_is_failure(void **state)
{
    (void)state;
    void *impl;
    struct store *s = open_at(dir, 1 * MB, STORE_FAIL_TEMPFAIL, &impl);
    struct gcra_limit l = limit(1, 3600 * S, 1);
    assert_int_equal(decide(s, "rl:full|k", &l), 1);
    static unsigned char big[STORE_VALUE_MAX];
    memset(big, 'x', sizeof big);
    char key[64];
    int written = 0;
    enum store_status st = STORE_OK;
    for (int i = 0; i < 1000 && st == STORE_OK; i++) {
        snprintf(key, sizeof key, "t:full:%04d", i);
        st = store_value_set(s, key, big, sizeof big, 10000, NULL);
        written += st == STORE_OK;
    }
    assert_int_equal(st, STORE_DOWN);
    assert_true(written > 50 && written < 1000);
    /* small records still fit in the pages' gaps for a while: fill those too */
    st = STORE_OK;
    for (int i = 0; i < 100000 && st == STORE_OK; i++) {
        snprintf(key, sizeof key, "t:small:%06d", i);
        st = store_counter_add(s, key, 1, 10000, NULL, NULL);
    }
    assert_int_equal(st, STORE_DOWN);
    /* and rate-limit records, until one cannot be stored: that one is STORE_DOWN, not a pass */
    int result = 1;
    for (int i = 0; i < 100000 && result == 1; i++) {
        snprintf(key, sizeof key, "rl:full|%06d", i);
        result = decide(s, key, &l);
    }
    assert_int_equal(result, -1);
    assert_int_not_equal(decide(s, "rl:full|k", &l), 1);  /* a limit reached is no pass */
    char err[512] = "";
    assert_false(store_lmdb_ops.value_set(impl, "t:full:x", big, sizeof big, 0, 0, err,
        sizeof err));
    assert_non_null(strstr(err, dir));
    assert_non_null(strstr(err, "full"));
    assert_non_null(strstr(err, "max_size"));
    /* fail mode memory: the embedded store decides */
    struct store *m = open_at(dir, 1 * MB, STORE_FAIL_MEMORY, NULL);
    bool fell_back = false;
    assert_int_equal(store_value_set(m, "t:full:y", big, sizeof big, 0, &fell_back), STORE_OK);
    assert_true(fell_back);
    store_free(m);
    /* the records expire: room again */
    fake_now += 11 * S;
    assert_int_equal(store_value_set(s, "t:full:z", big, sizeof big, 0, NULL), STORE_OK);
    assert_int_equal(decide(s, "rl:full|k", &l), 0);  /* kept for an hour: still limited */
    store_free(s);
}

/* Greylisting keys longer than LMDB's key limit are hashed: two that differ only at the end
 * are two records. */
static void test_long_keys_stay_distinct(void **state)
{
    (void)state;
    struct store *s = open_store();
    char a[700], b[700];
    memset(a, 'a', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    memcpy(b, a, sizeof b);
    a[sizeof a - 2] = '1';
    b[sizeof b - 2] = '2';
    struct grey_params p = {.delay_us = 300 * S, .retry_window_us = 86400 * S,
        .remember_us = 30 * 86400 * S};
    struct grey_result g;
    assert_int_equal(store_greylist(s, a, &p, 0, &g, NULL), STORE_OK);
    assert_int_equal(g.state, GREY_NEW);
    fake_now += 400 * S;
    assert_int_equal(store_greylist(s, b, &p, 0, &g, NULL), STORE_OK);
    assert_int_equal(g.state, GREY_NEW);
    assert_int_equal(store_greylist(s, a, &p, 0, &g, NULL), STORE_OK);
    assert_int_equal(g.state, GREY_PASSED);
    store_free(s);
}

static void test_directory_made_and_errors_named(void **state)
{
    (void)state;
    struct store *s = open_store();
    char why[400];
    assert_true(store_ping(s, why, sizeof why));     /* opens it: makes the directory */
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0750 & ~0022 & 0777);
    store_free(s);
    /* a path under a regular file cannot be a directory */
    char file[4300], bad[4400];
    snprintf(file, sizeof file, "%s/plain-file", base);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(bad, sizeof bad, "%s/store", file);
    struct store_settings settings = {.backend = STORE_LMDB, .lmdb_path = bad,
        .lmdb_max_size = 16 * MB, .fail_mode = STORE_FAIL_TEMPFAIL};
    s = store_open(&settings, why, sizeof why);
    assert_non_null(s);                              /* opening is lazy: a load never fails */
    assert_false(store_ping(s, why, sizeof why));
    assert_non_null(strstr(why, bad));
    assert_int_equal(store_counter_add(s, "t:x", 1, 0, NULL, NULL), STORE_DOWN);
    /* the settings themselves are checked at once */
    settings.lmdb_path = (char *)"relative/path";
    assert_null(store_open(&settings, why, sizeof why));
    assert_non_null(strstr(why, "absolute"));
    settings.lmdb_path = dir;
    settings.lmdb_max_size = 1000;
    assert_null(store_open(&settings, why, sizeof why));
    assert_non_null(strstr(why, "max_size"));
    /* the registry: one store per path and size */
    settings.lmdb_max_size = 16 * MB;
    struct store *one = store_open(&settings, why, sizeof why);
    assert_non_null(one);
    assert_ptr_equal(store_open(&settings, why, sizeof why), one);
    char described[4400];
    snprintf(described, sizeof described, "lmdb %s", dir);
    assert_string_equal(store_describe(one), described);
    store_close_all();
}

int main(void)
{
    log_open("test_store_lmdb", LOG_MAIL, false, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_survives_restart, empty_dir),
        cmocka_unit_test_setup(test_two_openers_one_process, empty_dir),
        cmocka_unit_test_setup(test_forked_child_writes_parent_reads, empty_dir),
        cmocka_unit_test_setup(test_parallel_one_key, empty_dir),
        cmocka_unit_test_setup(test_expiry_and_sweep, empty_dir),
        cmocka_unit_test_setup(test_full_map_is_failure, empty_dir),
        cmocka_unit_test_setup(test_long_keys_stay_distinct, empty_dir),
        cmocka_unit_test_setup(test_directory_made_and_errors_named, empty_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
