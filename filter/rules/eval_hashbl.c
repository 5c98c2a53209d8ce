/* eval_hashbl.c - SpamAssassin's HashBL plugin, natively: block lists of hashed addresses and URIs.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_hashbl = {
    .id = EVAL_HASHBL,
    .name = "Mail::SpamAssassin::Plugin::HashBL",
    .available = false,
    .functions = functions,
};
