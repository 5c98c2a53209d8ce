/* ctl_commands.c - the control commands (ctl_commands.h). Each reads what the daemon already
 * keeps (reload.c, milter.c, dns_health.c, store.c, verdict.c) and prints it; only reload and
 * flush-dns-cache change anything, and they go through reload.c's lock like SIGHUP. */
#include "ctl_commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dkim_keytest.h"
#include "dns.h"
#include "dns_health.h"
#include "ratelimit.h"
#include "reload.h"
#include "rules.h"
#include "stats.h"
#include "store.h"
#include "store_config.h"
#include "verdict.h"
#include "mw_build.h"

#define DNS_PROBE_TIMEOUT_MS 2000
#define TYPE_NS 2
#define DNS_PROBE_NAME "com"

static void say(struct ctl_output *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct ctl_output *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_vprintf(out->line, out->arg, fmt, ap);
    va_end(ap);
}

static void pass_line(const char *line, void *arg)
{
    struct ctl_output *out = arg;
    out->line(line, out->arg);
}

/* "2026-12-02T22:40:00Z" */
static void format_time(time_t when, char *buf, size_t size)
{
    struct tm tm;
    if (when == 0 || gmtime_r(&when, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "-");
}

static bool do_reload(const char *config_file, struct ctl_output *out)
{
    return policy_reload(config_file, pass_line, out);
}

/* Each named store of the policy (store_config.h): what it is and whether it answers. */
static void status_store(const struct config *cfg, struct ctl_output *out)
{
    const struct store_policy *sp = cfg->store;
    for (size_t i = 0; sp != NULL && i < sp->count; i++) {
        const struct named_store *ns = &sp->stores[i];
        if (ns->store == NULL) {
            say(out, "store %s: DOWN: not opened", ns->name);
            continue;
        }
        char why[256];
        bool up = store_ping(ns->store, why, sizeof why);
        say(out, "store %s: %s: %s%s%s", ns->name, store_describe(ns->store), up ? "up" : "DOWN",
            up ? "" : ": ", up ? "" : why);
    }
}

static void status_dns(const struct config *cfg, struct ctl_output *out)
{
    struct dns_resolver *r = config_resolver(cfg);
    if (r == NULL) {
        say(out, "dns: DOWN: no resolver");
    } else {
        /* com's NS (dns.c takes no query for the root): any answer, even NXDOMAIN, says the
         * resolver and the servers it asks work */
        uint64_t start = dns_now_ms();
        struct dns_answer a;
        dns_query(r, DNS_PROBE_NAME, TYPE_NS, DNS_PROBE_TIMEOUT_MS, &a);
        bool up = a.status == DNS_OK || a.status == DNS_NXDOMAIN;
        say(out, "dns: %s: probe " DNS_PROBE_NAME " NS: %s in %llu ms", up ? "up" : "DOWN", dns_status_name(a.status),
            (unsigned long long)(dns_now_ms() - start));
        dns_answer_free(&a);
    }
    struct dns_health h;
    dns_health_get(&h);
    say(out, "dns queries: %llu answered, %llu servfail, %llu timeout, %llu error",
        (unsigned long long)h.answered, (unsigned long long)h.servfail,
        (unsigned long long)h.timeout, (unsigned long long)h.error);
    if (h.last_failure_at == 0) {
        say(out, "dns last failure: none");
    } else {
        char when[32];
        format_time(h.last_failure_at, when, sizeof when);
        say(out, "dns last failure: %s %s type %d: %s", when, h.last_failure_name,
            h.last_failure_type, dns_status_name(h.last_failure));
    }
}

/* The rules loaded and the state of their Hyperscan prefilter. */
static void status_rules(const struct config *cfg, struct ctl_output *out)
{
    const struct ruleset *set = cfg->rules != NULL ? cfg->rules->set : NULL;
    if (set == NULL) {
        say(out, "rules: none");
        return;
    }
    char prefilter[512];
    ruleset_prefilter_describe(set, prefilter, sizeof prefilter);
    say(out, "rules: %zu loaded, %zu skipped; %s", ruleset_loaded(set), ruleset_skipped(set),
        prefilter);
}

static bool do_status(struct ctl_output *out)
{
    struct policy_info info;
    policy_get_info(&info);
    char started[32], loaded[32];
    format_time(info.started_at, started, sizeof started);
    format_time(info.loaded_at, loaded, sizeof loaded);
    time_t now = time(NULL);
    say(out, "version: %s", PACKAGE_VERSION);
    say(out, "pid: %ld", (long)getpid());
    say(out, "uptime: %lld s (since %s)", (long long)(info.started_at ? now - info.started_at : 0),
        started);
    say(out, "policy: generation %llu, loaded %s from %s", (unsigned long long)info.generation,
        loaded, info.file);
    say(out, "reloads refused: %llu", (unsigned long long)info.reloads_refused);
    unsigned connections, transactions;
    stats_open_counts(&connections, &transactions);
    say(out, "connections: %u", connections);
    say(out, "transactions: %u", transactions);
    struct config *cfg = config_current();
    if (cfg == NULL) {
        say(out, "rules: -");
        say(out, "store: -");
        say(out, "dns: -");
        return false;
    }
    status_rules(cfg, out);
    status_store(cfg, out);
    status_dns(cfg, out);
    config_release(cfg);
    return true;
}

void ctl_stats_report(struct ctl_output *out)
{
    unsigned connections, transactions;
    stats_open_counts(&connections, &transactions);
    say(out, "connections_open %u", connections);
    say(out, "transactions_in_flight %u", transactions);
    struct shadow_counts sc;
    verdict_shadow_counts(&sc);
    say(out, "shadow_symbol_hits %llu", (unsigned long long)sc.symbol_hits);
    say(out, "shadow_transactions %llu", (unsigned long long)sc.transactions);
    for (int a = ACTION_ACCEPT; a <= ACTION_REJECT; a++)
        say(out, "shadow_would_have_%s %llu", action_name((enum action)a),
            (unsigned long long)sc.would_have[a]);
    struct policy_info info;
    policy_get_info(&info);
    say(out, "policy_generation %llu", (unsigned long long)info.generation);
    say(out, "reloads_refused %llu", (unsigned long long)info.reloads_refused);
    struct dns_health h;
    dns_health_get(&h);
    say(out, "dns_answered %llu", (unsigned long long)h.answered);
    say(out, "dns_servfail %llu", (unsigned long long)h.servfail);
    say(out, "dns_timeout %llu", (unsigned long long)h.timeout);
    say(out, "dns_error %llu", (unsigned long long)h.error);
}

static bool do_test_key(const char *name, struct ctl_output *out)
{
    struct config *cfg = config_current();
    if (cfg == NULL) {
        say(out, "no policy in force");
        return false;
    }
    struct dns_resolver *r = config_resolver(cfg);
    /* the daemon runs as milter.user: the key file is read as the daemon reads it */
    enum dkim_keytest_result result = dkim_keytest(cfg, r, name, pass_line, out);
    config_release(cfg);
    return result == DKIM_KEYTEST_MATCHES;
}

static bool do_flush_dns_cache(struct ctl_output *out)
{
    char why[256];
    if (!policy_flush_dns_cache(why, sizeof why)) {
        say(out, "the DNS cache was not flushed: %s", why);
        return false;
    }
    say(out, "DNS cache flushed (a new resolver with an empty cache)");
    return true;
}

bool ctl_command_run(const struct ctl_request *req, const char *config_file,
    struct ctl_output *out)
{
    switch (req->command) {
    case CTL_RELOAD:
        return do_reload(config_file, out);
    case CTL_STATUS:
        return do_status(out);
    case CTL_STATS:
        ctl_stats_report(out);
        return true;
    case CTL_TEST_KEY:
        return do_test_key(req->argument, out);
    case CTL_FLUSH_DNS_CACHE:
        return do_flush_dns_cache(out);
    }
    return false;
}
