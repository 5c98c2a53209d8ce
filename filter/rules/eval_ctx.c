/* eval_ctx.c - what the plugins share during one evaluation: per-message data of each plugin,
 * made on first use and freed at the end; the relays of the message (rules_relays.h), built
 * once however many plugins read them; argument helpers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "rules_evalfn.h"
#include "rules_relays.h"

void *eval_plugin_data(struct eval_ctx *ctx, enum eval_plugin_id id,
    void *(*make)(struct eval_ctx *ctx), void (*release)(void *data))
{
    if (ctx->plugin_data[id] == NULL) {
        ctx->plugin_data[id] = make(ctx);
        ctx->plugin_data_free[id] = release;
    }
    return ctx->plugin_data[id];
}

const struct rules_relays *eval_relays(struct eval_ctx *ctx)
{
    if (ctx->relays == NULL)
        ctx->relays = rules_relays_build(ctx->msg);
    return ctx->relays;
}

const struct rules_envelope *eval_auth_results(const struct eval_ctx *ctx,
    enum eval_auth_result which)
{
    const struct rules_envelope *env = ctx->msg->envelope;
    if (env == NULL)
        return NULL;
    bool known = false;
    switch (which) {
    case EVAL_AUTH_SPF_MAILFROM: known = env->spf_mailfrom != NULL; break;
    case EVAL_AUTH_SPF_HELO: known = env->spf_helo != NULL; break;
    case EVAL_AUTH_DKIM: known = env->dkim_verified; break;
    case EVAL_AUTH_DMARC: known = env->dmarc_result != NULL; break;
    case EVAL_AUTH_ARC: known = env->arc_verified; break;
    }
    return known ? env : NULL;
}

void eval_ctx_release(struct eval_ctx *ctx)
{
    for (size_t i = 0; i < EVAL_DATA_SLOTS; i++) {
        if (ctx->plugin_data[i] != NULL && ctx->plugin_data_free[i] != NULL)
            ctx->plugin_data_free[i](ctx->plugin_data[i]);
        ctx->plugin_data[i] = NULL;
    }
    rules_relays_free((struct rules_relays *)ctx->relays);
    ctx->relays = NULL;
}

bool eval_arg_number(const char *arg, double *value)
{
    if (arg == NULL || *arg == '\0')
        return false;
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || errno != 0 || !isfinite(v))
        return false;
    *value = v;
    return true;
}
