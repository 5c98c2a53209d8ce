/* test_dns_cache.c - the answer cache in front of libunbound (dns_cache.c), on a fake clock:
 * answers come back as deep copies with the seconds they have left, and never after their TTL
 * or dns.cache_max_ttl; names compare without case and final dot, types do not mix; failures,
 * timeouts and TTL 0 are never kept; NXDOMAIN and the DNSSEC status are; the size bound drops
 * the oldest first; threads may use it at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_cache.h"

#define T0 1000000ULL      /* ms on the fake clock */

static struct dns_answer answer_of(enum dns_status status, int ttl, const char *record)
{
    struct dns_answer a = { .status = status, .rcode = status == DNS_NXDOMAIN ? 3 : 0,
        .ttl = ttl };
    if (status == DNS_OK) {
        a.data = calloc(2, sizeof(char *));
        assert_non_null(a.data);
        if (record != NULL) {
            a.data[0] = strdup(record);
            a.count = 1;
        }
    }
    return a;
}

static void put(struct dns_cache *c, const char *name, int type, uint64_t now,
    enum dns_status status, int ttl, const char *record)
{
    struct dns_answer a = answer_of(status, ttl, record);
    dns_cache_put(c, name, type, now, &a);
    dns_answer_free(&a);
}

static void test_an_answer_comes_back_until_its_ttl_ends(void **state)
{
    (void)state;
    struct dns_cache *c = dns_cache_new(100, 0);
    put(c, "example.test", 16, T0, DNS_OK, 300, "v=spf1 -all");
    struct dns_answer a;
    assert_true(dns_cache_get(c, "example.test", 16, T0 + 1000, &a));
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "v=spf1 -all");
    assert_null(a.data[1]);
    assert_int_equal(a.ttl, 299);
    dns_answer_free(&a);
    assert_true(dns_cache_get(c, "example.test", 16, T0 + 299500, &a));
    assert_int_equal(a.ttl, 1);
    dns_answer_free(&a);
    assert_false(dns_cache_get(c, "example.test", 16, T0 + 300000, &a));
    assert_int_equal(dns_cache_count(c), 0);     /* the expired entry was dropped */
    dns_cache_free(c);
}

static void test_names_ignore_case_and_final_dot_types_do_not_mix(void **state)
{
    (void)state;
    struct dns_cache *c = dns_cache_new(100, 0);
    put(c, "Mail.Example.TEST.", 1, T0, DNS_OK, 60, "192.0.2.1");
    struct dns_answer a;
    assert_true(dns_cache_get(c, "mail.example.test", 1, T0, &a));
    assert_string_equal(a.data[0], "192.0.2.1");
    dns_answer_free(&a);
    assert_false(dns_cache_get(c, "mail.example.test", 28, T0, &a));
    assert_false(dns_cache_get(c, "example.test", 1, T0, &a));
    dns_cache_free(c);
}

static void test_failures_and_ttl_zero_are_not_kept(void **state)
{
    (void)state;
    struct dns_cache *c = dns_cache_new(100, 0);
    put(c, "a.test", 16, T0, DNS_SERVFAIL, 300, NULL);
    put(c, "b.test", 16, T0, DNS_TIMEOUT, 300, NULL);
    put(c, "c.test", 16, T0, DNS_ERROR, 300, NULL);
    put(c, "d.test", 16, T0, DNS_OK, 0, "x");
    assert_int_equal(dns_cache_count(c), 0);
    struct dns_answer a;
    assert_false(dns_cache_get(c, "a.test", 16, T0, &a));
    assert_false(dns_cache_get(c, "d.test", 16, T0, &a));
    dns_cache_free(c);
}

static void test_nxdomain_nodata_and_dnssec_status_are_kept(void **state)
{
    (void)state;
    struct dns_cache *c = dns_cache_new(100, 0);
    put(c, "gone.test", 16, T0, DNS_NXDOMAIN, 120, NULL);
    struct dns_answer nodata = answer_of(DNS_OK, 120, NULL);
    nodata.secure = true;
    dns_cache_put(c, "empty.test", 16, T0, &nodata);
    dns_answer_free(&nodata);
    struct dns_answer a;
    assert_true(dns_cache_get(c, "gone.test", 16, T0, &a));
    assert_int_equal(a.status, DNS_NXDOMAIN);
    assert_int_equal(a.rcode, 3);
    assert_int_equal(a.count, 0);
    assert_false(a.secure);
    dns_answer_free(&a);
    assert_true(dns_cache_get(c, "empty.test", 16, T0, &a));
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 0);
    assert_true(a.secure);
    dns_answer_free(&a);
    dns_cache_free(c);
}

static void test_cache_max_ttl_caps_the_ttl(void **state)
{
    (void)state;
    struct dns_cache *c = dns_cache_new(100, 10);
    put(c, "example.test", 16, T0, DNS_OK, 86400, "x");
    struct dns_answer a;
    assert_true(dns_cache_get(c, "example.test", 16, T0 + 9000, &a));
    assert_int_equal(a.ttl, 1);
    dns_answer_free(&a);
    assert_false(dns_cache_get(c, "example.test", 16, T0 + 10000, &a));
    dns_cache_free(c);
}

static void test_the_bound_drops_the_oldest(void **state)
{
    (void)state;
    struct dns_cache *c = dns_cache_new(64, 0);
    char name[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "host%d.test", i);
        put(c, name, 1, T0, DNS_OK, 300, "192.0.2.1");
    }
    assert_true(dns_cache_count(c) <= 64);
    assert_true(dns_cache_count(c) >= 32);
    struct dns_answer a;
    assert_true(dns_cache_get(c, "host999.test", 1, T0, &a));   /* the newest stays */
    dns_answer_free(&a);
    assert_false(dns_cache_get(c, "host0.test", 1, T0, &a));    /* the oldest went */
    /* the same name kept again replaces its entry */
    put(c, "host999.test", 1, T0, DNS_OK, 300, "192.0.2.2");
    assert_true(dns_cache_get(c, "host999.test", 1, T0, &a));
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "192.0.2.2");
    dns_answer_free(&a);
    dns_cache_free(c);

    c = dns_cache_new(0, 0);                       /* a size of 0 keeps nothing */
    put(c, "example.test", 1, T0, DNS_OK, 300, "192.0.2.1");
    assert_int_equal(dns_cache_count(c), 0);
    dns_cache_free(c);
}

static struct dns_cache *shared;

static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char name[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "h%d.test", (i * 7 + id) % 300);
        struct dns_answer a;
        if (dns_cache_get(shared, name, 1, T0, &a)) {
            if (a.count != 1 || strcmp(a.data[0], name) != 0)
                abort();
            dns_answer_free(&a);
        } else {
            put(shared, name, 1, T0, DNS_OK, 300, name);
        }
    }
    return NULL;
}

static void test_threads_share_it(void **state)
{
    (void)state;
    shared = dns_cache_new(128, 0);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(dns_cache_count(shared) <= 128);
    dns_cache_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_answer_comes_back_until_its_ttl_ends),
        cmocka_unit_test(test_names_ignore_case_and_final_dot_types_do_not_mix),
        cmocka_unit_test(test_failures_and_ttl_zero_are_not_kept),
        cmocka_unit_test(test_nxdomain_nodata_and_dnssec_status_are_kept),
        cmocka_unit_test(test_cache_max_ttl_caps_the_ttl),
        cmocka_unit_test(test_the_bound_drops_the_oldest),
        cmocka_unit_test(test_threads_share_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
