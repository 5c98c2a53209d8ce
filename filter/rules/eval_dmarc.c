/* eval_dmarc.c - SpamAssassin's DMARC plugin, natively: the DMARC plugin's rules, fed from our own DMARC result.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_dmarc = {
    .id = EVAL_DMARC,
    .name = "Mail::SpamAssassin::Plugin::DMARC",
    .available = false,
    .functions = functions,
};
