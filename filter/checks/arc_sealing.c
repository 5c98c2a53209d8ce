/* arc_sealing.c - see arc_sealing.h. */
#include "arc_sealing.h"

#include "arc_config.h"
#include "pattern.h"
#include "txn.h"

bool arc_sealing_wanted(const struct txn *t)
{
    const struct arc_policy *p = t->cfg->arc;
    if (p == NULL || !p->seal.enabled || p->seal.key == NULL)
        return false;
    if (p->seal.relayed && txn_is_outbound(t))
        return true;
    if (t->have_client_addr && pattern_match_ip(&p->seal.clients, &t->client_addr))
        return true;
    if (t->sender != NULL && pattern_match_address(&p->seal.senders, t->sender))
        return true;
    for (size_t i = 0; i < t->rcpt_count; i++) {
        if (pattern_match_address(&p->seal.recipients, t->rcpts[i]))
            return true;
    }
    return false;
}
