/* arc_result.c - see arc_result.h. */
#include "arc_result.h"

#include "arc_state.h"
#include "check.h"
#include "pattern.h"
#include "util.h"

extern const struct check check_arc;      /* only for its slot: no call into the check */

static const struct arc_outcome not_checked;

const struct arc_outcome *arc_result_get(struct txn *t)
{
    const struct arc_txn_state *s = *txn_check_state(t, &check_arc);
    return s != NULL ? &s->outcome : &not_checked;
}

bool arc_result_trusted_pass(struct txn *t, const struct pattern_list *sealers,
    char *sealer_out, size_t size)
{
    if (size > 0)
        sealer_out[0] = '\0';
    const struct arc_outcome *o = arc_result_get(t);
    if (!o->checked || o->result != ARC_RESULT_PASS || sealers == NULL)
        return false;
    for (unsigned i = o->count; i > 0; i--) {
        const struct arc_hop *h = &o->hops[i - 1];
        if (!h->aar_read || h->sealer[0] == '\0' || !pattern_match_domain(sealers, h->sealer))
            continue;
        if (arc_aar_passed(&h->aar, "spf") || arc_aar_passed(&h->aar, "dkim")) {
            if (size > 0)
                strlcpy_mw(sealer_out, h->sealer, size);
            return true;
        }
    }
    return false;
}
