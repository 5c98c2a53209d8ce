/* metrics_config.h - the `metrics` section of the policy files: whether the Prometheus
 * listener runs, where, and which networks may scrape it. */
#ifndef MW_METRICS_CONFIG_H
#define MW_METRICS_CONFIG_H

#include <stdbool.h>

#include "cidr.h"

#define METRICS_DEFAULT_LISTEN "127.0.0.1:9466"

struct metrics_policy {
    bool enabled;               /* a `metrics` section turns it on; enabled = false off */
    char *listen;               /* "HOST:PORT" or "[V6]:PORT" */
    struct ipaddr listen_addr;  /* parsed from listen */
    unsigned listen_port;
    struct cidr_list allow;     /* clients that may scrape; default loopback */
};

/* "127.0.0.1:9466", "[::1]:9466" -> address and port. A port below 1024 is refused: the
 * listener starts after root is dropped. False with *why set on a bad value. */
bool metrics_parse_listen(const char *text, struct ipaddr *addr, unsigned *port,
    const char **why);

#endif
