/* dkim_result.c - see dkim_result.h. */
#include "dkim_result.h"

#include "check.h"

extern const struct check check_dkim_verify;   /* only for its slot: no call into the check */

const char *dkim_verdict_name(enum dkim_verdict v)
{
    switch (v) {
    case DKIM_RESULT_NONE: return "none";
    case DKIM_RESULT_PASS: return "pass";
    case DKIM_RESULT_FAIL: return "fail";
    case DKIM_RESULT_NEUTRAL: return "neutral";
    case DKIM_RESULT_POLICY: return "policy";
    case DKIM_RESULT_TEMPERROR: return "temperror";
    case DKIM_RESULT_PERMERROR: return "permerror";
    }
    return "none";
}

static const struct dkim_verify_state *state_of(struct txn *t)
{
    return *txn_check_state(t, &check_dkim_verify);
}

bool dkim_result_verified(struct txn *t)
{
    return state_of(t) != NULL;
}

size_t dkim_result_count(struct txn *t)
{
    const struct dkim_verify_state *s = state_of(t);
    return s != NULL ? s->result_count : 0;
}

const struct dkim_sig_result *dkim_result_get(struct txn *t, size_t i)
{
    const struct dkim_verify_state *s = state_of(t);
    return s != NULL && i < s->result_count ? &s->results[i] : NULL;
}
