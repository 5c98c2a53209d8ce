/* eval_dkim.c - SpamAssassin's DKIM plugin, natively, fed from our own DKIM verifier's
 * results (rules_envelope.dkim_sigs): check_dkim_signed, check_dkim_valid (optionally by given
 * signing domains), check_dkim_valid_author_sig, check_dkim_valid_envelopefrom,
 * check_dkim_dependable, check_dkim_adsp from adsp_override entries, and the DKIM welcome lists
 * (welcomelist_from_dkim, welcomelist_auth and their def_ lists), with DKIM.pm's rules: a
 * signature's domain is its i= domain (d= without i=), an author signature is one whose domain
 * is a From address's domain and needs a key of dkim_minimum_key_bits (1024) bits or more.
 * When the verifier did not run (no resolver) nothing hits, as SpamAssassin's -L, where
 * signatures are not examined at all. check_arc_signed and check_arc_valid read our ARC
 * verifier's result (rules_envelope.arc_*). ADSP (RFC 5617, historic) is never asked of the DNS:
 * only adsp_override decides; check_dkim_testing (the key's t=y) is not known and never hits. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_lists.h"
#include "rules_evalfn.h"
#include "util.h"

#define DEFAULT_MINIMUM_KEY_BITS 1024

/* dkim_minimum_key_bits as the rule files last set it. */
static unsigned minimum_key_bits(const struct ruleset *rs)
{
    unsigned bits = DEFAULT_MINIMUM_KEY_BITS;
    const char *v;
    for (size_t i = 0; (v = ruleset_directive(rs, "dkim_minimum_key_bits", i)) != NULL; i++) {
        double d;
        if (eval_arg_number(v, &d) && d >= 0 && d < 1e6)
            bits = (unsigned)d;
    }
    return bits;
}

/* The signature's domain as SpamAssassin compares it: i='s domain, else d=; lower case. */
static void sig_domain(const struct rules_dkim_sig *s, char *out, size_t size)
{
    const char *at = s->identity != NULL ? strrchr(s->identity, '@') : NULL;
    const char *d = at != NULL ? at + 1 : s->domain;
    strlcpy_mw(out, d != NULL ? d : "", size);
    str_lower(out);
}

static bool sig_acceptable(const struct rules_dkim_sig *s, unsigned min_bits)
{
    return s->pass && !(min_bits > 0 && s->key_bits > 0 && s->key_bits < min_bits);
}

static const struct rules_envelope *verified(const struct eval_ctx *ctx)
{
    return eval_auth_results(ctx, EVAL_AUTH_DKIM);
}

/* The author domains: the domains of the From addresses. */
static bool is_author_domain(const struct addr_list *authors, const char *domain)
{
    for (size_t i = 0; i < authors->count; i++) {
        const char *at = strrchr(authors->addr[i], '@');
        if (at != NULL && strcmp(at + 1, domain) == 0)
            return true;
    }
    return false;
}

/* "example.com" matches "example.com"; ".example.com" or "*.example.com" match it and its
 * subdomains. */
static bool domain_acceptable(const char *sdid, const char *acceptable)
{
    if (acceptable[0] == '*' && acceptable[1] == '.')
        acceptable++;
    if (acceptable[0] == '.') {
        const char *d = acceptable + 1;
        size_t n = strlen(sdid), k = strlen(d);
        return strcasecmp(sdid, d) == 0
            || (n > k && strcasecmp(sdid + n - k, d) == 0 && sdid[n - k - 1] == '.');
    }
    return strcasecmp(sdid, acceptable) == 0;
}

struct dkim_rule_state {
    unsigned min_bits;
};

static bool prepare_plain(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)r;
    (void)args;
    (void)argc;
    (void)why;
    struct dkim_rule_state *st = xcalloc(1, sizeof *st);
    st->min_bits = minimum_key_bits(rs);
    *state = st;
    return true;
}

/* SpamAssassin's _check_dkim_signed_by: a signature (valid if asked, by an author domain if
 * asked) whose domain is one of domains (any, when none are given). */
static bool signed_by(struct eval_ctx *ctx, const struct rules_envelope *env, unsigned min_bits,
    bool must_be_valid, bool must_be_author, char *const *domains, size_t domain_count)
{
    struct addr_list authors = { 0 };
    if (must_be_author)
        eval_header_addrs(ctx, "From", &authors);
    bool result = false;
    for (size_t i = 0; i < env->dkim_sig_count && !result; i++) {
        const struct rules_dkim_sig *s = &env->dkim_sigs[i];
        if (must_be_valid && !sig_acceptable(s, min_bits))
            continue;
        char sdid[256];
        sig_domain(s, sdid, sizeof sdid);
        if (sdid[0] == '\0')
            continue;
        if (must_be_author && !is_author_domain(&authors, sdid))
            continue;
        if (domain_count == 0)
            result = true;
        for (size_t k = 0; k < domain_count && !result; k++)
            result = domain_acceptable(sdid, domains[k]);
    }
    addr_list_free(&authors);
    return result;
}

static unsigned run_signed(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rules_envelope *env = verified(ctx);
    const struct dkim_rule_state *st = call->state;
    if (env == NULL || env->dkim_sig_count == 0)
        return 0;
    return signed_by(ctx, env, st->min_bits, false, false, call->args, call->argc);
}

static unsigned run_valid(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rules_envelope *env = verified(ctx);
    const struct dkim_rule_state *st = call->state;
    if (env == NULL)
        return 0;
    return signed_by(ctx, env, st->min_bits, true, false, call->args, call->argc);
}

/* An author signature counts as valid only with a key size known to be large enough. */
static bool has_valid_author_sig(struct eval_ctx *ctx, const struct rules_envelope *env,
    unsigned min_bits, const char *author_domain)
{
    struct addr_list authors = { 0 };
    eval_header_addrs(ctx, "From", &authors);
    bool found = false;
    for (size_t i = 0; i < env->dkim_sig_count && !found; i++) {
        const struct rules_dkim_sig *s = &env->dkim_sigs[i];
        char sdid[256];
        sig_domain(s, sdid, sizeof sdid);
        if (!s->pass || sdid[0] == '\0' || !is_author_domain(&authors, sdid))
            continue;
        if (author_domain != NULL && strcmp(sdid, author_domain) != 0)
            continue;
        found = min_bits == 0 ? false : s->key_bits >= min_bits;
    }
    addr_list_free(&authors);
    return found;
}

static unsigned run_valid_author_sig(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rules_envelope *env = verified(ctx);
    const struct dkim_rule_state *st = call->state;
    if (env == NULL || !has_valid_author_sig(ctx, env, st->min_bits, NULL))
        return 0;
    return signed_by(ctx, env, st->min_bits, true, true, call->args, call->argc);
}

static unsigned run_valid_envelopefrom(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rules_envelope *env = verified(ctx);
    const struct dkim_rule_state *st = call->state;
    if (env == NULL)
        return 0;
    struct addr_list sender = { 0 };
    eval_header_addrs(ctx, "EnvelopeFrom", &sender);
    const char *at = sender.count > 0 ? strchr(sender.addr[0], '@') : NULL;
    unsigned hit = 0;
    if (at != NULL && at[1] != '\0') {
        char *domain = xstrdup(at + 1);
        hit = signed_by(ctx, env, st->min_bits, true, false, &domain, 1);
        free(domain);
    }
    addr_list_free(&sender);
    return hit;
}

static unsigned run_dependable(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_envelope *env = verified(ctx);
    return env != NULL && env->dkim_dependable;
}

static unsigned run_never(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)ctx;
    (void)call;
    return 0;
}

/* ---- ADSP, from adsp_override only ---- */

struct adsp_entry {
    char *domain;              /* "example.com", "*.example.com", "*" */
    char practice;             /* N U A D 1 2 3 */
};

struct adsp_state {
    unsigned min_bits;
    char *chars;               /* the practices the rule asks about */
    char **domains;            /* the author domains it is limited to (none: any) */
    size_t domain_count;
    struct adsp_entry *overrides;
    size_t override_count;
};

static void free_adsp(void *p)
{
    struct adsp_state *st = p;
    if (st == NULL)
        return;
    free(st->chars);
    for (size_t i = 0; i < st->domain_count; i++)
        free(st->domains[i]);
    free(st->domains);
    for (size_t i = 0; i < st->override_count; i++)
        free(st->overrides[i].domain);
    free(st->overrides);
    free(st);
}

static char practice_of(const char *word)
{
    static const struct { const char *name; char c; } practices[] = {
        { "nxdomain", 'N' }, { "unknown", 'U' }, { "all", 'A' }, { "discardable", 'D' },
        { "custom_low", '1' }, { "custom_med", '2' }, { "custom_high", '3' },
    };
    for (size_t i = 0; i < sizeof practices / sizeof practices[0]; i++) {
        if (strcasecmp(word, practices[i].name) == 0)
            return practices[i].c;
    }
    return '\0';
}

static void add_override(struct adsp_state *st, const char *value)
{
    char domain[256], practice[32] = "discardable";
    int n = sscanf(value, "%255s %31s", domain, practice);
    if (n < 1)
        return;
    const char *d = domain[0] == '@' ? domain + 1 : domain;
    char c = practice_of(practice);
    if (c == '\0' || d[0] == '\0' || strspn(d, "*abcdefghijklmnopqrstuvwxyz"
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(d))
        return;
    for (size_t i = 0; i < st->override_count; i++) {
        if (strcasecmp(st->overrides[i].domain, d) == 0) {
            st->overrides[i].practice = c;
            return;
        }
    }
    st->overrides = xrealloc(st->overrides, (st->override_count + 1) * sizeof *st->overrides);
    st->overrides[st->override_count].domain = xstrdup(d);
    str_lower(st->overrides[st->override_count].domain);
    st->overrides[st->override_count++].practice = c;
}

static bool prepare_adsp(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)r;
    if (argc < 1 || args[0][0] == '\0') {
        *why = "needs the signing practices asked about";
        return false;
    }
    struct adsp_state *st = xcalloc(1, sizeof *st);
    st->min_bits = minimum_key_bits(rs);
    st->chars = xstrdup(strcmp(args[0], "*") == 0 ? "NAD123" : args[0]);
    for (size_t i = 1; i < argc; i++) {
        st->domains = xrealloc(st->domains, (st->domain_count + 1) * sizeof *st->domains);
        st->domains[st->domain_count++] = xstrdup(args[i]);
    }
    const char *v;
    for (size_t i = 0; (v = ruleset_directive(rs, "adsp_override", i)) != NULL; i++)
        add_override(st, v);
    *state = st;
    return true;
}

/* The override for an author domain: the domain itself, then "*.parent" for each parent, then
 * "*"; '\0' when none. */
static char override_for(const struct adsp_state *st, const char *domain)
{
    for (const char *d = domain; d != NULL; d = strchr(d, '.')) {
        char key[300];
        if (d == domain)
            snprintf(key, sizeof key, "%s", domain);
        else
            snprintf(key, sizeof key, "*%s", d);
        for (size_t i = 0; i < st->override_count; i++) {
            if (strcmp(st->overrides[i].domain, key) == 0)
                return st->overrides[i].practice;
        }
        if (d != domain)
            d++;
    }
    for (size_t i = 0; i < st->override_count; i++) {
        if (strcmp(st->overrides[i].domain, "*") == 0)
            return st->overrides[i].practice;
    }
    return '\0';
}

/* A fully qualified author domain: ".", then a last label of 2 or more letters or '-'. */
static bool fqdn_author_domain(const char *d)
{
    const char *dot = strrchr(d, '.');
    if (dot == NULL || dot == d || strlen(dot + 1) < 2)
        return false;
    for (const char *p = dot + 1; *p; p++) {
        if (!isalpha((unsigned char)*p) && *p != '-')
            return false;
    }
    return true;
}

static bool has_any_author_sig(const struct rules_envelope *env, const char *domain)
{
    for (size_t i = 0; i < env->dkim_sig_count; i++) {
        char sdid[256];
        sig_domain(&env->dkim_sigs[i], sdid, sizeof sdid);
        if (strcmp(sdid, domain) == 0)
            return true;
    }
    return false;
}

static bool author_listed(const struct adsp_state *st, const char *domain)
{
    if (st->domain_count == 0)
        return true;
    for (size_t i = 0; i < st->domain_count; i++) {
        if (domain_acceptable(domain, st->domains[i]))
            return true;
    }
    return false;
}

static unsigned run_adsp(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct adsp_state *st = call->state;
    const struct rules_envelope *env = verified(ctx);
    if (env == NULL || st->override_count == 0)
        return 0;
    struct addr_list authors = { 0 };
    eval_header_addrs(ctx, "From", &authors);
    unsigned hit = 0;
    for (size_t i = 0; i < authors.count && !hit; i++) {
        const char *at = strrchr(authors.addr[i], '@');
        const char *domain = at != NULL ? at + 1 : "";
        if (!fqdn_author_domain(domain))
            continue;
        if (has_valid_author_sig(ctx, env, st->min_bits, domain))
            continue;
        if (has_any_author_sig(env, domain) && !env->dkim_dependable)
            continue;
        char practice = override_for(st, domain);
        /* SpamAssassin's domain list of a rule is matched against every author domain */
        hit = practice != '\0' && strchr(st->chars, practice) != NULL;
        if (hit && st->domain_count > 0) {
            bool any = false;
            for (size_t k = 0; k < authors.count && !any; k++) {
                const char *a = strrchr(authors.addr[k], '@');
                any = a != NULL && author_listed(st, a + 1);
            }
            hit = any;
        }
    }
    addr_list_free(&authors);
    return hit;
}

/* ---- the DKIM welcome lists ---- */

struct dkim_welcome_state {
    unsigned min_bits;
    struct addr_patterns from_dkim;    /* (def_)welcomelist_from_dkim: pattern + domains */
    struct addr_patterns auth;         /* (def_)welcomelist_auth */
};

static void free_welcome(void *p)
{
    struct dkim_welcome_state *st = p;
    if (st == NULL)
        return;
    list_free(&st->from_dkim);
    list_free(&st->auth);
    free(st);
}

static bool prepare_welcome(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)args;
    (void)argc;
    (void)why;
    bool def = strstr(r->eval->name, "_def_") != NULL;
    struct dkim_welcome_state *st = xcalloc(1, sizeof *st);
    st->min_bits = minimum_key_bits(rs);
    list_build(rs, def ? "def_welcomelist_from_dkim" : "welcomelist_from_dkim", &st->from_dkim);
    list_build(rs, def ? "def_welcomelist_auth" : "welcomelist_auth", &st->auth);
    *state = st;
    return true;
}

/* Whether a signature's domain is what an entry accepts for this author: the author's domain
 * for welcomelist_auth and for a *_from_dkim entry without a domain, else the entry's domain
 * ("*.example.com" or ".example.com": its subdomains only). */
static bool sdid_accepted(const char *sdid, const char *author, const char *acceptable)
{
    const char *at = strrchr(author, '@');
    const char *author_domain = at != NULL ? at + 1 : "";
    if (acceptable == NULL || acceptable[0] == '\0')
        return strcmp(sdid, author_domain) == 0;
    const char *a = strrchr(acceptable, '@');
    if (a != NULL)
        acceptable = a + 1;
    if (acceptable[0] == '*' && acceptable[1] == '.')
        acceptable++;
    if (acceptable[0] == '.') {
        size_t n = strlen(sdid), k = strlen(acceptable);
        return n >= k && strcasecmp(sdid + n - k, acceptable) == 0;
    }
    return strcasecmp(sdid, acceptable) == 0;
}

static unsigned run_welcome(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct dkim_welcome_state *st = call->state;
    const struct rules_envelope *env = verified(ctx);
    if (env == NULL || (st->from_dkim.count == 0 && st->auth.count == 0))
        return 0;
    struct addr_list authors = { 0 };
    eval_header_addrs(ctx, "From", &authors);
    unsigned hit = 0;
    for (size_t i = 0; i < env->dkim_sig_count && !hit; i++) {
        const struct rules_dkim_sig *s = &env->dkim_sigs[i];
        if (s->selector == NULL || s->selector[0] == '\0' || !sig_acceptable(s, st->min_bits))
            continue;
        char sdid[256];
        sig_domain(s, sdid, sizeof sdid);
        if (sdid[0] == '\0')
            continue;
        for (size_t a = 0; a < authors.count && !hit; a++) {
            const char *author = authors.addr[a];
            for (size_t e = 0; e < st->from_dkim.count && !hit; e++) {
                const struct list_entry *entry = &st->from_dkim.entry[e];
                if (!glob_match(entry->pattern, author))
                    continue;
                for (size_t d = 0; d < entry->domain_count && !hit; d++)
                    hit = sdid_accepted(sdid, author, entry->domains[d]);
            }
            if (!hit && list_match(&st->auth, author) != NULL)
                hit = sdid_accepted(sdid, author, NULL);
        }
    }
    addr_list_free(&authors);
    return hit;
}

/* ---- ARC (SpamAssassin 4.0's has_arc), from our own ARC verifier ----
 * check_arc_signed: the message has ARC fields; check_arc_valid: one of its ARC signatures (a
 * seal or a message signature) verified, whatever the chain's verdict, as DKIM.pm counts
 * Mail::DKIM's ARC signatures. As there, both hit only when called without domains. */

static unsigned run_arc_signed(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rules_envelope *env = eval_auth_results(ctx, EVAL_AUTH_ARC);
    return env != NULL && call->argc == 0 && env->arc_signed;
}

static unsigned run_arc_valid(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rules_envelope *env = eval_auth_results(ctx, EVAL_AUTH_ARC);
    return env != NULL && call->argc == 0 && env->arc_valid;
}

static const struct eval_function functions[] = {
    { "check_dkim_signed", prepare_plain, free, run_signed },
    { "check_dkim_valid", prepare_plain, free, run_valid },
    { "check_dkim_valid_author_sig", prepare_plain, free, run_valid_author_sig },
    { "check_dkim_valid_envelopefrom", prepare_plain, free, run_valid_envelopefrom },
    { "check_dkim_dependable", NULL, NULL, run_dependable },
    { "check_dkim_adsp", prepare_adsp, free_adsp, run_adsp },
    { "check_dkim_signall", NULL, NULL, run_never },
    { "check_dkim_signsome", NULL, NULL, run_never },
    { "check_dkim_testing", NULL, NULL, run_never },
    { "check_arc_signed", NULL, NULL, run_arc_signed },
    { "check_arc_valid", NULL, NULL, run_arc_valid },
    { "check_for_dkim_welcomelist_from", prepare_welcome, free_welcome, run_welcome },
    { "check_for_dkim_whitelist_from", prepare_welcome, free_welcome, run_welcome },
    { "check_for_def_dkim_welcomelist_from", prepare_welcome, free_welcome, run_welcome },
    { "check_for_def_dkim_whitelist_from", prepare_welcome, free_welcome, run_welcome },
    { NULL, NULL, NULL, NULL },
};

static const char *const directives[] = {
    "welcomelist_from_dkim", "whitelist_from_dkim", "def_welcomelist_from_dkim",
    "def_whitelist_from_dkim", "unwelcomelist_from_dkim", "unwhitelist_from_dkim",
    "welcomelist_auth", "whitelist_auth", "def_welcomelist_auth", "def_whitelist_auth",
    "unwelcomelist_auth", "unwhitelist_auth", "adsp_override", "dkim_minimum_key_bits",
    NULL,
};

static const char *const capabilities[] = { "has_arc", NULL };

const struct eval_plugin eval_plugin_dkim = {
    .id = EVAL_DKIM,
    .name = "Mail::SpamAssassin::Plugin::DKIM",
    .available = true,
    .functions = functions,
    .directives = directives,
    .capabilities = capabilities,
};
