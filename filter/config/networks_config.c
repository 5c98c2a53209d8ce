/* networks_config.c - the `networks` section: our own users (internal), relays we trust, and
 * clients that skip every check (struct config .networks). */
#include <stddef.h>

#include "config_module.h"

#define OPT(field) offsetof(struct config, networks.field)
static const struct option_spec networks_options[] = {
    {"internal", OPT_CIDRS, OPT(internal), 0, 0},
    {"trusted", OPT_CIDRS, OPT(trusted), 0, 0},
    {"skip", OPT_CIDRS, OPT(skip), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static void add_default_cidr(struct cidr_list *list, const char *text)
{
    struct cidr net;
    const char *why;
    if (cidr_parse(text, &net, &why))
        cidr_list_add(list, &net);
}

static void networks_init(struct config *cfg)
{
    add_default_cidr(&cfg->networks.internal, "127.0.0.0/8");
    add_default_cidr(&cfg->networks.internal, "::1");
}

static void networks_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "networks", networks_options, r->cfg);
}

static void networks_free(struct config *cfg)
{
    cidr_list_free(&cfg->networks.internal);
    cidr_list_free(&cfg->networks.trusted);
    cidr_list_free(&cfg->networks.skip);
}

const struct config_module networks_config_module = {
    .section = "networks",
    .init = networks_init,
    .apply = networks_apply,
    .free = networks_free,
};
