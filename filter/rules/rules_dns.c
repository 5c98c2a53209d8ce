/* rules_dns.c - DNS for the network plugins' rules: ruleset_dns_queries() asks every loaded
 * rule that has a `queries` hook which lookups it needs on a message (each listed once), so
 * the caller can send them all at once before the synchronous evaluation; eval_dns_answer()
 * reads what came back through the message's rules_dns (rules.h). Without one (no resolver)
 * every answer is unknown and no network rule hits. */
#include <stdlib.h>
#include <string.h>

#include "header_cache.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "util.h"

struct eval_dns_asked {
    void (*ask)(const char *name, int type, void *arg);
    void *arg;
    char **names;              /* "type name", for asking each once */
    size_t count;
};

void eval_dns_ask(struct eval_ctx *ctx, const char *name, int type)
{
    struct eval_dns_asked *a = ctx->dns_asked;
    if (a == NULL || name == NULL || name[0] == '\0' || strlen(name) > 253)
        return;
    char *key = xasprintf("%d %s", type, name);
    str_lower(key);
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->names[i], key) == 0) {
            free(key);
            return;
        }
    }
    a->names = xrealloc(a->names, (a->count + 1) * sizeof *a->names);
    a->names[a->count++] = key;
    a->ask(name, type, a->arg);
}

enum rules_dns_status eval_dns_answer(struct eval_ctx *ctx, const char *name, int type,
    const char *const **records, size_t *count)
{
    static const char *const none[] = { NULL };
    *records = none;
    *count = 0;
    const struct rules_dns *dns = ctx->msg->dns;
    if (dns == NULL || dns->lookup == NULL)
        return RULES_DNS_UNKNOWN;
    return dns->lookup(dns->arg, name, type, records, count);
}

void ruleset_dns_queries(const struct ruleset *rs, const struct rules_message *msg,
    const struct rules_limits *limits, void (*ask)(const char *name, int type, void *arg),
    void *arg)
{
    struct eval_dns_asked asked = { .ask = ask, .arg = arg };
    struct header_cache *own = NULL;
    struct header_cache *headers = msg->view != NULL ? msg->view->header_cache : NULL;
    if (headers == NULL || header_cache_fields(headers) != msg->headers)
        headers = own = header_cache_new(msg->headers, msg->header_count);
    struct regex_matcher matcher;
    regex_matcher_init(&matcher, limits->match_limit, limits->depth_limit);
    struct eval_ctx ctx = { .msg = msg, .rs = rs, .limits = limits, .headers = headers,
        .matcher = &matcher, .dns_asked = &asked };
    struct rules_message with_sender;
    char *found_sender = rules_envelope_from_find(&ctx, &with_sender);
    for (size_t i = 0; i < rs->plain_count; i++) {
        const struct rule *r = &rs->rules[rs->plain[i]];
        const struct eval_dns_function *d = r->eval != NULL ? eval_find_dns(r->eval->name) : NULL;
        if (d == NULL)
            continue;
        struct eval_call call = { r, r->eval_args, r->eval_argc, r->eval_state };
        d->queries(&ctx, &call);
    }
    eval_ctx_release(&ctx);
    free(found_sender);
    regex_matcher_free(&matcher);
    header_cache_free(own);
    for (size_t i = 0; i < asked.count; i++)
        free(asked.names[i]);
    free(asked.names);
}
