/* dmarc_result.c - see dmarc_result.h. */
#include "dmarc_result.h"

#include <stdlib.h>

#include "check.h"

extern const struct check check_dmarc;    /* only for its slot: no call into the check */

static const struct dmarc_outcome not_run = {
    .skipped = "not run",
    .from_outcome = DMARC_FROM_NO_FIELD,
    .result = DMARC_RESULT_NONE,
    .disposition = DMARC_POLICY_NONE,
};

const char *dmarc_override_name(enum dmarc_override o)
{
    switch (o) {
    case DMARC_OVERRIDE_NONE: return "";
    case DMARC_OVERRIDE_LOCAL_POLICY: return "local_policy";
    case DMARC_OVERRIDE_MAILING_LIST: return "mailing_list";
    case DMARC_OVERRIDE_TRUSTED_FORWARDER: return "trusted_forwarder";
    case DMARC_OVERRIDE_POLICY_TEST_MODE: return "policy_test_mode";
    case DMARC_OVERRIDE_OTHER: return "other";
    }
    return "other";
}

const struct dmarc_outcome *dmarc_result_get(struct txn *t)
{
    const struct dmarc_outcome *o = *txn_check_state(t, &check_dmarc);
    return o != NULL ? o : &not_run;
}

const struct dmarc_domain_outcome *dmarc_result_decisive(const struct dmarc_outcome *o)
{
    if (!o->evaluated || o->decisive >= o->domain_count)
        return NULL;
    return &o->domains[o->decisive];
}

void dmarc_outcome_free(struct dmarc_outcome *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->domain_count; i++)
        if (o->domains[i].has_record)
            dmarc_record_free(&o->domains[i].record);
    free(o);
}
