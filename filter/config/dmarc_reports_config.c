/* dmarc_reports_config.c - the `dmarc_reports` section (config_module.h; see
 * dmarc_reports_config.h). Promises: every policy has cfg->dmarc_reports, off unless a file has
 * the section (without enabled = false); when on, the store must be lmdb or redis (another
 * process reads it), the interval must divide a day, and submitter, email and from must be a
 * domain and addresses a report may carry: each error names file, line, option and the fix. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config_module.h"
#include "config_patterns.h"
#include "dmarc_failure.h"
#include "dmarc_report_mail.h"
#include "dmarc_reports_config.h"
#include "log.h"
#include "util.h"

#define DAY_MS (86400ull * 1000)
#define OPT(field) offsetof(struct dmarc_reports_settings, field)

static const struct option_spec options[] = {
    {"enabled", OPT_BOOL, OPT(enabled), 0, 0},
    {"store", OPT_OWN, 0, 0, 0},
    /* interval: a minute to a day (finish() wants a divisor of a day); keep: an hour to 90 days */
    {"interval", OPT_DURATION_MS, OPT(interval_ms), 60000, 86400000},
    {"keep", OPT_DURATION_MS, OPT(keep_ms), 3600000, 90 * 86400000.0},
    {"submitter", OPT_STRING, OPT(submitter), 0, 0},
    {"org_name", OPT_STRING, OPT(org_name), 0, 0},
    {"email", OPT_STRING, OPT(email), 0, 0},
    {"from", OPT_STRING, OPT(from), 0, 0},
    {"extra_contact_info", OPT_STRING, OPT(extra_contact_info), 0, 0},
    {"unique_id", OPT_STRING, OPT(unique_id), 0, 0},
    {"sendmail", OPT_STRING, OPT(sendmail), 0, 0},
    {"smtp", OPT_STRING, OPT(smtp), 0, 0},
    {"suppress", OPT_OWN, 0, 0, 0},
    {"own_domains", OPT_OWN, 0, 0, 0},
    {"report_own_domains", OPT_BOOL, OPT(report_own_domains), 0, 0},
    {"failure_reports", OPT_BOOL, OPT(failure_reports), 0, 0},
    {"failure_rate", OPT_UINT, OPT(failure_rate), 1, 1000},
    {"failure_redact", OPT_BOOL, OPT(failure_redact), 0, 0},
    {"failure_redact_key", OPT_STRING, OPT(failure_redact_key), 0, 0},
    {"failure_include", OPT_STRING, OPT(failure_include), 0, 0},
    {"failure_message_max", OPT_SIZE, OPT(failure_message_max), DMARC_FAILURE_MESSAGE_MIN,
        DMARC_FAILURE_MESSAGE_MAX},
    {NULL, 0, 0, 0, 0},
};

static void reports_init(struct config *cfg)
{
    struct dmarc_reports_settings *p = xcalloc(1, sizeof *p);
    p->store_use.name = xstrdup(STORE_DEFAULT_NAME);
    p->interval_ms = DAY_MS;
    p->keep_ms = 7 * DAY_MS;
    p->sendmail = xstrdup(DMARC_REPORTS_DEFAULT_SENDMAIL);
    p->failure_rate = 5;
    p->failure_redact = true;
    p->failure_redact_key = xstrdup(DMARC_REPORTS_DEFAULT_REDACT_KEY);
    p->failure_headers = true;
    p->failure_include = xstrdup("headers");
    p->failure_message_max = 64 * 1024;
    pattern_list_init(&p->suppress, PATTERN_DOMAINS);
    pattern_list_init(&p->own_domains, PATTERN_DOMAINS);
    cfg->dmarc_reports = p;
}

static void reports_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct dmarc_reports_settings *p = r->cfg->dmarc_reports;
    p->enabled = true;                   /* writing the section turns recording on */
    cfg_apply_options(r, section, "dmarc_reports", options, p);
    const config_setting_t *store = config_setting_get_member(section, "store");
    if (store != NULL)
        store_use_read(r, store, "dmarc_reports.store", &p->store_use, NULL);
    cfg_replace_patterns(r, section, "dmarc_reports", "suppress", &p->suppress);
    cfg_replace_patterns(r, section, "dmarc_reports", "own_domains", &p->own_domains);
}

static void error(struct config *cfg, struct config_errors *errs, const char *option,
    const char *fmt, const char *value)
{
    char text[512];
    snprintf(text, sizeof text, fmt, value != NULL ? value : "");
    config_errors_add(errs, cfg->main_file, 0, option, "%s", text);
}

/* The defaults that depend on other settings: submitter from the host name, org_name, email
 * and from from the submitter. */
static void fill_defaults(struct dmarc_reports_settings *p)
{
    if (p->submitter == NULL) {
        char host[256] = "";
        if (gethostname(host, sizeof host - 1) != 0)
            host[0] = 0;
        p->submitter = xstrdup(host);
    }
    if (p->org_name == NULL)
        p->org_name = xstrdup(p->submitter);
    if (p->email == NULL)
        p->email = xasprintf("postmaster@%s", p->submitter);
    if (p->from == NULL)
        p->from = xstrdup(p->email);
}

/* The redaction key: read, or made for milter.user when absent (the daemon reads it again
 * as that user at a reload). The error names the file and the fix, never the key. */
static void load_redact_key(struct config *cfg, struct config_errors *errs,
    struct dmarc_reports_settings *p)
{
    uid_t owner = (uid_t)-1;
    gid_t group = (gid_t)-1;
    struct passwd *pw = geteuid() == 0 && cfg->milter.user != NULL
        ? getpwnam(cfg->milter.user) : NULL;
    if (pw != NULL) {
        owner = pw->pw_uid;
        group = pw->pw_gid;
    }
    char why[512];
    bool created = false;
    p->redact_key = xmalloc(sizeof *p->redact_key);
    if (!dmarc_redact_key_load(p->failure_redact_key, true, owner, group, p->redact_key,
            &created, why, sizeof why)) {
        free(p->redact_key);
        p->redact_key = NULL;
        error(cfg, errs, "dmarc_reports.failure_redact_key", "%s", why);
        return;
    }
    if (created)
        log_info("dmarc_reports: made a new redaction key in %s", p->failure_redact_key);
}

static void reports_finish(struct config *cfg, struct config_errors *errs)
{
    struct dmarc_reports_settings *p = cfg->dmarc_reports;
    if (!p->enabled)
        return;
    fill_defaults(p);
    if (p->interval_ms < 60000 || p->interval_ms > DAY_MS || p->interval_ms % 1000 != 0 ||
        DAY_MS % p->interval_ms != 0)
        error(cfg, errs, "dmarc_reports.interval", "must divide a day and be at least a minute "
            "(\"1d\", the usual; \"1h\"; \"10m\")%s", NULL);
    if (!dmarc_report_domain_ok(p->submitter))
        error(cfg, errs, "dmarc_reports.submitter", "\"%s\" is not a domain name: set "
            "submitter = \"mx.example.org\" (the name of this reporting host)", p->submitter);
    if (!dmarc_report_address_ok(p->email))
        error(cfg, errs, "dmarc_reports.email", "\"%s\" is not a plain address: set email = "
            "\"postmaster@example.org\"", p->email);
    if (!dmarc_report_address_ok(p->from))
        error(cfg, errs, "dmarc_reports.from", "\"%s\" is not a plain address: set from = "
            "\"dmarc-noreply@example.org\" (a domain whose DMARC passes for these reports)",
            p->from);
    if (p->unique_id != NULL && !dmarc_report_unique_id_ok(p->unique_id))
        error(cfg, errs, "dmarc_reports.unique_id", "\"%s\": use 1 to 32 letters and digits",
            p->unique_id);
    if (p->sendmail == NULL || p->sendmail[0] != '/')
        error(cfg, errs, "dmarc_reports.sendmail", "\"%s\": give the command with its full "
            "path, as \"" DMARC_REPORTS_DEFAULT_SENDMAIL "\"", p->sendmail);
    const char *colon = p->smtp != NULL ? strrchr(p->smtp, ':') : NULL;
    if (p->smtp != NULL && (colon == NULL || colon == p->smtp || colon[1] == 0 ||
            strspn(colon + 1, "0123456789") != strlen(colon + 1)))
        error(cfg, errs, "dmarc_reports.smtp", "\"%s\": use HOST:PORT, as \"127.0.0.1:25\" "
            "(the MTA on this host)", p->smtp);
    if (p->failure_include == NULL)
        p->failure_include = xstrdup("");
    p->failure_message = strcmp(p->failure_include, "message") == 0;
    if (strcmp(p->failure_include, "headers") == 0 || p->failure_message)
        p->failure_headers = true;
    else if (strcmp(p->failure_include, "none") == 0)
        p->failure_headers = false;
    else
        error(cfg, errs, "dmarc_reports.failure_include", "\"%s\": use \"headers\" (the "
            "failing message's header, redacted), \"message\" (header and body, redacted, "
            "at most failure_message_max bytes) or \"none\" (no copy of the message)",
            p->failure_include);
    if (p->failure_reports && p->failure_redact)
        load_redact_key(cfg, errs, p);
    for (size_t i = 0; cfg->store != NULL && i < cfg->store->count; i++) {
        const struct named_store *n = &cfg->store->stores[i];
        if (strcmp(n->name, p->store_use.name) == 0 && n->settings.backend == STORE_MEMORY)
            error(cfg, errs, "dmarc_reports.store", "the store \"%s\" keeps its records in the "
                "daemon's memory, where mailwarden-report cannot read them: name a store with "
                "backend = \"lmdb\" (this host) or \"redis\" (a fleet)", n->name);
    }
    p->store = store_use_open(cfg, &p->store_use, "dmarc_reports.store", errs);
}

static void reports_free(struct config *cfg)
{
    struct dmarc_reports_settings *p = cfg->dmarc_reports;
    if (p == NULL)
        return;
    store_use_free(&p->store_use);
    free(p->submitter);
    free(p->org_name);
    free(p->email);
    free(p->from);
    free(p->extra_contact_info);
    free(p->unique_id);
    free(p->sendmail);
    free(p->smtp);
    free(p->failure_include);
    free(p->failure_redact_key);
    if (p->redact_key != NULL)
        OPENSSL_cleanse(p->redact_key, sizeof *p->redact_key);
    free(p->redact_key);
    pattern_list_free(&p->suppress);
    pattern_list_free(&p->own_domains);
    free(p);
    cfg->dmarc_reports = NULL;
}

const struct config_module dmarc_reports_config_module = {
    .section = "dmarc_reports",
    .init = reports_init,
    .apply = reports_apply,
    .finish = reports_finish,
    .free = reports_free,
};
