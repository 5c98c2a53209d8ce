/* check_dnslists.c - runs the policy's DNS lists (spam.dnslists): each zone by its kind's
 * backend (dnslist.h) at that kind's stage. Inbound mail only: never for internal or
 * authenticated clients. No list is configured by default. The queries of the ip lists go out
 * before the connect stage's checks run (.prefetch), together with reverse DNS. */
#include "check.h"
#include "dnslist.h"
#include "spam_check.h"
#include "spam_config.h"

/* Calls each zone's backend for this stage: its run, or (prefetching) its prefetch. */
static void for_each_zone(struct txn *t, enum stage stage, bool prefetching)
{
    if (!spam_checks_apply(t))
        return;
    const struct spam_policy *p = t->cfg->spam;
    for (size_t i = 0; i < p->dnslist_count; i++) {
        const struct dnslist_zone *z = &p->dnslists[i];
        for (const struct dnslist_backend *const *b = dnslist_backends; *b != NULL; b++) {
            if ((*b)->kind != z->kind || (*b)->stage != (int)stage)
                continue;
            if (!prefetching)
                (*b)->run(t, z);
            else if ((*b)->prefetch != NULL)
                (*b)->prefetch(t, z);
        }
    }
}

static void prefetch(struct txn *t, enum stage stage)
{
    for_each_zone(t, stage, true);
}

static void run(struct txn *t, enum stage stage)
{
    for_each_zone(t, stage, false);
}

const struct check check_dnslists = {
    .name = "dnslists",
    .stages = STAGE_BIT(STAGE_CONNECT) | STAGE_BIT(STAGE_HEADERS) | STAGE_BIT(STAGE_EOM),
    .run = run,
    .prefetch = prefetch,
    .shadowed = spam_shadowed,
    .may_refuse = check_never_refuses,    /* symbols only */
};
