/* rules_eval.c - runs a finished ruleset on one message: header, body (decoded text), rawbody
 * (text parts undecoded from HTML), uri (each URI found, and its http:// form when written
 * without a scheme) and full (the whole message) rules, then the meta rules in dependency
 * order. Each input is capped by the policy's byte limits and every match by PCRE2's limits.
 * Header texts come from the message view's header cache (each field decoded once per
 * message, however many rules read it), or from one of the call's own when the message has no
 * view; all other scratch state belongs to the call, so threads share the ruleset freely. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header_cache.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "header.h"
#include "util.h"

void rules_limits_default(struct rules_limits *limits)
{
    limits->header_bytes = 64 * 1024;
    limits->body_bytes = 512 * 1024;
    limits->rawbody_bytes = 512 * 1024;
    limits->full_bytes = 1024 * 1024;
    limits->uri_count = 500;
    limits->match_limit = 1000000;
    limits->depth_limit = 10000;
    limits->skipped_unknown = false;
    limits->prefilter = true;
}

static size_t cap(size_t len, uint64_t limit)
{
    return len > limit ? (size_t)limit : len;
}

static unsigned max_hits(const struct rule *r)
{
    if (!(r->tflags & TFLAG_MULTIPLE))
        return 1;
    return r->maxhits ? r->maxhits : 1000;
}

static unsigned run_header(const struct rule *r, const struct rules_message *msg,
    struct header_cache *cache, const struct rules_limits *limits, struct regex_matcher *m,
    struct prefilter_state *pf)
{
    size_t cap_bytes = limits->header_bytes > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)limits->header_bytes;
    const char *text;
    size_t len;
    bool present = rules_header_text(r, msg, cache, cap_bytes, &text, &len);
    if (r->exists_test)
        return present;
    if (!present && r->if_unset != NULL) {
        text = r->if_unset;
        len = strlen(text);
    }
    unsigned n = 0;
    if (!present || prefilter_may_match(pf, r, 0, text, cap(len, limits->header_bytes)))
        n = regex_count(m, r->regex, text, cap(len, limits->header_bytes), max_hits(r));
    return r->negate ? n == 0 : n;
}

static unsigned run_uris(const struct rule *r, const struct message_view *view,
    const struct rules_limits *limits, struct regex_matcher *m, struct prefilter_state *pf)
{
    unsigned hits = 0, most = max_hits(r);
    for (size_t i = 0; i < view->uri_count && i < limits->uri_count && hits < most; i++) {
        const char *url = view->uris[i].url;
        if (url == NULL)
            continue;
        unsigned n = 0;
        if (prefilter_may_match(pf, r, 2 * i, url, strlen(url)))
            n = regex_count(m, r->regex, url, strlen(url), most - hits);
        if (n == 0 && strstr(url, "://") == NULL && strncasecmp(url, "mailto:", 7) != 0) {
            char *with_scheme = xasprintf("http://%s", url);
            if (prefilter_may_match(pf, r, 2 * i + 1, with_scheme, strlen(with_scheme)))
                n = regex_count(m, r->regex, with_scheme, strlen(with_scheme), most - hits);
            free(with_scheme);
        }
        hits += n;
    }
    return hits;
}

/* The whole message for full rules: header fields as received, a blank line, the body. */
static void build_full(const struct rules_message *msg, struct textbuf *out)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        textbuf_puts(out, msg->headers[i].name);
        textbuf_puts(out, ": ");
        textbuf_puts(out, msg->headers[i].value ? msg->headers[i].value : "");
        textbuf_puts(out, "\n");
    }
    textbuf_puts(out, "\n");
    if (msg->body != NULL)
        textbuf_append(out, msg->body, msg->body_len);
}

struct eval_state {
    const struct rules_message *msg;
    struct header_cache *headers;  /* the view's, or one of this call's own */
    struct header_cache *own_headers;
    const struct rules_limits *limits;
    struct regex_matcher matcher;
    struct prefilter_state prefilter;
    struct textbuf full;
    bool full_built;
    struct eval_ctx plugins;       /* what eval: tests and plugin rule types see */
};

/* A body, rawbody or full rule on its one text: PCRE2 when the prefilter cannot rule it out. */
static unsigned run_text(const struct rule *r, struct eval_state *st, const char *text,
    size_t len)
{
    if (!prefilter_may_match(&st->prefilter, r, 0, text, len))
        return 0;
    return regex_count(&st->matcher, r->regex, text, len, max_hits(r));
}

static unsigned run_eval(const struct rule *r, struct eval_state *st)
{
    struct eval_call call = { r, r->eval_args, r->eval_argc, r->eval_state };
    unsigned n = r->eval->run(&st->plugins, &call);
    unsigned most = max_hits(r);
    return n > most ? most : n;
}

static unsigned run_plain(const struct rule *r, struct eval_state *st)
{
    const struct rules_message *msg = st->msg;
    const struct message_view *view = msg->view;
    if (r->eval != NULL)
        return run_eval(r, st);
    switch (r->type) {
    case RULE_HEADER:
        return run_header(r, msg, st->headers, st->limits, &st->matcher, &st->prefilter);
    case RULE_BODY:
        if (view == NULL || view->text == NULL)
            return 0;
        return run_text(r, st, view->text, cap(view->text_len, st->limits->body_bytes));
    case RULE_RAWBODY:
        if (view == NULL || view->rawtext == NULL)
            return 0;
        return run_text(r, st, view->rawtext, cap(view->rawtext_len, st->limits->rawbody_bytes));
    case RULE_URI:
        return view == NULL ? 0 : run_uris(r, view, st->limits, &st->matcher, &st->prefilter);
    case RULE_FULL:
        if (!st->full_built) {
            build_full(msg, &st->full);
            st->full_built = true;
        }
        return run_text(r, st, st->full.data ? st->full.data : "",
            cap(st->full.len, st->limits->full_bytes));
    default:
        return 0;
    }
}

static double default_score(const struct rule *r)
{
    if (r->has_score)
        return r->score;
    if (r->subrule)
        return 0;
    if (strncmp(r->name, "T_", 2) == 0)
        return 0.01;                  /* SpamAssassin's score for rules under test */
    return (r->tflags & TFLAG_NICE) ? -1.0 : 1.0;
}

static void report_hit(const struct rule *r, unsigned count, rules_hit_fn fn, void *arg)
{
    struct rules_hit hit = {
        .name = r->name,
        .score = default_score(r),
        .description = r->description,
        .count = count,
        .subrule = r->subrule,
    };
    fn(&hit, arg);
}

/* Rule values before evaluation: a rule skipped because its block is false is 0, as it is to
 * SpamAssassin without that plugin; any other skipped rule is 0 too, or unknown when the
 * policy asks for three-valued meta rules. */
static void init_values(const struct ruleset *rs, const struct rules_limits *limits,
    struct tri *values)
{
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        bool unknown = limits->skipped_unknown && r->defined && r->skip_reason != NULL
            && strcmp(r->skip_reason, SKIP_INACTIVE_BLOCK) != 0;
        values[i] = (struct tri){ 0, !unknown };
    }
    values[rs->count] = (struct tri){ 0, true };      /* undefined names */
}

void ruleset_eval(const struct ruleset *rs, const struct rules_message *msg,
    const struct rules_limits *limits, rules_hit_fn fn, void *arg, struct rules_eval_stats *stats)
{
    struct eval_state st = { .msg = msg, .limits = limits };
    st.headers = msg->view != NULL ? msg->view->header_cache : NULL;
    if (st.headers == NULL || header_cache_fields(st.headers) != msg->headers)
        st.headers = st.own_headers = header_cache_new(msg->headers, msg->header_count);
    regex_matcher_init(&st.matcher, limits->match_limit, limits->depth_limit);
    prefilter_state_init(&st.prefilter, rs, limits->prefilter);
    textbuf_init(&st.full);
    st.plugins = (struct eval_ctx){ .msg = msg, .rs = rs, .limits = limits,
        .headers = st.headers, .matcher = &st.matcher };
    struct tri *values = xcalloc(rs->count + 1, sizeof *values);
    init_values(rs, limits, values);
    size_t stack_size = 1;
    for (size_t i = 0; i < rs->meta_order_count; i++) {
        size_t d = rs->rules[rs->meta_order[i]].meta.depth;
        if (d > stack_size)
            stack_size = d;
    }
    struct tri *stack = xcalloc(stack_size, sizeof *stack);

    for (size_t i = 0; i < rs->plain_count; i++) {
        const struct rule *r = &rs->rules[rs->plain[i]];
        unsigned count = run_plain(r, &st);
        values[rs->plain[i]].value = count;
        if (count > 0)
            report_hit(r, count, fn, arg);
    }
    for (size_t i = 0; i < rs->meta_order_count; i++) {
        const struct rule *r = &rs->rules[rs->meta_order[i]];
        struct tri v = expr_eval(&r->meta, values, stack);
        bool hit = v.known && v.value != 0;
        values[rs->meta_order[i]] = v;      /* metas of metas see the value, as in Perl */
        if (hit)
            report_hit(r, 1, fn, arg);
    }
    if (stats != NULL) {
        stats->rules_run = rs->plain_count + rs->meta_order_count;
        stats->limit_hits = st.matcher.limit_hits;
    }
    free(stack);
    free(values);
    eval_ctx_release(&st.plugins);
    textbuf_free(&st.full);
    regex_matcher_free(&st.matcher);
    prefilter_state_free(&st.prefilter);
    header_cache_free(st.own_headers);
}
