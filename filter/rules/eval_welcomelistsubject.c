/* eval_welcomelistsubject.c - SpamAssassin's WelcomeListSubject plugin, natively: the
 * welcomelist_subject and blocklist_subject directives (and their whitelist_/blacklist_
 * names), each line one glob pattern (* and ?, case-insensitive) found anywhere in the decoded
 * Subject, as WelcomeListSubject.pm's unanchored regexes are. */
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "header_cache.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "eval_lists.h"
#include "util.h"

struct subject_state {
    char **patterns;           /* "*pattern*", lower case */
    size_t count;
};

static void free_state(void *p)
{
    struct subject_state *st = p;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->count; i++)
        free(st->patterns[i]);
    free(st->patterns);
    free(st);
}

static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)args;
    (void)argc;
    (void)why;
    bool block = strstr(r->eval->name, "block") != NULL || strstr(r->eval->name, "black") != NULL;
    const char *names[2] = { block ? "blocklist_subject" : "welcomelist_subject",
        block ? "blacklist_subject" : "whitelist_subject" };
    struct subject_state *st = xcalloc(1, sizeof *st);
    for (size_t d = 0; d < rs->directive_count; d++) {
        const struct plugin_directive *pd = &rs->directives[d];
        if (strcmp(pd->name, names[0]) != 0 && strcmp(pd->name, names[1]) != 0)
            continue;
        st->patterns = xrealloc(st->patterns, (st->count + 1) * sizeof *st->patterns);
        st->patterns[st->count] = xasprintf("*%s*", pd->value);
        str_lower(st->patterns[st->count]);
        st->count++;
    }
    *state = st;
    return true;
}

static unsigned run(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct subject_state *st = call->state;
    if (st->count == 0)
        return 0;
    size_t cap = ctx->limits != NULL && ctx->limits->header_bytes < 1024 * 1024
        ? (size_t)ctx->limits->header_bytes : 1024 * 1024;
    unsigned hit = 0;
    for (size_t i = 0; i < ctx->msg->header_count && !hit; i++) {
        if (strcasecmp(ctx->msg->headers[i].name, "Subject") != 0)
            continue;
        const char *subject = header_cache_decoded(ctx->headers, i, cap);
        if (subject == NULL || subject[0] == '\0')
            continue;
        for (size_t k = 0; k < st->count && !hit; k++)
            hit = glob_match(st->patterns[k], subject);
    }
    return hit;
}

static const struct eval_function functions[] = {
    { "check_subject_in_welcomelist", prepare, free_state, run },
    { "check_subject_in_whitelist", prepare, free_state, run },
    { "check_subject_in_blocklist", prepare, free_state, run },
    { "check_subject_in_blacklist", prepare, free_state, run },
    { NULL, NULL, NULL, NULL },
};

static const char *const directives[] = {
    "welcomelist_subject", "whitelist_subject", "blocklist_subject", "blacklist_subject", NULL,
};

const struct eval_plugin eval_plugin_welcomelistsubject = {
    .id = EVAL_WELCOMELISTSUBJECT,
    .name = "Mail::SpamAssassin::Plugin::WelcomeListSubject",
    .available = true,
    .functions = functions,
    .directives = directives,
};
