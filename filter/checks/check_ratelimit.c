/* check_ratelimit.c - applies the named limits of the `ratelimit` section. Each limit decides
 * at the earliest stage its key and its quantity are known (connect, helo, mail, each rcpt,
 * end of message for bytes); the limits of a stage are tried in policy order and the first
 * one exceeded decides (tempfail, reject, or its symbol and score only). dry_run limits log
 * "would have limited" and count, without acting. A refusal names the limit, never the key.
 *
 * CHECK_EVEN_WHEN_ALLOWED: a transaction an allow list accepted still consumes its share of
 * every limit it falls under, because a limit measures real traffic (a per-recipient-domain
 * limit protects the destination from all of our mail, allowed or not) - but it is never
 * refused for it: an admin's allow list means "do not refuse"; it is logged as "would have
 * limited" instead. */
#include <inttypes.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "pattern.h"
#include "ratelimit.h"
#include "subnet.h"
#include "stats.h"
#include "util.h"

#define MAX_PART_LEN 320

/* Every recipient of the message is exempt (for a limit decided at the end of the message
 * on a key without a recipient). */
static bool all_recipients_exempt(const struct rl_limit *l, const struct txn *t)
{
    if (t->rcpt_count == 0 || l->exempt_recipients.count == 0)
        return false;
    for (size_t i = 0; i < t->rcpt_count; i++) {
        if (!pattern_match_address(&l->exempt_recipients, t->rcpts[i]))
            return false;
    }
    return true;
}

/* rcpt is the recipient the decision is about (NULL before RCPT, and at the end of the
 * message for a key without a recipient: then every recipient must be exempt). */
static bool exempt(const struct rl_limit *l, const struct txn *t, const char *rcpt)
{
    if (rcpt == NULL && l->stage == STAGE_EOM && all_recipients_exempt(l, t))
        return true;
    if (t->have_client_addr && pattern_match_ip(&l->exempt_networks, &t->client_addr))
        return true;
    if (pattern_match_sasl_user(&l->exempt_sasl_users, t->sasl_user))
        return true;
    if (pattern_match_address(&l->exempt_senders, t->sender))
        return true;
    return pattern_match_address(&l->exempt_recipients, rcpt);
}

static void put_part(struct textbuf *key, const char *value)
{
    char part[MAX_PART_LEN + 1];
    strlcpy_mw(part, value, sizeof part);
    str_lower(part);
    textbuf_puts(key, "|");
    textbuf_puts(key, part);
}

/* The store key "rl:NAME|part|part"; false when a part is unknown here (the limit does not
 * apply: no SASL user, the null sender's domain, ...). */
static bool build_key(const struct rl_limit *l, const struct txn *t, const char *rcpt,
    struct textbuf *key)
{
    textbuf_printf(key, "rl:%s", l->name);
    for (size_t i = 0; i < l->part_count; i++) {
        const char *value = NULL;
        switch (l->parts[i]) {
        case RL_CLIENT_IP:
            value = t->have_client_addr ? t->client_ip : NULL;
            break;
        case RL_CLIENT_SUBNET:
            if (!t->have_client_addr)
                return false;
            char subnet[80];
            subnet_format(&t->client_addr, l->ipv4_prefix, l->ipv6_prefix, subnet,
                sizeof subnet);
            textbuf_printf(key, "|%s", subnet);
            continue;
        case RL_HELO: value = t->helo; break;
        case RL_SENDER: value = t->sender == NULL ? NULL : t->sender[0] ? t->sender : "<>"; break;
        case RL_SENDER_DOMAIN: value = t->sender ? addr_domain(t->sender) : NULL; break;
        case RL_SASL_USER: value = t->sasl_user; break;
        case RL_RECIPIENT: value = rcpt; break;
        case RL_RECIPIENT_DOMAIN: value = rcpt ? addr_domain(rcpt) : NULL; break;
        }
        if (value == NULL || value[0] == '\0')
            return false;
        put_part(key, value);
    }
    return true;
}

static bool key_has_recipient(const struct rl_limit *l)
{
    for (size_t i = 0; i < l->part_count; i++) {
        if (l->parts[i] == RL_RECIPIENT || l->parts[i] == RL_RECIPIENT_DOMAIN)
            return true;
    }
    return false;
}

static int64_t cost_of(const struct rl_limit *l, const struct txn *t)
{
    if (l->count != RL_BYTES)
        return 1;
    uint64_t bytes = txn_message_size(t);
    return bytes == 0 ? 1 : bytes > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)bytes;
}

static struct store *store_of(const struct ratelimit_policy *p)
{
    return p->store != NULL ? p->store : store_memory_shared(STORE_DEFAULT_MAX_KEYS);
}

/* One decision on one key; true when it decided (the stage's other limits are not tried). */
static bool decide_one(struct txn *t, struct rl_limit *l, const char *rcpt)
{
    if (exempt(l, t, rcpt))
        return false;
    struct textbuf key;
    textbuf_init(&key);
    if (!build_key(l, t, rcpt, &key)) {
        textbuf_free(&key);
        return false;
    }
    const char *qid = t->queue_id ? t->queue_id : "NOQUEUE";
    struct gcra_result res;
    enum store_status status = store_gcra(store_of(t->cfg->ratelimit), key.data, &l->gcra,
        cost_of(l, t), store_now_us(), &res, NULL);
    bool decided = false;
    if (status == STORE_DOWN)
        stats_ratelimit(STATS_RATELIMIT_STORE_DOWN);
    else if (res.allowed)
        stats_ratelimit(STATS_RATELIMIT_ALLOWED);
    else
        stats_ratelimit(l->shadow || t->shadow_now || t->allowed
            ? STATS_RATELIMIT_WOULD_LIMIT : STATS_RATELIMIT_LIMITED);
    if (status == STORE_DOWN) {
        /* the fail mode "tempfail": only for limits that could have refused */
        if (!l->shadow && !t->shadow_now && !t->allowed && l->action != ACTION_NONE) {
            struct reply reply;
            const char *why;
            reply_parse("451 4.3.0 Rate limiting is unavailable, try again later", &reply, &why);
            txn_add_result(t, "RATELIMIT_STORE_DOWN", 0, ACTION_TEMPFAIL, &reply);
            decided = true;
        }
    } else if (!res.allowed) {
        long long retry_s = (long long)((res.retry_after_us + 999999) / 1000000);
        bool shadow = l->shadow || t->shadow_now;
        if (shadow || t->allowed) {
            __atomic_add_fetch(&l->dry_run_hits, 1, __ATOMIC_RELAXED);
            log_info("%s: ratelimit %s would have limited %s (%s; retry in %llds)", qid, l->name,
                key.data, shadow ? "shadow" : "allow-listed", retry_s);
            if (shadow && !t->allowed) {
                /* the symbol is logged as shadow; the engine never acts on it */
                bool was = t->shadow_now;
                t->shadow_now = true;
                txn_add_result(t, l->symbol, l->score, l->action, &l->reply);
                t->shadow_now = was;
            }
        } else {
            log_info("%s: ratelimit %s exceeded by %s (retry in %llds)", qid, l->name, key.data,
                retry_s);
            txn_add_result(t, l->symbol, l->score, l->action, &l->reply);
            decided = l->action != ACTION_NONE;
        }
    }
    textbuf_free(&key);
    return decided;
}

static void ratelimit_run(struct txn *t, enum stage stage)
{
    struct ratelimit_policy *p = t->cfg->ratelimit;
    if (p == NULL)
        return;
    unsigned direction = txn_is_outbound(t) ? RL_SCOPE_OUTBOUND : RL_SCOPE_INBOUND;
    for (size_t i = 0; i < p->limit_count; i++) {
        struct rl_limit *l = &p->limits[i];
        if (l->stage != (int)stage || !(l->scope & direction))
            continue;
        if (!key_has_recipient(l) || stage == STAGE_RCPT) {
            const char *rcpt = stage == STAGE_RCPT && t->rcpt_count > 0
                ? t->rcpts[t->rcpt_count - 1] : NULL;
            if (decide_one(t, l, rcpt))
                return;
            continue;
        }
        for (size_t r = 0; r < t->rcpt_count; r++) {    /* bytes per recipient, at EOM */
            if (decide_one(t, l, t->rcpts[r]))
                return;
        }
    }
}

/* A limit of this stage with an action refuses, or tempfails while its store is down. */
static bool ratelimit_may_refuse(const struct config *cfg, enum stage stage)
{
    const struct ratelimit_policy *p = cfg->ratelimit;
    if (p == NULL)
        return false;
    for (size_t i = 0; i < p->limit_count; i++) {
        if (p->limits[i].stage == (int)stage && p->limits[i].action != ACTION_NONE)
            return true;
    }
    return false;
}

static bool ratelimit_shadowed(const struct config *cfg)
{
    return cfg->ratelimit->shadow;
}

const struct check check_ratelimit = {
    .name = "ratelimit",
    .stages = STAGE_BIT(STAGE_CONNECT) | STAGE_BIT(STAGE_HELO) | STAGE_BIT(STAGE_MAIL)
        | STAGE_BIT(STAGE_RCPT) | STAGE_BIT(STAGE_EOM),
    .run = ratelimit_run,
    .flags = CHECK_EVEN_WHEN_ALLOWED,
    .shadowed = ratelimit_shadowed,
    .may_refuse = ratelimit_may_refuse,
};
