/* ratelimit_config.c - the `ratelimit` section of the policy:
 *   ratelimit: {
 *     store = "default"
 *     limits = ( { name = "per-user"; key = [ "sasl_user" ]; count = "messages";
 *                  rate = "100/1h"; burst = 20; action = "tempfail"; reply = "..."; } )
 *   }
 * Every error names file, line, option and the fix. The store is the named one of the store
 * section (store_config.c), taken in finish(); it is process-lifetime (store.h), so a reload
 * keeps the counters of the limits that stay. The old spelling store: { backend = ...; }
 * inside this section still sets the store named "default", with a notice. */
#include "ratelimit.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "store_config.h"
#include "config_patterns.h"
#include "txn.h"
#include "util.h"

static const char *const part_names[] = {
    [RL_CLIENT_IP] = "client_ip", [RL_CLIENT_SUBNET] = "client_subnet", [RL_HELO] = "helo",
    [RL_SENDER] = "sender", [RL_SENDER_DOMAIN] = "sender_domain", [RL_SASL_USER] = "sasl_user",
    [RL_RECIPIENT] = "recipient", [RL_RECIPIENT_DOMAIN] = "recipient_domain", NULL,
};
static const char *const count_names[] = {
    [RL_CONNECTIONS] = "connections", [RL_MESSAGES] = "messages",
    [RL_RECIPIENTS] = "recipients", [RL_BYTES] = "bytes", NULL,
};

const char *rl_part_name(enum rl_part part)
{
    return part_names[part];
}

static void ratelimit_init(struct config *cfg)
{
    struct ratelimit_policy *p = xcalloc(1, sizeof *p);
    p->store_use.name = xstrdup(STORE_DEFAULT_NAME);
    cfg->ratelimit = p;
}

static void limit_free(struct rl_limit *l)
{
    free(l->name);
    free(l->symbol);
    pattern_list_free(&l->exempt_networks);
    pattern_list_free(&l->exempt_sasl_users);
    pattern_list_free(&l->exempt_senders);
    pattern_list_free(&l->exempt_recipients);
}

static void ratelimit_free(struct config *cfg)
{
    struct ratelimit_policy *p = cfg->ratelimit;
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->limit_count; i++)
        limit_free(&p->limits[i]);
    free(p->limits);
    store_use_free(&p->store_use);   /* the store itself lives on (store.h) */
    free(p);
    cfg->ratelimit = NULL;
}


static int index_of(const char *const *names, const char *name)
{
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(names[i], name) == 0)
            return i;
    }
    return -1;
}

static bool read_key(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct rl_limit *l)
{
    char **items = NULL;
    size_t count = 0;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        items = xcalloc(1, sizeof *items);
        items[0] = xstrdup(config_setting_get_string(s));
        count = 1;
    } else if (!cfg_read_strings(r, s, option, &items, &count)) {
        return false;
    }
    bool ok = count >= 1 && count <= RL_MAX_PARTS;
    if (!ok)
        cfg_error(r, s, option, "a key has 1 to %d parts, as [ \"sasl_user\", \"client_ip\" ]",
            RL_MAX_PARTS);
    for (size_t i = 0; ok && i < count; i++) {
        int part = index_of(part_names, items[i]);
        if (part < 0) {
            const char *hint = cfg_suggest(items[i], part_names);
            cfg_error(r, s, option, "unknown key part \"%s\"%s%s; use client_ip, client_subnet, "
                "helo, sender, sender_domain, sasl_user, recipient or recipient_domain", items[i],
                hint ? ": did you mean " : "", hint ? hint : "");
            ok = false;
        } else {
            l->parts[i] = (enum rl_part)part;
        }
    }
    l->part_count = ok ? count : 0;
    cfg_free_strings(items, count);
    return ok;
}

/* An exempt_* list: patterns (pattern.h); a later file's list replaces an earlier one's. */
static bool read_patterns(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list)
{
    pattern_list_free(list);
    return cfg_read_patterns(r, s, option, list);
}

static bool read_prefix(struct cfg_reader *r, const config_setting_t *s, const char *option,
    unsigned max, unsigned *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) < 1
        || (unsigned)config_setting_get_int(s) > max) {
        cfg_error(r, s, option, "must be a number from 1 to %u (the prefix length of the subnet)",
            max);
        return false;
    }
    *out = (unsigned)config_setting_get_int(s);
    return true;
}

static bool read_scope(struct cfg_reader *r, const config_setting_t *s, const char *option,
    unsigned *out)
{
    const char *text;
    if (!cfg_read_string(r, s, option, &text))
        return false;
    if (strcmp(text, "inbound") == 0)
        *out = RL_SCOPE_INBOUND;
    else if (strcmp(text, "outbound") == 0)
        *out = RL_SCOPE_OUTBOUND;
    else if (strcmp(text, "both") == 0)
        *out = RL_SCOPE_INBOUND | RL_SCOPE_OUTBOUND;
    else {
        cfg_error(r, s, option, "\"%s\": use inbound, outbound or both", text);
        return false;
    }
    return true;
}

static bool read_limit_action(struct cfg_reader *r, const config_setting_t *s, const char *option,
    enum action *out)
{
    const char *text;
    if (!cfg_read_string(r, s, option, &text))
        return false;
    if (strcmp(text, "tempfail") == 0)
        *out = ACTION_TEMPFAIL;
    else if (strcmp(text, "reject") == 0)
        *out = ACTION_REJECT;
    else if (strcmp(text, "score") == 0)
        *out = ACTION_NONE;
    else {
        cfg_error(r, s, option, "\"%s\": use tempfail, reject or score (the symbol and its "
            "score only)", text);
        return false;
    }
    return true;
}

/* The earliest stage at which every part of the key and the counted quantity are known. */
static int decision_stage(const struct rl_limit *l)
{
    int stage = STAGE_CONNECT;
    for (size_t i = 0; i < l->part_count; i++) {
        int at = STAGE_CONNECT;
        switch (l->parts[i]) {
        case RL_CLIENT_IP: case RL_CLIENT_SUBNET: at = STAGE_CONNECT; break;
        case RL_HELO: at = STAGE_HELO; break;
        case RL_SENDER: case RL_SENDER_DOMAIN: case RL_SASL_USER: at = STAGE_MAIL; break;
        case RL_RECIPIENT: case RL_RECIPIENT_DOMAIN: at = STAGE_RCPT; break;
        }
        if (at > stage)
            stage = at;
    }
    switch (l->count) {
    case RL_CONNECTIONS: return stage;
    case RL_MESSAGES: return stage > STAGE_MAIL ? stage : STAGE_MAIL;
    case RL_RECIPIENTS: return STAGE_RCPT;
    case RL_BYTES: return STAGE_EOM;
    }
    return stage;
}

static void make_symbol(struct rl_limit *l)
{
    l->symbol = xasprintf("RATELIMIT_%s", l->name);
    for (char *p = l->symbol + 10; *p; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
}

static const char *const limit_options[] = {
    "name", "key", "count", "rate", "burst", "action", "score", "reply", "mode", "dry_run", "scope",
    "ipv4_prefix", "ipv6_prefix", "exempt_networks", "exempt_sasl_users", "exempt_senders",
    "exempt_recipients", NULL,
};

/* One option of a limit; false when it is bad (already reported). */
static bool apply_limit_option(struct cfg_reader *r, const config_setting_t *s, const char *sub,
    struct rl_limit *l, const config_setting_t **rate, const config_setting_t **reply,
    long long *burst)
{
    const char *name = config_setting_name(s);
    const char *text;
    if (strcmp(name, "name") == 0) {
        if (!cfg_read_string(r, s, sub, &text))
            return false;
        if (!cfg_name_valid(text)) {
            cfg_error(r, s, sub, "\"%s\": use letters, digits, - and _ (at most 64)", text);
            return false;
        }
        free(l->name);
        l->name = xstrdup(text);
        return true;
    }
    if (strcmp(name, "key") == 0)
        return read_key(r, s, sub, l);
    if (strcmp(name, "count") == 0) {
        if (!cfg_read_string(r, s, sub, &text))
            return false;
        int c = index_of(count_names, text);
        if (c < 0) {
            cfg_error(r, s, sub, "\"%s\": use connections, messages, recipients or bytes", text);
            return false;
        }
        l->count = (enum rl_count)c;
        return true;
    }
    if (strcmp(name, "rate") == 0) {
        *rate = s;
        return true;
    }
    if (strcmp(name, "reply") == 0) {
        *reply = s;
        return true;
    }
    if (strcmp(name, "burst") == 0) {
        if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
            cfg_error(r, s, sub, "must be a whole number (how many pass at once)");
            return false;
        }
        *burst = config_setting_get_int64(s);
        return true;
    }
    if (strcmp(name, "action") == 0)
        return read_limit_action(r, s, sub, &l->action);
    if (strcmp(name, "score") == 0)
        return cfg_read_double(r, s, sub, &l->score);
    if (strcmp(name, "mode") == 0)
        return cfg_read_check_mode(r, s, sub, &l->shadow);
    if (strcmp(name, "dry_run") == 0) {
        /* the old name of mode = "shadow": still accepted, with a notice */
        if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
            l->shadow = config_setting_get_bool(s);
        } else if (config_setting_type(s) == CONFIG_TYPE_STRING
            && (strcmp(config_setting_get_string(s), "yes") == 0
                || strcmp(config_setting_get_string(s), "no") == 0)) {
            l->shadow = strcmp(config_setting_get_string(s), "yes") == 0;
        } else {
            cfg_error(r, s, sub, "must be true, false, \"yes\" or \"no\"");
            return false;
        }
        cfg_notice(r, s, sub, "dry_run is now written mode = \"%s\"",
            l->shadow ? "shadow" : "enforce");
        return true;
    }
    if (strcmp(name, "scope") == 0)
        return read_scope(r, s, sub, &l->scope);
    if (strcmp(name, "ipv4_prefix") == 0)
        return read_prefix(r, s, sub, 32, &l->ipv4_prefix);
    if (strcmp(name, "ipv6_prefix") == 0)
        return read_prefix(r, s, sub, 128, &l->ipv6_prefix);
    if (strcmp(name, "exempt_networks") == 0)
        return read_patterns(r, s, sub, &l->exempt_networks);
    if (strcmp(name, "exempt_sasl_users") == 0)
        return read_patterns(r, s, sub, &l->exempt_sasl_users);
    if (strcmp(name, "exempt_senders") == 0)
        return read_patterns(r, s, sub, &l->exempt_senders);
    if (strcmp(name, "exempt_recipients") == 0)
        return read_patterns(r, s, sub, &l->exempt_recipients);
    const char *hint = cfg_suggest(name, limit_options);
    if (hint != NULL)
        cfg_error(r, s, sub, "unknown option in a limit; did you mean %s?", hint);
    else
        cfg_error(r, s, sub, "unknown option in a limit (use name, key, count, rate, burst, "
            "action, score, reply, mode, scope, ipv4_prefix, ipv6_prefix, exempt_*)");
    return false;
}

static bool finish_rate(struct cfg_reader *r, const config_setting_t *rate, const char *option,
    long long burst, struct rl_limit *l)
{
    const char *text, *why;
    int64_t count, period_us;
    if (!cfg_read_string(r, rate, option, &text))
        return false;
    if (!gcra_parse_rate(text, &count, &period_us, &why)) {
        cfg_error(r, rate, option, "\"%s\": %s", text, why);
        return false;
    }
    if (!gcra_limit_make(count, period_us, burst, &l->gcra, &why)) {
        cfg_error(r, rate, option, "\"%s\" with burst %lld: %s", text, burst, why);
        return false;
    }
    return true;
}

static bool finish_reply(struct cfg_reader *r, const config_setting_t *reply, const char *option,
    struct rl_limit *l)
{
    if (reply == NULL) {
        const char *why;
        char text[200];
        snprintf(text, sizeof text, "%s Rate limit %s exceeded, try again later",
            l->action == ACTION_REJECT ? "550 5.7.1" : "451 4.7.1", l->name);
        return reply_parse(text, &l->reply, &why);
    }
    if (l->action == ACTION_NONE) {
        cfg_error(r, reply, option, "a limit with action = \"score\" sends no reply: remove it");
        return false;
    }
    return cfg_read_reply(r, reply, option, l->action, &l->reply);
}

static void apply_limit(struct cfg_reader *r, const config_setting_t *g, int index)
{
    char option[64];
    snprintf(option, sizeof option, "ratelimit.limits[%d]", index + 1);
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        cfg_error(r, g, option, "each limit is a group: { name = \"per-user\"; key = \"sasl_user\"; "
            "count = \"messages\"; rate = \"100/1h\"; burst = 20 }");
        return;
    }
    struct rl_limit l = {
        .count = RL_MESSAGES, .ipv4_prefix = 24, .ipv6_prefix = 64, .action = ACTION_TEMPFAIL,
        .scope = RL_SCOPE_INBOUND | RL_SCOPE_OUTBOUND,
    };
    pattern_list_init(&l.exempt_networks, PATTERN_NETWORKS);
    pattern_list_init(&l.exempt_sasl_users, PATTERN_SASL_USERS);
    pattern_list_init(&l.exempt_senders, PATTERN_ADDRESSES);
    pattern_list_init(&l.exempt_recipients, PATTERN_ADDRESSES);
    const config_setting_t *rate = NULL, *reply = NULL;
    long long burst = 1;
    bool ok = true;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        char sub[128];
        snprintf(sub, sizeof sub, "%s.%s", option, config_setting_name(s));
        ok &= apply_limit_option(r, s, sub, &l, &rate, &reply, &burst);
    }
    if (l.name == NULL) {
        cfg_error(r, g, option, "a limit needs a name, as name = \"per-user\" (it names the "
            "symbol RATELIMIT_PER_USER and the reply)");
        ok = false;
    }
    if (l.part_count == 0 && ok) {
        cfg_error(r, g, option, "a limit needs key = \"sasl_user\" or a list of parts, as "
            "[ \"sasl_user\", \"client_ip\" ]");
        ok = false;
    }
    if (rate == NULL && ok) {
        cfg_error(r, g, option, "a limit needs rate = \"100/1h\" (and burst = N, default 1)");
        ok = false;
    }
    char sub[128];
    snprintf(sub, sizeof sub, "%s.rate", option);
    ok = ok && finish_rate(r, rate, sub, burst, &l);
    snprintf(sub, sizeof sub, "%s.reply", option);
    ok = ok && finish_reply(r, reply, sub, &l);
    l.stage = decision_stage(&l);
    if (ok && l.count == RL_CONNECTIONS && l.stage > STAGE_HELO) {
        cfg_error(r, g, option, "connections are counted at connect: use client_ip, "
            "client_subnet or helo in the key (or count messages)");
        ok = false;
    }
    if (!ok) {
        limit_free(&l);
        return;
    }
    make_symbol(&l);
    struct ratelimit_policy *p = r->cfg->ratelimit;
    for (size_t i = 0; i < p->limit_count; i++) {
        if (strcmp(p->limits[i].name, l.name) == 0) {   /* a later file replaces it */
            limit_free(&p->limits[i]);
            p->limits[i] = l;
            return;
        }
    }
    p->limits = xrealloc(p->limits, (p->limit_count + 1) * sizeof *p->limits);
    p->limits[p->limit_count++] = l;
}

static void ratelimit_apply(struct cfg_reader *r, const config_setting_t *section)
{
    if (config_setting_type(section) != CONFIG_TYPE_GROUP) {
        cfg_error(r, section, "ratelimit", "must be a section: ratelimit: { limits = ( ... ) }");
        return;
    }
    static const char *const names[] = {"store", "limits", "mode", NULL};
    for (int i = 0; i < config_setting_length(section); i++) {
        const config_setting_t *s = config_setting_get_elem(section, (unsigned)i);
        const char *name = config_setting_name(s);
        if (strcmp(name, "store") == 0 && config_setting_type(s) == CONFIG_TYPE_GROUP) {
            /* the old spelling, from before the store section */
            cfg_notice(r, s, "ratelimit.store", "the old spelling, still accepted: it sets the "
                "store named \"" STORE_DEFAULT_NAME "\"; write store: { " STORE_DEFAULT_NAME
                ": { ... } } and ratelimit: { store = \"" STORE_DEFAULT_NAME "\" } instead");
            store_config_apply_settings(r, s, STORE_DEFAULT_NAME, "ratelimit.store");
            store_use_read(r, NULL, "ratelimit.store", &r->cfg->ratelimit->store_use,
                STORE_DEFAULT_NAME);
        } else if (strcmp(name, "store") == 0 && config_setting_type(s) == CONFIG_TYPE_STRING) {
            store_use_read(r, s, "ratelimit.store", &r->cfg->ratelimit->store_use, NULL);
        } else if (strcmp(name, "limits") == 0 && (config_setting_type(s) == CONFIG_TYPE_LIST
            || config_setting_type(s) == CONFIG_TYPE_GROUP)) {
            if (config_setting_type(s) == CONFIG_TYPE_GROUP)
                apply_limit(r, s, 0);
            for (int k = 0; config_setting_type(s) == CONFIG_TYPE_LIST
                && k < config_setting_length(s); k++)
                apply_limit(r, config_setting_get_elem(s, (unsigned)k), k);
        } else if (strcmp(name, "mode") == 0) {
            cfg_read_check_mode(r, s, "ratelimit.mode", &r->cfg->ratelimit->shadow);
        } else if (strcmp(name, "store") == 0 || strcmp(name, "limits") == 0) {
            cfg_error(r, s, name, "store is the name of a store (store = \"default\"), limits a "
                "list ( { ... }, { ... } )");
        } else {
            const char *hint = cfg_suggest(name, names);
            cfg_error(r, s, name, "unknown option in ratelimit%s%s (use store, limits, mode)",
                hint ? "; did you mean " : "", hint ? hint : "");
        }
    }
}

static void ratelimit_finish(struct config *cfg, struct config_errors *errs)
{
    struct ratelimit_policy *p = cfg->ratelimit;
    p->store = store_use_open(cfg, &p->store_use, "ratelimit.store", errs);
}

/* RATELIMIT_<NAME> of each limit. */
static bool ratelimit_emits(const struct config *cfg, const char *symbol)
{
    for (size_t i = 0; i < cfg->ratelimit->limit_count; i++) {
        if (strcmp(cfg->ratelimit->limits[i].symbol, symbol) == 0)
            return true;
    }
    return false;
}

const struct config_module ratelimit_config_module = {
    .section = "ratelimit",
    .init = ratelimit_init,
    .apply = ratelimit_apply,
    .finish = ratelimit_finish,
    .emits = ratelimit_emits,
    .free = ratelimit_free,
};
