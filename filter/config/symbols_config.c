/* symbols_config.c - the `symbols` section: the admin's score, action and reply for a symbol
 * a check or rule emits (struct config .symbols; engine.c applies them, config_symbol finds
 * one). A later file overrides an earlier one per symbol. A name that nothing in the loaded
 * policy can emit (a typo such as SPF_FIAL) is refused in finish(), which runs after every
 * other module: native checks' names come from native_symbols.c, the policy's own (access
 * rules, rate limits, DNS lists, rules) from each module's emits(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "native_symbols.h"
#include "util.h"

/* symbols: { NAME: { score = 1.0; action = "reject"; reply = "550 5.7.1 ..." } } */
static void symbols_apply(struct cfg_reader *r, const config_setting_t *symbols)
{
    if (config_setting_type(symbols) != CONFIG_TYPE_GROUP) {
        cfg_error(r, symbols, "symbols", "must be a section: symbols: { NAME: { score = 1.0 } }");
        return;
    }
    int n = config_setting_length(symbols);
    for (int i = 0; i < n; i++) {
        const config_setting_t *entry = config_setting_get_elem(symbols, (unsigned)i);
        char option[160];
        snprintf(option, sizeof option, "symbols.%s", config_setting_name(entry));
        if (config_setting_type(entry) != CONFIG_TYPE_GROUP) {
            cfg_error(r, entry, option, "must be a section: { score = 1.0; action = \"score\" }");
            continue;
        }
        struct symbol_override o = {0};
        bool ok = true;
        const config_setting_t *reply = NULL;
        int m = config_setting_length(entry);
        for (int j = 0; j < m; j++) {
            const config_setting_t *s = config_setting_get_elem(entry, (unsigned)j);
            const char *name = config_setting_name(s);
            char sub[200];
            snprintf(sub, sizeof sub, "%s.%s", option, name);
            if (strcmp(name, "score") == 0) {
                ok &= cfg_read_double(r, s, sub, &o.score);
                o.has_score = true;
            } else if (strcmp(name, "action") == 0) {
                ok &= cfg_read_action(r, s, sub, &o.action);
                o.has_action = true;
            } else if (strcmp(name, "reply") == 0) {
                reply = s;
            } else {
                static const char *const names[] = {"score", "action", "reply", NULL};
                const char *hint = cfg_suggest(name, names);
                cfg_error(r, s, sub, "unknown option%s%s%s", hint ? "; did you mean " : "",
                    hint ? hint : " (use score, action or reply)", hint ? "?" : "");
                ok = false;
            }
        }
        if (reply != NULL) {
            char sub[200];
            snprintf(sub, sizeof sub, "%s.reply", option);
            ok &= cfg_read_reply(r, reply, sub, o.has_action ? o.action : ACTION_NONE, &o.reply);
        }
        if (!ok)
            continue;
        o.symbol = xstrdup(config_setting_name(entry));
        o.file = xstrdup(config_setting_source_file(entry) ? config_setting_source_file(entry) : r->file);
        o.line = config_setting_source_line(entry);
        struct config *cfg = r->cfg;
        for (size_t k = 0; k < cfg->symbol_count; k++) {
            if (strcmp(cfg->symbols[k].symbol, o.symbol) == 0) {
                free(cfg->symbols[k].symbol);
                free(cfg->symbols[k].file);
                cfg->symbols[k] = o;
                o.symbol = NULL;
                break;
            }
        }
        if (o.symbol != NULL) {
            cfg->symbols = xrealloc(cfg->symbols, (cfg->symbol_count + 1) * sizeof *cfg->symbols);
            cfg->symbols[cfg->symbol_count++] = o;
        }
    }
}

const struct symbol_override *config_symbol(const struct config *cfg, const char *symbol)
{
    for (size_t i = 0; i < cfg->symbol_count; i++) {
        if (strcmp(cfg->symbols[i].symbol, symbol) == 0)
            return &cfg->symbols[i];
    }
    return NULL;
}

static bool someone_emits(const struct config *cfg, const char *symbol)
{
    if (native_symbol(symbol))
        return true;
    for (const struct config_module *const *m = config_modules; *m != NULL; m++) {
        if ((*m)->emits != NULL && (*m)->emits(cfg, symbol))
            return true;
    }
    return false;
}

static void symbols_init(struct config *cfg)
{
    (void)cfg;
}

/* Runs last (config_modules.c): rules are compiled and every list is read by now. */
static void symbols_finish(struct config *cfg, struct config_errors *errs)
{
    for (size_t i = 0; i < cfg->symbol_count; i++) {
        const struct symbol_override *o = &cfg->symbols[i];
        if (someone_emits(cfg, o->symbol))
            continue;
        const char *hint = cfg_suggest(o->symbol, native_symbols);
        if (hint != NULL)
            config_errors_add(errs, o->file, o->line, "symbols",
                "unknown symbol \"%s\" (did you mean %s?)", o->symbol, hint);
        else
            config_errors_add(errs, o->file, o->line, "symbols",
                "unknown symbol \"%s\": no check, rule, access rule, rate limit or DNS list of "
                "this policy emits it (mailwarden -t lists the rules loaded)", o->symbol);
    }
}

static void symbols_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->symbol_count; i++) {
        free(cfg->symbols[i].symbol);
        free(cfg->symbols[i].file);
    }
    free(cfg->symbols);
}

const struct config_module symbols_config_module = {
    .section = "symbols",
    .checks_own_type = true,
    .init = symbols_init,
    .apply = symbols_apply,
    .finish = symbols_finish,
    .free = symbols_free,
};
