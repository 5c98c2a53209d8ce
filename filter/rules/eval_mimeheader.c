/* eval_mimeheader.c - SpamAssassin's MIMEHeader plugin, natively: the `mimeheader` rule type,
 * a regex on one header field of every MIME part (the message itself first, then each part
 * depth first, as SpamAssassin's find_parts lists them): the field's last instance, unfolded
 * and decoded with a final newline, or as written with :raw; [if-unset: text] for parts
 * without it. The first part that matches decides the hits (tflags multiple: up to maxhits
 * there). A `!~` rule hits whatever the parts hold, as MIMEHeader.pm 4.0.1 does. Parts come
 * from SpamAssassin's own view of the MIME tree (eval_mime.h). */
#include <stdlib.h>
#include <string.h>

#include "eval_mime.h"
#include "rules_evalfn.h"
#include "util.h"

struct mimeheader {
    char *header;
    bool raw;
    bool negated;
    char *if_unset;
    pcre2_code *regex;
};

static void mimeheader_free(void *state)
{
    struct mimeheader *m = state;
    if (m == NULL)
        return;
    free(m->header);
    free(m->if_unset);
    pcre2_code_free(m->regex);
    free(m);
}

/* "Name[:raw] =~ /re/flags [if-unset: text]" */
static bool mimeheader_prepare(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)rs;
    (void)r;
    if (argc < 1 || args[0] == NULL) {
        *why = "mimeheader without a definition";
        return false;
    }
    const char *p = args[0];
    size_t n = strcspn(p, ": \t");
    if (n == 0) {
        *why = "mimeheader without a header name";
        return false;
    }
    struct mimeheader *m = xcalloc(1, sizeof *m);
    m->header = xstrndup(p, n);
    p += n;
    if (*p == ':') {
        p++;
        if (strncmp(p, "raw", 3) == 0) {
            m->raw = true;
            p += 3;
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if ((p[0] != '=' && p[0] != '!') || p[1] != '~') {
        mimeheader_free(m);
        *why = "mimeheader without =~ or !~";
        return false;
    }
    m->negated = p[0] == '!';
    p += 2;
    while (*p == ' ' || *p == '\t')
        p++;
    char *pattern = xstrdup(p);
    char *unset = strstr(pattern, "[if-unset:");
    size_t plen = strlen(pattern);
    if (unset != NULL && plen > 0 && pattern[plen - 1] == ']' && unset > pattern
        && (unset[-1] == ' ' || unset[-1] == '\t')) {
        pattern[plen - 1] = '\0';
        const char *v = unset + strlen("[if-unset:");
        while (*v == ' ' || *v == '\t')
            v++;
        m->if_unset = xstrdup(v);
        char *end = unset;
        while (end > pattern && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
    }
    const char *text = pattern;
    char *detail = NULL;
    m->regex = regex_compile_perl(&text, 0, why, &detail);
    free(detail);
    free(pattern);
    if (m->regex == NULL) {
        mimeheader_free(m);
        return false;
    }
    *state = m;
    return true;
}

/* The text of part p the rule matches. */
static char *value_of(const struct mimeheader *m, const struct sa_mime_part *p)
{
    if (strcmp(m->header, "ALL") == 0) {
        struct textbuf all;
        textbuf_init(&all);
        for (size_t i = 0; i < p->header_count; i++) {
            textbuf_puts(&all, p->headers[i].name);
            textbuf_puts(&all, m->raw ? ":" : ": ");
            textbuf_puts(&all, m->raw ? p->headers[i].raw : p->headers[i].decoded);
            if (!m->raw)
                textbuf_puts(&all, "\n");
        }
        return all.data != NULL ? all.data : xstrdup("");
    }
    const char *v = sa_mime_header(p, m->header, m->raw);
    if (v == NULL)
        return xstrdup(m->if_unset != NULL ? m->if_unset : "");
    return m->raw ? xstrdup(v) : xasprintf("%s\n", v);
}

static unsigned mimeheader_run(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct mimeheader *m = call->state;
    if (m->negated)
        return 1;
    const struct rule *r = call->rule;
    unsigned most = !(r->tflags & TFLAG_MULTIPLE) ? 1 : r->maxhits ? r->maxhits : 1000;
    const struct sa_mime *mime = eval_mime(ctx);
    for (size_t i = 0; i < mime->count; i++) {
        char *value = value_of(m, &mime->parts[i]);
        unsigned hits = regex_count(ctx->matcher, m->regex, value, strlen(value), most);
        free(value);
        if (hits > 0)
            return hits;
    }
    return 0;
}

static const struct eval_function rule_types[] = {
    { "mimeheader", mimeheader_prepare, mimeheader_free, mimeheader_run },
    { NULL, NULL, NULL, NULL },
};

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_mimeheader = {
    .id = EVAL_MIMEHEADER,
    .name = "Mail::SpamAssassin::Plugin::MIMEHeader",
    .available = true,
    .functions = functions,
    .rule_types = rule_types,
};
