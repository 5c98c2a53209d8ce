/* eval_relayeval.c - SpamAssassin's RelayEval plugin, natively: checks of the relays (Received lines and the real client): reverse DNS, HELO, forged hops.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_relayeval = {
    .id = EVAL_RELAYEVAL,
    .name = "Mail::SpamAssassin::Plugin::RelayEval",
    .available = false,
    .functions = functions,
};
