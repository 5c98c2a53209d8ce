/* eval_urieval.c - SpamAssassin's URIEval plugin, natively: URI checks: https links to an IP, ....
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_urieval = {
    .id = EVAL_URIEVAL,
    .name = "Mail::SpamAssassin::Plugin::URIEval",
    .available = false,
    .functions = functions,
};
