/* eval_htmleval.c - SpamAssassin's HTMLEval plugin, natively: tests on the statistics the message
 * view gathered while rendering each text/html part (struct view_html_part, view_html.c):
 * html_test, html_eval, html_range, html_tag_exists, html_tag_balance, html_image_only,
 * html_image_ratio, html_text_match, html_text_not_match, html_title_subject_ratio,
 * html_charset_faraway and check_iframe_src. As in SpamAssassin, a test hits when any HTML part
 * satisfies it; a statistic SpamAssassin leaves undefined never satisfies one. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"

/* --- arguments ----------------------------------------------------------------------------- */

/* "< 384", "!= 0", ">= 2": SpamAssassin evaluates "$val EXPR" in Perl. */
struct comparison {
    char op[3];
    double value;
};

struct html_args {
    char *name;                /* the statistic, tag or list */
    double min, max;
    bool max_inf;
    struct comparison cmp;
    pcre2_code *regex;
};

static void free_args(void *state)
{
    struct html_args *a = state;
    if (a == NULL)
        return;
    free(a->name);
    if (a->regex != NULL)
        pcre2_code_free(a->regex);
    free(a);
}

static bool compare(const struct comparison *c, double v)
{
    if (strcmp(c->op, "<") == 0)
        return v < c->value;
    if (strcmp(c->op, ">") == 0)
        return v > c->value;
    if (strcmp(c->op, "<=") == 0)
        return v <= c->value;
    if (strcmp(c->op, ">=") == 0)
        return v >= c->value;
    if (strcmp(c->op, "==") == 0)
        return v == c->value;
    return v != c->value;
}

static struct html_args *new_args(const char *name)
{
    struct html_args *a = xcalloc(1, sizeof *a);
    a->name = xstrdup(name ? name : "");
    return a;
}

static bool prepare_name(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)rs;
    (void)r;
    if (argc < 1) {
        *why = "needs a name";
        return false;
    }
    *state = new_args(args[0]);
    return true;
}

static bool prepare_expr(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)rs;
    (void)r;
    if (argc < 2) {
        *why = "needs a name and a comparison";
        return false;
    }
    struct html_args *a = new_args(args[0]);
    char *expr = g_strstrip(g_strdup(args[1]));
    bool ok = false;
    const char *p = expr;
    static const char *const ops[] = { "<=", ">=", "==", "!=", "<", ">", NULL };
    for (size_t i = 0; ops[i] != NULL && !ok; i++) {
        size_t n = strlen(ops[i]);
        if (strncmp(p, ops[i], n) == 0) {
            memcpy(a->cmp.op, ops[i], n + 1);
            char *num = g_strstrip(g_strdup(p + n));
            ok = eval_arg_number(num, &a->cmp.value);
            g_free(num);
        }
    }
    g_free(expr);
    if (!ok) {
        free_args(a);
        *why = "a comparison such as '< 384'";
        return false;
    }
    *state = a;
    return true;
}

/* (name,) min, max ("inf" allowed for max) */
static bool prepare_range(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)rs;
    (void)r;
    bool named = strcmp(r->eval->name, "html_range") == 0;
    size_t first = named ? 1 : 0;
    if (argc < first + 1) {
        *why = "needs a range";
        return false;
    }
    struct html_args *a = new_args(named ? args[0] : "");
    bool ok = eval_arg_number(args[first], &a->min);
    if (argc > first + 1 && strcmp(args[first + 1], "inf") != 0)
        ok = ok && eval_arg_number(args[first + 1], &a->max);
    else
        a->max_inf = true;
    if (!ok) {
        free_args(a);
        *why = "the range's numbers";
        return false;
    }
    *state = a;
    return true;
}

/* A regex as SpamAssassin's compile_regexp takes it: "/re/flags", "m{re}" or a bare pattern. */
static bool prepare_text_match(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)rs;
    (void)r;
    if (argc < 2) {
        *why = "needs a list and a regex";
        return false;
    }
    struct html_args *a = new_args(args[0]);
    const char *re = args[1];
    if (re[0] == '/' || (re[0] == 'm' && re[1] != '\0' && !g_ascii_isalnum(re[1]))) {
        const char *p = re;
        char *detail = NULL;
        a->regex = regex_compile_perl(&p, 0, why, &detail);
        free(detail);
    } else {
        int err;
        PCRE2_SIZE off;
        a->regex = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
        if (a->regex != NULL)
            pcre2_jit_compile(a->regex, PCRE2_JIT_COMPLETE);
        *why = "regex PCRE2 cannot compile";
    }
    if (a->regex == NULL) {
        free_args(a);
        return false;
    }
    *state = a;
    return true;
}

/* --- the statistics ------------------------------------------------------------------------ */

static const struct view_html_tag_count *tag_of(const struct view_html_part *p, const char *tag)
{
    for (size_t i = 0; i < p->inside_count; i++) {
        if (strcmp(p->inside[i].name, tag) == 0)
            return &p->inside[i];
    }
    return NULL;
}

/* The statistic `name` of a part; false when SpamAssassin has it undefined. */
static bool stat_of(const struct view_html_part *p, const char *name, double *v)
{
    if (strcmp(name, "length") == 0)
        *v = (double)p->length;
    else if (strcmp(name, "html_length") == 0)
        *v = (double)p->html_length;
    else if (strcmp(name, "non_space_len") == 0)
        *v = (double)p->non_space_len;
    else if (strcmp(name, "image_area") == 0)
        *v = p->image_area;
    else if (strcmp(name, "max_size") == 0)
        *v = p->max_size;
    else if (strcmp(name, "min_size") == 0)
        *v = p->min_size;
    else if (strcmp(name, "closed_extra_ratio") == 0)
        *v = p->closed_extra_ratio;
    else if (strcmp(name, "bad_tag_ratio") == 0)
        *v = p->bad_tag_ratio;
    else if (strcmp(name, "non_element_ratio") == 0)
        *v = p->non_element_ratio;
    else if (strcmp(name, "obfuscation_ratio") == 0)
        *v = p->obfuscation_ratio;
    else if (strcmp(name, "backhair_count") == 0)
        *v = p->backhair_count;
    else
        return false;
    return *v >= 0;
}

static bool flag_of(const struct view_html_part *p, const char *name)
{
    if (strcmp(name, "html") == 0)
        return true;
    if (strcmp(name, "font_low_contrast") == 0)
        return p->font_low_contrast;
    if (strcmp(name, "font_invalid_color") == 0)
        return p->font_invalid_color;
    if (strcmp(name, "font_face_bad") == 0)
        return p->font_face_bad;
    if (strcmp(name, "form_action_mailto") == 0)
        return p->form_action_mailto;
    if (strcmp(name, "embeds") == 0)
        return p->embeds;
    double v;
    return stat_of(p, name, &v) && v != 0;
}

static const struct message_view *view_of(struct eval_ctx *ctx)
{
    return ctx->msg->view;
}

/* The message's HTML parts (count in *n). */
static const struct view_html_part *html_parts(struct eval_ctx *ctx, size_t *n)
{
    const struct message_view *v = view_of(ctx);
    *n = v != NULL ? v->html_part_count : 0;
    return v != NULL ? v->html_parts : NULL;
}

/* --- the functions ------------------------------------------------------------------------- */

static unsigned run_html_test(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        if (flag_of(p, a->name))
            return 1;
    }
    return 0;
}

static unsigned run_html_eval(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        double v;
        if (stat_of(p, a->name, &v) && compare(&a->cmp, v))
            return 1;
    }
    return 0;
}

static unsigned run_html_range(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        double v;
        if (!stat_of(p, a->name, &v))
            continue;
        if (a->max_inf ? v > a->min : (v > a->min && v <= a->max))
            return 1;
    }
    return 0;
}

static unsigned run_tag_exists(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        if (tag_of(p, a->name) != NULL)
            return 1;
    }
    return 0;
}

static unsigned run_tag_balance(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        const struct view_html_tag_count *t = tag_of(p, a->name);
        if (t != NULL && compare(&a->cmp, t->count))
            return 1;
    }
    return 0;
}

static unsigned run_image_only(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        if (tag_of(p, "img") != NULL && p->length > a->min && p->length <= a->max)
            return 1;
    }
    return 0;
}

static unsigned run_image_ratio(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        if (p->image_area <= 0)
            continue;
        double ratio = (double)p->non_space_len / p->image_area;
        if (ratio > a->min && ratio <= a->max)
            return 1;
    }
    return 0;
}

static void list_of(const struct view_html_part *p, const char *name, char *const **items,
    size_t *count)
{
    *items = NULL;
    *count = 0;
    if (strcmp(name, "comment") == 0) {
        *items = p->comments;
        *count = p->comment_count;
    } else if (strcmp(name, "script") == 0) {
        *items = p->scripts;
        *count = p->script_count;
    } else if (strcmp(name, "title") == 0) {
        *items = p->titles;
        *count = p->title_count;
    } else if (strcmp(name, "anchor") == 0) {
        *items = p->anchors;
        *count = p->anchor_count;
    }
}

static unsigned text_match(struct eval_ctx *ctx, const struct eval_call *call, bool want)
{
    const struct html_args *a = call->state;
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        char *const *items;
        size_t count;
        list_of(p, a->name, &items, &count);
        for (size_t i = 0; i < count; i++) {
            bool hit = regex_count(ctx->matcher, a->regex, items[i], strlen(items[i]), 1) > 0;
            if (hit == want)
                return 1;
        }
    }
    return 0;
}

static unsigned run_text_match(struct eval_ctx *ctx, const struct eval_call *call)
{
    return text_match(ctx, call, true);
}

static unsigned run_text_not_match(struct eval_ctx *ctx, const struct eval_call *call)
{
    return text_match(ctx, call, false);
}

/* The longest title against the Subject, in characters. */
static unsigned run_title_subject_ratio(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct html_args *a = call->state;
    const struct message_view *v = view_of(ctx);
    if (v == NULL || v->line_count == 0)
        return 0;
    size_t subject_bytes = v->lines[0].len;
    if (subject_bytes > 0 && v->text[v->lines[0].start + subject_bytes - 1] == '\n')
        subject_bytes--;
    if (subject_bytes == 0)
        return 0;
    double subject_len = (double)g_utf8_strlen(v->text + v->lines[0].start, (gssize)subject_bytes);
    size_t n;
    const struct view_html_part *parts = html_parts(ctx, &n);
    for (const struct view_html_part *p = parts; p < parts + n; p++) {
        double max = 0;
        for (size_t i = 0; i < p->title_count; i++) {
            double r = (double)g_utf8_strlen(p->titles[i], -1) / subject_len;
            if (r > max)
                max = r;
        }
        if (max > a->min)
            return 1;
    }
    return 0;
}

/* ok_locales is "all" unless the admin set it; then no charset is far away. Other locales
 * are not modelled: the test does not hit. */
static unsigned run_charset_faraway(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)ctx;
    (void)call;
    return 0;
}

static unsigned run_iframe_src(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct message_view *v = view_of(ctx);
    for (size_t i = 0; v != NULL && i < v->uri_count; i++) {
        if (v->uris[i].types & VIEW_URI_IFRAME)
            return 1;
    }
    return 0;
}

static const struct eval_function functions[] = {
    { "html_test", prepare_name, free_args, run_html_test },
    { "html_eval", prepare_expr, free_args, run_html_eval },
    { "html_range", prepare_range, free_args, run_html_range },
    { "html_tag_exists", prepare_name, free_args, run_tag_exists },
    { "html_tag_balance", prepare_expr, free_args, run_tag_balance },
    { "html_image_only", prepare_range, free_args, run_image_only },
    { "html_image_ratio", prepare_range, free_args, run_image_ratio },
    { "html_text_match", prepare_text_match, free_args, run_text_match },
    { "html_text_not_match", prepare_text_match, free_args, run_text_not_match },
    { "html_title_subject_ratio", prepare_range, free_args, run_title_subject_ratio },
    { "html_charset_faraway", NULL, NULL, run_charset_faraway },
    { "check_iframe_src", NULL, NULL, run_iframe_src },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_htmleval = {
    .id = EVAL_HTMLEVAL,
    .name = "Mail::SpamAssassin::Plugin::HTMLEval",
    .available = true,
    .functions = functions,
};
