/* subnet.h - the network an address belongs to, as text, for store keys: rate limits count per
 * client network and greylisting keys its triplets on it. */
#ifndef MW_SUBNET_H
#define MW_SUBNET_H

#include <stddef.h>

#include "cidr.h"

/* "192.0.2.0/24", "2001:db8:1:2::/64": the network of addr with the prefix for its family. */
void subnet_format(const struct ipaddr *addr, unsigned ipv4_prefix, unsigned ipv6_prefix,
    char *buf, size_t size);

#endif
