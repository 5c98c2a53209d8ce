/* dnslist_domain.c - RHSBL on the envelope sender's domain and the header From domain, at the
 * end of the headers: each distinct domain looked up once per zone, as its registrable domain
 * (Public Suffix List) unless the zone says registrable = false. The null sender is skipped. */
#include "dnslist.h"

#include <stdlib.h>
#include <string.h>

#include "header_util.h"
#include "registrable.h"
#include "txn.h"
#include "util.h"

static void lookup_domain(struct txn *t, const struct dnslist_zone *z, const char *domain,
    char **done)
{
    if (domain == NULL || *domain == '\0' || strchr(domain, '.') == NULL)
        return;
    char *name = z->registrable ? registrable_domain(domain) : xstrdup(domain);
    str_lower(name);
    if (*done != NULL && strcmp(*done, name) == 0) {
        free(name);
        return;
    }
    dnslist_lookup(t, z, name);
    free(*done);
    *done = name;
}

static void run(struct txn *t, const struct dnslist_zone *z)
{
    char *done = NULL;
    if (z->check_sender && t->sender != NULL && t->sender[0] != '\0')
        lookup_domain(t, z, addr_domain(t->sender), &done);
    if (z->check_from) {
        char *from = header_from_address(t->headers, t->header_count);
        if (from != NULL)
            lookup_domain(t, z, addr_domain(from), &done);
        free(from);
    }
    free(done);
}

const struct dnslist_backend dnslist_domain = {
    .name = "domain",
    .kind = DNSLIST_DOMAIN,
    .stage = STAGE_HEADERS,
    .run = run,
};
