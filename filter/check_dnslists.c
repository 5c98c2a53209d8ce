/* check_dnslists.c - runs the policy's DNS lists (spam.dnslists): each zone by its kind's
 * backend (dnslist.h) at that kind's stage. Inbound mail only: never for internal or
 * authenticated clients. No list is configured by default. */
#include "check.h"
#include "dnslist.h"
#include "spam_check.h"
#include "spam_config.h"

static void run(struct txn *t, enum stage stage)
{
    if (!spam_checks_apply(t))
        return;
    const struct spam_policy *p = t->cfg->spam;
    for (size_t i = 0; i < p->dnslist_count; i++) {
        const struct dnslist_zone *z = &p->dnslists[i];
        for (const struct dnslist_backend *const *b = dnslist_backends; *b != NULL; b++) {
            if ((*b)->kind == z->kind && (*b)->stage == (int)stage)
                (*b)->run(t, z);
        }
    }
}

const struct check check_dnslists = {
    .name = "dnslists",
    .stages = STAGE_BIT(STAGE_CONNECT) | STAGE_BIT(STAGE_HEADERS) | STAGE_BIT(STAGE_EOM),
    .run = run,
};
