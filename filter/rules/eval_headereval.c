/* eval_headereval.c - SpamAssassin's HeaderEval plugin, natively: header checks: Message-ID forms, Date against Received, recipients, subject case, forged senders.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_headereval = {
    .id = EVAL_HEADEREVAL,
    .name = "Mail::SpamAssassin::Plugin::HeaderEval",
    .available = false,
    .functions = functions,
};
