/* dnslist_uri.c - URIBL on the hosts of links in the body, at end of message: each distinct
 * registrable domain (or host, with registrable = false) looked up once, at most
 * spam.max_uri_lookups per zone, none after a query to the zone timed out; IP-literal hosts
 * are not looked up. */
#include "dnslist.h"

#include <stdlib.h>
#include <string.h>

#include "message_view.h"
#include "registrable.h"
#include "spam_config.h"
#include "txn.h"
#include "util.h"

static bool seen(char **names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(names[i], name) == 0)
            return true;
    }
    return false;
}

static void run(struct txn *t, const struct dnslist_zone *z)
{
    const struct message_view *view = message_view_get(t);
    unsigned cap = t->cfg->spam->max_uri_lookups;
    char **done = xcalloc(cap + 1, sizeof *done);
    size_t count = 0;
    for (size_t i = 0; i < view->uri_count && count < cap; i++) {
        const struct message_uri *u = &view->uris[i];
        if (u->host == NULL || u->host_is_ip || strchr(u->host, '.') == NULL)
            continue;
        char *name = z->registrable ? registrable_domain(u->host) : xstrdup(u->host);
        if (seen(done, count, name)) {
            free(name);
            continue;
        }
        done[count++] = name;
        if (!dnslist_lookup(t, z, name))
            break;                      /* the list is not answering: not 20 timeouts */
    }
    for (size_t i = 0; i < count; i++)
        free(done[i]);
    free(done);
}

const struct dnslist_backend dnslist_uri = {
    .name = "uri",
    .kind = DNSLIST_URI,
    .stage = STAGE_EOM,
    .run = run,
};
