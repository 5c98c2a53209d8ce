/* control_config.c - the policy section `control` (config_module.h):
 *   control: { socket = "/run/mailwarden/control.sock"; mode = "0660"; group = "mailwarden" }
 * On by default at CONTROL_DEFAULT_SOCKET; socket = "" turns it off. The socket is made once at
 * start-up (ctl_server.c), so a reload that changes it takes effect at the next restart. */
#include "control_config.h"

#include <stddef.h>
#include <stdlib.h>

#include "config_module.h"
#include "util.h"

#define CTL_OPT(field) offsetof(struct control_policy, field)
static const struct option_spec control_options[] = {
    {"socket", OPT_STRING, CTL_OPT(socket), 0, 0},
    {"mode", OPT_MODE, CTL_OPT(mode), 0, 0},
    {"group", OPT_GROUP, CTL_OPT(group), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static void control_init(struct config *cfg)
{
    struct control_policy *p = xcalloc(1, sizeof *p);
    p->socket = xstrdup(CONTROL_DEFAULT_SOCKET);
    p->socket_is_default = true;
    p->mode = 0660;
    cfg->control = p;
}

static void control_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct control_policy *p = r->cfg->control;
    cfg_apply_options(r, section, "control", control_options, p);
    const config_setting_t *socket = config_setting_type(section) == CONFIG_TYPE_GROUP
        ? config_setting_get_member(section, "socket") : NULL;
    if (socket == NULL)
        return;
    p->socket_is_default = false;
    if (p->socket != NULL && p->socket[0] != '\0' && p->socket[0] != '/')
        cfg_error(r, socket, "control.socket", "\"%s\": give an absolute path, as \"%s\", or "
            "\"\" for no control socket", p->socket, CONTROL_DEFAULT_SOCKET);
}

static void control_free(struct config *cfg)
{
    struct control_policy *p = cfg->control;
    if (p == NULL)
        return;
    free(p->socket);
    free(p->group);
    free(p);
    cfg->control = NULL;
}

const struct config_module control_config_module = {
    .section = "control",
    .init = control_init,
    .apply = control_apply,
    .free = control_free,
};
