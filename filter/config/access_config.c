/* access_config.c - parses the access list: rules that match one key (client, helo, sender,
 * sender_domain, sasl_user, recipient, recipient_domain) against patterns (pattern.h) given
 * inline or in a file (one per line, # comments), each with an action and a reply. */
#include "config_module.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_patterns.h"
#include "util.h"

static const struct {
    const char *name;
    enum access_key key;
} access_keys[] = {
    {"client", ACCESS_CLIENT}, {"helo", ACCESS_HELO}, {"sender", ACCESS_SENDER},
    {"sender_domain", ACCESS_SENDER_DOMAIN}, {"sasl_user", ACCESS_SASL_USER},
    {"recipient", ACCESS_RECIPIENT}, {"recipient_domain", ACCESS_RECIPIENT_DOMAIN},
};

static void access_rule_free(struct access_rule *rule)
{
    free(rule->name);
    pattern_list_free(&rule->patterns);
    free(rule->file);
}

static enum pattern_subject subject_of_key(enum access_key key)
{
    switch (key) {
    case ACCESS_CLIENT: return PATTERN_NETWORKS;
    case ACCESS_HELO: case ACCESS_SENDER_DOMAIN: case ACCESS_RECIPIENT_DOMAIN:
        return PATTERN_DOMAINS;
    case ACCESS_SASL_USER: return PATTERN_SASL_USERS;
    case ACCESS_SENDER: case ACCESS_RECIPIENT: return PATTERN_ADDRESSES;
    }
    return PATTERN_ADDRESSES;
}

static void apply_rule(struct cfg_reader *r, const config_setting_t *g, int index)
{
    char option[64];
    snprintf(option, sizeof option, "access[%d]", index + 1);
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        cfg_error(r, g, option, "each rule is a group: { name = \"x\"; match = \"sender\"; values = [ ... ]; action = \"reject\" }");
        return;
    }
    struct access_rule rule = {0};
    rule.action = ACTION_REJECT;
    bool ok = true, have_match = false, have_values = false, have_name = false;
    const config_setting_t *reply = NULL, *values = NULL, *file = NULL;

    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        char sub[128];
        snprintf(sub, sizeof sub, "%s.%s", option, name);
        const char *text;
        if (strcmp(name, "name") == 0) {
            have_name = true;
            if (!cfg_read_string(r, s, sub, &text)) {
                ok = false;
            } else if (!cfg_name_valid(text)) {
                cfg_error(r, s, sub, "\"%s\": use letters, digits, - and _ (at most 64)", text);
                ok = false;
            } else {
                free(rule.name);
                rule.name = xstrdup(text);
            }
        } else if (strcmp(name, "match") == 0) {
            if (!cfg_read_string(r, s, sub, &text)) {
                ok = false;
                continue;
            }
            have_match = false;
            for (size_t k = 0; k < sizeof access_keys / sizeof access_keys[0]; k++) {
                if (strcmp(text, access_keys[k].name) == 0) {
                    rule.key = access_keys[k].key;
                    have_match = true;
                }
            }
            if (!have_match) {
                cfg_error(r, s, sub, "unknown key \"%s\": use client, helo, sender, sender_domain, sasl_user, recipient or recipient_domain", text);
                ok = false;
                have_match = true;   /* reported */
            }
        } else if (strcmp(name, "values") == 0) {
            values = s;
        } else if (strcmp(name, "file") == 0) {
            file = s;
        } else if (strcmp(name, "action") == 0) {
            ok &= cfg_read_action(r, s, sub, &rule.action);
        } else if (strcmp(name, "score") == 0) {
            ok &= cfg_read_double(r, s, sub, &rule.score);
        } else if (strcmp(name, "reply") == 0) {
            reply = s;
        } else {
            static const char *const names[] = {"name", "match", "values", "file", "action", "score", "reply", NULL};
            const char *hint = cfg_suggest(name, names);
            if (hint != NULL)
                cfg_error(r, s, sub, "unknown option in an access rule; did you mean %s?", hint);
            else
                cfg_error(r, s, sub, "unknown option in an access rule (use name, match, values, file, action, score, reply)");
            ok = false;
        }
    }
    if (!have_name) {
        cfg_error(r, g, option, "a rule needs a name, as name = \"blocked-senders\" (it names the symbol ACCESS_BLOCKED_SENDERS)");
        ok = false;
    }
    if (!have_match) {
        cfg_error(r, g, option, "a rule needs match = \"client\", \"helo\", \"sender\", \"sender_domain\", \"sasl_user\", \"recipient\" or \"recipient_domain\"");
        ok = false;
    }
    if (ok)
        pattern_list_init(&rule.patterns, subject_of_key(rule.key));
    if (ok && values != NULL) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s.values", option);
        ok &= cfg_add_patterns(r, values, sub, &rule.patterns);
        have_values = true;
    }
    if (ok && file != NULL) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s.file", option);
        ok &= cfg_add_pattern_file(r, file, sub, &rule.patterns);
        have_values = true;
    }
    if (ok && have_values)
        ok &= cfg_check_patterns(r, g, option, &rule.patterns);
    if (ok && !have_values) {
        cfg_error(r, g, option, "a rule needs values = [ ... ] or file = \"/path\"");
        ok = false;
    }
    if (ok && reply != NULL) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s.reply", option);
        if (rule.action == ACTION_QUARANTINE || rule.action == ACTION_ACCEPT
            || rule.action == ACTION_DISCARD || rule.action == ACTION_NONE) {
            const char *text;
            if (cfg_read_string(r, reply, sub, &text))
                strlcpy_mw(rule.reply.text, text, sizeof rule.reply.text);
        } else {
            ok &= cfg_read_reply(r, reply, sub, rule.action, &rule.reply);
        }
    }
    if (!ok) {
        access_rule_free(&rule);
        return;
    }
    rule.file = xstrdup(config_setting_source_file(g) ? config_setting_source_file(g) : r->file);
    rule.line = config_setting_source_line(g);
    struct config *cfg = r->cfg;
    cfg->access = xrealloc(cfg->access, (cfg->access_count + 1) * sizeof *cfg->access);
    cfg->access[cfg->access_count++] = rule;
}

static void access_apply(struct cfg_reader *r, const config_setting_t *list)
{
    int type = config_setting_type(list);
    if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_GROUP) {
        cfg_error(r, list, "access", "must be a list of rules: access = ( { ... }, { ... } )");
        return;
    }
    if (type == CONFIG_TYPE_GROUP) {
        apply_rule(r, list, 0);
        return;
    }
    int n = config_setting_length(list);
    for (int i = 0; i < n; i++)
        apply_rule(r, config_setting_get_elem(list, (unsigned)i), i);
}

/* ---- the access module ---- */

static void access_init(struct config *cfg)
{
    (void)cfg;
}

/* ACCESS_<NAME>: the rule's name upper-cased, '-' as '_' (check_access.c). */
static bool access_emits(const struct config *cfg, const char *symbol)
{
    if (strncmp(symbol, "ACCESS_", 7) != 0)
        return false;
    for (size_t i = 0; i < cfg->access_count; i++) {
        const char *name = cfg->access[i].name, *s = symbol + 7;
        for (; *name != '\0' && *s != '\0'; name++, s++) {
            char c = *name == '-' ? '_' : (char)toupper((unsigned char)*name);
            if (c != *s)
                break;
        }
        if (*name == '\0' && *s == '\0')
            return true;
    }
    return false;
}

static void access_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->access_count; i++)
        access_rule_free(&cfg->access[i]);
    free(cfg->access);
}

const struct config_module access_config_module = {
    .section = "access",
    .checks_own_type = true,
    .init = access_init,
    .apply = access_apply,
    .emits = access_emits,
    .free = access_free,
};
