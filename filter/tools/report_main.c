/* report_main.c - mailwarden-report: sends the DMARC aggregate reports (RFC 9990) of the
 * periods that are over. It reads the policy as the daemon does, takes the rows the daemon
 * recorded in the dmarc_reports store, builds one report per policy domain and period, and
 * hands it to the submission command (sendmail -t), or to the SMTP server dmarc_reports.smtp
 * names, once per authorised rua destination. With dmarc_reports.failure_reports on, it
 * also sends the pending failure reports (RFC 9991, ARF) to their ruf destinations, under the
 * same authorisation, suppression and own-domain rules, each deleted once every destination
 * took it or was refused for good.
 * Promises: a report's rows leave the store only after every destination took it, was refused
 * for good (not authorised, suppressed, not mailto:) or is already marked sent; a destination
 * that failed (command failed, DNS temporary failure) is tried again on the next run, and one
 * that took the report is never sent it again. --dry-run DIR writes the .xml.gz files to DIR
 * and changes nothing. Exit status: 0 done, 75 something is left for the next run, 64 usage,
 * 69 the store did not answer, 73 DIR not writable, 78 a policy error. Every error names the
 * file or setting and the fix. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "config_load.h"
#include "dmarc_config.h"
#include "dmarc_failure.h"
#include "dmarc_failure_store.h"
#include "dmarc_report.h"
#include "dmarc_report_dest.h"
#include "dmarc_report_mail.h"
#include "dmarc_report_store.h"
#include "dmarc_reports_config.h"
#include "dns.h"
#include "log.h"
#include "mw_build.h"
#include "report_smtp.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/mailwarden/mailwarden.conf"
#define EXIT_RETRY 75              /* EX_TEMPFAIL */
#define EXIT_USAGE 64
#define EXIT_STORE 69              /* EX_UNAVAILABLE */
#define EXIT_OUTPUT 73             /* EX_CANTCREAT */
#define EXIT_POLICY 78             /* EX_CONFIG */
#define SMTP_TIMEOUT_MS 60000      /* one SMTP command (dmarc_reports.smtp) */
#define GRACE_S 300                /* a period is reported this long after its end: the
                                      last messages of it are in the store by then */

struct options {
    const char *config_file;
    const char *dry_run_dir;
    int64_t as_of;                 /* --as-of: "now" for the periods (0: the clock) */
    bool verbose;
};

struct run {
    const struct options *o;
    const struct config *cfg;
    const struct dmarc_reports_settings *p;
    struct dmarc_limits lim;
    struct dns_resolver *resolver;
    unsigned reports, sent, left;
    unsigned failures, failures_sent, failures_left;
    bool write_failed;             /* --dry-run could not write a file */
};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: mailwarden-report [-c FILE] [--dry-run DIR] [--as-of EPOCH] [--verbose]\n"
        "exit status: 0 done, 75 reports left for the next run, 64 usage, 69 store\n"
        "             unavailable, 73 DIR not writable, 78 policy error\n");
}

static void say(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct run *r, const char *fmt, ...)
{
    if (!r->o->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("mailwarden-report: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static void print_error_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "%s\n", line);
}

static void lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    dns_query(arg, name, type, timeout_ms, out);
}

/* Splits the command at blanks (no shell) and adds -f FROM; argv[] NULL-terminated. */
static size_t command_argv(const char *command, const char *from, char *copy, char **argv,
    size_t max)
{
    size_t n = 0;
    char *save = NULL;
    strcpy(copy, command);
    for (char *w = strtok_r(copy, " \t", &save); w != NULL && n + 3 < max;
         w = strtok_r(NULL, " \t", &save))
        argv[n++] = w;
    argv[n++] = "-f";
    argv[n++] = (char *)from;
    argv[n] = NULL;
    return n;
}

/* Hands message to the submission command; true when it exited 0. */
static bool submit(const struct run *r, const struct textbuf *message, char *why, size_t why_size)
{
    char *copy = xmalloc(strlen(r->p->sendmail) + 1);
    char *argv[40];
    command_argv(r->p->sendmail, r->p->from, copy, argv, 40);
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        snprintf(why, why_size, "pipe: %s", strerror(errno));
        free(copy);
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_size, "fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        free(copy);
        return false;
    }
    if (pid == 0) {
        dup2(pipefd[0], STDIN_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[0]);
    size_t off = 0;
    bool wrote = true;
    while (off < message->len) {
        ssize_t n = write(pipefd[1], message->data + off, message->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            wrote = false;
            break;
        }
        off += (size_t)n;
    }
    close(pipefd[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    bool ok = wrote && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(why, why_size, "could not run %s (dmarc_reports.sendmail): give the full path "
            "of the MTA's sendmail command", argv[0]);
    else if (!ok)
        snprintf(why, why_size, "%s (dmarc_reports.sendmail) failed (%s %d): see the MTA's log",
            argv[0], WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    free(copy);
    return ok;
}

/* Hands one message for rcpt to the local MTA: by SMTP when dmarc_reports.smtp is set, else
 * by dmarc_reports.sendmail. */
static bool hand_off(const struct run *r, const char *rcpt, const struct textbuf *message,
    char *why, size_t why_size)
{
    if (r->p->smtp != NULL)
        return report_smtp_send(r->p->smtp, r->p->submitter, r->p->from, rcpt, message->data,
            message->len, SMTP_TIMEOUT_MS, why, why_size);
    return submit(r, message, why, why_size);
}

static bool write_file(const char *dir, const char *name, const struct textbuf *data)
{
    char *path = xasprintf("%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    bool ok = fd >= 0 && write(fd, data->data, data->len) == (ssize_t)data->len;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    if (!ok)
        fprintf(stderr, "mailwarden-report: cannot write %s: %s (--dry-run needs a writable "
            "directory)\n", path, strerror(errno));
    free(path);
    return ok;
}

/* The suppression list and our own domains: own_domains, and the domains of the reports'
 * sender and contact address. */
static void filter_of(const struct dmarc_reports_settings *p, struct dmarc_report_filter *f)
{
    memset(f, 0, sizeof *f);
    f->suppress = &p->suppress;
    f->own_domains = &p->own_domains;
    f->report_own_domains = p->report_own_domains;
    f->own_names[0] = strrchr(p->from, '@') != NULL ? strrchr(p->from, '@') + 1 : NULL;
    f->own_names[1] = strrchr(p->email, '@') != NULL ? strrchr(p->email, '@') + 1 : NULL;
}

/* Sends the report to one rua URI; false when it must be tried again on the next run. */
static bool send_to(struct run *r, const struct dmarc_report_batch *b, const char *uri,
    const char *report_id, const char *filename, const struct textbuf *gz,
    char (*done)[255], size_t *done_count)
{
    struct dmarc_report_dest dest;
    char why[512];
    enum dmarc_uri_status us = dmarc_report_parse_uri(uri, &dest, why, sizeof why);
    if (us != DMARC_URI_OK) {
        say(r, "%s: rua %s skipped: %s", b->domain, uri, why);
        return true;
    }
    struct dmarc_report_filter filter;
    filter_of(r->p, &filter);
    if (dmarc_report_suppressed(&filter, b->domain, dest.host, why, sizeof why)) {
        say(r, "%s: not sent to %s: %s", b->domain, dest.address, why);
        return true;
    }
    enum dmarc_dest_verdict v = dmarc_report_authorize(b->domain, &dest, &r->lim, lookup,
        r->resolver, why, sizeof why);
    if (v == DMARC_DEST_DENIED) {
        say(r, "%s: not sent to %s: %s", b->domain, dest.address, why);
        return true;
    }
    if (v == DMARC_DEST_TEMPFAIL) {
        fprintf(stderr, "mailwarden-report: %s: %s\n", b->domain, why);
        return false;
    }
    for (size_t i = 0; i < *done_count; i++)
        if (strcmp(done[i], dest.address) == 0)
            return true;                     /* two URIs, one mailbox: one report */
    if (*done_count < DMARC_MAX_URIS)
        memcpy(done[(*done_count)++], dest.address, sizeof dest.address);
    if (r->o->dry_run_dir != NULL) {
        printf("%s/%s would go to %s\n", r->o->dry_run_dir, filename, dest.address);
        return true;
    }
    if (dmarc_report_store_was_sent(r->p->store, b, dest.address)) {
        say(r, "%s: already sent to %s", b->domain, dest.address);
        return true;
    }
    struct dmarc_report_mail m = {
        .from = r->p->from, .to = dest.address, .policy_domain = b->domain,
        .submitter = r->p->submitter, .org_name = r->p->org_name, .report_id = report_id,
        .begin = b->begin, .end = b->end, .date = time(NULL), .filename = filename,
        .attachment = gz->data, .attachment_len = gz->len,
    };
    struct textbuf msg;
    textbuf_init(&msg);
    bool ok = dmarc_report_message(&m, &msg, why, sizeof why);
    if (!ok) {
        fprintf(stderr, "mailwarden-report: %s: no message for %s: %s\n", b->domain,
            dest.address, why);
        textbuf_free(&msg);
        return true;                         /* it would fail the same way next time */
    }
    ok = hand_off(r, dest.address, &msg, why, sizeof why);
    textbuf_free(&msg);
    if (!ok) {
        fprintf(stderr, "mailwarden-report: %s: report for %s not handed off: %s; tried again "
            "on the next run\n", b->domain, dest.address, why);
        return false;
    }
    r->sent++;
    say(r, "%s: report %s sent to %s", b->domain, report_id, dest.address);
    if (dmarc_report_store_mark_sent(r->p->store, b, dest.address, r->p->keep_ms) != STORE_OK)
        fprintf(stderr, "mailwarden-report: %s: the store did not record that %s got the "
            "report; it may be sent again\n", b->domain, dest.address);
    return true;
}

/* One batch: builds the report and sends it; false when it stays for the next run. */
static bool report_batch(struct run *r, const struct dmarc_report_batch *b)
{
    char why[512];
    struct dmarc_report_filter filter;
    filter_of(r->p, &filter);
    if (dmarc_report_suppressed(&filter, b->domain, NULL, why, sizeof why)) {
        say(r, "%s: no report: %s", b->domain, why);
        return true;
    }
    if (!b->has_policy || b->count == 0) {
        fprintf(stderr, "mailwarden-report: %s %" PRId64 "-%" PRId64 ": %s; these rows are "
            "dropped\n", b->domain, b->begin, b->end, !b->has_policy ? "no policy record "
            "stored with the rows" : "no row could be read");
        return true;
    }
    char report_id[600], filename[700];
    if (!dmarc_report_id(b->domain, b->begin, b->end, r->p->unique_id, r->p->submitter,
            report_id, sizeof report_id) ||
        !dmarc_report_filename(r->p->submitter, b->domain, b->begin, b->end, r->p->unique_id,
            filename, sizeof filename)) {
        fprintf(stderr, "mailwarden-report: %s: no Report-ID or file name can be made\n",
            b->domain);
        return true;
    }
    char error[128];
    snprintf(error, sizeof error, "%zu rows of this period could not be read", b->unreadable);
    struct dmarc_report_meta meta = {
        .org_name = r->p->org_name, .email = r->p->email,
        .extra_contact_info = r->p->extra_contact_info, .report_id = report_id,
        .begin = b->begin, .end = b->end, .error = b->unreadable > 0 ? error : NULL,
        .generator = "mailwarden " PACKAGE_VERSION,
    };
    struct textbuf xml, gz;
    textbuf_init(&xml);
    textbuf_init(&gz);
    if (!dmarc_report_xml(&meta, &b->policy, b->rows, b->count, &xml, why, sizeof why) ||
        !dmarc_report_gzip(xml.data, xml.len, &gz, why, sizeof why)) {
        fprintf(stderr, "mailwarden-report: %s: %s\n", b->domain, why);
        textbuf_free(&xml);
        textbuf_free(&gz);
        return true;
    }
    textbuf_free(&xml);
    r->reports++;
    bool complete = true;
    if (r->o->dry_run_dir != NULL && !write_file(r->o->dry_run_dir, filename, &gz)) {
        r->write_failed = true;
        complete = false;
    }
    char done[DMARC_MAX_URIS][255];
    size_t done_count = 0;
    for (size_t i = 0; i < b->policy.rua_count && complete; i++)
        if (!send_to(r, b, b->policy.rua[i], report_id, filename, &gz, done, &done_count))
            complete = false;
    textbuf_free(&gz);
    return complete;
}

/* FNV-1a of a pending report's key and an address: the report's Message-ID and sent mark. */
static uint64_t failure_hash(const char *key, const char *address)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *c = (const unsigned char *)key; *c != 0; c++)
        h = (h ^ *c) * 1099511628211ull;
    h = (h ^ '|') * 1099511628211ull;
    for (const unsigned char *c = (const unsigned char *)address; *c != 0; c++)
        h = (h ^ *c) * 1099511628211ull;
    return h;
}

/* Sends one failure report to one ruf URI; false when it must be tried again. */
static bool send_failure_to(struct run *r, const char *key, const struct dmarc_failure *f,
    const char *uri, char (*done)[255], size_t *done_count)
{
    struct dmarc_report_dest dest;
    char why[512];
    const char *policy_domain = f->policy_domain[0] != 0 ? f->policy_domain : f->domain;
    if (dmarc_report_parse_uri(uri, &dest, why, sizeof why) != DMARC_URI_OK) {
        say(r, "%s: ruf %s skipped: %s", f->domain, uri, why);
        return true;
    }
    struct dmarc_report_filter filter;
    filter_of(r->p, &filter);
    if (dmarc_report_suppressed(&filter, f->domain, dest.host, why, sizeof why)) {
        say(r, "%s: no failure report to %s: %s", f->domain, dest.address, why);
        return true;
    }
    enum dmarc_dest_verdict v = dmarc_report_authorize(policy_domain, &dest, &r->lim, lookup,
        r->resolver, why, sizeof why);
    if (v == DMARC_DEST_DENIED) {
        say(r, "%s: no failure report to %s: %s", f->domain, dest.address, why);
        return true;
    }
    if (v == DMARC_DEST_TEMPFAIL) {
        fprintf(stderr, "mailwarden-report: %s: %s\n", f->domain, why);
        return false;
    }
    for (size_t i = 0; i < *done_count; i++)
        if (strcmp(done[i], dest.address) == 0)
            return true;
    if (*done_count < DMARC_FAILURE_MAX_RUF)
        memcpy(done[(*done_count)++], dest.address, sizeof dest.address);
    if (r->o->dry_run_dir != NULL) {
        printf("failure report on %s would go to %s\n", f->domain, dest.address);
        return true;
    }
    uint64_t h = failure_hash(key, dest.address);
    char mark[STORE_KEY_MAX], message_id[300];
    snprintf(mark, sizeof mark, "dmarc:fs:%016" PRIx64, h);
    snprintf(message_id, sizeof message_id, "dmarc-failure.%016" PRIx64 "@%s", h,
        r->p->submitter);
    struct store_item *item = xmalloc(sizeof *item);
    bool found = false;
    bool already = store_get(r->p->store, mark, item, &found, NULL) == STORE_OK && found;
    free(item);
    if (already) {
        say(r, "%s: failure report already sent to %s", f->domain, dest.address);
        return true;
    }
    struct dmarc_failure_mail m = { .from = r->p->from, .to = dest.address,
        .submitter = r->p->submitter, .date = time(NULL), .message_id = message_id };
    struct textbuf msg;
    textbuf_init(&msg);
    if (!dmarc_failure_message(f, &m, &msg, why, sizeof why)) {
        fprintf(stderr, "mailwarden-report: %s: no failure report for %s: %s\n", f->domain,
            dest.address, why);
        textbuf_free(&msg);
        return true;                         /* it would fail the same way next time */
    }
    bool ok = hand_off(r, dest.address, &msg, why, sizeof why);
    textbuf_free(&msg);
    if (!ok) {
        fprintf(stderr, "mailwarden-report: %s: failure report for %s not handed off: %s; "
            "tried again on the next run\n", f->domain, dest.address, why);
        return false;
    }
    r->failures_sent++;
    say(r, "%s: failure report sent to %s", f->domain, dest.address);
    if (store_value_set(r->p->store, mark, "1", 1, r->p->keep_ms, NULL) != STORE_OK)
        fprintf(stderr, "mailwarden-report: %s: the store did not record that %s got the "
            "failure report; it may be sent again\n", f->domain, dest.address);
    return true;
}

static void send_failure(void *arg, const char *key, const struct dmarc_failure *f)
{
    struct run *r = arg;
    if (f == NULL) {
        fprintf(stderr, "mailwarden-report: %s: a damaged failure report; deleted\n", key);
        if (r->o->dry_run_dir == NULL)
            store_delete(r->p->store, key, NULL);
        return;
    }
    r->failures++;
    char why[512];
    struct dmarc_report_filter filter;
    filter_of(r->p, &filter);
    bool complete = true;
    if (dmarc_report_suppressed(&filter, f->domain, NULL, why, sizeof why))
        say(r, "%s: no failure report: %s", f->domain, why);
    else {
        char done[DMARC_FAILURE_MAX_RUF][255];
        size_t done_count = 0;
        for (size_t i = 0; i < f->ruf_count && complete; i++)
            if (!send_failure_to(r, key, f, f->ruf[i], done, &done_count))
                complete = false;
    }
    if (!complete) {
        r->failures_left++;
        return;
    }
    if (r->o->dry_run_dir == NULL &&
            dmarc_failure_store_delete(r->p->store, key, f->message_parts) != STORE_OK) {
        fprintf(stderr, "mailwarden-report: %s: the store did not delete the failure report "
            "(its sent marks keep it from going twice)\n", f->domain);
        r->failures_left++;
    }
}

/* Every pending failure report; EXIT_RETRY when some stay for the next run. */
static int run_failures(struct run *r)
{
    if (dmarc_failure_store_each(r->p->store, send_failure, r) != STORE_OK) {
        fprintf(stderr, "mailwarden-report: the store did not list the failure reports "
            "(dmarc_reports.store in %s): is it running?\n", r->o->config_file);
        return EXIT_STORE;
    }
    say(r, "%u failure report(s), %u message(s) handed off, %u left for the next run",
        r->failures, r->failures_sent, r->failures_left);
    return r->failures_left > 0 ? EXIT_RETRY : 0;
}

static int run_reports(struct run *r)
{
    int64_t now = r->o->as_of > 0 ? r->o->as_of : (int64_t)time(NULL);
    struct dmarc_report_batch *batches;
    size_t count;
    char why[512];
    if (!dmarc_report_store_collect(r->p->store, now - GRACE_S, &batches, &count, why,
            sizeof why)) {
        fprintf(stderr, "mailwarden-report: %s (dmarc_reports.store in %s): is it running?\n",
            why, r->o->config_file);
        return EXIT_STORE;
    }
    say(r, "%zu report(s) of finished periods in %s", count, store_describe(r->p->store));
    int status = 0;
    for (size_t i = 0; i < count; i++) {
        if (!report_batch(r, &batches[i])) {
            r->left++;
            status = EXIT_RETRY;
            continue;
        }
        if (r->o->dry_run_dir != NULL)
            continue;
        if (!dmarc_report_store_clear(r->p->store, &batches[i], why, sizeof why)) {
            fprintf(stderr, "mailwarden-report: %s\n", why);
            status = EXIT_RETRY;
        }
    }
    dmarc_report_batches_free(batches, count);
    if (r->write_failed)
        status = EXIT_OUTPUT;
    say(r, "%u report(s) built, %u message(s) handed off, %u left for the next run",
        r->reports, r->sent, r->left);
    return status;
}

int main(int argc, char **argv)
{
    struct options o = { .config_file = DEFAULT_CONFIG };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"dry-run", required_argument, NULL, 'n'},
        {"as-of", required_argument, NULL, 'a'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:n:a:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config_file = optarg; break;
        case 'n': o.dry_run_dir = optarg; break;
        case 'a': {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (*end != 0 || v <= 0) {
                fprintf(stderr, "mailwarden-report: --as-of takes seconds since 1970 (date +%%s)\n");
                return EXIT_USAGE;
            }
            o.as_of = v;
            break;
        }
        case 'v': o.verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.dry_run_dir != NULL) {
        struct stat st;
        if (stat(o.dry_run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "mailwarden-report: --dry-run %s: not a directory (create it "
                "first)\n", o.dry_run_dir);
            return EXIT_OUTPUT;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    log_open("mailwarden-report", LOG_MAIL, true, false);
    struct config_errors errs = {0};
    struct config *cfg = config_load(o.config_file, &errs);
    if (cfg == NULL) {
        config_errors_print(&errs, print_error_line, stderr);
        config_errors_free(&errs);
        return EXIT_POLICY;
    }
    struct run r = { .o = &o, .cfg = cfg, .p = cfg->dmarc_reports };
    if (!r.p->enabled) {
        say(&r, "dmarc_reports is not enabled in %s: nothing to report", o.config_file);
        config_free(cfg);
        return 0;
    }
    if (!config_start(cfg, &errs) || config_resolver(cfg) == NULL) {
        fprintf(stderr, "mailwarden-report: cannot start the resolver (dns section of %s): %s\n",
            o.config_file, errs.count > 0 ? errs.items[0].reason : "no resolver");
        config_errors_free(&errs);
        config_free(cfg);
        return EXIT_POLICY;
    }
    r.resolver = config_resolver(cfg);
    dmarc_limits_for(cfg, &r.lim);
    int status = run_reports(&r);
    if (r.p->failure_reports) {
        /* failure reports go out even when pending aggregate reports stay */
        int failure_status = run_failures(&r);
        if (status == 0 || (status == EXIT_RETRY && failure_status != 0))
            status = failure_status;
    }
    config_free(cfg);
    return status;
}
