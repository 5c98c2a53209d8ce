/* eval_imageinfo.c - SpamAssassin's ImageInfo plugin, natively: image attachments: count, sizes, area.
 * Not written yet: the table is empty and the plugin is not available, so its if/ifplugin
 * blocks stay false and its eval: tests are skipped and counted. */
#include <stddef.h>

#include "rules_evalfn.h"

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_imageinfo = {
    .id = EVAL_IMAGEINFO,
    .name = "Mail::SpamAssassin::Plugin::ImageInfo",
    .available = false,
    .functions = functions,
};
