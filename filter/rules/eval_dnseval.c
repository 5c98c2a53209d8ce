/* eval_dnseval.c - SpamAssassin's DNSEval plugin, natively: DNS block lists of the relays' addresses and names (check_rbl ...), through our resolver.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_dnseval = {
    .id = EVAL_DNSEVAL,
    .name = "Mail::SpamAssassin::Plugin::DNSEval",
    .available = false,
    .functions = functions,
};
