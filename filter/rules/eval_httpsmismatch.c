/* eval_httpsmismatch.c - SpamAssassin's HTTPSMismatch plugin, natively: links whose text shows https:// but which go elsewhere.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_httpsmismatch = {
    .id = EVAL_HTTPSMISMATCH,
    .name = "Mail::SpamAssassin::Plugin::HTTPSMismatch",
    .available = false,
    .functions = functions,
};
