/* eval_uridnsbl.c - SpamAssassin's URIDNSBL plugin, natively: DNS block lists of the URIs' domains and addresses (uridnsbl, urirhssub, urirhsbl).
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_uridnsbl = {
    .id = EVAL_URIDNSBL,
    .name = "Mail::SpamAssassin::Plugin::URIDNSBL",
    .available = false,
    .functions = functions,
};
