/* arc_result.c - see arc_result.h. */
#include "arc_result.h"

#include "arc_config.h"
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

const char *arc_result_symbol(const struct arc_outcome *o)
{
    if (!o->checked)
        return NULL;
    if (o->header_limit)
        return "ARC_REJECT";
    switch (o->verdict.status) {
    case ARC_STATUS_NONE:
        return "ARC_NONE";
    case ARC_STATUS_PASS:
        return "ARC_PASS";
    case ARC_STATUS_FAIL:
        break;
    }
    switch (o->verdict.reason) {
    case ARC_REASON_STRUCTURE:
    case ARC_REASON_CV_FAIL:
        return "ARC_INVALID";
    case ARC_REASON_TOO_MANY:
    case ARC_REASON_KEY_TEMPERROR:
    case ARC_REASON_LOOKUP_LIMIT:
    case ARC_REASON_BUDGET:
        return "ARC_REJECT";
    default:
        return "ARC_FAIL";
    }
}

bool arc_result_signatures(const struct arc_outcome *o, bool *has_signatures,
    bool *one_verified)
{
    *has_signatures = *one_verified = false;
    if (!o->checked)
        return false;
    *has_signatures = o->header_limit || o->verdict.status != ARC_STATUS_NONE;
    for (unsigned i = 0; i < o->verdict.hop_count && !o->header_limit; i++) {
        const struct arc_hop *h = &o->verdict.hop[i];
        if ((h->seal_checked && h->seal_ok && h->seal_selector[0] != '\0')
                || (h->ams_checked && h->ams_ok && h->ams_selector[0] != '\0'))
            *one_verified = true;
    }
    return true;
}

bool arc_result_trusted_pass(struct txn *t, const struct pattern_list *sealers,
    char *sealer_out, size_t size)
{
    if (size > 0)
        sealer_out[0] = '\0';
    const struct arc_outcome *o = arc_result_get(t);
    if (!o->checked || o->header_limit || o->verdict.status != ARC_STATUS_PASS
            || sealers == NULL || o->aar == NULL)
        return false;
    if (t->cfg->arc->shadow)
        return false;             /* arc in mode "shadow" is only logged: it overrides nothing */
    for (unsigned i = o->verdict.hop_count; i > 0; i--) {
        const struct arc_hop *h = &o->verdict.hop[i - 1];
        const struct arc_hop_aar *a = &o->aar[i - 1];
        char sealer[sizeof h->seal_domain];
        strlcpy_mw(sealer, h->seal_domain, sizeof sealer);
        str_lower(sealer);
        if (!a->read || sealer[0] == '\0' || !pattern_match_domain(sealers, sealer))
            continue;
        if (arc_aar_passed(&a->aar, "spf") || arc_aar_passed(&a->aar, "dkim")) {
            if (size > 0)
                strlcpy_mw(sealer_out, sealer, size);
            return true;
        }
    }
    return false;
}
