/* dnslist_ip.c - DNSBL and DNSWL on the client's address, at connect: IPv4 as reversed octets
 * (192.0.2.1 -> 1.2.0.192.zone), IPv6 as reversed nibbles (RFC 5782), the latter only for
 * zones with ipv6 = true. A negative score makes a list an allow list. */
#include "dnslist.h"

#include <sys/socket.h>
#include <stdio.h>

#include "txn.h"

static bool applies(const struct txn *t, const struct dnslist_zone *z)
{
    return t->have_client_addr && (t->client_addr.family != AF_INET6 || z->ipv6);
}

static void prefetch(struct txn *t, const struct dnslist_zone *z)
{
    if (!applies(t, z))
        return;
    char name[80];
    ipaddr_reverse_name(&t->client_addr, NULL, name, sizeof name);
    dnslist_start(t, z, name);
}

static void run(struct txn *t, const struct dnslist_zone *z)
{
    if (!applies(t, z))
        return;
    char name[80];
    ipaddr_reverse_name(&t->client_addr, NULL, name, sizeof name);
    dnslist_lookup(t, z, name);
}

const struct dnslist_backend dnslist_ip = {
    .name = "ip",
    .kind = DNSLIST_IP,
    .stage = STAGE_CONNECT,
    .run = run,
    .prefetch = prefetch,
};
