/* eval_welcomelistsubject.c - SpamAssassin's WelcomeListSubject plugin, natively: welcome and block lists of subjects.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_welcomelistsubject = {
    .id = EVAL_WELCOMELISTSUBJECT,
    .name = "Mail::SpamAssassin::Plugin::WelcomeListSubject",
    .available = false,
    .functions = functions,
};
