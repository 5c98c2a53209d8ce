/* rules_relays.c - builds the relays of a message (rules_relays.h). Not written yet: no relay
 * is parsed and the pseudo-headers are empty, which is what SpamAssassin sees in a message
 * without Received lines. */
#include <stdlib.h>

#include "rules.h"
#include "rules_relays.h"
#include "util.h"

struct rules_relays *rules_relays_build(const struct rules_message *msg)
{
    (void)msg;
    struct rules_relays *r = xcalloc(1, sizeof *r);
    r->pseudo_trusted = xstrdup("");
    r->pseudo_untrusted = xstrdup("");
    r->pseudo_internal = xstrdup("");
    r->pseudo_external = xstrdup("");
    return r;
}

void rules_relays_free(struct rules_relays *relays)
{
    if (relays == NULL)
        return;
    for (size_t i = 0; i < relays->count; i++) {
        struct rules_relay *r = &relays->relay[i];
        free(r->ip);
        free(r->by);
        free(r->helo);
        free(r->rdns);
        free(r->ident);
        free(r->envfrom);
        free(r->id);
        free(r->auth);
    }
    free(relays->relay);
    free(relays->pseudo_trusted);
    free(relays->pseudo_untrusted);
    free(relays->pseudo_internal);
    free(relays->pseudo_external);
    free(relays);
}
