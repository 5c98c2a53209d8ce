/* rules-cpu.c - CPU per message of mailwarden's engine, as mailwarden-check drives it (connect,
 * MAIL, RCPT, headers, body, end of message: every check of the policy, the rules included),
 * over a set of message files, measured with getrusage (user + system). The Hyperscan prefilter
 * is waited for before timing starts, so the figure is the steady state of a running daemon;
 * --no-prefilter measures PCRE2 alone. Prints one line per set: messages, CPU ms per message, and
 * how many were rejected (a sanity check that the rules ran). Not a test: tests/bench/rules-bench.sh
 * runs it next to spamd and rspamd.
 *
 * usage: rules-cpu -c POLICY [--rounds N] [--no-prefilter] DIRECTORY...
 * (each directory a set of messages, measured and printed on its own line) */
#include <getopt.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "config_load.h"
#include "engine.h"
#include "cidr.h"
#include "log.h"
#include "message_file.h"
#include "rules.h"
#include "txn.h"
#include "util.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
        + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static enum action run_one(const struct message *msg, const struct ipaddr *client)
{
    struct txn *t = txn_new(config_current());
    enum action action = engine_connect(t, "client.example.net", client);
    if (action == ACTION_NONE)
        action = engine_helo(t, "client.example.net");
    if (action == ACTION_NONE)
        action = engine_mail(t, config_current(), "BENCH1", "sender@example.net", NULL, NULL);
    if (action == ACTION_NONE)
        engine_rcpt(t, "rcpt@example.org");
    if (action == ACTION_NONE) {
        for (size_t i = 0; i < msg->header_count; i++)
            engine_header(t, msg->headers[i].name, msg->headers[i].value);
        action = engine_eoh(t);
        if (action == ACTION_NONE) {
            engine_body(t, msg->body, msg->body_len);
            action = engine_eom(t);
        }
    }
    txn_free(t);
    return action;
}

static void print_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "%s\n", line);
}

int main(int argc, char **argv)
{
    const char *policy = NULL;
    int rounds = 10;
    bool prefilter = true;
    static const struct option longopts[] = {
        {"rounds", required_argument, NULL, 'r'},
        {"no-prefilter", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:r:n", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': policy = optarg; break;
        case 'r': rounds = atoi(optarg); break;
        case 'n': prefilter = false; break;
        default:
            fprintf(stderr, "usage: rules-cpu -c POLICY [--rounds N] [--no-prefilter] DIRECTORY...\n");
            return 64;
        }
    }
    if (policy == NULL || optind >= argc || rounds < 1) {
        fprintf(stderr, "usage: rules-cpu -c POLICY [--rounds N] [--no-prefilter] DIRECTORY...\n");
        return 64;
    }
    log_open("rules-cpu", LOG_MAIL, false, false);
    log_set_level(LOG_WARNING);
    struct config_errors errs = {0};
    double load_start = cpu_seconds();
    struct config *cfg = config_load(policy, &errs);
    if (cfg == NULL) {
        config_errors_print(&errs, print_line, stderr);
        return 78;
    }
    double load_cpu = cpu_seconds() - load_start;
    cfg->log.summary = false;
    if (cfg->rules != NULL)
        cfg->rules->limits.prefilter = prefilter;
    double compile_start = cpu_seconds();
    bool in_use = prefilter && cfg->rules != NULL && ruleset_prefilter_wait(cfg->rules->set);
    double compile_cpu = cpu_seconds() - compile_start;
    config_install(cfg);

    struct ipaddr client;
    ipaddr_parse("198.51.100.7", &client);
    for (int a = optind; a < argc; a++) {
        glob_t g;
        char *pattern = xasprintf("%s/*", argv[a]);
        int rc = glob(pattern, 0, NULL, &g);
        free(pattern);
        if (rc != 0) {
            fprintf(stderr, "rules-cpu: no message in %s\n", argv[a]);
            return 66;
        }
        struct message *msgs = xcalloc(g.gl_pathc, sizeof *msgs);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            FILE *fp = fopen(g.gl_pathv[i], "rb");
            if (fp == NULL || message_read(fp, &msgs[i]) != 0) {
                fprintf(stderr, "rules-cpu: cannot read %s\n", g.gl_pathv[i]);
                return 66;
            }
            fclose(fp);
        }
        for (size_t i = 0; i < g.gl_pathc; i++)
            run_one(&msgs[i], &client);             /* warm-up: caches, first allocations */
        size_t rejected = 0;
        double start = cpu_seconds();
        for (int r = 0; r < rounds; r++) {
            for (size_t i = 0; i < g.gl_pathc; i++)
                rejected += run_one(&msgs[i], &client) == ACTION_REJECT;
        }
        double cpu = cpu_seconds() - start;
        size_t total = g.gl_pathc * (size_t)rounds;
        printf("set=%s messages=%zu cpu_ms_per_message=%.3f rejected=%zu prefilter=%s "
            "policy_load_cpu_s=%.3f prefilter_compile_cpu_s=%.3f\n", argv[a], total,
            cpu * 1000 / (double)total, rejected, in_use ? "hyperscan" : "off", load_cpu,
            compile_cpu);
        fflush(stdout);
        for (size_t i = 0; i < g.gl_pathc; i++)
            message_free(&msgs[i]);
        free(msgs);
        globfree(&g);
    }
    config_install(NULL);
    return 0;
}
