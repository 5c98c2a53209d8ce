/* eval_dkim.c - SpamAssassin's DKIM plugin, natively: the DKIM plugin's rules, fed from our own DKIM results.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_dkim = {
    .id = EVAL_DKIM,
    .name = "Mail::SpamAssassin::Plugin::DKIM",
    .available = false,
    .functions = functions,
};
