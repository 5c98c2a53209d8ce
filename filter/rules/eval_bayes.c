/* eval_bayes.c - SpamAssassin's Bayes plugin, natively: the Bayes classifier's BAYES_xx rules (check_bayes).
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_bayes = {
    .id = EVAL_BAYES,
    .name = "Mail::SpamAssassin::Plugin::Bayes",
    .available = false,
    .functions = functions,
};
