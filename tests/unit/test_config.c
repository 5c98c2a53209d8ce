/* test_config.c - loading policy files (filter/config*.c). The shipped policies/mailwarden.conf
 * loads and equals the built-in defaults; every option, when set, lands in the right field;
 * every kind of error names the file, the line and the option with a helpful reason (unknown
 * option with "did you mean", unknown section, wrong type, out of range, bad size, duration,
 * CIDR, socket, reply code, syntax error, access rule errors, a bad line in a values file);
 * includes are read in name order, later files override single values while access rules and
 * symbols add up, errors in included files carry that file's name, only the main file may
 * include; several errors are all reported; and config_current/config_install/config_release
 * keep an old configuration alive while a reference to it is held (run under ASan, this
 * proves there is no use after free). Policy files are written into a mkdtemp() directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "config_load.h"
#include "config_summary.h"
#include "greylist.h"
#include "ratelimit.h"
#include "store_config.h"

#define SHIPPED SRCDIR "/policies/mailwarden.conf"

static char dir[64];
/* The errors of the last failed load: global so that teardown frees them when a test fails. */
static struct config_errors errs;

/* --- helpers ------------------------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/mw-test-config.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
    (void)state;
    config_errors_free(&errs);
    config_install(NULL);    /* whatever a test installed */
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The path of `name` inside the test directory, in a static buffer per call slot. */
static const char *path_of(const char *name)
{
    static char paths[8][PATH_MAX];
    static unsigned slot;
    char *p = paths[slot++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    return p;
}

/* Writes text to dir/name (creating one level of subdirectory) and returns the path. */
static const char *write_file(const char *name, const char *text)
{
    const char *path = path_of(name);
    const char *slash = strchr(name, '/');
    if (slash != NULL) {
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%.*s", dir, (int)(slash - name), name);
        mkdir(sub, 0755);
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_true(fputs(text, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
    return path;
}

static void collect_line(const char *line, void *arg)
{
    char *buf = arg;
    size_t len = strlen(buf);
    snprintf(buf + len, 8192 - len, "%s\n", line);
}

/* All errors, one per line, as config_errors_print writes them (for failure messages). */
static const char *errors_text(const struct config_errors *errs)
{
    static char buf[8192];
    buf[0] = '\0';
    config_errors_print(errs, collect_line, buf);
    return buf;
}

/* Asserts there is an error with exactly this file, line and option whose reason contains
 * `reason`. */
static void assert_error(const struct config_errors *errs, const char *file, int line,
    const char *option, const char *reason)
{
    for (size_t i = 0; i < errs->count; i++) {
        const struct config_error *e = &errs->items[i];
        if (strcmp(e->file, file) == 0 && e->line == line && strcmp(e->option, option) == 0
            && strstr(e->reason, reason) != NULL)
            return;
    }
    fail_msg("no error %s:%d: %s: ...%s...; the errors were:\n%s", file, line, option, reason,
        errors_text(errs));
}

/* Loads a file that must fail with exactly `count` errors; the caller checks them and frees. */
static void load_fails(const char *path, size_t count, struct config_errors *errs)
{
    config_errors_free(errs);
    struct config *cfg = config_load(path, errs);
    if (cfg != NULL) {
        config_free(cfg);
        fail_msg("%s loaded, but should not have", path);
    }
    if (errs->count != count)
        fail_msg("%zu errors instead of %zu:\n%s", errs->count, count, errors_text(errs));
}

/* Loads a file that must load without errors. */
static struct config *load_ok(const char *path)
{
    struct config_errors load_errs = {0};
    struct config *cfg = config_load(path, &load_errs);
    if (cfg == NULL || load_errs.count != 0) {
        const char *text = errors_text(&load_errs);
        config_errors_free(&load_errs);
        config_free(cfg);
        fail_msg("%s did not load:\n%s", path, text);
    }
    return cfg;
}

/* Loads one policy text written to dir/name, which must fail with exactly one error. */
static void assert_single_error(const char *text, int line, const char *option,
    const char *reason)
{
    const char *path = write_file("single.conf", text);
    load_fails(path, 1, &errs);
    assert_error(&errs, path, line, option, reason);
    config_errors_free(&errs);
}

static bool cidr_lists_equal(const struct cidr_list *a, const struct cidr_list *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->items[i].prefix != b->items[i].prefix
            || memcmp(&a->items[i].addr, &b->items[i].addr, sizeof a->items[i].addr) != 0)
            return false;
    }
    return true;
}

static bool replies_equal(const struct reply *a, const struct reply *b)
{
    return a->code == b->code && strcmp(a->dsn, b->dsn) == 0 && strcmp(a->text, b->text) == 0;
}

static bool contains_ip(const struct cidr_list *list, const char *ip)
{
    struct ipaddr a;
    assert_true(ipaddr_parse(ip, &a));
    return cidr_list_contains(list, &a);
}

static bool patterns_contain_ip(const struct pattern_list *list, const char *ip)
{
    struct ipaddr a;
    assert_true(ipaddr_parse(ip, &a));
    return pattern_match_ip(list, &a);
}

/* --- the shipped file and every option ---------------------------------------------------- */

static void test_shipped_file_is_the_defaults(void **state)
{
    (void)state;
    struct config *cfg = load_ok(SHIPPED);
    struct config *def = config_defaults();

    assert_string_equal(cfg->main_file, SHIPPED);
    assert_int_equal(cfg->file_count, 2);     /* and policies.d/README.conf */
    assert_string_equal(cfg->files[0], SHIPPED);
    assert_string_equal(cfg->files[1], SRCDIR "/policies/policies.d/README.conf");

    assert_string_equal(cfg->milter.socket, "inet:8891@127.0.0.1");
    assert_string_equal(cfg->milter.socket, def->milter.socket);
    assert_int_equal(cfg->milter.socket_mode, def->milter.socket_mode);
    assert_null(cfg->milter.socket_owner);
    assert_null(cfg->milter.user);
    assert_null(cfg->milter.group);
    assert_null(cfg->milter.pidfile);
    assert_int_equal(cfg->milter.timeout_s, 120);
    assert_int_equal(cfg->milter.backlog, 128);
    assert_int_equal(cfg->milter.shutdown_grace_ms, 30000);
    assert_int_equal(cfg->milter.max_connections, 1024);
    assert_int_equal(cfg->milter.timeout_s, def->milter.timeout_s);
    assert_int_equal(cfg->milter.backlog, def->milter.backlog);
    assert_int_equal(cfg->milter.shutdown_grace_ms, def->milter.shutdown_grace_ms);
    assert_int_equal(cfg->milter.max_connections, def->milter.max_connections);

    assert_int_equal(cfg->log.facility, LOG_MAIL);
    assert_int_equal(cfg->log.level, LOG_INFO);
    assert_true(cfg->log.summary);
    assert_int_equal(cfg->log.facility, def->log.facility);
    assert_int_equal(cfg->log.level, def->log.level);

    assert_int_equal(cfg->limits.max_header_bytes, 1024 * 1024);
    assert_int_equal(cfg->limits.max_headers, 1000);
    assert_int_equal(cfg->limits.max_body_buffer, 10 * 1024 * 1024);
    assert_int_equal(cfg->limits.max_recipients, 1000);
    assert_int_equal(cfg->limits.max_body_buffer, def->limits.max_body_buffer);

    char host[256] = "";
    gethostname(host, sizeof host);
    assert_non_null(cfg->authres.authserv_id);
    assert_string_equal(cfg->authres.authserv_id, host[0] ? host : "localhost");
    assert_true(cfg->authres.remove_forged);

    assert_int_equal(cfg->networks.internal.count, 2);
    assert_true(contains_ip(&cfg->networks.internal, "127.0.0.1"));
    assert_true(contains_ip(&cfg->networks.internal, "127.255.0.9"));
    assert_true(contains_ip(&cfg->networks.internal, "::1"));
    assert_false(contains_ip(&cfg->networks.internal, "10.0.0.1"));
    assert_true(cidr_lists_equal(&cfg->networks.internal, &def->networks.internal));
    assert_int_equal(cfg->networks.trusted.count, 0);
    assert_int_equal(cfg->networks.skip.count, 0);

    assert_int_equal(cfg->dns.nameserver_count, 0);
    assert_int_equal(cfg->dns.timeout_ms, 5000);
    assert_int_equal(cfg->dns.cache_size, 4 * 1024 * 1024);
    assert_int_equal(cfg->dns.cache_max_ttl, 86400);
    assert_null(cfg->dns.trust_anchor);
    assert_true(cfg->dns.use_hosts);
    assert_int_equal(cfg->dns.timeout_ms, def->dns.timeout_ms);
    assert_int_equal(cfg->dns.cache_size, def->dns.cache_size);

    assert_true(cfg->actions.add_header == 5.0);
    assert_true(cfg->actions.quarantine == 0.0);
    assert_true(cfg->actions.tempfail == 0.0);
    assert_true(cfg->actions.reject == 10.0);
    assert_int_equal(cfg->actions.reject_reply.code, 550);
    assert_string_equal(cfg->actions.reject_reply.dsn, "5.7.1");
    assert_string_equal(cfg->actions.reject_reply.text, "Message rejected as spam");
    assert_int_equal(cfg->actions.tempfail_reply.code, 451);
    assert_string_equal(cfg->actions.tempfail_reply.dsn, "4.7.1");
    assert_string_equal(cfg->actions.tempfail_reply.text, "Message deferred, try again later");
    assert_string_equal(cfg->actions.quarantine_reply.text, "Held for review by mailwarden");
    assert_int_equal(cfg->actions.on_error, ACTION_TEMPFAIL);
    assert_true(replies_equal(&cfg->actions.reject_reply, &def->actions.reject_reply));
    assert_true(replies_equal(&cfg->actions.tempfail_reply, &def->actions.tempfail_reply));
    assert_true(replies_equal(&cfg->actions.quarantine_reply, &def->actions.quarantine_reply));

    assert_int_equal(cfg->access_count, 0);
    assert_int_equal(cfg->symbol_count, 0);
    assert_null(config_resolver(cfg));

    config_free(def);
    config_free(cfg);
}

static void test_every_option_lands_in_its_field(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof text,
        "milter: {\n"
        "  socket = \"unix:/run/mw/milter.sock\"\n"
        "  socket_mode = \"0600\"\n"
        "  socket_owner = \"mailwarden:postfix\"\n"
        "  user = \"root\"\n"
        "  group = \"root\"\n"
        "  pidfile = \"/run/mw.pid\"\n"
        "  timeout = \"90s\"\n"
        "  backlog = 64\n"
        "  shutdown_grace = \"1m\"\n"
        "  max_connections = 50\n"
        "}\n"
        "log: { facility = \"local3\"; level = \"debug\"; summary = \"no\" }\n"
        "limits: { max_header_bytes = \"512k\"; max_headers = 200; max_body_buffer = \"1M\";\n"
        "          max_recipients = 20 }\n"
        "authres: { authserv_id = \"mx.example.com\"; remove_forged = false }\n"
        "networks: {\n"
        "  internal = [ \"10.0.0.0/8\" ]\n"
        "  trusted = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]\n"
        "  skip = \"198.51.100.1\"\n"
        "}\n"
        "dns: { nameservers = [ \"127.0.0.1@5353\", \"::1\" ]; timeout = \"250ms\";\n"
        "       cache_size = \"8M\"; cache_max_ttl = 3600; trust_anchor = \"%s/every.conf\";\n"
        "       use_hosts = false }\n"
        "actions: { add_header = 4.5; quarantine = 8; tempfail = 10; reject = 12.5;\n"
        "  reject_reply = \"554 5.7.1 Spam\"; tempfail_reply = \"450 4.7.0 Later\";\n"
        "  quarantine_reply = \"Held\"; on_error = \"accept\" }\n"
        "symbols: {\n"
        "  SPF_FAIL: { score = 4.5; action = \"reject\"; reply = \"550 5.7.23 SPF fail\" }\n"
        "  HELO_BARE_IP: { action = \"tempfail\" }\n"
        "}\n"
        "access = (\n"
        "  { name = \"Blocked-Senders\"; match = \"sender\"; values = [ \"Spam@Example.COM\", \"@bad.example\" ];\n"
        "    action = \"reject\"; reply = \"550 5.7.1 Blocked\"; score = 2.5 }\n"
        ")\n", dir);
    const char *path = write_file("every.conf", text);
    struct config *cfg = load_ok(path);

    assert_string_equal(cfg->milter.socket, "unix:/run/mw/milter.sock");
    assert_int_equal(cfg->milter.socket_mode, 0600);
    assert_string_equal(cfg->milter.socket_owner, "mailwarden:postfix");
    assert_string_equal(cfg->milter.user, "root");
    assert_string_equal(cfg->milter.group, "root");
    assert_string_equal(cfg->milter.pidfile, "/run/mw.pid");
    assert_int_equal(cfg->milter.timeout_s, 90);
    assert_int_equal(cfg->milter.backlog, 64);
    assert_int_equal(cfg->milter.shutdown_grace_ms, 60000);
    assert_int_equal(cfg->milter.max_connections, 50);

    assert_int_equal(cfg->log.facility, LOG_LOCAL3);
    assert_int_equal(cfg->log.level, LOG_DEBUG);
    assert_false(cfg->log.summary);

    assert_int_equal(cfg->limits.max_header_bytes, 512 * 1024);
    assert_int_equal(cfg->limits.max_headers, 200);
    assert_int_equal(cfg->limits.max_body_buffer, 1024 * 1024);
    assert_int_equal(cfg->limits.max_recipients, 20);

    assert_string_equal(cfg->authres.authserv_id, "mx.example.com");
    assert_false(cfg->authres.remove_forged);

    assert_int_equal(cfg->networks.internal.count, 1);     /* replaced, not added to */
    assert_false(contains_ip(&cfg->networks.internal, "127.0.0.1"));
    assert_true(contains_ip(&cfg->networks.internal, "10.9.8.7"));
    assert_int_equal(cfg->networks.trusted.count, 2);
    assert_true(contains_ip(&cfg->networks.trusted, "2001:db8::25"));
    assert_int_equal(cfg->networks.skip.count, 1);
    assert_true(contains_ip(&cfg->networks.skip, "198.51.100.1"));

    assert_int_equal(cfg->dns.nameserver_count, 2);
    assert_string_equal(cfg->dns.nameservers[0], "127.0.0.1@5353");
    assert_string_equal(cfg->dns.nameservers[1], "::1");
    assert_int_equal(cfg->dns.timeout_ms, 250);
    assert_int_equal(cfg->dns.cache_size, 8 * 1024 * 1024);
    assert_int_equal(cfg->dns.cache_max_ttl, 3600);
    assert_string_equal(cfg->dns.trust_anchor, path);
    assert_false(cfg->dns.use_hosts);

    assert_true(cfg->actions.add_header == 4.5);
    assert_true(cfg->actions.quarantine == 8.0);
    assert_true(cfg->actions.tempfail == 10.0);
    assert_true(cfg->actions.reject == 12.5);
    assert_int_equal(cfg->actions.reject_reply.code, 554);
    assert_string_equal(cfg->actions.reject_reply.text, "Spam");
    assert_int_equal(cfg->actions.tempfail_reply.code, 450);
    assert_string_equal(cfg->actions.tempfail_reply.dsn, "4.7.0");
    assert_string_equal(cfg->actions.quarantine_reply.text, "Held");
    assert_int_equal(cfg->actions.on_error, ACTION_ACCEPT);

    assert_int_equal(cfg->symbol_count, 2);
    const struct symbol_override *o = config_symbol(cfg, "SPF_FAIL");
    assert_non_null(o);
    assert_true(o->has_score && o->score == 4.5);
    assert_true(o->has_action);
    assert_int_equal(o->action, ACTION_REJECT);
    assert_int_equal(o->reply.code, 550);
    assert_string_equal(o->reply.dsn, "5.7.23");
    o = config_symbol(cfg, "HELO_BARE_IP");
    assert_non_null(o);
    assert_false(o->has_score);
    assert_int_equal(o->action, ACTION_TEMPFAIL);
    assert_null(config_symbol(cfg, "NOT_THERE"));

    assert_int_equal(cfg->access_count, 1);
    const struct access_rule *rule = &cfg->access[0];
    assert_string_equal(rule->name, "Blocked-Senders");
    assert_int_equal(rule->key, ACCESS_SENDER);
    assert_int_equal(rule->patterns.count, 2);
    assert_string_equal(rule->patterns.items[0].text, "spam@example.com");     /* lower-cased */
    assert_string_equal(rule->patterns.items[1].text, "@bad.example");
    assert_int_equal(rule->action, ACTION_REJECT);
    assert_true(rule->score == 2.5);
    assert_int_equal(rule->reply.code, 550);
    assert_string_equal(rule->reply.text, "Blocked");
    assert_string_equal(rule->file, path);
    assert_int_equal(rule->line, 33);

    config_free(cfg);
}

/* --- one error of each kind ---------------------------------------------------------------- */

static void test_unknown_option_did_you_mean(void **state)
{
    (void)state;
    const char *path = write_file("typo.conf",
        "milter: {\n"
        "  sokcet = \"inet:8891@127.0.0.1\"\n"
        "}\n");
    load_fails(path, 1, &errs);
    assert_error(&errs, path, 2, "milter.sokcet", "did you mean socket?");
    /* the line an admin sees */
    char expected[PATH_MAX + 128];
    snprintf(expected, sizeof expected,
        "%s:2: milter.sokcet: unknown option in section milter; did you mean socket?\n", path);
    assert_string_equal(errors_text(&errs), expected);
    config_errors_free(&errs);
    assert_int_equal(errs.count, 0);
    assert_null(errs.items);

    assert_single_error("limits: {\n  frobnicate = 1\n}\n", 2, "limits.frobnicate",
        "unknown option in section limits");
    assert_single_error("symbols: { X: { scroe = 1.0 } }\n", 1, "symbols.X.scroe",
        "did you mean score?");
    assert_single_error("access = ( { name = \"a\"; match = \"sender\"; values = [ \"x@y\" ];\n"
        "  actoin = \"reject\" } )\n", 2, "access[1].actoin", "did you mean action?");
}

static void test_unknown_section(void **state)
{
    (void)state;
    assert_single_error("# comment\nmiltr: {\n  socket = \"inet:8891@127.0.0.1\"\n}\n", 2,
        "miltr", "did you mean milter?");
    assert_single_error("zzzzzzzz = 1\n", 1, "zzzzzzzz", "unknown section (sections:");
}

static void test_wrong_type(void **state)
{
    (void)state;
    assert_single_error("limits: {\n  max_headers = \"lots\"\n}\n", 2, "limits.max_headers",
        "must be a whole number, not a string");
    assert_single_error("log: { summary = 3 }\n", 1, "log.summary", "must be true or false");
    assert_single_error("milter: { socket = 8891 }\n", 1, "milter.socket",
        "must be a string in double quotes, not a number");
    assert_single_error("networks: { internal = 5 }\n", 1, "networks.internal",
        "must be a list of strings");
    assert_single_error("networks: { internal = ( \"10.0.0.0/8\", 5 ) }\n", 1,
        "networks.internal", "element 2 must be a string");
    assert_single_error("milter = 5\n", 1, "milter", "must be a section");
    assert_single_error("actions: { reject = \"high\" }\n", 1, "actions.reject",
        "must be a number, not a string");
    assert_single_error("access = 5\n", 1, "access", "must be a list of rules");
    assert_single_error("symbols: { X = 5 }\n", 1, "symbols.X", "must be a section");
}

static void test_out_of_range(void **state)
{
    (void)state;
    assert_single_error("limits: {\n  max_headers = 5\n}\n", 2, "limits.max_headers",
        "5 is out of range: use 16 to 100000");
    assert_single_error("milter: { backlog = 0 }\n", 1, "milter.backlog", "out of range");
    assert_single_error("actions: { reject = -1.0 }\n", 1, "actions.reject", "out of range");
    assert_single_error("dns: { timeout = \"1h\" }\n", 1, "dns.timeout",
        "is out of range: use 10 to 120000 ms");
    assert_single_error("milter: { timeout = 0 }\n", 1, "milter.timeout", "out of range");
    assert_single_error("milter: { socket_mode = \"01777\" }\n", 1, "milter.socket_mode",
        "not a file mode");
    assert_single_error("actions: { quarantine = 20.0; reject = 15.0 }\n", 0,
        "actions.quarantine", "above actions.reject");
}

/* Ranges are written as the admin writes numbers, not as 6.71089e+07. */
static void test_out_of_range_numbers_in_full(void **state)
{
    (void)state;
    assert_single_error("limits: { max_header_bytes = \"128M\" }\n", 1, "limits.max_header_bytes",
        "134217728 bytes is out of range: use 1024 to 67108864 bytes");
    assert_single_error("dns: { timeout = \"1h\" }\n", 1, "dns.timeout",
        "3600000 ms is out of range: use 10 to 120000 ms");
}

static void test_bad_size_and_duration(void **state)
{
    (void)state;
    assert_single_error("limits: {\n  max_body_buffer = \"10Q\"\n}\n", 2,
        "limits.max_body_buffer", "\"10Q\" is not a size");
    assert_single_error("limits: { max_header_bytes = -5 }\n", 1, "limits.max_header_bytes",
        "must not be negative");
    assert_single_error("limits: { max_header_bytes = true }\n", 1, "limits.max_header_bytes",
        "must be a size");
    assert_single_error("milter: {\n\n  timeout = \"soon\"\n}\n", 3, "milter.timeout",
        "\"soon\" is not a duration");
    assert_single_error("milter: { shutdown_grace = \"5 fortnights\" }\n", 1,
        "milter.shutdown_grace", "is not a duration");
}

static void test_bad_cidr(void **state)
{
    (void)state;
    assert_single_error("networks: {\n  internal = [ \"10.0.0.0/8\", \"10.1.2.3/8\" ]\n}\n", 2,
        "networks.internal", "\"10.1.2.3/8\": address has bits set beyond the prefix");
    assert_single_error("networks: {\n  trusted = [\n    \"192.0.2.0/24\",\n"
        "    \"mx.example.com\",\n    \"::1\"\n  ]\n}\n", 4, "networks.trusted",
        "\"mx.example.com\": not an IP address");
    assert_single_error("networks: { skip = \"192.0.2.0/33\" }\n", 1, "networks.skip",
        "at most 32");
}

static void test_bad_socket(void **state)
{
    (void)state;
    assert_single_error("milter: {\n  socket = \"inet:127.0.0.1:8891\"\n}\n", 2,
        "milter.socket", "the port comes first");
    assert_single_error("milter: { socket = \"unix:run/milter.sock\" }\n", 1, "milter.socket",
        "absolute path");
    assert_single_error("milter: { socket = \"tcp:8891\" }\n", 1, "milter.socket",
        "use inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH");
    assert_single_error("milter: { socket = \"inet:99999@127.0.0.1\" }\n", 1, "milter.socket",
        "the port comes first");
}

static void test_bad_values_of_named_things(void **state)
{
    (void)state;
    assert_single_error("milter: { user = \"no-such-user-mw-test\" }\n", 1, "milter.user",
        "no such user");
    assert_single_error("milter: { group = \"no-such-group-mw-test\" }\n", 1, "milter.group",
        "no such group");
    assert_single_error("dns: { trust_anchor = \"/nonexistent/root.key\" }\n", 1,
        "dns.trust_anchor", "cannot read /nonexistent/root.key");
    assert_single_error("dns: { nameservers = [ \"127.0.0.1@99999\" ] }\n", 1,
        "dns.nameservers", "is not ADDRESS or ADDRESS@PORT");
    assert_single_error("log: { facility = \"mial\" }\n", 1, "log.facility",
        "unknown syslog facility");
    assert_single_error("log: { level = \"loud\" }\n", 1, "log.level", "unknown level");
    assert_single_error("authres: { authserv_id = \"mx example\" }\n", 1, "authres.authserv_id",
        "without spaces");
    assert_single_error("actions: { on_error = \"reject\" }\n", 1, "actions.on_error",
        "must be tempfail or accept");
    assert_single_error("actions: { quarantine_reply = \"550 5.7.1 looks like a reply but is a "
        "reason that goes on and on and on and on and on and on and on and on and on and on and "
        "on and on and on and on and on and on and on and on and on and on and on and on and on "
        "and on and on and on and on and on and on and on and on and on and on and on\" }\n", 1,
        "actions.quarantine_reply", "at most 255 characters");
}

static void test_bad_reply_for_action(void **state)
{
    (void)state;
    assert_single_error("actions: {\n  reject_reply = \"451 4.7.1 later\"\n}\n", 2,
        "actions.reject_reply", "a reject reply needs a 5xx code");
    assert_single_error("actions: { tempfail_reply = \"550 5.7.1 no\" }\n", 1,
        "actions.tempfail_reply", "a tempfail reply needs a 4xx code");
    assert_single_error("actions: { reject_reply = \"550 4.7.1 x\" }\n", 1,
        "actions.reject_reply", "class must match");
    assert_single_error("actions: { reject_reply = \"Go away\" }\n", 1, "actions.reject_reply",
        "starts with a 4xx or 5xx code");
    assert_single_error("access = ( { name = \"a\"; match = \"sender\"; values = [ \"x@y\" ];\n"
        "  action = \"reject\"; reply = \"451 4.7.1 later\" } )\n", 2, "access[1].reply",
        "a reject reply needs a 5xx code");
    assert_single_error("symbols: {\n  X: { action = \"tempfail\"; reply = \"550 no\" }\n}\n", 2,
        "symbols.X.reply", "a tempfail reply needs a 4xx code");
}

static void test_syntax_error_line(void **state)
{
    (void)state;
    const char *path = write_file("syntax.conf",
        "milter: {\n"
        "  backlog = 128\n"
        "  timeout = \"2m\"\n"
        "  max_connections = = 5\n"
        "}\n");
    load_fails(path, 1, &errs);
    assert_error(&errs, path, 4, "-", "syntax error");
    assert_error(&errs, path, 4, "-", "check this line and the one before");
    config_errors_free(&errs);

    assert_single_error("limits: {\n  max_headers = 20\n", 3, "-", "syntax error");
    /* an unterminated string is noticed at the end of the file; the hint says to look up */
    assert_single_error("log: { level = \"info }\n", 2, "-", "check this line and the one before");
}

static void test_access_unknown_key_and_action(void **state)
{
    (void)state;
    const char *path = write_file("access.conf",
        "access = (\n"
        "  { name = \"a\"; match = \"sendr\"; values = [ \"x@example.com\" ]; action = \"reject\" },\n"
        "  { name = \"b\"; match = \"sender\"; values = [ \"x@example.com\" ]; action = \"bounce\" }\n"
        ")\n");
    load_fails(path, 2, &errs);
    assert_error(&errs, path, 2, "access[1].match", "unknown key \"sendr\": use client, helo");
    assert_error(&errs, path, 3, "access[2].action", "unknown action \"bounce\"");
    config_errors_free(&errs);
}

static void test_access_rule_incomplete(void **state)
{
    (void)state;
    const char *path = write_file("incomplete.conf",
        "access = (\n"
        "  { match = \"sender\"; values = [ \"x@example.com\" ] },\n"
        "  { name = \"novalues\"; match = \"sender\" },\n"
        "  { name = \"nomatch\"; values = [ \"x@example.com\" ] },\n"
        "  { name = \"badclient\"; match = \"client\"; values = [ \"300.1.1.1\" ] },\n"
        "  { name = \"twowords\"; match = \"sender\"; values = [ \"two words\" ] },\n"
        "  \"not a group\" )\n");
    load_fails(path, 6, &errs);
    assert_error(&errs, path, 2, "access[1]", "a rule needs a name");
    assert_error(&errs, path, 3, "access[2]", "a rule needs values = [ ... ] or file");
    assert_error(&errs, path, 4, "access[3]", "a rule needs match =");
    assert_error(&errs, path, 5, "access[4].values", "\"300.1.1.1\": not an IP address");
    assert_error(&errs, path, 6, "access[5].values", "a value must be one word");
    assert_error(&errs, path, 7, "access[6]", "each rule is a group");
    config_errors_free(&errs);

    /* a name with bad characters (the count is not checked: it also says "needs a name") */
    path = write_file("badname.conf",
        "access = ( { name = \"bad name!\"; match = \"sender\"; values = [ \"x@example.com\" ] } )\n");
    config_errors_free(&errs);
    assert_null(config_load(path, &errs));
    assert_error(&errs, path, 1, "access[1].name", "\"bad name!\": use letters, digits, - and _");
    config_errors_free(&errs);
}

static void test_values_file(void **state)
{
    (void)state;
    const char *values = write_file("clients.txt",
        "# partner relays\n"
        "192.0.2.0/24\n"
        "\n"
        "   198.51.100.7   # one host\n"
        "2001:db8::/48\n");
    char text[PATH_MAX + 200];
    snprintf(text, sizeof text, "access = ( { name = \"partners\"; match = \"client\";\n"
        "  file = \"%s\"; action = \"accept\" } )\n", values);
    struct config *cfg = load_ok(write_file("good-values.conf", text));
    assert_int_equal(cfg->access_count, 1);
    assert_int_equal(cfg->access[0].patterns.count, 3);
    assert_true(patterns_contain_ip(&cfg->access[0].patterns, "198.51.100.7"));
    assert_true(patterns_contain_ip(&cfg->access[0].patterns, "192.0.2.99"));
    assert_false(patterns_contain_ip(&cfg->access[0].patterns, "198.51.100.8"));
    assert_int_equal(cfg->access[0].action, ACTION_ACCEPT);
    config_free(cfg);
}

static void test_values_file_bad_line(void **state)
{
    (void)state;
    const char *values = write_file("bad-clients.txt",
        "# partner relays\n"
        "192.0.2.0/24\n"
        "\n"
        "198.51.100.7   # one host\n"
        "10.1.2.3/8\n"
        "192.0.2.1\n");
    char text[PATH_MAX + 200];
    snprintf(text, sizeof text, "# partners\naccess = ( { name = \"partners\"; match = \"client\";\n"
        "  file = \"%s\"; action = \"accept\" } )\n", values);
    const char *path = write_file("bad-values.conf", text);
    load_fails(path, 1, &errs);
    /* the error names the values file and its line, not the policy file */
    assert_error(&errs, values, 5, "access[1].file",
        "\"10.1.2.3/8\": address has bits set beyond the prefix");
    config_errors_free(&errs);

    snprintf(text, sizeof text, "access = ( { name = \"p\"; match = \"sender\";\n"
        "  file = \"%s/missing.txt\" } )\n", dir);
    path = write_file("missing-values.conf", text);
    load_fails(path, 1, &errs);
    assert_error(&errs, path, 2, "access[1].file", "No such file or directory");
    config_errors_free(&errs);
}

/* A bad pattern in any list is named by file, line and option with the fix; a pattern file's
 * bad line by that file and line; a list of negations only (it would match nothing) is
 * refused. Before, these loaded and silently matched nothing. */
static void test_bad_patterns_named_with_the_fix(void **state)
{
    (void)state;
    assert_single_error("ratelimit: { limits = ( { name = \"x\"; key = \"sender\"; rate = \"1/1h\";\n"
        "  exempt_senders = [ \"!a@example.com\" ] } ) }\n", 2,
        "ratelimit.limits[1].exempt_senders", "matches nothing: end it with \"*\"");
    assert_single_error("access = ( { name = \"a\"; match = \"sender_domain\";\n"
        "  values = [ \"ok.example\",\n \"*@bad.example\" ] } )\n", 3, "access[1].values",
        "\"*@bad.example\": this list holds domains");
    assert_single_error("dkim: { signing = ( { from = \"a*@example.com\"; keys = [ \"k\" ] } ) }\n",
        1, "dkim.signing[0].from", "a * is not allowed in a local part");
    assert_single_error("spf: { allow_helo = \"ok.example, bad..example\" }\n", 1,
        "spf.allow_helo", "\"bad..example\": the domain has an empty label");

    const char *values = write_file("senders.txt", "# ok\n@good.example\nb\xc3\xbc" "cher.example\n");
    char text[PATH_MAX + 200];
    snprintf(text, sizeof text, "ratelimit: { limits = ( { name = \"x\"; key = \"sender\";\n"
        "  rate = \"1/1h\"; exempt_recipients = [ \"file:%s\" ] } ) }\n", values);
    const char *path = write_file("pattern-file.conf", text);
    load_fails(path, 1, &errs);
    assert_error(&errs, values, 3, "ratelimit.limits[1].exempt_recipients",
        "A-label form (xn--...)");
    config_errors_free(&errs);
}

static void test_missing_main_file(void **state)
{
    (void)state;
    const char *path = path_of("nope.conf");
    load_fails(path, 1, &errs);
    assert_error(&errs, path, 0, "-", "cannot read the file: No such file or directory");
    char expected[PATH_MAX + 100];
    snprintf(expected, sizeof expected, "%s: -: cannot read the file: No such file or directory\n",
        path);
    assert_string_equal(errors_text(&errs), expected);
    config_errors_free(&errs);
}

/* Key text pasted where another value belongs never shows up in an error, whichever reader
 * reports it: PEM armour and long base64 runs are hidden, the option is still named. */
static void test_errors_never_show_key_text(void **state)
{
    (void)state;
    static const char b64_line[] =
        "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC7VJTUt9Us8cKj";
    char text[1024];
    snprintf(text, sizeof text, "milter: { socket_mode = \"-----BEGIN PRIVATE KEY-----\n%s\n"
        "-----END PRIVATE KEY-----\" }\nlog: { level = \"%s\" }\n", b64_line, b64_line);
    const char *path = write_file("pasted.conf", text);
    load_fails(path, 2, &errs);
    assert_error(&errs, path, 1, "milter.socket_mode", "not shown");
    assert_error(&errs, path, 4, "log.level", "not shown");
    const char *all = errors_text(&errs);
    assert_null(strstr(all, "PRIVATE KEY"));
    assert_null(strstr(all, "MIIEvgIBADANBgkq"));
    assert_null(strstr(all, "-----"));
    config_errors_free(&errs);
}

static void test_several_errors_all_reported(void **state)
{
    (void)state;
    const char *path = write_file("many.conf",
        "milter: {\n"
        "  socket = \"inet:127.0.0.1:8891\"\n"
        "  backlog = 0\n"
        "}\n"
        "limits: {\n"
        "  max_body_buffer = \"lots\"\n"
        "}\n"
        "actions: {\n"
        "  reject_reply = \"451 later\"\n"
        "}\n"
        "networks: { skip = [ \"192.0.2.1/16\" ] }\n"
        "unknown_section: { }\n");
    load_fails(path, 6, &errs);
    assert_error(&errs, path, 2, "milter.socket", "the port comes first");
    assert_error(&errs, path, 3, "milter.backlog", "out of range");
    assert_error(&errs, path, 6, "limits.max_body_buffer", "is not a size");
    assert_error(&errs, path, 9, "actions.reject_reply", "needs a 5xx code");
    assert_error(&errs, path, 11, "networks.skip", "bits set beyond the prefix");
    assert_error(&errs, path, 12, "unknown_section", "unknown section");
    config_errors_free(&errs);
}

/* --- includes ------------------------------------------------------------------------------ */

static void test_include_order_and_merging(void **state)
{
    (void)state;
    /* written out of order: the glob's name order decides */
    const char *b = write_file("conf.d/20-b.conf",
        "limits: { max_headers = 200 }\n"
        "networks: { internal = [ \"10.0.0.0/8\" ] }\n"
        "access = ( { name = \"b-rule\"; match = \"recipient\"; values = [ \"b@example.org\" ] } )\n"
        "symbols: { MISSING_DATE: { score = 3.0 } }\n");
    const char *a = write_file("conf.d/10-a.conf",
        "limits: { max_headers = 100; max_recipients = 7 }\n"
        "access = ( { name = \"a-rule\"; match = \"helo\"; values = [ \"a.example\" ] } )\n"
        "symbols: { MISSING_DATE: { score = 2.0 }; MISSING_FROM: { action = \"reject\" } }\n");
    write_file("conf.d/ignored.txt", "this is not { a policy file\n");
    const char *main_file = write_file("main.conf",
        "include = [ \"conf.d/*.conf\", \"conf.d/*.none\" ]\n"
        "limits: { max_headers = 50 }\n"
        "access = ( { name = \"main-rule\"; match = \"sender\"; values = [ \"m@example.com\" ] } )\n"
        "symbols: { MISSING_DATE: { score = 1.0 } }\n");
    struct config *cfg = load_ok(main_file);

    assert_int_equal(cfg->file_count, 3);
    assert_string_equal(cfg->files[0], main_file);
    assert_string_equal(cfg->files[1], a);
    assert_string_equal(cfg->files[2], b);

    assert_int_equal(cfg->limits.max_headers, 200);     /* the last file wins */
    assert_int_equal(cfg->limits.max_recipients, 7);    /* set only in 10-a */
    assert_int_equal(cfg->networks.internal.count, 1);
    assert_true(contains_ip(&cfg->networks.internal, "10.1.1.1"));

    assert_int_equal(cfg->access_count, 3);             /* rules add up, in order */
    assert_string_equal(cfg->access[0].name, "main-rule");
    assert_string_equal(cfg->access[0].file, main_file);
    assert_int_equal(cfg->access[0].line, 3);
    assert_string_equal(cfg->access[1].name, "a-rule");
    assert_string_equal(cfg->access[1].file, a);
    assert_int_equal(cfg->access[1].line, 2);
    assert_string_equal(cfg->access[2].name, "b-rule");
    assert_string_equal(cfg->access[2].file, b);

    assert_int_equal(cfg->symbol_count, 2);             /* one override per symbol */
    const struct symbol_override *o = config_symbol(cfg, "MISSING_DATE");
    assert_non_null(o);
    assert_true(o->score == 3.0);
    o = config_symbol(cfg, "MISSING_FROM");
    assert_non_null(o);
    assert_int_equal(o->action, ACTION_REJECT);
    config_free(cfg);
}

static void test_include_single_string_and_absolute(void **state)
{
    (void)state;
    write_file("abs.d/x.conf", "limits: { max_recipients = 9 }\n");
    char text[PATH_MAX + 64];
    snprintf(text, sizeof text, "include = \"%s/abs.d/*.conf\"\n", dir);
    struct config *cfg = load_ok(write_file("abs.conf", text));
    assert_int_equal(cfg->limits.max_recipients, 9);
    assert_int_equal(cfg->file_count, 2);
    config_free(cfg);
}

static void test_include_errors_name_the_included_file(void **state)
{
    (void)state;
    const char *bad = write_file("conf.d/10-bad.conf",
        "# a comment\n"
        "milter: { backlog = \"many\" }\n");
    const char *syntax = write_file("conf.d/20-syntax.conf",
        "limits: {\n"
        "  max_headers = \n"
        "}\n");
    const char *access = write_file("conf.d/30-access.conf",
        "\n\naccess = ( { name = \"x\"; match = \"nobody\"; values = [ \"a\" ] } )\n");
    const char *main_file = write_file("main.conf",
        "include = [ \"conf.d/*.conf\" ]\n"
        "limits: {\n"
        "  max_headres = 10\n"
        "}\n");
    load_fails(main_file, 4, &errs);
    assert_error(&errs, main_file, 3, "limits.max_headres", "did you mean max_headers?");
    assert_error(&errs, bad, 2, "milter.backlog", "must be a whole number");
    assert_error(&errs, syntax, 3, "-", "syntax error");
    assert_error(&errs, access, 3, "access[1].match", "unknown key \"nobody\"");
    config_errors_free(&errs);
}

static void test_include_inside_include_is_an_error(void **state)
{
    (void)state;
    write_file("more/deep.conf", "limits: { max_headers = 77 }\n");
    const char *inner = write_file("conf.d/10-inc.conf",
        "limits: { max_recipients = 5 }\n"
        "include = [ \"more/*.conf\" ]\n");
    const char *main_file = write_file("main.conf", "include = [ \"conf.d/*.conf\" ]\n");
    load_fails(main_file, 1, &errs);
    assert_error(&errs, inner, 2, "include", "only the main file may include other files");
    config_errors_free(&errs);
}

/* "a glob may match nothing" (mailwarden.conf): also when its directory does not exist, as
 * after an admin removes policies.d. */
static void test_include_glob_in_missing_directory_matches_nothing(void **state)
{
    (void)state;
    struct config *cfg = load_ok(write_file("main.conf",
        "include = [ \"no-such-dir/*.conf\" ]\nlimits: { max_recipients = 3 }\n"));
    assert_int_equal(cfg->limits.max_recipients, 3);
    assert_int_equal(cfg->file_count, 1);
    config_free(cfg);
}

static void test_include_wrong_type(void **state)
{
    (void)state;
    assert_single_error("include = 5\n", 1, "include", "must be a list of strings");
}

/* --- empty and cut policies; the policy summary --------------------------------------------- */

/* An emptied file (or one with comments only, or whose includes matched nothing) would run on
 * built-in defaults: refused with an error naming the main file. */
static void test_empty_policy_is_refused(void **state)
{
    (void)state;
    const char *texts[] = {
        "",
        "# only a comment\n\n   \n",
        "include = [ \"nothing-here.d/*.conf\" ]\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *path = write_file("empty.conf", texts[i]);
        load_fails(path, 1, &errs);
        assert_error(&errs, path, 0, "-", "the policy has no setting at all");
        assert_error(&errs, path, 0, "-", "restore the file");
        config_errors_free(&errs);
    }
    /* one setting is enough: defaults on purpose */
    struct config *cfg = load_ok(write_file("one.conf", "log: { level = \"info\" }\n"));
    config_free(cfg);
}

/* Reads the shipped file's first `lines` lines into dir/name. */
static const char *shipped_head(const char *name, size_t lines)
{
    FILE *in = fopen(SHIPPED, "r");
    assert_non_null(in);
    static char text[64 * 1024];
    size_t len = 0, n = 0;
    char line[1024];
    while (n < lines && fgets(line, sizeof line, in) != NULL) {
        size_t l = strlen(line);
        assert_true(len + l < sizeof text);
        memcpy(text + len, line, l);
        len += l;
        n++;
    }
    text[len] = '\0';
    fclose(in);
    return write_file(name, text);
}

/* The line number (1-based) of the first line of the shipped file that starts with prefix. */
static size_t shipped_line_of(const char *prefix)
{
    FILE *in = fopen(SHIPPED, "r");
    assert_non_null(in);
    char line[1024];
    size_t n = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        n++;
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            fclose(in);
            return n;
        }
    }
    fclose(in);
    fail_msg("no line starts with %s in %s", prefix, SHIPPED);
    return 0;
}

/* The shipped file cut inside a section (opened, never closed) is a syntax error at its end. */
static void test_policy_cut_inside_a_section_is_an_error(void **state)
{
    (void)state;
    size_t dkim = shipped_line_of("dkim: {");
    const char *path = shipped_head("cut.conf", dkim + 3);
    load_fails(path, 1, &errs);
    assert_error(&errs, path, (int)dkim + 4, "-", "syntax error");
    config_errors_free(&errs);
}

static void collect_change(const char *line, void *arg)
{
    collect_line(line, arg);
}

/* The shipped file cut between two sections still parses: the summary shows what went. */
static void test_summary_shows_sections_removed_by_a_cut(void **state)
{
    (void)state;
    struct config *full = load_ok(SHIPPED);
    struct config *cut = load_ok(shipped_head("cut.conf", shipped_line_of("dkim: {") - 1));
    struct config_summary a, b;
    config_summarize(full, &a);
    config_summarize(cut, &b);
    char changes[8192] = "";
    assert_int_equal(config_summary_diff(&a, &b, collect_change, changes), 2);
    assert_string_equal(changes, "sections removed: dkim, arc, store, ratelimit, greylist, spam\n"
        "files: 2 -> 1\n");
    char line[2048];
    config_summary_line(&b, line, sizeof line);
    assert_non_null(strstr(line, "sections: include, milter, log, limits, authres, networks, dns, "
        "actions, access, spf, dmarc, rules, symbols; 1 file, 0 access rules,"));
    config_free(full);
    config_free(cut);
}

/* Counts of what decides verdicts, before and after; no change gives no line. */
static void test_summary_counts_and_diff(void **state)
{
    (void)state;
    const char *old_path = write_file("old.conf",
        "dns: { nameservers = [ \"127.0.0.1\", \"::1\" ] }\n"
        "access = (\n"
        "  { name = \"a\"; match = \"sender\"; values = [ \"x@example.org\" ]; action = \"reject\" },\n"
        "  { name = \"b\"; match = \"helo\"; values = [ \"bad.example\" ]; action = \"reject\" }\n"
        ")\n"
        "symbols: { MISSING_DATE: { score = 2.0 } }\n"
        "ratelimit: { limits = ( { name = \"ip\"; key = [ \"client_ip\" ]; rate = \"10/1m\" } ) }\n"
        "rules: { files = [ ]; inline = [ \"header SUBJ_X Subject =~ /x/\", \"body BODY_Y /y/\" ] }\n");
    const char *new_path = write_file("new.conf",
        "greylist: { enabled = false }\n"
        "access = (\n"
        "  { name = \"a\"; match = \"sender\"; values = [ \"x@example.org\" ]; action = \"reject\" }\n"
        ")\n"
        "rules: { files = [ ]; inline = [ \"header SUBJ_X Subject =~ /x/\" ] }\n");
    struct config *old = load_ok(old_path);
    struct config *new = load_ok(new_path);
    struct config_summary a, b;
    config_summarize(old, &a);
    config_summarize(new, &b);
    char line[2048];
    config_summary_line(&a, line, sizeof line);
    assert_string_equal(line, "sections: dns, access, symbols, ratelimit, rules; 1 file, "
        "2 access rules, 1 symbol override, 0 domain threshold entries, 2 nameservers, 2 rules, "
        "0 rules skipped, 0 DKIM keys, 0 DKIM signing rules, 0 DKIM user rules, 1 rate limit, "
        "0 DNS lists");
    char changes[8192] = "";
    assert_int_equal(config_summary_diff(&a, &b, collect_change, changes), 7);
    assert_string_equal(changes,
        "sections added: greylist\n"
        "sections removed: dns, symbols, ratelimit\n"
        "access rules: 2 -> 1\n"
        "symbol overrides: 1 -> 0\n"
        "nameservers: 2 -> 0\n"
        "rules: 2 -> 1\n"
        "rate limits: 1 -> 0\n");
    changes[0] = '\0';
    assert_int_equal(config_summary_diff(&a, &a, collect_change, changes), 0);
    assert_string_equal(changes, "");
    config_free(old);
    config_free(new);
}

/* A literal include (no *, ? or [) that does not exist is an error with the file and line;
 * a glob may still match nothing. */
static void test_include_missing_literal_path_is_an_error(void **state)
{
    (void)state;
    write_file("conf.d/present.conf", "limits: { max_recipients = 4 }\n");
    const char *path = write_file("main.conf",
        "include = [\n"
        "  \"conf.d/present.conf\",\n"
        "  \"conf.d/*.none\",\n"
        "  \"conf.d/absent.conf\"\n"
        "]\n"
        "limits: { max_headers = 100 }\n");
    load_fails(path, 1, &errs);
    assert_error(&errs, path, 1, "include", "conf.d/absent.conf: No such file or directory");
    assert_error(&errs, path, 1, "include", "a path without *, ? or [ must exist");
    config_errors_free(&errs);

    path = write_file("single.conf", "log: { level = \"info\" }\ninclude = \"/nonexistent/x.conf\"\n");
    load_fails(path, 1, &errs);
    assert_error(&errs, path, 2, "include", "cannot include /nonexistent/x.conf");
    config_errors_free(&errs);
}

/* --- the configuration in force ------------------------------------------------------------ */

static void test_current_install_release(void **state)
{
    (void)state;
    assert_null(config_current());

    struct config *first = load_ok(write_file("first.conf",
        "limits: { max_headers = 111 }\nauthres: { authserv_id = \"first.test\" }\n"));
    struct config *second = load_ok(write_file("second.conf",
        "limits: { max_headers = 222 }\nauthres: { authserv_id = \"second.test\" }\n"));
    assert_int_equal(first->refs, 1);

    config_install(first);                      /* the holder owns the load's reference */
    struct config *held = config_current();     /* a transaction takes one */
    assert_ptr_equal(held, first);
    assert_int_equal(first->refs, 2);

    config_install(second);                     /* a reload: the old one lives on */
    assert_int_equal(held->refs, 1);
    assert_int_equal(held->limits.max_headers, 111);
    assert_string_equal(held->authres.authserv_id, "first.test");
    assert_string_equal(held->main_file, path_of("first.conf"));

    struct config *now = config_current();
    assert_ptr_equal(now, second);
    assert_int_equal(now->limits.max_headers, 222);
    assert_int_equal(second->refs, 2);
    config_release(now);
    assert_int_equal(second->refs, 1);

    config_release(held);                       /* the last reference frees the old one */
    config_release(NULL);                       /* harmless */

    now = config_current();
    assert_ptr_equal(now, second);
    assert_string_equal(now->authres.authserv_id, "second.test");
    config_release(now);

    config_install(NULL);                       /* frees the second */
    assert_null(config_current());
}

/* --- symbols: only names something emits ------------------------------------------------- */

/* A typo of a native symbol is refused with the name it was probably meant to be. */
static void test_symbols_unknown_name_refused_with_suggestion(void **state)
{
    (void)state;
    assert_single_error("log: { level = \"info\" }\nsymbols: {\n  SPF_FIAL: { score = 5.0 }\n}\n",
        3, "symbols", "unknown symbol \"SPF_FIAL\" (did you mean SPF_FAIL?)");
    assert_single_error("symbols: { NOBODY_EMITS_THIS: { action = \"reject\" } }\n", 1,
        "symbols", "unknown symbol \"NOBODY_EMITS_THIS\": no check, rule");
}

/* Names the policy itself makes emit are accepted: an access rule's, a rate limit's, a DNS
 * list's, a rule's, and a native check's. */
static void test_symbols_names_the_policy_emits_are_accepted(void **state)
{
    (void)state;
    struct config *cfg = load_ok(write_file("emits.conf",
        "access = ( { name = \"my-rule\"; match = \"helo\"; values = [ \"x.example\" ] } )\n"
        "ratelimit: { limits = ( { name = \"per-ip\"; key = [ \"client_ip\" ]; rate = \"10/1m\" } ) }\n"
        "spam: { dnslists = ( { zone = \"zen.example.org\"; type = \"ip\" } ) }\n"
        "rules: { inline = [ \"header MY_SUBJECT_RULE Subject =~ /x/\" ] }\n"
        "symbols: {\n"
        "  ACCESS_MY_RULE: { score = 1.0 }; RATELIMIT_PER_IP: { score = 1.0 };\n"
        "  DNSLIST_ZEN_EXAMPLE_ORG: { score = 2.0 }; MY_SUBJECT_RULE: { score = 3.0 };\n"
        "  SPF_FAIL: { action = \"reject\" }\n"
        "}\n"));
    assert_int_equal(cfg->symbol_count, 5);
    config_free(cfg);
    /* the same names without what emits them are refused, each at its line */
    const char *path = write_file("noemit.conf",
        "symbols: {\n  ACCESS_MY_RULE: { score = 1.0 }\n  MY_SUBJECT_RULE: { score = 3.0 }\n}\n");
    load_fails(path, 2, &errs);
    assert_error(&errs, path, 2, "symbols", "unknown symbol \"ACCESS_MY_RULE\"");
    assert_error(&errs, path, 3, "symbols", "unknown symbol \"MY_SUBJECT_RULE\"");
    config_errors_free(&errs);
}

/* --- includes: a circle ------------------------------------------------------------------- */

/* libconfig follows an @include circle until a setting repeats ("duplicate setting name"):
 * the loader names the @include that closes the circle instead. */
static void test_include_circle_names_the_closing_line(void **state)
{
    (void)state;
    char text[PATH_MAX + 64];
    snprintf(text, sizeof text, "limits: { max_headers = 100 }\n@include \"%s/circle-a.conf\"\n", dir);
    const char *b = write_file("circle-b.conf", text);
    snprintf(text, sizeof text, "@include \"%s\"\nlog: { level = \"info\" }\n", b);
    const char *a = write_file("circle-a.conf", text);
    load_fails(a, 1, &errs);
    assert_error(&errs, b, 2, "@include", "is already being read: an include circle (");
    config_errors_free(&errs);
    /* a file that includes itself */
    snprintf(text, sizeof text, "log: { level = \"info\" }\n@include \"%s/self.conf\"\n", dir);
    const char *self = write_file("self.conf", text);
    load_fails(self, 1, &errs);
    assert_error(&errs, self, 2, "@include", "an include circle");
    config_errors_free(&errs);
}

/* --- store: named stores that features name ------------------------------------------------ */

/* Rate limits and greylisting each use the store they name; "default" unless told. */
static void test_store_section_named_by_its_users(void **state)
{
    (void)state;
    struct config *cfg = load_ok(write_file("store.conf",
        "store: { default: { backend = \"memory\" }; small: { backend = \"memory\"; max_keys = 5000 } }\n"
        "ratelimit: { store = \"small\" }\n"
        "greylist: { enabled = true }\n"));
    assert_non_null(store_config_get(cfg, "default"));
    assert_non_null(store_config_get(cfg, "small"));
    assert_ptr_equal(cfg->ratelimit->store, store_config_get(cfg, "small"));
    assert_ptr_equal(cfg->greylist->store, store_config_get(cfg, "default"));
    assert_int_equal(cfg->notices.count, 0);
    config_free(cfg);
    /* a name no store has is an error at the line that names it */
    const char *path = write_file("nostore.conf", "log: { level = \"info\" }\ngreylist: {\n  store = \"shraed\"\n}\n");
    load_fails(path, 1, &errs);
    assert_error(&errs, path, 3, "greylist.store", "no store named \"shraed\" (stores: default)");
    config_errors_free(&errs);
    assert_single_error("store: { default: { backend = \"redi\" } }\n", 1, "store.default.backend",
        "\"redi\": use \"memory\"");
}

/* backend = "lmdb": path and max_size read, the store opened lazily (a load creates no
 * files), a relative path or a tiny size an error at its line. */
static void test_store_lmdb_settings(void **state)
{
    (void)state;
    struct config *cfg = load_ok(write_file("lmdb.conf",
        "store: { disk: { backend = \"lmdb\"; path = \"/nonexistent-mw/store\"; "
        "max_size = \"64M\" }; plain: { backend = \"lmdb\" } }\n"
        "greylist: { enabled = true; store = \"disk\" }\n"));
    struct store *disk = store_config_get(cfg, "disk");
    assert_non_null(disk);
    assert_string_equal(store_describe(disk), "lmdb /nonexistent-mw/store");
    assert_string_equal(store_describe(store_config_get(cfg, "plain")),
        "lmdb /var/lib/mailwarden/store");
    assert_ptr_equal(cfg->greylist->store, disk);
    const struct store_policy *p = cfg->store;
    bool seen = false;
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->stores[i].name, "disk") == 0) {
            assert_int_equal(p->stores[i].settings.lmdb_max_size, 64 * 1024 * 1024);
            seen = true;
        }
        if (strcmp(p->stores[i].name, "plain") == 0)
            assert_int_equal(p->stores[i].settings.lmdb_max_size, 256 * 1024 * 1024);
    }
    assert_true(seen);
    config_free(cfg);
    assert_int_equal(access("/nonexistent-mw", F_OK), -1);    /* nothing made by a load */
    assert_single_error("store: { d: { backend = \"lmdb\"; path = \"var/db\" } }\n", 1,
        "store.d.path", "write an absolute path");
    assert_single_error("store: { d: { backend = \"lmdb\"; max_size = \"10k\" } }\n", 1,
        "store.d.max_size", "");
}

/* The old spelling ratelimit: { store: { ... } } sets the store named "default" (which
 * greylisting shares, as before) and leaves a notice naming the new spelling. */
static void test_store_old_spelling_is_an_alias_with_a_notice(void **state)
{
    (void)state;
    const char *path = write_file("old-store.conf",
        "log: { level = \"info\" }\n"
        "ratelimit: {\n  store: { backend = \"memory\"; max_keys = 2000 }\n}\n");
    struct config *cfg = load_ok(path);
    assert_int_equal(cfg->store->count, 1);
    assert_int_equal(cfg->store->stores[0].settings.max_keys, 2000);
    assert_ptr_equal(cfg->ratelimit->store, store_config_get(cfg, "default"));
    assert_ptr_equal(cfg->greylist->store, cfg->ratelimit->store);
    assert_int_equal(cfg->notices.count, 1);
    assert_string_equal(cfg->notices.items[0].file, path);
    assert_int_equal(cfg->notices.items[0].line, 3);
    assert_string_equal(cfg->notices.items[0].option, "ratelimit.store");
    assert_non_null(strstr(cfg->notices.items[0].reason, "write store: { default: { ... } }"));
    config_free(cfg);
}

/* --- dns: the resolver belongs to the policy ----------------------------------------------- */

/* A loaded policy has a resolver built but not started: config_resolver gives it only after
 * config_start (the daemon starts it after its fork). */
static void test_resolver_is_built_by_load_and_started_by_config_start(void **state)
{
    (void)state;
    struct config *cfg = load_ok(write_file("dns.conf", "dns: { nameservers = [ \"127.0.0.1@1\" ] }\n"));
    assert_non_null(cfg->dns.resolver);
    assert_null(config_resolver(cfg));
    struct config_errors start_errs = {0};
    assert_true(config_start(cfg, &start_errs));
    assert_int_equal(start_errs.count, 0);
    assert_ptr_equal(config_resolver(cfg), cfg->dns.resolver);
    config_free(cfg);
    struct config *def = config_defaults();
    assert_null(config_resolver(def));      /* nothing to start without a load */
    assert_true(config_start(def, &start_errs));
    assert_null(config_resolver(def));
    config_free(def);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_shipped_file_is_the_defaults),
        T(test_every_option_lands_in_its_field),
        T(test_unknown_option_did_you_mean),
        T(test_unknown_section),
        T(test_wrong_type),
        T(test_out_of_range),
        T(test_out_of_range_numbers_in_full),
        T(test_bad_size_and_duration),
        T(test_bad_cidr),
        T(test_bad_socket),
        T(test_bad_values_of_named_things),
        T(test_bad_reply_for_action),
        T(test_syntax_error_line),
        T(test_access_unknown_key_and_action),
        T(test_access_rule_incomplete),
        T(test_values_file),
        T(test_values_file_bad_line),
        T(test_missing_main_file),
        T(test_errors_never_show_key_text),
        T(test_several_errors_all_reported),
        T(test_include_order_and_merging),
        T(test_include_single_string_and_absolute),
        T(test_include_errors_name_the_included_file),
        T(test_include_inside_include_is_an_error),
        T(test_include_glob_in_missing_directory_matches_nothing),
        T(test_include_wrong_type),
        T(test_empty_policy_is_refused),
        T(test_policy_cut_inside_a_section_is_an_error),
        T(test_summary_shows_sections_removed_by_a_cut),
        T(test_summary_counts_and_diff),
        T(test_include_missing_literal_path_is_an_error),
        T(test_current_install_release),
        T(test_symbols_unknown_name_refused_with_suggestion),
        T(test_symbols_names_the_policy_emits_are_accepted),
        T(test_include_circle_names_the_closing_line),
        T(test_store_section_named_by_its_users),
        T(test_store_old_spelling_is_an_alias_with_a_notice),
        T(test_store_lmdb_settings),
        T(test_resolver_is_built_by_load_and_started_by_config_start),
        T(test_bad_patterns_named_with_the_fix),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
