/* main.c - the mailwarden daemon: options, start-up order (read the policy, bind the milter and
 * control sockets, detach, start the signal thread and the resolver, drop root, start the
 * control thread), reload on SIGHUP (reload.c), graceful stop on SIGTERM. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "config_load.h"
#include "config_summary.h"
#include "daemon.h"
#include "log.h"
#include "ctl_server.h"
#include "metrics_config.h"
#include "metrics_http.h"
#include "milter.h"
#include "reload.h"
#include "rules.h"
#include "signals.h"
#include "stats.h"
#include "util.h"
#include "mw_build.h"

#define DEFAULT_CONFIG SYSCONFDIR "/mailwarden/mailwarden.conf"

static const char *config_file = DEFAULT_CONFIG;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: mailwarden [-c FILE] [-f] [-t] [-V]\n"
        "  -c FILE  the main policy file (default " DEFAULT_CONFIG ")\n"
        "  -f       stay in the foreground and log to stderr too\n"
        "  -t       check the policy files and exit: 0 when good, else every error as\n"
        "           file:line: option: reason\n"
        "  -V       print the version and exit\n");
}

static void print_error_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "%s\n", line);
}

static void log_error_line(const char *line, void *arg)
{
    (void)arg;
    log_err("%s", line);
}

static void log_notice_line(const char *line, void *arg)
{
    (void)arg;
    log_notice("%s", line);
}

/* SIGHUP and SIGUSR1 (signals.c); mailwarden-ctl reload uses the same entry point. */
static void reload(void)
{
    policy_reload(config_file, NULL, NULL);
}

static void stop(void)
{
    struct config *cfg = config_current();
    uint64_t grace = cfg ? cfg->milter.shutdown_grace_ms : 30000;
    config_release(cfg);
    milter_shutdown(grace);
}

static void stop_now(void)
{
    _exit(1);
}

static void print_report_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "mailwarden: %s\n", line);
}

/* Loads the policy and prints its errors; NULL when it has any. */
static struct config *load_and_report(const char *as_user)
{
    struct config_errors errs = {0};
    struct config *cfg = config_load(config_file, &errs);
    if (cfg != NULL)
        return cfg;
    config_errors_print(&errs, print_error_line, stderr);
    if (as_user != NULL)
        fprintf(stderr, "mailwarden: %zu error%s in the policy files when read as milter.user "
            "%s, as a reload reads them\n", errs.count, errs.count == 1 ? "" : "s", as_user);
    else
        fprintf(stderr, "mailwarden: %zu error%s in the policy files\n", errs.count,
            errs.count == 1 ? "" : "s");
    config_errors_free(&errs);
    return NULL;
}

/* A reload reads the policy, rule files and keys as milter.user: when -t runs as root, read
 * everything again in a child that has dropped to that user, so that -t fails where a reload
 * would. Returns 0 when the user may read it all. */
static int check_as_user(const struct config *cfg)
{
    if (geteuid() != 0 || cfg->milter.user == NULL)
        return 0;
    char *user = xstrdup(cfg->milter.user);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "mailwarden: fork: %s\n", strerror(errno));
        free(user);
        return 1;
    }
    if (pid == 0) {
        log_set_level(LOG_ERR);        /* warnings were printed once already */
        if (!daemon_drop_privileges(cfg))
            _exit(1);
        struct config *again = load_and_report(user);
        fflush(NULL);
        _exit(again != NULL ? 0 : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    free(user);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static void print_notice_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "mailwarden: notice: %s\n", line);
}

static int check_only(void)
{
    struct config *cfg = load_and_report(NULL);
    if (cfg == NULL)
        return 1;
    config_errors_print(&cfg->notices, print_notice_line, stdout);
    if (check_as_user(cfg) != 0) {
        config_free(cfg);
        return 1;
    }
    printf("mailwarden: policy OK: %zu file%s, %zu access rule%s, socket %s\n", cfg->file_count,
        cfg->file_count == 1 ? "" : "s", cfg->access_count, cfg->access_count == 1 ? "" : "s",
        cfg->milter.socket);
    struct config_summary summary;
    config_summarize(cfg, &summary);
    char line[2048];
    config_summary_line(&summary, line, sizeof line);
    printf("mailwarden: policy summary: %s\n", line);
    rules_report_config(cfg, print_report_line, stdout);   /* rules loaded and skipped (rules.h) */
    config_free(cfg);
    return 0;
}

/* Descriptors the starting shell left open must not live on in the daemon (a log file, a
 * terminal, another service's socket): everything above stderr is closed before anything is
 * opened. */
static void close_inherited_descriptors(void)
{
    if (close_range(3, ~0U, 0) == 0)
        return;
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return;
    int own = dirfd(dir);
    int fds[1024];
    size_t n = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL && n < sizeof fds / sizeof fds[0]) {
        int fd = atoi(d->d_name);
        if (fd > 2 && fd != own)
            fds[n++] = fd;
    }
    closedir(dir);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

int main(int argc, char **argv)
{
    close_inherited_descriptors();
    bool foreground = false, test = false;
    int opt;
    while ((opt = getopt(argc, argv, "c:ftVh")) != -1) {
        switch (opt) {
        case 'c': config_file = optarg; break;
        case 'f': foreground = true; break;
        case 't': test = true; break;
        case 'V': printf("mailwarden %s\n", PACKAGE_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 64;
    }
    if (test)
        return check_only();

    log_open("mailwarden", LOG_MAIL, true, true);
    struct config_errors errs = {0};
    struct config *cfg = config_load(config_file, &errs);
    if (cfg == NULL) {
        log_err("%s has %zu error%s; not starting:", config_file, errs.count,
            errs.count == 1 ? "" : "s");
        config_errors_print(&errs, log_error_line, NULL);
        config_errors_free(&errs);
        return 78;
    }
    closelog();
    log_open("mailwarden", cfg->log.facility, foreground, true);
    log_set_level(cfg->log.level);
    config_errors_print(&cfg->notices, log_notice_line, NULL);

    if (!daemon_claim_unix_socket(cfg))
        return 75;
    if (!milter_setup(cfg) || !daemon_socket_permissions(cfg))
        return 71;
    if (!ctl_server_open(cfg))         /* the control socket, before root is dropped */
        return 71;
    if (!foreground && !daemon_detach())
        return 71;
    signals_start(reload, stop, stop_now);
    if (!policy_start(cfg) || !daemon_write_pidfile(cfg))
        return 71;
    if (!daemon_drop_privileges(cfg))
        return 77;
    if (!metrics_http_start(cfg))     /* after root is dropped: its own thread */
        return 71;
    log_info("mailwarden %s listening on %s (policy %s, %zu file%s)", PACKAGE_VERSION,
        cfg->milter.socket, config_file, cfg->file_count, cfg->file_count == 1 ? "" : "s");
    struct config_summary summary;
    config_summarize(cfg, &summary);
    char line[2048];
    config_summary_line(&summary, line, sizeof line);
    log_notice("policy summary: %s", line);
    policy_install_first(cfg, config_file);
    ctl_server_start(config_file);

    bool ok = milter_run();
    ctl_server_stop();
    metrics_http_stop();
    struct config *last = config_current();
    if (last != NULL) {
        daemon_remove_pidfile(last);
        config_release(last);
    }
    rules_prefilter_stop();     /* no Hyperscan compile may run while exit() tears down */
    log_info("stopped");
    return ok ? 0 : 70;
}
