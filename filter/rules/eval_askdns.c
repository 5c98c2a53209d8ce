/* eval_askdns.c - SpamAssassin's AskDNS plugin, natively: `askdns` rules: DNS queries built from the message.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_askdns = {
    .id = EVAL_ASKDNS,
    .name = "Mail::SpamAssassin::Plugin::AskDNS",
    .available = false,
    .functions = functions,
};
