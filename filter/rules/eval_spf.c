/* eval_spf.c - SpamAssassin's SPF plugin, natively, fed from our own SPF results (the MAIL
 * FROM and HELO identities check_spf evaluated, rules_envelope.spf_*): check_for_spf_pass and
 * its siblings for each result, the _helo_ ones, and the SPF welcome lists
 * (welcomelist_from_spf, def_welcomelist_from_spf, welcomelist_auth, def_welcomelist_auth),
 * which hit when the envelope sender is listed and SPF passed (SPF.pm). When no result is
 * known (no resolver, or SPF did not run) nothing hits: what SpamAssassin's rules give with
 * -L, where these rules (tflags net) do not run. */
#include <stdlib.h>
#include <string.h>

#include "eval_lists.h"
#include "rules_evalfn.h"
#include "util.h"

/* The result a function asks about: "check_for_spf_helo_softfail" -> helo, "softfail". */
struct spf_question {
    bool helo;
    const char *result;
};

static bool prepare_result(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)rs;
    (void)args;
    (void)argc;
    const char *name = r->eval->name + strlen("check_for_spf_");
    struct spf_question *q = xcalloc(1, sizeof *q);
    if (strncmp(name, "helo_", 5) == 0) {
        q->helo = true;
        name += 5;
    }
    q->result = name;
    *state = q;
    (void)why;
    return true;
}

static unsigned run_result(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct spf_question *q = call->state;
    const struct rules_envelope *env = eval_auth_results(ctx,
        q->helo ? EVAL_AUTH_SPF_HELO : EVAL_AUTH_SPF_MAILFROM);
    if (env == NULL)
        return 0;
    return strcmp(q->helo ? env->spf_helo : env->spf_mailfrom, q->result) == 0;
}

/* ---- the SPF welcome lists ---- */

struct spf_welcome_state {
    struct addr_patterns from_spf;     /* (def_)welcomelist_from_spf */
    struct addr_patterns auth;         /* (def_)welcomelist_auth */
};

static void free_welcome(void *p)
{
    struct spf_welcome_state *st = p;
    if (st == NULL)
        return;
    list_free(&st->from_spf);
    list_free(&st->auth);
    free(st);
}

static bool prepare_welcome(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)args;
    (void)argc;
    (void)why;
    bool def = strstr(r->eval->name, "_def_") != NULL;
    struct spf_welcome_state *st = xcalloc(1, sizeof *st);
    list_build(rs, def ? "def_welcomelist_from_spf" : "welcomelist_from_spf", &st->from_spf);
    list_build(rs, def ? "def_welcomelist_auth" : "welcomelist_auth", &st->auth);
    *state = st;
    return true;
}

static unsigned run_welcome(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct spf_welcome_state *st = call->state;
    const struct rules_envelope *env = eval_auth_results(ctx, EVAL_AUTH_SPF_MAILFROM);
    if (env == NULL || strcmp(env->spf_mailfrom, "pass") != 0)
        return 0;
    struct addr_list sender = { 0 };
    eval_header_addrs(ctx, "EnvelopeFrom", &sender);
    bool hit = sender.count > 0 && (list_match(&st->from_spf, sender.addr[0]) != NULL
        || list_match(&st->auth, sender.addr[0]) != NULL);
    addr_list_free(&sender);
    return hit;
}

#define RESULT(name) { name, prepare_result, free, run_result }

static const struct eval_function functions[] = {
    RESULT("check_for_spf_pass"),
    RESULT("check_for_spf_neutral"),
    RESULT("check_for_spf_none"),
    RESULT("check_for_spf_fail"),
    RESULT("check_for_spf_softfail"),
    RESULT("check_for_spf_permerror"),
    RESULT("check_for_spf_temperror"),
    RESULT("check_for_spf_helo_pass"),
    RESULT("check_for_spf_helo_neutral"),
    RESULT("check_for_spf_helo_none"),
    RESULT("check_for_spf_helo_fail"),
    RESULT("check_for_spf_helo_softfail"),
    RESULT("check_for_spf_helo_permerror"),
    RESULT("check_for_spf_helo_temperror"),
    { "check_for_spf_welcomelist_from", prepare_welcome, free_welcome, run_welcome },
    { "check_for_spf_whitelist_from", prepare_welcome, free_welcome, run_welcome },
    { "check_for_def_spf_welcomelist_from", prepare_welcome, free_welcome, run_welcome },
    { "check_for_def_spf_whitelist_from", prepare_welcome, free_welcome, run_welcome },
    { NULL, NULL, NULL, NULL },
};

static const char *const directives[] = {
    "welcomelist_from_spf", "whitelist_from_spf", "def_welcomelist_from_spf",
    "def_whitelist_from_spf", "unwelcomelist_from_spf", "unwhitelist_from_spf",
    "welcomelist_auth", "whitelist_auth", "def_welcomelist_auth", "def_whitelist_auth",
    "unwelcomelist_auth", "unwhitelist_auth",
    NULL,
};

static const char *const capabilities[] = { "has_check_for_spf_errors", NULL };

const struct eval_plugin eval_plugin_spf = {
    .id = EVAL_SPF,
    .name = "Mail::SpamAssassin::Plugin::SPF",
    .available = true,
    .functions = functions,
    .directives = directives,
    .capabilities = capabilities,
};
