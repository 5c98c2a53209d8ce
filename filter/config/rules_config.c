/* rules_config.c - the policy section `rules`: which rule files to read (globs; a glob that
 * matches nothing is not an error, so SpamAssassin's stock rules may be listed whether or not
 * the spamassassin package is installed), rules written inline, and the scan limits. The rules
 * are read and compiled in finish(), once per load or reload; a file that exists but cannot be
 * read is an error naming the file, nothing inside a rule file is. */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_policy.h"
#include "config_module.h"
#include "mw_build.h"
#include "native_symbols.h"
#include "rules.h"
#include "util.h"

/* Without a `rules.files` line: the admin's rule directory. The shipped policy
 * (policies/mailwarden.conf, what a package installs) lists Debian's stock SpamAssassin rules
 * first, so a new install reads them; a policy written from scratch says what it reads. */
#define DEFAULT_RULES_GLOB SYSCONFDIR "/mailwarden/rules.d/*.cf"
/* Compiled Hyperscan databases (rules_prefilter_cache.c): in the daemon's state directory. */
#define DEFAULT_PREFILTER_CACHE LOCALSTATEDIR "/lib/mailwarden/hyperscan"

#define LIMIT(field) offsetof(struct rules_policy, limits.field)
static const struct option_spec scan_options[] = {
    {"header", OPT_SIZE, LIMIT(header_bytes), 256, 64.0 * 1024 * 1024},
    {"body", OPT_SIZE, LIMIT(body_bytes), 1024, 1024.0 * 1024 * 1024},
    {"rawbody", OPT_SIZE, LIMIT(rawbody_bytes), 1024, 1024.0 * 1024 * 1024},
    {"full", OPT_SIZE, LIMIT(full_bytes), 1024, 1024.0 * 1024 * 1024},
    {"uris", OPT_UINT, LIMIT(uri_count), 1, 1000000},
    {"match_limit", OPT_UINT, LIMIT(match_limit), 1000, 100000000},
    {"depth_limit", OPT_UINT, LIMIT(depth_limit), 100, 10000000},
    {NULL, 0, 0, 0, 0},
};

/* The policy, and where `rules.files` was last set (for errors found in finish()). */
struct rules_policy_full {
    struct rules_policy policy;     /* first: cfg->rules points here */
    char *files_file;
    int files_line;
};

static void rules_init(struct config *cfg)
{
    struct rules_policy_full *full = xcalloc(1, sizeof *full);
    struct rules_policy *p = &full->policy;
    p->files = xcalloc(2, sizeof *p->files);
    p->files[0] = xstrdup(DEFAULT_RULES_GLOB);
    p->file_count = 1;
    rules_limits_default(&p->limits);
    p->prefilter_cache = xstrdup(DEFAULT_PREFILTER_CACHE);
    cfg->rules = p;
}

static void free_strings(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

static void apply_inline(struct cfg_reader *r, const config_setting_t *s, struct rules_policy *p)
{
    char **lines = NULL;
    size_t count = 0;
    if (!cfg_read_strings(r, s, "rules.inline", &lines, &count))
        return;
    p->inline_rules = xrealloc(p->inline_rules, (p->inline_count + count) * sizeof(char *));
    p->inline_origin = xrealloc(p->inline_origin, (p->inline_count + count) * sizeof(char *));
    for (size_t i = 0; i < count; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        p->inline_rules[p->inline_count] = lines[i];
        p->inline_origin[p->inline_count] = xasprintf("%s:%d", r->file,
            e ? config_setting_source_line(e) : config_setting_source_line(s));
        p->inline_count++;
    }
    free(lines);
}

/* skipped_rules = "zero" | "unknown": how meta rules see rules that were skipped. */
static void apply_skipped_rules(struct cfg_reader *r, const config_setting_t *s,
    struct rules_policy *p)
{
    const char *value;
    if (!cfg_read_string(r, s, "rules.skipped_rules", &value))
        return;
    if (strcmp(value, "zero") == 0)
        p->limits.skipped_unknown = false;
    else if (strcmp(value, "unknown") == 0)
        p->limits.skipped_unknown = true;
    else
        cfg_error(r, s, "rules.skipped_rules", "\"%s\": must be \"zero\" or \"unknown\"", value);
}

static char *absolute_glob(const struct config *cfg, const char *pattern);

/* prefilter_cache = "/var/lib/mailwarden/hyperscan" (or "" for none). */
static void apply_prefilter_cache(struct cfg_reader *r, const config_setting_t *s,
    struct rules_policy *p)
{
    const char *value;
    if (!cfg_read_string(r, s, "rules.prefilter_cache", &value))
        return;
    if (value[0] != '\0' && value[0] != '/') {
        cfg_error(r, s, "rules.prefilter_cache", "\"%s\": write an absolute directory, as \""
            DEFAULT_PREFILTER_CACHE "\", or \"\" to keep no cache", value);
        return;
    }
    free(p->prefilter_cache);
    p->prefilter_cache = xstrdup(value);
}

/* shadow_files = [ "rules.d/new-*.cf" ]: the hits of rules from these files are shadow. A later
 * file's list replaces the earlier one. */
static void apply_shadow_files(struct cfg_reader *r, const config_setting_t *s,
    struct rules_policy *p)
{
    char **globs = NULL;
    size_t count = 0;
    if (!cfg_read_strings(r, s, "rules.shadow_files", &globs, &count))
        return;
    for (size_t i = 0; i < count; i++) {
        char *absolute = absolute_glob(r->cfg, globs[i]);
        free(globs[i]);
        globs[i] = absolute;
    }
    free_strings(p->shadow_files, p->shadow_file_count);
    p->shadow_files = globs;
    p->shadow_file_count = count;
}

static void rules_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct rules_policy *p = r->cfg->rules;
    struct rules_policy_full *full = (struct rules_policy_full *)p;
    if (config_setting_type(section) != CONFIG_TYPE_GROUP) {
        cfg_error(r, section, "rules", "must be a section: rules: { ... }");
        return;
    }
    static const char *const names[] = { "files", "inline", "scan", "skipped_rules", "mode",
        "shadow_files", "prefilter_cache", NULL };
    int n = config_setting_length(section);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(section, (unsigned)i);
        const char *name = config_setting_name(s);
        if (strcmp(name, "files") == 0) {
            char **files = NULL;
            size_t count = 0;
            if (!cfg_read_strings(r, s, "rules.files", &files, &count))
                continue;
            free_strings(p->files, p->file_count);
            p->files = files;            /* a later file's list replaces the earlier one */
            p->file_count = count;
            free(full->files_file);
            full->files_file = xstrdup(r->file);
            full->files_line = config_setting_source_line(s);
        } else if (strcmp(name, "inline") == 0) {
            apply_inline(r, s, p);
        } else if (strcmp(name, "skipped_rules") == 0) {
            apply_skipped_rules(r, s, p);
        } else if (strcmp(name, "scan") == 0) {
            cfg_apply_options(r, s, "rules.scan", scan_options, p);
        } else if (strcmp(name, "mode") == 0) {
            cfg_read_check_mode(r, s, "rules.mode", &p->shadow);
        } else if (strcmp(name, "shadow_files") == 0) {
            apply_shadow_files(r, s, p);
        } else if (strcmp(name, "prefilter_cache") == 0) {
            apply_prefilter_cache(r, s, p);
        } else {
            const char *hint = cfg_suggest(name, names);
            cfg_error(r, s, name, "unknown option in rules; %s%s%s", hint ? "did you mean " : "",
                hint ? hint : "the options are files, inline, scan, skipped_rules, mode, "
                "shadow_files and prefilter_cache", hint ? "?" : "");
        }
    }
}

/* A relative glob is relative to the main policy file's directory. */
static char *absolute_glob(const struct config *cfg, const char *pattern)
{
    if (pattern[0] == '/' || cfg->main_file == NULL)
        return xstrdup(pattern);
    char *copy = xstrdup(cfg->main_file);
    char *path = xasprintf("%s/%s", dirname(copy), pattern);
    free(copy);
    return path;
}

/* glob()'s error callback has no argument: the first real error of this thread's glob call. */
static _Thread_local int glob_errno;
static _Thread_local char glob_error_path[512];

static int note_glob_error(const char *path, int eerrno)
{
    if (eerrno != ENOENT && eerrno != ENOTDIR && glob_errno == 0) {
        glob_errno = eerrno;
        strlcpy_mw(glob_error_path, path, sizeof glob_error_path);
    }
    return 0;                          /* go on with the rest of the pattern */
}

static void read_glob(struct config *cfg, struct config_errors *errs, const char *pattern)
{
    struct rules_policy *p = cfg->rules;
    const struct rules_policy_full *full = (const struct rules_policy_full *)p;
    const char *where = full->files_file ? full->files_file : cfg->main_file;
    char *path = absolute_glob(cfg, pattern);
    glob_t g;
    glob_errno = 0;
    int rc = glob(path, 0, note_glob_error, &g);
    if (glob_errno != 0) {
        config_errors_add(errs, where, full->files_line, "rules.files",
            "\"%s\": %s: %s; fix its permissions or the glob", path, glob_error_path,
            strerror(glob_errno));
    }
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        char why[256];
        if (!ruleset_read_file(p->set, g.gl_pathv[i], why, sizeof why)) {
            config_errors_add(errs, where, full->files_line,
                "rules.files", "%s: cannot be read (%s); fix its permissions or remove it",
                g.gl_pathv[i], why);
        }
    }
    if (rc == 0)
        globfree(&g);
    free(path);
}

static void rules_finish(struct config *cfg, struct config_errors *errs)
{
    struct rules_policy *p = cfg->rules;
    p->set = ruleset_new();
    for (size_t i = 0; i < p->file_count; i++)
        read_glob(cfg, errs, p->files[i]);
    for (size_t i = 0; i < p->inline_count; i++)
        ruleset_read_text(p->set, p->inline_origin[i], p->inline_rules[i],
            strlen(p->inline_rules[i]));
    for (size_t i = 0; i < cfg->symbol_count; i++) {       /* before finish: the prefilter */
        const struct symbol_override *o = &cfg->symbols[i];
        if (o->has_score && o->score != 0)
            ruleset_mark_scored_by_policy(p->set, o->symbol);
    }
    ruleset_finish(p->set);
    ruleset_set_prefilter_cache(p->set, p->prefilter_cache);
    if (ruleset_loaded(p->set) == 0 && ruleset_skipped(p->set) == 0) {
        ruleset_free(p->set);
        p->set = NULL;
    }
}

static void rules_free(struct config *cfg)
{
    struct rules_policy *p = cfg->rules;
    if (p == NULL)
        return;
    struct rules_policy_full *full = (struct rules_policy_full *)p;
    free_strings(p->files, p->file_count);
    free_strings(p->inline_rules, p->inline_count);
    free_strings(p->inline_origin, p->inline_count);
    free_strings(p->shadow_files, p->shadow_file_count);
    free(p->prefilter_cache);
    ruleset_free(p->set);
    free(full->files_file);
    free(full);
    cfg->rules = NULL;
}

/* One line per glob of rules.files: the files it read (the rule sets loaded), or none. */
static void report_files(const struct config *cfg, void (*out)(const char *line, void *arg),
    void *arg)
{
    const struct rules_policy *p = cfg->rules;
    for (size_t i = 0; p != NULL && i < p->file_count; i++) {
        char *path = absolute_glob(cfg, p->files[i]);
        glob_t g;
        struct textbuf line;
        textbuf_init(&line);
        textbuf_printf(&line, "rules: files %s: ", path);
        if (glob(path, 0, NULL, &g) != 0) {
            textbuf_puts(&line, "no file (not an error)");
        } else {
            textbuf_printf(&line, "%zu file%s:", g.gl_pathc, g.gl_pathc == 1 ? "" : "s");
            for (size_t f = 0; f < g.gl_pathc; f++) {
                const char *slash = strrchr(g.gl_pathv[f], '/');
                textbuf_printf(&line, " %s", slash ? slash + 1 : g.gl_pathv[f]);
            }
            globfree(&g);
        }
        out(line.data, arg);
        textbuf_free(&line);
        free(path);
    }
}

/* Which of SpamAssassin's score sets the daemon's rules use (rules.h): the network bit
 * whenever it has a resolver (it always prepares one), the Bayes bit once bayes is enabled
 * and its database has learnt enough (per message, as SpamAssassin's is_scan_available). */
static void report_score_set(const struct config *cfg, void (*out)(const char *line, void *arg),
    void *arg)
{
    bool net = cfg->dns.resolver != NULL;
    const struct bayes_policy *b = cfg->bayes;
    unsigned set = net ? RULES_SET_NET : 0;
    char *line;
    if (b == NULL || !b->enabled)
        line = xasprintf("rules: score set %u of SpamAssassin's four (network tests %s, Bayes off)",
            set, net ? "on" : "off");
    else
        line = xasprintf("rules: score set %u of SpamAssassin's four (network tests %s, Bayes on) "
            "once the Bayes database holds %lld spam and %lld ham (bayes.min_spam, "
            "bayes.min_ham); set %u until then", set | RULES_SET_BAYES, net ? "on" : "off",
            (long long)b->min_spam, (long long)b->min_ham, set);
    out(line, arg);
    free(line);
}

void rules_report_config(const struct config *cfg, void (*out)(const char *line, void *arg),
    void *arg)
{
    report_files(cfg, out, arg);
    if (cfg->rules == NULL || cfg->rules->set == NULL) {
        out("rules: none (rules.files matched no file and no inline rules)", arg);
        return;
    }
    ruleset_report(cfg->rules->set, out, arg);
    report_score_set(cfg, out, arg);
    char prefilter[512];
    ruleset_prefilter_describe(cfg->rules->set, prefilter, sizeof prefilter);
    char *line = xasprintf("rules: regexes: %s", prefilter);
    out(line, arg);
    free(line);
    for (size_t i = 0; native_symbols[i] != NULL; i++) {
        const char *origin = ruleset_rule_origin(cfg->rules->set, native_symbols[i]);
        if (origin == NULL || native_symbol_is_spamassassins(native_symbols[i]))
            continue;
        char *line = xasprintf("warning: %s: rule %s replaces the native check's symbol of the "
            "same name (the message is scored once, by the rule); rename the rule to keep both",
            origin, native_symbols[i]);
        out(line, arg);
        free(line);
    }
}

/* A rule of the loaded set, also one skipped (its name is the admin's, not a typo). */
static bool rules_emits(const struct config *cfg, const char *symbol)
{
    const struct ruleset *set = cfg->rules != NULL ? cfg->rules->set : NULL;
    return set != NULL && (ruleset_has_rule(set, symbol) || ruleset_skip_reason(set, symbol) != NULL);
}

const struct config_module rules_config_module = {
    .section = "rules",
    .init = rules_init,
    .apply = rules_apply,
    .finish = rules_finish,
    .emits = rules_emits,
    .free = rules_free,
};
