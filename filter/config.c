/* config.c - loads the main policy file and the files it includes into one typed configuration.
 * Files are read with libconfig; each is applied in order (single values override, access rules
 * and symbol overrides add up). Every error is collected, so `mailwarden -t` shows them all. */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <libconfig.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_module.h"
#include "config_sections.h"
#include "dns.h"
#include "log.h"
#include "policy_file.h"
#include "util.h"

#define MAX_INCLUDED_FILES 1000

/* The last line of defence against key text in an error (the readers already avoid echoing
 * it): PEM armour and what follows it, and every run of 40 or more base64 characters, are
 * replaced. Paths and names are broken up by dots, dashes or spaces long before 40. */
static void hide_key_text(char *reason, size_t size)
{
    static const char base64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    static const char hidden[] = "[not shown: may be key text]";
    char *armour = strstr(reason, "-----");
    if (armour != NULL)
        strlcpy_mw(armour, hidden, size - (size_t)(armour - reason));
    for (char *p = reason; *p != '\0';) {
        size_t run = strspn(p, base64);
        if (run >= 40) {
            memmove(p + sizeof hidden - 1, p + run, strlen(p + run) + 1);
            memcpy(p, hidden, sizeof hidden - 1);
            p += sizeof hidden - 1;
        } else {
            p += run > 0 ? run : 1;
        }
    }
}

void config_errors_add(struct config_errors *errs, const char *file, int line,
    const char *option, const char *fmt, ...)
{
    char reason[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    hide_key_text(reason, sizeof reason);
    errs->items = xrealloc(errs->items, (errs->count + 1) * sizeof *errs->items);
    struct config_error *e = &errs->items[errs->count++];
    e->file = xstrdup(file ? file : "(none)");
    e->line = line;
    e->option = xstrdup(option ? option : "-");
    e->reason = xstrdup(reason);
}

void config_errors_print(const struct config_errors *errs, void (*out)(const char *line, void *arg),
    void *arg)
{
    for (size_t i = 0; i < errs->count; i++) {
        const struct config_error *e = &errs->items[i];
        char *line = e->line > 0
            ? xasprintf("%s:%d: %s: %s", e->file, e->line, e->option, e->reason)
            : xasprintf("%s: %s: %s", e->file, e->option, e->reason);
        out(line, arg);
        free(line);
    }
}

void config_errors_free(struct config_errors *errs)
{
    for (size_t i = 0; i < errs->count; i++) {
        free(errs->items[i].file);
        free(errs->items[i].option);
        free(errs->items[i].reason);
    }
    free(errs->items);
    errs->items = NULL;
    errs->count = 0;
}

static void add_default_cidr(struct cidr_list *list, const char *text)
{
    struct cidr net;
    const char *why;
    if (cidr_parse(text, &net, &why))
        cidr_list_add(list, &net);
}

/* The host's fully qualified name (its canonical name, as `hostname -f` finds it), else its
 * short name. Used when the MTA does not tell its name (authres_id). */
static char *default_authserv_id(void)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
        return xstrdup("localhost");
    host[sizeof host - 1] = '\0';
    if (strchr(host, '.') != NULL)
        return xstrdup(host);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME};
    struct addrinfo *res = NULL;
    char *name = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL && res->ai_canonname != NULL
        && strchr(res->ai_canonname, '.') != NULL)
        name = xstrdup(res->ai_canonname);
    if (res != NULL)
        freeaddrinfo(res);
    return name != NULL ? name : xstrdup(host);
}

struct config *config_defaults(void)
{
    struct config *cfg = xcalloc(1, sizeof *cfg);
    cfg->refs = 1;
    cfg->milter.socket = xstrdup("inet:8891@127.0.0.1");
    cfg->milter.socket_mode = 0660;
    cfg->milter.timeout_s = 120;
    cfg->milter.backlog = 128;
    cfg->milter.shutdown_grace_ms = 30000;
    cfg->milter.max_connections = 1024;
    cfg->log.facility = LOG_MAIL;
    cfg->log.level = LOG_INFO;
    cfg->log.summary = true;
    cfg->limits.max_header_bytes = 1024 * 1024;
    cfg->limits.max_headers = 1000;
    cfg->limits.max_checked_header_bytes = 1024 * 1024;
    cfg->limits.max_body_buffer = 10 * 1024 * 1024;
    cfg->limits.max_recipients = 1000;
    cfg->authres.remove_forged = true;
    add_default_cidr(&cfg->networks.internal, "127.0.0.0/8");
    add_default_cidr(&cfg->networks.internal, "::1");
    cfg->dns.timeout_ms = 5000;
    cfg->dns.cache_size = 4 * 1024 * 1024;
    cfg->dns.cache_max_ttl = 86400;
    cfg->dns.use_hosts = true;
    cfg->actions.add_header = 5.0;
    cfg->actions.reject = 15.0;
    const char *why;
    reply_parse("550 5.7.1 Message rejected as spam", &cfg->actions.reject_reply, &why);
    reply_parse("451 4.7.1 Message deferred, try again later", &cfg->actions.tempfail_reply, &why);
    strlcpy_mw(cfg->actions.quarantine_reply.text, "Held for review by mailwarden",
        sizeof cfg->actions.quarantine_reply.text);
    cfg->actions.on_error = ACTION_TEMPFAIL;
    for (const struct config_module *const *m = config_modules; *m != NULL; m++)
        (*m)->init(cfg);
    return cfg;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    if (cfg->resolver != NULL)
        dns_resolver_free(cfg->resolver);
    for (size_t i = 0; i < cfg->retired_count; i++)
        dns_resolver_free(cfg->retired_resolvers[i]);
    free(cfg->main_file);
    cfg_free_strings(cfg->files, cfg->file_count);
    cfg_free_strings(cfg->sections, cfg->section_count);
    free(cfg->milter.socket);
    free(cfg->milter.socket_owner);
    free(cfg->milter.user);
    free(cfg->milter.group);
    free(cfg->milter.pidfile);
    free(cfg->authres.authserv_id);
    cidr_list_free(&cfg->networks.internal);
    cidr_list_free(&cfg->networks.trusted);
    cidr_list_free(&cfg->networks.skip);
    cfg_free_strings(cfg->dns.nameservers, cfg->dns.nameserver_count);
    free(cfg->dns.trust_anchor);
    for (size_t i = 0; i < cfg->access_count; i++)
        access_rule_free(&cfg->access[i]);
    free(cfg->access);
    for (size_t i = 0; i < cfg->symbol_count; i++)
        free(cfg->symbols[i].symbol);
    free(cfg->symbols);
    for (size_t i = 0; i < cfg->actions.domain_count; i++)
        domain_thresholds_free(&cfg->actions.domains[i]);
    free(cfg->actions.domains);
    for (const struct config_module *const *m = config_modules; *m != NULL; m++)
        (*m)->free(cfg);
    free(cfg);
}

const struct symbol_override *config_symbol(const struct config *cfg, const char *symbol)
{
    for (size_t i = 0; i < cfg->symbol_count; i++) {
        if (strcmp(cfg->symbols[i].symbol, symbol) == 0)
            return &cfg->symbols[i];
    }
    return NULL;
}

static const char *const top_level_names[] = {
    "include", "milter", "log", "limits", "authres", "networks", "dns", "actions", "access",
    "symbols", NULL,
};

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
    for (size_t i = 0; top_level_names[i] != NULL && n + 1 < size; i++)
        names[n++] = top_level_names[i];
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
        if (strcmp(name, "access") == 0) {
            cfg_apply_access(r, s);
        } else if (strcmp(name, "symbols") == 0) {
            cfg_apply_symbols(r, s);
        } else if (module_for(name) != NULL) {
            if (config_setting_type(s) != CONFIG_TYPE_GROUP)
                cfg_error(r, s, name, "must be a section: %s: { ... }", name);
            else
                module_for(name)->apply(r, s);
        } else if (!cfg_apply_section(r, s)) {
            unknown_section(r, s, name);
        }
    }
}

/* libconfig opens the files of its own @include directives itself, blocking on a FIFO: each
 * one named in this file is checked first (those nested in an @include'd file are not). */
static bool libconfig_includes_are_files(FILE *fp, const char *path, struct config_errors *errs)
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
        const char *named = open_quote + 1;
        char why[300];
        if (!policy_file_check(named, why, sizeof why)) {
            config_errors_add(errs, path, lineno, "@include", "%s: %s",
                policy_path_showable(named) ? named : "(the value is not shown)", why);
            ok = false;
        }
    }
    free(line);
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
    if (!libconfig_includes_are_files(fp, path, errs)) {
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
    struct cfg_reader r = {.cfg = cfg, .errs = errs, .file = path};
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

/* Checks that need the whole configuration; per-value checks are done as each value is read,
 * where the line is known. */
static void validate(struct config *cfg, struct config_errors *errs)
{
    if (cfg->milter.socket == NULL)
        config_errors_add(errs, cfg->main_file, 0, "milter.socket",
            "must not be empty: write inet:PORT@HOST, as \"inet:8891@127.0.0.1\"");
    if (cfg->authres.authserv_id == NULL) {
        cfg->authres.authserv_id = default_authserv_id();
        cfg->authres.authserv_id_is_default = true;
    }
    const struct { const char *name; double value; } thresholds[] = {
        {"actions.quarantine", cfg->actions.quarantine}, {"actions.tempfail", cfg->actions.tempfail},
    };
    for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++) {
        if (thresholds[i].value > 0 && cfg->actions.reject > 0 && thresholds[i].value > cfg->actions.reject)
            config_errors_add(errs, cfg->main_file, 0, thresholds[i].name,
                "%g is above actions.reject (%g): it could never apply", thresholds[i].value,
                cfg->actions.reject);
    }
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
    if (cfg->file_count > 0)
        validate(cfg, errs);
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
