/* eval_bayes.c - SpamAssassin's Bayes plugin, natively: check_bayes('lo', 'hi') of the
 * BAYES_xx rules (23_bayes.cf) hits when the message's Bayes probability, which
 * checks/check_bayes.c computed before the rules run (rules_envelope.bayes_probability), is in
 * (lo, hi], or [0, hi] when lo is 0; hi may be "undef" (no upper bound). No probability (Bayes
 * off, too little learnt, the store down): no hit, as SpamAssassin without a usable database.
 * A hit scores as any rule, in the message's score set (rules.h): 2 or 3, Bayes being usable. */
#include <stdlib.h>
#include <string.h>

#include "rules_evalfn.h"

struct bayes_range {
    double lo, hi;
    bool has_hi;
};

static bool bayes_prepare(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)rs;
    (void)r;
    struct bayes_range range = { 0, 0, true };
    if (argc != 2 || !eval_arg_number(args[0], &range.lo)) {
        *why = "check_bayes takes two numbers: check_bayes('0.99', '1.00')";
        return false;
    }
    if (strcmp(args[1], "undef") == 0)
        range.has_hi = false;
    else if (!eval_arg_number(args[1], &range.hi)) {
        *why = "check_bayes: the upper bound is a number or undef";
        return false;
    }
    struct bayes_range *kept = malloc(sizeof *kept);
    if (kept == NULL)
        abort();
    *kept = range;
    *state = kept;
    return true;
}

static unsigned bayes_run(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct bayes_range *range = call->state;
    const struct rules_envelope *env = ctx->msg->envelope;
    if (env == NULL || !env->bayes_scored)
        return 0;
    double p = env->bayes_probability;
    if (range->lo != 0 && !(p > range->lo))
        return 0;
    if (range->has_hi && !(p <= range->hi))
        return 0;
    return 1;
}

static const struct eval_function functions[] = {
    { "check_bayes", bayes_prepare, free, bayes_run },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_bayes = {
    .id = EVAL_BAYES,
    .name = "Mail::SpamAssassin::Plugin::Bayes",
    .available = true,
    .functions = functions,
};
