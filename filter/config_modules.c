/* config_modules.c - the table of policy sections owned by feature modules. Adding one is a
 * `const struct config_module` in the feature's config file and one line here. */
#include "config_module.h"

extern const struct config_module config_module_dkim;
extern const struct config_module ratelimit_module;    /* ratelimit_config.c (issue 5) */
extern const struct config_module greylist_module;     /* greylist_config.c (issue 6 part 4) */
extern const struct config_module config_spam;         /* spam_config.c (issue 6) */

extern const struct config_module config_module_spf;
extern const struct config_module rules_config_module;   /* rules_config.c (issue 6) */
extern const struct config_module metrics_module;        /* metrics_config.c (issue 14) */

const struct config_module *const config_modules[] = {
    &config_module_spf,
    &config_module_dkim,
    &ratelimit_module,
    &greylist_module,
    &config_spam,
    &rules_config_module,
    &metrics_module,
    NULL,
};
