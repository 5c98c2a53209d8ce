/* eval_vbounce.c - SpamAssassin's VBounce plugin, natively: the welcomelist_bounce_relays
 * directive (host names with * and ? globs; whitelist_bounce_relays is its old name) and its
 * two evals: whether any relay is listed, and whether a bounce carries a Received line (in
 * its rendered text, or in the body as sent, folded lines joined) naming one of them. The
 * plugin's other rules are plain header/body rules: they load once it is available. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"

static const char *const directive_names[] = { "welcomelist_bounce_relays",
    "whitelist_bounce_relays", NULL };

/* The relay globs of every welcomelist_bounce_relays line, read once per ruleset. */
struct relays {
    char **globs;
    size_t count;
};

static void free_relays(void *state)
{
    struct relays *st = state;
    for (size_t i = 0; i < st->count; i++)
        free(st->globs[i]);
    free(st->globs);
    free(st);
}

static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)r;
    (void)args;
    (void)argc;
    (void)why;
    struct relays *st = xcalloc(1, sizeof *st);
    for (size_t d = 0; directive_names[d] != NULL; d++) {
        const char *v;
        for (size_t i = 0; (v = ruleset_directive(rs, directive_names[d], i)) != NULL; i++) {
            const char *p = v;
            while (*p != '\0') {
                while (isspace((unsigned char)*p))
                    p++;
                size_t w = strcspn(p, " \t\r\n");
                if (w > 0) {
                    st->globs = xrealloc(st->globs, (st->count + 1) * sizeof *st->globs);
                    st->globs[st->count++] = xstrndup(p, w);
                }
                p += w;
            }
        }
    }
    *state = st;
    return true;
}

/* A glob of the list (lower case; '*' any run, '?' one character) against the whole name. */
static bool glob_match(const char *glob, size_t glen, const char *name, size_t nlen)
{
    size_t g = 0, n = 0, star = (size_t)-1, mark = 0;
    while (n < nlen) {
        if (g < glen && (glob[g] == '?' || tolower((unsigned char)glob[g])
            == tolower((unsigned char)name[n])) && glob[g] != '*') {
            g++;
            n++;
        } else if (g < glen && glob[g] == '*') {
            star = g++;
            mark = n;
        } else if (star != (size_t)-1) {
            g = star + 1;
            n = ++mark;
        } else {
            return false;
        }
    }
    while (g < glen && glob[g] == '*')
        g++;
    return g == glen;
}

static bool relay_listed(const struct relays *st, const char *relay, size_t len)
{
    for (size_t i = 0; i < st->count; i++) {
        if (glob_match(st->globs[i], strlen(st->globs[i]), relay, len))
            return true;
    }
    return false;
}

/* / (\S+\.\S+) /g over s, as Perl walks it: a token between two blanks holding an inner dot;
 * blanks are spaces, or any whitespace when any_space. */
static bool names_listed_relay(const struct relays *st, const char *s, size_t len,
    bool any_space)
{
    size_t i = 0;
    while (i < len) {
        bool lead = any_space ? isspace((unsigned char)s[i]) : s[i] == ' ';
        if (!lead) {
            i++;
            continue;
        }
        size_t start = i + 1, end = start;
        while (end < len && !isspace((unsigned char)s[end]))
            end++;
        bool trail = end < len && (any_space ? isspace((unsigned char)s[end]) : s[end] == ' ');
        bool dot = false;
        for (size_t k = start + 1; k + 1 < end; k++)
            dot = dot || s[k] == '.';
        if (end > start && dot && trail) {
            if (relay_listed(st, s + start, end - start))
                return true;
            i = end + 1;        /* the trailing blank was consumed */
            continue;
        }
        i++;
    }
    return false;
}

/* ^[> ]*Received: (case-insensitive) */
static bool received_line(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == '>' || s[i] == ' '))
        i++;
    return len - i >= 9 && strncasecmp(s + i, "Received:", 9) == 0;
}

static unsigned run_have_any_bounce_relays(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)ctx;
    const struct relays *st = call->state;
    return st->count > 0;
}

static unsigned run_welcomelist_bounce_relays(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct relays *st = call->state;
    if (st->count == 0)
        return 0;
    const struct message_view *view = ctx->msg->view;
    if (view != NULL && view->text != NULL) {
        const char *t = view->text;
        size_t n = view->text_len;
        for (size_t at = 0; at < n;) {
            const char *nl = memchr(t + at, '\n', n - at);
            size_t len = nl != NULL ? (size_t)(nl - t - at) : n - at;
            if (received_line(t + at, len) && names_listed_relay(st, t + at, len, false))
                return 1;
            at += len + (nl != NULL);
        }
    }
    /* the body as sent: from the first Received line on, folded lines joined */
    const char *b = ctx->msg->body;
    size_t n = b != NULL ? ctx->msg->body_len : 0;
    struct textbuf full;
    textbuf_init(&full);
    bool found = false, hit = false;
    for (size_t at = 0; at < n && !hit;) {
        const char *nl = memchr(b + at, '\n', n - at);
        size_t len = nl != NULL ? (size_t)(nl - b - at) : n - at;
        const char *line = b + at;
        at += len + (nl != NULL);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (!found && !received_line(line, len))
            continue;
        found = true;
        if (len > 0 && isspace((unsigned char)line[0])) {
            textbuf_append(&full, line, len);
        } else {
            full.len = 0;
            textbuf_append(&full, line, len);
        }
        if (full.data != NULL && received_line(full.data, full.len))
            hit = names_listed_relay(st, full.data, full.len, true);
    }
    textbuf_free(&full);
    return hit;
}

static const struct eval_function functions[] = {
    { "have_any_bounce_relays", prepare, free_relays, run_have_any_bounce_relays },
    { "check_welcomelist_bounce_relays", prepare, free_relays, run_welcomelist_bounce_relays },
    { "check_whitelist_bounce_relays", prepare, free_relays, run_welcomelist_bounce_relays },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_vbounce = {
    .id = EVAL_VBOUNCE,
    .name = "Mail::SpamAssassin::Plugin::VBounce",
    .available = true,
    .functions = functions,
    .directives = directive_names,
};
