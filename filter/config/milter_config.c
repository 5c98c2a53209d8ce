/* milter_config.c - the `milter` section: where the daemon listens, whom it runs as, its
 * pidfile and its connection limits (struct config .milter). */
#include <stddef.h>
#include <stdlib.h>

#include "config_module.h"
#include "util.h"

#define OPT(field) offsetof(struct config, milter.field)
static const struct option_spec milter_options[] = {
    {"socket", OPT_SOCKET, OPT(socket), 0, 0},
    {"socket_mode", OPT_MODE, OPT(socket_mode), 0, 0777},
    {"socket_owner", OPT_STRING, OPT(socket_owner), 0, 0},
    {"user", OPT_USER, OPT(user), 0, 0},
    {"group", OPT_GROUP, OPT(group), 0, 0},
    {"pidfile", OPT_STRING, OPT(pidfile), 0, 0},
    {"timeout", OPT_DURATION_S, OPT(timeout_s), 1, 86400},
    {"backlog", OPT_INT, OPT(backlog), 1, 65535},
    {"shutdown_grace", OPT_DURATION_MS, OPT(shutdown_grace_ms), 0, 3600000},
    {"max_connections", OPT_UINT, OPT(max_connections), 1, 1000000},
    {NULL, 0, 0, 0, 0},
};

static void milter_init(struct config *cfg)
{
    cfg->milter.socket = xstrdup("inet:8891@127.0.0.1");
    cfg->milter.socket_mode = 0660;
    cfg->milter.timeout_s = 120;
    cfg->milter.backlog = 128;
    cfg->milter.shutdown_grace_ms = 30000;
    cfg->milter.max_connections = 1024;
}

static void milter_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "milter", milter_options, r->cfg);
}

static void milter_check(struct config *cfg, struct config_errors *errs)
{
    if (cfg->milter.socket == NULL)
        config_errors_add(errs, cfg->main_file, 0, "milter.socket",
            "must not be empty: write inet:PORT@HOST, as \"inet:8891@127.0.0.1\"");
}

static void milter_free(struct config *cfg)
{
    free(cfg->milter.socket);
    free(cfg->milter.socket_owner);
    free(cfg->milter.user);
    free(cfg->milter.group);
    free(cfg->milter.pidfile);
}

const struct config_module milter_config_module = {
    .section = "milter",
    .init = milter_init,
    .apply = milter_apply,
    .check = milter_check,
    .free = milter_free,
};
