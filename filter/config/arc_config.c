/* arc_config.c - the `arc` section of the policy files (config_module.h): defaults, the option
 * table, the seal { } subsection with its pattern lists (pattern.h), and, once every file is
 * read, the seal key resolved in the DKIM key table. Promises: every policy has cfg->arc (the
 * defaults when the section is absent: verification on, sealing off); every bad value is
 * reported with file, line and option and how to fix it. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_config.h"
#include "config_module.h"
#include "config_patterns.h"
#include "dkim_policy.h"
#include "util.h"

#define ARC_OPT(field) offsetof(struct arc_policy, field)

static const struct option_spec arc_options[] = {
    {"enabled", OPT_BOOL, ARC_OPT(enabled), 0, 0},
    {"mode", OPT_CHECK_MODE, ARC_OPT(shadow), 0, 0},
    {"max_instances", OPT_UINT, ARC_OPT(max_instances), 1, 50},
    {"max_key_lookups", OPT_UINT, ARC_OPT(max_key_lookups), 1, 100},
    {"budget", OPT_DURATION_MS, ARC_OPT(budget_ms), 100, 120000},
    {"report_none", OPT_BOOL, ARC_OPT(report_none), 0, 0},
    {"seal", OPT_OWN, 0, 0, 0},
    {NULL, 0, 0, 0, 0},
};

static const struct option_spec seal_options[] = {
    {"enabled", OPT_BOOL, ARC_OPT(seal.enabled), 0, 0},
    {"relayed", OPT_BOOL, ARC_OPT(seal.relayed), 0, 0},
    {"key", OPT_OWN, 0, 0, 0},
    {"recipients", OPT_OWN, 0, 0, 0},
    {"senders", OPT_OWN, 0, 0, 0},
    {"clients", OPT_OWN, 0, 0, 0},
    {NULL, 0, 0, 0, 0},
};

static void arc_init(struct config *cfg)
{
    struct arc_policy *p = xcalloc(1, sizeof *p);
    p->enabled = true;
    p->max_instances = 50;        /* RFC 8617 4.2.1 */
    p->max_key_lookups = 16;      /* distinct key records; arc_verify.h allows 100 */
    p->budget_ms = 10000;
    pattern_list_init(&p->seal.recipients, PATTERN_ADDRESSES);
    pattern_list_init(&p->seal.senders, PATTERN_ADDRESSES);
    pattern_list_init(&p->seal.clients, PATTERN_NETWORKS);
    cfg->arc = p;
}

static void read_key(struct cfg_reader *r, struct arc_policy *p, const config_setting_t *seal)
{
    const config_setting_t *s = config_setting_get_member(seal, "key");
    const char *name;
    if (s == NULL || !cfg_read_string(r, s, "arc.seal.key", &name))
        return;
    if (*name == '\0') {
        cfg_error(r, s, "arc.seal.key", "is empty: name an entry of dkim.keys");
        return;
    }
    free(p->seal.key);
    free(p->seal.decl_file);
    p->seal.key = xstrdup(name);
    p->seal.decl_file = xstrdup(r->file);
    p->seal.decl_line = (int)config_setting_source_line(s);
}

static void arc_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct arc_policy *p = r->cfg->arc;
    cfg_apply_options(r, section, "arc", arc_options, p);
    const config_setting_t *seal = config_setting_get_member(section, "seal");
    if (seal == NULL)
        return;
    if (config_setting_type(seal) != CONFIG_TYPE_GROUP) {
        cfg_error(r, seal, "arc.seal", "must be a group: seal = { enabled = true; key = \"name\"; "
            "relayed = true; };");
        return;
    }
    cfg_apply_options(r, seal, "arc.seal", seal_options, p);
    read_key(r, p, seal);
    cfg_replace_patterns(r, seal, "arc.seal", "recipients", &p->seal.recipients);
    cfg_replace_patterns(r, seal, "arc.seal", "senders", &p->seal.senders);
    cfg_replace_patterns(r, seal, "arc.seal", "clients", &p->seal.clients);
}

static bool find_key(const struct dkim_policy *d, const char *name, size_t *index)
{
    for (size_t i = 0; d != NULL && i < d->key_count; i++) {
        if (strcmp(d->keys[i].name, name) == 0) {
            *index = i;
            return true;
        }
    }
    return false;
}

/* After dkim's finish (config_modules.c): the seal key is an entry of dkim.keys, loaded. */
static void arc_finish(struct config *cfg, struct config_errors *errs)
{
    struct arc_policy *p = cfg->arc;
    if (!p->seal.enabled)
        return;
    const char *file = p->seal.decl_file != NULL ? p->seal.decl_file : cfg->main_file;
    if (p->seal.key == NULL) {
        config_errors_add(errs, file, 0, "arc.seal.key", "sealing is enabled but no key is "
            "named: set arc.seal.key to the name of an entry of dkim.keys");
        return;
    }
    if (!find_key(cfg->dkim, p->seal.key, &p->seal.key_index)) {
        config_errors_add(errs, file, p->seal.decl_line, "arc.seal.key", "no key named \"%s\" "
            "in dkim.keys: add it there or fix the name", p->seal.key);
        return;
    }
    if (!p->seal.relayed && p->seal.recipients.count == 0 && p->seal.senders.count == 0
            && p->seal.clients.count == 0)
        config_errors_add(errs, file, p->seal.decl_line, "arc.seal", "sealing is enabled but "
            "no mail is chosen: set relayed = true, or recipients, senders or clients");
}

static void arc_free(struct config *cfg)
{
    struct arc_policy *p = cfg->arc;
    if (p == NULL)
        return;
    free(p->seal.key);
    free(p->seal.decl_file);
    pattern_list_free(&p->seal.recipients);
    pattern_list_free(&p->seal.senders);
    pattern_list_free(&p->seal.clients);
    free(p);
    cfg->arc = NULL;
}

const struct config_module arc_config_module = {
    .section = "arc",
    .init = arc_init,
    .apply = arc_apply,
    .finish = arc_finish,
    .free = arc_free,
};
