/* eval_bodyeval.c - SpamAssassin's BodyEval plugin, natively: body checks: text/HTML ratios, stock info, long words, unique words.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_bodyeval = {
    .id = EVAL_BODYEVAL,
    .name = "Mail::SpamAssassin::Plugin::BodyEval",
    .available = false,
    .functions = functions,
};
