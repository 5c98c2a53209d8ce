/* test_store_redis.c - the Redis backend against a real redis-server that this test starts on
 * a free loopback port (and stops): GCRA burst exact, keys hash-tagged ("mw:{...}") with a
 * TTL; two separate store instances (as two mailwarden daemons) share one limit of N; 8
 * threads on 2 instances hammering one key let exactly N through (the Lua script is atomic);
 * the script flushed from the server (NOSCRIPT) is loaded again; greylisting on the server's
 * clock; redis-server killed mid-run gives the fail mode (STORE_DOWN, or the embedded store)
 * quickly, and restarted, decisions use it again; a stopped (SIGSTOP) server is a timeout
 * that fails within the command timeout; through Redis Sentinel (a replica and a sentinel
 * started here): the master is found by asking the sentinel, and after a forced failover the
 * decisions go on against the promoted replica with the replicated counters. Skipped when
 * redis-server is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "redis_fixture.h"
#include "store.h"

#define S 1000000LL

static pid_t redis_pid;
static int redis_port;
static pid_t replica_pid, sentinel_pid;      /* test_sentinel_failover's; teardown kills them */
/* Every server runs in this directory: a replica writes dump.rdb after a full sync, and a
 * server started later in the same directory would load it. */
static char redis_dir[] = "/tmp/mw-test-redis.XXXXXX";
static bool have_redis;

static redisContext *admin(void)
{
    return redis_fixture_connect(redis_port, 1000);
}

static bool redis_start(void)
{
    redis_pid = redis_fixture_start(redis_port, redis_dir, NULL);
    return redis_fixture_wait(redis_port, 5000);
}

static void redis_stop(void)
{
    redis_fixture_stop(&redis_pid);
}

static int setup(void **state)
{
    (void)state;
    log_open("test_store_redis", LOG_MAIL, false, false);
    have_redis = redis_fixture_installed(false);
    if (!have_redis)
        return 0;
    if (!redis_fixture_make_dir(redis_dir))
        return -1;
    redis_port = redis_fixture_free_port();
    return redis_port > 0 && redis_start() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    redis_stop();
    redis_fixture_stop(&replica_pid);
    redis_fixture_stop(&sentinel_pid);
    store_close_all();
    if (have_redis && !redis_fixture_remove_dir(redis_dir))
        return -1;
    return 0;
}

static struct store_settings settings(enum store_fail_mode mode)
{
    static char host[] = "127.0.0.1", prefix[] = "mw:";
    return (struct store_settings){
        .backend = STORE_REDIS, .max_keys = 10000, .fail_mode = mode, .redis_host = host,
        .redis_port = redis_port, .redis_prefix = prefix, .connect_timeout_ms = 200,
        .command_timeout_ms = 200, .retry_interval_ms = 300, .pool_size = 4,
    };
}

/* A store outside the registry: each call is a separate "daemon". */
static struct store *new_store(enum store_fail_mode mode)
{
    struct store_settings s = settings(mode);
    return store_wrap(&store_redis_ops, store_redis_new(&s), "redis test", mode);
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
    if (store_gcra(s, key, l, 1, store_now_us(), &r, NULL) != STORE_OK)
        return -1;
    return r.allowed ? 1 : 0;
}

/* Waits (up to 10 s) until the store answers again after an outage: recovery is by itself,
 * after retry_interval; polling keeps the test free of timing assumptions under load. */
static bool wait_recovered(struct store *s)
{
    struct gcra_limit probe = limit(1000000, S, 1000000);
    for (int i = 0; i < 200; i++) {
        if (decide(s, "rl:probe|recovery", &probe) != -1)
            return true;
        redis_fixture_sleep_ms(50);
    }
    return false;
}

#define NEED_REDIS() do { if (!have_redis) skip(); } while (0)

static void test_burst_and_hash_tagged_key(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *s = new_store(STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(10, 3600 * S, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(decide(s, "rl:burst|alice", &l), 1);
    assert_int_equal(decide(s, "rl:burst|alice", &l), 0);
    assert_int_equal(decide(s, "rl:burst|bob", &l), 1);
    struct gcra_result r;
    store_gcra(s, "rl:burst|alice", &l, 1, 0, &r, NULL);
    assert_false(r.allowed);
    assert_true(r.retry_after_us > 359 * S && r.retry_after_us <= 360 * S);
    redisContext *c = admin();
    assert_non_null(c);
    redisReply *reply = redisCommand(c, "PTTL %s", "mw:{rl:burst|alice}");
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    assert_true(reply->integer > 1400 * 1000 && reply->integer <= 1440 * 1000);   /* 4 x 360 s */
    freeReplyObject(reply);
    reply = redisCommand(c, "CLUSTER KEYSLOT %s", "mw:{rl:burst|alice}");
    redisReply *tag = redisCommand(c, "CLUSTER KEYSLOT %s", "rl:burst|alice");
    /* only the braces' content decides the slot (works without cluster mode too) */
    if (reply != NULL && tag != NULL && reply->type == REDIS_REPLY_INTEGER)
        assert_int_equal(reply->integer, tag->integer);
    freeReplyObject(reply);
    freeReplyObject(tag);
    redisFree(c);
    store_free(s);
}

/* Two daemons, one limit of N. */
static void test_two_instances_share_limit(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *a = new_store(STORE_FAIL_TEMPFAIL), *b = new_store(STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(1, 3600 * S, 7);
    int passed = 0;
    for (int i = 0; i < 20; i++)
        passed += decide(i % 2 ? a : b, "rl:shared|k", &l);
    assert_int_equal(passed, 7);
    store_free(a);
    store_free(b);
}

struct hammer {
    struct store *store;
    const struct gcra_limit *limit;
    int passed, failed;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 500; i++) {
        int d = decide(h->store, "rl:hammer|one", h->limit);
        h->passed += d == 1;
        h->failed += d < 0;
    }
    return NULL;
}

static void test_parallel_hammering(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *inst[2] = {new_store(STORE_FAIL_TEMPFAIL), new_store(STORE_FAIL_TEMPFAIL)};
    struct gcra_limit l = limit(1, 86400 * S, 777);
    pthread_t th[8];
    struct hammer h[8];
    for (int i = 0; i < 8; i++) {
        h[i] = (struct hammer){.store = inst[i % 2], .limit = &l};
        assert_int_equal(pthread_create(&th[i], NULL, hammer_thread, &h[i]), 0);
    }
    int passed = 0, failed = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        passed += h[i].passed;
        failed += h[i].failed;
    }
    assert_int_equal(failed, 0);
    assert_int_equal(passed, 777);
    store_free(inst[0]);
    store_free(inst[1]);
}

static void test_noscript_reloaded(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *s = new_store(STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(1, 3600 * S, 2);
    assert_int_equal(decide(s, "rl:noscript|k", &l), 1);
    redisContext *c = admin();
    freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
    redisFree(c);
    assert_int_equal(decide(s, "rl:noscript|k", &l), 1);
    assert_int_equal(decide(s, "rl:noscript|k", &l), 0);
    store_free(s);
}

static void test_greylist_on_server_clock(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *s = new_store(STORE_FAIL_TEMPFAIL);
    struct grey_params p = {.delay_us = S, .retry_window_us = 60 * S, .remember_us = 3600 * S};
    struct grey_result r;
    assert_int_equal(store_greylist(s, "gl:203.0.113.0/24|a@x|b@y", &p, 0, &r, NULL), STORE_OK);
    assert_int_equal(r.state, GREY_NEW);
    assert_int_equal(r.wait_us, S);
    store_greylist(s, "gl:203.0.113.0/24|a@x|b@y", &p, 0, &r, NULL);
    assert_int_equal(r.state, GREY_EARLY);
    assert_true(r.wait_us > 0 && r.wait_us <= S);
    redis_fixture_sleep_ms(1100);
    store_greylist(s, "gl:203.0.113.0/24|a@x|b@y", &p, 0, &r, NULL);
    assert_int_equal(r.state, GREY_PASSED);
    store_greylist(s, "gl:203.0.113.0/24|a@x|b@y", &p, 0, &r, NULL);
    assert_int_equal(r.state, GREY_PASSED);
    store_free(s);
}

/* redis-server killed mid-run: the fail mode, fast; restarted: the limits apply again. */
static void test_killed_and_restarted(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *tempfail = new_store(STORE_FAIL_TEMPFAIL);
    struct store *fallback = new_store(STORE_FAIL_MEMORY);
    struct gcra_limit l = limit(1, 3600 * S, 3);
    assert_int_equal(decide(tempfail, "rl:kill|a", &l), 1);
    assert_int_equal(decide(fallback, "rl:kill|b", &l), 1);
    redis_stop();
    int64_t start = store_now_us();
    for (int i = 0; i < 50; i++)
        assert_int_equal(decide(tempfail, "rl:kill|a", &l), -1);
    bool fell_back = false;
    struct gcra_result r;
    assert_int_equal(store_gcra(fallback, "rl:kill|b", &l, 1, store_now_us(), &r, &fell_back), STORE_OK);
    assert_true(fell_back);
    assert_true(r.allowed);
    /* the embedded store counts while Redis is away: 3 in all, then refused */
    for (int i = 0; i < 2; i++)
        assert_int_equal(decide(fallback, "rl:kill|b", &l), 1);
    assert_int_equal(decide(fallback, "rl:kill|b", &l), 0);
    assert_true(store_now_us() - start < 5 * S);     /* failing is fast: not 50 command timeouts */
    assert_true(redis_start());
    assert_true(wait_recovered(tempfail));
    assert_true(wait_recovered(fallback));
    for (int i = 0; i < 3; i++)
        assert_int_equal(decide(tempfail, "rl:kill|a2", &l), 1);
    assert_int_equal(decide(tempfail, "rl:kill|a2", &l), 0);
    assert_int_equal(store_gcra(fallback, "rl:kill|b2", &l, 1, store_now_us(), &r, &fell_back), STORE_OK);
    assert_false(fell_back);
    store_free(tempfail);
    store_free(fallback);
}

/* A server that stops answering is a timeout: fails within the command timeout. */
static void test_stopped_server_times_out(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *s = new_store(STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(1, 3600 * S, 3);
    assert_int_equal(decide(s, "rl:stop|a", &l), 1);
    kill(redis_pid, SIGSTOP);
    int64_t start = store_now_us();
    assert_int_equal(decide(s, "rl:stop|a", &l), -1);
    int64_t took = store_now_us() - start;
    assert_true(took >= 150 * 1000 && took < 5 * S);   /* the command timeout, not a hang */
    assert_int_equal(decide(s, "rl:stop|a", &l), -1);    /* fails fast during the backoff */
    kill(redis_pid, SIGCONT);
    assert_true(wait_recovered(s));
    assert_int_equal(decide(s, "rl:stop|a", &l), 1);
    store_free(s);
}

/* Sends a command to a server on port; the reply (NULL when unreachable). */
static redisReply *ask(int port, const char *cmd)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c == NULL || c->err) {
        if (c != NULL)
            redisFree(c);
        return NULL;
    }
    redisReply *reply = redisCommand(c, cmd);
    redisFree(c);
    return reply;
}

/* The port the sentinel names for mymaster, 0 when it does not answer. */
static int sentinel_master_port(int sentinel_port)
{
    redisReply *r = ask(sentinel_port, "SENTINEL get-master-addr-by-name mymaster");
    int port = 0;
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        port = atoi(r->element[1]->str);
    freeReplyObject(r);
    return port;
}

/* How many healthy replicas the sentinel knows. */
static size_t sentinel_replicas(int sentinel_port)
{
    redisReply *r = ask(sentinel_port, "SENTINEL replicas mymaster");
    size_t n = 0;
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *fields = r->element[i];
        for (size_t k = 0; k + 1 < fields->elements; k += 2) {
            if (strcmp(fields->element[k]->str, "flags") == 0
                && strcmp(fields->element[k + 1]->str, "slave") == 0)
                n++;
        }
    }
    freeReplyObject(r);
    return n;
}

static bool is_master_port(int port)
{
    redisReply *r = ask(port, "ROLE");
    bool master = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0
        && strcmp(r->element[0]->str, "master") == 0;
    freeReplyObject(r);
    return master;
}

/* Both servers hold the same value for key. */
static bool same_value(int port_a, int port_b, const char *key)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "GET %s", key);
    redisReply *a = ask(port_a, cmd), *b = ask(port_b, cmd);
    bool same = a != NULL && b != NULL && a->type == REDIS_REPLY_STRING
        && b->type == REDIS_REPLY_STRING && strcmp(a->str, b->str) == 0;
    freeReplyObject(a);
    freeReplyObject(b);
    return same;
}

/* Last: the failover leaves the test's first server a replica. */
static void test_sentinel_failover(void **state)
{
    (void)state;
    NEED_REDIS();
    int replica_port = redis_fixture_free_port(), sentinel_port = redis_fixture_free_port();
    assert_true(replica_port > 0 && sentinel_port > 0 && replica_port != sentinel_port);
    char mport[16], path[sizeof redis_dir + 32];
    snprintf(path, sizeof path, "%s/sentinel.XXXXXX", redis_dir);
    snprintf(mport, sizeof mport, "%d", redis_port);
    char replica_dir[sizeof redis_dir + 16];
    snprintf(replica_dir, sizeof replica_dir, "%s/replica", redis_dir);
    assert_int_equal(mkdir(replica_dir, 0700), 0);
    const char *replica_args[] = {"--replicaof", "127.0.0.1", mport, NULL};
    replica_pid = redis_fixture_start(replica_port, replica_dir, replica_args);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 1\n"
        "sentinel down-after-milliseconds mymaster 1000\n"
        "sentinel failover-timeout mymaster 5000\n", sentinel_port, redis_port);
    fclose(fp);
    char *sentinel_argv[] = {"redis-server", path, "--sentinel", NULL};
    sentinel_pid = redis_fixture_spawn(sentinel_argv);
    int waited = 0;
    while ((sentinel_master_port(sentinel_port) != redis_port || sentinel_replicas(sentinel_port) < 1)
        && waited < 20000) {
        redis_fixture_sleep_ms(100);
        waited += 100;
    }
    assert_int_equal(sentinel_master_port(sentinel_port), redis_port);
    assert_true(sentinel_replicas(sentinel_port) >= 1);

    char sentinels[64], master[] = "mymaster", prefix[] = "mw:";
    snprintf(sentinels, sizeof sentinels, "127.0.0.1:%d", sentinel_port);
    struct store_settings st = {.backend = STORE_REDIS, .fail_mode = STORE_FAIL_TEMPFAIL,
        .sentinels = sentinels, .sentinel_master = master, .redis_prefix = prefix,
        .connect_timeout_ms = 300, .command_timeout_ms = 300, .retry_interval_ms = 300,
        .pool_size = 2};
    struct store *s = store_wrap(&store_redis_ops, store_redis_new(&st), "sentinel", STORE_FAIL_TEMPFAIL);
    struct gcra_limit l = limit(1, 3600 * S, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(decide(s, "rl:sentinel|k", &l), 1);
    assert_int_equal(decide(s, "rl:sentinel|k", &l), 0);
    /* let the replica catch up, then fail over to it */
    for (waited = 0; !same_value(redis_port, replica_port, "mw:{rl:sentinel|k}") && waited < 10000;
         waited += 100)
        redis_fixture_sleep_ms(100);
    assert_true(same_value(redis_port, replica_port, "mw:{rl:sentinel|k}"));
    freeReplyObject(ask(sentinel_port, "SENTINEL FAILOVER mymaster"));
    waited = 0;
    while ((sentinel_master_port(sentinel_port) != replica_port || !is_master_port(replica_port)
               || is_master_port(redis_port)) && waited < 20000) {
        redis_fixture_sleep_ms(100);
        waited += 100;
    }
    assert_int_equal(sentinel_master_port(sentinel_port), replica_port);
    assert_false(is_master_port(redis_port));      /* the old master is a replica now */
    /* the store finds the new master by itself: a pooled connection to the old one gets
     * READONLY and is retried at once on a connection to the master the sentinel names */
    assert_int_equal(decide(s, "rl:sentinel|other", &l), 1);
    /* with the counter the old master had replicated */
    assert_int_equal(decide(s, "rl:sentinel|k", &l), 0);
    redisReply *r = ask(replica_port, "EXISTS mw:{rl:sentinel|other}");
    assert_non_null(r);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    store_free(s);
    redis_fixture_stop(&sentinel_pid);
    redis_fixture_stop(&replica_pid);
}

static bool count_key(void *arg, const char *key, const struct store_item *item)
{
    (void)key, (void)item;
    ++*(int *)arg;
    return true;
}

/* Generic records: at mw:g:{KEY} (apart from the decisions' keys, hash-tagged), values
 * binary-safe, a prefix scan through SCAN MATCH (never KEYS, which blocks the server), and
 * a killed server gives the fail mode for them too. */
static void test_generic_keys_scan_and_outage(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *s = new_store(STORE_FAIL_TEMPFAIL);
    redisContext *c = admin();
    assert_non_null(c);
    redisReply *reply = redisCommand(c, "CONFIG RESETSTAT");
    freeReplyObject(reply);
    assert_int_equal(store_counter_add(s, "dmarc:k1", 2, 60000, NULL, NULL), STORE_OK);
    assert_int_equal(store_value_set(s, "dmarc:k2", "a\0b", 3, 0, NULL), STORE_OK);
    reply = redisCommand(c, "PTTL %s", "mw:g:{dmarc:k1}");
    assert_non_null(reply);
    assert_true(reply->integer > 50000 && reply->integer <= 60000);
    freeReplyObject(reply);
    reply = redisCommand(c, "GET %s", "mw:g:{dmarc:k2}");
    assert_non_null(reply);
    assert_int_equal(reply->len, 4);
    assert_memory_equal(reply->str, "va\0b", 4);
    freeReplyObject(reply);
    int n = 0;
    assert_int_equal(store_scan(s, "dmarc:", count_key, &n, NULL), STORE_OK);
    assert_int_equal(n, 2);
    reply = redisCommand(c, "INFO commandstats");
    assert_non_null(reply);
    assert_non_null(strstr(reply->str, "cmdstat_scan:"));
    assert_null(strstr(reply->str, "cmdstat_keys:"));
    freeReplyObject(reply);
    redisFree(c);
    redis_stop();
    assert_int_equal(store_counter_add(s, "dmarc:k1", 1, 0, NULL, NULL), STORE_DOWN);
    assert_int_equal(store_scan(s, "dmarc:", count_key, &n, NULL), STORE_DOWN);
    struct store_item item;
    bool found = true;
    assert_int_equal(store_get(s, "dmarc:k1", &item, &found, NULL), STORE_DOWN);
    assert_false(found);
    assert_true(redis_start());
    assert_true(wait_recovered(s));
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_and_hash_tagged_key),
        cmocka_unit_test(test_two_instances_share_limit),
        cmocka_unit_test(test_parallel_hammering),
        cmocka_unit_test(test_noscript_reloaded),
        cmocka_unit_test(test_greylist_on_server_clock),
        cmocka_unit_test(test_killed_and_restarted),
        cmocka_unit_test(test_stopped_server_times_out),
        cmocka_unit_test(test_generic_keys_scan_and_outage),
        cmocka_unit_test(test_sentinel_failover),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
