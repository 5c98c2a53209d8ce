/* spf_config.c - the `spf` section of the policy files (config_module.h): defaults, the option
 * table, and the allow lists compiled as patterns (pattern.h) as each file is applied.
 * Promises: every policy has cfg->spf (the defaults when the section is absent); every bad
 * value is reported with file, line and option. */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "config_patterns.h"
#include "spf.h"
#include "spf_config.h"
#include "util.h"

#define SPF_OPT(field) offsetof(struct spf_policy, field)

static const struct option_spec spf_options[] = {
    {"enabled", OPT_BOOL, SPF_OPT(enabled), 0, 0},
    {"check_helo", OPT_BOOL, SPF_OPT(check_helo), 0, 0},
    {"check_mail_from", OPT_BOOL, SPF_OPT(check_mail_from), 0, 0},
    {"received_spf", OPT_BOOL, SPF_OPT(received_spf), 0, 0},
    {"budget", OPT_DURATION_MS, SPF_OPT(budget_ms), 100, 120000},
    {"query_timeout", OPT_DURATION_MS, SPF_OPT(query_timeout_ms), 0, 60000},
    {"max_dns_lookups", OPT_UINT, SPF_OPT(max_dns_lookups), 1, 100},
    {"max_void_lookups", OPT_UINT, SPF_OPT(max_void_lookups), 0, 100},
    {"allow_clients", OPT_CIDRS, SPF_OPT(allow_clients), 0, 0},
    {"allow_helo", OPT_STRING, SPF_OPT(allow_helo_text), 0, 0},
    {"allow_sender_domains", OPT_STRING, SPF_OPT(allow_sender_domains_text), 0, 0},
    {"mode", OPT_CHECK_MODE, SPF_OPT(shadow), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static void spf_init(struct config *cfg)
{
    struct spf_policy *p = xcalloc(1, sizeof *p);
    p->enabled = true;
    p->check_helo = true;
    p->check_mail_from = true;
    p->received_spf = false;
    p->budget_ms = 10000;
    p->query_timeout_ms = 0;
    p->max_dns_lookups = 10;
    p->max_void_lookups = 2;
    pattern_list_init(&p->allow_helo, PATTERN_DOMAINS);
    pattern_list_init(&p->allow_sender_domains, PATTERN_DOMAINS);
    cfg->spf = p;
}

void spf_limits_for(const struct config *cfg, struct spf_limits *lim)
{
    const struct spf_policy *p = cfg->spf;
    spf_limits_default(lim);
    lim->budget_ms = p->budget_ms;
    lim->query_timeout_ms = p->query_timeout_ms > 0 ? p->query_timeout_ms : cfg->dns.timeout_ms;
    lim->max_dns_terms = p->max_dns_lookups;
    lim->max_void_lookups = p->max_void_lookups;
}

/* An allow list as patterns (pattern.h); each file that sets it replaces it. */
static void read_allow_list(struct cfg_reader *r, const config_setting_t *section,
    const char *name, struct pattern_list *list)
{
    const config_setting_t *s = config_setting_get_member(section, name);
    if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
        return;                 /* absent, or reported by cfg_apply_options */
    char option[64];
    snprintf(option, sizeof option, "spf.%s", name);
    pattern_list_free(list);
    if (cfg_add_pattern_words(r, s, option, list))
        cfg_check_patterns(r, s, option, list);
}

static void spf_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct spf_policy *p = r->cfg->spf;
    cfg_apply_options(r, section, "spf", spf_options, p);
    read_allow_list(r, section, "allow_helo", &p->allow_helo);
    read_allow_list(r, section, "allow_sender_domains", &p->allow_sender_domains);
}

static void spf_free(struct config *cfg)
{
    struct spf_policy *p = cfg->spf;
    if (p == NULL)
        return;
    cidr_list_free(&p->allow_clients);
    free(p->allow_helo_text);
    free(p->allow_sender_domains_text);
    pattern_list_free(&p->allow_helo);
    pattern_list_free(&p->allow_sender_domains);
    free(p);
    cfg->spf = NULL;
}

const struct config_module spf_config_module = {
    .section = "spf",
    .init = spf_init,
    .apply = spf_apply,
    .free = spf_free,
};
