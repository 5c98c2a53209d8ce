/* rules_parse.c - reads SpamAssassin rule files line by line: comments (an unescaped #),
 * lang-prefixed translations (ignored), if/ifplugin/else/endif blocks (evaluated against what
 * mailwarden has: no Perl plugins, the rule engine itself, SpamAssassin 4.0's version), include,
 * rule definitions (header body rawbody uri full meta, and the rule types of plugins, which are
 * recorded as skipped), score, describe and tflags. Definitions are compiled later, in
 * ruleset_finish, once the last redefinition of each name is known. Nothing in a file is fatal:
 * what cannot be used is counted. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_evalfn.h"
#include "rules_internal.h"
#include "policy_file.h"
#include "util.h"

#define MAX_CONDITIONS 64
#define MAX_INCLUDE_DEPTH 8
#define MAX_FILE_BYTES (64u * 1024 * 1024)

struct condition {
    bool active;
    char *text;                 /* "MIMEHeader", "can(...)": why a block is false */
};

struct reader {
    struct ruleset *rs;
    const char *file;           /* for origins and includes; NULL for text */
    const char *origin;         /* "file" or the origin given for text */
    int line;
    struct condition conds[MAX_CONDITIONS];
    int depth;
    int include_depth;
};

/* ---- conditions ---- */

static const char *plugin_short_name(const char *plugin)
{
    const char *p = strrchr(plugin, ':');
    return p ? p + 1 : plugin;
}

/* The Perl plugins mailwarden stands in for: the rule engine itself and ReplaceTags. */
static bool plugin_available(const char *plugin)
{
    return strcmp(plugin, "Mail::SpamAssassin::Plugin::Check") == 0
        || strcmp(plugin, "Mail::SpamAssassin::Plugin::ReplaceTags") == 0
        || eval_plugin_available(plugin);
}

/* Conf features of SpamAssassin whose meaning holds here. */
static bool feature_available(const char *name)
{
    static const char *const features[] = {
        "Mail::SpamAssassin::Conf::feature_bug6558_free",   /* meta rules may name undefined rules */
        "Mail::SpamAssassin::Conf::feature_welcomelist_blocklist",
        "Mail::SpamAssassin::Conf::feature_blocklist_welcomelist",
        /* Debian's /etc/spamassassin/init.pre: enable_compat welcomelist_blocklist */
        "Mail::SpamAssassin::Conf::compat_welcomelist_blocklist",
        /* named captures set tags that %{TAG} templates read (rules_capture.c) */
        "Mail::SpamAssassin::Conf::feature_capture_rules",
        NULL,
    };
    for (size_t i = 0; features[i] != NULL; i++) {
        if (strcmp(name, features[i]) == 0)
            return true;
    }
    if (eval_plugin_can(name))
        return true;
    /* PCRE2 has the regex features of Perl 5.10 */
    const char *perl = "Mail::SpamAssassin::Conf::perl_min_version_";
    if (strncmp(name, perl, strlen(perl)) == 0)
        return strtol(name + strlen(perl), NULL, 10) <= 5010000;
    return false;
}

static bool condition_func(const char *func, const char *arg, double *value)
{
    if (arg == NULL) {
        if (strcmp(func, "version") == 0) {
            *value = RULES_SA_VERSION;
            return true;
        }
        if (strcmp(func, "perl_version") == 0) {
            *value = 5.036;
            return true;
        }
        return false;
    }
    while (isspace((unsigned char)*arg))
        arg++;
    char name[256];
    strlcpy_mw(name, arg, sizeof name);
    for (size_t n = strlen(name); n > 0 && isspace((unsigned char)name[n - 1]); n--)
        name[n - 1] = '\0';
    if (strcmp(func, "plugin") == 0) {
        *value = plugin_available(name);
        return true;
    }
    if (strcmp(func, "can") == 0) {
        *value = feature_available(name);
        return true;
    }
    return false;
}

static bool reader_active(const struct reader *rd)
{
    for (int i = 0; i < rd->depth; i++) {
        if (!rd->conds[i].active)
            return false;
    }
    return true;
}

/* Why the current line is inactive: the innermost false condition. */
static const char *inactive_why(const struct reader *rd)
{
    for (int i = rd->depth - 1; i >= 0; i--) {
        if (!rd->conds[i].active)
            return rd->conds[i].text;
    }
    return NULL;
}

static void push_condition(struct reader *rd, bool active, const char *text)
{
    if (rd->depth == MAX_CONDITIONS) {
        rd->rs->malformed_lines++;
        return;
    }
    rd->conds[rd->depth].active = active;
    rd->conds[rd->depth].text = xstrdup(text);
    rd->depth++;
}

static void pop_condition(struct reader *rd)
{
    if (rd->depth == 0) {
        rd->rs->malformed_lines++;     /* endif without if */
        return;
    }
    rd->depth--;
    free(rd->conds[rd->depth].text);
}

static void handle_if(struct reader *rd, const char *expr_text)
{
    struct expr e;
    const char *why;
    bool active = false;
    if (expr_compile(expr_text, condition_func, &e, &why)) {
        struct tri stack[64];
        struct tri v = e.depth <= 64 ? expr_eval(&e, NULL, stack) : (struct tri){0, false};
        active = v.known && v.value != 0;
        expr_free(&e);
    } else {
        rd->rs->malformed_lines++;
    }
    char text[200];
    snprintf(text, sizeof text, "if %s", expr_text);
    push_condition(rd, active, text);
}

/* ---- definitions ---- */

static bool valid_rule_name(const char *name)
{
    if (!isalpha((unsigned char)name[0]) && name[0] != '_')
        return false;
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    }
    return strlen(name) < 128;
}

static char *origin_of(const struct reader *rd)
{
    return xasprintf("%s:%d", rd->origin, rd->line);
}

static enum rule_type rule_type_of(const char *directive, bool *plugin_type)
{
    static const char *const plain[] = { "header", "body", "rawbody", "uri", "full", "meta" };
    /* (urirhssub, urirhsbl, uridnsbl and uridnssub are URIDNSBL's settings, not rules: the
     * rule of the same name is the check_uridnsbl() that reads them) */
    static const char *const plugin[] = { "mimeheader", "askdns", "uri_detail", "check_rbl" };
    *plugin_type = false;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (strcmp(directive, plain[i]) == 0)
            return (enum rule_type)i;
    }
    for (size_t i = 0; i < sizeof plugin / sizeof plugin[0]; i++) {
        if (strcmp(directive, plugin[i]) == 0) {
            *plugin_type = true;
            return RULE_OTHER;
        }
    }
    return RULE_TYPE_COUNT;
}

/* A definition in a false block: recorded as skipped unless the name is defined for real. */
static void define_inactive(struct reader *rd, const char *name, enum rule_type type)
{
    struct rule *r = ruleset_rule(rd->rs, name, true);
    if (r->defined)
        return;
    r->defined = true;
    r->type = type;
    r->origin = origin_of(rd);
    const char *why = inactive_why(rd);
    if (why != NULL && eval_plugin_network_service(why))
        rule_skip(r, SKIP_NETWORK_SERVICE, why);
    else if (why != NULL && eval_plugin_not_default(why))
        rule_skip(r, SKIP_NOT_DEFAULT_PLUGIN, why);
    else
        rule_skip(r, SKIP_INACTIVE_BLOCK, why);
}

/* "name(arg, 'arg', \"arg\")" -> the function's name and its arguments, quotes removed.
 * false when the text is not a call. */
static bool parse_eval_call(const char *text, char *fn, size_t fn_size, char ***args,
    size_t *argc)
{
    size_t n = strcspn(text, "( \t");
    if (n == 0 || n >= fn_size)
        return false;
    memcpy(fn, text, n);
    fn[n] = '\0';
    const char *p = text + n;
    while (isspace((unsigned char)*p))
        p++;
    *args = NULL;
    *argc = 0;
    if (*p == '\0')
        return true;
    if (*p != '(')
        return false;
    p++;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (*p == ')' || *p == '\0')
            break;
        char quote = (*p == '\'' || *p == '"') ? *p++ : '\0';
        const char *start = p;
        if (quote != '\0') {
            while (*p != '\0' && *p != quote)
                p++;
        } else {
            while (*p != '\0' && *p != ',' && *p != ')')
                p++;
        }
        size_t len = (size_t)(p - start);
        while (quote == '\0' && len > 0 && isspace((unsigned char)start[len - 1]))
            len--;
        *args = xrealloc(*args, (*argc + 1) * sizeof **args);
        (*args)[(*argc)++] = xstrndup(start, len);
        if (quote != '\0' && *p == quote)
            p++;
    }
    return true;
}

static void define_eval(struct rule *r, const char *call)
{
    char fn[96];
    char **args;
    size_t argc;
    if (!parse_eval_call(call, fn, sizeof fn, &args, &argc)) {
        rule_skip(r, SKIP_MALFORMED, "eval: without a function call");
        return;
    }
    const struct eval_function *f = eval_find_function(fn);
    if (f == NULL) {
        rule_skip(r, SKIP_EVAL, fn);
        for (size_t i = 0; i < argc; i++)
            free(args[i]);
        free(args);
        return;
    }
    r->eval = f;
    r->eval_args = args;
    r->eval_argc = argc;
}

static void define_rule(struct reader *rd, const char *directive, const char *name,
    enum rule_type type, const char *rest)
{
    struct rule *r = ruleset_rule(rd->rs, name, true);
    rule_reset_definition(r);
    r->defined = true;
    r->type = type;
    r->origin = origin_of(rd);
    if (type == RULE_OTHER) {
        const struct eval_function *f = eval_find_rule_type(directive);
        if (f == NULL) {
            rule_skip(r, SKIP_PLUGIN_TYPE, directive);
            return;
        }
        r->eval = f;
        r->eval_args = xcalloc(1, sizeof *r->eval_args);
        r->eval_args[0] = xstrdup(rest);
        r->eval_argc = 1;
        return;
    }
    if (strncmp(rest, "eval:", 5) == 0) {
        define_eval(r, rest + 5);
        return;
    }
    r->source = xstrdup(rest);
}

/* One number of a score line: "1.5", or "(1.5)", relative to the rule's score before. */
static bool read_score_number(const char **p, double *value, bool *relative)
{
    const char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    *relative = *s == '(';
    if (*relative)
        s++;
    char *end;
    errno = 0;
    *value = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(*value))
        return false;
    if (*relative) {
        if (*end != ')')
            return false;
        end++;
    }
    if (*end != '\0' && !isspace((unsigned char)*end))
        return false;
    *p = end;
    return true;
}

/* "score NAME s0 [s1 s2 s3]" as SpamAssassin's Conf.pm reads it: one number gives all four
 * score sets, four give one each, any other count is a malformed line; "(n)" adds n to the
 * score the rule had (it must have one). */
static void set_score(struct reader *rd, const char *name, const char *rest)
{
    double value[RULES_SCORE_SETS];
    bool relative = false;
    size_t count = 0;
    const char *p = rest;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        bool this_relative;
        if (count == RULES_SCORE_SETS || !read_score_number(&p, &value[count], &this_relative)) {
            rd->rs->malformed_lines++;
            return;
        }
        relative = relative || this_relative;
        count++;
    }
    if (count != 1 && count != RULES_SCORE_SETS) {
        rd->rs->malformed_lines++;
        return;
    }
    for (size_t i = count; i < RULES_SCORE_SETS; i++)
        value[i] = value[0];
    struct rule *r = ruleset_rule(rd->rs, name, true);
    if (relative && !r->has_score) {
        rd->rs->malformed_lines++;
        return;
    }
    for (size_t i = 0; i < RULES_SCORE_SETS; i++)
        r->scores[i] = relative ? r->scores[i] + value[i] : value[i];
    r->has_score = true;
}

/* tflags as SpamAssassin reads them: maxhits=N limits the hits of a `multiple` rule (alone it
 * changes nothing); net and learn mark eval rules of network tests and of Bayes; the autolearn
 * ones are read by Bayes autolearn (rules_autolearn.c). */
static void set_tflags(struct rule *r, const char *rest)
{
    r->tflags = 0;
    r->maxhits = 0;
    char buf[512];
    strlcpy_mw(buf, rest, sizeof buf);
    static const struct {
        const char *name;
        unsigned flag;
    } flags[] = {
        { "multiple", TFLAG_MULTIPLE }, { "nice", TFLAG_NICE }, { "net", TFLAG_NET },
        { "learn", TFLAG_LEARN }, { "userconf", TFLAG_USERCONF },
        { "autolearn_force", TFLAG_AUTOLEARN_FORCE }, { "noautolearn", TFLAG_NOAUTOLEARN },
        { "nosubject", TFLAG_NOSUBJECT },
    };
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (strncmp(tok, "maxhits=", 8) == 0) {
            long n = strtol(tok + 8, NULL, 10);
            r->maxhits = n > 0 && n < 100000 ? (unsigned)n : 0;
            continue;
        }
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
            if (strcmp(tok, flags[i].name) == 0)
                r->tflags |= flags[i].flag;
        }
        /* autolearn_header / autolearn_body: the first written, as SpamAssassin's regex finds */
        if ((strcmp(tok, "autolearn_header") == 0 || strcmp(tok, "autolearn_body") == 0)
            && (r->tflags & (TFLAG_AUTOLEARN_HEADER | TFLAG_AUTOLEARN_BODY)) == 0)
            r->tflags |= tok[10] == 'h' ? TFLAG_AUTOLEARN_HEADER : TFLAG_AUTOLEARN_BODY;
        /* publish, a, range=..., domains_only, ...: no meaning here */
    }
}

static bool read_file_at(struct ruleset *rs, const char *path, int include_depth, char *why,
    size_t why_size);

static void handle_include(struct reader *rd, const char *arg)
{
    if (rd->include_depth >= MAX_INCLUDE_DEPTH) {
        rd->rs->malformed_lines++;
        return;
    }
    char path[4096];
    if (arg[0] == '/' || rd->file == NULL) {
        strlcpy_mw(path, arg, sizeof path);
    } else {
        char *copy = xstrdup(rd->file);
        snprintf(path, sizeof path, "%s/%s", dirname(copy), arg);
        free(copy);
    }
    char why[256];
    if (!read_file_at(rd->rs, path, rd->include_depth + 1, why, sizeof why))
        rd->rs->malformed_lines++;
}

static const char *split_word(const char *s, char *word, size_t size);

/* ReplaceTags: replace_tag / replace_pre / replace_post / replace_inter NAME REGEX, and
 * replace_rules NAME... */
static void handle_replace(struct reader *rd, const char *directive, const char *rest)
{
    char name[160];
    if (strcmp(directive, "replace_rules") == 0) {
        while (*rest != '\0') {
            rest = split_word(rest, name, sizeof name);
            if (valid_rule_name(name))
                ruleset_rule(rd->rs, name, true)->replace_tags = true;
        }
        return;
    }
    static const struct { const char *directive; char kind; } kinds[] = {
        { "replace_tag", 't' }, { "replace_pre", 'p' }, { "replace_post", 'o' },
        { "replace_inter", 'i' },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(directive, kinds[i].directive) != 0)
            continue;
        const char *value = split_word(rest, name, sizeof name);
        if (name[0] == '\0' || value[0] == '\0')
            rd->rs->malformed_lines++;
        else
            ruleset_set_tag(rd->rs, kinds[i].kind, name, value);
        return;
    }
    ruleset_note_ignored(rd->rs, directive);    /* replace_start/end: only < > supported */
}

/* Splits "word rest": word is copied (bounded), rest points past the spaces after it. */
static const char *split_word(const char *s, char *word, size_t size)
{
    size_t n = strcspn(s, " \t");
    snprintf(word, size, "%.*s", (int)(n < size ? n : size - 1), s);
    s += n;
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static void handle_conditional(struct reader *rd, const char *directive, const char *rest)
{
    if (strcmp(directive, "if") == 0) {
        handle_if(rd, rest);
    } else if (strcmp(directive, "ifplugin") == 0) {
        char plugin[256];
        split_word(rest, plugin, sizeof plugin);
        push_condition(rd, plugin_available(plugin), plugin_short_name(plugin));
    } else if (strcmp(directive, "else") == 0) {
        if (rd->depth == 0)
            rd->rs->malformed_lines++;
        else
            rd->conds[rd->depth - 1].active = !rd->conds[rd->depth - 1].active;
    } else {
        pop_condition(rd);
    }
}

static bool is_conditional(const char *directive)
{
    return strcmp(directive, "if") == 0 || strcmp(directive, "ifplugin") == 0
        || strcmp(directive, "else") == 0 || strcmp(directive, "endif") == 0;
}

/* Removes a comment (an unescaped #), unescapes \#, trims. */
static void clean_line(char *line)
{
    char *out = line;
    for (char *p = line; *p; p++) {
        if (*p == '#')
            break;
        if (*p == '\\' && p[1] == '#') {
            *out++ = '#';
            p++;
            continue;
        }
        *out++ = *p;
    }
    *out = '\0';
    while (out > line && isspace((unsigned char)out[-1]))
        *--out = '\0';
    size_t lead = strspn(line, " \t\r\v\f");
    memmove(line, line + lead, strlen(line + lead) + 1);
}

static void handle_line(struct reader *rd, char *line)
{
    clean_line(line);
    if (line[0] == '\0')
        return;
    char directive[64], name[160];
    const char *rest = split_word(line, directive, sizeof directive);
    for (char *p = directive; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (is_conditional(directive)) {
        handle_conditional(rd, directive, rest);
        return;
    }
    bool plugin_type;
    enum rule_type type = rule_type_of(directive, &plugin_type);
    if (!reader_active(rd)) {
        if (type != RULE_TYPE_COUNT) {
            split_word(rest, name, sizeof name);
            if (valid_rule_name(name))
                define_inactive(rd, name, type);
        }
        return;
    }
    if (strcmp(directive, "lang") == 0) {
        ruleset_note_ignored(rd->rs, "lang (translations)");
        return;
    }
    if (strcmp(directive, "include") == 0) {
        handle_include(rd, rest);
        return;
    }
    if (strncmp(directive, "replace_", 8) == 0) {
        handle_replace(rd, directive, rest);
        return;
    }
    if (strncmp(directive, "util_rb_", 8) == 0) {
        int level = strcmp(directive, "util_rb_2tld") == 0 ? 2
            : strcmp(directive, "util_rb_3tld") == 0 ? 3 : strcmp(directive, "util_rb_tld") == 0 ? 1 : 0;
        if (level > 0) {
            ruleset_add_tlds(rd->rs, level, rest);
            return;
        }
    }
    if (strcmp(directive, "redirector_pattern") == 0) {
        ruleset_add_redirector(rd->rs, rest, NULL);
        return;
    }
    const char *after_name = split_word(rest, name, sizeof name);
    bool names_rule = type != RULE_TYPE_COUNT || strcmp(directive, "score") == 0
        || strcmp(directive, "describe") == 0 || strcmp(directive, "tflags") == 0;
    if (!names_rule && eval_directive_known(directive)) {
        char *origin = origin_of(rd);
        ruleset_add_directive(rd->rs, directive, rest, origin);
        free(origin);
        return;
    }
    if (!names_rule) {
        ruleset_note_ignored(rd->rs, directive);
        return;
    }
    if (!valid_rule_name(name) || (after_name[0] == '\0' && strcmp(directive, "tflags") != 0
            && strcmp(directive, "describe") != 0)) {
        rd->rs->malformed_lines++;
        return;
    }
    if (type != RULE_TYPE_COUNT) {
        define_rule(rd, directive, name, type, after_name);
    } else if (strcmp(directive, "score") == 0) {
        set_score(rd, name, after_name);
    } else if (strcmp(directive, "describe") == 0) {
        struct rule *r = ruleset_rule(rd->rs, name, true);
        free(r->description);
        r->description = xstrdup(after_name);
    } else {
        set_tflags(ruleset_rule(rd->rs, name, true), after_name);
        /* as written too, for the plugins' own flags (URIDNSBL's a, ns, notrim, ...) */
        char *origin = origin_of(rd);
        ruleset_add_directive(rd->rs, "tflags", rest, origin);
        free(origin);
    }
}

static void read_lines(struct reader *rd, const char *text, size_t len)
{
    size_t pos = 0;
    char *line = NULL;
    size_t line_cap = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        rd->line++;
        if (n + 1 > line_cap) {
            line_cap = n + 1;
            line = xrealloc(line, line_cap);
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        if (strlen(line) == n)          /* a line with a NUL byte is not a rule */
            handle_line(rd, line);
        else
            rd->rs->malformed_lines++;
        pos += n + 1;
    }
    free(line);
    while (rd->depth > 0)              /* an if left open ends with the file */
        pop_condition(rd);
}

static bool read_file_at(struct ruleset *rs, const char *path, int include_depth, char *why,
    size_t why_size)
{
    FILE *f = policy_file_fopen(path, why, why_size);
    if (f == NULL)
        return false;
    struct textbuf text;
    textbuf_init(&text);
    char buf[65536];
    size_t n;
    bool too_big = false;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (text.len + n > MAX_FILE_BYTES) {
            too_big = true;
            break;
        }
        textbuf_append(&text, buf, n);
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || too_big) {
        snprintf(why, why_size, "%s", too_big ? "larger than 64 MB" : "read error");
        textbuf_free(&text);
        return false;
    }
    struct reader rd = { .rs = rs, .file = path, .origin = path, .include_depth = include_depth };
    rs->file_count++;
    read_lines(&rd, text.data ? text.data : "", text.len);
    textbuf_free(&text);
    return true;
}

bool ruleset_read_file(struct ruleset *rs, const char *path, char *why, size_t why_size)
{
    return read_file_at(rs, path, 0, why, why_size);
}

void ruleset_read_text(struct ruleset *rs, const char *origin, const char *text, size_t len)
{
    struct reader rd = { .rs = rs, .origin = origin };
    read_lines(&rd, text, len);
}
