/* eval_mimeeval.c - SpamAssassin's MIMEEval plugin, natively: MIME structure checks: base64 line lengths, charsets, parts, attachments.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_mimeeval = {
    .id = EVAL_MIMEEVAL,
    .name = "Mail::SpamAssassin::Plugin::MIMEEval",
    .available = false,
    .functions = functions,
};
