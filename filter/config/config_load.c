/* config_load.c - the top layer of the configuration: reads the main policy file and the
 * files it includes (libconfig), hands each top-level section to the module that owns it
 * (config_modules.c), then runs every module's check() and finish(). Files are applied in
 * order (single values override, lists add up). Every error is collected, so `mailwarden -t`
 * shows them all. An include circle (a file that @includes itself, directly or not) is an
 * error naming the file and line of the @include that closes it. No section is known here. */
#include "config_load.h"

#include <errno.h>
#include <glob.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_module.h"
#include "policy_file.h"
#include "util.h"

#define MAX_INCLUDED_FILES 1000


/* The module owning a top-level section, or NULL. */
static const struct config_module *module_for(const char *section)
{
    for (const struct config_module *const *m = config_modules; *m != NULL; m++) {
        if (strcmp((*m)->section, section) == 0)
            return *m;
    }
    return NULL;
}

/* Every section name, for "did you mean" and the list of sections. */
static void section_names(const char **names, size_t size)
{
    size_t n = 0;
    names[n++] = "include";
    for (const struct config_module *const *m = config_modules; *m != NULL && n + 1 < size; m++)
        names[n++] = (*m)->section;
    names[n] = NULL;
}

static void unknown_section(struct cfg_reader *r, const config_setting_t *s, const char *name)
{
    const char *names[64];
    section_names(names, sizeof names / sizeof names[0]);
    const char *hint = cfg_suggest(name, names);
    if (hint != NULL) {
        cfg_error(r, s, name, "unknown section; did you mean %s?", hint);
        return;
    }
    struct textbuf list;
    textbuf_init(&list);
    for (size_t i = 0; names[i] != NULL; i++)
        textbuf_printf(&list, "%s%s", i ? ", " : "", names[i]);
    cfg_error(r, s, name, "unknown section (sections: %s)", list.data);
    textbuf_free(&list);
}

/* Remembers a top-level name written in a file, once, for the policy summary. */
static void remember_section(struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->section_count; i++) {
        if (strcmp(cfg->sections[i], name) == 0)
            return;
    }
    cfg->sections = xrealloc(cfg->sections, (cfg->section_count + 1) * sizeof *cfg->sections);
    cfg->sections[cfg->section_count++] = xstrdup(name);
}

static void apply_root(struct cfg_reader *r, const config_setting_t *root)
{
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        remember_section(r->cfg, name);
        if (strcmp(name, "include") == 0)
            continue;   /* handled by config_load */
        const struct config_module *m = module_for(name);
        if (m == NULL)
            unknown_section(r, s, name);
        else if (!m->checks_own_type && config_setting_type(s) != CONFIG_TYPE_GROUP)
            cfg_error(r, s, name, "must be a section: %s: { ... }", name);
        else
            m->apply(r, s);
    }
}

/* The @include chain being walked, outermost first: the files' real paths, to find a circle,
 * and the names as written, to show it. libconfig itself nests at most 10 deep. */
#define MAX_INCLUDE_DEPTH 10
struct include_chain {
    char *real[MAX_INCLUDE_DEPTH + 1];
    const char *shown[MAX_INCLUDE_DEPTH + 1];
    size_t depth;
};

static bool includes_are_sound(FILE *fp, const char *path, struct include_chain *chain,
    struct config_errors *errs);

/* Checks one @include "named" written at path:lineno: a readable file (libconfig would block on
 * a FIFO), not one already being read (a circle), and its own @includes in turn. */
static bool include_is_sound(const char *named, const char *path, int lineno,
    struct include_chain *chain, struct config_errors *errs)
{
    const char *shown = policy_path_showable(named) ? named : "(the value is not shown)";
    char why[300];
    if (!policy_file_check(named, why, sizeof why)) {
        config_errors_add(errs, path, lineno, "@include", "%s: %s", shown, why);
        return false;
    }
    char *real = realpath(named, NULL);
    for (size_t i = 0; real != NULL && i < chain->depth; i++) {
        if (strcmp(chain->real[i], real) != 0)
            continue;
        struct textbuf circle;
        textbuf_init(&circle);
        for (size_t k = i; k < chain->depth; k++)
            textbuf_printf(&circle, "%s -> ", chain->shown[k]);
        textbuf_printf(&circle, "%s", shown);
        config_errors_add(errs, path, lineno, "@include", "%s is already being read: an include "
            "circle (%s); remove the @include that closes it", shown, circle.data);
        textbuf_free(&circle);
        free(real);
        return false;
    }
    if (real == NULL || chain->depth >= MAX_INCLUDE_DEPTH) {
        if (real != NULL)
            config_errors_add(errs, path, lineno, "@include", "%s: @include nests more than %d "
                "files deep", shown, MAX_INCLUDE_DEPTH);
        free(real);
        return real == NULL;         /* unresolvable: libconfig reports it */
    }
    FILE *fp = policy_file_fopen(named, why, sizeof why);
    if (fp == NULL) {
        config_errors_add(errs, path, lineno, "@include", "%s: %s", shown, why);
        free(real);
        return false;
    }
    chain->real[chain->depth] = real;
    chain->shown[chain->depth++] = shown;
    bool ok = includes_are_sound(fp, named, chain, errs);
    chain->depth--;
    fclose(fp);
    free(real);
    return ok;
}

/* libconfig opens the files of its own @include directives itself, blocking on a FIFO and
 * following a circle until a setting repeats: every file an @include names, nested or not, is
 * checked first. */
static bool includes_are_sound(FILE *fp, const char *path, struct include_chain *chain,
    struct config_errors *errs)
{
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    bool ok = true;
    while (getline(&line, &cap, fp) > 0) {
        lineno++;
        const char *p = line + strspn(line, " \t");
        char *open_quote = strncmp(p, "@include", 8) == 0 ? strchr(p, '"') : NULL;
        char *close_quote = open_quote != NULL ? strchr(open_quote + 1, '"') : NULL;
        if (close_quote == NULL)
            continue;                  /* not one, or libconfig reports the syntax */
        *close_quote = '\0';
        ok &= include_is_sound(open_quote + 1, path, lineno, chain, errs);
    }
    free(line);
    return ok;
}

static bool libconfig_includes_are_sound(FILE *fp, const char *path, struct config_errors *errs)
{
    struct include_chain chain = {.depth = 0};
    char *real = realpath(path, NULL);
    if (real != NULL) {
        chain.real[0] = real;
        chain.shown[0] = path;
        chain.depth = 1;
    }
    bool ok = includes_are_sound(fp, path, &chain, errs);
    free(real);
    rewind(fp);
    return ok;
}

/* Parses one file; on a syntax error reports it and returns false. */
static bool read_file(const char *path, config_t *lc, struct config_errors *errs)
{
    config_init(lc);
    char why[300];
    FILE *fp = policy_file_fopen(path, why, sizeof why);
    if (fp == NULL) {
        config_errors_add(errs, path, 0, "-", "cannot read the file: %s", why);
        config_destroy(lc);
        return false;
    }
    if (!libconfig_includes_are_sound(fp, path, errs)) {
        fclose(fp);
        config_destroy(lc);
        return false;
    }
    int read_ok = config_read(lc, fp);
    fclose(fp);
    if (read_ok == CONFIG_TRUE)
        return true;
    const char *text = config_error_text(lc);
    const char *hint = "";
    if (text != NULL && strcmp(text, "syntax error") == 0)
        hint = " (check this line and the one before: a section is written name: { ... }, a "
               "value name = value, strings in double quotes, and brackets must balance)";
    config_errors_add(errs, config_error_file(lc) ? config_error_file(lc) : path,
        config_error_line(lc), "-", "%s%s", text ? text : "parse error", hint);
    config_destroy(lc);
    return false;
}

static void remember_file(struct config *cfg, const char *path)
{
    cfg->files = xrealloc(cfg->files, (cfg->file_count + 1) * sizeof *cfg->files);
    cfg->files[cfg->file_count++] = xstrdup(path);
}

/* The include patterns of the main file and the line of the include setting (libconfig's line
 * of a list element is where the parser was after it, so errors name the setting's line). */
struct include_list {
    char **patterns;
    size_t count;
    int line;
};

static void read_includes(struct cfg_reader *r, const config_setting_t *inc,
    struct include_list *list)
{
    if (cfg_read_strings(r, inc, "include", &list->patterns, &list->count))
        list->line = (int)config_setting_source_line(inc);
}

/* Applies one file. For the main file, also returns its include patterns. */
static void apply_file(struct config *cfg, struct config_errors *errs, const char *path,
    bool is_main, struct include_list *includes)
{
    config_t lc;
    if (!read_file(path, &lc, errs))
        return;
    remember_file(cfg, path);
    struct cfg_reader r = {.cfg = cfg, .errs = errs, .notices = &cfg->notices, .file = path};
    const config_setting_t *inc = config_lookup(&lc, "include");
    if (inc != NULL && !is_main)
        cfg_error(&r, inc, "include", "only the main file may include other files");
    else if (inc != NULL)
        read_includes(&r, inc, includes);
    apply_root(&r, config_root_setting(&lc));
    config_destroy(&lc);
}

/* Whether the directory part of a path exists (a glob in a missing directory matches nothing). */
static bool directory_exists(const char *pattern)
{
    char *dir = xstrdup(pattern);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    struct stat st;
    bool exists = slash == NULL || (stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    free(dir);
    return exists;
}

static bool has_glob_characters(const char *pattern)
{
    return strpbrk(pattern, "*?[") != NULL;
}

/* Applies the files the include patterns match, relative to the main file's directory, in
 * name order; a glob may match nothing, a literal path must exist. */
static void apply_includes(struct config *cfg, struct config_errors *errs, const char *main_file,
    const struct include_list *includes)
{
    char **patterns = includes->patterns;
    size_t count = includes->count;
    char *dir = xstrdup(main_file);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        strcpy(dir, ".");
    size_t total = 0;
    for (size_t i = 0; i < count && total <= MAX_INCLUDED_FILES; i++) {
        char *pattern = patterns[i][0] == '/' ? xstrdup(patterns[i])
                                              : xasprintf("%s/%s", dir, patterns[i]);
        struct stat st;
        if (!has_glob_characters(pattern) && stat(pattern, &st) != 0) {
            config_errors_add(errs, main_file, includes->line, "include",
                "cannot include %s: %s (a path without *, ? or [ must exist; a glob such as "
                "\"policies.d/*.conf\" may match nothing)", pattern, strerror(errno));
            free(pattern);
            continue;
        }
        glob_t g;
        int rc = glob(pattern, GLOB_ERR, NULL, &g);
        if (rc == GLOB_ABORTED && !directory_exists(pattern))
            rc = GLOB_NOMATCH;    /* no policies.d at all: nothing to include */
        if (rc != 0 && rc != GLOB_NOMATCH)
            config_errors_add(errs, main_file, 0, "include", "cannot list %s: %s", pattern,
                rc == GLOB_ABORTED ? "directory not readable" : "out of memory");
        for (size_t k = 0; rc == 0 && k < g.gl_pathc; k++) {
            if (++total > MAX_INCLUDED_FILES) {
                config_errors_add(errs, main_file, 0, "include", "more than %d files included",
                    MAX_INCLUDED_FILES);
                break;
            }
            if (strcmp(g.gl_pathv[k], main_file) != 0)
                apply_file(cfg, errs, g.gl_pathv[k], false, NULL);
        }
        if (rc == 0)
            globfree(&g);
        free(pattern);
    }
    free(dir);
}

/* A policy without a single setting (an emptied file, one cut before its first section, or a
 * main file whose includes matched nothing) would run on built-in defaults: every rule, key and
 * nameserver of the real policy silently gone. Refused; write one setting to mean defaults. */
static void refuse_empty_policy(struct config *cfg, struct config_errors *errs, bool includes)
{
    for (size_t i = 0; i < cfg->section_count; i++) {
        if (strcmp(cfg->sections[i], "include") != 0)
            return;
    }
    config_errors_add(errs, cfg->main_file, 0, "-",
        "the policy has no setting at all%s (an emptied or cut file?); mailwarden will not run "
        "on built-in defaults: restore the file (the shipped one is mailwarden.conf), or write "
        "at least one section, as log: { level = \"info\" }",
        includes ? ", neither in this file nor in the files it includes" : "");
}

struct config *config_load(const char *main_file, struct config_errors *errs)
{
    struct config *cfg = config_defaults();
    cfg->main_file = xstrdup(main_file);
    size_t errors_before = errs->count;
    struct include_list includes = {0};
    apply_file(cfg, errs, main_file, true, &includes);
    apply_includes(cfg, errs, main_file, &includes);
    cfg_free_strings(includes.patterns, includes.count);
    if (cfg->file_count > 0 && errs->count == errors_before)
        refuse_empty_policy(cfg, errs, includes.count > 0);
    for (const struct config_module *const *m = config_modules; *m != NULL; m++) {
        if (cfg->file_count > 0 && (*m)->check != NULL)
            (*m)->check(cfg, errs);
    }
    for (const struct config_module *const *m = config_modules; *m != NULL; m++) {
        if (cfg->file_count > 0 && errs->count == errors_before && (*m)->finish != NULL)
            (*m)->finish(cfg, errs);
    }
    if (errs->count != errors_before) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

bool config_start(struct config *cfg, struct config_errors *errs)
{
    for (const struct config_module *const *m = config_modules; *m != NULL; m++) {
        if ((*m)->start != NULL && !(*m)->start(cfg, errs))
            return false;
    }
    return true;
}
