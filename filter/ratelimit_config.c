/* ratelimit_config.c - the `ratelimit` section of the policy:
 *   ratelimit: {
 *     store: { backend = "memory"; max_keys = 1000000; fail_mode = "tempfail"; host = ...; }
 *     limits = ( { name = "per-user"; key = [ "sasl_user" ]; count = "messages";
 *                  rate = "100/1h"; burst = 20; action = "tempfail"; reply = "..."; } )
 *   }
 * Every error names file, line, option and the fix. The store itself is opened in finish():
 * it is process-lifetime (store.h), so a reload keeps the counters of the limits that stay. */
#include "ratelimit.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "log.h"
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

/* Store options: strings for the enums, checked after cfg_apply_options. */
struct store_raw {
    char *backend;
    char *fail_mode;
    unsigned max_keys;
    char *host;
    int port;
    char *socket;
    char *password;
    int db;
    char *prefix;
    char *sentinels;
    char *master_name;
    uint64_t connect_timeout_ms;
    uint64_t timeout_ms;
    uint64_t retry_interval_ms;
    unsigned pool;
};

#define SOPT(f) offsetof(struct store_raw, f)
static const struct option_spec store_specs[] = {
    {"backend", OPT_STRING, SOPT(backend), 0, 0},
    {"fail_mode", OPT_STRING, SOPT(fail_mode), 0, 0},
    {"max_keys", OPT_UINT, SOPT(max_keys), 1000, 1e9},
    {"host", OPT_HOSTNAME, SOPT(host), 0, 0},
    {"port", OPT_INT, SOPT(port), 1, 65535},
    {"socket", OPT_STRING, SOPT(socket), 0, 0},
    {"password", OPT_STRING, SOPT(password), 0, 0},
    {"db", OPT_INT, SOPT(db), 0, 1000},
    {"prefix", OPT_STRING, SOPT(prefix), 0, 0},
    {"sentinels", OPT_STRING, SOPT(sentinels), 0, 0},
    {"master_name", OPT_STRING, SOPT(master_name), 0, 0},
    {"connect_timeout", OPT_DURATION_MS, SOPT(connect_timeout_ms), 1, 60000},
    {"timeout", OPT_DURATION_MS, SOPT(timeout_ms), 1, 60000},
    {"retry_interval", OPT_DURATION_MS, SOPT(retry_interval_ms), 0, 3600000},
    {"pool", OPT_UINT, SOPT(pool), 1, 256},
    {NULL, 0, 0, 0, 0},
};

static void ratelimit_init(struct config *cfg)
{
    struct ratelimit_policy *p = xcalloc(1, sizeof *p);
    struct store_settings *s = &p->store_settings;
    s->backend = STORE_MEMORY;
    s->max_keys = 1000000;
    s->fail_mode = STORE_FAIL_TEMPFAIL;
    s->redis_host = xstrdup("127.0.0.1");
    s->redis_port = 6379;
    s->redis_prefix = xstrdup("mw:");
    s->connect_timeout_ms = 200;
    s->command_timeout_ms = 200;
    s->retry_interval_ms = 1000;
    s->pool_size = 4;
    cfg->ratelimit = p;
}

static void limit_free(struct rl_limit *l)
{
    free(l->name);
    free(l->symbol);
    cidr_list_free(&l->exempt_networks);
    cfg_free_strings(l->exempt_sasl_users, l->exempt_sasl_user_count);
    cfg_free_strings(l->exempt_senders, l->exempt_sender_count);
    cfg_free_strings(l->exempt_recipients, l->exempt_recipient_count);
}

static void ratelimit_free(struct config *cfg)
{
    struct ratelimit_policy *p = cfg->ratelimit;
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->limit_count; i++)
        limit_free(&p->limits[i]);
    free(p->limits);
    store_settings_free(&p->store_settings);   /* the store itself lives on (store.h) */
    free(p);
    cfg->ratelimit = NULL;
}

static void take_string(char **dst, char *src)
{
    if (src == NULL)
        return;
    free(*dst);
    *dst = src;
}

/* "host:port,host:port" */
static bool sentinels_valid(const char *text)
{
    char *copy = xstrdup(text);
    bool ok = true;
    int count = 0;
    for (char *save = NULL, *item = strtok_r(copy, ", ", &save); item != NULL;
         item = strtok_r(NULL, ", ", &save)) {
        const char *colon = strrchr(item, ':');
        char *stop;
        long port = colon ? strtol(colon + 1, &stop, 10) : 0;
        ok &= colon != NULL && colon != item && colon[1] != '\0' && *stop == '\0' && port > 0
            && port <= 65535;
        count++;
    }
    free(copy);
    return ok && count > 0;
}

static void apply_store(struct cfg_reader *r, const config_setting_t *g)
{
    struct store_settings *s = &r->cfg->ratelimit->store_settings;
    struct store_raw raw = {
        .max_keys = (unsigned)s->max_keys, .port = s->redis_port, .db = s->redis_db,
        .connect_timeout_ms = s->connect_timeout_ms, .timeout_ms = s->command_timeout_ms,
        .retry_interval_ms = s->retry_interval_ms, .pool = s->pool_size,
    };
    cfg_apply_options(r, g, "ratelimit.store", store_specs, &raw);
    if (raw.backend != NULL) {
        if (strcmp(raw.backend, "memory") == 0)
            s->backend = STORE_MEMORY;
        else if (strcmp(raw.backend, "redis") == 0)
            s->backend = STORE_REDIS;
        else
            cfg_error(r, config_setting_get_member(g, "backend"), "ratelimit.store.backend",
                "\"%s\": use \"memory\" (this server only) or \"redis\" (shared)", raw.backend);
    }
    if (raw.fail_mode != NULL) {
        if (strcmp(raw.fail_mode, "tempfail") == 0)
            s->fail_mode = STORE_FAIL_TEMPFAIL;
        else if (strcmp(raw.fail_mode, "memory") == 0)
            s->fail_mode = STORE_FAIL_MEMORY;
        else
            cfg_error(r, config_setting_get_member(g, "fail_mode"), "ratelimit.store.fail_mode",
                "\"%s\": use \"tempfail\" or \"memory\" (decide with this server's own store)",
                raw.fail_mode);
    }
    if (raw.sentinels != NULL && !sentinels_valid(raw.sentinels))
        cfg_error(r, config_setting_get_member(g, "sentinels"), "ratelimit.store.sentinels",
            "\"%s\": write HOST:PORT of each sentinel, separated by commas, as "
            "\"10.0.0.1:26379,10.0.0.2:26379\"", raw.sentinels);
    free(raw.backend);
    free(raw.fail_mode);
    s->max_keys = raw.max_keys;
    s->redis_port = raw.port;
    s->redis_db = raw.db;
    s->connect_timeout_ms = raw.connect_timeout_ms;
    s->command_timeout_ms = raw.timeout_ms;
    s->retry_interval_ms = raw.retry_interval_ms;
    s->pool_size = raw.pool;
    take_string(&s->redis_host, raw.host);
    take_string(&s->redis_socket, raw.socket);
    take_string(&s->redis_password, raw.password);
    take_string(&s->redis_prefix, raw.prefix);
    take_string(&s->sentinels, raw.sentinels);
    take_string(&s->sentinel_master, raw.master_name);
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

static bool read_lower_strings(struct cfg_reader *r, const config_setting_t *s, const char *option,
    char ***out, size_t *count)
{
    cfg_free_strings(*out, *count);
    *out = NULL;
    *count = 0;
    if (!cfg_read_strings(r, s, option, out, count))
        return false;
    for (size_t i = 0; i < *count; i++)
        str_lower((*out)[i]);
    return true;
}

static bool read_networks(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct cidr_list *out)
{
    char **items;
    size_t count;
    if (!cfg_read_strings(r, s, option, &items, &count))
        return false;
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        struct cidr net;
        const char *why;
        if (cidr_parse(items[i], &net, &why)) {
            cidr_list_add(out, &net);
        } else {
            cfg_error(r, s, option, "\"%s\": %s", items[i], why);
            ok = false;
        }
    }
    cfg_free_strings(items, count);
    return ok;
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
        log_notice("%s:%d: %s: dry_run is now written mode = \"%s\"", r->file,
            config_setting_source_line(s), sub, l->shadow ? "shadow" : "enforce");
        return true;
    }
    if (strcmp(name, "scope") == 0)
        return read_scope(r, s, sub, &l->scope);
    if (strcmp(name, "ipv4_prefix") == 0)
        return read_prefix(r, s, sub, 32, &l->ipv4_prefix);
    if (strcmp(name, "ipv6_prefix") == 0)
        return read_prefix(r, s, sub, 128, &l->ipv6_prefix);
    if (strcmp(name, "exempt_networks") == 0)
        return read_networks(r, s, sub, &l->exempt_networks);
    if (strcmp(name, "exempt_sasl_users") == 0)
        return read_lower_strings(r, s, sub, &l->exempt_sasl_users, &l->exempt_sasl_user_count);
    if (strcmp(name, "exempt_senders") == 0)
        return read_lower_strings(r, s, sub, &l->exempt_senders, &l->exempt_sender_count);
    if (strcmp(name, "exempt_recipients") == 0)
        return read_lower_strings(r, s, sub, &l->exempt_recipients, &l->exempt_recipient_count);
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
            apply_store(r, s);
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
            cfg_error(r, s, name, "store is a section { }, limits a list ( { ... }, { ... } )");
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
    char why[256];
    p->store = store_open(&p->store_settings, why, sizeof why);
    if (p->store == NULL)
        config_errors_add(errs, cfg->main_file, 0, "ratelimit.store", "%s: set host and port, "
            "socket, or sentinels and master_name", why);
}

const struct config_module ratelimit_module = {
    .section = "ratelimit",
    .init = ratelimit_init,
    .apply = ratelimit_apply,
    .finish = ratelimit_finish,
    .free = ratelimit_free,
};
