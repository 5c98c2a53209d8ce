/* eval_dmarc.c - SpamAssassin's DMARC plugin, natively, fed from our own DMARC evaluation
 * (rules_envelope.dmarc_*): check_dmarc_pass (pass, with a policy record), check_dmarc_reject,
 * check_dmarc_quarantine and check_dmarc_none (fail, by the published policy) and
 * check_dmarc_missing (evaluated, no policy record), as DMARC.pm. Without an evaluation (no
 * resolver, DMARC off) nothing hits, as SpamAssassin's with -L. Debian's stock rules put these
 * in an "ifplugin ...::Dmarc" block, a name SpamAssassin never loads: they run in neither. */
#include <stdlib.h>
#include <string.h>

#include "rules_evalfn.h"

static const struct rules_envelope *evaluated(const struct eval_ctx *ctx)
{
    return eval_auth_results(ctx, EVAL_AUTH_DMARC);
}

static bool failed_with(const struct eval_ctx *ctx, const char *policy)
{
    const struct rules_envelope *env = evaluated(ctx);
    return env != NULL && strcmp(env->dmarc_result, "fail") == 0 && env->dmarc_policy != NULL
        && strcmp(env->dmarc_policy, policy) == 0;
}

static unsigned run_pass(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_envelope *env = evaluated(ctx);
    return env != NULL && strcmp(env->dmarc_result, "pass") == 0 && env->dmarc_policy != NULL;
}

static unsigned run_reject(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return failed_with(ctx, "reject");
}

static unsigned run_quarantine(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return failed_with(ctx, "quarantine");
}

static unsigned run_none(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return failed_with(ctx, "none");
}

static unsigned run_missing(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_envelope *env = evaluated(ctx);
    return env != NULL && env->dmarc_policy == NULL;
}

static const struct eval_function functions[] = {
    { "check_dmarc_pass", NULL, NULL, run_pass },
    { "check_dmarc_reject", NULL, NULL, run_reject },
    { "check_dmarc_quarantine", NULL, NULL, run_quarantine },
    { "check_dmarc_none", NULL, NULL, run_none },
    { "check_dmarc_missing", NULL, NULL, run_missing },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_dmarc = {
    .id = EVAL_DMARC,
    .name = "Mail::SpamAssassin::Plugin::DMARC",
    .available = true,
    .functions = functions,
};
