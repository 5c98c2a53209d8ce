/* subnet.c - see subnet.h. */
#include "subnet.h"

#include <stdio.h>
#include <sys/socket.h>

void subnet_format(const struct ipaddr *addr, unsigned ipv4_prefix, unsigned ipv6_prefix,
    char *buf, size_t size)
{
    struct ipaddr net = *addr;
    unsigned prefix = net.family == AF_INET ? ipv4_prefix : ipv6_prefix;
    unsigned bytes = net.family == AF_INET ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;
        net.bytes[i] &= (uint8_t)(0xffu << (8 - keep));
    }
    char text[64];
    ipaddr_format(&net, text, sizeof text);
    snprintf(buf, size, "%s/%u", text, prefix);
}
