/* test_gcra.c - GCRA with a fake clock (the caller's now_us): a burst of N passes and the
 * N+1st is refused with the right retry-after; after exactly one emission interval exactly
 * one more passes (and not a microsecond earlier); long idle refills to the burst and no
 * more; the clock going backwards never blocks a key longer than one burst refill; cost > 1
 * (bytes, recipients); rates parsed as admins write them, and bad ones refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gcra.h"

#define S 1000000LL

struct key_state {
    bool have;
    int64_t tat;
};

/* One decision against a key's state, as a store does it. */
static bool take(const struct gcra_limit *l, struct key_state *k, int64_t cost, int64_t now,
    int64_t *retry)
{
    struct gcra_result r;
    gcra_decide(l, k->have, k->tat, cost, now, &r);
    if (r.store) {
        k->have = true;
        k->tat = r.new_tat_us;
    }
    if (retry != NULL)
        *retry = r.retry_after_us;
    return r.allowed;
}

static struct gcra_limit make(const char *rate, int64_t burst)
{
    int64_t count, period;
    const char *why = NULL;
    struct gcra_limit l;
    assert_true(gcra_parse_rate(rate, &count, &period, &why));
    assert_true(gcra_limit_make(count, period, burst, &l, &why));
    return l;
}

static void test_parse_rates(void **state)
{
    (void)state;
    int64_t count, period;
    const char *why;
    assert_true(gcra_parse_rate("100/1h", &count, &period, &why));
    assert_int_equal(count, 100);
    assert_int_equal(period, 3600 * S);
    assert_true(gcra_parse_rate("10/1m", &count, &period, &why));
    assert_int_equal(period, 60 * S);
    assert_true(gcra_parse_rate("5000/1d", &count, &period, &why));
    assert_int_equal(count, 5000);
    assert_int_equal(period, 86400 * S);
    assert_true(gcra_parse_rate("3/30s", &count, &period, &why));
    assert_int_equal(period, 30 * S);
    assert_true(gcra_parse_rate("500M/1d", &count, &period, &why));
    assert_int_equal(count, 500000000);
    assert_true(gcra_parse_rate("7/h", &count, &period, &why));
    assert_int_equal(period, 3600 * S);
    struct gcra_limit l = make("100/1h", 5);
    assert_int_equal(l.emission_us, 36 * S);
    assert_int_equal(l.burst, 5);
    l = make("5000/1d", 1);
    assert_int_equal(l.emission_us, 17280000);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    int64_t count, period;
    const char *why = NULL;
    const char *bad[] = {"", "100", "100/", "/1h", "0/1h", "100/1x", "100/0h", "-5/1h", "1e3/1h",
        "100/1h ", "100 /1h", "99999999999999999999/1h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_false(gcra_parse_rate(bad[i], &count, &period, &why));
        assert_non_null(why);
    }
    struct gcra_limit l;
    assert_false(gcra_limit_make(2000000, S, 1, &l, &why));      /* finer than 1 us */
    assert_false(gcra_limit_make(1, S, 0, &l, &why));            /* burst 0 */
}

/* A burst of N passes at once; the N+1st is refused and told to come back in one interval. */
static void test_burst_exact(void **state)
{
    (void)state;
    struct gcra_limit l = make("10/1m", 5);      /* T = 6 s */
    struct key_state k = {0};
    int64_t now = 1000 * S, retry;
    for (int i = 0; i < 5; i++)
        assert_true(take(&l, &k, 1, now, NULL));
    assert_false(take(&l, &k, 1, now, &retry));
    assert_int_equal(retry, 6 * S);
    /* a refusal consumes nothing: the same answer again */
    assert_false(take(&l, &k, 1, now, &retry));
    assert_int_equal(retry, 6 * S);
}

/* After exactly one emission interval exactly one more passes; one microsecond early, none. */
static void test_refill_one_per_interval(void **state)
{
    (void)state;
    struct gcra_limit l = make("10/1m", 3);
    struct key_state k = {0};
    int64_t now = 50 * S, retry;
    for (int i = 0; i < 3; i++)
        assert_true(take(&l, &k, 1, now, NULL));
    assert_false(take(&l, &k, 1, now + 6 * S - 1, &retry));
    assert_int_equal(retry, 1);
    assert_true(take(&l, &k, 1, now + 6 * S, NULL));
    assert_false(take(&l, &k, 1, now + 6 * S, NULL));
    /* steady state: one per interval for a long time, no drift */
    for (int i = 2; i < 10000; i++) {
        assert_false(take(&l, &k, 1, now + i * 6 * S - 1, NULL));
        assert_true(take(&l, &k, 1, now + i * 6 * S, NULL));
    }
}

/* Rates whose interval is not a whole number of microseconds round the interval up: never
 * more than the rate. */
static void test_rounding_never_exceeds(void **state)
{
    (void)state;
    struct gcra_limit l = make("3/1s", 1);       /* 333333.33 us -> 333334 */
    assert_int_equal(l.emission_us, 333334);
    struct key_state k = {0};
    int passed = 0;
    for (int64_t t = 0; t < 60 * S; t += 1000)
        passed += take(&l, &k, 1, t, NULL);
    assert_true(passed <= 180);
    assert_true(passed >= 179);
}

/* A long idle refills the bucket to the burst, never beyond. */
static void test_long_idle(void **state)
{
    (void)state;
    struct gcra_limit l = make("100/1h", 4);
    struct key_state k = {0};
    int64_t now = 10 * S;
    for (int i = 0; i < 4; i++)
        assert_true(take(&l, &k, 1, now, NULL));
    now += 365LL * 86400 * S;                    /* a year later */
    for (int i = 0; i < 4; i++)
        assert_true(take(&l, &k, 1, now, NULL));
    assert_false(take(&l, &k, 1, now, NULL));
}

/* The clock steps back an hour: the key is refused at most until one burst refills. */
static void test_clock_backwards(void **state)
{
    (void)state;
    struct gcra_limit l = make("10/1m", 2);      /* T = 6 s, window 12 s */
    struct key_state k = {0};
    int64_t now = 7200 * S, retry;
    assert_true(take(&l, &k, 1, now, NULL));
    assert_true(take(&l, &k, 1, now, NULL));
    now -= 3600 * S;
    assert_false(take(&l, &k, 1, now, &retry));
    assert_true(retry <= 6 * S);
    assert_false(take(&l, &k, 1, now + retry - 1, NULL));
    assert_true(take(&l, &k, 1, now + retry, NULL));
    /* a small step back behind a full bucket: one interval to wait, no more */
    struct key_state k2 = {0};
    assert_true(take(&l, &k2, 1, 100 * S, NULL));
    assert_true(take(&l, &k2, 1, 100 * S, NULL));
    assert_false(take(&l, &k2, 1, 100 * S - 1, &retry));
    assert_int_equal(retry, 6 * S);                 /* the clamp: a full burst used now */
}

/* Cost > 1: recipients or bytes taken at once. */
static void test_cost(void **state)
{
    (void)state;
    struct gcra_limit l = make("1000/1s", 1000);   /* 1000 bytes/s, burst 1000 */
    struct key_state k = {0};
    int64_t now = S, retry;
    assert_true(take(&l, &k, 600, now, NULL));
    assert_false(take(&l, &k, 500, now, &retry));
    assert_int_equal(retry, 100 * 1000);          /* 100 bytes at 1 ms each */
    assert_true(take(&l, &k, 400, now, NULL));
    assert_false(take(&l, &k, 1, now, NULL));
    assert_true(take(&l, &k, 100, now + 100 * 1000, NULL));
    /* more than the burst never passes */
    struct key_state fresh = {0};
    assert_false(take(&l, &fresh, 1001, now, NULL));
    assert_false(fresh.have);
    /* an absurd cost does not overflow */
    assert_false(take(&l, &fresh, INT64_MAX / 2, now, &retry));
    assert_true(retry > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rates),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_burst_exact),
        cmocka_unit_test(test_refill_one_per_interval),
        cmocka_unit_test(test_rounding_never_exceeds),
        cmocka_unit_test(test_long_idle),
        cmocka_unit_test(test_clock_backwards),
        cmocka_unit_test(test_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
