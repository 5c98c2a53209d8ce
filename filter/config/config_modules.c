/* config_modules.c - the table of policy sections: every top-level section is owned by one
 * module (config_module.h), named <section>_config_module in <section>_config.c. Adding a
 * section is one such file and one line here. The order is the order check() and finish()
 * run: store before its users (ratelimit, greylist), symbols last (it asks every other module
 * which symbols it emits). */
#include "config_module.h"

extern const struct config_module milter_config_module;
extern const struct config_module log_config_module;
extern const struct config_module limits_config_module;
extern const struct config_module authres_config_module;
extern const struct config_module networks_config_module;
extern const struct config_module dns_config_module;
extern const struct config_module actions_config_module;
extern const struct config_module access_config_module;
extern const struct config_module store_config_module;
extern const struct config_module spf_config_module;
extern const struct config_module dkim_config_module;
extern const struct config_module arc_config_module;
extern const struct config_module dmarc_config_module;
extern const struct config_module dmarc_reports_config_module;
extern const struct config_module ratelimit_config_module;
extern const struct config_module greylist_config_module;
extern const struct config_module bayes_config_module;
extern const struct config_module spam_config_module;
extern const struct config_module rules_config_module;
extern const struct config_module control_config_module;
extern const struct config_module metrics_config_module;
extern const struct config_module symbols_config_module;

const struct config_module *const config_modules[] = {
    &milter_config_module,
    &log_config_module,
    &limits_config_module,
    &authres_config_module,
    &networks_config_module,
    &dns_config_module,
    &actions_config_module,
    &access_config_module,
    &store_config_module,
    &spf_config_module,
    &dkim_config_module,
    &arc_config_module,      /* after dkim: it seals with a key of dkim.keys */
    &dmarc_config_module,
    &dmarc_reports_config_module,
    &ratelimit_config_module,
    &greylist_config_module,
    &bayes_config_module,    /* after store: its databases live in a named store */
    &spam_config_module,
    &rules_config_module,
    &control_config_module,
    &metrics_config_module,
    &symbols_config_module,
    NULL,
};
