/* cidr.h - IPv4 and IPv6 addresses and CIDR networks. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are treated as the IPv4 address they carry, so a /8 matches both forms. */
#ifndef MW_CIDR_H
#define MW_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipaddr {
    int family;              /* AF_INET or AF_INET6 */
    uint8_t bytes[16];       /* network order; 4 bytes used for AF_INET */
};

struct cidr {
    struct ipaddr addr;      /* host bits cleared */
    unsigned prefix;         /* 0..32 or 0..128 */
};

struct cidr_list {
    struct cidr *items;
    size_t count;
};

/* "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "[2001:db8::1]", "IPv6:2001:db8::1". */
bool ipaddr_parse(const char *text, struct ipaddr *out);
void ipaddr_format(const struct ipaddr *addr, char *buf, size_t size);
/* "192.0.2.0/24", "2001:db8::/32", or a bare address (a host route). An address with host
 * bits set beyond the prefix is rejected: "10.1.2.3/8" is almost always a typo. */
bool cidr_parse(const char *text, struct cidr *out, const char **why);
bool cidr_contains(const struct cidr *net, const struct ipaddr *addr);

/* The reversed form of an address for DNS (RFC 1035 3.5, RFC 3596 2.5): "1.2.0.192" or 32
 * nibbles "b.a.9.8...", followed by ".ZONE" when ZONE is not NULL ("in-addr.arpa" or
 * "ip6.arpa" for a PTR name, a DNS list's zone). False, with OUT empty, when it does not fit. */
bool ipaddr_reverse_name(const struct ipaddr *addr, const char *zone, char *out, size_t size);
/* The PTR name: ipaddr_reverse_name with in-addr.arpa or ip6.arpa. */
bool ipaddr_ptr_name(const struct ipaddr *addr, char *out, size_t size);

void cidr_list_add(struct cidr_list *list, const struct cidr *net);
bool cidr_list_contains(const struct cidr_list *list, const struct ipaddr *addr);
void cidr_list_free(struct cidr_list *list);

#endif
