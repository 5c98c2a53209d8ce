/* dnslist_ip.c - DNSBL and DNSWL on the client's address, at connect: IPv4 as reversed octets
 * (192.0.2.1 -> 1.2.0.192.zone), IPv6 as reversed nibbles (RFC 5782), the latter only for
 * zones with ipv6 = true. A negative score makes a list an allow list. */
#include "dnslist.h"

#include <sys/socket.h>
#include <stdio.h>

#include "txn.h"

static void reverse_name(const struct ipaddr *a, char *out, size_t size)
{
    if (a->family == AF_INET) {
        snprintf(out, size, "%u.%u.%u.%u", a->bytes[3], a->bytes[2], a->bytes[1], a->bytes[0]);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (int i = 15; i >= 0 && n + 4 < size; i--) {
        out[n++] = hex[a->bytes[i] & 0xF];
        out[n++] = '.';
        out[n++] = hex[a->bytes[i] >> 4];
        out[n++] = '.';
    }
    out[n > 0 ? n - 1 : 0] = '\0';
}

static bool applies(const struct txn *t, const struct dnslist_zone *z)
{
    return t->have_client_addr && (t->client_addr.family != AF_INET6 || z->ipv6);
}

static void prefetch(struct txn *t, const struct dnslist_zone *z)
{
    if (!applies(t, z))
        return;
    char name[80];
    reverse_name(&t->client_addr, name, sizeof name);
    dnslist_start(t, z, name);
}

static void run(struct txn *t, const struct dnslist_zone *z)
{
    if (!applies(t, z))
        return;
    char name[80];
    reverse_name(&t->client_addr, name, sizeof name);
    dnslist_lookup(t, z, name);
}

const struct dnslist_backend dnslist_ip = {
    .name = "ip",
    .kind = DNSLIST_IP,
    .stage = STAGE_CONNECT,
    .run = run,
    .prefetch = prefetch,
};
