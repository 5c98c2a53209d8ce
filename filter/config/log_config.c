/* log_config.c - the `log` section: syslog facility, level and the per-message summary line
 * (struct config .log). */
#include <stddef.h>

#include "config_module.h"
#include "log.h"

#define OPT(field) offsetof(struct config, log.field)
static const struct option_spec log_options[] = {
    {"facility", OPT_FACILITY, OPT(facility), 0, 0},
    {"level", OPT_LEVEL, OPT(level), 0, 0},
    {"summary", OPT_BOOL, OPT(summary), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static void log_config_init(struct config *cfg)
{
    cfg->log.facility = LOG_MAIL;
    cfg->log.level = LOG_INFO;
    cfg->log.summary = true;
}

static void log_config_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "log", log_options, r->cfg);
}

static void log_config_free(struct config *cfg)
{
    (void)cfg;
}

const struct config_module log_config_module = {
    .section = "log",
    .init = log_config_init,
    .apply = log_config_apply,
    .free = log_config_free,
};
