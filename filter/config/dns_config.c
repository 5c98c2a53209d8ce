/* dns_config.c - the `dns` section (struct config .dns) and the resolver it builds: finish()
 * prepares the resolver, config_start starts its threads in the process that serves the
 * policy, and the policy frees it. Checks reach it with config_resolver(cfg), so a transaction
 * holding its policy holds the resolver it runs on. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "dns.h"
#include "util.h"

#define OPT(field) offsetof(struct config, dns.field)
static const struct option_spec dns_options[] = {
    {"nameservers", OPT_OWN, 0, 0, 0},              /* read_nameservers */
    {"timeout", OPT_DURATION_MS, OPT(timeout_ms), 10, 120000},
    {"message_budget", OPT_DURATION_MS, OPT(message_budget_ms), 10, 120000},
    {"cache_size", OPT_SIZE, OPT(cache_size), 0, 1024.0 * 1024 * 1024},
    {"cache_max_ttl", OPT_INT, OPT(cache_max_ttl), 0, 604800},
    {"trust_anchor", OPT_READABLE, OPT(trust_anchor), 0, 0},
    {"use_hosts", OPT_BOOL, OPT(use_hosts), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static bool nameserver_valid(const char *text)
{
    char addr[128];
    const char *at = strchr(text, '@');
    size_t len = at ? (size_t)(at - text) : strlen(text);
    if (len == 0 || len >= sizeof addr)
        return false;
    memcpy(addr, text, len);
    addr[len] = '\0';
    struct ipaddr ip;
    if (!ipaddr_parse(addr, &ip))
        return false;
    if (at == NULL)
        return true;
    char *end;
    long port = strtol(at + 1, &end, 10);
    return *end == '\0' && at[1] != '\0' && port >= 1 && port <= 65535;
}

/* dns.nameservers = [ "127.0.0.1@5353", "::1" ]: replaced by each file that sets it. */
static void read_nameservers(struct cfg_reader *r, const config_setting_t *s)
{
    char **items;
    size_t count;
    if (!cfg_read_strings(r, s, "dns.nameservers", &items, &count))
        return;
    for (size_t i = 0; i < count; i++) {
        if (!nameserver_valid(items[i])) {
            cfg_error(r, s, "dns.nameservers",
                "\"%s\" is not ADDRESS or ADDRESS@PORT, as \"127.0.0.1@5353\"", items[i]);
            cfg_free_strings(items, count);
            return;
        }
    }
    cfg_free_strings(r->cfg->dns.nameservers, r->cfg->dns.nameserver_count);
    r->cfg->dns.nameservers = items;
    r->cfg->dns.nameserver_count = count;
}

static void dns_init(struct config *cfg)
{
    cfg->dns.timeout_ms = 5000;
    cfg->dns.message_budget_ms = 10000;
    cfg->dns.cache_size = 4 * 1024 * 1024;
    cfg->dns.cache_max_ttl = 86400;
    cfg->dns.use_hosts = true;
}

static void dns_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "dns", dns_options, r->cfg);
    const config_setting_t *nameservers = config_setting_type(section) == CONFIG_TYPE_GROUP
        ? config_setting_get_member(section, "nameservers") : NULL;
    if (nameservers != NULL)
        read_nameservers(r, nameservers);
}

/* dns.c's reasons start with "dns: ", which the option already says. */
static const char *without_prefix(const char *why)
{
    return strncmp(why, "dns: ", 5) == 0 ? why + 5 : why;
}

static void dns_config_finish(struct config *cfg, struct config_errors *errs)
{
    char why[256];
    cfg->dns.resolver = dns_resolver_prepare(cfg, why, sizeof why);
    if (cfg->dns.resolver == NULL)
        config_errors_add(errs, cfg->main_file, 0, "dns", "%s", without_prefix(why));
}

static bool dns_config_start(struct config *cfg, struct config_errors *errs)
{
    if (cfg->dns.resolver == NULL || cfg->dns.resolver_started)
        return true;
    char why[256];
    if (!dns_resolver_start(cfg->dns.resolver, why, sizeof why)) {
        config_errors_add(errs, cfg->main_file, 0, "dns", "%s", without_prefix(why));
        return false;
    }
    cfg->dns.resolver_started = true;
    return true;
}

static void dns_free(struct config *cfg)
{
    dns_resolver_free(cfg->dns.resolver);
    for (size_t i = 0; i < cfg->dns.retired_count; i++)
        dns_resolver_free(cfg->dns.retired_resolvers[i]);
    cfg_free_strings(cfg->dns.nameservers, cfg->dns.nameserver_count);
    free(cfg->dns.trust_anchor);
}

struct dns_resolver *config_resolver(const struct config *cfg)
{
    if (cfg == NULL || !cfg->dns.resolver_started)
        return NULL;
    /* config_resolver_replace may swap it while transactions run: an atomic read gets the old
     * resolver or the new one, and both live as long as cfg */
    return __atomic_load_n(&cfg->dns.resolver, __ATOMIC_ACQUIRE);
}

bool config_resolver_replace(struct config *cfg, char *why, size_t why_size)
{
    size_t room = sizeof cfg->dns.retired_resolvers / sizeof cfg->dns.retired_resolvers[0];
    if (!cfg->dns.resolver_started) {
        snprintf(why, why_size, "the policy's resolver is not running");
        return false;
    }
    if (cfg->dns.retired_count == room) {
        snprintf(why, why_size, "%zu flushes since the last reload: reload the policy first "
            "(it frees the old resolvers)", cfg->dns.retired_count);
        return false;
    }
    struct dns_resolver *fresh = dns_resolver_new(cfg, why, why_size);
    if (fresh == NULL)
        return false;
    struct dns_resolver *old = __atomic_exchange_n(&cfg->dns.resolver, fresh, __ATOMIC_ACQ_REL);
    cfg->dns.retired_resolvers[cfg->dns.retired_count++] = old;
    return true;
}

const struct config_module dns_config_module = {
    .section = "dns",
    .init = dns_init,
    .apply = dns_apply,
    .finish = dns_config_finish,
    .start = dns_config_start,
    .free = dns_free,
};
