/* cidr.c - parsing and matching of IPv4/IPv6 addresses and networks. IPv4-mapped IPv6
 * addresses are stored as plain IPv4, so every comparison sees one form. */
#include "cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool ipaddr_parse(const char *text, struct ipaddr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *p = text;
    if (strncasecmp(p, "IPv6:", 5) == 0)
        p += 5;
    size_t len = strlen(p);
    if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
        p++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, p, len);
    buf[len] = '\0';

    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = AF_INET;
        return true;
    }
    uint8_t v6[16];
    if (inet_pton(AF_INET6, buf, v6) != 1)
        return false;
    if (memcmp(v6, v4mapped_prefix, sizeof v4mapped_prefix) == 0) {
        out->family = AF_INET;
        memcpy(out->bytes, v6 + 12, 4);
    } else {
        out->family = AF_INET6;
        memcpy(out->bytes, v6, 16);
    }
    return true;
}

void ipaddr_format(const struct ipaddr *addr, char *buf, size_t size)
{
    if (inet_ntop(addr->family, addr->bytes, buf, (socklen_t)size) == NULL)
        strlcpy_mw(buf, "unknown", size);
}

static unsigned family_bits(int family)
{
    return family == AF_INET ? 32 : 128;
}

static bool host_bits_clear(const struct ipaddr *addr, unsigned prefix)
{
    unsigned bits = family_bits(addr->family);
    for (unsigned bit = prefix; bit < bits; bit++) {
        if (addr->bytes[bit / 8] & (0x80u >> (bit % 8)))
            return false;
    }
    return true;
}

bool cidr_parse(const char *text, struct cidr *out, const char **why)
{
    char buf[128];
    const char *slash = strchr(text, '/');
    size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
    if (addr_len == 0 || addr_len >= sizeof buf) {
        *why = "not an IP address or network";
        return false;
    }
    memcpy(buf, text, addr_len);
    buf[addr_len] = '\0';
    if (!ipaddr_parse(buf, &out->addr)) {
        *why = "not an IP address or network";
        return false;
    }
    bool mapped = out->addr.family == AF_INET && strchr(buf, ':') != NULL;
    unsigned bits = family_bits(out->addr.family);
    out->prefix = bits;
    if (slash != NULL) {
        const char *p = slash + 1;
        if (!isdigit((unsigned char)*p) || strlen(p) > 3) {
            *why = "the prefix length after / must be a number";
            return false;
        }
        char *end;
        unsigned long prefix = strtoul(p, &end, 10);
        if (*end != '\0') {
            *why = "the prefix length after / must be a number";
            return false;
        }
        /* ::ffff:192.0.2.0/120 means 192.0.2.0/24 */
        if (mapped) {
            if (prefix < 96 || prefix > 128) {
                *why = "an IPv4-mapped network needs a prefix from 96 to 128";
                return false;
            }
            prefix -= 96;
        }
        if (prefix > bits) {
            *why = out->addr.family == AF_INET ? "an IPv4 prefix length is at most 32"
                                               : "an IPv6 prefix length is at most 128";
            return false;
        }
        out->prefix = (unsigned)prefix;
    }
    if (!host_bits_clear(&out->addr, out->prefix)) {
        *why = "address has bits set beyond the prefix length (write the network address)";
        return false;
    }
    return true;
}

bool cidr_contains(const struct cidr *net, const struct ipaddr *addr)
{
    if (net->addr.family != addr->family)
        return false;
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr.bytes, addr->bytes, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (net->addr.bytes[full] & mask) == (addr->bytes[full] & mask);
}

bool ipaddr_reverse_name(const struct ipaddr *addr, const char *zone, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    char name[80];                  /* 32 nibbles and dots: 64 */
    size_t n = 0;
    if (addr->family == AF_INET) {
        n = (size_t)snprintf(name, sizeof name, "%u.%u.%u.%u", addr->bytes[3], addr->bytes[2],
            addr->bytes[1], addr->bytes[0]);
    } else {
        for (int i = 15; i >= 0; i--) {
            name[n++] = hex[addr->bytes[i] & 0xF];
            name[n++] = '.';
            name[n++] = hex[addr->bytes[i] >> 4];
            name[n++] = '.';
        }
        name[--n] = '\0';
    }
    int len = zone != NULL ? snprintf(out, size, "%s.%s", name, zone)
                           : snprintf(out, size, "%s", name);
    if (len < 0 || (size_t)len >= size) {
        if (size > 0)
            out[0] = '\0';
        return false;
    }
    return true;
}

bool ipaddr_ptr_name(const struct ipaddr *addr, char *out, size_t size)
{
    return ipaddr_reverse_name(addr, addr->family == AF_INET ? "in-addr.arpa" : "ip6.arpa", out,
        size);
}

void cidr_list_add(struct cidr_list *list, const struct cidr *net)
{
    list->items = xrealloc(list->items, (list->count + 1) * sizeof *list->items);
    list->items[list->count++] = *net;
}

bool cidr_list_contains(const struct cidr_list *list, const struct ipaddr *addr)
{
    for (size_t i = 0; i < list->count; i++) {
        if (cidr_contains(&list->items[i], addr))
            return true;
    }
    return false;
}

void cidr_list_free(struct cidr_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}
