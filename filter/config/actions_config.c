/* actions_config.c - score thresholds per recipient domain:
 *     actions: { reject = 10.0; domains = ( { domains = [ "example.org" ]; reject = 10.0; } ) }
 * Each entry names domains (patterns, pattern.h: "example.org" exactly, ".example.org" or
 * "*.example.org" for its subdomains) and any of add_header, quarantine, tempfail, reject;
 * what it leaves out comes from actions. Entries
 * from several files add up; the first entry naming a domain wins.
 * A message has one verdict for all its recipients, so with recipients in several domains each
 * threshold is the strictest (lowest enabled) among them: no domain receives mail scoring
 * above what it chose to refuse, at the price of a lenient domain sometimes seeing a refusal
 * meant for a stricter one (an MTA can split such messages per domain when that matters). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stddef.h>

#include "config_module.h"
#include "config_patterns.h"
#include "util.h"

static bool read_entry(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct domain_thresholds *d)
{
    d->add_header = d->quarantine = d->tempfail = d->reject = -1;
    pattern_list_init(&d->domains, PATTERN_DOMAINS);
    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        cfg_error(r, s, option, "must be a group: { domains = [ \"example.org\" ]; reject = 10.0; }");
        return false;
    }
    static const char *const names[] = {"domains", "add_header", "quarantine", "tempfail", "reject", NULL};
    double *fields[] = {NULL, &d->add_header, &d->quarantine, &d->tempfail, &d->reject};
    bool ok = true;
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_name(e);
        char sub[200];
        snprintf(sub, sizeof sub, "%s.%s", option, name);
        size_t k = 0;
        while (names[k] != NULL && strcmp(names[k], name) != 0)
            k++;
        if (names[k] == NULL) {
            const char *guess = cfg_suggest(name, names);
            cfg_error(r, e, sub, "unknown option%s%s%s: use domains, add_header, quarantine, tempfail, reject",
                guess ? " (did you mean " : "", guess ? guess : "", guess ? "?)" : "");
            ok = false;
        } else if (k == 0) {
            pattern_list_free(&d->domains);
            ok &= cfg_read_patterns(r, e, sub, &d->domains);
        } else {
            double value;
            if (!cfg_read_double(r, e, sub, &value)) {
                ok = false;
            } else if (value < 0 || value > 1e6) {
                cfg_error(r, e, sub, "must be between 0 (off) and 1000000");
                ok = false;
            } else {
                *fields[k] = value;
            }
        }
    }
    if (ok && d->domains.count == 0) {
        cfg_error(r, s, option, "needs domains = [ \"example.org\" ]");
        ok = false;
    }
    return ok;
}

static void apply_domain_actions(struct cfg_reader *r, const config_setting_t *list)
{
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        cfg_error(r, list, "actions.domains",
            "must be a list: ( { domains = [ \"example.org\" ]; reject = 10.0; } )");
        return;
    }
    struct config *cfg = r->cfg;
    int n = config_setting_length(list);
    for (int i = 0; i < n; i++) {
        char option[64];
        snprintf(option, sizeof option, "actions.domains[%d]", i);
        struct domain_thresholds d = {0};
        const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        if (!read_entry(r, s, option, &d)) {
            domain_thresholds_free(&d);
            continue;
        }
        d.file = xstrdup(r->file);
        d.line = config_setting_source_line(s);
        cfg->actions.domains = xrealloc(cfg->actions.domains,
            (cfg->actions.domain_count + 1) * sizeof *cfg->actions.domains);
        cfg->actions.domains[cfg->actions.domain_count++] = d;
    }
}

void domain_thresholds_free(struct domain_thresholds *d)
{
    pattern_list_free(&d->domains);
    free(d->file);
    memset(d, 0, sizeof *d);
}

static const struct domain_thresholds *entry_for(const struct config *cfg, const char *domain)
{
    for (size_t i = 0; i < cfg->actions.domain_count; i++) {
        const struct domain_thresholds *d = &cfg->actions.domains[i];
        if (pattern_match_domain(&d->domains, domain))
            return d;
    }
    return NULL;
}

static double inherit(double own, double global)
{
    return own >= 0 ? own : global;
}

/* The stricter of two thresholds where 0 means off. */
static double stricter(double a, double b)
{
    if (a <= 0)
        return b;
    if (b <= 0)
        return a;
    return a < b ? a : b;
}

void config_thresholds(const struct config *cfg, char *const *rcpts, size_t rcpt_count,
    struct score_thresholds *out)
{
    struct score_thresholds global = {cfg->actions.add_header, cfg->actions.quarantine,
        cfg->actions.tempfail, cfg->actions.reject};
    if (rcpt_count == 0 || cfg->actions.domain_count == 0) {
        *out = global;
        return;
    }
    struct score_thresholds result = {0, 0, 0, 0};
    for (size_t i = 0; i < rcpt_count; i++) {
        const struct domain_thresholds *d = entry_for(cfg, addr_domain(rcpts[i]));
        struct score_thresholds one = global;
        if (d != NULL) {
            one.add_header = inherit(d->add_header, global.add_header);
            one.quarantine = inherit(d->quarantine, global.quarantine);
            one.tempfail = inherit(d->tempfail, global.tempfail);
            one.reject = inherit(d->reject, global.reject);
        }
        result.add_header = stricter(result.add_header, one.add_header);
        result.quarantine = stricter(result.quarantine, one.quarantine);
        result.tempfail = stricter(result.tempfail, one.tempfail);
        result.reject = stricter(result.reject, one.reject);
    }
    *out = result;
}

/* ---- the actions module: score thresholds, replies, on_error, and domains above ---- */

#define OPT(field) offsetof(struct config, actions.field)
static const struct option_spec actions_options[] = {
    {"add_header", OPT_DOUBLE, OPT(add_header), 0, 1e6},
    {"quarantine", OPT_DOUBLE, OPT(quarantine), 0, 1e6},
    {"tempfail", OPT_DOUBLE, OPT(tempfail), 0, 1e6},
    {"reject", OPT_DOUBLE, OPT(reject), 0, 1e6},
    {"reject_reply", OPT_REPLY_REJECT, OPT(reject_reply), 0, 0},
    {"tempfail_reply", OPT_REPLY_TEMPFAIL, OPT(tempfail_reply), 0, 0},
    {"quarantine_reply", OPT_REASON, OPT(quarantine_reply), 0, 0},
    {"on_error", OPT_ERROR_ACTION, OPT(on_error), 0, 0},
    {"domains", OPT_OWN, 0, 0, 0},                 /* apply_domain_actions */
    {NULL, 0, 0, 0, 0},
};

static void actions_init(struct config *cfg)
{
    cfg->actions.add_header = 5.0;
    cfg->actions.reject = 15.0;      /* the shipped policy sets 10, from measurement */
    const char *why;
    reply_parse("550 5.7.1 Message rejected as spam", &cfg->actions.reject_reply, &why);
    reply_parse("451 4.7.1 Message deferred, try again later", &cfg->actions.tempfail_reply, &why);
    strlcpy_mw(cfg->actions.quarantine_reply.text, "Held for review by mailwarden",
        sizeof cfg->actions.quarantine_reply.text);
    cfg->actions.on_error = ACTION_TEMPFAIL;
}

static void actions_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "actions", actions_options, r->cfg);
    const config_setting_t *domains = config_setting_type(section) == CONFIG_TYPE_GROUP
        ? config_setting_get_member(section, "domains") : NULL;
    if (domains != NULL)
        apply_domain_actions(r, domains);
}

/* A threshold above reject could never apply. */
static void actions_check(struct config *cfg, struct config_errors *errs)
{
    const struct { const char *name; double value; } thresholds[] = {
        {"actions.quarantine", cfg->actions.quarantine}, {"actions.tempfail", cfg->actions.tempfail},
    };
    for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++) {
        if (thresholds[i].value > 0 && cfg->actions.reject > 0 && thresholds[i].value > cfg->actions.reject)
            config_errors_add(errs, cfg->main_file, 0, thresholds[i].name,
                "%g is above actions.reject (%g): it could never apply", thresholds[i].value,
                cfg->actions.reject);
    }
}

static void actions_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->actions.domain_count; i++)
        domain_thresholds_free(&cfg->actions.domains[i]);
    free(cfg->actions.domains);
}

const struct config_module actions_config_module = {
    .section = "actions",
    .init = actions_init,
    .apply = actions_apply,
    .check = actions_check,
    .free = actions_free,
};
