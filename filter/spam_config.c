/* spam_config.c - the `spam` policy section (config_module.h): defaults, the option table
 * and its validation. Everything here is read once per load; the checks only read it. */
#include "spam_config.h"

#include <stddef.h>
#include <stdlib.h>

#include "config.h"
#include "config_module.h"
#include "util.h"

#define OPT(field) offsetof(struct spam_policy, field)

static const struct option_spec spam_options[] = {
    {"max_scan_bytes", OPT_SIZE, OPT(max_scan_bytes), 1024, 1024.0 * 1024 * 1024},
    {NULL, 0, 0, 0, 0},
};

static void spam_init(struct config *cfg)
{
    struct spam_policy *p = xcalloc(1, sizeof *p);
    p->max_scan_bytes = SPAM_DEFAULT_MAX_SCAN_BYTES;
    cfg->spam = p;
}

static void spam_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "spam", spam_options, r->cfg->spam);
}

static void spam_free(struct config *cfg)
{
    free(cfg->spam);
    cfg->spam = NULL;
}

const struct config_module config_spam = {
    .section = "spam",
    .init = spam_init,
    .apply = spam_apply,
    .finish = NULL,
    .free = spam_free,
};
