/* rules_eval.c - runs a finished ruleset on one message: header, body (each line of the decoded
 * text: a paragraph, as SpamAssassin joins them), rawbody (each piece of the text parts
 * undecoded from HTML), uri (SpamAssassin's URI list with canonical forms, rules_uri.c) and
 * full (the whole message) rules, then the meta rules in dependency
 * order. Each input is capped by the policy's byte limits and every match by PCRE2's limits.
 * Header texts come from the message view's header cache (each field decoded once per
 * message, however many rules read it), or from one of the call's own when the message has no
 * view; all other scratch state belongs to the call, so threads share the ruleset freely.
 * With the Hyperscan prefilter (rules_prefilter.c) each text (a header text, a body line, a
 * URI, the full message) is scanned once for all the rules that read it, and PCRE2 runs only
 * on the rules it reports. Capture rules run first; a rule with %{TAG} templates runs with a
 * regex made for the message's captured tags, or not at all (rules_capture.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header_cache.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "rules_relays.h"
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

/* The text of a relay pseudo-header (X-Spam-Relays-*): always present, as in SpamAssassin. */
static const char *relays_text(const struct rule *r, struct eval_ctx *ctx)
{
    const struct rules_relays *relays = eval_relays(ctx);
    switch (r->hsrc) {
    case HSRC_RELAYS_TRUSTED: return relays->pseudo_trusted;
    case HSRC_RELAYS_UNTRUSTED: return relays->pseudo_untrusted;
    case HSRC_RELAYS_INTERNAL: return relays->pseudo_internal;
    case HSRC_RELAYS_EXTERNAL: return relays->pseudo_external;
    default: return NULL;
    }
}

/* ALL-TRUSTED, ALL-INTERNAL (fields up to the last trusted/internal relay's Received line,
 * and the next one), ALL-UNTRUSTED, ALL-EXTERNAL (from that next Received line on). */
static bool relay_range_text(const struct rule *r, const struct rules_message *msg,
    struct header_cache *cache, size_t cap, struct eval_ctx *ctx, const char **text, size_t *len)
{
    const struct rules_relays *relays = eval_relays(ctx);
    long trusted_end = relays->last_trusted_received + 1;
    long internal_end = relays->last_internal_received + 1;
    switch (r->hsrc) {
    case HSRC_ALL_TRUSTED:
        return rules_header_range_text(r, msg, cache, cap, -1, trusted_end, text, len);
    case HSRC_ALL_INTERNAL:
        return rules_header_range_text(r, msg, cache, cap, -1, internal_end, text, len);
    case HSRC_ALL_UNTRUSTED:
        return rules_header_range_text(r, msg, cache, cap, trusted_end, -1, text, len);
    default:
        return rules_header_range_text(r, msg, cache, cap, internal_end, -1, text, len);
    }
}

/* A header text found for one rule, kept for the others reading it (rule.text_id). */
struct header_text {
    bool found;
    bool present;
    const char *text;
    size_t len;
};

static unsigned run_header(const struct rule *r, const pcre2_code *re,
    const struct rules_message *msg, struct header_cache *cache,
    const struct rules_limits *limits, struct regex_matcher *m, struct eval_ctx *ctx,
    struct prefilter_state *pf, struct header_text *found)
{
    size_t cap_bytes = limits->header_bytes > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)limits->header_bytes;
    const char *text = relays_text(r, ctx);
    size_t len = text != NULL ? strlen(text) : 0;
    bool present;
    if (text != NULL) {
        present = true;
    } else if (found->found) {
        present = found->present;
        text = found->text;
        len = found->len;
    } else {
        if (r->hsrc >= HSRC_ALL_TRUSTED && r->hsrc <= HSRC_ALL_EXTERNAL)
            present = relay_range_text(r, msg, cache, cap_bytes, ctx, &text, &len);
        else
            present = rules_header_text(r, msg, cache, cap_bytes, &text, &len);
        *found = (struct header_text){ true, present, text, len };
    }
    if (r->exists_test)
        return present;
    if (!present && r->if_unset != NULL) {
        text = r->if_unset;
        len = strlen(text);
    }
    unsigned n = 0;
    if (!present || prefilter_may_match(pf, r, 0, text, cap(len, limits->header_bytes)))
        n = regex_count(m, re, text, cap(len, limits->header_bytes), max_hits(r));
    return r->negate ? n == 0 : n;
}

/* Matches each line (SpamAssassin's body / rawbody arrays) on its own, as Perl does: ^ and
 * $ at the line's ends, nothing across lines; at most limit bytes of text are read. */
static unsigned run_lines(const struct rule *r, const pcre2_code *re, const char *text,
    const struct view_line *lines,
    size_t line_count, uint64_t limit, size_t first, struct regex_matcher *m,
    struct prefilter_state *pf)
{
    unsigned hits = 0, most = max_hits(r);
    if (!prefilter_any_line_may_match(pf, r, text, lines, line_count, limit))
        return 0;                   /* a candidate on no line: none can match */
    for (size_t i = first; i < line_count && hits < most; i++) {
        if (lines[i].start >= limit)
            break;
        size_t len = cap(lines[i].len, limit - lines[i].start);
        /* each line is one prefilter slot: scanned once for all the rules of its text */
        if (prefilter_may_match(pf, r, i, text + lines[i].start, len))
            hits += regex_count(m, re, text + lines[i].start, len, most - hits);
    }
    return hits;
}

/* Lines of a text given without them (a view made by hand): split after each "\n". */
static struct view_line *split_lines(const char *text, size_t len, size_t *count)
{
    size_t n = 0, alloc = 0;
    struct view_line *lines = NULL;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 16;
            lines = xrealloc(lines, alloc * sizeof *lines);
        }
        lines[n++] = (struct view_line){ .start = pos, .len = end - pos };
        pos = end;
    }
    *count = n;
    return lines;
}

static unsigned run_uris(const struct rule *r, const pcre2_code *re,
    const struct rules_uri_details *d, struct regex_matcher *m, struct prefilter_state *pf)
{
    unsigned hits = 0, most = max_hits(r);
    for (size_t i = 0; i < d->list_count && hits < most; i++) {
        size_t len = strlen(d->list[i]);
        if (prefilter_may_match(pf, r, i, d->list[i], len))
            hits += regex_count(m, re, d->list[i], len, most - hits);
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
    const struct ruleset *rs;
    struct view_line *body_lines, *raw_lines;  /* the view's, or split here */
    size_t body_line_count, raw_line_count;
    struct view_line *own_body_lines, *own_raw_lines;
    struct eval_ctx plugins;       /* what eval: tests and plugin rule types see */
    struct capture_tags *tags;     /* what capture rules captured (rules_capture.c) */
    struct header_text *header_texts;  /* by rule.text_id, found on first use */
};

static unsigned run_eval(const struct rule *r, struct eval_state *st)
{
    /* SpamAssassin without network tests (spamd -L) skips eval rules marked tflags net; so do
     * we when the message has no DNS answers (no resolver, mailwarden-check without DNS) */
    if ((r->tflags & TFLAG_NET) && (st->msg->dns == NULL || st->msg->dns->lookup == NULL))
        return 0;
    /* ... and the Bayes ones (tflags learn) in a score set without Bayes */
    if ((r->tflags & TFLAG_LEARN) && !(rules_score_set(st->msg) & RULES_SET_BAYES))
        return 0;
    struct eval_call call = { r, r->eval_args, r->eval_argc, r->eval_state };
    unsigned n = r->eval->run(&st->plugins, &call);
    unsigned most = max_hits(r);
    return n > most ? most : n;
}

static unsigned run_regex(const struct rule *r, const pcre2_code *re, struct eval_state *st)
{
    const struct rules_message *msg = st->msg;
    const struct message_view *view = msg->view;
    switch (r->type) {
    case RULE_HEADER:
        return run_header(r, re, msg, st->headers, st->limits, &st->matcher, &st->plugins,
            &st->prefilter, &st->header_texts[r->text_id]);
    case RULE_BODY:
        if (view == NULL || view->text == NULL)
            return 0;
        return run_lines(r, re, view->text, st->body_lines, st->body_line_count,
            st->limits->body_bytes, (r->tflags & TFLAG_NOSUBJECT) ? 1 : 0, &st->matcher,
            &st->prefilter);
    case RULE_RAWBODY:
        if (view == NULL || view->rawtext == NULL)
            return 0;
        return run_lines(r, re, view->rawtext, st->raw_lines, st->raw_line_count,
            st->limits->rawbody_bytes, 0, &st->matcher, &st->prefilter);
    case RULE_URI:
        if (view == NULL)
            return 0;
        return run_uris(r, re, eval_uri_details(&st->plugins), &st->matcher, &st->prefilter);
    case RULE_FULL:
        if (!st->full_built) {
            build_full(msg, &st->full);
            st->full_built = true;
        }
        if (!prefilter_may_match(&st->prefilter, r, 0, st->full.data ? st->full.data : "",
                cap(st->full.len, st->limits->full_bytes)))
            return 0;
        return regex_count(&st->matcher, re, st->full.data ? st->full.data : "",
            cap(st->full.len, st->limits->full_bytes), max_hits(r));
    default:
        return 0;
    }
}

/* A capture rule's named groups set tags once it has run; a template rule runs with the
 * regex made for the tags of this message, or not at all (rules_capture.c). */
static unsigned run_plain(const struct rule *r, struct eval_state *st)
{
    if (r->eval != NULL)
        return run_eval(r, st);
    pcre2_code *owned = NULL;
    const pcre2_code *re = capture_rule_regex(r, st->tags, &owned);
    if (re == NULL && r->template_count > 0)
        return 0;                           /* a tag it reads was not captured */
    bool capturing = r->capture_count > 0 && !r->negate && !r->exists_test;
    struct capture_tags *pending = capturing ? capture_tags_new() : NULL;
    st->matcher.captures = pending;
    unsigned n = run_regex(r, re, st);
    st->matcher.captures = NULL;
    if (pending != NULL && n > 0)
        capture_tags_commit(st->tags, pending);
    capture_tags_free(pending);
    if (owned != NULL)
        pcre2_code_free(owned);
    return n;
}

unsigned rules_score_set(const struct rules_message *msg)
{
    unsigned set = 0;
    if (msg->dns != NULL && msg->dns->lookup != NULL)
        set |= RULES_SET_NET;
    if (msg->envelope != NULL && msg->envelope->bayes_available)
        set |= RULES_SET_BAYES;
    return set;
}

static double default_score(const struct rule *r, unsigned set)
{
    if (r->has_score)
        return r->scores[set];
    if (r->subrule)
        return 0;
    if (strncmp(r->name, "T_", 2) == 0)
        return 0.01;                  /* SpamAssassin's score for rules under test */
    return (r->tflags & TFLAG_NICE) ? -1.0 : 1.0;
}

/* SpamAssassin runs no rule whose score in the message's set is 0 (Check.pm: "if
 * ($scoresptr->{RULE})", "next if !$scoresref->{$rulename}", meta_pending only when scored);
 * rules without a score line have SpamAssassin's default, never 0. */
static bool scored_zero(const struct rule *r, unsigned set)
{
    return r->has_score && r->scores[set] == 0 && !r->scored_by_policy;
}

static void report_hit(const struct rule *r, unsigned count, unsigned set, rules_hit_fn fn,
    void *arg)
{
    struct rules_hit hit = {
        .name = r->name,
        .score = default_score(r, set),
        .description = r->description,
        .count = count,
        .subrule = r->subrule,
        .learn = (r->tflags & TFLAG_LEARN) != 0,
        .noautolearn = (r->tflags & (TFLAG_NOAUTOLEARN | TFLAG_USERCONF)) != 0,
        .autolearn_force = (r->tflags & TFLAG_AUTOLEARN_FORCE) != 0,
        .autolearn_score = default_score(r, set & ~RULES_SET_BAYES),
        .autolearn_header_share = r->autolearn_header_share,
        .autolearn_body_share = r->autolearn_body_share,
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
    struct eval_state st = { .msg = msg, .limits = limits, .rs = rs };
    unsigned set = rules_score_set(msg);
    st.headers = msg->view != NULL ? msg->view->header_cache : NULL;
    if (st.headers == NULL || header_cache_fields(st.headers) != msg->headers)
        st.headers = st.own_headers = header_cache_new(msg->headers, msg->header_count);
    regex_matcher_init(&st.matcher, limits->match_limit, limits->depth_limit);
    prefilter_state_init(&st.prefilter, rs, limits->prefilter);
    textbuf_init(&st.full);
    const struct message_view *view = msg->view;
    if (view != NULL) {
        st.body_lines = view->lines;
        st.body_line_count = view->line_count;
        if (view->lines == NULL && view->text != NULL)
            st.body_lines = st.own_body_lines = split_lines(view->text, view->text_len,
                &st.body_line_count);
        st.raw_lines = view->raw_lines;
        st.raw_line_count = view->raw_line_count;
        if (view->raw_lines == NULL && view->rawtext != NULL && view->rawtext_len > 0) {
            st.raw_lines = st.own_raw_lines = xmalloc(sizeof *st.raw_lines);
            st.raw_lines[0] = (struct view_line){ .start = 0, .len = view->rawtext_len };
            st.raw_line_count = 1;
        }
    }
    st.tags = capture_tags_new();
    st.header_texts = xcalloc(rs->text_count + 1, sizeof *st.header_texts);
    st.plugins = (struct eval_ctx){ .msg = msg, .rs = rs, .limits = limits,
        .headers = st.headers, .matcher = &st.matcher };
    struct rules_message with_sender;
    char *found_sender = rules_envelope_from_find(&st.plugins, &with_sender);
    st.msg = st.plugins.msg;
    if (rs->reads_template_tags)
        template_tags_fill(&st.plugins, st.tags);
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
        if (scored_zero(r, set))
            continue;                       /* its value stays a known 0 */
        unsigned count = run_plain(r, &st);
        values[rs->plain[i]].value = count;
        if (count > 0)
            report_hit(r, count, set, fn, arg);
    }
    for (size_t i = 0; i < rs->meta_order_count; i++) {
        const struct rule *r = &rs->rules[rs->meta_order[i]];
        if (scored_zero(r, set))
            continue;
        struct tri v = expr_eval(&r->meta, values, stack);
        bool hit = v.known && v.value != 0;
        values[rs->meta_order[i]] = v;      /* metas of metas see the value, as in Perl */
        if (hit)
            report_hit(r, 1, set, fn, arg);
    }
    if (stats != NULL) {
        stats->score_set = set;
        stats->rules_run = rs->plain_count + rs->meta_order_count;
        stats->limit_hits = st.matcher.limit_hits;
    }
    free(stack);
    free(values);
    eval_ctx_release(&st.plugins);
    capture_tags_free(st.tags);
    free(st.header_texts);
    free(found_sender);
    textbuf_free(&st.full);
    free(st.own_body_lines);
    free(st.own_raw_lines);
    regex_matcher_free(&st.matcher);
    prefilter_state_free(&st.prefilter);
    header_cache_free(st.own_headers);
}
