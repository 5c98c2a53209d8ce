/* eval_htmleval.c - SpamAssassin's HTMLEval plugin, natively: HTML checks: low-contrast fonts, image-only messages, tag statistics.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_htmleval = {
    .id = EVAL_HTMLEVAL,
    .name = "Mail::SpamAssassin::Plugin::HTMLEval",
    .available = false,
    .functions = functions,
};
