/* config_modules.c - the table of policy sections owned by feature modules. Adding one is a
 * `const struct config_module` in the feature's config file and one line here. */
#include "config_module.h"

extern const struct config_module config_spam;
extern const struct config_module rules_config_module;

const struct config_module *const config_modules[] = {
    &config_spam,          /* spam heuristics (spam_config.c) */
    &rules_config_module,  /* SpamAssassin-syntax rules (rules_config.c) */
    NULL,
};
