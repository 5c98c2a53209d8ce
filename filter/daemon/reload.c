/* reload.c - the daemon's one way to load and install a policy after start-up (reload.h).
 * policy_reload() holds reload_lock from reading the files to installing the result, so a
 * SIGHUP and a `mailwarden-ctl reload` arriving together run one after the other, and the
 * generation counter names each installed policy exactly once. */
#include "reload.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_load.h"
#include "config_summary.h"
#include "log.h"
#include "metrics_config.h"
#include "stats.h"
#include "util.h"

static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct policy_info info;          /* guarded by reload_lock */

static void log_error_line(const char *line, void *arg)
{
    (void)arg;
    log_err("%s", line);
}

bool policy_start(struct config *cfg)
{
    struct config_errors errs = {0};
    bool ok = config_start(cfg, &errs);
    config_errors_print(&errs, log_error_line, NULL);
    config_errors_free(&errs);
    return ok;
}

/* Under reload_lock. */
static void note_installed(const char *file)
{
    info.generation++;
    info.loaded_at = time(NULL);
    if (info.started_at == 0)
        info.started_at = info.loaded_at;
    strlcpy_mw(info.file, file, sizeof info.file);
}

void policy_install_first(struct config *cfg, const char *file)
{
    pthread_mutex_lock(&reload_lock);
    note_installed(file);
    config_install(cfg);
    pthread_mutex_unlock(&reload_lock);
}

struct reload_output {
    void (*out)(const char *line, void *arg);
    void *arg;
};

static void emit(struct reload_output *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct reload_output *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_vprintf(o->out, o->arg, fmt, ap);
    va_end(ap);
}

static void log_and_emit_error(const char *line, void *arg)
{
    log_err("%s", line);
    emit(arg, "%s", line);
}

static void log_and_emit_notice(const char *line, void *arg)
{
    log_notice("%s", line);
    emit(arg, "notice: %s", line);
}

static void log_and_emit_change(const char *line, void *arg)
{
    log_notice("reload: changed: %s", line);
    emit(arg, "changed: %s", line);
}

/* Under reload_lock: the work of policy_reload. */
static bool reload_locked(const char *file, struct reload_output *o)
{
    struct config_errors errs = {0};
    struct config *cfg = config_load(file, &errs);
    if (cfg == NULL) {
        log_err("reload: %s has %zu error%s; the policy in force stays in force:", file,
            errs.count, errs.count == 1 ? "" : "s");
        config_errors_print(&errs, log_and_emit_error, o);
        emit(o, "refused: %zu error%s; the policy in force (generation %llu) stays in force",
            errs.count, errs.count == 1 ? "" : "s", (unsigned long long)info.generation);
        config_errors_free(&errs);
        return false;
    }
    config_errors_print(&cfg->notices, log_and_emit_notice, o);
    if (!policy_start(cfg)) {
        log_err("reload: the policy in force stays in force");
        emit(o, "refused: the resolver for the new policy did not start (see the log); the "
            "policy in force stays in force");
        config_free(cfg);
        return false;
    }
    struct config *old = config_current();
    log_set_level(cfg->log.level);
    log_notice("reload: policy from %s in force", file);
    struct config_summary before, after;
    config_summarize(cfg, &after);
    if (old != NULL) {
        if (strcmp(old->milter.socket, cfg->milter.socket) != 0) {
            log_warn("reload: milter.socket changed to %s; it takes effect at the next restart",
                cfg->milter.socket);
            emit(o, "note: milter.socket changed to %s; it takes effect at the next restart",
                cfg->milter.socket);
        }
        if (old->metrics->enabled != cfg->metrics->enabled
            || strcmp(old->metrics->listen, cfg->metrics->listen) != 0) {
            log_warn("reload: the metrics listener changed; it takes effect at the next restart "
                "(metrics.allow takes effect now)");
            emit(o, "note: the metrics listener changed; it takes effect at the next restart "
                "(metrics.allow takes effect now)");
        }
        config_summarize(old, &before);
        if (config_summary_diff(&before, &after, log_and_emit_change, o) == 0) {
            log_notice("reload: no change in sections or counts");
            emit(o, "no change in sections or counts");
        }
    }
    char line[2048];
    config_summary_line(&after, line, sizeof line);
    log_notice("reload: policy summary: %s", line);
    config_release(old);
    note_installed(file);
    config_install(cfg);
    emit(o, "installed: generation %llu from %s", (unsigned long long)info.generation, file);
    emit(o, "summary: %s", line);
    return true;
}

bool policy_reload(const char *file, void (*out)(const char *line, void *arg), void *arg)
{
    struct reload_output o = { out, arg };
    pthread_mutex_lock(&reload_lock);
    bool ok = reload_locked(file, &o);
    if (!ok)
        info.reloads_refused++;
    stats_reload(ok);
    pthread_mutex_unlock(&reload_lock);
    return ok;
}

bool policy_flush_dns_cache(char *why, size_t why_size)
{
    pthread_mutex_lock(&reload_lock);
    struct config *cfg = config_current();
    bool ok = false;
    if (cfg == NULL) {
        snprintf(why, why_size, "no policy is in force yet");
    } else if (config_resolver_replace(cfg, why, why_size)) {
        log_notice("dns: cache flushed (a new resolver for the policy in force)");
        ok = true;
    }
    config_release(cfg);
    pthread_mutex_unlock(&reload_lock);
    return ok;
}

void policy_get_info(struct policy_info *out)
{
    pthread_mutex_lock(&reload_lock);
    *out = info;
    pthread_mutex_unlock(&reload_lock);
}
