/* config_read.c - the typed readers and the option-table engine (config_read.h). An unknown
 * option, a wrong type or a value out of range is an error naming file, line and option; an
 * unknown name gets a "did you mean". No section is known here: tables come from the section
 * modules. */
#include "config_read.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_file.h"
#include "util.h"

/* Adds "file:line: option: reason" to list, at the setting s (the reader's file when s is
 * NULL or libconfig knows no file for it). */
static void add_at(struct config_errors *list, const struct cfg_reader *r,
    const config_setting_t *s, const char *option, const char *fmt, va_list ap)
{
    char reason[512];
    vsnprintf(reason, sizeof reason, fmt, ap);
    const char *file = r->file;
    int line = 0;
    if (s != NULL) {
        line = config_setting_source_line(s);
        if (config_setting_source_file(s) != NULL)
            file = config_setting_source_file(s);
    }
    config_errors_add(list, file, line, option, "%s", reason);
}

void cfg_error(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_at(r->errs, r, s, option, fmt, ap);
    va_end(ap);
}

void cfg_notice(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const char *fmt, ...)
{
    if (r->notices == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    add_at(r->notices, r, s, option, fmt, ap);
    va_end(ap);
}

static const char *type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP: return "a section { }";
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "a number";
    case CONFIG_TYPE_FLOAT: return "a number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "true or false";
    case CONFIG_TYPE_ARRAY: return "a list [ ]";
    case CONFIG_TYPE_LIST: return "a list ( )";
    default: return "something else";
    }
}

bool cfg_read_string(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const char **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        cfg_error(r, s, option, "must be a string in double quotes, not %s",
            type_name(config_setting_type(s)));
        return false;
    }
    *out = config_setting_get_string(s);
    return true;
}

bool cfg_name_valid(const char *name)
{
    if (*name == '\0' || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    }
    return true;
}

void cfg_free_strings(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

bool cfg_read_strings(struct cfg_reader *r, const config_setting_t *s, const char *option,
    char ***out, size_t *count)
{
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_STRING) {
        *out = xcalloc(1, sizeof **out);
        (*out)[0] = xstrdup(config_setting_get_string(s));
        *count = 1;
        return true;
    }
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
        cfg_error(r, s, option, "must be a list of strings, as in [ \"a\", \"b\" ]");
        return false;
    }
    int n = config_setting_length(s);
    char **items = xcalloc((size_t)n + 1, sizeof *items);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            cfg_error(r, e, option, "element %d must be a string in double quotes", i + 1);
            cfg_free_strings(items, (size_t)i);
            return false;
        }
        items[i] = xstrdup(config_setting_get_string(e));
    }
    *out = items;
    *count = (size_t)n;
    return true;
}

bool cfg_read_double(struct cfg_reader *r, const config_setting_t *s, const char *option,
    double *out)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: *out = config_setting_get_int(s); return true;
    case CONFIG_TYPE_INT64: *out = (double)config_setting_get_int64(s); return true;
    case CONFIG_TYPE_FLOAT: *out = config_setting_get_float(s); return true;
    default:
        cfg_error(r, s, option, "must be a number, not %s", type_name(config_setting_type(s)));
        return false;
    }
}

static bool read_integer(struct cfg_reader *r, const config_setting_t *s, const char *option,
    long long *out)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: *out = config_setting_get_int(s); return true;
    case CONFIG_TYPE_INT64: *out = config_setting_get_int64(s); return true;
    default:
        cfg_error(r, s, option, "must be a whole number, not %s",
            type_name(config_setting_type(s)));
        return false;
    }
}

bool cfg_read_action(struct cfg_reader *r, const config_setting_t *s, const char *option,
    enum action *out)
{
    const char *name;
    if (!cfg_read_string(r, s, option, &name))
        return false;
    if (!action_from_name(name, out)) {
        cfg_error(r, s, option,
            "unknown action \"%s\": use accept, reject, tempfail, quarantine, discard or score",
            name);
        return false;
    }
    return true;
}

bool cfg_read_reply(struct cfg_reader *r, const config_setting_t *s, const char *option,
    enum action action, struct reply *out)
{
    const char *text, *why;
    if (!cfg_read_string(r, s, option, &text))
        return false;
    if (!reply_parse(text, out, &why)) {
        cfg_error(r, s, option, "%s", why);
        return false;
    }
    if (action == ACTION_TEMPFAIL && out->code / 100 != 4) {
        cfg_error(r, s, option, "a tempfail reply needs a 4xx code, as in \"451 4.7.1 text\"");
        return false;
    }
    if (action == ACTION_REJECT && out->code / 100 != 5) {
        cfg_error(r, s, option, "a reject reply needs a 5xx code, as in \"550 5.7.1 text\"");
        return false;
    }
    return true;
}

/* Levenshtein distance, capped: small names only. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *cfg_suggest(const char *name, const char *const *names)
{
    const char *best = NULL;
    size_t best_distance = 3;   /* suggest only close names */
    for (size_t i = 0; names[i] != NULL; i++) {
        size_t d = edit_distance(name, names[i]);
        if (d < best_distance) {
            best_distance = d;
            best = names[i];
        }
    }
    return best;
}

static void unknown_option(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const char *section, const struct option_spec *specs)
{
    const char *names[64];
    size_t n = 0;
    for (; specs[n].name != NULL && n < 63; n++)
        names[n] = specs[n].name;
    names[n] = NULL;
    const char *hint = cfg_suggest(config_setting_name(s), names);
    if (hint != NULL)
        cfg_error(r, s, option, "unknown option in section %s; did you mean %s?", section, hint);
    else
        cfg_error(r, s, option, "unknown option in section %s (see mailwarden.conf(5))", section);
}

static bool in_range(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const struct option_spec *spec, double value, const char *unit)
{
    if (value < spec->min || value > spec->max) {
        cfg_error(r, s, option, "%.15g%s is out of range: use %.15g to %.15g%s", value, unit,
            spec->min, spec->max, unit);
        return false;
    }
    return true;
}

static bool read_bool(struct cfg_reader *r, const config_setting_t *s, const char *option, bool *out)
{
    if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
        *out = config_setting_get_bool(s);
        return true;
    }
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        const char *v = config_setting_get_string(s);
        if (str_ieq(v, "yes") || str_ieq(v, "true") || str_ieq(v, "on")) {
            *out = true;
            return true;
        }
        if (str_ieq(v, "no") || str_ieq(v, "false") || str_ieq(v, "off")) {
            *out = false;
            return true;
        }
    }
    cfg_error(r, s, option, "must be true or false");
    return false;
}

/* Sizes and durations: a number, or a string with a unit. */
static bool read_scaled(struct cfg_reader *r, const config_setting_t *s, const char *option,
    bool duration, uint64_t *out)
{
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (type == CONFIG_TYPE_INT)
            v = config_setting_get_int(s);
        if (v < 0) {
            cfg_error(r, s, option, "must not be negative");
            return false;
        }
        *out = duration ? (uint64_t)v * 1000u : (uint64_t)v;
        return true;
    }
    if (type == CONFIG_TYPE_STRING) {
        const char *v = config_setting_get_string(s);
        bool ok = duration ? parse_duration_ms(v, out) : parse_size(v, out);
        if (ok)
            return true;
        cfg_error(r, s, option, duration
            ? "\"%s\" is not a duration: write e.g. \"250ms\", \"30s\", \"5m\", \"2h\" or \"1d\""
            : "\"%s\" is not a size: write e.g. \"4096\", \"512k\", \"10M\" or \"1G\"", v);
        return false;
    }
    cfg_error(r, s, option, duration ? "must be a duration such as \"30s\""
                                     : "must be a size such as \"10M\"");
    return false;
}

static bool read_cidrs(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct cidr_list *out)
{
    char **items;
    size_t count;
    if (!cfg_read_strings(r, s, option, &items, &count))
        return false;
    struct cidr_list list = {0};
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        struct cidr net;
        const char *why;
        if (!cidr_parse(items[i], &net, &why)) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            cfg_error(r, e ? e : s, option, "\"%s\": %s", items[i], why);
            ok = false;
            continue;
        }
        cidr_list_add(&list, &net);
    }
    cfg_free_strings(items, count);
    if (!ok) {
        cidr_list_free(&list);
        return false;
    }
    cidr_list_free(out);
    *out = list;
    return true;
}

/* NULL when the milter socket spec is good, else what is wrong with it. */
static const char *socket_spec_error(const char *sock)
{
    if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0) {
        const char *path = strchr(sock, ':') + 1;
        if (path[0] != '/')
            return "a unix socket needs an absolute path, as \"unix:/run/mailwarden/milter.sock\"";
        if (strlen(path) >= 100)
            return "the socket path must be shorter than 100 characters";
        return NULL;
    }
    if (strncmp(sock, "inet:", 5) == 0 || strncmp(sock, "inet6:", 6) == 0) {
        const char *spec = strchr(sock, ':') + 1;
        char *end;
        long port = strtol(spec, &end, 10);
        if (end == spec || port < 1 || port > 65535 || (*end != '@' && *end != '\0'))
            return "write inet:PORT@HOST, as \"inet:8891@127.0.0.1\" (the port comes first)";
        return NULL;
    }
    return "use inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH";
}

/* NULL when the string value is acceptable for its type, else why not. */
static const char *string_value_error(enum opt_type type, const char *text, char *buf, size_t size)
{
    switch (type) {
    case OPT_SOCKET:
        return socket_spec_error(text);
    case OPT_USER:
        if (getpwnam(text) == NULL) {
            snprintf(buf, size, "no such user \"%s\" (create it, or leave the option unset)", text);
            return buf;
        }
        return NULL;
    case OPT_GROUP:
        if (getgrnam(text) == NULL) {
            snprintf(buf, size, "no such group \"%s\"", text);
            return buf;
        }
        return NULL;
    case OPT_READABLE: {
        char reason[256];
        if (policy_file_check(text, reason, sizeof reason))
            return NULL;
        if (policy_path_showable(text))
            snprintf(buf, size, "cannot read %s: %s", text, reason);
        else
            snprintf(buf, size, "%s", reason);
        return buf;
    }
    case OPT_HOSTNAME:
        if (text[0] == '\0' || strpbrk(text, " \t;()\"\\\r\n") != NULL)
            return "must be a host name without spaces, ; or ()";
        return NULL;
    default:
        return NULL;
    }
}

bool cfg_read_check_mode(struct cfg_reader *r, const config_setting_t *s, const char *option,
    bool *shadow)
{
    const char *text;
    if (!cfg_read_string(r, s, option, &text))
        return false;
    if (strcmp(text, "enforce") != 0 && strcmp(text, "shadow") != 0) {
        cfg_error(r, s, option, "\"%s\": use \"enforce\" or \"shadow\" (symbols logged, "
            "never scored or acted on)", text);
        return false;
    }
    *shadow = strcmp(text, "shadow") == 0;
    return true;
}

static bool apply_option(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const struct option_spec *spec, void *base)
{
    void *field = (char *)base + spec->offset;
    const char *text;
    long long number;
    double real;
    uint64_t scaled;

    switch (spec->type) {
    case OPT_STRING:
    case OPT_SOCKET:
    case OPT_USER:
    case OPT_GROUP:
    case OPT_READABLE:
    case OPT_HOSTNAME: {
        char why_buf[300];
        const char *why;
        if (!cfg_read_string(r, s, option, &text))
            return false;
        if (text[0] != '\0' && (why = string_value_error(spec->type, text, why_buf, sizeof why_buf)) != NULL) {
            if (spec->type == OPT_READABLE && !policy_path_showable(text))
                cfg_error(r, s, option, "the value names no file (not shown): %s", why);
            else
                cfg_error(r, s, option, "\"%s\": %s", text, why);
            return false;
        }
        free(*(char **)field);
        *(char **)field = text[0] ? xstrdup(text) : NULL;
        return true;
    }
    case OPT_BOOL:
        return read_bool(r, s, option, field);
    case OPT_INT:
    case OPT_UINT:
        if (!read_integer(r, s, option, &number) || !in_range(r, s, option, spec, (double)number, ""))
            return false;
        if (spec->type == OPT_INT)
            *(int *)field = (int)number;
        else
            *(unsigned *)field = (unsigned)number;
        return true;
    case OPT_DOUBLE:
        if (!cfg_read_double(r, s, option, &real) || !in_range(r, s, option, spec, real, ""))
            return false;
        *(double *)field = real;
        return true;
    case OPT_SIZE:
        if (!read_scaled(r, s, option, false, &scaled)
            || !in_range(r, s, option, spec, (double)scaled, " bytes"))
            return false;
        *(uint64_t *)field = scaled;
        return true;
    case OPT_DURATION_MS:
        if (!read_scaled(r, s, option, true, &scaled)
            || !in_range(r, s, option, spec, (double)scaled, " ms"))
            return false;
        *(uint64_t *)field = scaled;
        return true;
    case OPT_DURATION_S:
        if (!read_scaled(r, s, option, true, &scaled)
            || !in_range(r, s, option, spec, (double)(scaled / 1000), " s"))
            return false;
        *(int *)field = (int)(scaled / 1000);
        return true;
    case OPT_MODE: {
        if (!cfg_read_string(r, s, option, &text))
            return false;
        char *end;
        unsigned long mode = strtoul(text, &end, 8);
        if (*text == '\0' || *end != '\0' || mode > 0777) {
            cfg_error(r, s, option, "\"%s\" is not a file mode: write it in octal, as \"0660\"", text);
            return false;
        }
        *(unsigned *)field = (unsigned)mode;
        return true;
    }
    case OPT_CIDRS:
        return read_cidrs(r, s, option, field);
    case OPT_FACILITY: {
        if (!cfg_read_string(r, s, option, &text))
            return false;
        int facility = log_facility_from_name(text);
        if (facility < 0) {
            cfg_error(r, s, option, "unknown syslog facility \"%s\": use mail, daemon or local0..local7", text);
            return false;
        }
        *(int *)field = facility;
        return true;
    }
    case OPT_LEVEL: {
        if (!cfg_read_string(r, s, option, &text))
            return false;
        int level = log_level_from_name(text);
        if (level < 0) {
            cfg_error(r, s, option, "unknown level \"%s\": use error, warning, notice, info or debug", text);
            return false;
        }
        *(int *)field = level;
        return true;
    }
    case OPT_ERROR_ACTION: {
        enum action action;
        if (!cfg_read_action(r, s, option, &action))
            return false;
        if (action != ACTION_TEMPFAIL && action != ACTION_ACCEPT) {
            cfg_error(r, s, option, "must be tempfail or accept");
            return false;
        }
        *(enum action *)field = action;
        return true;
    }
    case OPT_REPLY_REJECT:
        return cfg_read_reply(r, s, option, ACTION_REJECT, field);
    case OPT_REPLY_TEMPFAIL:
        return cfg_read_reply(r, s, option, ACTION_TEMPFAIL, field);
    case OPT_REASON: {
        if (!cfg_read_string(r, s, option, &text))
            return false;
        struct reply *reply = field;
        if (strlen(text) >= sizeof reply->text || strpbrk(text, "\r\n") != NULL) {
            cfg_error(r, s, option, "must be one line of at most 255 characters");
            return false;
        }
        strlcpy_mw(reply->text, text, sizeof reply->text);
        return true;
    }
    case OPT_STRINGS: {
        struct string_list *list = field;
        char **items;
        size_t count;
        if (!cfg_read_strings(r, s, option, &items, &count))
            return false;
        cfg_free_strings(list->items, list->count);
        list->items = items;
        list->count = count;
        return true;
    }
    case OPT_OWN:
        return true;
    case OPT_CHECK_MODE:
        return cfg_read_check_mode(r, s, option, field);
    }
    return false;
}

void cfg_apply_options(struct cfg_reader *r, const config_setting_t *section,
    const char *section_name, const struct option_spec *specs, void *base)
{
    if (config_setting_type(section) != CONFIG_TYPE_GROUP) {
        cfg_error(r, section, section_name, "must be a section: %s: { ... }", section_name);
        return;
    }
    int n = config_setting_length(section);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(section, (unsigned)i);
        char option[160];
        snprintf(option, sizeof option, "%s.%s", section_name, config_setting_name(s));
        const struct option_spec *spec = NULL;
        for (const struct option_spec *o = specs; o->name != NULL; o++) {
            if (strcmp(o->name, config_setting_name(s)) == 0)
                spec = o;
        }
        if (spec == NULL) {
            unknown_option(r, s, option, section_name, specs);
            continue;
        }
        apply_option(r, s, option, spec, base);
    }
}
