/* test_bayes_db.c - the Bayes database in the store, with crafted mail (bayes_corpus.c):
 * trained on 200 spam and 200 ham it classifies another 100 of each correctly; it scores
 * nothing below the minimum counts; learning twice counts once, relearning moves a message
 * and forgetting takes it back; an LMDB database survives closing and opening again (a
 * restart); threads learning while others classify lose no count; Redis (a real
 * redis-server) and LMDB give the same probabilities; a learn is all or nothing (memory,
 * LMDB, Redis: one MULTI/EXEC, refused by the server = nothing changed) and Redis classifies
 * a message with one MGET; size expiry trims the rarest tokens and
 * age expiry drops tokens not used for token_ttl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bayes_classify.h"
#include "bayes_corpus.h"
#include "bayes_db.h"
#include "redis_fixture.h"
#include "store.h"

enum { TRAIN = 200, TEST_FROM = 1000, TEST_COUNT = 100 };

static struct store *memory_store(void)
{
    return store_wrap(&store_memory_ops, store_memory_new(1000000), "memory test",
        STORE_FAIL_TEMPFAIL);
}

static char lmdb_base[] = "/tmp/mw-test-bayes.XXXXXX";
static char lmdb_dir[4200];

static int64_t fake_now_us;
static int64_t fake_clock(void)
{
    return fake_now_us;
}

static struct store *lmdb_store(void **impl_out)
{
    struct store_settings st = {.backend = STORE_LMDB, .lmdb_path = lmdb_dir,
        .lmdb_max_size = 256 * 1024 * 1024, .fail_mode = STORE_FAIL_TEMPFAIL};
    char why[300];
    void *impl = store_lmdb_new(&st, why, sizeof why);
    assert_non_null(impl);
    if (impl_out != NULL)
        *impl_out = impl;
    return store_wrap(&store_lmdb_ops, impl, "lmdb test", STORE_FAIL_TEMPFAIL);
}

static int group_setup(void **state)
{
    (void)state;
    if (mkdtemp(lmdb_base) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", lmdb_base);
    return system(cmd) == 0 ? 0 : -1;
}

/* Each LMDB test gets a new directory. */
static void fresh_lmdb_dir(const char *name)
{
    snprintf(lmdb_dir, sizeof lmdb_dir, "%s/%s", lmdb_base, name);
}

static void learn_range(const struct bayes_db *db, bool spam, unsigned from, unsigned count)
{
    struct corpus_message *m = malloc(sizeof *m);
    struct bayes_tokens set = { 0 };
    for (unsigned i = from; i < from + count; i++) {
        corpus_make(m, spam, i);
        bayes_tokenize_message(&m->msg, &set);
        enum bayes_learn_outcome outcome;
        assert_int_equal(bayes_db_learn(db, &set, spam, &outcome), STORE_OK);
    }
    bayes_tokens_free(&set);
    free(m);
}

static double classify_one(const struct bayes_db *db, bool spam, unsigned seed, bool *scored)
{
    struct corpus_message *m = malloc(sizeof *m);
    struct bayes_tokens set = { 0 };
    corpus_make(m, spam, seed);
    bayes_tokenize_message(&m->msg, &set);
    struct bayes_verdict v;
    assert_int_equal(bayes_classify(db, &set, 200, 200, &v), STORE_OK);
    bayes_tokens_free(&set);
    free(m);
    *scored = v.scored;
    return v.probability;
}

static void train(const struct bayes_db *db)
{
    learn_range(db, true, 0, TRAIN);
    learn_range(db, false, 0, TRAIN);
}

/* Every test message (seeds not trained on) lands in BAYES_99 or BAYES_00. */
static void assert_classifies_test_set(const struct bayes_db *db)
{
    for (unsigned i = TEST_FROM; i < TEST_FROM + TEST_COUNT; i++) {
        bool scored = false;
        double p = classify_one(db, true, i, &scored);
        assert_true(scored);
        if (p <= 0.99)
            fail_msg("spam %u: %.4f", i, p);
        p = classify_one(db, false, i, &scored);
        assert_true(scored);
        if (p > 0.01)
            fail_msg("ham %u: %.4f", i, p);
    }
}

static void test_trained_db_classifies_unseen_mail(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct bayes_db db;
    assert_true(bayes_db_init(&db, s, "global", 0, 0));
    train(&db);
    int64_t ns, nh;
    assert_int_equal(bayes_db_message_counts(&db, &ns, &nh), STORE_OK);
    assert_int_equal(ns, TRAIN);
    assert_int_equal(nh, TRAIN);
    assert_classifies_test_set(&db);
    store_free(s);
}

/* bayes_min_spam_num / bayes_min_ham_num: 199 spam is not enough to score. */
static void test_no_score_below_minimum_counts(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct bayes_db db;
    assert_true(bayes_db_init(&db, s, "global", 0, 0));
    learn_range(&db, true, 0, 199);
    learn_range(&db, false, 0, 200);
    bool scored = true;
    (void)classify_one(&db, true, TEST_FROM, &scored);
    assert_false(scored);
    learn_range(&db, true, 199, 1);
    (void)classify_one(&db, true, TEST_FROM, &scored);
    assert_true(scored);
    store_free(s);
}

static void test_learn_twice_relearn_and_forget(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct bayes_db db;
    assert_true(bayes_db_init(&db, s, "User@Example.COM", 0, 0));
    assert_string_equal(db.prefix, "bayes:user@example.com:");
    struct bayes_db colon;       /* a name with ':' cannot reach into another's keys */
    assert_true(bayes_db_init(&colon, s, "user@example.com:t:", 0, 0));
    assert_string_equal(colon.prefix, "bayes:user@example.com%3At%3A:");
    struct corpus_message *m = malloc(sizeof *m);
    struct bayes_tokens set = { 0 };
    corpus_make(m, true, 5);
    bayes_tokenize_message(&m->msg, &set);
    enum bayes_learn_outcome out;
    int64_t ns, nh, ts, th;
    assert_int_equal(bayes_db_learn(&db, &set, true, &out), STORE_OK);
    assert_int_equal(out, BAYES_LEARNT);
    assert_int_equal(bayes_db_learn(&db, &set, true, &out), STORE_OK);
    assert_int_equal(out, BAYES_ALREADY_LEARNT);
    bayes_db_message_counts(&db, &ns, &nh);
    assert_int_equal(ns, 1);
    assert_int_equal(nh, 0);
    bayes_db_token_counts(&db, set.items[0].key, &ts, &th);
    assert_int_equal(ts, 1);
    assert_int_equal(th, 0);
    assert_int_equal(bayes_db_learn(&db, &set, false, &out), STORE_OK);
    assert_int_equal(out, BAYES_RELEARNT);
    bayes_db_message_counts(&db, &ns, &nh);
    assert_int_equal(ns, 0);
    assert_int_equal(nh, 1);
    bayes_db_token_counts(&db, set.items[0].key, &ts, &th);
    assert_int_equal(ts, 0);
    assert_int_equal(th, 1);
    assert_int_equal(bayes_db_forget(&db, &set, &out), STORE_OK);
    assert_int_equal(out, BAYES_FORGOTTEN);
    bayes_db_message_counts(&db, &ns, &nh);
    assert_int_equal(ns + nh, 0);
    bayes_db_token_counts(&db, set.items[0].key, &ts, &th);
    assert_int_equal(ts + th, 0);
    assert_int_equal(bayes_db_forget(&db, &set, &out), STORE_OK);
    assert_int_equal(out, BAYES_NOT_LEARNT);
    /* another database in the same store is apart */
    struct bayes_db other;
    assert_true(bayes_db_init(&other, s, "global", 0, 0));
    assert_int_equal(bayes_db_learn(&db, &set, true, &out), STORE_OK);
    bayes_db_message_counts(&other, &ns, &nh);
    assert_int_equal(ns + nh, 0);
    bayes_tokens_free(&set);
    free(m);
    store_free(s);
}

/* LMDB: a database learnt, the store closed (the process ends) and opened again. */
static void test_lmdb_db_survives_restart(void **state)
{
    (void)state;
    fresh_lmdb_dir("restart");
    struct store *s = lmdb_store(NULL);
    struct bayes_db db;
    assert_true(bayes_db_init(&db, s, "global", 0, 0));
    train(&db);
    bool scored;
    double before = classify_one(&db, true, TEST_FROM, &scored);
    assert_true(scored);
    store_free(s);

    s = lmdb_store(NULL);
    assert_true(bayes_db_init(&db, s, "global", 0, 0));
    int64_t ns, nh;
    assert_int_equal(bayes_db_message_counts(&db, &ns, &nh), STORE_OK);
    assert_int_equal(ns, TRAIN);
    assert_int_equal(nh, TRAIN);
    double after = classify_one(&db, true, TEST_FROM, &scored);
    assert_true(scored);
    assert_true(before == after);
    assert_classifies_test_set(&db);
    store_free(s);
}

struct worker {
    const struct bayes_db *db;
    bool learner;
    unsigned from;
    unsigned scored;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    if (w->learner) {
        learn_range(w->db, true, w->from, 50);
        learn_range(w->db, false, w->from, 50);
        return NULL;
    }
    for (unsigned i = 0; i < 60; i++) {
        bool scored;
        double p = classify_one(w->db, i % 2 == 0, TEST_FROM + i, &scored);
        if (scored && (p < 0 || p > 1))
            fail_msg("probability %f", p);
        w->scored += scored;
    }
    return NULL;
}

/* Two threads learn 100 messages each while two classify; every count arrives. */
static void test_concurrent_learn_and_classify(void **state)
{
    (void)state;
    fresh_lmdb_dir("threads");
    struct store *s = lmdb_store(NULL);
    struct bayes_db db;
    assert_true(bayes_db_init(&db, s, "global", 0, 0));
    train(&db);
    struct worker w[4] = {
        { &db, true, 300, 0 }, { &db, true, 400, 0 }, { &db, false, 0, 0 }, { &db, false, 0, 0 },
    };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    int64_t ns, nh;
    bayes_db_message_counts(&db, &ns, &nh);
    assert_int_equal(ns, TRAIN + 100);
    assert_int_equal(nh, TRAIN + 100);
    assert_int_equal(w[2].scored, 60);
    assert_int_equal(w[3].scored, 60);
    /* a token every spam has (its mailer) counts every spam learnt */
    struct bayes_tokens set = { 0 };
    struct bayes_header h = { "X-Mailer", "MassMailer Pro 3.1" };
    struct bayes_message msg = { .headers = &h, .header_count = 1 };
    bayes_tokenize_message(&msg, &set);
    assert_true(set.count > 0);
    int64_t ts, th;
    bayes_db_token_counts(&db, set.items[0].key, &ts, &th);
    assert_int_equal(ts, TRAIN + 100);
    assert_int_equal(th, 0);
    bayes_tokens_free(&set);
    store_free(s);
}

/* A real redis-server and LMDB, trained alike, give the same probability to every message. */
static void test_redis_and_lmdb_agree(void **state)
{
    (void)state;
    if (!redis_fixture_installed(false))
        skip();
    char dir[] = "/tmp/mw-test-bayes-redis.XXXXXX";
    assert_true(redis_fixture_make_dir(dir));
    int port = redis_fixture_free_port();
    assert_true(port > 0);
    pid_t pid = redis_fixture_start(port, dir, NULL);
    assert_true(redis_fixture_wait(port, 5000));
    static char host[] = "127.0.0.1", prefix[] = "mw:";
    struct store_settings st = {
        .backend = STORE_REDIS, .max_keys = 10000, .fail_mode = STORE_FAIL_TEMPFAIL,
        .redis_host = host, .redis_port = port, .redis_prefix = prefix,
        .connect_timeout_ms = 2000, .command_timeout_ms = 5000, .retry_interval_ms = 300,
        .pool_size = 2,
    };
    struct store *r = store_wrap(&store_redis_ops, store_redis_new(&st), "redis test",
        STORE_FAIL_TEMPFAIL);
    fresh_lmdb_dir("agree");
    struct store *l = lmdb_store(NULL);
    struct bayes_db rdb, ldb;
    assert_true(bayes_db_init(&rdb, r, "global", 0, 0));
    assert_true(bayes_db_init(&ldb, l, "global", 0, 0));
    train(&rdb);
    train(&ldb);
    for (unsigned i = TEST_FROM; i < TEST_FROM + 20; i++) {
        bool s1, s2;
        double a = classify_one(&rdb, i % 2 == 0, i, &s1);
        double b = classify_one(&ldb, i % 2 == 0, i, &s2);
        assert_true(s1 && s2);
        if (a != b)
            fail_msg("message %u: redis %.17g, lmdb %.17g", i, a, b);
    }
    store_free(r);
    store_free(l);
    redis_fixture_stop(&pid);
    assert_true(redis_fixture_remove_dir(dir));
}

/* The tokens of one crafted message (freed by the caller with bayes_tokens_free). */
static void tokens_of(bool spam, unsigned seed, struct bayes_tokens *set)
{
    struct corpus_message *m = malloc(sizeof *m);
    corpus_make(m, spam, seed);
    bayes_tokenize_message(&m->msg, set);
    free(m);
}

static bool find_seen_key(void *arg, const char *key, const struct store_item *item)
{
    (void)item;
    snprintf(arg, STORE_KEY_MAX + 1, "%s", key);
    return false;
}

/* A learn whose last write fails changes nothing: the learnt-message mark's key already holds
 * a counter, so setting the mark fails after the token and message counts (the old code had
 * counted them in transactions of their own). */
static void assert_learn_all_or_nothing(struct store *s)
{
    struct bayes_db db, scratch;
    assert_true(bayes_db_init(&db, s, "global", 21ULL * 86400 * 1000, 0));
    assert_true(bayes_db_init(&scratch, s, "scratch", 0, 0));
    train(&db);
    struct bayes_tokens set = { 0 };
    tokens_of(true, 5000, &set);
    enum bayes_learn_outcome outcome;
    /* the message's mark key, as the scratch database names it, taken over by a counter */
    assert_int_equal(bayes_db_learn(&scratch, &set, true, &outcome), STORE_OK);
    char key[STORE_KEY_MAX + 1] = "";
    assert_int_equal(store_scan(s, "bayes:scratch:seen:", find_seen_key, key, NULL), STORE_OK);
    assert_true(key[0] != '\0');
    char taken[STORE_KEY_MAX + 1];
    snprintf(taken, sizeof taken, "bayes:global:%s", key + strlen("bayes:scratch:"));
    assert_int_equal(store_counter_add(s, taken, 1, 0, NULL, NULL), STORE_OK);
    int64_t spam_before, ham_before, token_spam_before, token_ham_before;
    assert_int_equal(bayes_db_message_counts(&db, &spam_before, &ham_before), STORE_OK);
    assert_int_equal(bayes_db_token_counts(&db, set.items[0].key, &token_spam_before,
        &token_ham_before), STORE_OK);
    assert_int_equal(bayes_db_learn(&db, &set, true, &outcome), STORE_INVALID);
    int64_t spam_after, ham_after, token_spam_after, token_ham_after;
    assert_int_equal(bayes_db_message_counts(&db, &spam_after, &ham_after), STORE_OK);
    assert_int_equal(bayes_db_token_counts(&db, set.items[0].key, &token_spam_after,
        &token_ham_after), STORE_OK);
    assert_int_equal(spam_after, spam_before);
    assert_int_equal(ham_after, ham_before);
    assert_int_equal(token_spam_after, token_spam_before);
    assert_int_equal(token_ham_after, token_ham_before);
    bayes_tokens_free(&set);
}

static void test_learn_all_or_nothing_memory(void **state)
{
    (void)state;
    struct store *s = memory_store();
    assert_learn_all_or_nothing(s);
    store_free(s);
}

static void test_learn_all_or_nothing_lmdb(void **state)
{
    (void)state;
    fresh_lmdb_dir("all-or-nothing");
    struct store *s = lmdb_store(NULL);
    assert_learn_all_or_nothing(s);
    store_free(s);
}

/* The calls of one command in INFO commandstats ("cmdstat_mget:calls=1,..."); 0 when absent. */
static long command_calls(redisContext *c, const char *command)
{
    redisReply *reply = redisCommand(c, "INFO commandstats");
    assert_non_null(reply);
    assert_non_null(reply->str);
    char needle[64];
    snprintf(needle, sizeof needle, "cmdstat_%s:calls=", command);
    const char *at = strstr(reply->str, needle);
    long calls = at != NULL ? strtol(at + strlen(needle), NULL, 10) : 0;
    freeReplyObject(reply);
    return calls;
}

static void redis_do(redisContext *c, const char *command)
{
    redisReply *reply = redisCommand(c, command);
    assert_non_null(reply);
    if (reply->type == REDIS_REPLY_ERROR)
        fail_msg("%s: %s", command, reply->str);
    freeReplyObject(reply);
}

static long long redis_dbsize(redisContext *c)
{
    redisReply *reply = redisCommand(c, "DBSIZE");
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    long long n = reply->integer;
    freeReplyObject(reply);
    return n;
}

/* A real redis-server with a trained database, and a second connection to watch it. */
struct redis_bench {
    char dir[40];
    pid_t pid;
    struct store *store;
    struct bayes_db db;
    redisContext *watch;
};

/* The bench of the running test, stopped by its teardown even when an assertion failed. */
static struct redis_bench *running_bench;

static bool redis_bench_start(struct redis_bench *b)
{
    if (!redis_fixture_installed(false))
        return false;
    *b = (struct redis_bench){ .pid = 0 };
    running_bench = b;
    snprintf(b->dir, sizeof b->dir, "/tmp/mw-test-bayes-redis.XXXXXX");
    assert_true(redis_fixture_make_dir(b->dir));
    int port = redis_fixture_free_port();
    assert_true(port > 0);
    b->pid = redis_fixture_start(port, b->dir, NULL);
    assert_true(redis_fixture_wait(port, 5000));
    static char host[] = "127.0.0.1", prefix[] = "mw:";
    struct store_settings st = {
        .backend = STORE_REDIS, .max_keys = 10000, .fail_mode = STORE_FAIL_TEMPFAIL,
        .redis_host = host, .redis_port = port, .redis_prefix = prefix,
        .connect_timeout_ms = 2000, .command_timeout_ms = 5000, .retry_interval_ms = 1,
        .pool_size = 2,
    };
    b->store = store_wrap(&store_redis_ops, store_redis_new(&st), "redis test",
        STORE_FAIL_TEMPFAIL);
    assert_true(bayes_db_init(&b->db, b->store, "global", 21ULL * 86400 * 1000, 0));
    train(&b->db);
    b->watch = redis_fixture_connect(port, 2000);
    assert_non_null(b->watch);
    return true;
}

static void redis_bench_stop(struct redis_bench *b)
{
    running_bench = NULL;
    if (b->watch != NULL)
        redisFree(b->watch);
    b->watch = NULL;
    if (b->store != NULL)
        store_free(b->store);
    b->store = NULL;
    redis_fixture_stop(&b->pid);
    if (b->dir[0] != '\0')
        (void)redis_fixture_remove_dir(b->dir);
    b->dir[0] = '\0';
}

static int redis_bench_teardown(void **state)
{
    (void)state;
    if (running_bench != NULL)
        redis_bench_stop(running_bench);
    return 0;
}

/* On a real redis-server a message is classified with one MGET of its tokens (and its
 * message counts), not a GET per token, and its significant tokens' age is renewed in one
 * MULTI/EXEC; a learn is one MULTI/EXEC. */
static void test_redis_one_round_trip_per_message(void **state)
{
    (void)state;
    static struct redis_bench b;     /* outlives a failed assertion: the teardown stops it */
    if (!redis_bench_start(&b))
        skip();
    redis_do(b.watch, "CONFIG RESETSTAT");
    bool scored = false;
    double p = classify_one(&b.db, true, TEST_FROM, &scored);
    assert_true(scored && p > 0.99);
    assert_int_equal(command_calls(b.watch, "mget"), 1);
    assert_int_equal(command_calls(b.watch, "get"), 0);
    assert_int_equal(command_calls(b.watch, "exec"), 1);

    struct bayes_tokens set = { 0 };
    tokens_of(true, 6000, &set);
    enum bayes_learn_outcome outcome;
    redis_do(b.watch, "CONFIG RESETSTAT");
    assert_int_equal(bayes_db_learn(&b.db, &set, true, &outcome), STORE_OK);
    assert_int_equal(outcome, BAYES_LEARNT);
    assert_int_equal(command_calls(b.watch, "multi"), 1);
    assert_int_equal(command_calls(b.watch, "exec"), 1);
    assert_int_equal(command_calls(b.watch, "incrby"), (long)set.count + 1);
    bayes_tokens_free(&set);
    redis_bench_stop(&b);
}

/* A learn whose transaction the server refuses (an ACL denies SET, so the queued write of the
 * learnt-message mark is rejected and EXEC aborts) changes nothing; once SET is allowed again
 * the same learn counts. */
static void test_redis_refused_learn_changes_nothing(void **state)
{
    (void)state;
    static struct redis_bench b;     /* outlives a failed assertion: the teardown stops it */
    if (!redis_bench_start(&b))
        skip();
    struct bayes_tokens set = { 0 };
    tokens_of(true, 6001, &set);
    enum bayes_learn_outcome outcome;
    int64_t spam_before, ham_before;
    assert_int_equal(bayes_db_message_counts(&b.db, &spam_before, &ham_before), STORE_OK);
    long long keys_before = redis_dbsize(b.watch);
    redis_do(b.watch, "ACL SETUSER default -set");
    assert_int_equal(bayes_db_learn(&b.db, &set, true, &outcome), STORE_DOWN);
    redis_do(b.watch, "ACL SETUSER default +set");
    assert_int_equal(redis_dbsize(b.watch), keys_before);
    int64_t spam_after = -1, ham_after = -1;
    enum store_status status = STORE_DOWN;
    for (int i = 0; i < 200 && status != STORE_OK; i++) {     /* past the retry interval */
        status = bayes_db_message_counts(&b.db, &spam_after, &ham_after);
        if (status != STORE_OK)
            redis_fixture_sleep_ms(5);
    }
    assert_int_equal(status, STORE_OK);
    assert_int_equal(spam_after, spam_before);
    assert_int_equal(ham_after, ham_before);
    assert_int_equal(bayes_db_learn(&b.db, &set, true, &outcome), STORE_OK);
    assert_int_equal(bayes_db_message_counts(&b.db, &spam_after, &ham_after), STORE_OK);
    assert_int_equal(spam_after, spam_before + 1);
    bayes_tokens_free(&set);
    redis_bench_stop(&b);
}

/* Size expiry keeps 3/4 of max_tokens, the most frequent; age expiry (token_ttl) drops tokens
 * that were not used for that long. */
static void test_expiry_by_size_and_age(void **state)
{
    (void)state;
    fresh_lmdb_dir("expiry");
    void *impl;
    struct store *s = lmdb_store(&impl);
    fake_now_us = 1700000000LL * 1000000;
    store_lmdb_set_clock(impl, fake_clock);
    struct bayes_db db;
    assert_true(bayes_db_init(&db, s, "global", 3600 * 1000, 0));
    train(&db);
    uint64_t tokens = 0, removed = 0;
    assert_int_equal(bayes_db_expire(&db, 0, &tokens, &removed), STORE_OK);
    assert_true(tokens > 400);
    assert_int_equal(removed, 0);
    uint64_t before = tokens;
    assert_int_equal(bayes_db_expire(&db, 400, &tokens, &removed), STORE_OK);
    assert_int_equal(tokens, 300);
    assert_int_equal(removed, before - 300);
    /* the mailer token (in every spam) is among the most frequent: kept */
    struct bayes_tokens set = { 0 };
    struct bayes_header h = { "X-Mailer", "MassMailer Pro 3.1" };
    struct bayes_message msg = { .headers = &h, .header_count = 1 };
    bayes_tokenize_message(&msg, &set);
    int64_t ts, th;
    bayes_db_token_counts(&db, set.items[0].key, &ts, &th);
    assert_int_equal(ts, TRAIN);
    /* an hour and a second later, nothing learnt or used since: every token has expired */
    fake_now_us += 3601LL * 1000000;
    bayes_db_token_counts(&db, set.items[0].key, &ts, &th);
    assert_int_equal(ts + th, 0);
    bayes_tokens_free(&set);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trained_db_classifies_unseen_mail),
        cmocka_unit_test(test_no_score_below_minimum_counts),
        cmocka_unit_test(test_learn_twice_relearn_and_forget),
        cmocka_unit_test(test_lmdb_db_survives_restart),
        cmocka_unit_test(test_concurrent_learn_and_classify),
        cmocka_unit_test(test_redis_and_lmdb_agree),
        cmocka_unit_test(test_learn_all_or_nothing_memory),
        cmocka_unit_test(test_learn_all_or_nothing_lmdb),
        cmocka_unit_test_teardown(test_redis_one_round_trip_per_message, redis_bench_teardown),
        cmocka_unit_test_teardown(test_redis_refused_learn_changes_nothing, redis_bench_teardown),
        cmocka_unit_test(test_expiry_by_size_and_age),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
