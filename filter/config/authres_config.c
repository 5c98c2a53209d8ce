/* authres_config.c - the `authres` section: the authserv-id of our Authentication-Results
 * and whether forged ones are removed (struct config .authres). Unset, the authserv-id is the
 * host's fully qualified name, and the MTA's own name (macro j) wins when it is known. */
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_module.h"
#include "util.h"

#define OPT(field) offsetof(struct config, authres.field)
static const struct option_spec authres_options[] = {
    {"authserv_id", OPT_HOSTNAME, OPT(authserv_id), 0, 0},
    {"remove_forged", OPT_BOOL, OPT(remove_forged), 0, 0},
    {NULL, 0, 0, 0, 0},
};

/* The host's fully qualified name (its canonical name, as `hostname -f` finds it), else its
 * short name. Used when the MTA does not tell its name (authres_id). */
static char *default_authserv_id(void)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
        return xstrdup("localhost");
    host[sizeof host - 1] = '\0';
    if (strchr(host, '.') != NULL)
        return xstrdup(host);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME};
    struct addrinfo *res = NULL;
    char *name = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL && res->ai_canonname != NULL
        && strchr(res->ai_canonname, '.') != NULL)
        name = xstrdup(res->ai_canonname);
    if (res != NULL)
        freeaddrinfo(res);
    return name != NULL ? name : xstrdup(host);
}

static void authres_init(struct config *cfg)
{
    cfg->authres.remove_forged = true;
}

static void authres_apply(struct cfg_reader *r, const config_setting_t *section)
{
    cfg_apply_options(r, section, "authres", authres_options, r->cfg);
}

static void authres_check(struct config *cfg, struct config_errors *errs)
{
    (void)errs;
    if (cfg->authres.authserv_id == NULL) {
        cfg->authres.authserv_id = default_authserv_id();
        cfg->authres.authserv_id_is_default = true;
    }
}

static void authres_free(struct config *cfg)
{
    free(cfg->authres.authserv_id);
}

const struct config_module authres_config_module = {
    .section = "authres",
    .init = authres_init,
    .apply = authres_apply,
    .check = authres_check,
    .free = authres_free,
};
