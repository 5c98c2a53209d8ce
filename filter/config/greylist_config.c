/* greylist_config.c - the `greylist` section of the policy:
 *   greylist: { enabled = true; mode = "everyone"; delay = "5m"; remember = "35d"; ... }
 * Options go through cfg_apply_options (errors name file, line, option, "did you mean");
 * the mode is checked here. Off by default. Allow lists are the policy's own: networks.internal
 * and .trusted, access rules with action "accept", and greylist.exempt_networks. Triplets are
 * kept in the store greylist.store names (store_config.h; "default" unless told). */
#include "greylist.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "store_config.h"
#include "util.h"

/* The options as read; mode and lists are checked after cfg_apply_options. */
struct greylist_raw {
    bool enabled;
    char *mode;
    double score;
    uint64_t delay_ms, retry_window_ms, remember_ms;
    unsigned ipv4_prefix, ipv6_prefix;
    struct reply reply;
    struct cidr_list exempt_networks;
};

#define GOPT(f) offsetof(struct greylist_raw, f)
static const struct option_spec greylist_specs[] = {
    {"enabled", OPT_BOOL, GOPT(enabled), 0, 0},
    {"mode", OPT_STRING, GOPT(mode), 0, 0},
    {"score", OPT_DOUBLE, GOPT(score), -1000, 1000},
    {"delay", OPT_DURATION_MS, GOPT(delay_ms), 1000, 86400000.0},
    {"retry_window", OPT_DURATION_MS, GOPT(retry_window_ms), 60000, 30 * 86400000.0},
    {"remember", OPT_DURATION_MS, GOPT(remember_ms), 60000, 365 * 86400000.0},
    {"ipv4_prefix", OPT_UINT, GOPT(ipv4_prefix), 8, 32},
    {"ipv6_prefix", OPT_UINT, GOPT(ipv6_prefix), 16, 128},
    {"reply", OPT_REPLY_TEMPFAIL, GOPT(reply), 0, 0},
    {"exempt_networks", OPT_CIDRS, GOPT(exempt_networks), 0, 0},
    {"store", OPT_OWN, 0, 0, 0},           /* store_use_read */
    {NULL, 0, 0, 0, 0},
};

static void greylist_init(struct config *cfg)
{
    struct greylist_policy *p = xcalloc(1, sizeof *p);
    p->mode = GREYLIST_EVERYONE;
    p->score = 3.0;
    p->delay_ms = 5 * 60 * 1000;
    p->retry_window_ms = 24 * 3600 * 1000;
    p->remember_ms = 35ULL * 86400 * 1000;
    p->ipv4_prefix = 24;
    p->ipv6_prefix = 64;
    const char *why;
    reply_parse("451 4.7.1 Greylisted, please try again later", &p->reply, &why);
    p->store_use.name = xstrdup(STORE_DEFAULT_NAME);
    cfg->greylist = p;
}

static void greylist_free(struct config *cfg)
{
    struct greylist_policy *p = cfg->greylist;
    if (p == NULL)
        return;
    cidr_list_free(&p->exempt_networks);
    store_use_free(&p->store_use);
    free(p);
    cfg->greylist = NULL;
}

static void greylist_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct greylist_policy *p = r->cfg->greylist;
    if (config_setting_type(section) != CONFIG_TYPE_GROUP) {
        cfg_error(r, section, "greylist", "must be a section: greylist: { enabled = true; ... }");
        return;
    }
    struct greylist_raw raw = {
        .enabled = p->enabled, .score = p->score, .delay_ms = p->delay_ms,
        .retry_window_ms = p->retry_window_ms, .remember_ms = p->remember_ms,
        .ipv4_prefix = p->ipv4_prefix, .ipv6_prefix = p->ipv6_prefix, .reply = p->reply,
        .exempt_networks = p->exempt_networks,
    };
    cfg_apply_options(r, section, "greylist", greylist_specs, &raw);
    p->enabled = raw.enabled;
    p->score = raw.score;
    p->delay_ms = raw.delay_ms;
    p->retry_window_ms = raw.retry_window_ms;
    p->remember_ms = raw.remember_ms;
    p->ipv4_prefix = raw.ipv4_prefix;
    p->ipv6_prefix = raw.ipv6_prefix;
    p->reply = raw.reply;
    p->exempt_networks = raw.exempt_networks;
    if (raw.mode != NULL) {
        if (strcmp(raw.mode, "everyone") == 0)
            p->mode = GREYLIST_EVERYONE;
        else if (strcmp(raw.mode, "score") == 0)
            p->mode = GREYLIST_SCORE;
        else if (strcmp(raw.mode, "shadow") == 0)
            p->shadow = true;       /* "everyone", logged as shadow: never tempfails (engine.c) */
        else
            cfg_error(r, config_setting_get_member(section, "mode"), "greylist.mode",
                "\"%s\": use \"everyone\" (decided at RCPT), \"score\" (only messages scoring "
                "at least greylist.score, decided at the end of DATA) or \"shadow\" (everyone, "
                "logged, never deferred)", raw.mode);
        free(raw.mode);
    }
    const config_setting_t *store = config_setting_get_member(section, "store");
    if (store != NULL)
        store_use_read(r, store, "greylist.store", &p->store_use, NULL);
}

static void greylist_finish(struct config *cfg, struct config_errors *errs)
{
    struct greylist_policy *p = cfg->greylist;
    if (p->enabled && p->retry_window_ms <= p->delay_ms)
        config_errors_add(errs, cfg->main_file, 0, "greylist.retry_window",
            "must be longer than greylist.delay, or no retry could ever pass");
    p->store = store_use_open(cfg, &p->store_use, "greylist.store", errs);
}

const struct config_module greylist_config_module = {
    .section = "greylist",
    .init = greylist_init,
    .apply = greylist_apply,
    .finish = greylist_finish,
    .free = greylist_free,
};
