/* bayes_config.c - the `bayes` section of the policy:
 *   bayes: { enabled = true; store = "disk"; database = "global"; autolearn = true; ... }
 * with the store named in the `store` section (an "lmdb" store keeps the databases across
 * restarts). SpamAssassin's defaults: 200 spam and 200 ham before it scores, autolearn at
 * 12 points (spam) and below 0.1 (ham), tokens unused for 21 days expire, at most 150000
 * tokens per database. Off by default. */
#include "bayes_policy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "store_config.h"
#include "util.h"

struct bayes_raw {
    bool enabled, autolearn, autolearn_on_error;
    char *database;
    unsigned min_spam, min_ham;
    double autolearn_spam, autolearn_ham;
    uint64_t token_ttl_ms, seen_ttl_ms, expire_interval_ms;
    unsigned max_tokens;
};

#define BOPT(f) offsetof(struct bayes_raw, f)
static const struct option_spec bayes_specs[] = {
    {"enabled", OPT_BOOL, BOPT(enabled), 0, 0},
    {"database", OPT_STRING, BOPT(database), 0, 0},
    {"min_spam", OPT_UINT, BOPT(min_spam), 1, 1000000},
    {"min_ham", OPT_UINT, BOPT(min_ham), 1, 1000000},
    {"autolearn", OPT_BOOL, BOPT(autolearn), 0, 0},
    {"autolearn_threshold_spam", OPT_DOUBLE, BOPT(autolearn_spam), -1000, 1000},
    {"autolearn_threshold_ham", OPT_DOUBLE, BOPT(autolearn_ham), -1000, 1000},
    {"autolearn_on_error", OPT_BOOL, BOPT(autolearn_on_error), 0, 0},
    {"token_ttl", OPT_DURATION_MS, BOPT(token_ttl_ms), 0, 3650 * 86400000.0},
    {"seen_ttl", OPT_DURATION_MS, BOPT(seen_ttl_ms), 0, 3650 * 86400000.0},
    {"max_tokens", OPT_UINT, BOPT(max_tokens), 0, 100000000},
    {"expire_interval", OPT_DURATION_MS, BOPT(expire_interval_ms), 60000, 365 * 86400000.0},
    {"store", OPT_OWN, 0, 0, 0},           /* store_use_read */
    {NULL, 0, 0, 0, 0},
};

static void bayes_init(struct config *cfg)
{
    struct bayes_policy *p = xcalloc(1, sizeof *p);
    p->min_spam = 200;
    p->min_ham = 200;
    p->autolearn = true;
    p->autolearn_spam = 12.0;
    p->autolearn_ham = 0.1;
    p->token_ttl_ms = 21ULL * 86400 * 1000;
    p->seen_ttl_ms = 8ULL * 86400 * 1000;
    p->max_tokens = 150000;
    p->expire_interval_ms = 12ULL * 3600 * 1000;
    p->store_use.name = xstrdup(STORE_DEFAULT_NAME);
    cfg->bayes = p;
}

static void bayes_free(struct config *cfg)
{
    struct bayes_policy *p = cfg->bayes;
    if (p == NULL)
        return;
    store_use_free(&p->store_use);
    free(p);
    cfg->bayes = NULL;
}

static void bayes_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct bayes_policy *p = r->cfg->bayes;
    if (config_setting_type(section) != CONFIG_TYPE_GROUP) {
        cfg_error(r, section, "bayes", "must be a section: bayes: { enabled = true; ... }");
        return;
    }
    struct bayes_raw raw = {
        .enabled = p->enabled, .autolearn = p->autolearn,
        .autolearn_on_error = p->autolearn_on_error,
        .min_spam = (unsigned)p->min_spam, .min_ham = (unsigned)p->min_ham,
        .autolearn_spam = p->autolearn_spam, .autolearn_ham = p->autolearn_ham,
        .token_ttl_ms = p->token_ttl_ms, .seen_ttl_ms = p->seen_ttl_ms,
        .expire_interval_ms = p->expire_interval_ms, .max_tokens = (unsigned)p->max_tokens,
    };
    cfg_apply_options(r, section, "bayes", bayes_specs, &raw);
    p->enabled = raw.enabled;
    p->autolearn = raw.autolearn;
    p->autolearn_on_error = raw.autolearn_on_error;
    p->min_spam = raw.min_spam;
    p->min_ham = raw.min_ham;
    p->autolearn_spam = raw.autolearn_spam;
    p->autolearn_ham = raw.autolearn_ham;
    p->token_ttl_ms = raw.token_ttl_ms;
    p->seen_ttl_ms = raw.seen_ttl_ms;
    p->expire_interval_ms = raw.expire_interval_ms;
    p->max_tokens = raw.max_tokens;
    if (raw.database != NULL) {
        if (strcmp(raw.database, "global") == 0)
            p->per_user = false;
        else if (strcmp(raw.database, "per_user") == 0)
            p->per_user = true;
        else
            cfg_error(r, config_setting_get_member(section, "database"), "bayes.database",
                "\"%s\": use \"global\" (one database for all mail) or \"per_user\" (one per "
                "recipient address)", raw.database);
        free(raw.database);
    }
    const config_setting_t *store = config_setting_get_member(section, "store");
    if (store != NULL)
        store_use_read(r, store, "bayes.store", &p->store_use, NULL);
}

static void bayes_finish(struct config *cfg, struct config_errors *errs)
{
    struct bayes_policy *p = cfg->bayes;
    if (p->enabled && p->autolearn && p->autolearn_ham >= p->autolearn_spam)
        config_errors_add(errs, cfg->main_file, 0, "bayes.autolearn_threshold_ham",
            "must be below bayes.autolearn_threshold_spam, or a message could be learnt as "
            "both");
    p->store = store_use_open(cfg, &p->store_use, "bayes.store", errs);
}

/* BAYES_00 .. BAYES_999: emitted by the check (or the rules' check_bayes) when enabled. */
static bool bayes_emits(const struct config *cfg, const char *symbol)
{
    return cfg->bayes != NULL && strncmp(symbol, "BAYES_", 6) == 0;
}

const struct config_module bayes_config_module = {
    .section = "bayes",
    .init = bayes_init,
    .apply = bayes_apply,
    .finish = bayes_finish,
    .emits = bayes_emits,
    .free = bayes_free,
};
