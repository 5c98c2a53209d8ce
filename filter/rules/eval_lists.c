/* eval_lists.c - the address lists SpamAssassin keeps in its Conf, rebuilt from the directives
 * as read (in file order, aliases and un* removals applied), SpamAssassin's glob patterns, and
 * the sender and recipient addresses of a message; see eval_lists.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "eval_get.h"
#include "eval_lists.h"
#include "header.h"
#include "rules_internal.h"
#include "util.h"

enum list_op {
    OP_ADD,            /* every word is a pattern */
    OP_REMOVE,         /* every word removes a pattern */
    OP_ADD_PAIR,       /* "pattern domain" (rcvd) or "pattern [domain]" (dkim) */
    OP_REMOVE_PAIR,    /* "pattern [domain]": the domain only, or the whole entry */
    OP_ENLIST,         /* "(NAME) pattern ...": to the list NAME */
};

struct list_rule {
    const char *directive;
    const char *list;          /* NULL for OP_ENLIST: the list named in the value */
    enum list_op op;
};

static const struct list_rule list_rules[] = {
    { "welcomelist_from", "welcomelist_from", OP_ADD },
    { "whitelist_from", "welcomelist_from", OP_ADD },
    { "unwelcomelist_from", "welcomelist_from", OP_REMOVE },
    { "unwhitelist_from", "welcomelist_from", OP_REMOVE },
    { "blocklist_from", "blocklist_from", OP_ADD },
    { "blacklist_from", "blocklist_from", OP_ADD },
    { "unblocklist_from", "blocklist_from", OP_REMOVE },
    { "unblacklist_from", "blocklist_from", OP_REMOVE },
    { "welcomelist_to", "welcomelist_to", OP_ADD },
    { "whitelist_to", "welcomelist_to", OP_ADD },
    { "blocklist_to", "blocklist_to", OP_ADD },
    { "blacklist_to", "blocklist_to", OP_ADD },
    { "more_spam_to", "more_spam_to", OP_ADD },
    { "all_spam_to", "all_spam_to", OP_ADD },
    { "welcomelist_allows_relays", "welcomelist_allows_relays", OP_ADD },
    { "whitelist_allows_relays", "welcomelist_allows_relays", OP_ADD },
    { "welcomelist_auth", "welcomelist_auth", OP_ADD },
    { "whitelist_auth", "welcomelist_auth", OP_ADD },
    { "def_welcomelist_auth", "def_welcomelist_auth", OP_ADD },
    { "def_whitelist_auth", "def_welcomelist_auth", OP_ADD },
    { "unwelcomelist_auth", "welcomelist_auth", OP_REMOVE },
    { "unwelcomelist_auth", "def_welcomelist_auth", OP_REMOVE },
    { "unwhitelist_auth", "welcomelist_auth", OP_REMOVE },
    { "unwhitelist_auth", "def_welcomelist_auth", OP_REMOVE },
    { "welcomelist_from_spf", "welcomelist_from_spf", OP_ADD },
    { "whitelist_from_spf", "welcomelist_from_spf", OP_ADD },
    { "def_welcomelist_from_spf", "def_welcomelist_from_spf", OP_ADD },
    { "def_whitelist_from_spf", "def_welcomelist_from_spf", OP_ADD },
    { "unwelcomelist_from_spf", "welcomelist_from_spf", OP_REMOVE },
    { "unwelcomelist_from_spf", "def_welcomelist_from_spf", OP_REMOVE },
    { "unwhitelist_from_spf", "welcomelist_from_spf", OP_REMOVE },
    { "unwhitelist_from_spf", "def_welcomelist_from_spf", OP_REMOVE },
    { "welcomelist_from_rcvd", "welcomelist_from_rcvd", OP_ADD_PAIR },
    { "whitelist_from_rcvd", "welcomelist_from_rcvd", OP_ADD_PAIR },
    { "def_welcomelist_from_rcvd", "def_welcomelist_from_rcvd", OP_ADD_PAIR },
    { "def_whitelist_from_rcvd", "def_welcomelist_from_rcvd", OP_ADD_PAIR },
    { "unwelcomelist_from_rcvd", "welcomelist_from_rcvd", OP_REMOVE },
    { "unwelcomelist_from_rcvd", "def_welcomelist_from_rcvd", OP_REMOVE },
    { "unwhitelist_from_rcvd", "welcomelist_from_rcvd", OP_REMOVE },
    { "unwhitelist_from_rcvd", "def_welcomelist_from_rcvd", OP_REMOVE },
    { "welcomelist_from_dkim", "welcomelist_from_dkim", OP_ADD_PAIR },
    { "whitelist_from_dkim", "welcomelist_from_dkim", OP_ADD_PAIR },
    { "def_welcomelist_from_dkim", "def_welcomelist_from_dkim", OP_ADD_PAIR },
    { "def_whitelist_from_dkim", "def_welcomelist_from_dkim", OP_ADD_PAIR },
    { "unwelcomelist_from_dkim", "welcomelist_from_dkim", OP_REMOVE_PAIR },
    { "unwelcomelist_from_dkim", "def_welcomelist_from_dkim", OP_REMOVE_PAIR },
    { "unwhitelist_from_dkim", "welcomelist_from_dkim", OP_REMOVE_PAIR },
    { "unwhitelist_from_dkim", "def_welcomelist_from_dkim", OP_REMOVE_PAIR },
    { "enlist_addrlist", NULL, OP_ENLIST },
};


/* ---- building ---- */

static char *lower_dup(const char *s, size_t n)
{
    char *out = xstrndup(s, n);
    str_lower(out);
    return out;
}

static struct list_entry *find_entry(struct addr_patterns *list, const char *pattern)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->entry[i].pattern, pattern) == 0)
            return &list->entry[i];
    }
    return NULL;
}

static void free_entry(struct list_entry *e)
{
    free(e->pattern);
    for (size_t i = 0; i < e->domain_count; i++)
        free(e->domains[i]);
    free(e->domains);
}

static struct list_entry *add_entry(struct addr_patterns *list, const char *pattern)
{
    struct list_entry *e = find_entry(list, pattern);
    if (e != NULL)
        return e;
    list->entry = xrealloc(list->entry, (list->count + 1) * sizeof *list->entry);
    e = &list->entry[list->count++];
    *e = (struct list_entry){ .pattern = xstrdup(pattern) };
    return e;
}

static void add_domain(struct list_entry *e, const char *domain)
{
    e->domains = xrealloc(e->domains, (e->domain_count + 1) * sizeof *e->domains);
    e->domains[e->domain_count++] = xstrdup(domain);
}

static void remove_entry(struct addr_patterns *list, const char *pattern)
{
    struct list_entry *e = find_entry(list, pattern);
    if (e == NULL)
        return;
    size_t i = (size_t)(e - list->entry);
    free_entry(e);
    memmove(&list->entry[i], &list->entry[i + 1], (list->count - i - 1) * sizeof *e);
    list->count--;
}

/* The words of value, lower case, at most max; returns how many. */
static size_t split_words(const char *value, char **words, size_t max)
{
    size_t n = 0;
    const char *p = value;
    while (*p != '\0' && n < max) {
        while (isspace((unsigned char)*p))
            p++;
        size_t len = strcspn(p, " \t\r\n\v\f");
        if (len == 0)
            break;
        words[n++] = lower_dup(p, len);
        p += len;
    }
    return n;
}

static void free_words(char **words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(words[i]);
}

/* "(NAME) rest": whether it names list `name`; rest after the name. */
static const char *enlisted_to(const char *value, const char *name)
{
    if (value[0] != '(')
        return NULL;
    const char *close = strchr(value, ')');
    if (close == NULL || close == value + 1)
        return NULL;
    size_t n = (size_t)(close - value - 1);
    if (strlen(name) != n || strncmp(value + 1, name, n) != 0)
        return NULL;
    const char *rest = close + 1;
    return isspace((unsigned char)*rest) ? rest : NULL;
}

#define MAX_WORDS 256

static void apply(struct addr_patterns *list, enum list_op op, const char *value)
{
    char *words[MAX_WORDS];
    size_t n = split_words(value, words, MAX_WORDS);
    switch (op) {
    case OP_ADD:
    case OP_ENLIST:
        for (size_t i = 0; i < n; i++)
            add_entry(list, words[i]);
        break;
    case OP_REMOVE:
        for (size_t i = 0; i < n; i++)
            remove_entry(list, words[i]);
        break;
    case OP_ADD_PAIR:
        if (n >= 1 && n <= 2)
            add_domain(add_entry(list, words[0]), n == 2 ? words[1] : "");
        break;
    case OP_REMOVE_PAIR:
        if (n == 1) {
            remove_entry(list, words[0]);
        } else if (n == 2) {
            struct list_entry *e = find_entry(list, words[0]);
            for (size_t i = 0; e != NULL && i < e->domain_count; i++) {
                if (strcmp(e->domains[i], words[1]) == 0) {
                    free(e->domains[i]);
                    e->domains[i] = e->domains[--e->domain_count];
                    i--;
                }
            }
            if (e != NULL && e->domain_count == 0)
                remove_entry(list, words[0]);
        }
        break;
    }
    free_words(words, n);
}

void list_build(const struct ruleset *rs, const char *name, struct addr_patterns *out)
{
    *out = (struct addr_patterns){ 0 };
    for (size_t d = 0; d < rs->directive_count; d++) {
        const struct plugin_directive *pd = &rs->directives[d];
        for (size_t i = 0; i < sizeof list_rules / sizeof list_rules[0]; i++) {
            const struct list_rule *lr = &list_rules[i];
            if (strcmp(lr->directive, pd->name) != 0)
                continue;
            if (lr->op == OP_ENLIST) {
                const char *rest = enlisted_to(pd->value, name);
                if (rest != NULL)
                    apply(out, OP_ENLIST, rest);
            } else if (strcmp(lr->list, name) == 0) {
                apply(out, lr->op, pd->value);
            }
        }
    }
}

void list_free(struct addr_patterns *list)
{
    for (size_t i = 0; i < list->count; i++)
        free_entry(&list->entry[i]);
    free(list->entry);
    *list = (struct addr_patterns){ 0 };
}

/* ---- matching ---- */

bool glob_match(const char *pattern, const char *text)
{
    const char *star = NULL, *resume = NULL;
    while (*text != '\0') {
        if (*pattern == '*') {
            star = pattern++;
            resume = text;
        } else if (*pattern != '\0' && (*pattern == '?'
                || tolower((unsigned char)*pattern) == tolower((unsigned char)*text))) {
            pattern++;
            text++;
        } else if (star != NULL) {
            pattern = star + 1;
            text = ++resume;
        } else {
            return false;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

const struct list_entry *list_match(const struct addr_patterns *list, const char *addr)
{
    for (size_t i = 0; i < list->count; i++) {
        if (glob_match(list->entry[i].pattern, addr))
            return &list->entry[i];
    }
    return NULL;
}

/* ---- the message's addresses ---- */

static size_t header_cap(const struct eval_ctx *ctx)
{
    uint64_t cap = ctx->limits != NULL ? ctx->limits->header_bytes : 64 * 1024;
    return cap > 1024 * 1024 ? 1024 * 1024 : (size_t)cap;
}

void eval_header_addrs(struct eval_ctx *ctx, const char *name, struct addr_list *out)
{
    if (strcasecmp(name, "EnvelopeFrom") == 0) {
        const char *s = eval_envelope_from(ctx);
        char *copy = xstrdup(s);
        size_t n = strlen(copy);
        if (n >= 2 && copy[0] == '<' && copy[n - 1] == '>') {
            memmove(copy, copy + 1, n - 2);
            copy[n - 2] = '\0';
        }
        addr_list_add(out, copy);
        free(copy);
        return;
    }
    header_addresses(ctx->msg->headers, ctx->msg->header_count, name, header_cap(ctx), out);
}

/* The first `name` field's addresses. */
static void first_field_addrs(struct eval_ctx *ctx, const char *name, struct addr_list *out)
{
    const char *value = header_find(ctx->msg->headers, ctx->msg->header_count, name, 0);
    if (value == NULL)
        return;
    struct header_field one = { .name = (char *)name, .value = (char *)value };
    header_addresses(&one, 1, name, header_cap(ctx), out);
}

/* SpamAssassin squashes runs of dots ("foo@bar..com") in sender addresses. */
static void squash_dots(char *s)
{
    char *out = s;
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '.' && out > s && out[-1] == '.')
            continue;
        *out++ = *p;
    }
    *out = '\0';
}

void eval_from_addrs(struct eval_ctx *ctx, struct addr_list *out)
{
    first_field_addrs(ctx, "Resent-From", out);
    if (out->count == 0) {
        static const char *const fields[] = { "From", "Envelope-Sender", "Resent-Sender",
            "X-Envelope-From", "EnvelopeFrom" };
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            eval_header_addrs(ctx, fields[i], out);
    }
    for (size_t i = 0; i < out->count; i++)
        squash_dots(out->addr[i]);
}

/* "... for <user@example.com>; date" in a Received field, as SpamAssassin's fetchmail trick
 * reads it; the domain must look like a host name. */
static void received_for(const char *raw, struct addr_list *out)
{
    char *value = xstrndup(raw, strnlen(raw, 4096));      /* xstrndup copies n bytes */
    for (char *q = value; *q != '\0'; q++) {
        if (*q == '\r' || *q == '\n' || *q == '\t')
            *q = ' ';
    }
    const char *p = strstr(value, " for ");
    if (p == NULL) {
        free(value);
        return;
    }
    p += 5;
    if (*p == '<')
        p++;
    size_t n = strcspn(p, " \t\r\n;>");
    const char *end = p + n;
    if (*end == '>')
        end++;
    if (*end != ';') {
        free(value);
        return;
    }
    char *addr = xstrndup(p, n);
    char *at = strchr(addr, '@');
    bool ok = at != NULL && at != addr && strchr(at + 1, '.') != NULL && at[1] != '.'
        && addr[n - 1] != '.';
    if (ok)
        addr_list_add(out, addr);
    free(addr);
    free(value);
}

void eval_to_addrs(struct eval_ctx *ctx, struct addr_list *out)
{
    first_field_addrs(ctx, "Resent-To", out);
    first_field_addrs(ctx, "Resent-Cc", out);
    if (out->count > 0)
        return;
    const char *value;
    for (size_t i = 0; i < 3
            && (value = header_find(ctx->msg->headers, ctx->msg->header_count, "Received", i))
                != NULL; i++)
        received_for(value, out);
    static const char *const fields[] = { "To", "Apparently-To", "Delivered-To",
        "Envelope-Recipients", "Apparently-Resent-To", "X-Envelope-To", "Envelope-To",
        "X-Delivered-To", "X-Original-To", "X-Rcpt-To", "X-Real-To", "Cc" };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        eval_header_addrs(ctx, fields[i], out);
}
