/* eval_bodyeval.c - SpamAssassin's BodyEval plugin, natively, with its 4.0.1 semantics: how
 * much of a multipart/alternative's HTML wording its text part lacks, the share of blank
 * lines in the decoded text, lines of letters spaced out ("vertical words"), stock-tip field
 * names, the length of the body as sent. Parts come from SpamAssassin's view of the MIME tree
 * (eval_mime.h); HTML is rendered by the message view's renderer, the one body rules see. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "eval_get.h"
#include "eval_mime.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"
#include "view_build.h"

static const char *arg(const struct eval_call *call, size_t i)
{
    return i < call->argc ? call->args[i] : NULL;
}

/* --- multipart/alternative difference --------------------------------------------------------- */

struct word_count {
    char *word;
    long count;
};

struct words {
    struct word_count *v;
    size_t n, cap;
};

static int by_word(const void *a, const void *b)
{
    return strcmp(((const struct word_count *)a)->word, ((const struct word_count *)b)->word);
}

/* grep(/\w/, split(/\s+/, text)): counted per distinct word. */
static void count_words(const char *text, size_t len, struct words *w)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        size_t start = i;
        bool word = false;
        while (i < len && !isspace((unsigned char)text[i])) {
            unsigned char c = (unsigned char)text[i];
            word = word || (c < 0x80 && (isalnum(c) || c == '_'));
            i++;
        }
        if (i == start || !word)
            continue;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 256;
            w->v = xrealloc(w->v, w->cap * sizeof *w->v);
        }
        w->v[w->n++] = (struct word_count){ xstrndup(text + start, i - start), 1 };
    }
}

static void merge_words(struct words *w)
{
    if (w->n == 0)
        return;
    qsort(w->v, w->n, sizeof *w->v, by_word);
    size_t out = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (out > 0 && strcmp(w->v[out - 1].word, w->v[i].word) == 0) {
            w->v[out - 1].count += w->v[i].count;
            free(w->v[i].word);
            continue;
        }
        w->v[out++] = w->v[i];
    }
    w->n = out;
}

static void free_words(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].word);
    free(w->v);
    w->v = NULL;
    w->n = w->cap = 0;
}

static const struct word_count *find_word(const struct words *w, const char *word)
{
    struct word_count key = { (char *)word, 0 };
    return w->n > 0 ? bsearch(&key, w->v, w->n, sizeof *w->v, by_word) : NULL;
}

/* The part decoded and in UTF-8; HTML rendered to text when html. */
static char *rendered(const struct sa_mime_part *p, bool html, size_t *len)
{
    size_t dlen;
    char *decoded = sa_mime_decode(p, &dlen);
    bool bad = false;
    size_t ulen;
    char *utf8 = view_to_utf8(p->charset, decoded, dlen, &ulen, &bad);
    free(decoded);
    if (!html) {
        *len = ulen;
        return utf8;
    }
    char *text = message_view_render_html(utf8, ulen, len);
    free(utf8);
    return text;
}

struct madiff {
    double diff;
    size_t html, text;
};

static void *make_madiff(struct eval_ctx *ctx)
{
    struct madiff *d = xcalloc(1, sizeof *d);
    const struct sa_mime *m = eval_mime(ctx);
    /* content_summary (multipart/alternative, text/html, text/calendar): an invitation */
    if (m->count == 3 && strcmp(m->parts[0].type, "multipart/alternative") == 0
        && strcmp(m->parts[1].type, "text/html") == 0
        && strcmp(m->parts[2].type, "text/calendar") == 0)
        return d;
    for (size_t a = 0; a < m->count; a++) {
        const char *t = m->parts[a].type;
        if (strncmp(t, "multipart/alternative", 21) != 0
            || (t[21] != '\0' && (isalnum((unsigned char)t[21]) || t[21] == '_')))
            continue;
        struct words html = {0}, text = {0};
        bool img = false;
        for (size_t i = a; i < m->count; i++) {
            const struct sa_mime_part *p = &m->parts[i];
            if (i != a && !sa_mime_is_below(m, i, a))
                break;      /* parts are depth first: the subtree has ended */
            if (strncmp(p->type, "text", 4) != 0 || isalnum((unsigned char)p->type[4]))
                continue;
            bool is_html = strcmp(p->type, "text/html") == 0;
            size_t len;
            char *r = rendered(p, is_html, &len);
            count_words(r, len, is_html ? &html : &text);
            free(r);
            if (is_html && html.n == 0 && p->raw != NULL && strcasestr(p->raw, "<img") != NULL)
                img = true;
        }
        merge_words(&html);
        merge_words(&text);
        size_t orig = html.n + (html.n == 0 && img);
        if (orig > 0) {
            d->html = orig;
            d->text = text.n;
            size_t left = orig;
            for (size_t k = 0; k < text.n; k++) {
                const struct word_count *h = find_word(&html, text.v[k].word);
                if (h != NULL && h->count - text.v[k].count < 1)
                    left--;
            }
            double diff = (double)left / (double)orig * 100.0;
            if (diff > d->diff)
                d->diff = diff;
        }
        free_words(&html);
        free_words(&text);
    }
    return d;
}

static const struct madiff *madiff_of(struct eval_ctx *ctx)
{
    return eval_plugin_data(ctx, EVAL_BODYEVAL, make_madiff, free);
}

/* multipart_alternative_difference(min, max): max may be 'undef'. */
static unsigned run_madiff(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min, max = 0;
    const char *max_arg = arg(call, 1);
    if (!eval_arg_number(arg(call, 0), &min) || max_arg == NULL)
        return 0;
    bool no_max = strcmp(max_arg, "undef") == 0;
    if (!no_max && !eval_arg_number(max_arg, &max))
        return 0;
    double diff = madiff_of(ctx)->diff;
    return (min == 0 || diff > min) && (no_max || diff <= max);
}

/* multipart_alternative_difference_count(ratio, minhtml) */
static unsigned run_madiff_count(struct eval_ctx *ctx, const struct eval_call *call)
{
    double ratio, minhtml;
    if (!eval_arg_number(arg(call, 0), &ratio) || !eval_arg_number(arg(call, 1), &minhtml))
        return 0;
    const struct madiff *d = madiff_of(ctx);
    if (!((double)d->html > minhtml))
        return 0;
    return (double)d->text / (double)d->html > ratio;
}

/* --- the decoded text --------------------------------------------------------------------------- */

/* check_blank_line_ratio(min, max, minlines): over the decoded text and message parts. */
static unsigned run_blank_line_ratio(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min, max, minlines = 1;
    if (!eval_arg_number(arg(call, 0), &min) || !eval_arg_number(arg(call, 1), &max))
        return 0;
    if (!eval_arg_number(arg(call, 2), &minlines) || minlines < 1)
        minlines = 1;
    const struct sa_mime *m = eval_mime(ctx);
    size_t lines = 0, blank = 0;
    for (size_t i = 0; i < m->count; i++) {
        const struct sa_mime_part *p = &m->parts[i];
        if (!p->leaf || strcmp(p->type, "text/calendar") == 0)
            continue;
        if (!(strncmp(p->type, "text", 4) == 0 || strncmp(p->type, "message", 7) == 0))
            continue;
        size_t len;
        char *d = sa_mime_decode(p, &len);
        /* split(/^/m, $chunk, -1) */
        for (size_t at = 0; at < len;) {
            const char *nl = memchr(d + at, '\n', len - at);
            size_t end = nl != NULL ? (size_t)(nl - d) + 1 : len;
            bool space_only = true;
            for (size_t k = at; k < end && space_only; k++)
                space_only = isspace((unsigned char)d[k]);
            lines++;
            blank += space_only;
            at = end;
        }
        free(d);
    }
    double ratio = (double)lines < minlines ? -1 : 100.0 * (double)blank / (double)lines;
    return (min == 0 && ratio <= max) || (ratio > min && ratio <= max);
}

/* The percentage of spaces in one line (newline included), -1 when 5 bytes or shorter. */
static long spaced_out(const char *l, size_t len)
{
    if (len <= 5)
        return -1;
    size_t spaces = 0;
    for (size_t k = 0; k < len; k++)
        spaces += l[k] == ' ';
    size_t nonspaces = len - spaces;
    return (spaces > nonspaces || nonspaces == 0) ? 100 : (long)(100 * spaces / nonspaces);
}

/* tvd_vertical_words(min, max): the most spaced-out line of the body, over the entries of
 * SpamAssassin's body array as they are (view->lines: the Subject line first, long lines
 * split, each but the last with its "\n"; a view without them is split at each "\n", kept):
 * the newline counts in the length (over 5 bytes) and as a non-space, and lengths are UTF-8
 * bytes (Message.pm encodes the text to octets). */
static unsigned run_vertical_words(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min, max;
    if (!eval_arg_number(arg(call, 0), &min) || !eval_arg_number(arg(call, 1), &max))
        return 0;
    if (max >= 100)
        max = 101;
    const struct message_view *view = ctx->msg->view;
    long best = -1;
    const char *t = view != NULL ? view->text : NULL;
    for (size_t i = 0; t != NULL && i < view->line_count; i++) {
        long pct = spaced_out(t + view->lines[i].start, view->lines[i].len);
        best = pct > best ? pct : best;
    }
    for (size_t at = 0; t != NULL && view->line_count == 0 && at < view->text_len;) {
        const char *nl = memchr(t + at, '\n', view->text_len - at);
        size_t len = nl != NULL ? (size_t)(nl - t - at) + 1 : view->text_len - at;
        long pct = spaced_out(t + at, len);
        best = pct > best ? pct : best;
        at += len;
    }
    return (double)best >= min && (double)best < max;
}

/* check_stock_info(min): stock-tip field names ("Symbol:", "Target:") in the first
 * text/plain part. */
/* check_stock_info(min): the two regexes, compiled once per ruleset. */
struct stock_info {
    pcre2_code *field;     /* a "Name: value" line of the text part */
    pcre2_code *name;      /* the name, lower case letters only, is a stock-tip field */
};

static void free_stock_info(void *state)
{
    struct stock_info *st = state;
    pcre2_code_free(st->field);
    pcre2_code_free(st->name);
    free(st);
}

static bool prepare_stock_info(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)rs;
    (void)r;
    (void)args;
    (void)argc;
    struct stock_info *st = xcalloc(1, sizeof *st);
    st->field = regex_compile_jit("^\\s*([^:\\s][^:\\n]{2,29})\\s*:\\s*\\S", PCRE2_MULTILINE);
    st->name = regex_compile_jit("^(trad(?:e|ing)date|company(?:name)?"
        "|s\\w?(?:t\\w?o\\w?c\\w?k|y\\w?m(?:\\w?b\\w?o\\w?l)?)|t(?:arget|icker)"
        "|(?:opening|current)p(?:rice)?|p(?:rojected|osition)|expectations|weeks?high"
        "|marketperformance|(?:year|week|month|day|price)(?:target|estimates?)|sector"
        "|r(?:ecommendation|ating))$", 0);
    if (st->field == NULL || st->name == NULL) {
        free_stock_info(st);
        *why = "check_stock_info: its regexes do not compile";
        return false;
    }
    *state = st;
    return true;
}

static unsigned run_stock_info(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min;
    if (!eval_arg_number(arg(call, 0), &min))
        return 0;
    const struct stock_info *st = call->state;
    const struct sa_mime *m = eval_mime(ctx);
    const struct sa_mime_part *part = NULL;
    for (size_t i = 0; i < m->count && part == NULL; i++) {
        if (strcmp(m->parts[i].type, "text/plain") == 0)
            part = &m->parts[i];
    }
    unsigned found = 0;
    if (part != NULL) {
        size_t len;
        char *text = rendered(part, false, &len);
        pcre2_match_data *md = pcre2_match_data_create(4, NULL);
        pcre2_match_data *md2 = pcre2_match_data_create(2, NULL);
        char *seen[16];
        size_t seen_n = 0;
        PCRE2_SIZE off = 0;
        while (off <= len
            && pcre2_match(st->field, (PCRE2_SPTR)text, len, off, 0, md, ctx->matcher->mctx) >= 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            /* lc, letters only */
            char key[40];
            size_t k = 0;
            for (PCRE2_SIZE c = ov[2]; c < ov[3] && k + 1 < sizeof key; c++) {
                unsigned char ch = (unsigned char)tolower((unsigned char)text[c]);
                if (ch >= 'a' && ch <= 'z')
                    key[k++] = (char)ch;
            }
            key[k] = '\0';
            if (pcre2_match(st->name, (PCRE2_SPTR)key, k, 0, 0, md2, ctx->matcher->mctx) >= 0) {
                bool dup = false;
                for (size_t s = 0; s < seen_n && !dup; s++)
                    dup = strcmp(seen[s], key) == 0;
                if (!dup && seen_n < 16)
                    seen[seen_n++] = xstrdup(key);
            }
            off = ov[1] > off ? ov[1] : off + 1;
        }
        found = (unsigned)seen_n;
        for (size_t s = 0; s < seen_n; s++)
            free(seen[s]);
        pcre2_match_data_free(md2);
        pcre2_match_data_free(md);
        free(text);
    }
    return min == 0 || (double)found >= min;
}

/* check_body_length(max): the body as sent (line ends as LF) is at most max bytes. */
static unsigned run_body_length(struct eval_ctx *ctx, const struct eval_call *call)
{
    double max;
    if (!eval_arg_number(arg(call, 0), &max))
        return 0;
    const char *b = ctx->msg->body;
    size_t n = b != NULL ? ctx->msg->body_len : 0, len = n;
    for (const char *cr = n > 0 ? memchr(b, '\r', n) : NULL; cr != NULL;
            cr = memchr(cr + 1, '\r', (size_t)(b + n - cr - 1))) {
        if (cr + 1 < b + n && cr[1] == '\n')
            len--;
    }
    return (double)len <= max;
}

static const struct eval_function functions[] = {
    { "multipart_alternative_difference", NULL, NULL, run_madiff },
    { "multipart_alternative_difference_count", NULL, NULL, run_madiff_count },
    { "check_blank_line_ratio", NULL, NULL, run_blank_line_ratio },
    { "tvd_vertical_words", NULL, NULL, run_vertical_words },
    { "check_stock_info", prepare_stock_info, free_stock_info, run_stock_info },
    { "check_body_length", NULL, NULL, run_body_length },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_bodyeval = {
    .id = EVAL_BODYEVAL,
    .name = "Mail::SpamAssassin::Plugin::BodyEval",
    .available = true,
    .functions = functions,
};
