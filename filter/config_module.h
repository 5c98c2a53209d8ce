/* config_module.h - how a feature (SPF, DKIM, rate limits, ...) owns a top-level section of the
 * policy files without touching config.c: it declares one `const struct config_module` and
 * adds one line to config_modules.c. Its typed settings live behind its own pointer in
 * struct config, allocated by init() so every policy has them even when the section is absent. */
#ifndef MW_CONFIG_MODULE_H
#define MW_CONFIG_MODULE_H

#include <libconfig.h>

#include "config_sections.h"

struct config_module {
    const char *section;      /* the top-level section it owns: "spf" */
    /* Sets the defaults (allocates the module's struct in cfg). Called for every policy. */
    void (*init)(struct config *cfg);
    /* Applies one file's section; called once per file that has it, in file order. Report
     * errors with cfg_error (file, line, option). */
    void (*apply)(struct cfg_reader *r, const config_setting_t *section);
    /* After every file: checks that need the whole policy, and the work a policy needs before
     * it may be installed (compile rules, load keys). Errors go to errs; any error keeps the
     * policy from being installed. May be NULL. */
    void (*finish)(struct config *cfg, struct config_errors *errs);
    /* Frees what init/apply/finish made. */
    void (*free)(struct config *cfg);
};

/* NULL-terminated, in config_modules.c. */
extern const struct config_module *const config_modules[];

#endif
