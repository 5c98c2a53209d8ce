/* relay_trust.c - SpamAssassin's trusted_networks and internal_networks from the policy's
 * networks.internal / networks.trusted (relay_trust.h). networks.internal holds 127.0.0.0/8
 * and ::1 by default, which SpamAssassin's trusted_networks always includes too: only lists
 * that name more count as set. Internal as SpamAssassin's internal_networks: networks.trusted
 * stands in when only it is set. */
#include "relay_trust.h"

#include <string.h>
#include <sys/socket.h>

#include "cidr.h"

static bool in_networks(const struct cidr_list *list, const char *ip)
{
    struct ipaddr addr;
    return list->count > 0 && ipaddr_parse(ip, &addr) && cidr_list_contains(list, &addr);
}

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

void relay_trust_set(const struct config *cfg, struct rules_envelope *env)
{
    if (!beyond_loopback(&cfg->networks.internal) && !beyond_loopback(&cfg->networks.trusted))
        return;
    env->ip_internal = ip_internal;
    env->ip_trusted = ip_trusted;
    env->networks_arg = (void *)cfg;
}
