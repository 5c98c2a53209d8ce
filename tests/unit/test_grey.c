/* test_grey.c - greylisting decisions (grey.c) on a fake clock, as test_gcra.c does for rate
 * limits: a new triplet waits the delay and is kept for the retry window; a retry before the
 * delay waits the rest (exactly: not a microsecond less) and keeps only what is left of the
 * window; a retry at the delay passes and is remembered; a passed triplet stays passed and is
 * refreshed; a forgotten (expired) triplet starts again; the triplet key is the client's
 * network, the sender (<> for the null sender) and the recipient, lower case, cut at 320. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "grey.h"

#define S 1000000LL

static const struct grey_params params = {
    .delay_us = 300 * S, .retry_window_us = 3600 * S, .remember_us = 30 * 86400 * S,
};

/* The record a store keeps for one triplet, with its expiry on the fake clock. */
struct triplet {
    bool have;
    struct grey_record rec;
    int64_t expires_us;
};

/* One attempt at now, as a store does it: expired records are gone. */
static struct grey_result attempt(struct triplet *k, int64_t now, int64_t *ttl)
{
    if (k->have && now >= k->expires_us)
        k->have = false;
    struct grey_result r;
    int64_t ttl_us = 0;
    grey_decide(&params, k->have, &k->rec, now, &r, &ttl_us);
    k->have = true;
    k->expires_us = now + ttl_us;
    if (ttl != NULL)
        *ttl = ttl_us;
    return r;
}

static void test_new_triplet_waits_the_delay(void **state)
{
    (void)state;
    struct triplet k = {0};
    int64_t ttl;
    struct grey_result r = attempt(&k, 5000 * S, &ttl);
    assert_int_equal(r.state, GREY_NEW);
    assert_int_equal(r.wait_us, 300 * S);
    assert_int_equal(ttl, 3600 * S);
    assert_int_equal(k.rec.first_seen_us, 5000 * S);
    assert_false(k.rec.passed);
}

static void test_early_retry_waits_the_rest_exactly(void **state)
{
    (void)state;
    struct triplet k = {0};
    int64_t ttl;
    attempt(&k, 5000 * S, NULL);
    struct grey_result r = attempt(&k, 5100 * S, &ttl);
    assert_int_equal(r.state, GREY_EARLY);
    assert_int_equal(r.wait_us, 200 * S);
    assert_int_equal(ttl, 3500 * S);              /* what is left of the window, not a new one */
    r = attempt(&k, 5300 * S - 1, NULL);
    assert_int_equal(r.state, GREY_EARLY);
    assert_int_equal(r.wait_us, 1);
    assert_int_equal(k.rec.first_seen_us, 5000 * S);   /* an early retry never restarts the clock */
}

static void test_retry_at_the_delay_passes_and_is_remembered(void **state)
{
    (void)state;
    struct triplet k = {0};
    int64_t ttl;
    attempt(&k, 5000 * S, NULL);
    struct grey_result r = attempt(&k, 5300 * S, &ttl);
    assert_int_equal(r.state, GREY_PASSED);
    assert_int_equal(r.wait_us, 0);
    assert_int_equal(ttl, 30 * 86400 * S);
    assert_true(k.rec.passed);
    r = attempt(&k, 5300 * S + 20 * 86400 * S, &ttl);     /* known: passes, refreshed */
    assert_int_equal(r.state, GREY_PASSED);
    assert_int_equal(ttl, 30 * 86400 * S);
    r = attempt(&k, 5300 * S + 45 * 86400 * S, NULL);     /* within 30 days of the refresh */
    assert_int_equal(r.state, GREY_PASSED);
}

static void test_forgotten_triplet_starts_again(void **state)
{
    (void)state;
    struct triplet k = {0};
    attempt(&k, 5000 * S, NULL);
    struct grey_result r = attempt(&k, 5000 * S + 3601 * S, NULL);   /* past the window */
    assert_int_equal(r.state, GREY_NEW);
    assert_int_equal(k.rec.first_seen_us, 8601 * S);
    attempt(&k, 8601 * S + 300 * S, NULL);
    r = attempt(&k, 8901 * S + 30 * 86400 * S, NULL);                /* past remember */
    assert_int_equal(r.state, GREY_NEW);
}

/* A retry in the last microsecond of the window, still early, keeps the record a moment. */
static void test_window_end_keeps_a_positive_ttl(void **state)
{
    (void)state;
    struct grey_params p = {.delay_us = 10 * S, .retry_window_us = 5 * S, .remember_us = S};
    struct grey_record rec = {.first_seen_us = 100 * S, .passed = false};
    struct grey_result r;
    int64_t ttl = 0;
    grey_decide(&p, true, &rec, 106 * S, &r, &ttl);
    assert_int_equal(r.state, GREY_EARLY);
    assert_int_equal(r.wait_us, 4 * S);
    assert_int_equal(ttl, 1);
}

static void test_triplet_key(void **state)
{
    (void)state;
    struct ipaddr a;
    assert_true(ipaddr_parse("203.0.113.200", &a));
    char *key = grey_triplet_key(&a, 24, 64, "A@Sender.Example", "Bob@Example.org");
    assert_string_equal(key, "gl:203.0.113.0/24|a@sender.example|bob@example.org");
    free(key);
    key = grey_triplet_key(&a, 24, 64, "", "bob@example.org");
    assert_string_equal(key, "gl:203.0.113.0/24|<>|bob@example.org");
    free(key);
    assert_true(ipaddr_parse("2001:db8:1:2:3::4", &a));
    key = grey_triplet_key(&a, 24, 64, NULL, "bob@example.org");
    assert_string_equal(key, "gl:2001:db8:1:2::/64|<>|bob@example.org");
    free(key);
    char long_sender[400];
    memset(long_sender, 'x', sizeof long_sender - 1);
    long_sender[sizeof long_sender - 1] = '\0';
    key = grey_triplet_key(&a, 24, 64, long_sender, "bob@example.org");
    assert_int_equal(strlen(key), strlen("gl:2001:db8:1:2::/64||bob@example.org") + 320);
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_triplet_waits_the_delay),
        cmocka_unit_test(test_early_retry_waits_the_rest_exactly),
        cmocka_unit_test(test_retry_at_the_delay_passes_and_is_remembered),
        cmocka_unit_test(test_forgotten_triplet_starts_again),
        cmocka_unit_test(test_window_end_keeps_a_positive_ttl),
        cmocka_unit_test(test_triplet_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
