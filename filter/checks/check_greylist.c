/* check_greylist.c - greylisting: the first message of an unknown (client network, sender,
 * recipient) triplet is tempfailed; a retry after greylist.delay passes and the triplet is
 * remembered for greylist.remember. The client network is the /24 (IPv4) or /64 (IPv6), so a
 * sender retrying from another address of its pool still passes. Mode "everyone" decides at
 * each RCPT (only that recipient is tempfailed); mode "score" decides at the end of DATA, for
 * messages whose score by then is at least greylist.score (so it runs last).
 * Skipped for internal and trusted networks, greylist.exempt_networks, SASL-authenticated
 * clients and allow-listed transactions (an access rule with action "accept": the engine
 * does not run this check after one). Kept in the store greylist.store names; when that store fails
 * and its fail mode is tempfail, greylisting lets mail through (greylisting only delays mail:
 * failing closed would tempfail everything); store.c logs the outage once. The decision rule
 * and the triplet key are grey.c's; this file only picks the triplets and asks the store. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "grey.h"
#include "greylist.h"
#include "log.h"
#include "ratelimit.h"
#include "stats.h"
#include "util.h"

static bool skipped(const struct txn *t, const struct greylist_policy *p)
{
    if (!p->enabled || t->sasl_user != NULL || !t->have_client_addr)
        return true;
    if (t->client_flags & (CLIENT_INTERNAL | CLIENT_TRUSTED))
        return true;
    return cidr_list_contains(&p->exempt_networks, &t->client_addr);
}

/* One triplet; true when it must wait. */
static bool triplet_waits(struct txn *t, const struct greylist_policy *p, const char *rcpt,
    int64_t *wait_us)
{
    char *key = grey_triplet_key(&t->client_addr, p->ipv4_prefix, p->ipv6_prefix, t->sender,
        rcpt);
    struct grey_params params = {
        .delay_us = (int64_t)p->delay_ms * 1000,
        .retry_window_us = (int64_t)p->retry_window_ms * 1000,
        .remember_us = (int64_t)p->remember_ms * 1000,
    };
    /* a policy that was not loaded (config_defaults) has no store: the embedded one */
    struct store *store = p->store != NULL ? p->store : store_memory_shared(STORE_DEFAULT_MAX_KEYS);
    struct grey_result r;
    bool waits = false;
    if (store_greylist(store, key, &params, store_now_us(), &r, NULL) == STORE_OK) {
        waits = r.state != GREY_PASSED;
        stats_greylist(r.state == GREY_NEW ? STATS_GREYLIST_NEW
                : r.state == GREY_EARLY ? STATS_GREYLIST_EARLY : STATS_GREYLIST_PASSED);
        *wait_us = r.wait_us;
        if (waits)
            log_info("%s: greylisted %s (%s; retry in %llds)", t->queue_id ? t->queue_id : "NOQUEUE",
                key, r.state == GREY_NEW ? "new" : "too early",
                (long long)((r.wait_us + 999999) / 1000000));
    } else {
        stats_greylist(STATS_GREYLIST_STORE_DOWN);
    }
    free(key);
    return waits;
}

static void greylist_run(struct txn *t, enum stage stage)
{
    const struct greylist_policy *p = t->cfg->greylist;
    if (p == NULL || skipped(t, p))
        return;
    int64_t wait_us = 0;
    if (stage == STAGE_RCPT && p->mode == GREYLIST_EVERYONE && t->rcpt_count > 0) {
        if (triplet_waits(t, p, t->rcpts[t->rcpt_count - 1], &wait_us))
            txn_add_result(t, "GREYLIST", 0, ACTION_TEMPFAIL, &p->reply);
        return;
    }
    if (stage != STAGE_EOM || p->mode != GREYLIST_SCORE || txn_score(t) < p->score)
        return;
    bool waits = false;
    for (size_t i = 0; i < t->rcpt_count; i++)      /* every triplet starts its clock now */
        waits |= triplet_waits(t, p, t->rcpts[i], &wait_us);
    if (waits)
        txn_add_result(t, "GREYLIST", 0, ACTION_TEMPFAIL, &p->reply);
}

static bool greylist_shadowed(const struct config *cfg)
{
    return cfg->greylist->shadow;
}

const struct check check_greylist = {
    .name = "greylist",
    .stages = STAGE_BIT(STAGE_RCPT) | STAGE_BIT(STAGE_EOM),
    .run = greylist_run,
    .shadowed = greylist_shadowed,
};
