/* eval_uridetail.c - SpamAssassin's URIDetail plugin, natively: the `uri_detail` rule type,
 * "uri_detail NAME raw =~ /re/ type !~ /re/ ...", hits when one URI of the detail list
 * (rules_uri.c) meets every criterion: raw (the URI as found), type (where it was found: a,
 * img, parsed, unlinked, ...), cleaned (a canonical form), text (an anchor text), domain and
 * host (of a canonical form). =~ needs one value that matches, !~ one that does not. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"

enum detail_key { KEY_RAW, KEY_TYPE, KEY_CLEANED, KEY_TEXT, KEY_DOMAIN, KEY_HOST };

struct criterion {
    enum detail_key key;
    bool negate;
    pcre2_code *regex;
};

struct detail_rule {
    struct criterion *items;
    size_t count;
};

static void free_rule(void *state)
{
    struct detail_rule *d = state;
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->count; i++)
        pcre2_code_free(d->items[i].regex);
    free(d->items);
    free(d);
}

static bool key_of(const char *word, size_t len, enum detail_key *key)
{
    static const char *const names[] = { "raw", "type", "cleaned", "text", "domain", "host" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) == len && strncmp(word, names[i], len) == 0) {
            *key = (enum detail_key)i;
            return true;
        }
    }
    return false;
}

/* args[0]: the definition after the rule's name */
static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)rs;
    (void)r;
    if (argc < 1) {
        *why = "uri_detail needs criteria";
        return false;
    }
    struct detail_rule *d = xcalloc(1, sizeof *d);
    const char *p = args[0];
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        const char *word = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        enum detail_key key;
        if (!key_of(word, (size_t)(p - word), &key)) {
            *why = "uri_detail: a key of raw, type, cleaned, text, domain, host";
            goto bad;
        }
        while (isspace((unsigned char)*p))
            p++;
        bool negate = p[0] == '!';
        if ((p[0] != '=' && p[0] != '!') || p[1] != '~') {
            *why = "uri_detail: =~ or !~ after a key";
            goto bad;
        }
        p += 2;
        while (isspace((unsigned char)*p))
            p++;
        char *detail = NULL;
        pcre2_code *re = regex_compile_perl(&p, 0, why, &detail);
        free(detail);
        if (re == NULL)
            goto bad;
        d->items = xrealloc(d->items, (d->count + 1) * sizeof *d->items);
        d->items[d->count++] = (struct criterion){ key, negate, re };
    }
    if (d->count == 0) {
        *why = "uri_detail needs criteria";
        goto bad;
    }
    *state = d;
    return true;
bad:
    free_rule(d);
    return false;
}

/* The names SpamAssassin gives where a URI was found. */
static size_t type_names(const struct rules_uri_detail *e, const char **names)
{
    static const struct {
        unsigned bit;
        const char *name;
    } types[] = {
        { VIEW_URI_PARSED, "parsed" }, { VIEW_URI_A, "a" }, { VIEW_URI_AREA, "area" },
        { VIEW_URI_LINK, "link" }, { VIEW_URI_IMG, "img" }, { VIEW_URI_FRAME, "frame" },
        { VIEW_URI_IFRAME, "iframe" }, { VIEW_URI_FORM, "form" }, { VIEW_URI_BASE, "base" },
        { VIEW_URI_META, "meta" }, { VIEW_URI_BACKGROUND, "body" }, { VIEW_URI_SCRIPT, "script" },
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (e->types & types[i].bit)
            names[n++] = types[i].name;
    }
    if (e->schemeless)
        names[n++] = "schemeless";
    if (e->unlinked)
        names[n++] = "unlinked";
    return n;
}

static bool values_meet(struct eval_ctx *ctx, const struct criterion *c, const char *const *values,
    size_t count)
{
    for (size_t i = 0; i < count; i++) {
        bool match = regex_count(ctx->matcher, c->regex, values[i], strlen(values[i]), 1) > 0;
        if (match != c->negate)
            return true;
    }
    return false;
}

static bool detail_meets(struct eval_ctx *ctx, const struct criterion *c,
    const struct rules_uri_detail *e)
{
    const char *types[16];
    const char *raw[1] = { e->raw };
    switch (c->key) {
    case KEY_RAW:
        return values_meet(ctx, c, raw, 1);
    case KEY_TYPE:
        return values_meet(ctx, c, types, type_names(e, types));
    case KEY_CLEANED:
        return values_meet(ctx, c, (const char *const *)e->cleaned, e->cleaned_count);
    case KEY_TEXT:
        return values_meet(ctx, c, (const char *const *)e->anchors, e->anchor_count);
    case KEY_DOMAIN:
        return values_meet(ctx, c, (const char *const *)e->domains, e->domain_count);
    case KEY_HOST:
        return values_meet(ctx, c, (const char *const *)e->hosts, e->host_count);
    }
    return false;
}

static unsigned run(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct detail_rule *d = call->state;
    const struct rules_uri_details *list = eval_uri_details(ctx);
    for (size_t i = 0; i < list->count; i++) {
        const struct rules_uri_detail *e = &list->items[i];
        if (e->dropped)
            continue;
        bool all = true;
        for (size_t k = 0; k < d->count && all; k++)
            all = detail_meets(ctx, &d->items[k], e);
        if (all)
            return 1;
    }
    return 0;
}

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

static const struct eval_function rule_types[] = {
    { "uri_detail", prepare, free_rule, run },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_uridetail = {
    .id = EVAL_URIDETAIL,
    .name = "Mail::SpamAssassin::Plugin::URIDetail",
    .available = true,
    .functions = functions,
    .rule_types = rule_types,
};
