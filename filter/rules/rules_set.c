/* rules_set.c - the table of rules by name (SpamAssassin semantics: a later definition of a
 * name replaces the earlier one; score, describe and tflags may come before or after it),
 * finishing a ruleset (compile every rule, resolve meta rules and order them so dependencies
 * run first, find loops) and the report of what loaded and what was skipped, and why. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_evalfn.h"
#include "rules_internal.h"
#include "util.h"

const char *rule_type_name(enum rule_type type)
{
    static const char *const names[] = { "header", "body", "rawbody", "uri", "full", "meta",
        "plugin" };
    return type < RULE_TYPE_COUNT ? names[type] : "?";
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void rehash(struct ruleset *rs)
{
    free(rs->slots);
    rs->slot_count = rs->slot_count ? rs->slot_count * 2 : 1024;
    rs->slots = xcalloc(rs->slot_count, sizeof *rs->slots);
    for (size_t i = 0; i < rs->count; i++) {
        size_t s = name_hash(rs->rules[i].name) & (rs->slot_count - 1);
        while (rs->slots[s] != 0)
            s = (s + 1) & (rs->slot_count - 1);
        rs->slots[s] = i + 1;
    }
}

static size_t find_slot(const struct ruleset *rs, const char *name)
{
    if (rs->slot_count == 0)
        return SIZE_MAX;
    size_t s = name_hash(name) & (rs->slot_count - 1);
    while (rs->slots[s] != 0) {
        if (strcmp(rs->rules[rs->slots[s] - 1].name, name) == 0)
            return s;
        s = (s + 1) & (rs->slot_count - 1);
    }
    return SIZE_MAX;
}

struct rule *ruleset_rule(struct ruleset *rs, const char *name, bool create)
{
    size_t s = find_slot(rs, name);
    if (s != SIZE_MAX)
        return &rs->rules[rs->slots[s] - 1];
    if (!create)
        return NULL;
    if (rs->count == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 256;
        rs->rules = xrealloc(rs->rules, rs->cap * sizeof *rs->rules);
    }
    struct rule *r = &rs->rules[rs->count++];
    memset(r, 0, sizeof *r);
    r->name = xstrdup(name);
    r->subrule = strncmp(name, "__", 2) == 0;
    if ((rs->count + 1) * 2 > rs->slot_count) {
        rehash(rs);
    } else {
        size_t slot = name_hash(name) & (rs->slot_count - 1);
        while (rs->slots[slot] != 0)
            slot = (slot + 1) & (rs->slot_count - 1);
        rs->slots[slot] = rs->count;
    }
    return r;
}

const struct rule *ruleset_rule_const(const struct ruleset *rs, const char *name)
{
    size_t s = find_slot(rs, name);
    return s == SIZE_MAX ? NULL : &rs->rules[rs->slots[s] - 1];
}

size_t ruleset_index(const struct ruleset *rs, const struct rule *r)
{
    return (size_t)(r - rs->rules);
}

void ruleset_note_ignored(struct ruleset *rs, const char *directive)
{
    for (size_t i = 0; i < rs->ignored_count; i++) {
        if (strcmp(rs->ignored[i].name, directive) == 0) {
            rs->ignored[i].count++;
            return;
        }
    }
    rs->ignored = xrealloc(rs->ignored, (rs->ignored_count + 1) * sizeof *rs->ignored);
    rs->ignored[rs->ignored_count++] = (struct directive_count){ xstrdup(directive), 1 };
}

void ruleset_add_directive(struct ruleset *rs, const char *name, const char *value,
    const char *origin)
{
    rs->directives = xrealloc(rs->directives, (rs->directive_count + 1) * sizeof *rs->directives);
    rs->directives[rs->directive_count++] = (struct plugin_directive){
        xstrdup(name), xstrdup(value), xstrdup(origin ? origin : "") };
}

const char *ruleset_directive(const struct ruleset *rs, const char *name, size_t i)
{
    for (size_t k = 0; k < rs->directive_count; k++) {
        if (strcmp(rs->directives[k].name, name) != 0)
            continue;
        if (i == 0)
            return rs->directives[k].value;
        i--;
    }
    return NULL;
}

const char *ruleset_ok_locales(const struct ruleset *rs)
{
    return rs->ok_locales;
}

const char *ruleset_directive_next(const struct ruleset *rs, const char *name, size_t *cursor)
{
    for (size_t k = *cursor; k < rs->directive_count; k++) {
        if (strcmp(rs->directives[k].name, name) == 0) {
            *cursor = k + 1;
            return rs->directives[k].value;
        }
    }
    *cursor = rs->directive_count;
    return NULL;
}

void rule_skip(struct rule *r, const char *reason, const char *detail)
{
    r->skip_reason = reason;
    free(r->skip_detail);
    r->skip_detail = detail ? xstrdup(detail) : NULL;
}

/* Forgets a previous definition (the name is being defined again). */
void rule_reset_definition(struct rule *r)
{
    free(r->origin);
    free(r->source);
    free(r->header);
    free(r->if_unset);
    free(r->skip_detail);
    if (r->regex != NULL)
        pcre2_code_free(r->regex);
    free(r->pattern);
    free(r->prefilter_pattern);
    r->pattern = r->prefilter_pattern = NULL;
    capture_free_rule(r);
    expr_free(&r->meta);
    if (r->eval != NULL && r->eval->free_state != NULL && r->eval_state != NULL)
        r->eval->free_state(r->eval_state);
    for (size_t i = 0; i < r->eval_argc; i++)
        free(r->eval_args[i]);
    free(r->eval_args);
    r->eval = NULL;
    r->eval_args = NULL;
    r->eval_argc = 0;
    r->eval_state = NULL;
    r->origin = r->source = r->header = r->if_unset = r->skip_detail = NULL;
    r->regex = NULL;
    r->skip_reason = NULL;
    r->negate = r->exists_test = r->depends_unknown = false;
    r->hsrc = HSRC_NAMED;
    r->hpart = HPART_VALUE;
    r->defined = false;
}

struct ruleset *ruleset_new(void)
{
    return xcalloc(1, sizeof(struct ruleset));
}

void ruleset_free(struct ruleset *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->count; i++) {
        rule_reset_definition(&rs->rules[i]);
        free(rs->rules[i].name);
        free(rs->rules[i].description);
    }
    free(rs->rules);
    free(rs->slots);
    free(rs->meta_order);
    free(rs->plain);
    for (size_t i = 0; i < rs->header_name_count; i++)
        free(rs->header_names[i]);
    free(rs->header_names);
    for (size_t i = 0; i < rs->text_count; i++)
        free(rs->text_keys[i]);
    free(rs->text_keys);
    for (size_t i = 0; i < rs->directive_count; i++) {
        free(rs->directives[i].name);
        free(rs->directives[i].value);
        free(rs->directives[i].origin);
    }
    free(rs->directives);
    for (size_t i = 0; i < rs->ignored_count; i++)
        free(rs->ignored[i].name);
    free(rs->ignored);
    for (size_t i = 0; i < rs->tag_count; i++) {
        free(rs->tags[i].name);
        free(rs->tags[i].value);
    }
    free(rs->tags);
    ruleset_uri_free(rs);
    prefilter_free(rs->prefilter);
    free(rs);
}

/* ---- finishing: meta resolution and order ---- */

static int compare_names(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* The fields the loaded header rules read, for txn.c to keep them past the header limits. */
static void collect_header_names(struct ruleset *rs)
{
    rs->header_names = xcalloc(rs->plain_count + 1, sizeof *rs->header_names);
    for (size_t i = 0; i < rs->plain_count; i++) {
        const struct rule *r = &rs->rules[rs->plain[i]];
        if (r->type == RULE_HEADER && r->hsrc == HSRC_NAMED && r->header != NULL)
            rs->header_names[rs->header_name_count++] = xstrdup(r->header);
    }
    qsort(rs->header_names, rs->header_name_count, sizeof *rs->header_names, compare_names);
    size_t kept = 0;
    for (size_t i = 0; i < rs->header_name_count; i++) {
        if (kept > 0 && strcasecmp(rs->header_names[kept - 1], rs->header_names[i]) == 0)
            free(rs->header_names[i]);
        else
            rs->header_names[kept++] = rs->header_names[i];
    }
    rs->header_name_count = kept;
}

bool ruleset_names_header(const struct ruleset *rs, const char *name)
{
    if (rs->header_name_count == 0)
        return false;
    return bsearch(&name, rs->header_names, rs->header_name_count, sizeof *rs->header_names,
        compare_names) != NULL;
}

enum visit { UNSEEN, VISITING, DONE };

static void resolve_meta(struct ruleset *rs, struct rule *r)
{
    for (size_t i = 0; i < r->meta.count; i++) {
        struct expr_item *it = &r->meta.items[i];
        if (it->op != EXPR_NAME)
            continue;
        const struct rule *dep = ruleset_rule_const(rs, it->name);
        if (dep == NULL || !dep->defined) {
            it->index = rs->count;             /* undefined: 0, as SpamAssassin has it */
            continue;
        }
        it->index = ruleset_index(rs, dep);
    }
}

/* Depth-first: dependencies of a meta enter the order before it; a loop skips the metas on it. */
static bool order_meta(struct ruleset *rs, size_t idx, unsigned char *state, size_t depth)
{
    struct rule *r = &rs->rules[idx];
    if (state[idx] == DONE)
        return r->skip_reason == NULL;
    if (state[idx] == VISITING || depth > 10000) {
        rule_skip(r, SKIP_META_LOOP, NULL);
        return false;
    }
    state[idx] = VISITING;
    for (size_t i = 0; i < r->meta.count; i++) {
        const struct expr_item *it = &r->meta.items[i];
        if (it->op != EXPR_NAME || it->index >= rs->count)
            continue;
        struct rule *dep = &rs->rules[it->index];
        if (dep->type == RULE_META && dep->skip_reason == NULL
                && !order_meta(rs, it->index, state, depth + 1)
                && strcmp(dep->skip_reason, SKIP_META_LOOP) == 0)
            rule_skip(r, SKIP_META_LOOP, dep->name);
        if (dep->skip_reason != NULL && strcmp(dep->skip_reason, SKIP_INACTIVE_BLOCK) != 0)
            r->depends_unknown = true;
    }
    state[idx] = DONE;
    if (r->skip_reason == NULL)
        rs->meta_order[rs->meta_order_count++] = idx;
    return r->skip_reason == NULL;
}

/* The superset of a ReplaceTags rule with each tag widened (rules_replace_tags_superset), for
 * the prefilter to use when the expansion is too long for Hyperscan (which then left the rule
 * to PCRE2 on every line). Not for header rules (their text is not a bare match operator). */
static void prefilter_superset(const struct ruleset *rs, struct rule *r)
{
    free(r->prefilter_pattern);
    r->prefilter_pattern = NULL;
    if (r->replace_source == NULL || r->type == RULE_HEADER)
        return;
    char *wide = rules_replace_tags_superset(rs, r->replace_source);
    if (wide != NULL)
        r->prefilter_pattern = regex_perl_pattern(wide);
    free(wide);
}

/* A ReplaceTags rule PCRE2 refuses as too large: compiled again with each tag's regex once, in
 * a DEFINE group, and subroutine calls where the tags were. The plain expansion stays the
 * rule's pattern for the prefilter. */
static void compile_with_shared_tags(struct ruleset *rs, struct rule *r)
{
    char *unexpanded = r->replace_source;
    r->replace_source = NULL;
    if (unexpanded == NULL)
        return;
    char *defines = NULL;
    char *shared = rules_replace_tags_shared(rs, unexpanded, &defines);
    free(unexpanded);
    if (shared == NULL)
        return;
    char *plain_pattern = r->pattern;
    r->pattern = NULL;
    free(r->source);
    r->source = shared;
    r->tag_defines = defines;
    free(r->header);
    free(r->if_unset);
    r->header = r->if_unset = NULL;
    r->skip_reason = NULL;
    rule_compile(rs, r);
    free(r->pattern);
    r->pattern = plain_pattern;
    free(r->tag_defines);
    r->tag_defines = NULL;
}

/* A template rule naming a tag that no loaded rule captures and that is none of the template
 * tags we compute (rules_template_tags.c) could never run: skipped, with the tag named
 * (SpamAssassin's SCORE, TESTS, HEADER(...), plugins' tags ... are not computed). */
static bool tag_captured(const struct ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        if (!r->defined || r->skip_reason != NULL)
            continue;
        for (size_t k = 0; k < r->capture_count; k++) {
            if (strcmp(r->capture_names[k], name) == 0)
                return true;
        }
    }
    return false;
}

static void skip_uncaptured_templates(struct ruleset *rs)
{
    for (size_t i = 0; i < rs->count; i++) {
        struct rule *r = &rs->rules[i];
        for (size_t k = 0; r->defined && r->skip_reason == NULL && k < r->template_count; k++) {
            if (template_tag_builtin(r->templates[k]))
                rs->reads_template_tags = true;
            else if (!tag_captured(rs, r->templates[k]))
                rule_skip(r, SKIP_TEMPLATE_TAG, r->templates[k]);
        }
    }
}

/* Each header rule's text gets a number, the same for rules reading the same header with
 * the same modifiers, so an evaluation finds a text made once by its number. */
static void number_header_texts(struct ruleset *rs)
{
    rs->text_count = 0;
    for (size_t i = 0; i < rs->count; i++) {
        struct rule *r = &rs->rules[i];
        if (!r->defined || r->skip_reason != NULL || r->type != RULE_HEADER)
            continue;
        char *key = rules_header_text_key(r);
        size_t k = 0;
        while (k < rs->text_count && strcmp(rs->text_keys[k], key) != 0)
            k++;
        if (k == rs->text_count) {
            rs->text_keys = xrealloc(rs->text_keys, (rs->text_count + 1) * sizeof *rs->text_keys);
            rs->text_keys[rs->text_count++] = key;
        } else {
            free(key);
        }
        r->text_id = k;
    }
    for (size_t i = 0; i < rs->count; i++) {   /* after: the array may have moved */
        struct rule *r = &rs->rules[i];
        if (r->defined && r->skip_reason == NULL && r->type == RULE_HEADER)
            r->text_key = rs->text_keys[r->text_id];
    }
}

void ruleset_finish(struct ruleset *rs)
{
    if (rs->finished)
        return;
    rs->finished = true;
    ruleset_uri_finish(rs);
    for (size_t i = 0; i < rs->count; i++) {
        struct rule *r = &rs->rules[i];
        if (r->defined && r->skip_reason == NULL && r->replace_tags && r->source != NULL) {
            char *expanded = rules_replace_tags(rs, r->source);
            r->replace_source = r->source;
            prefilter_superset(rs, r);
            r->source = expanded;
            if (expanded == NULL)
                rule_skip(r, SKIP_TAGS_TOO_LARGE, NULL);
        }
        if (r->defined && r->skip_reason == NULL)
            rule_compile(rs, r);
        if (r->replace_tags && r->skip_reason != NULL && strcmp(r->skip_reason, SKIP_REGEX_TOO_LARGE) == 0)
            compile_with_shared_tags(rs, r);
        free(r->source);
        free(r->replace_source);
        r->source = r->replace_source = NULL;
    }
    rs->meta_order = xcalloc(rs->count + 1, sizeof *rs->meta_order);
    rs->plain = xcalloc(rs->count + 1, sizeof *rs->plain);
    skip_uncaptured_templates(rs);
    /* capture rules first (SpamAssassin's priority -10000), each part in file order */
    for (int captures = 1; captures >= 0; captures--) {
        for (size_t i = 0; i < rs->count; i++) {
            struct rule *r = &rs->rules[i];
            if (!r->defined || r->skip_reason != NULL || r->type == RULE_META)
                continue;
            if ((r->capture_count > 0) == (captures == 1))
                rs->plain[rs->plain_count++] = i;
        }
    }
    for (size_t i = 0; i < rs->count; i++) {
        struct rule *r = &rs->rules[i];
        if (r->defined && r->skip_reason == NULL && r->type == RULE_META)
            resolve_meta(rs, r);
    }
    collect_header_names(rs);
    number_header_texts(rs);
    size_t cursor = 0;
    for (const char *v; (v = ruleset_directive_next(rs, "ok_locales", &cursor)) != NULL;)
        rs->ok_locales = v;
    unsigned char *state = xcalloc(rs->count + 1, 1);
    for (size_t i = 0; i < rs->count; i++) {
        struct rule *r = &rs->rules[i];
        if (r->defined && r->skip_reason == NULL && r->type == RULE_META)
            order_meta(rs, i, state, 0);
    }
    free(state);
    rules_autolearn_shares(rs);
    prefilter_build(rs);
}

/* ---- counts and the report ---- */

size_t ruleset_loaded(const struct ruleset *rs)
{
    return rs->plain_count + rs->meta_order_count;
}

size_t ruleset_skipped(const struct ruleset *rs)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->count; i++)
        n += rs->rules[i].defined && rs->rules[i].skip_reason != NULL;
    return n;
}

size_t ruleset_skipped_for(const struct ruleset *rs, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        n += r->defined && r->skip_reason != NULL && strncmp(r->skip_reason, prefix, len) == 0;
    }
    return n;
}

const char *ruleset_skip_reason(const struct ruleset *rs, const char *name)
{
    const struct rule *r = ruleset_rule_const(rs, name);
    return r != NULL && r->defined ? r->skip_reason : NULL;
}

bool rule_never_runs(const struct rule *r)
{
    if (!r->has_score || r->scored_by_policy)
        return false;
    for (size_t i = 0; i < RULES_SCORE_SETS; i++) {
        if (r->scores[i] != 0)
            return false;
    }
    return true;
}

void ruleset_mark_scored_by_policy(struct ruleset *rs, const char *name)
{
    struct rule *r = ruleset_rule(rs, name, false);
    if (r != NULL)
        r->scored_by_policy = true;
}

bool ruleset_has_rule(const struct ruleset *rs, const char *name)
{
    const struct rule *r = ruleset_rule_const(rs, name);
    return r != NULL && r->defined && r->skip_reason == NULL;
}

const char *ruleset_rule_origin(const struct ruleset *rs, const char *name)
{
    const struct rule *r = ruleset_rule_const(rs, name);
    if (r == NULL || !r->defined || r->skip_reason != NULL)
        return NULL;
    return r->origin != NULL ? r->origin : "?";
}

struct tally {
    const char *key;
    size_t count;
    char examples[400];
};

/* Counts key; the first three examples of each key are kept. */
static void tally_add(struct tally **items, size_t *count, const char *key, const char *example)
{
    for (size_t i = 0; i < *count; i++) {
        struct tally *t = &(*items)[i];
        if (strcmp(t->key, key) != 0)
            continue;
        if (++t->count <= 3) {
            size_t used = strlen(t->examples);
            snprintf(t->examples + used, sizeof t->examples - used, ", %s", example);
        }
        return;
    }
    *items = xrealloc(*items, (*count + 1) * sizeof **items);
    struct tally *t = &(*items)[(*count)++];
    t->key = key;
    t->count = 1;
    snprintf(t->examples, sizeof t->examples, "%s", example);
}

static int tally_cmp(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->key, y->key);
}

static void report_loaded(const struct ruleset *rs, void (*out)(const char *, void *), void *arg)
{
    size_t by_type[RULE_TYPE_COUNT] = {0};
    size_t unknown_deps = 0, evals = 0;
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        if (r->defined && r->skip_reason == NULL) {
            if (r->eval != NULL)
                evals++;
            else
                by_type[r->type]++;
            unknown_deps += r->depends_unknown;
        }
    }
    line_printf(out, arg, "rules: %zu loaded (header %zu, body %zu, rawbody %zu, uri %zu, "
        "full %zu, meta %zu, eval and plugin %zu), %zu skipped, from %zu file%s",
        ruleset_loaded(rs), by_type[RULE_HEADER], by_type[RULE_BODY], by_type[RULE_RAWBODY],
        by_type[RULE_URI], by_type[RULE_FULL], by_type[RULE_META], evals, ruleset_skipped(rs),
        rs->file_count, rs->file_count == 1 ? "" : "s");
    if (unknown_deps > 0)
        line_printf(out, arg, "rules: %zu meta rules use skipped rules (which count as 0, or as "
            "unknown with rules.skipped_rules = \"unknown\")", unknown_deps);
}

static void report_skipped(const struct ruleset *rs, void (*out)(const char *, void *), void *arg)
{
    struct tally *reasons = NULL, *conditions = NULL;
    size_t reason_count = 0, condition_count = 0;
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        if (!r->defined || r->skip_reason == NULL)
            continue;
        char example[200];
        snprintf(example, sizeof example, r->skip_detail ? "%s (%s)" : "%s", r->name,
            r->skip_detail ? r->skip_detail : "");
        tally_add(&reasons, &reason_count, r->skip_reason, example);
        bool in_block = strcmp(r->skip_reason, SKIP_INACTIVE_BLOCK) == 0
            || strcmp(r->skip_reason, SKIP_NETWORK_SERVICE) == 0
            || strcmp(r->skip_reason, SKIP_NOT_DEFAULT_PLUGIN) == 0;
        if (in_block && r->skip_detail != NULL)
            tally_add(&conditions, &condition_count, r->skip_detail, r->name);
    }
    if (reason_count > 0)
        qsort(reasons, reason_count, sizeof *reasons, tally_cmp);
    for (size_t i = 0; i < reason_count; i++)
        line_printf(out, arg, "rules skipped: %zu %s: e.g. %s", reasons[i].count,
            reasons[i].key, reasons[i].examples);
    if (condition_count > 0) {
        qsort(conditions, condition_count, sizeof *conditions, tally_cmp);
        char line[900] = "";
        for (size_t i = 0; i < condition_count && i < 12; i++) {
            size_t used = strlen(line);
            snprintf(line + used, sizeof line - used, "%s%s %zu", i ? ", " : "",
                conditions[i].key, conditions[i].count);
        }
        line_printf(out, arg, "rules skipped in false if/ifplugin blocks, by condition: %s",
            line);
    }
    free(reasons);
    free(conditions);
}

static int ignored_cmp(const void *a, const void *b)
{
    const struct directive_count *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

void ruleset_report(const struct ruleset *rs, void (*out)(const char *line, void *arg), void *arg)
{
    report_loaded(rs, out, arg);
    report_skipped(rs, out, arg);
    if (rs->ignored_count > 0) {
        struct directive_count *sorted = xcalloc(rs->ignored_count, sizeof *sorted);
        memcpy(sorted, rs->ignored, rs->ignored_count * sizeof *sorted);
        qsort(sorted, rs->ignored_count, sizeof *sorted, ignored_cmp);
        char line[900] = "";
        size_t total = 0;
        for (size_t i = 0; i < rs->ignored_count; i++) {
            total += sorted[i].count;
            size_t used = strlen(line);
            if (i < 10)
                snprintf(line + used, sizeof line - used, "%s%s %zu", i ? ", " : "",
                    sorted[i].name, sorted[i].count);
        }
        line_printf(out, arg, "rules: %zu settings for SpamAssassin itself or its plugins "
            "ignored: %s%s", total, line, rs->ignored_count > 10 ? ", ..." : "");
        free(sorted);
    }
    if (rs->malformed_lines > 0)
        line_printf(out, arg, "rules: %zu malformed lines ignored", rs->malformed_lines);
}
