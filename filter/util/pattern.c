/* pattern.c - compiles and matches the pattern language of pattern.h. Compiling checks every
 * value once, at policy load, and says how to write a bad one; matching is a scan in the order
 * written where the first pattern that matches decides. Case: ASCII letters are compared
 * without case everywhere (local parts included, as mailwarden always did; RFC 5321 lets a
 * server treat local parts case-sensitively, none we know of does). Domains are compared as
 * written in ASCII: an international domain is written in its A-label form (xn--...), which
 * is how it reaches us in an envelope without SMTPUTF8; a non-ASCII domain is refused. */
#include "pattern.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_file.h"
#include "util.h"

#define MAX_LOCAL_PART 64          /* RFC 5321 4.5.3.1.1 */
#define MAX_DOMAIN 253             /* RFC 1035, without the final dot */
#define MAX_LABEL 63
#define MAX_PATTERN 512            /* anything longer is no address, domain or login name */

struct compile {
    struct pattern_list *list;
    const char *file;
    int line;
    pattern_report_fn *report;
    void *ctx;
};

static bool fail(const struct compile *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool fail(const struct compile *c, const char *fmt, ...)
{
    char reason[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    c->report(c->ctx, c->file, c->line, reason);
    return false;
}

void pattern_list_init(struct pattern_list *list, enum pattern_subject subject)
{
    memset(list, 0, sizeof *list);
    list->subject = subject;
}

void pattern_list_free(struct pattern_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].text);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* NULL when D is a domain we can compare (or an address literal "[...]"), else why not. */
static const char *domain_problem(const char *d)
{
    size_t len = strlen(d);
    if (len == 0)
        return "the domain is empty";
    if (d[0] == '[')
        return d[len - 1] == ']' && len > 2 ? NULL : "an address literal is written [192.0.2.1]";
    if (len > MAX_DOMAIN)
        return "the domain is longer than 253 characters";
    size_t label = 0;
    for (const char *p = d; ; p++) {
        if (*p == '.' || *p == '\0') {
            if (label == 0)
                return *p == '\0' ? "the domain ends with a dot: write it without"
                                  : "the domain has an empty label (two dots, or a leading dot)";
            if (*p == '\0')
                return NULL;
            label = 0;
            continue;
        }
        if (++label > MAX_LABEL)
            return "a label of the domain is longer than 63 characters";
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x80)
            return "the domain is not ASCII: write an international domain in its A-label "
                   "form (xn--...)";
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return "a domain has only letters, digits, - and _ between its dots";
    }
}

/* "example.com", ".example.com", "*.example.com" (after any "@"). */
static bool compile_domain(const struct compile *c, struct pattern *p, const char *text)
{
    p->form = PATTERN_DOMAIN;
    if (strncmp(text, "*.", 2) == 0 || text[0] == '.') {
        p->form = PATTERN_SUBDOMAINS;
        p->value = text[0] == '*' ? text + 1 : text;       /* ".example.com" */
        text = p->value + 1;
    } else {
        p->value = text;
    }
    if (strchr(text, '*') != NULL)
        return fail(c, "\"%s\": a * is only written as \"*\" (everything) or at the start of "
            "\"*.example.com\" (the subdomains)", p->text);
    const char *why = domain_problem(text);
    return why == NULL ? true : fail(c, "\"%s\": %s", p->text, why);
}

static bool compile_address(const struct compile *c, struct pattern *p, const char *text)
{
    if (strcmp(text, "<>") == 0) {
        p->form = PATTERN_NULL_SENDER;
        return true;
    }
    const char *at = strrchr(text, '@');
    if (at == NULL)
        return compile_domain(c, p, text);
    size_t local = (size_t)(at - text);
    if (local == 0)
        return compile_domain(c, p, text + 1);
    if (local == 1 && text[0] == '*')
        return fail(c, "\"%s\": write @%s for every address at the domain", p->text, at + 1);
    if (memchr(text, '*', local) != NULL)
        return fail(c, "\"%s\": a * is not allowed in a local part", p->text);
    if (local > MAX_LOCAL_PART)
        return fail(c, "\"%s\": the local part is longer than 64 characters (RFC 5321)",
            p->text);
    p->value = text;
    if (at[1] == '\0') {
        p->form = PATTERN_LOCAL_PART;
        return true;
    }
    p->form = PATTERN_ADDRESS;
    const char *why = strchr(at + 1, '*') != NULL ? "a * is not allowed in an address"
        : domain_problem(at + 1);
    return why == NULL ? true : fail(c, "\"%s\": %s", p->text, why);
}

static bool compile_sasl_user(const struct compile *c, struct pattern *p, const char *text)
{
    const char *at = strchr(text, '@');
    p->value = text;
    if (at == NULL) {
        p->form = PATTERN_USER;
    } else if (at == text) {
        p->form = PATTERN_DOMAIN;               /* "@realm": every user of the realm */
        p->value = text + 1;
        if (text[1] == '\0')
            return fail(c, "\"%s\": name the realm, as @example.com", p->text);
    } else {
        p->form = PATTERN_ADDRESS;
        if (at[1] == '\0')
            return fail(c, "\"%s\": write the user without @ for every realm (\"%.*s\")",
                p->text, (int)(at - text), text);
    }
    return true;
}

static bool compile_network(const struct compile *c, struct pattern *p, const char *text)
{
    const char *why;
    p->form = PATTERN_NETWORK;
    p->value = text;
    return cidr_parse(text, &p->net, &why) ? true : fail(c, "\"%s\": %s", p->text, why);
}

static bool compile_one(const struct compile *c, struct pattern *p, const char *text)
{
    if (strcmp(text, "*") == 0) {
        p->form = PATTERN_ANY;
        p->value = text;
        return true;
    }
    switch (c->list->subject) {
    case PATTERN_ADDRESSES:
        return compile_address(c, p, text);
    case PATTERN_DOMAINS:
        if (text[0] == '@')
            text++;
        if (strchr(text, '@') != NULL || strcmp(text, "<>") == 0)
            return fail(c, "\"%s\": this list holds domains: write example.com, or "
                ".example.com for its subdomains", p->text);
        return compile_domain(c, p, text);
    case PATTERN_SASL_USERS:
        return compile_sasl_user(c, p, text);
    case PATTERN_NETWORKS:
        return compile_network(c, p, text);
    }
    return fail(c, "\"%s\": unknown kind of list", p->text);
}

static const char *subject_noun(enum pattern_subject subject)
{
    switch (subject) {
    case PATTERN_ADDRESSES: return "an address";
    case PATTERN_DOMAINS: return "a domain";
    case PATTERN_SASL_USERS: return "a user name";
    case PATTERN_NETWORKS: return "a network";
    }
    return "a pattern";
}

static bool add(const struct compile *c, const char *text, bool negated, bool in_file)
{
    size_t len = strlen(text);
    if (len == 0)
        return fail(c, "an empty value: remove it (the null sender is written <>)");
    if (len > MAX_PATTERN)
        return fail(c, "a value longer than %d characters", MAX_PATTERN);
    for (const char *s = text; *s != '\0'; s++) {
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
            return fail(c, "\"%s\" is not %s: a value must be one word", text,
                subject_noun(c->list->subject));
    }
    if (text[0] == '!') {
        if (text[1] == '!' || text[1] == '\0')
            return fail(c, "\"%s\": write one ! before a pattern, as !user@example.com", text);
        negated = !negated;
        text++;
    }
    if (strncmp(text, "file:", 5) == 0) {
        if (in_file)
            return fail(c, "\"%s\": a pattern file cannot name another file", text);
        return pattern_list_add_file(c->list, text + 5, negated, c->file, c->line, c->report,
            c->ctx);
    }
    struct pattern p = {.negated = negated, .text = xstrdup(text)};
    if (c->list->subject != PATTERN_NETWORKS)
        str_lower(p.text);
    if (!compile_one(c, &p, p.text)) {
        free(p.text);
        return false;
    }
    struct pattern_list *list = c->list;
    list->items = xrealloc(list->items, (list->count + 1) * sizeof *list->items);
    list->items[list->count++] = p;
    return true;
}

bool pattern_list_add(struct pattern_list *list, const char *text, const char *file, int line,
    pattern_report_fn *report, void *ctx)
{
    struct compile c = {list, file, line, report, ctx};
    return add(&c, text, false, false);
}

bool pattern_list_add_file(struct pattern_list *list, const char *path, bool negated,
    const char *file, int line, pattern_report_fn *report, void *ctx)
{
    struct compile c = {list, file, line, report, ctx};
    char why[300];
    FILE *fp = policy_file_fopen(path, why, sizeof why);
    if (fp == NULL) {
        if (policy_path_showable(path))
            return fail(&c, "cannot read %s: %s", path, why);
        return fail(&c, "file: the value names no file: write the path of a file with one "
            "value a line");
    }
    char *text = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = true;
    c.file = path;
    c.line = 0;
    while ((n = getline(&text, &cap, fp)) >= 0) {
        c.line++;
        if (strlen(text) != (size_t)n) {
            ok = fail(&c, "a NUL byte in the line: a pattern file is text");
            continue;
        }
        if (n > MAX_PATTERN + 200) {
            ok = fail(&c, "a line longer than %d characters", MAX_PATTERN);
            continue;
        }
        char *hash = strchr(text, '#');
        if (hash != NULL)
            *hash = '\0';
        char *start = text;
        while (isspace((unsigned char)*start))
            start++;
        size_t len = strlen(start);
        while (len > 0 && isspace((unsigned char)start[len - 1]))
            start[--len] = '\0';
        if (len > 0)
            ok &= add(&c, start, negated, true);
    }
    free(text);
    fclose(fp);
    return ok;
}

bool pattern_list_only_negations(const struct pattern_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        if (!list->items[i].negated)
            return false;
    }
    return list->count > 0;
}

static bool domain_fits(const struct pattern *p, const char *domain)
{
    if (p->form == PATTERN_DOMAIN)
        return str_ieq(p->value, domain);
    return p->form == PATTERN_SUBDOMAINS && strlen(domain) > strlen(p->value)
        && str_iendswith(domain, p->value);
}

/* The local part of ADDRESS (up to its last @) is the one of "user@". */
static bool local_part_fits(const char *pattern, const char *address)
{
    const char *at = strrchr(address, '@');
    size_t len = strlen(pattern) - 1;
    return at != NULL && (size_t)(at - address) == len && strncasecmp(pattern, address, len) == 0;
}

static bool address_fits(const struct pattern *p, const char *address)
{
    if (p->form == PATTERN_ANY)
        return true;
    if (p->form == PATTERN_NULL_SENDER || address[0] == '\0')
        return p->form == PATTERN_NULL_SENDER && address[0] == '\0';
    if (p->form == PATTERN_ADDRESS)
        return str_ieq(p->value, address);
    if (p->form == PATTERN_LOCAL_PART)
        return local_part_fits(p->value, address);
    return domain_fits(p, addr_domain(address));
}

static bool sasl_user_fits(const struct pattern *p, const char *user)
{
    const char *at = strchr(user, '@');
    switch (p->form) {
    case PATTERN_ANY:
        return true;
    case PATTERN_ADDRESS:
        return str_ieq(p->value, user);
    case PATTERN_USER:
        return str_ieq(p->value, user) || (at != NULL && strlen(p->value) == (size_t)(at - user)
            && strncasecmp(p->value, user, (size_t)(at - user)) == 0);
    case PATTERN_DOMAIN:
        return at != NULL && str_ieq(p->value, at + 1);
    default:
        return false;
    }
}

bool pattern_match_address(const struct pattern_list *list, const char *address)
{
    for (size_t i = 0; address != NULL && i < list->count; i++) {
        if (address_fits(&list->items[i], address))
            return !list->items[i].negated;
    }
    return false;
}

bool pattern_match_domain(const struct pattern_list *list, const char *domain)
{
    for (size_t i = 0; domain != NULL && domain[0] != '\0' && i < list->count; i++) {
        const struct pattern *p = &list->items[i];
        if (p->form == PATTERN_ANY || domain_fits(p, domain))
            return !p->negated;
    }
    return false;
}

bool pattern_match_sasl_user(const struct pattern_list *list, const char *user)
{
    for (size_t i = 0; user != NULL && user[0] != '\0' && i < list->count; i++) {
        if (sasl_user_fits(&list->items[i], user))
            return !list->items[i].negated;
    }
    return false;
}

bool pattern_match_ip(const struct pattern_list *list, const struct ipaddr *addr)
{
    for (size_t i = 0; addr != NULL && i < list->count; i++) {
        const struct pattern *p = &list->items[i];
        if (p->form == PATTERN_ANY || (p->form == PATTERN_NETWORK && cidr_contains(&p->net, addr)))
            return !p->negated;
    }
    return false;
}
