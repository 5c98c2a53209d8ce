/* eval_spf.c - SpamAssassin's SPF plugin, natively: the SPF plugin's rules, fed from our own SPF results.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_spf = {
    .id = EVAL_SPF,
    .name = "Mail::SpamAssassin::Plugin::SPF",
    .available = false,
    .functions = functions,
};
