/* test_store_redis_cluster.c - the Redis backend against a real Redis Cluster of three
 * redis-server masters that this test starts on free loopback ports, joins with
 * `redis-cli --cluster create` and stops. The store knows ONE node (the seed) and follows
 * MOVED and ASK by itself. Shown: key slots computed as the servers compute them (CLUSTER
 * KEYSLOT) and redirections read strictly; decisions on many keys spread over all three nodes
 * all succeed (never the fail mode), their keys live on every node, and after the first MOVED
 * the store read the slot map (CLUSTER SLOTS) so no other decision was redirected; a GCRA limit of N is
 * exact for a key living on another node than the seed, and its scripts flushed there
 * (NOSCRIPT) are loaded again on that node; greylisting works on keys of every
 * node; a slot migrated between nodes mid-test (CLUSTER SETSLOT MIGRATING/IMPORTING and
 * MIGRATE, which produce ASK, then SETSLOT NODE, which produces MOVED) keeps its counters and
 * decisions exact. Skipped when redis-server or redis-cli is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "redis_fixture.h"
#include "store.h"
#include "store_redis_cluster.h"

#define S 1000000LL
#define NODES 3

static pid_t node_pid[NODES];
static int node_port[NODES];
static int bus_port[NODES];        /* given explicitly: port + 10000 may not exist */
static char cluster_dir[] = "/tmp/mw-test-cluster.XXXXXX";
static bool have_redis;
static bool made_dir;

static redisContext *connect_port(int port)
{
    return redis_fixture_connect(port, 2000);
}

/* One command to one node; NULL when the node cannot be reached. */
static redisReply *ask(int port, const char *format, ...)
{
    redisContext *c = connect_port(port);
    if (c == NULL)
        return NULL;
    va_list ap;
    va_start(ap, format);
    redisReply *reply = redisvCommand(c, format, ap);
    va_end(ap);
    redisFree(c);
    return reply;
}

static pid_t start_node(int port, int bus)
{
    char bus_text[16], config[64];
    snprintf(bus_text, sizeof bus_text, "%d", bus);
    snprintf(config, sizeof config, "nodes-%d.conf", port);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", bus_text,
        "--cluster-config-file", config, NULL};
    return redis_fixture_start(port, cluster_dir, args);
}

static bool cluster_ok(int port)
{
    redisReply *reply = ask(port, "CLUSTER INFO");
    bool ok = reply != NULL && reply->type == REDIS_REPLY_STRING
        && strstr(reply->str, "cluster_state:ok") != NULL;
    freeReplyObject(reply);
    return ok;
}

/* Polls (every 50 ms, 30 s at most) until every node satisfies the predicate. */
static bool wait_all(bool (*predicate)(int port))
{
    for (int i = 0; i < 600; i++) {
        bool all = true;
        for (int n = 0; n < NODES && all; n++)
            all = predicate(node_port[n]);
        if (all)
            return true;
        redis_fixture_sleep_ms(50);
    }
    return false;
}

static int setup(void **state)
{
    (void)state;
    log_open("test_store_redis_cluster", LOG_MAIL, false, false);
    have_redis = redis_fixture_installed(true);
    if (!have_redis)
        return 0;
    if (!redis_fixture_make_dir(cluster_dir))
        return -1;
    made_dir = true;
    for (int n = 0; n < NODES; n++) {
        node_port[n] = redis_fixture_free_port();
        bus_port[n] = redis_fixture_free_port();
        if (node_port[n] <= 0 || bus_port[n] <= 0 || bus_port[n] == node_port[n])
            return -1;
        node_pid[n] = start_node(node_port[n], bus_port[n]);
    }
    if (!wait_all(redis_fixture_answers))
        return -1;
    char command[512];
    snprintf(command, sizeof command, "redis-cli --cluster create 127.0.0.1:%d 127.0.0.1:%d "
        "127.0.0.1:%d --cluster-replicas 0 --cluster-yes >/dev/null 2>&1",
        node_port[0], node_port[1], node_port[2]);
    if (system(command) != 0)
        return -1;
    return wait_all(cluster_ok) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int n = 0; n < NODES; n++)
        redis_fixture_stop(&node_pid[n]);
    store_close_all();
    if (made_dir && !redis_fixture_remove_dir(cluster_dir))
        return -1;
    return 0;
}

#define NEED_REDIS() do { if (!have_redis) skip(); } while (0)

/* A store that knows only the first node, as an admin would configure it. */
static struct store *new_store(void)
{
    static char host[] = "127.0.0.1", prefix[] = "mw:";
    struct store_settings s = {
        .backend = STORE_REDIS, .max_keys = 10000, .fail_mode = STORE_FAIL_TEMPFAIL,
        .redis_host = host, .redis_port = node_port[0], .redis_prefix = prefix,
        .connect_timeout_ms = 1000, .command_timeout_ms = 1000, .retry_interval_ms = 300,
        .pool_size = 2,
    };
    return store_wrap(&store_redis_ops, store_redis_new(&s), "redis cluster test",
        STORE_FAIL_TEMPFAIL);
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

/* The index of the node that owns the slot of this (full) key: the node that answers EXISTS
 * with an integer rather than MOVED. -1 when none does. */
static int owner_of(const char *full_key)
{
    for (int n = 0; n < NODES; n++) {
        redisReply *reply = ask(node_port[n], "EXISTS %s", full_key);
        bool owns = reply != NULL && reply->type == REDIS_REPLY_INTEGER;
        freeReplyObject(reply);
        if (owns)
            return n;
    }
    return -1;
}

static bool key_on_node(int n, const char *full_key)
{
    redisReply *reply = ask(node_port[n], "EXISTS %s", full_key);
    bool there = reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject(reply);
    return there;
}

/* A key "PREFIX-i" (and its full key "mw:{PREFIX-i}") whose slot belongs to node `want`. */
static void key_on(int want, const char *prefix, char *key, size_t key_size, char *full,
    size_t full_size)
{
    for (int i = 0; i < 10000; i++) {
        snprintf(key, key_size, "%s-%d", prefix, i);
        snprintf(full, full_size, "mw:{%s}", key);
        if (owner_of(full) == want)
            return;
    }
    fail_msg("no key of prefix %s on node %d", prefix, want);
}

static void test_key_slot_and_redirect_parsing(void **state)
{
    (void)state;
    /* the check value of CRC16/XMODEM, and examples from the cluster specification */
    assert_int_equal(redis_key_slot("123456789", 9), 0x31C3);
    assert_int_equal(redis_key_slot("{user1000}.following", 20), redis_key_slot("user1000", 8));
    assert_int_not_equal(redis_key_slot("foo{}{bar}", 10), redis_key_slot("bar", 3));
    assert_int_equal(redis_key_slot("foo{{bar}}zap", 13), redis_key_slot("{bar", 4));
    assert_int_equal(redis_key_slot("foo{bar}{zap}", 13), redis_key_slot("bar", 3));
    struct redis_redirect r;
    assert_true(redis_parse_redirect("MOVED 3999 127.0.0.1:6381", &r));
    assert_int_equal(r.kind, REDIS_REDIRECT_MOVED);
    assert_int_equal(r.slot, 3999);
    assert_string_equal(r.host, "127.0.0.1");
    assert_int_equal(r.port, 6381);
    assert_true(redis_parse_redirect("ASK 16383 [::1]:7000", &r));
    assert_int_equal(r.kind, REDIS_REDIRECT_ASK);
    assert_string_equal(r.host, "::1");
    assert_int_equal(r.port, 7000);
    assert_true(redis_parse_redirect("MOVED 1 :7001", &r));
    assert_string_equal(r.host, "");
    const char *bad[] = {"MOVED", "MOVED 16384 a:1", "MOVED -1 a:1", "MOVED 12 a", "MOVED 12 a:0",
        "MOVED 12 a:70000", "MOVED 12 a:1x", "ASK x a:1", "ERR MOVED 1 a:1", "NOSCRIPT no",
        "MOVED 12a a:1", "ASK 12 :"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(redis_parse_redirect(bad[i], &r));
        assert_int_equal(r.kind, REDIS_REDIRECT_NONE);
    }
    if (!have_redis)
        return;
    /* the servers agree on every slot we compute, odd braces included */
    const char *odd[] = {"foo{}{bar}", "foo{{bar}}zap", "{", "}{", "a{b", "{}", "mw:{}x",
        "mw:{a}{b}", "plain"};
    for (int i = 0; i < 300 + (int)(sizeof odd / sizeof odd[0]); i++) {
        char full[64];
        if (i < 300)
            snprintf(full, sizeof full, "mw:{rl:ip|192.0.2.%d}", i);
        else
            snprintf(full, sizeof full, "%s", odd[i - 300]);
        redisReply *reply = ask(node_port[0], "CLUSTER KEYSLOT %s", full);
        assert_non_null(reply);
        assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
        assert_int_equal(reply->integer, redis_key_slot(full, strlen(full)));
        freeReplyObject(reply);
    }
}

/* How many MOVED replies node n has given (INFO errorstats). */
static long long moved_count(int n)
{
    redisReply *reply = ask(node_port[n], "INFO errorstats");
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    const char *at = strstr(reply->str, "errorstat_MOVED:count=");
    long long count = at == NULL ? 0 : atoll(at + strlen("errorstat_MOVED:count="));
    freeReplyObject(reply);
    return count;
}

static void test_many_keys_on_every_node(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *s = new_store();
    struct gcra_limit l = limit(100, 3600 * S, 100);
    int on_node[NODES] = {0};
    long long moved_before = moved_count(0);
    for (int i = 0; i < 300; i++) {
        char key[64];
        snprintf(key, sizeof key, "rl:many|%d", i);
        assert_int_equal(decide(s, key, &l), 1);        /* never the fail mode (-1) */
    }
    /* one MOVED taught the store the whole map (CLUSTER SLOTS): the rest went straight */
    assert_int_equal(moved_count(0) - moved_before, 1);
    for (int i = 0; i < 300; i++) {
        char key[64], full[72];
        snprintf(key, sizeof key, "rl:many|%d", i);
        snprintf(full, sizeof full, "mw:{%s}", key);
        int owner = owner_of(full);
        assert_true(owner >= 0);
        assert_true(key_on_node(owner, full));           /* written where it belongs */
        on_node[owner]++;
    }
    for (int n = 0; n < NODES; n++)
        assert_true(on_node[n] > 30);
    store_free(s);
}

/* A limit of N is exact for a key living on node 2 (the store knows node 0), from a fresh
 * store and from a second one sharing it. */
static void test_gcra_exact_on_other_node(void **state)
{
    (void)state;
    NEED_REDIS();
    char key[64], full[72];
    key_on(2, "rl:exact", key, sizeof key, full, sizeof full);
    struct store *a = new_store(), *b = new_store();
    struct gcra_limit l = limit(1, 3600 * S, 7);
    int passed = 0;
    for (int i = 0; i < 20; i++) {
        int d = decide(i % 2 ? a : b, key, &l);
        assert_true(d >= 0);
        passed += d;
    }
    assert_int_equal(passed, 7);
    assert_true(key_on_node(2, full));
    assert_false(key_on_node(0, full));
    /* the node lost its scripts (NOSCRIPT): loaded again there, the counter is intact */
    for (int n = 0; n < NODES; n++)
        freeReplyObject(ask(node_port[n], "SCRIPT FLUSH"));
    assert_int_equal(decide(a, key, &l), 0);
    assert_int_equal(decide(b, key, &l), 0);
    store_free(a);
    store_free(b);
}

static void test_greylist_across_nodes(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *s = new_store();
    struct grey_params p = {.delay_us = 300000, .retry_window_us = 60 * S,
        .remember_us = 3600 * S};
    char key[NODES][64], full[72];
    struct grey_result r;
    for (int n = 0; n < NODES; n++) {
        key_on(n, "gl:198.51.100.0/24|a@x|b@y", key[n], sizeof key[n], full, sizeof full);
        assert_int_equal(store_greylist(s, key[n], &p, 0, &r, NULL), STORE_OK);
        assert_int_equal(r.state, GREY_NEW);
        assert_int_equal(store_greylist(s, key[n], &p, 0, &r, NULL), STORE_OK);
        assert_int_equal(r.state, GREY_EARLY);
        assert_true(key_on_node(n, full));
    }
    /* after the delay (on the servers' clocks; polled, 10 s at most) every triplet passes */
    for (int n = 0; n < NODES; n++) {
        for (int i = 0; i < 200; i++) {
            assert_int_equal(store_greylist(s, key[n], &p, 0, &r, NULL), STORE_OK);
            if (r.state == GREY_PASSED)
                break;
            assert_int_equal(r.state, GREY_EARLY);
            redis_fixture_sleep_ms(50);
        }
        assert_int_equal(r.state, GREY_PASSED);
    }
    store_free(s);
}

static void node_id(int n, char *id, size_t size)
{
    redisReply *reply = ask(node_port[n], "CLUSTER MYID");
    assert_non_null(reply);
    assert_true(reply->type == REDIS_REPLY_STRING && reply->len < size);
    memcpy(id, reply->str, reply->len + 1);
    freeReplyObject(reply);
}

static void expect_ok(redisReply *reply)
{
    assert_non_null(reply);
    if (reply->type == REDIS_REPLY_ERROR)
        fail_msg("redis: %s", reply->str);
    freeReplyObject(reply);
}

/* Another key (and its full key) in the same slot as `slot`. */
static void key_in_slot(unsigned slot, const char *prefix, char *key, size_t key_size,
    char *full, size_t full_size)
{
    for (int i = 0; i < 1000000; i++) {
        snprintf(key, key_size, "%s-%d", prefix, i);
        snprintf(full, full_size, "mw:{%s}", key);
        if (redis_key_slot(full, strlen(full)) == slot)
            return;
    }
    fail_msg("no key of prefix %s in slot %u", prefix, slot);
}

/* A slot of node 1 moves to node 2 while a store that has learnt its place decides on it. */
static void test_slot_migrated_mid_run(void **state)
{
    (void)state;
    NEED_REDIS();
    const int src = 1, dst = 2;
    char key[64], full[72], fresh[64], fresh_full[72], late[64], late_full[72];
    key_on(src, "rl:moving", key, sizeof key, full, sizeof full);
    unsigned slot = redis_key_slot(full, strlen(full));
    key_in_slot(slot, "rl:fresh", fresh, sizeof fresh, fresh_full, sizeof fresh_full);
    key_in_slot(slot, "rl:late", late, sizeof late, late_full, sizeof late_full);
    struct store *s = new_store();
    struct gcra_limit l = limit(1, 3600 * S, 5);
    for (int i = 0; i < 3; i++)
        assert_int_equal(decide(s, key, &l), 1);         /* the store now sends slot -> src */
    assert_true(key_on_node(src, full));

    char src_id[64], dst_id[64];
    node_id(src, src_id, sizeof src_id);
    node_id(dst, dst_id, sizeof dst_id);
    expect_ok(ask(node_port[dst], "CLUSTER SETSLOT %u IMPORTING %s", slot, src_id));
    expect_ok(ask(node_port[src], "CLUSTER SETSLOT %u MIGRATING %s", slot, dst_id));
    expect_ok(ask(node_port[src], "MIGRATE 127.0.0.1 %d %s 0 5000", node_port[dst], full));
    assert_false(key_on_node(src, full));

    /* migrating: src answers ASK for keys it no longer has; the counter went along */
    assert_int_equal(decide(s, key, &l), 1);
    assert_int_equal(decide(s, key, &l), 1);
    assert_int_equal(decide(s, key, &l), 0);
    /* a key new in the migrating slot is created on the importing node */
    for (int i = 0; i < 5; i++)
        assert_int_equal(decide(s, fresh, &l), 1);
    assert_int_equal(decide(s, fresh, &l), 0);
    assert_false(key_on_node(src, fresh_full));

    /* the slot is dst's now, everywhere: src answers MOVED */
    const int order[NODES] = {dst, src, 0};     /* the importing node first */
    for (int n = 0; n < NODES; n++)
        expect_ok(ask(node_port[order[n]], "CLUSTER SETSLOT %u NODE %s", slot, dst_id));
    assert_true(key_on_node(dst, full));
    assert_true(key_on_node(dst, fresh_full));
    assert_int_equal(decide(s, key, &l), 0);
    assert_int_equal(decide(s, fresh, &l), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(decide(s, late, &l), 1);
    assert_int_equal(decide(s, late, &l), 0);
    assert_true(key_on_node(dst, late_full));
    /* and a store that never saw the slot follows MOVED from the seed as well */
    struct store *other = new_store();
    assert_int_equal(decide(other, key, &l), 0);
    assert_int_equal(decide(other, late, &l), 0);
    store_free(other);
    store_free(s);
}

static bool sum_counters(void *arg, const char *key, const struct store_item *item)
{
    (void)key;
    int64_t *sum = arg;
    sum[0] += item->counter;
    sum[1]++;
    return true;
}

/* Generic records on a cluster: counters spread over every node; a scan from a store that
 * knows only node 0 (and was never redirected) finds them all; a batch over several slots is
 * refused as a whole (STORE_INVALID, nothing added) without taking the store down. */
static void test_generic_records_across_nodes(void **state)
{
    (void)state;
    NEED_REDIS();
    struct store *writer = new_store();
    int on_node[NODES] = {0};
    for (int i = 0; i < 300; i++) {
        char key[64], full[80];
        snprintf(key, sizeof key, "scan:%d", i);
        snprintf(full, sizeof full, "mw:g:{%s}", key);
        assert_int_equal(store_counter_add(writer, key, i, 0, NULL, NULL), STORE_OK);
        int owner = owner_of(full);
        assert_true(owner >= 0);
        assert_true(key_on_node(owner, full));
        on_node[owner]++;
    }
    for (int n = 0; n < NODES; n++)
        assert_true(on_node[n] > 30);
    struct store *reader = new_store();
    int64_t sum[2] = {0, 0};
    assert_int_equal(store_scan(reader, "scan:", sum_counters, sum, NULL), STORE_OK);
    assert_int_equal(sum[1], 300);
    assert_int_equal(sum[0], 299 * 300 / 2);
    struct store_counter_change batch[2] = {{.key = "scan:0", .delta = 1},
        {.key = "scan:1", .delta = 1}};
    assert_int_equal(store_counter_add_many(reader, batch, 2, 0, NULL), STORE_INVALID);
    int64_t v;
    assert_int_equal(store_counter_add(reader, "scan:0", 0, 0, &v, NULL), STORE_OK);
    assert_int_equal(v, 0);                          /* nothing of the batch was added */
    store_free(writer);
    store_free(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_slot_and_redirect_parsing),
        cmocka_unit_test(test_many_keys_on_every_node),
        cmocka_unit_test(test_gcra_exact_on_other_node),
        cmocka_unit_test(test_greylist_across_nodes),
        cmocka_unit_test(test_generic_records_across_nodes),
        cmocka_unit_test(test_slot_migrated_mid_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
