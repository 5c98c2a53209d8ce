/* config.c - a policy's life outside loading: every module's defaults (config_defaults) and
 * freeing (config_free). Both walk the module table (config_modules.c); no section is known
 * here. */
#include "config.h"

#include <stdlib.h>

#include "config_module.h"
#include "util.h"

struct config *config_defaults(void)
{
    struct config *cfg = xcalloc(1, sizeof *cfg);
    cfg->refs = 1;
    for (const struct config_module *const *m = config_modules; *m != NULL; m++)
        (*m)->init(cfg);
    return cfg;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (const struct config_module *const *m = config_modules; *m != NULL; m++)
        (*m)->free(cfg);
    free(cfg->main_file);
    cfg_free_strings(cfg->files, cfg->file_count);
    cfg_free_strings(cfg->sections, cfg->section_count);
    config_errors_free(&cfg->notices);
    free(cfg);
}
