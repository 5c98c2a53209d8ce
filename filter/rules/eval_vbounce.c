/* eval_vbounce.c - SpamAssassin's VBounce plugin, natively: backscatter: bounces of mail we did not send.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_vbounce = {
    .id = EVAL_VBOUNCE,
    .name = "Mail::SpamAssassin::Plugin::VBounce",
    .available = false,
    .functions = functions,
};
