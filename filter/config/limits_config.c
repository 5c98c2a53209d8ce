/* limits_config.c - the `limits` section: how much of a message is kept and read (struct
 * config .limits; txn.c applies them). */
#include <stddef.h>

#include "config_module.h"

#define OPT(field) offsetof(struct config, limits.field)
static const struct option_spec limits_options[] = {
    {"max_header_bytes", OPT_SIZE, OPT(max_header_bytes), 1024, 64.0 * 1024 * 1024},
    {"max_headers", OPT_UINT, OPT(max_headers), 16, 100000},
    {"max_checked_header_bytes", OPT_SIZE, OPT(max_checked_header_bytes), 1024,
        64.0 * 1024 * 1024},
    {"max_body_buffer", OPT_SIZE, OPT(max_body_buffer), 0, 1024.0 * 1024 * 1024},
    {"max_recipients", OPT_UINT, OPT(max_recipients), 1, 100000},
    {"mode", OPT_CHECK_MODE, OPT(shadow), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static void limits_init(struct config *cfg)
{
    cfg->limits.max_header_bytes = 1024 * 1024;
    cfg->limits.max_headers = 1000;
    cfg->limits.max_checked_header_bytes = 1024 * 1024;
    cfg->limits.max_body_buffer = 10 * 1024 * 1024;
    cfg->limits.max_recipients = 1000;
}

static void limits_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "limits", limits_options, r->cfg);
}

static void limits_free(struct config *cfg)
{
    (void)cfg;
}

const struct config_module limits_config_module = {
    .section = "limits",
    .init = limits_init,
    .apply = limits_apply,
    .free = limits_free,
};
