/* eval_wlbleval.c - SpamAssassin's WLBLEval plugin, natively: welcome and block lists read from the rule files (welcomelist_from, blocklist_to, ...).
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_wlbleval = {
    .id = EVAL_WLBLEVAL,
    .name = "Mail::SpamAssassin::Plugin::WLBLEval",
    .available = false,
    .functions = functions,
};
