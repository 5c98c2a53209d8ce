/* test_stats.c - the metrics (filter/util/stats.c) and the `metrics` policy section
 * (filter/config/metrics_config.c): counters count exactly, also from threads racing on them; a
 * duration lands in the first bucket whose bound it does not pass (a bound is inclusive), and
 * the exposition text of the histogram, of messages_total and of a label that needs escaping is
 * exactly as the Prometheus text format 0.0.4 wants it; the symbol table is bounded; the policy
 * section is off by default, loopback when written, and a bad listen address or a port below
 * 1024 is an error with file, line and option. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_load.h"
#include "metrics_config.h"
#include "mw_build.h"
#include "stats.h"
#include "util.h"

static int reset(void **state)
{
    (void)state;
    stats_reset_for_tests();
    return 0;
}

/* The exposition text now. */
static char *exposition(void)
{
    struct textbuf t;
    textbuf_init(&t);
    stats_format(&t);
    return t.data;
}

static void assert_has_line(const char *text, const char *line)
{
    const char *p = text;
    size_t len = strlen(line);
    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[len] == '\n')
            return;
        p += len;
    }
    fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void test_messages_by_action_and_direction(void **state)
{
    (void)state;
    stats_message(ACTION_REJECT, false);
    stats_message(ACTION_REJECT, false);
    stats_message(ACTION_ACCEPT, true);
    stats_message(ACTION_NONE, false);          /* no decision: not a message outcome */
    char *text = exposition();
    assert_has_line(text, "# TYPE mailwarden_messages_total counter");
    assert_has_line(text, "mailwarden_messages_total{action=\"reject\",direction=\"inbound\"} 2");
    assert_has_line(text, "mailwarden_messages_total{action=\"accept\",direction=\"outbound\"} 1");
    assert_has_line(text, "mailwarden_messages_total{action=\"accept\",direction=\"inbound\"} 0");
    assert_null(strstr(text, "action=\"none\""));
    free(text);
}

static void test_histogram_buckets_and_text(void **state)
{
    (void)state;
    stats_check_time(0, "spf", 50000);          /* 50 us */
    stats_check_time(0, "spf", 100000);         /* exactly 0.0001 s: le is inclusive */
    stats_check_time(0, "spf", 100001);         /* just over: the next bucket */
    stats_check_time(0, "spf", 3000000000u);    /* 3 s */
    stats_check_time(0, "spf", 20000000000u);   /* 20 s: only +Inf */
    char *text = exposition();
    const char *expected =
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.0001\"} 2\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.00025\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.0005\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.001\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.0025\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.005\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.01\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.025\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.05\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.1\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.25\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"0.5\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"1\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"2.5\"} 3\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"5\"} 4\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"10\"} 4\n"
        "mailwarden_check_duration_seconds_bucket{check=\"spf\",le=\"+Inf\"} 5\n"
        "mailwarden_check_duration_seconds_sum{check=\"spf\"} 23.000250001\n"
        "mailwarden_check_duration_seconds_count{check=\"spf\"} 5\n";
    if (strstr(text, expected) == NULL)
        fail_msg("the histogram is not\n%s\nin:\n%s", expected, text);
    assert_has_line(text, "# TYPE mailwarden_check_duration_seconds histogram");
    free(text);
}

static void test_label_escaping(void **state)
{
    (void)state;
    stats_symbol_hit("A\"B\\C\nD", false);
    stats_symbol_hit("PLAIN_SYMBOL", true);
    char *text = exposition();
    assert_has_line(text, "mailwarden_symbol_hits_total{symbol=\"A\\\"B\\\\C\\nD\"} 1");
    assert_has_line(text, "mailwarden_symbol_hits_total{symbol=\"PLAIN_SYMBOL\"} 0");
    assert_has_line(text, "mailwarden_shadow_symbol_hits_total{symbol=\"PLAIN_SYMBOL\"} 1");
    free(text);
}

static void test_symbol_names_are_bounded(void **state)
{
    (void)state;
    char name[32];
    for (int i = 0; i < STATS_MAX_SYMBOLS + 3; i++) {
        snprintf(name, sizeof name, "SYM_%d", i);
        stats_symbol_hit(name, false);
    }
    stats_symbol_hit("SYM_0", false);           /* a known name still counts */
    char *text = exposition();
    assert_has_line(text, "mailwarden_symbol_hits_dropped_total 3");
    assert_has_line(text, "mailwarden_symbol_hits_total{symbol=\"SYM_0\"} 2");
    free(text);
}

#define THREADS 4
#define PER_THREAD 200000

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        stats_message(ACTION_ACCEPT, false);
        stats_symbol_hit(i % 2 ? "ODD" : "EVEN", false);
        stats_connection_open();
        stats_connection_close();
        stats_store_op("memory", STATS_STORE_GCRA, i % 4 != 0);
    }
    return NULL;
}

static void test_no_lost_updates_across_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = exposition();
    assert_has_line(text, "mailwarden_messages_total{action=\"accept\",direction=\"inbound\"} 800000");
    assert_has_line(text, "mailwarden_symbol_hits_total{symbol=\"ODD\"} 400000");
    assert_has_line(text, "mailwarden_symbol_hits_total{symbol=\"EVEN\"} 400000");
    assert_has_line(text, "mailwarden_connections_total 800000");
    assert_has_line(text, "mailwarden_connections_open 0");
    assert_has_line(text, "mailwarden_store_operations_total{backend=\"memory\",op=\"gcra\"} 800000");
    assert_has_line(text, "mailwarden_store_errors_total{backend=\"memory\"} 200000");
    free(text);
}

static void test_other_families_and_build_info(void **state)
{
    (void)state;
    stats_reload(true);
    stats_reload(false);
    stats_reload(false);
    stats_ratelimit(STATS_RATELIMIT_WOULD_LIMIT);
    stats_greylist(STATS_GREYLIST_NEW);
    stats_dns_query();
    stats_dns_timeout();
    stats_transactions_add(+2);
    stats_protocol_error();
    char *text = exposition();
    assert_has_line(text, "mailwarden_reloads_total{outcome=\"success\"} 1");
    assert_has_line(text, "mailwarden_reloads_total{outcome=\"failure\"} 2");
    assert_has_line(text, "mailwarden_ratelimit_decisions_total{decision=\"would_limit\"} 1");
    assert_has_line(text, "mailwarden_greylist_decisions_total{decision=\"new\"} 1");
    assert_has_line(text, "mailwarden_dns_queries_total 1");
    assert_has_line(text, "mailwarden_dns_timeouts_total 1");
    assert_has_line(text, "mailwarden_transactions_in_flight 2");
    assert_has_line(text, "mailwarden_protocol_errors_total 1");
    assert_has_line(text, "mailwarden_build_info{version=\"" PACKAGE_VERSION "\"} 1");
    assert_has_line(text, "# TYPE process_start_time_seconds gauge");
    /* every line is a comment or NAME[{...}] VALUE */
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        const char *space = strrchr(line, ' ');
        assert_non_null(space);
        assert_true(strspn(line, "abcdefghijklmnopqrstuvwxyz_") > 0);
        char *end;
        strtod(space + 1, &end);
        assert_true(*end == '\0');
    }
    free(text);
}

/* --- the metrics section ------------------------------------------------------------------ */

static struct config *load(const char *text, struct config_errors *errs)
{
    char path[] = "/tmp/mw-test-stats.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "milter: { socket = \"unix:/tmp/mw-test-stats.sock\" }\n%s", text);
    fclose(f);
    struct config *cfg = config_load(path, errs);
    unlink(path);
    return cfg;
}

static void test_metrics_off_by_default_loopback_when_on(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = load("", &errs);
    assert_non_null(cfg);
    assert_false(cfg->metrics->enabled);
    config_free(cfg);
    cfg = load("metrics: { }\n", &errs);
    assert_non_null(cfg);
    assert_true(cfg->metrics->enabled);
    assert_string_equal(cfg->metrics->listen, "127.0.0.1:9466");
    assert_int_equal(cfg->metrics->listen_port, 9466);
    struct ipaddr a;
    assert_true(ipaddr_parse("127.0.0.1", &a));
    assert_true(cidr_list_contains(&cfg->metrics->allow, &a));
    assert_true(ipaddr_parse("::1", &a));
    assert_true(cidr_list_contains(&cfg->metrics->allow, &a));
    assert_true(ipaddr_parse("192.0.2.1", &a));
    assert_false(cidr_list_contains(&cfg->metrics->allow, &a));
    config_free(cfg);
    cfg = load("metrics: { enabled = false; listen = \"[::1]:9500\"; allow = [ \"10.0.0.0/8\" ] }\n",
        &errs);
    assert_non_null(cfg);
    assert_false(cfg->metrics->enabled);
    assert_int_equal(cfg->metrics->listen_port, 9500);
    assert_true(ipaddr_parse("10.1.2.3", &a));
    assert_true(cidr_list_contains(&cfg->metrics->allow, &a));
    assert_true(ipaddr_parse("127.0.0.1", &a));
    assert_false(cidr_list_contains(&cfg->metrics->allow, &a));
    config_free(cfg);
}

static void expect_listen_error(const char *value, const char *reason)
{
    struct config_errors errs = {0};
    char *text = xasprintf("metrics: {\n  listen = \"%s\";\n}\n", value);
    struct config *cfg = load(text, &errs);
    free(text);
    assert_null(cfg);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 3);
    assert_string_equal(errs.items[0].option, "metrics.listen");
    if (strstr(errs.items[0].reason, reason) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", errs.items[0].reason, reason);
    config_errors_free(&errs);
}

static void test_metrics_bad_listen_refused(void **state)
{
    (void)state;
    expect_listen_error("127.0.0.1:80", "below 1024");
    expect_listen_error("127.0.0.1:0", "1024 to 65535");
    expect_listen_error("127.0.0.1:70000", "1024 to 65535");
    expect_listen_error("localhost:9466", "not an IP address");
    expect_listen_error("::1:9466", "brackets");
    expect_listen_error("9466", "HOST:PORT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_messages_by_action_and_direction, reset),
        cmocka_unit_test_setup(test_histogram_buckets_and_text, reset),
        cmocka_unit_test_setup(test_label_escaping, reset),
        cmocka_unit_test_setup(test_symbol_names_are_bounded, reset),
        cmocka_unit_test_setup(test_no_lost_updates_across_threads, reset),
        cmocka_unit_test_setup(test_other_families_and_build_info, reset),
        cmocka_unit_test(test_metrics_off_by_default_loopback_when_on),
        cmocka_unit_test(test_metrics_bad_listen_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stats_reset_for_tests();      /* frees the symbol names (LeakSanitizer) */
    return rc;
}
