/* bayes_relays.c - the relay metadata Bayes tokenizes (bayes_relays.h), from rules_relays.h
 * with the same trust decisions as check_rules.c: networks.internal / networks.trusted when
 * set beyond loopback, else SpamAssassin's inference from the Received lines. */
#include <sys/socket.h>
#include <string.h>

#include "bayes_relays.h"
#include "check.h"
#include "config.h"
#include "rdns_result.h"
#include "rules.h"
#include "rules_relays.h"

static bool in_networks(const struct cidr_list *list, const char *ip)
{
    struct ipaddr addr;
    return list->count > 0 && ipaddr_parse(ip, &addr) && cidr_list_contains(list, &addr);
}

/* Whether a list names networks beyond loopback (the defaults hold 127.0.0.0/8 and ::1). */
static bool beyond_loopback(const struct cidr_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct cidr *c = &list->items[i];
        bool v4_loopback = c->addr.family == AF_INET && c->prefix >= 8 && c->addr.bytes[0] == 127;
        bool v6_loopback = c->addr.family == AF_INET6 && c->prefix == 128
            && memcmp(c->addr.bytes, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
        if (!v4_loopback && !v6_loopback)
            return true;
    }
    return false;
}

/* As SpamAssassin's internal_networks: networks.trusted stands in when only it is set. */
static bool ip_internal(const char *ip, void *arg)
{
    const struct config *cfg = arg;
    if (!beyond_loopback(&cfg->networks.internal))
        return in_networks(&cfg->networks.trusted, ip);
    return in_networks(&cfg->networks.internal, ip);
}

static bool ip_trusted(const char *ip, void *arg)
{
    const struct config *cfg = arg;
    return in_networks(&cfg->networks.internal, ip) || in_networks(&cfg->networks.trusted, ip);
}

static void set_networks(const struct config *cfg, struct rules_envelope *env)
{
    if (!beyond_loopback(&cfg->networks.internal) && !beyond_loopback(&cfg->networks.trusted))
        return;                /* unset: SpamAssassin infers trust from the Received lines */
    env->ip_internal = ip_internal;
    env->ip_trusted = ip_trusted;
    env->networks_arg = (void *)cfg;
}

static void build(const struct header_field *headers, size_t header_count,
    const struct rules_envelope *env, struct bayes_relay_info *out)
{
    struct rules_message msg = { .headers = headers, .header_count = header_count,
        .envelope = env };
    out->relays = rules_relays_build(&msg);
    out->meta = (struct bayes_relays){
        .trusted = out->relays->pseudo_trusted, .untrusted = out->relays->pseudo_untrusted,
        .internal = out->relays->pseudo_internal, .external = out->relays->pseudo_external,
    };
}

void bayes_relays_of_txn(struct txn *t, struct bayes_relay_info *out)
{
    struct rules_envelope env = {
        .client_ip = t->have_client_addr ? t->client_ip : NULL,
        .client_rdns = rdns_confirmed_name(t),
        .helo = t->helo,
        .sasl_user = t->sasl_user,
        .client_internal = (t->client_flags & CLIENT_INTERNAL) != 0,
        .client_trusted = (t->client_flags & (CLIENT_INTERNAL | CLIENT_TRUSTED)) != 0,
    };
    set_networks(t->cfg, &env);
    build(t->headers, t->header_count, &env, out);
}

void bayes_relays_of_headers(const struct config *cfg, const struct header_field *headers,
    size_t header_count, struct bayes_relay_info *out)
{
    struct rules_envelope env = { 0 };
    set_networks(cfg, &env);
    build(headers, header_count, &env, out);
}

void bayes_relays_free(struct bayes_relay_info *info)
{
    rules_relays_free(info->relays);
    info->relays = NULL;
}
