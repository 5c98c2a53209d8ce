/* policy_fixture.c - see policy_fixture.h. The DNS server is a child process that dies with the
 * test (PR_SET_PDEATHSIG) and is stopped and waited for in fixture_cleanup. */
#define _POSIX_C_SOURCE 200809L
#include "policy_fixture.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "config_load.h"
#include "dns.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define PYTHON "/usr/bin/python3"
#define SERVER_SCRIPT SRCDIR "/tests/tools/dnsserver.py"

static char dir[64];
static pid_t server = -1;
static int port;
static struct txn *t;
static unsigned policy_serial;
static char *clean_message;

bool fixture_init(void)
{
    log_open("mailwarden-test", LOG_MAIL, false, false);
    strcpy(dir, "/tmp/mw-test-policy.XXXXXX");
    return mkdtemp(dir) != NULL;
}

int fixture_setup(void **state)
{
    (void)state;
    return fixture_init() ? 0 : -1;
}

int fixture_teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    return 0;
}

int fixture_fresh(void **state)
{
    (void)state;
    txn_free(t);                 /* holds the policy */
    t = NULL;
    config_install(NULL);
    store_close_all();
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static bool python_has_dnslib(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execl(PYTHON, PYTHON, "-c", "import dnslib", (char *)NULL);
        _exit(127);
    }
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool fixture_dns_start(const char *zone)
{
    if (access(PYTHON, X_OK) != 0 || !python_has_dnslib())
        return false;
    char zone_file[128], port_file[128];
    snprintf(zone_file, sizeof zone_file, "%s/zone", dir);
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    FILE *f = fopen(zone_file, "w");
    if (f == NULL || fputs(zone, f) < 0 || fclose(f) != 0)
        return false;
    server = fork();
    if (server < 0)
        return false;
    if (server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execl(PYTHON, PYTHON, SERVER_SCRIPT, "--port", "0", "--port-file", port_file, "--zone",
            zone_file, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        f = fopen(port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", &port);
            fclose(f);
            if (ok == 1 && port > 0)
                return true;
        }
        int status;
        if (waitpid(server, &status, WNOHANG) == server) {
            server = -1;
            return false;
        }
        sleep_ms(20);
    }
    return false;
}

/* A new policy file in the directory: its path (static until the next call). */
static const char *new_policy_file(const char *dns_section, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/policy-%u.conf", dir, policy_serial++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (dns_section != NULL)
        assert_true(fputs(dns_section, f) >= 0);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void print_errors(const struct config_errors *errs)
{
    for (size_t i = 0; i < errs->count; i++)
        print_error("%s:%d: %s: %s\n", errs->items[i].file, errs->items[i].line,
            errs->items[i].option, errs->items[i].reason);
}

static struct config *load_ok(const char *dns_section, const char *text)
{
    struct config_errors errs = {0};
    struct config *cfg = config_load(new_policy_file(dns_section, text), &errs);
    if (cfg == NULL) {
        print_errors(&errs);
        config_errors_free(&errs);
        fail_msg("the policy did not load");
    }
    config_errors_free(&errs);
    return cfg;
}

struct config *fixture_load(const char *text, struct config_errors *errs)
{
    return config_load(new_policy_file(NULL, text), errs);
}

struct config *fixture_load_ok(const char *text)
{
    return load_ok(NULL, text);
}

void fixture_policy(const char *text)
{
    fixture_policy_dns("", text);
}

void fixture_policy_dns(const char *dns_settings, const char *text)
{
    char dns[512];
    snprintf(dns, sizeof dns,
        "dns: { nameservers = [ \"127.0.0.1@%d\" ]; timeout = \"3s\"; use_hosts = false; %s }\n",
        port, dns_settings);
    struct config *cfg = load_ok(port > 0 ? dns : NULL, text);
    struct config_errors errs = {0};
    if (port > 0 && !config_start(cfg, &errs))
        fail_msg("resolver: %s", errs.count > 0 ? errs.items[0].reason : "?");
    config_errors_free(&errs);
    txn_free(t);                 /* holds the old configuration */
    t = NULL;
    config_install(cfg);
}

struct txn *fixture_connection(void)
{
    txn_free(t);
    t = txn_new(config_current());
    assert_non_null(t->cfg);
    return t;
}

/* Feeds the header and body; returns what the end of the headers decided (ACTION_NONE: go on). */
static enum action feed_message(const char *msg)
{
    const char *p = msg;
    const char *end = msg + strlen(msg);
    while (p < end && *p != '\n') {
        const char *line_end = strchr(p, '\n');
        if (line_end == NULL)
            line_end = end;
        while (line_end + 1 < end && (line_end[1] == ' ' || line_end[1] == '\t')) {
            const char *next = strchr(line_end + 1, '\n');
            line_end = next ? next : end;
        }
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon != NULL) {
            char *name = xstrndup(p, (size_t)(colon - p));
            const char *v = colon + 1;
            while (v < line_end && *v == ' ')
                v++;
            char *value = xstrndup(v, (size_t)(line_end - v));
            engine_header(t, name, value);
            free(name);
            free(value);
        }
        p = line_end < end ? line_end + 1 : end;
    }
    if (p < end)
        p++;
    enum action at_eoh = engine_eoh(t);
    if (at_eoh != ACTION_NONE)
        return at_eoh;
    struct textbuf body;
    textbuf_init(&body);
    for (; p < end; p++) {
        if (*p == '\n')
            textbuf_append(&body, "\r\n", 2);
        else
            textbuf_append(&body, p, 1);
    }
    engine_body(t, (const unsigned char *)body.data, body.len);
    textbuf_free(&body);
    return ACTION_NONE;
}

enum action fixture_run(const struct smtp_session *s)
{
    fixture_connection();
    const char *ip = s->client_ip ? s->client_ip : "203.0.113.5";
    struct ipaddr addr;
    assert_true(ipaddr_parse(ip, &addr));
    char name[80];
    snprintf(name, sizeof name, "[%s]", ip);
    t->mta_hostname = xstrdup(s->mta_hostname ? s->mta_hostname : "mx.our.test");
    enum action a = engine_connect(t, s->client_name ? s->client_name : name, &addr);
    if (a != ACTION_NONE)
        return a;
    if ((a = engine_helo(t, s->helo ? s->helo : "mail.sender.test")) != ACTION_NONE)
        return a;
    if ((a = engine_mail(t, config_current(), "QID1", s->sender ? s->sender : "alice@sender.test",
            s->sasl_user, s->sasl_user ? "PLAIN" : NULL)) != ACTION_NONE)
        return a;
    if (s->rcpts[0] == NULL) {
        engine_rcpt(t, "bob@our.test");
    } else {
        for (size_t i = 0; i < 8 && s->rcpts[i] != NULL; i++)
            engine_rcpt(t, s->rcpts[i]);
    }
    if ((a = feed_message(s->message ? s->message : fixture_clean_message(NULL, NULL))) != ACTION_NONE)
        return a;
    return engine_eom(t);
}

struct txn *fixture_txn(void)
{
    return t;
}

bool fixture_has(const char *symbol)
{
    for (size_t i = 0; t != NULL && i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, symbol) == 0)
            return true;
    }
    return false;
}

double fixture_score_of(const char *symbol)
{
    for (size_t i = 0; t != NULL && i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, symbol) == 0)
            return t->results[i].score;
    }
    return 0;
}

const char *fixture_header_edit(const char *name)
{
    for (size_t i = 0; t != NULL && i < t->verdict.edit_count; i++) {
        if (strcmp(t->verdict.edits[i].name, name) == 0)
            return t->verdict.edits[i].value;
    }
    return NULL;
}

const char *fixture_clean_message(const char *extra_headers, const char *body)
{
    free(clean_message);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    clean_message = xasprintf("Date: %s\nMessage-ID: <1234@sender.test>\n"
        "From: Alice <alice@sender.test>\nTo: Bob <bob@our.test>\nSubject: Lunch on Friday\n"
        "%s\n%s", date, extra_headers ? extra_headers : "",
        body ? body : "Shall we meet at noon?\n");
    return clean_message;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void fixture_cleanup(void)
{
    fixture_fresh(NULL);
    free(clean_message);
    clean_message = NULL;
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        server = -1;
    }
    port = 0;
    if (dir[0] != '\0')
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}
