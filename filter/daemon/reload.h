/* reload.h - loading and installing the policy while the daemon runs: one entry point shared by
 * SIGHUP (signals.c) and `mailwarden-ctl reload` (ctl_commands.c), serialised so that two
 * reloads never run at once, and what is known of the policy in force (its generation, when
 * and from which file it was loaded) for `mailwarden-ctl status`. */
#ifndef MW_RELOAD_H
#define MW_RELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

/* Starts what a configuration about to be installed needs running (config_start: the
 * resolver), in this process; logs why not. */
bool policy_start(struct config *cfg);

/* The first install at start-up: records generation 1, the time and the file. */
void policy_install_first(struct config *cfg, const char *file);

/* Reads `file` again and installs it when it has no error (the policy in force stays
 * otherwise). Everything is logged as before; out (may be NULL) also gets, one line per call,
 * what changed ("access rules: 1 -> 2") or every error as "file:line: option: reason".
 * Returns true when the new policy was installed. Blocks while another reload runs. */
bool policy_reload(const char *file, void (*out)(const char *line, void *arg), void *arg);

/* Empties the DNS cache: libunbound has no call for it, so the policy in force gets a new
 * resolver (config_resolver_replace: an empty cache); the old one serves the queries in
 * flight and is freed with the policy at the next reload. False + why when it cannot (the
 * new resolver did not start, or too many flushes since the last reload). */
bool policy_flush_dns_cache(char *why, size_t why_size);

struct policy_info {
    uint64_t generation;       /* 1 at start, +1 at each installed reload */
    time_t loaded_at;          /* wall clock of that install */
    char file[1024];           /* the main policy file it was read from */
    uint64_t reloads_refused;  /* reloads that kept the policy in force */
    time_t started_at;         /* when the daemon installed its first policy */
};
void policy_get_info(struct policy_info *out);

#endif
