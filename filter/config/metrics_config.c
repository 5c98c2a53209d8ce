/* metrics_config.c - the `metrics` section (config_module.h). Promises: every policy has
 * cfg->metrics; the listener is off unless a file has a `metrics` section (without
 * `enabled = false`); when on it listens on 127.0.0.1:9466 and serves loopback clients only,
 * unless `listen` and `allow` say otherwise; a bad address or a port below 1024 is an error
 * naming file, line and option. */
#include <stddef.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "metrics_config.h"
#include "util.h"

#define METRICS_OPT(field) offsetof(struct metrics_policy, field)

static const struct option_spec metrics_options[] = {
    {"enabled", OPT_BOOL, METRICS_OPT(enabled), 0, 0},
    {"listen", OPT_STRING, METRICS_OPT(listen), 0, 0},
    {"allow", OPT_CIDRS, METRICS_OPT(allow), 0, 0},
    {NULL, 0, 0, 0, 0},
};

bool metrics_parse_listen(const char *text, struct ipaddr *addr, unsigned *port,
    const char **why)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text) {
        *why = "not HOST:PORT, as \"127.0.0.1:9466\" or \"[::1]:9466\"";
        return false;
    }
    char *host = xstrndup(text, (size_t)(colon - text));
    bool bracketed = host[0] == '[' && host[strlen(host) - 1] == ']';
    bool ok = ipaddr_parse(host, addr) && (bracketed || addr->family == AF_INET);
    free(host);
    if (!ok) {
        *why = "the host is not an IP address (an IPv6 address goes in brackets: \"[::1]:9466\")";
        return false;
    }
    char *end;
    unsigned long n = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || n == 0 || n > 65535) {
        *why = "the port is not a number from 1024 to 65535";
        return false;
    }
    if (n < 1024) {
        *why = "ports below 1024 need root, and the listener starts after root is dropped: "
               "use a port from 1024 up (9466 is the registered one)";
        return false;
    }
    *port = (unsigned)n;
    return true;
}

static void add_default_allow(struct cidr_list *allow)
{
    const char *nets[] = { "127.0.0.0/8", "::1" };
    for (size_t i = 0; i < 2; i++) {
        struct cidr net;
        const char *why;
        if (cidr_parse(nets[i], &net, &why))
            cidr_list_add(allow, &net);
    }
}

static void metrics_init(struct config *cfg)
{
    struct metrics_policy *p = xcalloc(1, sizeof *p);
    p->listen = xstrdup(METRICS_DEFAULT_LISTEN);
    const char *why;
    metrics_parse_listen(p->listen, &p->listen_addr, &p->listen_port, &why);
    add_default_allow(&p->allow);
    cfg->metrics = p;
}

static void metrics_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct metrics_policy *p = r->cfg->metrics;
    p->enabled = true;                   /* writing the section turns the listener on */
    cfg_apply_options(r, section, "metrics", metrics_options, p);
    const config_setting_t *listen = config_setting_get_member(section, "listen");
    const char *why;
    if (listen != NULL && p->listen != NULL
        && !metrics_parse_listen(p->listen, &p->listen_addr, &p->listen_port, &why))
        cfg_error(r, listen, "metrics.listen", "\"%s\": %s", p->listen, why);
}

static void metrics_free(struct config *cfg)
{
    struct metrics_policy *p = cfg->metrics;
    if (p == NULL)
        return;
    free(p->listen);
    cidr_list_free(&p->allow);
    free(p);
    cfg->metrics = NULL;
}

const struct config_module metrics_config_module = {
    .section = "metrics",
    .init = metrics_init,
    .apply = metrics_apply,
    .finish = NULL,
    .free = metrics_free,
};
