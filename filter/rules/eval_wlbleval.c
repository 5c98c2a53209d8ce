/* eval_wlbleval.c - SpamAssassin's WLBLEval plugin, natively: the welcome and block lists of
 * the rule files (welcomelist_from, blocklist_to, welcomelist_from_rcvd, enlist_addrlist,
 * enlist_uri_host ..., and their old whitelist_/blacklist_ names) matched against the
 * message's sender and recipient addresses, its relays and its URIs' hosts, with
 * SpamAssassin 4.0's semantics (WLBLEval.pm): glob patterns, *_from_rcvd entries that need the
 * first untrusted relay (or, with none, a trusted one) to match the listed name or address,
 * and "forged" when an address matches but no relay does. Lists are built once per rule when
 * the ruleset is finished. */
#include <ctype.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "eval_lists.h"
#include "message_view.h"
#include "registrable.h"
#include "rules_evalfn.h"
#include "rules_relays.h"
#include "util.h"

/* ---- list rules: an address list per rule ---- */

struct list_state {
    struct addr_patterns list;
};

static void free_list_state(void *p)
{
    struct list_state *st = p;
    if (st == NULL)
        return;
    list_free(&st->list);
    free(st);
}

static bool prepare_named(const struct ruleset *rs, const char *name, void **state)
{
    struct list_state *st = xcalloc(1, sizeof *st);
    list_build(rs, name, &st->list);
    *state = st;
    return true;
}

/* The fixed lists: the function name says which. */
static const struct { const char *function; const char *list; } fixed_lists[] = {
    { "check_from_in_blocklist", "blocklist_from" },
    { "check_from_in_blacklist", "blocklist_from" },
    { "check_to_in_blocklist", "blocklist_to" },
    { "check_to_in_blacklist", "blocklist_to" },
    { "check_to_in_welcomelist", "welcomelist_to" },
    { "check_to_in_whitelist", "welcomelist_to" },
    { "check_to_in_more_spam", "more_spam_to" },
    { "check_to_in_all_spam", "all_spam_to" },
};

static bool prepare_fixed(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)args;
    (void)argc;
    (void)why;
    for (size_t i = 0; i < sizeof fixed_lists / sizeof fixed_lists[0]; i++) {
        if (strcmp(fixed_lists[i].function, r->eval->name) == 0)
            return prepare_named(rs, fixed_lists[i].list, state);
    }
    *why = "no such list";
    return false;
}

static bool prepare_list_arg(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)r;
    if (argc != 1 || args[0][0] == '\0') {
        *why = "needs the list's name";
        return false;
    }
    return prepare_named(rs, args[0], state);
}

static bool any_listed(const struct addr_patterns *list, const struct addr_list *addrs)
{
    for (size_t i = 0; i < addrs->count; i++) {
        if (list_match(list, addrs->addr[i]) != NULL)
            return true;
    }
    return false;
}

static unsigned run_from_list(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct list_state *st = call->state;
    if (st->list.count == 0)
        return 0;
    struct addr_list from = { 0 };
    eval_from_addrs(ctx, &from);
    bool hit = any_listed(&st->list, &from);
    addr_list_free(&from);
    return hit;
}

static unsigned run_to_list(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct list_state *st = call->state;
    if (st->list.count == 0)
        return 0;
    struct addr_list to = { 0 };
    eval_to_addrs(ctx, &to);
    bool hit = any_listed(&st->list, &to);
    addr_list_free(&to);
    return hit;
}

static unsigned run_replyto_list(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct list_state *st = call->state;
    if (st->list.count == 0)
        return 0;
    /* SpamAssassin reads Reply-To:addr, the first address */
    struct addr_list reply = { 0 };
    eval_header_addrs(ctx, "Reply-To", &reply);
    bool hit = reply.count > 0 && list_match(&st->list, reply.addr[0]) != NULL;
    addr_list_free(&reply);
    return hit;
}

/* ---- welcomelist_from and the *_from_rcvd lists ---- */

struct welcome_state {
    struct addr_patterns from;         /* welcomelist_from */
    struct addr_patterns rcvd;         /* welcomelist_from_rcvd */
    struct addr_patterns def_rcvd;     /* def_welcomelist_from_rcvd */
    struct addr_patterns allows;       /* welcomelist_allows_relays */
};

static void free_welcome_state(void *p)
{
    struct welcome_state *st = p;
    if (st == NULL)
        return;
    list_free(&st->from);
    list_free(&st->rcvd);
    list_free(&st->def_rcvd);
    list_free(&st->allows);
    free(st);
}

static bool prepare_welcome(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)r;
    (void)args;
    (void)argc;
    (void)why;
    struct welcome_state *st = xcalloc(1, sizeof *st);
    list_build(rs, "welcomelist_from", &st->from);
    list_build(rs, "welcomelist_from_rcvd", &st->rcvd);
    list_build(rs, "def_welcomelist_from_rcvd", &st->def_rcvd);
    list_build(rs, "welcomelist_allows_relays", &st->allows);
    *state = st;
    return true;
}

/* Whether a relay's address is in "[ip]", "[ip/len]", "[ip]/len" or a classful "[1.2.3]". */
static bool relay_ip_matches(const char *entry, const char *relay_ip)
{
    if (relay_ip == NULL || relay_ip[0] == '\0')
        return false;
    char buf[128];
    size_t n = strlen(entry);
    if (n < 3 || n >= sizeof buf || entry[0] != '[')
        return false;
    const char *close = strchr(entry, ']');
    if (close == NULL)
        return false;
    size_t inner = (size_t)(close - entry - 1);
    memcpy(buf, entry + 1, inner);
    buf[inner] = '\0';
    if (close[1] == '/' && strchr(buf, '/') == NULL && inner + strlen(close + 1) < sizeof buf)
        strcat(buf, close + 1);
    else if (close[1] != '\0')
        return false;
    if (strspn(buf, "0123456789.") == strlen(buf)) {
        int dots = 0;
        for (const char *p = buf; *p; p++)
            dots += *p == '.';
        if (dots == 3 && buf[strlen(buf) - 1] != '.')
            return strcmp(buf, relay_ip) == 0;
        /* a classful subnet: "1.2.3" or "1.2.3." is a prefix of the relay's address */
        char prefix[130];
        snprintf(prefix, sizeof prefix, "%s", buf);
        size_t len = strlen(prefix);
        while (len > 0 && prefix[len - 1] == '.')
            prefix[--len] = '\0';
        strcat(prefix, ".");
        return strncmp(relay_ip, prefix, strlen(prefix)) == 0;
    }
    struct cidr net;
    struct ipaddr addr;
    const char *err;
    if (strchr(buf, '/') == NULL) {
        if (!ipaddr_parse(buf, &net.addr) || !ipaddr_parse(relay_ip, &addr))
            return false;
        size_t len = addr.family == AF_INET ? 4 : 16;
        return net.addr.family == addr.family && memcmp(net.addr.bytes, addr.bytes, len) == 0;
    }
    return cidr_parse(buf, &net, &err) && ipaddr_parse(relay_ip, &addr)
        && cidr_contains(&net, &addr);
}

/* Whether a relay's reverse name is the domain or ends in ".domain". */
static bool relay_name_matches(const char *domain, const char *rdns)
{
    if (rdns == NULL || rdns[0] == '\0' || domain[0] == '\0')
        return false;
    size_t r = strlen(rdns), d = strlen(domain);
    if (r < d || strcasecmp(rdns + r - d, domain) != 0)
        return false;
    return r == d || rdns[r - d - 1] == '.';
}

/* SpamAssassin's _check_welcomelist_rcvd: 1 listed and relayed as listed, -1 listed but not
 * relayed so (a forgery, unless welcomelist_allows_relays names it), 0 not listed. */
static int rcvd_listed(struct eval_ctx *ctx, const struct addr_patterns *list,
    const struct addr_patterns *allows, const char *addr)
{
    const struct rules_relays *relays = eval_relays(ctx);
    if (list->count == 0 || relays->count == 0)
        return 0;
    size_t first = 0, last = relays->count;   /* the relays to try: [first, last) */
    if (relays->count > relays->trusted_count) {
        first = relays->trusted_count;         /* the first untrusted one only */
        last = first + 1;
    }
    int found = 0;
    for (size_t e = 0; e < list->count; e++) {
        const struct list_entry *entry = &list->entry[e];
        if (!glob_match(entry->pattern, addr))
            continue;
        for (size_t d = 0; d < entry->domain_count; d++) {
            for (size_t i = first; i < last; i++) {
                const struct rules_relay *rl = &relays->relay[i];
                bool match = entry->domains[d][0] == '['
                    ? relay_ip_matches(entry->domains[d], rl->ip)
                    : relay_name_matches(entry->domains[d], rl->rdns);
                if (match)
                    return 1;
            }
            found = -1;
        }
    }
    if (found < 0 && list_match(allows, addr) != NULL)
        found = 0;
    return found;
}

/* SpamAssassin's from_in_welcomelist: 1, 0 or -1 (forged). */
static int from_in_welcomelist(struct eval_ctx *ctx, const struct welcome_state *st,
    const struct addr_list *from)
{
    int found = 0;
    for (size_t i = 0; i < from->count; i++) {
        if (list_match(&st->from, from->addr[i]) != NULL)
            return 1;
        int wh = rcvd_listed(ctx, &st->rcvd, &st->allows, from->addr[i]);
        if (wh == 1)
            return 1;
        if (wh == -1)
            found = -1;
    }
    return found;
}

static int from_in_default_welcomelist(struct eval_ctx *ctx, const struct welcome_state *st,
    const struct addr_list *from)
{
    int found = 0;
    for (size_t i = 0; i < from->count; i++) {
        int wh = rcvd_listed(ctx, &st->def_rcvd, &st->allows, from->addr[i]);
        if (wh == 1)
            return 1;
        if (wh == -1)
            found = -1;
    }
    return found;
}

enum welcome_question { WL_FROM, WL_FORGED, WL_DEFAULT, WL_FORGED_DEFAULT };

static unsigned welcome_answer(struct eval_ctx *ctx, const struct eval_call *call,
    enum welcome_question q)
{
    const struct welcome_state *st = call->state;
    if (st->from.count == 0 && st->rcvd.count == 0 && st->def_rcvd.count == 0)
        return 0;
    struct addr_list from = { 0 };
    eval_from_addrs(ctx, &from);
    int wl = from_in_welcomelist(ctx, st, &from);
    int def = from_in_default_welcomelist(ctx, st, &from);
    addr_list_free(&from);
    switch (q) {
    case WL_FROM:
        return wl > 0;
    case WL_FORGED:
        return wl < 0 && def == 0;
    case WL_DEFAULT:
        return def > 0;
    case WL_FORGED_DEFAULT:
        return def < 0 && wl == 0;
    }
    return 0;
}

static unsigned run_from_welcome(struct eval_ctx *ctx, const struct eval_call *call)
{
    return welcome_answer(ctx, call, WL_FROM);
}

static unsigned run_forged_welcome(struct eval_ctx *ctx, const struct eval_call *call)
{
    return welcome_answer(ctx, call, WL_FORGED);
}

static unsigned run_from_default(struct eval_ctx *ctx, const struct eval_call *call)
{
    return welcome_answer(ctx, call, WL_DEFAULT);
}

static unsigned run_forged_default(struct eval_ctx *ctx, const struct eval_call *call)
{
    return welcome_answer(ctx, call, WL_FORGED_DEFAULT);
}

/* ---- check_mailfrom_matches_rcvd ---- */

static unsigned run_mailfrom_matches_rcvd(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    struct addr_list env = { 0 };
    eval_header_addrs(ctx, "EnvelopeFrom", &env);
    if (env.count == 0) {
        addr_list_free(&env);
        return 0;
    }
    const char *at = strrchr(env.addr[0], '@');
    bool usable = at != NULL && at[1] != '\0' && strchr(at + 1, '.') != NULL
        && strchr(env.addr[0], '@') == at;
    char *addr_domain = usable ? registrable_domain(at + 1) : NULL;
    addr_list_free(&env);
    if (addr_domain == NULL)
        return 0;
    const struct rules_relays *relays = eval_relays(ctx);
    size_t first = 0, last = relays->trusted_count;
    if (relays->count > relays->trusted_count) {
        first = relays->trusted_count;
        last = first + 1;
    }
    unsigned match = 0;
    for (size_t i = first; i < last && !match; i++) {
        const char *rdns = relays->relay[i].rdns;
        if (rdns == NULL || rdns[0] == '\0')
            continue;
        char *relay_domain = registrable_domain(rdns);
        match = strcmp(relay_domain, addr_domain) == 0;
        free(relay_domain);
    }
    free(addr_domain);
    return match;
}

/* ---- URI host lists (enlist_uri_host, delist_uri_host, blocklist_uri_host ...) ---- */

struct uri_host {
    char *host;
    bool verdict;              /* false: a "!host" exception */
};

struct uri_host_state {
    char *list;                /* the list this rule asks about */
    struct uri_host *hosts;    /* its entries */
    size_t count;
};

static void free_uri_host_state(void *p)
{
    struct uri_host_state *st = p;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->count; i++)
        free(st->hosts[i].host);
    free(st->hosts);
    free(st->list);
    free(st);
}

static struct uri_host *find_host(struct uri_host_state *st, const char *host)
{
    for (size_t i = 0; i < st->count; i++) {
        if (strcmp(st->hosts[i].host, host) == 0)
            return &st->hosts[i];
    }
    return NULL;
}

/* Applies "host ..." (lower-cased words, "!" for false) to the rule's list: add or delete. */
static void apply_hosts(struct uri_host_state *st, const char *words, bool add)
{
    const char *p = words;
    while (*p != '\0') {
        while (isspace((unsigned char)*p))
            p++;
        size_t len = strcspn(p, " \t\r\n");
        if (len == 0)
            break;
        char *word = xstrndup(p, len);
        str_lower(word);
        p += len;
        bool verdict = word[0] != '!';
        const char *host = verdict ? word : word + 1;
        struct uri_host *h = find_host(st, host);
        if (add && h != NULL) {
            h->verdict = verdict;
        } else if (add && host[0] != '\0') {
            st->hosts = xrealloc(st->hosts, (st->count + 1) * sizeof *st->hosts);
            st->hosts[st->count++] = (struct uri_host){ xstrdup(host), verdict };
        } else if (!add && h != NULL) {
            free(h->host);
            *h = st->hosts[--st->count];
        }
        free(word);
    }
}

/* "(NAME) rest" -> NAME into name, the rest returned; NULL without a name. */
static const char *list_name_of(const char *value, char *name, size_t size)
{
    if (value[0] != '(')
        return NULL;
    const char *close = strchr(value, ')');
    if (close == NULL || close == value + 1 || (size_t)(close - value - 1) >= size)
        return NULL;
    memcpy(name, value + 1, (size_t)(close - value - 1));
    name[close - value - 1] = '\0';
    return close + 1;
}

static void build_uri_host_list(const struct ruleset *rs, struct uri_host_state *st)
{
    for (size_t d = 0; d < rs->directive_count; d++) {
        const struct plugin_directive *pd = &rs->directives[d];
        char name[128];
        const char *rest;
        if (strcmp(pd->name, "enlist_uri_host") == 0) {
            rest = list_name_of(pd->value, name, sizeof name);
            if (rest != NULL && strcmp(name, st->list) == 0)
                apply_hosts(st, rest, true);
        } else if (strcmp(pd->name, "delist_uri_host") == 0) {
            rest = list_name_of(pd->value, name, sizeof name);
            if (rest == NULL)
                apply_hosts(st, pd->value, false);    /* from every list */
            else if (strcmp(name, st->list) == 0)
                apply_hosts(st, rest, false);
        } else if ((strcmp(pd->name, "blocklist_uri_host") == 0
                       || strcmp(pd->name, "blacklist_uri_host") == 0)
                   && strcmp(st->list, "BLOCK") == 0) {
            apply_hosts(st, pd->value, true);
        } else if ((strcmp(pd->name, "welcomelist_uri_host") == 0
                       || strcmp(pd->name, "whitelist_uri_host") == 0)
                   && strcmp(st->list, "WELCOME") == 0) {
            apply_hosts(st, pd->value, true);
        }
    }
}

static bool prepare_uri_host(const struct ruleset *rs, const char *list, void **state)
{
    struct uri_host_state *st = xcalloc(1, sizeof *st);
    st->list = xstrdup(list);
    build_uri_host_list(rs, st);
    *state = st;
    return true;
}

static bool prepare_uri_host_listed(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)r;
    if (argc != 1 || args[0][0] == '\0') {
        *why = "needs the list's name";
        return false;
    }
    return prepare_uri_host(rs, args[0], state);
}

static bool prepare_uri_host_block(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)args;
    (void)argc;
    (void)why;
    bool block = strstr(r->eval->name, "block") != NULL || strstr(r->eval->name, "black") != NULL;
    return prepare_uri_host(rs, block ? "BLOCK" : "WELCOME", state);
}

/* The verdict of the most specific entry for host: 1 listed, 0 excepted or not listed. */
static bool host_listed(const struct uri_host_state *st, const char *host)
{
    if (host == NULL || host[0] == '\0')
        return false;
    char buf[256];
    size_t n = strlen(host);
    if (host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    struct ipaddr ip;
    bool literal = ipaddr_parse(host, &ip);
    /* host, then each parent domain (sub.example.com, example.com, com): the first entry
     * found decides; SpamAssassin keeps the last 11 names of very deep hosts */
    const char *keys[12];
    size_t count = 0;
    for (const char *h = host; h != NULL; h = literal ? NULL : strchr(h, '.')) {
        if (h != host)
            h++;
        if (count == 12) {
            memmove(keys, keys + 1, 11 * sizeof *keys);
            count = 11;
        }
        keys[count++] = h;
        if (literal)
            break;
    }
    for (size_t k = 0; k < count; k++) {
        for (size_t i = 0; i < st->count; i++) {
            if (strcasecmp(st->hosts[i].host, keys[k]) == 0)
                return st->hosts[i].verdict;
        }
    }
    return false;
}

static unsigned run_uri_host_listed(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct uri_host_state *st = call->state;
    const struct message_view *view = ctx->msg->view;
    if (st->count == 0 || view == NULL)
        return 0;
    for (size_t i = 0; i < view->uri_count; i++) {
        const struct message_uri *u = &view->uris[i];
        if (u->url != NULL && strncasecmp(u->url, "mailto:", 7) == 0)
            continue;
        if (host_listed(st, u->host))
            return 1;
    }
    return 0;
}

static const struct eval_function functions[] = {
    { "check_from_in_blocklist", prepare_fixed, free_list_state, run_from_list },
    { "check_from_in_blacklist", prepare_fixed, free_list_state, run_from_list },
    { "check_to_in_blocklist", prepare_fixed, free_list_state, run_to_list },
    { "check_to_in_blacklist", prepare_fixed, free_list_state, run_to_list },
    { "check_to_in_welcomelist", prepare_fixed, free_list_state, run_to_list },
    { "check_to_in_whitelist", prepare_fixed, free_list_state, run_to_list },
    { "check_to_in_more_spam", prepare_fixed, free_list_state, run_to_list },
    { "check_to_in_all_spam", prepare_fixed, free_list_state, run_to_list },
    { "check_from_in_list", prepare_list_arg, free_list_state, run_from_list },
    { "check_to_in_list", prepare_list_arg, free_list_state, run_to_list },
    { "check_replyto_in_list", prepare_list_arg, free_list_state, run_replyto_list },
    { "check_from_in_welcomelist", prepare_welcome, free_welcome_state, run_from_welcome },
    { "check_from_in_whitelist", prepare_welcome, free_welcome_state, run_from_welcome },
    { "check_forged_in_welcomelist", prepare_welcome, free_welcome_state, run_forged_welcome },
    { "check_forged_in_whitelist", prepare_welcome, free_welcome_state, run_forged_welcome },
    { "check_from_in_default_welcomelist", prepare_welcome, free_welcome_state,
        run_from_default },
    { "check_from_in_default_whitelist", prepare_welcome, free_welcome_state, run_from_default },
    { "check_forged_in_default_welcomelist", prepare_welcome, free_welcome_state,
        run_forged_default },
    { "check_forged_in_default_whitelist", prepare_welcome, free_welcome_state,
        run_forged_default },
    { "check_mailfrom_matches_rcvd", NULL, NULL, run_mailfrom_matches_rcvd },
    { "check_uri_host_listed", prepare_uri_host_listed, free_uri_host_state,
        run_uri_host_listed },
    { "check_uri_host_in_blocklist", prepare_uri_host_block, free_uri_host_state,
        run_uri_host_listed },
    { "check_uri_host_in_blacklist", prepare_uri_host_block, free_uri_host_state,
        run_uri_host_listed },
    { "check_uri_host_in_welcomelist", prepare_uri_host_block, free_uri_host_state,
        run_uri_host_listed },
    { "check_uri_host_in_whitelist", prepare_uri_host_block, free_uri_host_state,
        run_uri_host_listed },
    { NULL, NULL, NULL, NULL },
};

/* The list directives (eval_lists.c) and the URI host lists'. */
static const char *const directives[] = {
    "welcomelist_from", "whitelist_from", "unwelcomelist_from", "unwhitelist_from",
    "blocklist_from", "blacklist_from", "unblocklist_from", "unblacklist_from",
    "welcomelist_to", "whitelist_to", "blocklist_to", "blacklist_to", "more_spam_to",
    "all_spam_to", "welcomelist_allows_relays", "whitelist_allows_relays",
    "welcomelist_from_rcvd", "whitelist_from_rcvd", "def_welcomelist_from_rcvd",
    "def_whitelist_from_rcvd", "unwelcomelist_from_rcvd", "unwhitelist_from_rcvd",
    "enlist_addrlist", "enlist_uri_host", "delist_uri_host", "blocklist_uri_host",
    "blacklist_uri_host", "welcomelist_uri_host", "whitelist_uri_host",
    NULL,
};

const struct eval_plugin eval_plugin_wlbleval = {
    .id = EVAL_WLBLEVAL,
    .name = "Mail::SpamAssassin::Plugin::WLBLEval",
    .available = true,
    .functions = functions,
    .directives = directives,
};
