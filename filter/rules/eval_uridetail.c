/* eval_uridetail.c - SpamAssassin's URIDetail plugin, natively: `uri_detail` rules: regexes on the parts of each URI (raw, cleaned, text, domain).
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_uridetail = {
    .id = EVAL_URIDETAIL,
    .name = "Mail::SpamAssassin::Plugin::URIDetail",
    .available = false,
    .functions = functions,
};
