/* config_module.h - how a section of the policy files is owned: every top-level section (the
 * core ones such as milter, log and dns, and the features such as spf, dkim and ratelimit) is
 * one `const struct config_module` in its own <section>_config.c and one line in the table of
 * config_modules.c. The loader (config_load.c) knows no section: it walks that table.
 * A module's typed settings live in struct config (its own part, or behind its own pointer
 * allocated by init() so every policy has them even when the section is absent). */
#ifndef MW_CONFIG_MODULE_H
#define MW_CONFIG_MODULE_H

#include <libconfig.h>

#include "config.h"
#include "config_read.h"

struct config_module {
    const char *section;      /* the top-level section it owns: "spf" */
    bool checks_own_type;     /* apply() checks the section's type itself (access is a list ( ),
                               * symbols shows its own example); else the loader wants { } */
    /* Sets the defaults (allocates the module's struct in cfg). Called for every policy. */
    void (*init)(struct config *cfg);
    /* Applies one file's section; called once per file that has it, in file order. Report
     * errors with cfg_error (file, line, option). */
    void (*apply)(struct cfg_reader *r, const config_setting_t *section);
    /* After every file, even when other errors were found (so all are reported): checks
     * that need the whole policy, and defaults that depend on it. May be NULL. */
    void (*check)(struct config *cfg, struct config_errors *errs);
    /* After every file of a policy without errors, in table order (a module may use what an earlier one finished):
     * checks that need the whole policy, and building what the module owns before the policy
     * may be installed (the resolver, the stores, compiled rules, loaded keys). Errors go to
     * errs; any error keeps the policy from being installed. May be NULL. */
    void (*finish)(struct config *cfg, struct config_errors *errs);
    /* Starts what finish() built that needs threads (the resolver): called by config_start,
     * once, in the process that serves the policy (threads do not survive the daemon's fork).
     * May be NULL. */
    bool (*start)(struct config *cfg, struct config_errors *errs);
    /* Whether this module can add `symbol` to a message in this policy (an access rule's
     * ACCESS_<NAME>, a rule's name): the symbols section refuses names nobody emits. Fixed
     * names of native checks are in native_symbols.c instead. May be NULL. */
    bool (*emits)(const struct config *cfg, const char *symbol);
    /* Frees what init/apply/finish/start made. */
    void (*free)(struct config *cfg);
};

/* NULL-terminated, in config_modules.c, in the order finish() runs. */
extern const struct config_module *const config_modules[];

#endif
