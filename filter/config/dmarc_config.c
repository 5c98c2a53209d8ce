/* dmarc_config.c - the `dmarc` section of the policy files (config_module.h): defaults, the
 * option table, the choices (several_from, no_from, quarantine) and the override lists
 * compiled as patterns (pattern.h) as each file is applied. Promises: every policy has
 * cfg->dmarc (the defaults when the section is absent); every bad value is reported with file,
 * line, option and what to write instead. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "config_patterns.h"
#include "dmarc_config.h"
#include "dmarc_eval.h"
#include "util.h"

#define DMARC_OPT(field) offsetof(struct dmarc_settings, field)

static const struct option_spec dmarc_options[] = {
    {"enabled", OPT_BOOL, DMARC_OPT(enabled), 0, 0},
    {"mode", OPT_CHECK_MODE, DMARC_OPT(shadow), 0, 0},
    {"several_from", OPT_OWN, 0, 0, 0},
    {"no_from", OPT_OWN, 0, 0, 0},
    {"quarantine", OPT_OWN, 0, 0, 0},
    {"reject_reply", OPT_REPLY_REJECT, DMARC_OPT(reject_reply), 0, 0},
    {"skip_internal", OPT_BOOL, DMARC_OPT(skip_internal), 0, 0},
    {"skip_trusted", OPT_BOOL, DMARC_OPT(skip_trusted), 0, 0},
    {"skip_authenticated", OPT_BOOL, DMARC_OPT(skip_authenticated), 0, 0},
    {"trusted_forwarders", OPT_OWN, 0, 0, 0},
    {"mailing_lists", OPT_OWN, 0, 0, 0},
    {"local_overrides", OPT_OWN, 0, 0, 0},
    {"trusted_arc_sealers", OPT_OWN, 0, 0, 0},
    {"max_queries", OPT_UINT, DMARC_OPT(max_queries), 1, 64},
    {"max_domains", OPT_UINT, DMARC_OPT(max_domains), 1, DMARC_FROM_MAX_DOMAINS},
    {"budget", OPT_DURATION_MS, DMARC_OPT(budget_ms), 100, 120000},
    {"query_timeout", OPT_DURATION_MS, DMARC_OPT(query_timeout_ms), 0, 60000},
    {NULL, 0, 0, 0, 0},
};

static void dmarc_init(struct config *cfg)
{
    struct dmarc_settings *p = xcalloc(1, sizeof *p);
    p->enabled = true;
    p->several_from = DMARC_FROM_STRICTEST;
    p->no_from = DMARC_FROM_ACCEPT;
    p->quarantine_hold = true;
    p->reject_reply.code = 550;
    strlcpy_mw(p->reject_reply.dsn, "5.7.1", sizeof p->reject_reply.dsn);
    strlcpy_mw(p->reject_reply.text, "Rejected by the DMARC policy of %d",
        sizeof p->reject_reply.text);
    p->skip_internal = true;
    p->skip_trusted = true;
    p->skip_authenticated = true;
    pattern_list_init(&p->trusted_forwarders, PATTERN_DOMAINS);
    pattern_list_init(&p->mailing_lists, PATTERN_DOMAINS);
    pattern_list_init(&p->local_overrides, PATTERN_DOMAINS);
    pattern_list_init(&p->trusted_arc_sealers, PATTERN_DOMAINS);
    struct dmarc_limits lim;
    dmarc_limits_default(&lim);
    p->max_queries = lim.max_queries;
    p->max_domains = 4;
    p->budget_ms = 5000;
    p->query_timeout_ms = 0;
    cfg->dmarc = p;
}

void dmarc_limits_for(const struct config *cfg, struct dmarc_limits *lim)
{
    const struct dmarc_settings *p = cfg->dmarc;
    dmarc_limits_default(lim);
    lim->max_queries = p->max_queries;
    lim->budget_ms = p->budget_ms;
    lim->query_timeout_ms = p->query_timeout_ms > 0 ? p->query_timeout_ms : cfg->dns.timeout_ms;
}

/* One of the words of a choice option; false (after the error naming the words) otherwise. */
static void read_from_policy(struct cfg_reader *r, const config_setting_t *section,
    const char *name, bool strictest_allowed, enum dmarc_from_policy *out)
{
    const config_setting_t *s = config_setting_get_member(section, name);
    if (s == NULL)
        return;
    char option[64];
    snprintf(option, sizeof option, "dmarc.%s", name);
    const char *v = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
        : NULL;
    if (v != NULL && strcmp(v, "reject") == 0)
        *out = DMARC_FROM_REJECT;
    else if (v != NULL && strcmp(v, "accept") == 0)
        *out = DMARC_FROM_ACCEPT;
    else if (v != NULL && strictest_allowed && strcmp(v, "strictest") == 0)
        *out = DMARC_FROM_STRICTEST;
    else if (strictest_allowed)
        cfg_error(r, s, option, "use \"reject\" (refuse the message), \"strictest\" (evaluate "
            "every author's domain and apply the strictest policy) or \"accept\" (only the "
            "DMARC_FROM_SEVERAL score)");
    else
        cfg_error(r, s, option, "use \"reject\" (refuse the message) or \"accept\" (only the "
            "DMARC_FROM_INVALID score): without one author's domain there is nothing to "
            "evaluate");
}

static void read_quarantine(struct cfg_reader *r, const config_setting_t *section,
    struct dmarc_settings *p)
{
    const config_setting_t *s = config_setting_get_member(section, "quarantine");
    if (s == NULL)
        return;
    const char *v = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
        : NULL;
    if (v != NULL && strcmp(v, "hold") == 0)
        p->quarantine_hold = true;
    else if (v != NULL && strcmp(v, "score") == 0)
        p->quarantine_hold = false;
    else
        cfg_error(r, s, "dmarc.quarantine", "use \"hold\" (the MTA's hold queue) or \"score\" "
            "(only the DMARC_FAIL_QUARANTINE score)");
}

static void dmarc_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct dmarc_settings *p = r->cfg->dmarc;
    cfg_apply_options(r, section, "dmarc", dmarc_options, p);
    read_from_policy(r, section, "several_from", true, &p->several_from);
    read_from_policy(r, section, "no_from", false, &p->no_from);
    read_quarantine(r, section, p);
    cfg_replace_patterns(r, section, "dmarc", "trusted_forwarders", &p->trusted_forwarders);
    cfg_replace_patterns(r, section, "dmarc", "mailing_lists", &p->mailing_lists);
    cfg_replace_patterns(r, section, "dmarc", "local_overrides", &p->local_overrides);
    cfg_replace_patterns(r, section, "dmarc", "trusted_arc_sealers", &p->trusted_arc_sealers);
}

static void dmarc_free(struct config *cfg)
{
    struct dmarc_settings *p = cfg->dmarc;
    if (p == NULL)
        return;
    pattern_list_free(&p->trusted_forwarders);
    pattern_list_free(&p->mailing_lists);
    pattern_list_free(&p->local_overrides);
    pattern_list_free(&p->trusted_arc_sealers);
    free(p);
    cfg->dmarc = NULL;
}

const struct config_module dmarc_config_module = {
    .section = "dmarc",
    .init = dmarc_init,
    .apply = dmarc_apply,
    .free = dmarc_free,
};
