/* eval_freemail.c - SpamAssassin's FreeMail plugin, natively: senders at free mail providers (freemail_domains) and their forgeries.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_freemail = {
    .id = EVAL_FREEMAIL,
    .name = "Mail::SpamAssassin::Plugin::FreeMail",
    .available = false,
    .functions = functions,
};
