/* SPDX-License-Identifier: BSD-2-Clause */
/* test_dns.c - the resolver (dns.c) against a real DNS server: tests/tools/dnsserver.py on
 * loopback, serving a zone written here into a temporary directory.
 *
 * Promises: the server is stopped and waited for, and the directory removed, whatever the
 * tests do (group teardown); without Debian's python3-dnslib the test is skipped (exit 77). */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "stats.h"
#include "util.h"

#define PYTHON "/usr/bin/python3"
#define SERVER_SCRIPT SRCDIR "/tests/tools/dnsserver.py"
#define SKIP_STATUS 77
#define HOSTS 800                   /* distinct names for the concurrency test */
#define THREADS 16
#define QUERIES_PER_THREAD (HOSTS / THREADS)
#define LATE_NAMES 4
#define SILENT_NAMES 8
#define BIG_STRINGS 8
#define BIG_STRING_LEN 250

static struct {
    char dir[64];
    char zone_file[128];
    char port_file[128];
    char log_file[128];
    pid_t server;
    int port;
    struct config *cfg;
    struct dns_resolver *resolver;
} fx = { .server = -1 };

/* --- helpers ------------------------------------------------------------------------------ */

static uint64_t clock_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static bool python_has_dnslib(void)
{
    int status, devnull;
    pid_t pid = fork();

    if (pid < 0)
        return false;
    if (pid == 0) {
        devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execl(PYTHON, PYTHON, "-c", "import dnslib", (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid)
        return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static char *host_name(int i, char *buf, size_t size)
{
    snprintf(buf, size, "host%d.example.com", i);
    return buf;
}

/* Even hosts have an A record, odd ones a TXT record, each different. */
static char *host_data(int i, char *buf, size_t size)
{
    if (i % 2 == 0)
        snprintf(buf, size, "10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
    else
        snprintf(buf, size, "host=%d", i);
    return buf;
}

static char big_char(int string)
{
    return (char)('a' + string);
}

static bool write_zone(const char *path)
{
    FILE *f = fopen(path, "w");
    char name[64], data[64];
    int i, j;

    if (f == NULL)
        return false;
    fputs("# written by test_dns.c\n"
          "a.example.com A 192.0.2.1\n"
          "a.example.com A 192.0.2.2\n"
          "a.example.com AAAA 2001:db8::1\n"
          "example.com MX 10 mx1.example.com\n"
          "example.com MX 20 mx2.example.com.\n"
          "34.216.184.93.in-addr.arpa PTR a.example.com.\n"
          "5.0.0.10.in-addr.arpa PTR internal.example.com\n"
          "spf.example.com TXT \"v=spf1 \" \"ip4:192.0.2.0/24 -all\"\n"
          "alias.example.com CNAME a.example.com\n"
          "short.example.com A 192.0.2.7 ttl=42\n"
          "example.com NS ns1.example.com\n"
          "_sip._udp.example.com SRV 10 5 5060 sip.example.com\n"
          "nullmx.example.com MX 0 .\n"
          "spf.example.com SPF \"v=spf1 -all\"\n"
          "nul.example.com TXT \"a\\000b\"\n"
          "broken.example.com SERVFAIL\n"
          "dead.example.com TIMEOUT\n", f);
    for (i = 0; i < SILENT_NAMES; i++)
        fprintf(f, "silent%d.example.com TIMEOUT\n", i);
    fputs("big.example.com TXT", f);
    for (i = 0; i < BIG_STRINGS; i++) {
        fputs(" \"", f);
        for (j = 0; j < BIG_STRING_LEN; j++)
            fputc(big_char(i), f);
        fputc('"', f);
    }
    fputc('\n', f);
    for (i = 0; i < LATE_NAMES; i++) {
        fprintf(f, "late%d.example.com DELAY 250\n", i);
        fprintf(f, "late%d.example.com A 192.0.2.%d\n", i, 100 + i);
    }
    for (i = 0; i < HOSTS; i++) {
        host_name(i, name, sizeof(name));
        host_data(i, data, sizeof(data));
        if (i % 2 == 0)
            fprintf(f, "%s A %s\n", name, data);
        else
            fprintf(f, "%s TXT \"%s\"\n", name, data);
    }
    return fclose(f) == 0;
}

static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    int port = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%d", &port) != 1)
        port = 0;
    fclose(f);
    return port;
}

static bool start_server(void)
{
    uint64_t give_up = clock_ms() + 10000;
    int status;

    fx.server = fork();
    if (fx.server < 0)
        return false;
    if (fx.server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);     /* never outlive a crashed test */
        execl(PYTHON, PYTHON, SERVER_SCRIPT, "--port", "0", "--port-file", fx.port_file,
            "--zone", fx.zone_file, "--log", fx.log_file, (char *)NULL);
        _exit(127);
    }
    while (clock_ms() < give_up) {
        fx.port = read_port(fx.port_file);
        if (fx.port > 0)
            return true;
        if (waitpid(fx.server, &status, WNOHANG) == fx.server) {
            fprintf(stderr, "dnsserver.py exited before listening\n");
            fx.server = -1;
            return false;
        }
        sleep_ms(20);
    }
    fprintf(stderr, "dnsserver.py did not write %s in time\n", fx.port_file);
    return false;
}

/* Stops the server; true when it exited with status 0 on SIGTERM, as it promises. */
static bool stop_server(void)
{
    uint64_t give_up = clock_ms() + 5000;
    int status;

    if (fx.server <= 0)
        return true;
    kill(fx.server, SIGTERM);
    while (clock_ms() < give_up) {
        if (waitpid(fx.server, &status, WNOHANG) == fx.server) {
            fx.server = -1;
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        sleep_ms(20);
    }
    kill(fx.server, SIGKILL);
    waitpid(fx.server, &status, 0);
    fx.server = -1;
    fprintf(stderr, "dnsserver.py ignored SIGTERM\n");
    return false;
}

static struct config *test_config(int port)
{
    struct config *cfg = config_defaults();
    char ns[64];
    size_t i;

    for (i = 0; i < cfg->dns.nameserver_count; i++)
        free(cfg->dns.nameservers[i]);
    free(cfg->dns.nameservers);
    snprintf(ns, sizeof(ns), "127.0.0.1@%d", port);
    cfg->dns.nameservers = calloc(1, sizeof(char *));
    cfg->dns.nameservers[0] = strdup(ns);
    cfg->dns.nameserver_count = 1;
    cfg->dns.timeout_ms = 3000;
    free(cfg->dns.trust_anchor);           /* the test zone is not signed */
    cfg->dns.trust_anchor = NULL;
    cfg->dns.use_hosts = false;
    return cfg;
}

static bool log_has(const char *line)
{
    FILE *f = fopen(fx.log_file, "r");
    char buf[512];
    bool found = false;

    if (f == NULL)
        return false;
    while (!found && fgets(buf, sizeof(buf), f) != NULL)
        found = strncmp(buf, line, strlen(line)) == 0;
    fclose(f);
    return found;
}

static bool answer_has(const struct dns_answer *a, const char *text)
{
    size_t i;

    for (i = 0; i < a->count; i++) {
        if (strcmp(a->data[i], text) == 0)
            return true;
    }
    return false;
}

static void expect_status(const char *name, int type, enum dns_status status)
{
    struct dns_answer a;

    dns_query(fx.resolver, name, type, 0, &a);
    assert_string_equal(dns_status_name(a.status), dns_status_name(status));
    dns_answer_free(&a);
}

/* --- group setup and teardown ------------------------------------------------------------- */

static int group_setup(void **state)
{
    char why[256] = "";

    (void)state;
    strcpy(fx.dir, "/tmp/test_dns.XXXXXX");
    if (mkdtemp(fx.dir) == NULL)
        return -1;
    snprintf(fx.zone_file, sizeof(fx.zone_file), "%s/zone", fx.dir);
    snprintf(fx.port_file, sizeof(fx.port_file), "%s/port", fx.dir);
    snprintf(fx.log_file, sizeof(fx.log_file), "%s/queries.log", fx.dir);
    if (!write_zone(fx.zone_file) || !start_server())
        return -1;
    fx.cfg = test_config(fx.port);
    fx.resolver = dns_resolver_new(fx.cfg, why, sizeof(why));
    if (fx.resolver == NULL) {
        fprintf(stderr, "dns_resolver_new: %s\n", why);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    bool clean;

    (void)state;
    dns_resolver_free(fx.resolver);
    fx.resolver = NULL;
    config_free(fx.cfg);
    fx.cfg = NULL;
    clean = stop_server();
    unlink(fx.zone_file);
    unlink(fx.port_file);
    unlink(fx.log_file);
    rmdir(fx.dir);
    return clean ? 0 : -1;
}

/* --- the tests ---------------------------------------------------------------------------- */

static void test_a(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "a.example.com", 1, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.rcode, 0);
    assert_false(a.secure);
    assert_int_equal(a.count, 2);
    assert_true(answer_has(&a, "192.0.2.1"));
    assert_true(answer_has(&a, "192.0.2.2"));
    assert_true(a.ttl > 0 && a.ttl <= 300);
    dns_answer_free(&a);
    assert_null(a.data);
    assert_int_equal(a.count, 0);
}

static void test_a_ttl(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "SHORT.example.com.", 1, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "192.0.2.7");
    assert_true(a.ttl > 0 && a.ttl <= 42);
    dns_answer_free(&a);
}

static unsigned long long metric(const char *name)
{
    struct textbuf out;
    char needle[128];
    textbuf_init(&out);
    stats_format(&out);
    snprintf(needle, sizeof needle, "\n%s ", name);
    const char *line = strstr(out.data, needle);
    assert_non_null(line);
    unsigned long long n = strtoull(line + strlen(needle), NULL, 10);
    textbuf_free(&out);
    return n;
}

/* A lookup repeated within its TTL is answered from our cache: no query to libunbound (the
 * counter of queries does not move, the one of cache hits does), the same records, the TTL
 * counting down. A failure is asked again. */
static void test_repeated_lookup_comes_from_the_cache(void **state)
{
    struct dns_answer first, again;

    (void)state;
    dns_query(fx.resolver, "example.com", 15, 0, &first);
    assert_int_equal(first.status, DNS_OK);
    unsigned long long queries = metric("mailwarden_dns_queries_total");
    unsigned long long hits = metric("mailwarden_dns_cache_hits_total");
    dns_query(fx.resolver, "EXAMPLE.com.", 15, 0, &again);
    assert_int_equal(metric("mailwarden_dns_queries_total"), queries);
    assert_int_equal(metric("mailwarden_dns_cache_hits_total"), hits + 1);
    assert_int_equal(again.status, DNS_OK);
    assert_int_equal(again.count, first.count);
    for (size_t i = 0; i < first.count; i++)
        assert_true(answer_has(&again, first.data[i]));
    assert_true(again.ttl > 0 && again.ttl <= first.ttl);
    dns_answer_free(&first);
    dns_answer_free(&again);

    expect_status("broken.example.com", 1, DNS_SERVFAIL);
    queries = metric("mailwarden_dns_queries_total");
    expect_status("broken.example.com", 1, DNS_SERVFAIL);
    assert_int_equal(metric("mailwarden_dns_queries_total"), queries + 1);
}

static void test_aaaa(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "a.example.com", dns_type_from_name("AAAA"), 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "2001:db8::1");
    dns_answer_free(&a);
}

static void test_mx(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "example.com", 15, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 2);
    assert_true(answer_has(&a, "10 mx1.example.com"));
    assert_true(answer_has(&a, "20 mx2.example.com"));
    dns_answer_free(&a);
}

static void test_ptr(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "34.216.184.93.in-addr.arpa", 12, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "a.example.com");
    dns_answer_free(&a);
    /* private ranges go to the nameserver too, not to unbound's built-in NXDOMAIN */
    dns_query(fx.resolver, "5.0.0.10.in-addr.arpa", 12, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "internal.example.com");
    dns_answer_free(&a);
}

static void test_cname_followed(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "alias.example.com", 1, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 2);
    assert_true(answer_has(&a, "192.0.2.1"));
    dns_answer_free(&a);
    dns_query(fx.resolver, "alias.example.com", 5, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "a.example.com");
    dns_answer_free(&a);
}

static void test_txt_strings_joined(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "spf.example.com", 16, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "v=spf1 ip4:192.0.2.0/24 -all");
    dns_answer_free(&a);
}

static void test_txt_large_over_tcp(void **state)
{
    struct dns_answer a;
    int i, j;

    (void)state;
    dns_query(fx.resolver, "big.example.com", 16, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(strlen(a.data[0]), BIG_STRINGS * BIG_STRING_LEN);
    for (i = 0; i < BIG_STRINGS; i++) {
        for (j = 0; j < BIG_STRING_LEN; j++)
            assert_int_equal(a.data[0][i * BIG_STRING_LEN + j], big_char(i));
    }
    dns_answer_free(&a);
    /* it really went UDP (truncated), then TCP */
    assert_true(log_has("udp big.example.com TXT TC"));
    assert_true(log_has("tcp big.example.com TXT NOERROR"));
}

static void test_other_types(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "example.com", dns_type_from_name("NS"), 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "ns1.example.com");
    dns_answer_free(&a);
    dns_query(fx.resolver, "_sip._udp.example.com", dns_type_from_name("SRV"), 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "10 5 5060 sip.example.com");
    dns_answer_free(&a);
    dns_query(fx.resolver, "nullmx.example.com", 15, 0, &a);      /* RFC 7505 null MX */
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "0 .");
    dns_answer_free(&a);
    dns_query(fx.resolver, "spf.example.com", 99, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "v=spf1 -all");
    dns_answer_free(&a);
    dns_query(fx.resolver, "nul.example.com", 16, 0, &a);         /* NUL becomes DEL */
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.data[0], "a\x7f" "b");
    dns_answer_free(&a);
}

static void test_nxdomain(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "nope.example.com", 1, 0, &a);
    assert_int_equal(a.status, DNS_NXDOMAIN);
    assert_int_equal(a.rcode, 3);
    assert_int_equal(a.count, 0);
    dns_answer_free(&a);
}

static void test_nodata(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "a.example.com", 15, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.rcode, 0);
    assert_int_equal(a.count, 0);
    dns_answer_free(&a);
}

static void test_servfail(void **state)
{
    struct dns_answer a;

    (void)state;
    dns_query(fx.resolver, "broken.example.com", 1, 0, &a);
    assert_int_equal(a.status, DNS_SERVFAIL);
    assert_int_equal(a.count, 0);
    dns_answer_free(&a);
}

/* A name of len characters: labels of 63 'y' separated by dots. */
static void long_name(char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = i % 64 == 63 ? '.' : 'y';
    buf[len] = '\0';
}

static void test_invalid_queries(void **state)
{
    char name[300];
    struct dns_answer a;

    (void)state;
    expect_status("", 1, DNS_ERROR);
    expect_status(".", 1, DNS_ERROR);
    expect_status("a..example.com", 1, DNS_ERROR);
    expect_status(".example.com", 1, DNS_ERROR);
    expect_status("example.com..", 1, DNS_ERROR);
    expect_status("example.com", 0, DNS_ERROR);
    expect_status("example.com", 65536, DNS_ERROR);

    /* a 63-octet label is fine, 64 is not */
    memset(name, 'x', 63);
    strcpy(name + 63, ".example.com");
    expect_status(name, 1, DNS_NXDOMAIN);
    memset(name, 'x', 64);
    strcpy(name + 64, ".example.com");
    expect_status(name, 1, DNS_ERROR);

    /* 253 characters is fine (also with the final dot), 254 is not */
    long_name(name, 253);
    expect_status(name, 1, DNS_NXDOMAIN);
    strcat(name, ".");
    expect_status(name, 1, DNS_NXDOMAIN);
    long_name(name, 254);
    expect_status(name, 1, DNS_ERROR);

    dns_query(NULL, "example.com", 1, 0, &a);
    assert_int_equal(a.status, DNS_ERROR);
    assert_int_equal(a.count, 0);
    dns_answer_free(&a);
}

static void test_names_of_things(void **state)
{
    (void)state;
    assert_int_equal(dns_type_from_name("A"), 1);
    assert_int_equal(dns_type_from_name("ns"), 2);
    assert_int_equal(dns_type_from_name("CName"), 5);
    assert_int_equal(dns_type_from_name("SOA"), 6);
    assert_int_equal(dns_type_from_name("ptr"), 12);
    assert_int_equal(dns_type_from_name("Mx"), 15);
    assert_int_equal(dns_type_from_name("txt"), 16);
    assert_int_equal(dns_type_from_name("AAAA"), 28);
    assert_int_equal(dns_type_from_name("srv"), 33);
    assert_int_equal(dns_type_from_name("SPFX"), -1);
    assert_int_equal(dns_type_from_name(""), -1);
    assert_string_equal(dns_status_name(DNS_OK), "ok");
    assert_string_equal(dns_status_name(DNS_NXDOMAIN), "nxdomain");
    assert_string_equal(dns_status_name(DNS_SERVFAIL), "servfail");
    assert_string_equal(dns_status_name(DNS_TIMEOUT), "timeout");
    assert_string_equal(dns_status_name(DNS_ERROR), "error");
}

struct worker {
    pthread_t thread;
    int index;
    int right;                       /* answers that were exactly what the zone says */
};

static void *query_worker(void *arg)
{
    struct worker *wk = arg;
    struct dns_answer a;
    char name[64], want[64];
    int i, host;

    for (i = 0; i < QUERIES_PER_THREAD; i++) {
        host = wk->index * QUERIES_PER_THREAD + i;
        host_name(host, name, sizeof(name));
        host_data(host, want, sizeof(want));
        dns_query(fx.resolver, name, host % 2 == 0 ? 1 : 16, 0, &a);
        if (a.status == DNS_OK && a.count == 1 && strcmp(a.data[0], want) == 0)
            wk->right++;
        else
            fprintf(stderr, "%s: %s, %zu record(s), first \"%s\", wanted \"%s\"\n", name,
                dns_status_name(a.status), a.count, a.count > 0 ? a.data[0] : "", want);
        dns_answer_free(&a);
    }
    return NULL;
}

static void test_concurrent_queries(void **state)
{
    struct worker workers[THREADS];
    int i, right = 0;

    (void)state;
    for (i = 0; i < THREADS; i++) {
        workers[i].index = i;
        workers[i].right = 0;
        assert_int_equal(pthread_create(&workers[i].thread, NULL, query_worker, &workers[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(workers[i].thread, NULL);
        right += workers[i].right;
    }
    assert_int_equal(right, THREADS * QUERIES_PER_THREAD);
}

/* Runs on a resolver of its own, so that unbound's memory of a silent server stays here. */
static void test_timeout(void **state)
{
    struct dns_resolver *r;
    struct dns_answer a;
    char why[256] = "";
    uint64_t start, took;

    (void)state;
    r = dns_resolver_new(fx.cfg, why, sizeof(why));
    assert_non_null(r);
    start = clock_ms();
    dns_query(r, "dead.example.com", 1, 300, &a);
    took = clock_ms() - start;
    assert_int_equal(a.status, DNS_TIMEOUT);
    assert_int_equal(a.count, 0);
    assert_true(took >= 290);
    assert_true(took < 2000);
    dns_answer_free(&a);
    /* the resolver still answers, and goes away while unbound still chases the dead name */
    dns_query(r, "a.example.com", 1, 0, &a);
    assert_int_equal(a.status, DNS_OK);
    dns_answer_free(&a);
    dns_resolver_free(r);
}

struct late_query {
    pthread_t thread;
    struct dns_resolver *resolver;
    int index;
    enum dns_status status;
};

static void *late_worker(void *arg)
{
    struct late_query *lq = arg;
    struct dns_answer a;
    char name[64];

    snprintf(name, sizeof(name), "late%d.example.com", lq->index);
    dns_query(lq->resolver, name, 1, 100, &a);
    lq->status = a.status;
    dns_answer_free(&a);
    return NULL;
}

/* Answers that come after their callers gave up (the server waits 250 ms, the callers
 * 100 ms) are dropped harmlessly - AddressSanitizer would see a touch of a dead waiter -
 * and still fill unbound's cache. A fresh resolver, so unbound waits 376 ms for this unknown
 * server, longer than it delays. */
static void test_late_answers(void **state)
{
    struct late_query lq[LATE_NAMES];
    struct dns_answer a;
    char why[256] = "", name[64], want[32];
    int i;

    (void)state;
    struct dns_resolver *r = dns_resolver_new(fx.cfg, why, sizeof(why));
    assert_non_null(r);
    for (i = 0; i < LATE_NAMES; i++) {
        lq[i].resolver = r;
        lq[i].index = i;
        assert_int_equal(pthread_create(&lq[i].thread, NULL, late_worker, &lq[i]), 0);
    }
    for (i = 0; i < LATE_NAMES; i++) {
        pthread_join(lq[i].thread, NULL);
        assert_int_equal(lq[i].status, DNS_TIMEOUT);
    }
    sleep_ms(600);                   /* the answers arrive, find nobody, and are freed */
    for (i = 0; i < LATE_NAMES; i++) {
        snprintf(name, sizeof(name), "late%d.example.com", i);
        snprintf(want, sizeof(want), "192.0.2.%d", 100 + i);
        dns_query(r, name, 1, 0, &a);
        assert_int_equal(a.status, DNS_OK);
        assert_int_equal(a.count, 1);
        assert_string_equal(a.data[0], want);
        dns_answer_free(&a);
    }
    dns_resolver_free(r);
}

/* Queries started together and collected against one deadline cost that deadline once:
 * eight servers that never answer, 300 ms (one after another it would be 2.4 s). */
static void test_started_queries_share_one_deadline(void **state)
{
    struct dns_pending *q[SILENT_NAMES + 1];
    struct dns_answer a;
    char why[256] = "", name[64];
    int i;

    (void)state;
    struct dns_resolver *r = dns_resolver_new(fx.cfg, why, sizeof(why));
    assert_non_null(r);
    uint64_t start = clock_ms();
    for (i = 0; i < SILENT_NAMES; i++) {
        snprintf(name, sizeof(name), "silent%d.example.com", i);
        q[i] = dns_start(r, name, 1);
    }
    q[SILENT_NAMES] = dns_start(r, "a.example.com", 1);
    uint64_t deadline = dns_now_ms() + 300;
    for (i = 0; i < SILENT_NAMES; i++) {
        dns_finish(q[i], deadline, &a);
        assert_int_equal(a.status, DNS_TIMEOUT);
        dns_answer_free(&a);
    }
    dns_finish(q[SILENT_NAMES], deadline, &a);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.count, 2);
    dns_answer_free(&a);
    uint64_t took = clock_ms() - start;
    assert_true(took >= 290);
    assert_true(took < 1500);
    dns_resolver_free(r);
}

/* A query cancelled before its answer, and one that could not be sent at all: both are
 * freed without waiting, and the late answer touches nothing (AddressSanitizer). */
static void test_cancelled_and_unsent_queries(void **state)
{
    struct dns_answer a;

    (void)state;
    struct dns_pending *q = dns_start(fx.resolver, "late0.example.com", 28);
    uint64_t start = clock_ms();
    dns_cancel(q);
    assert_true(clock_ms() - start < 200);
    dns_cancel(NULL);
    q = dns_start(fx.resolver, "bad..name", 1);
    assert_true(dns_pending_done(q));
    dns_finish(q, dns_now_ms() + 1000, &a);
    assert_int_equal(a.status, DNS_ERROR);
    dns_answer_free(&a);
    q = dns_start(fx.resolver, "a.example.com", 1);
    dns_finish(q, dns_deadline_after(fx.resolver, 0), &a);
    assert_int_equal(a.status, DNS_OK);
    dns_answer_free(&a);
    sleep_ms(400);                   /* the cancelled query's answer comes and finds nobody */
}

static void test_bad_nameserver(void **state)
{
    struct config *cfg = test_config(53);
    char why[256] = "";

    (void)state;
    free(cfg->dns.nameservers[0]);
    cfg->dns.nameservers[0] = strdup("not-an-address");
    assert_null(dns_resolver_new(cfg, why, sizeof(why)));
    assert_non_null(strstr(why, "not-an-address"));
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_of_things),
        cmocka_unit_test(test_a),
        cmocka_unit_test(test_a_ttl),
        cmocka_unit_test(test_repeated_lookup_comes_from_the_cache),
        cmocka_unit_test(test_aaaa),
        cmocka_unit_test(test_mx),
        cmocka_unit_test(test_ptr),
        cmocka_unit_test(test_cname_followed),
        cmocka_unit_test(test_txt_strings_joined),
        cmocka_unit_test(test_txt_large_over_tcp),
        cmocka_unit_test(test_other_types),
        cmocka_unit_test(test_nxdomain),
        cmocka_unit_test(test_nodata),
        cmocka_unit_test(test_servfail),
        cmocka_unit_test(test_invalid_queries),
        cmocka_unit_test(test_concurrent_queries),
        cmocka_unit_test(test_bad_nameserver),
        cmocka_unit_test(test_late_answers),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_started_queries_share_one_deadline),
        cmocka_unit_test(test_cancelled_and_unsent_queries),
    };

    if (!python_has_dnslib()) {
        printf("SKIP: python3-dnslib not installed\n");
        return SKIP_STATUS;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
