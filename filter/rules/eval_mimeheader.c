/* eval_mimeheader.c - SpamAssassin's MIMEHeader plugin, natively: `mimeheader` rules: regexes on the header fields of each MIME part.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_mimeheader = {
    .id = EVAL_MIMEHEADER,
    .name = "Mail::SpamAssassin::Plugin::MIMEHeader",
    .available = false,
    .functions = functions,
};
