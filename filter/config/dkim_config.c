/* dkim_config.c - the `dkim` policy section: sign { }, verify { }, the key table (keys),
 * the signing table (signing) and the users allowed to be signed for given domains (users).
 * finish() loads every key (refusing the policy, naming the file, when one is unusable) and
 * checks the lists of fields to sign, once per load or reload; nothing here runs per
 * message. */
#include "dkim_policy.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_canon.h"
#include "config_module.h"
#include "config_patterns.h"
#include "log.h"
#include "util.h"

#define DEFAULT_SIGN_HEADERS "from:reply-to:subject:date:to:cc:resent-date:resent-from:" \
    "resent-to:resent-cc:in-reply-to:references:message-id:mime-version:content-type:" \
    "content-transfer-encoding:list-id:list-help:list-unsubscribe:list-unsubscribe-post:" \
    "list-subscribe:list-post:list-owner:list-archive"
#define DEFAULT_OVERSIGN_HEADERS "from:reply-to:subject:date:to:cc:message-id"

static const struct option_spec sign_options[] = {
    {"enabled", OPT_BOOL, offsetof(struct dkim_policy, sign.enabled), 0, 0},
    {"authenticated", OPT_BOOL, offsetof(struct dkim_policy, sign.authenticated), 0, 0},
    {"internal", OPT_BOOL, offsetof(struct dkim_policy, sign.internal), 0, 0},
    {"networks", OPT_CIDRS, offsetof(struct dkim_policy, sign.networks), 0, 0},
    {"canonicalization", OPT_STRING, offsetof(struct dkim_policy, sign.canonicalization), 0, 0},
    {"headers", OPT_STRING, offsetof(struct dkim_policy, sign.headers), 0, 0},
    {"oversign", OPT_STRING, offsetof(struct dkim_policy, sign.oversign), 0, 0},
    {"expire", OPT_DURATION_S, offsetof(struct dkim_policy, sign.expire_s), 0, 3650.0 * 86400},
    {"default_key", OPT_STRING, offsetof(struct dkim_policy, sign.default_key), 0, 0},
    {"on_error", OPT_ERROR_ACTION, offsetof(struct dkim_policy, sign.on_error), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static const struct option_spec verify_options[] = {
    {"enabled", OPT_BOOL, offsetof(struct dkim_policy, verify.enabled), 0, 0},
    {"max_signatures", OPT_UINT, offsetof(struct dkim_policy, verify.max_signatures), 1, 64},
    {"min_key_bits", OPT_UINT, offsetof(struct dkim_policy, verify.min_key_bits), 512, 16384},
    {"report_none", OPT_BOOL, offsetof(struct dkim_policy, verify.report_none), 0, 0},
    {"accept_rsa_sha1", OPT_BOOL, offsetof(struct dkim_policy, verify.accept_rsa_sha1), 0, 0},
    {"clock_drift", OPT_DURATION_S, offsetof(struct dkim_policy, verify.clock_drift_s), 0, 86400},
    {"budget", OPT_DURATION_MS, offsetof(struct dkim_policy, verify.budget_ms), 100, 120000},
    {"mode", OPT_CHECK_MODE, offsetof(struct dkim_policy, verify.shadow), 0, 0},
    {NULL, 0, 0, 0, 0},
};

/* Fields of one key-table entry, read with the same option machinery. */
struct key_fields {
    char *name;
    char *domain;
    char *selector;
    char *file;
};

static const struct option_spec key_options[] = {
    {"name", OPT_STRING, offsetof(struct key_fields, name), 0, 0},
    {"domain", OPT_HOSTNAME, offsetof(struct key_fields, domain), 0, 0},
    {"selector", OPT_HOSTNAME, offsetof(struct key_fields, selector), 0, 0},
    {"file", OPT_STRING, offsetof(struct key_fields, file), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static void dkim_init_policy(struct config *cfg)
{
    struct dkim_policy *p = xcalloc(1, sizeof *p);
    p->sign.enabled = true;
    p->sign.authenticated = true;
    p->sign.internal = true;
    p->sign.canonicalization = xstrdup("relaxed/relaxed");
    p->sign.headers = xstrdup(DEFAULT_SIGN_HEADERS);
    p->sign.oversign = xstrdup(DEFAULT_OVERSIGN_HEADERS);
    p->sign.on_error = ACTION_TEMPFAIL;
    p->verify.enabled = true;
    p->verify.max_signatures = 8;
    p->verify.min_key_bits = 1024;
    p->verify.clock_drift_s = 300;
    p->verify.budget_ms = 10000;
    cfg->dkim = p;
}

static int line_of(const config_setting_t *s)
{
    return s != NULL ? (int)config_setting_source_line(s) : 0;
}

static void apply_key(struct cfg_reader *r, struct dkim_policy *p, const config_setting_t *entry,
    int index)
{
    char option[64];
    snprintf(option, sizeof option, "dkim.keys[%d]", index);
    if (config_setting_type(entry) != CONFIG_TYPE_GROUP) {
        cfg_error(r, entry, option, "must be { name = \"...\"; domain = \"...\"; "
            "selector = \"...\"; file = \"...\"; }");
        return;
    }
    struct key_fields f = {0};
    cfg_apply_options(r, entry, option, key_options, &f);
    const char *missing = f.name == NULL ? "name" : f.domain == NULL ? "domain"
        : f.selector == NULL ? "selector" : f.file == NULL ? "file" : NULL;
    for (size_t i = 0; missing == NULL && i < p->key_count; i++) {
        if (strcmp(p->keys[i].name, f.name) == 0) {
            cfg_error(r, entry, option, "key name \"%s\" is already used at %s:%d: give each "
                "key its own name", f.name, p->keys[i].decl_file, p->keys[i].decl_line);
            missing = "";
        }
    }
    if (missing != NULL && *missing != '\0')
        cfg_error(r, entry, option, "%s is missing", missing);
    if (missing != NULL) {
        free(f.name);
        free(f.domain);
        free(f.selector);
        free(f.file);
        return;
    }
    str_lower(f.domain);
    p->keys = xrealloc(p->keys, (p->key_count + 1) * sizeof *p->keys);
    p->keys[p->key_count++] = (struct dkim_key_entry){
        .name = f.name, .domain = f.domain, .selector = f.selector, .file = f.file,
        .decl_file = xstrdup(r->file), .decl_line = line_of(entry),
    };
}

static void apply_rule(struct cfg_reader *r, struct dkim_policy *p,
    const config_setting_t *entry, int index)
{
    char option[64];
    snprintf(option, sizeof option, "dkim.signing[%d]", index);
    if (config_setting_type(entry) != CONFIG_TYPE_GROUP) {
        cfg_error(r, entry, option, "must be { from = \"example.com\"; keys = [ \"name\" ]; }");
        return;
    }
    struct dkim_sign_rule rule = {0};
    pattern_list_init(&rule.match, PATTERN_ADDRESSES);
    bool have_pattern = false;
    int n = config_setting_length(entry);
    bool ok = true;
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(entry, (unsigned)i);
        const char *name = config_setting_name(s);
        char sub[96];
        snprintf(sub, sizeof sub, "%s.%s", option, name);
        if (strcmp(name, "from") == 0 || strcmp(name, "sender") == 0) {
            if (have_pattern) {
                cfg_error(r, s, sub, "give either from or sender, once");
                ok = false;
            } else {
                have_pattern = true;
                rule.on = name[0] == 'f' ? DKIM_MATCH_FROM : DKIM_MATCH_SENDER;
                ok &= cfg_read_patterns(r, s, sub, &rule.match);
            }
        } else if (strcmp(name, "keys") == 0) {
            if (rule.key_names != NULL) {
                cfg_error(r, s, sub, "keys is given twice");
                ok = false;
            } else if (!cfg_read_strings(r, s, sub, &rule.key_names, &rule.key_count)) {
                ok = false;
            }
        } else {
            static const char *const names[] = {"from", "sender", "keys", NULL};
            const char *hint = cfg_suggest(name, names);
            cfg_error(r, s, sub, "unknown option%s%s%s", hint ? "; did you mean " : "",
                hint ? hint : "", hint ? "?" : " (from, sender, keys)");
            ok = false;
        }
    }
    if (ok && (!have_pattern || rule.key_count == 0)) {
        cfg_error(r, entry, option, "%s", !have_pattern ? "from (or sender) is missing"
            : "keys is missing or empty");
        ok = false;
    }
    if (!ok) {
        cfg_free_strings(rule.key_names, rule.key_count);
        pattern_list_free(&rule.match);
        return;
    }
    rule.decl_file = xstrdup(r->file);
    rule.decl_line = line_of(entry);
    p->rules = xrealloc(p->rules, (p->rule_count + 1) * sizeof *p->rules);
    p->rules[p->rule_count++] = rule;
}

static void apply_user(struct cfg_reader *r, struct dkim_policy *p,
    const config_setting_t *entry, int index)
{
    char option[64];
    snprintf(option, sizeof option, "dkim.users[%d]", index);
    const config_setting_t *user = config_setting_type(entry) == CONFIG_TYPE_GROUP
        ? config_setting_get_member(entry, "user") : NULL;
    const config_setting_t *domains = user != NULL
        ? config_setting_get_member(entry, "domains") : NULL;
    if (user == NULL || domains == NULL || config_setting_length(entry) != 2) {
        cfg_error(r, entry, option, "must be { user = \"alice\"; domains = [ \"example.com\" ]; }");
        return;
    }
    const char *name;
    struct dkim_user_rule rule = {0};
    pattern_list_init(&rule.who, PATTERN_SASL_USERS);
    pattern_list_init(&rule.domains, PATTERN_DOMAINS);
    char sub[96];
    snprintf(sub, sizeof sub, "%s.domains", option);
    if (!cfg_read_patterns(r, domains, sub, &rule.domains)) {
        pattern_list_free(&rule.domains);
        return;
    }
    snprintf(sub, sizeof sub, "%s.user", option);
    if (!cfg_read_string(r, user, sub, &name) || !cfg_read_patterns(r, user, sub, &rule.who)) {
        pattern_list_free(&rule.domains);
        pattern_list_free(&rule.who);
        return;
    }
    rule.user = xstrdup(name);
    str_lower(rule.user);
    p->users = xrealloc(p->users, (p->user_count + 1) * sizeof *p->users);
    p->users[p->user_count++] = rule;
}

static void apply_list(struct cfg_reader *r, struct dkim_policy *p, const config_setting_t *s,
    void (*one)(struct cfg_reader *, struct dkim_policy *, const config_setting_t *, int))
{
    char option[64];
    snprintf(option, sizeof option, "dkim.%s", config_setting_name(s));
    if (config_setting_type(s) != CONFIG_TYPE_LIST) {
        cfg_error(r, s, option, "must be a list in parentheses: %s = ( { ... }, { ... } );",
            config_setting_name(s));
        return;
    }
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++)
        one(r, p, config_setting_get_elem(s, (unsigned)i), i);
}

static void dkim_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct dkim_policy *p = r->cfg->dkim;
    int n = config_setting_length(section);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(section, (unsigned)i);
        const char *name = config_setting_name(s);
        if (strcmp(name, "sign") == 0) {
            cfg_apply_options(r, s, "dkim.sign", sign_options, p);
        } else if (strcmp(name, "verify") == 0) {
            cfg_apply_options(r, s, "dkim.verify", verify_options, p);
        } else if (strcmp(name, "keys") == 0) {
            apply_list(r, p, s, apply_key);
        } else if (strcmp(name, "signing") == 0) {
            apply_list(r, p, s, apply_rule);
        } else if (strcmp(name, "users") == 0) {
            apply_list(r, p, s, apply_user);
        } else {
            static const char *const names[] = {"sign", "verify", "keys", "signing", "users", NULL};
            const char *hint = cfg_suggest(name, names);
            char option[96];
            snprintf(option, sizeof option, "dkim.%s", name);
            cfg_error(r, s, option, "unknown option%s%s%s", hint ? "; did you mean " : "",
                hint ? hint : "", hint ? "?" : " (sign, verify, keys, signing, users)");
        }
    }
}

static bool find_key(const struct dkim_policy *p, const char *name, size_t *index)
{
    for (size_t i = 0; i < p->key_count; i++) {
        if (strcmp(p->keys[i].name, name) == 0) {
            *index = i;
            return true;
        }
    }
    return false;
}

static bool parse_canon(const char *text, int *header, int *body)
{
    char h[16], b[16];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    if (hl >= sizeof h || (slash && strlen(slash + 1) >= sizeof b))
        return false;
    memcpy(h, text, hl);
    h[hl] = '\0';
    strlcpy_mw(b, slash ? slash + 1 : "simple", sizeof b);   /* RFC 6376 3.5: c=x means x/simple */
    int codes[2];
    const char *parts[2] = {h, b};
    for (int i = 0; i < 2; i++) {
        if (strcmp(parts[i], "relaxed") == 0)
            codes[i] = ARC_CANON_RELAXED;
        else if (strcmp(parts[i], "simple") == 0)
            codes[i] = ARC_CANON_SIMPLE;
        else
            return false;
    }
    *header = codes[0];
    *body = codes[1];
    return true;
}

/* Splits "from:to:subject" into a NULL-terminated array for dkim_options. */
static char **header_list(const char *text, size_t *count)
{
    char **items = xcalloc(strlen(text) / 2 + 2, sizeof *items);
    size_t n = 0;
    const char *p = text;
    while (*p != '\0') {
        while (*p == ':' || *p == ' ')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ':' && *p != ' ')
            p++;
        if (p > start)
            items[n++] = xstrndup(start, (size_t)(p - start));
    }
    *count = n;
    return items;
}

static bool list_has(const char *list, const char *name)
{
    size_t count;
    char **items = header_list(list, &count);
    bool found = false;
    for (size_t i = 0; i < count; i++)
        found = found || str_ieq(items[i], name);
    cfg_free_strings(items, count);
    return found;
}

/* A header name as RFC 5322 2.2 allows it: printable ASCII but the colon. */
static bool valid_field_name(const char *name)
{
    if (*name == '\0')
        return false;
    for (const char *c = name; *c != '\0'; c++) {
        if (*c < 33 || *c > 126 || *c == ':')
            return false;
    }
    return true;
}

/* Every name in the colon-separated list is a header field name. */
static void check_field_list(struct config_errors *errs, const char *file, const char *option,
    const char *text)
{
    size_t count;
    char **items = header_list(text, &count);
    for (size_t i = 0; i < count; i++) {
        if (!valid_field_name(items[i]))
            config_errors_add(errs, file, 0, option, "\"%s\" is not a header field name: "
                "write names separated by colons, \"from:to:subject\"", items[i]);
    }
    cfg_free_strings(items, count);
}

static void finish_sign(struct config *cfg, struct dkim_policy *p, struct config_errors *errs)
{
    const char *file = cfg->main_file;
    if (!parse_canon(p->sign.canonicalization, &p->sign.header_canon, &p->sign.body_canon))
        config_errors_add(errs, file, 0, "dkim.sign.canonicalization", "\"%s\": want "
            "relaxed/relaxed, relaxed/simple, simple/relaxed or simple/simple",
            p->sign.canonicalization);
    check_field_list(errs, file, "dkim.sign.headers", p->sign.headers);
    check_field_list(errs, file, "dkim.sign.oversign", p->sign.oversign);
    if (!list_has(p->sign.headers, "from"))
        config_errors_add(errs, file, 0, "dkim.sign.headers", "must include from "
            "(RFC 6376 5.4): \"from:to:subject:...\"");
    for (size_t i = 0; i < p->key_count; i++) {
        struct dkim_key_entry *e = &p->keys[i];
        char why[512], warn[512];
        e->key = dkim_key_load_file(e->file, why, sizeof why, warn, sizeof warn);
        if (e->key == NULL)
            config_errors_add(errs, e->decl_file, e->decl_line, "dkim.keys", "key \"%s\": %s",
                e->name, why);
        else if (warn[0] != '\0')
            log_warn("%s:%d: dkim.keys: key \"%s\": %s", e->decl_file, e->decl_line, e->name, warn);
    }
    for (size_t i = 0; i < p->rule_count; i++) {
        struct dkim_sign_rule *rule = &p->rules[i];
        rule->keys = xcalloc(rule->key_count, sizeof *rule->keys);
        for (size_t k = 0; k < rule->key_count; k++) {
            if (!find_key(p, rule->key_names[k], &rule->keys[k]))
                config_errors_add(errs, rule->decl_file, rule->decl_line, "dkim.signing.keys",
                    "no key named \"%s\" in dkim.keys: add it or fix the name",
                    rule->key_names[k]);
        }
    }
    if (p->sign.default_key != NULL && !find_key(p, p->sign.default_key, &p->default_key))
        config_errors_add(errs, file, 0, "dkim.sign.default_key",
            "no key named \"%s\" in dkim.keys: add it or fix the name", p->sign.default_key);
}

static void dkim_finish(struct config *cfg, struct config_errors *errs)
{
    finish_sign(cfg, cfg->dkim, errs);
}

static void dkim_free_policy(struct config *cfg)
{
    struct dkim_policy *p = cfg->dkim;
    if (p == NULL)
        return;
    cidr_list_free(&p->sign.networks);
    free(p->sign.canonicalization);
    free(p->sign.headers);
    free(p->sign.oversign);
    free(p->sign.default_key);
    for (size_t i = 0; i < p->key_count; i++) {
        struct dkim_key_entry *e = &p->keys[i];
        free(e->name);
        free(e->domain);
        free(e->selector);
        free(e->file);
        free(e->decl_file);
        dkim_key_free(e->key);
    }
    free(p->keys);
    for (size_t i = 0; i < p->rule_count; i++) {
        pattern_list_free(&p->rules[i].match);
        cfg_free_strings(p->rules[i].key_names, p->rules[i].key_count);
        free(p->rules[i].keys);
        free(p->rules[i].decl_file);
    }
    free(p->rules);
    for (size_t i = 0; i < p->user_count; i++) {
        free(p->users[i].user);
        pattern_list_free(&p->users[i].who);
        pattern_list_free(&p->users[i].domains);
    }
    free(p->users);
    free(p);
    cfg->dkim = NULL;
}

const struct config_module dkim_config_module = {
    .section = "dkim",
    .init = dkim_init_policy,
    .apply = dkim_apply,
    .finish = dkim_finish,
    .free = dkim_free_policy,
};
