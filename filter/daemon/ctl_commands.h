/* ctl_commands.h - what each control command does in the daemon (mailwarden-ctl(8)): reload,
 * status, stats, test-key NAME, flush-dns-cache. Called by ctl_server.c with a parsed request;
 * every line of the answer goes to out. */
#ifndef MW_CTL_COMMANDS_H
#define MW_CTL_COMMANDS_H

#include <stdbool.h>

#include "ctl_protocol.h"

struct ctl_output {
    void (*line)(const char *text, void *arg);
    void *arg;
};

/* Runs the request; false when the command ran and says no (a refused reload, a key that does
 * not match, a flush that could not be made). config_file is the policy a reload reads. */
bool ctl_command_run(const struct ctl_request *req, const char *config_file,
    struct ctl_output *out);

/* The counters `stats` prints, one "name value" line each. The one place that knows where the
 * counters live (stats.c, verdict.c, reload.c, dns_health.c); every metric, with its labels,
 * is on the metrics endpoint (metrics_http.c). */
void ctl_stats_report(struct ctl_output *out);

#endif
