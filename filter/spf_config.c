/* spf_config.c - the `spf` section of the policy files (config_module.h): defaults, the option
 * table, and in finish() the allowlists split into lower-cased names. Promises: every policy
 * has cfg->spf (the defaults when the section is absent); every bad value is reported with
 * file, line and option by cfg_apply_options. */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
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

static void spf_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "spf", spf_options, r->cfg->spf);
}

static void split_names(const char *text, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (text == NULL)
        return;
    const char *p = text;
    while (*p != '\0') {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == 0)
            break;
        char *name = xstrndup(p, len);
        str_lower(name);
        *out = xrealloc(*out, (*count + 1) * sizeof **out);
        (*out)[(*count)++] = name;
        p += len;
    }
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static void spf_finish(struct config *cfg, struct config_errors *errs)
{
    (void)errs;
    struct spf_policy *p = cfg->spf;
    free_names(p->allow_helo, p->allow_helo_count);
    free_names(p->allow_sender_domains, p->allow_sender_domain_count);
    split_names(p->allow_helo_text, &p->allow_helo, &p->allow_helo_count);
    split_names(p->allow_sender_domains_text, &p->allow_sender_domains,
        &p->allow_sender_domain_count);
}

static void spf_free(struct config *cfg)
{
    struct spf_policy *p = cfg->spf;
    if (p == NULL)
        return;
    cidr_list_free(&p->allow_clients);
    free(p->allow_helo_text);
    free(p->allow_sender_domains_text);
    free_names(p->allow_helo, p->allow_helo_count);
    free_names(p->allow_sender_domains, p->allow_sender_domain_count);
    free(p);
    cfg->spf = NULL;
}

bool spf_policy_name_listed(char *const *list, size_t count, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (size_t i = 0; i < count; i++) {
        const char *pattern = list[i];
        if (pattern[0] == '.') {
            if (str_iendswith(name, pattern) && strlen(name) > strlen(pattern))
                return true;
        } else if (str_ieq(pattern, name)) {
            return true;
        }
    }
    return false;
}

const struct config_module config_module_spf = {
    .section = "spf",
    .init = spf_init,
    .apply = spf_apply,
    .finish = spf_finish,
    .free = spf_free,
};
