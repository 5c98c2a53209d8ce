/* rules_compile.c - turns one rule definition (the text after its name) into what the evaluator
 * runs: the regex of header, body, rawbody, uri and full rules; for header rules the header
 * named, its modifiers (:raw :addr :name), =~ or !~ and [if-unset: ...]; the expression of meta
 * rules. What cannot run here is skipped with its reason. Body and rawbody regexes are
 * compiled as written: rules_eval.c matches them line by line, as SpamAssassin does. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_evalfn.h"
#include "rules_internal.h"
#include "util.h"

static void skip_space(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

static bool compile_regex(struct rule *r, const char **p, uint32_t extra)
{
    const char *why;
    char *detail;
    free(r->pattern);
    r->pattern = NULL;
    r->regex = regex_compile_perl_source(p, extra, r->tag_defines, &why, &detail, &r->pattern,
        &r->pattern_options);
    if (r->regex == NULL) {
        rule_skip(r, why, detail);
        free(detail);
        return false;
    }
    capture_free_rule(r);
    return capture_compile_rule(r);
}

/* Pseudo-headers SpamAssassin computes from its own analysis of the message that we do not. */
static bool is_uncomputed_pseudo_header(const char *name)
{
    return strcmp(name, "X-Spam-DKIM-Result") == 0;
}

/* The relay pseudo-headers (rules_relays.h) and the header ranges they bound; HSRC_NAMED for
 * any other name. */
static enum header_source relays_source(const char *name)
{
    if (strcasecmp(name, "X-Spam-Relays-Trusted") == 0)
        return HSRC_RELAYS_TRUSTED;
    if (strcasecmp(name, "X-Spam-Relays-Untrusted") == 0)
        return HSRC_RELAYS_UNTRUSTED;
    if (strcasecmp(name, "X-Spam-Relays-Internal") == 0)
        return HSRC_RELAYS_INTERNAL;
    if (strcasecmp(name, "X-Spam-Relays-External") == 0)
        return HSRC_RELAYS_EXTERNAL;
    if (strcmp(name, "ALL-TRUSTED") == 0)
        return HSRC_ALL_TRUSTED;
    if (strcmp(name, "ALL-INTERNAL") == 0)
        return HSRC_ALL_INTERNAL;
    if (strcmp(name, "ALL-UNTRUSTED") == 0)
        return HSRC_ALL_UNTRUSTED;
    if (strcmp(name, "ALL-EXTERNAL") == 0)
        return HSRC_ALL_EXTERNAL;
    return HSRC_NAMED;
}

static bool parse_header_spec(struct rule *r, const char *spec)
{
    char buf[256];
    strlcpy_mw(buf, spec, sizeof buf);
    char *mods = strchr(buf, ':');
    if (mods != NULL)
        *mods++ = '\0';
    if (buf[0] == '\0') {
        rule_skip(r, SKIP_MALFORMED, "no header name");
        return false;
    }
    if (is_uncomputed_pseudo_header(buf)) {
        rule_skip(r, SKIP_PSEUDO_HEADER, buf);
        return false;
    }
    if (relays_source(buf) != HSRC_NAMED)
        r->hsrc = relays_source(buf);
    else if (strcmp(buf, "ALL") == 0)
        r->hsrc = HSRC_ALL;
    else if (strcmp(buf, "ToCc") == 0)
        r->hsrc = HSRC_TOCC;
    else if (strcmp(buf, "MESSAGEID") == 0)
        r->hsrc = HSRC_MESSAGEID;
    else if (strcmp(buf, "EnvelopeFrom") == 0)
        r->hsrc = HSRC_ENVFROM;
    else
        r->header = xstrdup(buf);
    char *save = NULL;
    for (char *m = mods ? strtok_r(mods, ":", &save) : NULL; m; m = strtok_r(NULL, ":", &save)) {
        if (strcmp(m, "raw") == 0) {
            r->hpart = HPART_RAW;
        } else if (strcmp(m, "addr") == 0) {
            r->hpart = HPART_ADDRS;
        } else if (strcmp(m, "name") == 0) {
            r->hpart = HPART_NAMES;
        } else {
            rule_skip(r, SKIP_HEADER_MODIFIER, m);
            return false;
        }
    }
    return true;
}

/* "[if-unset: TEXT]" after the regex. */
static void parse_if_unset(struct rule *r, const char *p)
{
    skip_space(&p);
    const char *tag = "[if-unset:";
    if (strncmp(p, tag, strlen(tag)) != 0)
        return;
    p += strlen(tag);
    skip_space(&p);
    const char *end = strrchr(p, ']');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    r->if_unset = xstrndup(p, n);
}

static void compile_header(struct rule *r)
{
    const char *p = r->source;
    if (strncmp(p, "exists:", 7) == 0) {
        r->exists_test = true;
        char name[256];
        size_t n = strcspn(p + 7, " \t");
        snprintf(name, sizeof name, "%.*s", (int)(n < 255 ? n : 255), p + 7);
        parse_header_spec(r, name);
        return;
    }
    size_t spec_len = strcspn(p, " \t=!");
    char spec[256];
    snprintf(spec, sizeof spec, "%.*s", (int)(spec_len < 255 ? spec_len : 255), p);
    p += spec_len;
    skip_space(&p);
    if (strncmp(p, "=~", 2) == 0) {
        r->negate = false;
    } else if (strncmp(p, "!~", 2) == 0) {
        r->negate = true;
    } else {
        rule_skip(r, SKIP_MALFORMED, "header rule without =~ or !~");
        return;
    }
    p += 2;
    if (!parse_header_spec(r, spec))
        return;
    if (!compile_regex(r, &p, 0))
        return;
    parse_if_unset(r, p);
}

/* eval: tests and plugin rule types: the plugin checks the arguments once. */
static void compile_eval(struct ruleset *rs, struct rule *r)
{
    if (r->eval->prepare == NULL)
        return;
    const char *why = NULL;
    if (!r->eval->prepare(rs, r, r->eval_args, r->eval_argc, &r->eval_state, &why))
        rule_skip(r, SKIP_MALFORMED, why != NULL ? why : r->eval->name);
}

void rule_compile(struct ruleset *rs, struct rule *r)
{
    if (r->eval != NULL) {
        compile_eval(rs, r);
        return;
    }
    const char *p = r->source ? r->source : "";
    const char *why;
    switch (r->type) {
    case RULE_HEADER:
        compile_header(r);
        break;
    case RULE_BODY:
    case RULE_RAWBODY:
    case RULE_URI:
    case RULE_FULL:
        compile_regex(r, &p, 0);
        break;
    case RULE_META:
        if (!expr_compile(p, NULL, &r->meta, &why))
            rule_skip(r, SKIP_META_SYNTAX, why);
        break;
    default:
        rule_skip(r, SKIP_PLUGIN_TYPE, NULL);
        break;
    }
}
