/* eval_uridnsbl.c - SpamAssassin's URIDNSBL plugin, natively, through our resolver: the
 * domains and addresses of the message's URIs looked up in DNS lists. The lists are settings
 * (urirhssub / urirhsbl NAME zone type [subtest]: the URI's registrable domain, or its whole
 * host with tflags notrim, or an IPv4 literal reversed, under the zone; uridnssub / uridnsbl:
 * the addresses of the host, with tflags a, reversed under the zone) and the rule of the same
 * name is check_uridnsbl('NAME'). As URIDNSBL.pm: at most uridnsbl_max_domains (20) hosts,
 * mailto: skipped, uridnsbl_skip_domain honoured, tflags domains_only / ips_only, answers of
 * type A in 127/8 unless a subtest says otherwise (exact, a bit mask, N-M or N/M). Its plain (NS-based) uridnsbl lists ask the domain's NS but, in
 * SpamAssassin 4.0.1, only the tflags a lists read the name servers' addresses: the same
 * here. Registrable domains come from the Public Suffix List (util/registrable.h);
 * util_rb_tld/2tld/3tld are read and not needed. The hosts are the first 20 in message order
 * where SpamAssassin picks by link kind, then at random. Unknown answers hit nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "eval_dnsbl.h"
#include "message_view.h"
#include "registrable.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "util.h"

#define TYPE_A 1
#define TYPE_NS 2
#define MAX_HOSTS_LIMIT 200
#define NAME_LEN 520

enum uribl_kind {
    URIBL_RHS,         /* urirhssub / urirhsbl */
    URIBL_ADDR_A,      /* uridnssub / uridnsbl with tflags a */
    URIBL_ADDR_NS,     /* ... without: asks NS only (see above) */
};

struct uribl_state {
    enum uribl_kind kind;
    char zone[256];
    int type;
    char *subtest;             /* NULL: any answer */
    bool notrim, domains_only, ips_only;
    bool skip_mailto;
    bool ns_lists;             /* some plain uridnsbl list exists: NS of domains are asked */
    size_t max_hosts;
    char **skip;               /* uridnsbl_skip_domain */
    size_t skip_count;
};

static void free_state(void *p)
{
    struct uribl_state *st = p;
    if (st == NULL)
        return;
    free(st->subtest);
    for (size_t i = 0; i < st->skip_count; i++)
        free(st->skip[i]);
    free(st->skip);
    free(st);
}

static const char *const list_settings[] = { "urirhssub", "urirhsbl", "uridnssub", "uridnsbl" };

/* The last list setting named `name`: which one, and its value after the name. */
static const char *find_list(const struct ruleset *rs, const char *name, const char **setting)
{
    const char *found = NULL;
    size_t n = strlen(name);
    for (size_t d = 0; d < rs->directive_count; d++) {
        const struct plugin_directive *pd = &rs->directives[d];
        for (size_t k = 0; k < 4; k++) {
            if (strcmp(pd->name, list_settings[k]) == 0 && strncmp(pd->value, name, n) == 0
                    && (pd->value[n] == ' ' || pd->value[n] == '\t')) {
                found = pd->value + n;
                *setting = list_settings[k];
            }
        }
    }
    return found;
}

static void read_skip_domains(const struct ruleset *rs, struct uribl_state *st)
{
    for (size_t d = 0; d < rs->directive_count; d++) {
        const struct plugin_directive *pd = &rs->directives[d];
        if (strcmp(pd->name, "clear_uridnsbl_skip_domain") == 0) {
            for (size_t i = 0; i < st->skip_count; i++)
                free(st->skip[i]);
            st->skip_count = 0;
            continue;
        }
        if (strcmp(pd->name, "uridnsbl_skip_domain") != 0)
            continue;
        char *copy = xstrdup(pd->value);
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            st->skip = xrealloc(st->skip, (st->skip_count + 1) * sizeof *st->skip);
            st->skip[st->skip_count] = xstrdup(w);
            str_lower(st->skip[st->skip_count++]);
        }
        free(copy);
    }
}

static double last_number(const struct ruleset *rs, const char *name, double fallback)
{
    const char *v;
    double value = fallback, x;
    for (size_t i = 0; (v = ruleset_directive(rs, name, i)) != NULL; i++) {
        if (eval_arg_number(v, &x))
            value = x;
    }
    return value;
}

static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    if (argc != 1 || args[0][0] == '\0') {
        *why = "needs the list's name";
        return false;
    }
    const char *setting = NULL;
    const char *value = find_list(rs, args[0], &setting);
    if (value == NULL) {
        *why = "no urirhssub, urirhsbl, uridnssub or uridnsbl of that name";
        return false;
    }
    char zone[256] = "", type[16] = "", subtest[128] = "";
    int n = sscanf(value, " %255s %15s %127s", zone, type, subtest);
    bool sub = strcmp(setting, "urirhssub") == 0 || strcmp(setting, "uridnssub") == 0;
    if (n < 2 || (sub && n < 3)) {
        *why = "a list setting without zone, type or subtest";
        return false;
    }
    struct uribl_state *st = xcalloc(1, sizeof *st);
    dnsbl_zone(zone, st->zone, sizeof st->zone);
    st->type = strcasecmp(type, "TXT") == 0 ? 16 : TYPE_A;
    st->subtest = sub ? xstrdup(subtest) : NULL;
    st->notrim = rule_has_tflag(rs, r->name, "notrim");
    st->domains_only = rule_has_tflag(rs, r->name, "domains_only");
    st->ips_only = rule_has_tflag(rs, r->name, "ips_only");
    if (strncmp(setting, "urirhs", 6) == 0)
        st->kind = URIBL_RHS;
    else
        st->kind = rule_has_tflag(rs, r->name, "a") ? URIBL_ADDR_A : URIBL_ADDR_NS;
    st->skip_mailto = last_number(rs, "uridnsbl_skip_mailto", 1) != 0;
    double max = last_number(rs, "uridnsbl_max_domains", 20);
    st->max_hosts = max < 1 ? 1 : max > MAX_HOSTS_LIMIT ? MAX_HOSTS_LIMIT : (size_t)max;
    read_skip_domains(rs, st);
    for (size_t i = 0; i < rs->count && !st->ns_lists; i++) {
        const struct rule *o = &rs->rules[i];
        const char *s = NULL;
        if (o->eval == NULL || strcmp(o->eval->name, "check_uridnsbl") != 0 || o->eval_argc != 1
                || find_list(rs, o->eval_args[0], &s) == NULL)
            continue;
        st->ns_lists = strncmp(s, "uridns", 6) == 0 && !rule_has_tflag(rs, o->name, "a");
    }
    *state = st;
    return true;
}

struct host {
    char name[256];
    char domain[256];
    bool ip;
};

static bool skipped(const struct uribl_state *st, const char *host, const char *domain)
{
    for (size_t i = 0; i < st->skip_count; i++) {
        if (strcmp(st->skip[i], host) == 0 || strcmp(st->skip[i], domain) == 0)
            return true;
    }
    return false;
}

/* Adds host (with its registered domain) to out unless skipped or there already. */
static void add_host(struct eval_ctx *ctx, const struct uribl_state *st, const char *name,
    struct host *out, size_t *n)
{
    struct host h = { 0 };
    strlcpy_mw(h.name, name, sizeof h.name);
    str_lower(h.name);
    size_t len = strlen(h.name);
    if (len > 2 && h.name[0] == '[' && h.name[len - 1] == ']') {
        memmove(h.name, h.name + 1, len - 2);
        h.name[len - 2] = '\0';
    }
    struct ipaddr addr;
    h.ip = ipaddr_parse(h.name, &addr);
    if (h.ip && addr.family != AF_INET)
        return;
    if (h.ip) {
        strlcpy_mw(h.domain, h.name, sizeof h.domain);
    } else {
        char *reg = rules_trim_domain(ctx->rs, h.name);
        strlcpy_mw(h.domain, reg != NULL ? reg : h.name, sizeof h.domain);
        free(reg);
    }
    if (skipped(st, h.name, h.domain))
        return;
    for (size_t k = 0; k < *n; k++) {
        if (strcmp(out[k].name, h.name) == 0)
            return;
    }
    out[(*n)++] = h;
}

/* The message's URI hosts the lists are asked about: the hosts of SpamAssassin's URI detail
 * list (eval_uri_details: canonical forms, util_rb_tld-valid domains only), each with its
 * registered domain (util_rb_2tld/3tld). */
static size_t uri_hosts(struct eval_ctx *ctx, const struct uribl_state *st, struct host *out,
    size_t max)
{
    const struct rules_uri_details *d = eval_uri_details(ctx);
    size_t n = 0;
    for (size_t i = 0; d != NULL && i < d->count && n < max; i++) {
        const struct rules_uri_detail *u = &d->items[i];
        if (u->dropped)
            continue;
        if (u->raw != NULL && strncasecmp(u->raw, "mailto:", 7) == 0 && st->skip_mailto)
            continue;
        for (size_t j = 0; j < u->host_count && n < max; j++)
            add_host(ctx, st, u->hosts[j], out, &n);
    }
    return n;
}

static bool private_v4(const char *ip)
{
    return strncmp(ip, "10.", 3) == 0 || strncmp(ip, "127.", 4) == 0
        || strncmp(ip, "192.168.", 8) == 0 || strncmp(ip, "169.254.", 8) == 0
        || (strncmp(ip, "172.", 4) == 0 && atoi(ip + 4) >= 16 && atoi(ip + 4) <= 31);
}

/* The list names for one host under a RHS list; false when the list skips the host. */
static bool rhs_name(const struct uribl_state *st, const struct host *h, char *out, size_t size)
{
    if (h->ip) {
        if (st->domains_only || private_v4(h->name))
            return false;
        struct ipaddr addr;
        return ipaddr_parse(h->name, &addr) && ipaddr_reverse_name(&addr, st->zone, out, size);
    }
    if (st->ips_only)
        return false;
    snprintf(out, size, "%s.%s", st->notrim ? h->name : h->domain, st->zone);
    return true;
}

/* The addresses of a host for an address list (A of the host; and the A of its domain's
 * name servers, when NS are asked) as far as the answers go; each reversed under the zone
 * through fn. With ask, lists the queries still needed instead. */
static bool for_each_address(struct eval_ctx *ctx, const struct uribl_state *st,
    const struct host *h, bool ask,
    bool (*fn)(struct eval_ctx *ctx, const struct uribl_state *st, const char *name))
{
    const char *const *records;
    size_t count;
    char name[NAME_LEN];
    if (h->ip)
        return false;
    if (ask) {
        eval_dns_ask(ctx, h->name, TYPE_A);
        if (st->ns_lists)
            eval_dns_ask(ctx, h->domain, TYPE_NS);
    }
    struct { const char *host; } sources[17];
    size_t source_count = 0;
    sources[source_count++].host = h->name;
    char ns_names[16][256];
    if (st->ns_lists && eval_dns_answer(ctx, h->domain, TYPE_NS, &records, &count)
            == RULES_DNS_ANSWER) {
        for (size_t i = 0; i < count && i < 16; i++) {
            strlcpy_mw(ns_names[i], records[i], sizeof ns_names[i]);
            sources[source_count++].host = ns_names[i];
            if (ask)
                eval_dns_ask(ctx, ns_names[i], TYPE_A);
        }
    }
    for (size_t s = 0; s < source_count; s++) {
        if (eval_dns_answer(ctx, sources[s].host, TYPE_A, &records, &count) != RULES_DNS_ANSWER)
            continue;
        for (size_t i = 0; i < count; i++) {
            struct ipaddr addr;
            if (!ipaddr_parse(records[i], &addr) || addr.family != AF_INET
                    || !ipaddr_reverse_name(&addr, st->zone, name, sizeof name))
                continue;
            if (ask)
                eval_dns_ask(ctx, name, st->type);
            else if (fn(ctx, st, name))
                return true;
        }
    }
    return false;
}

static void queries(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct uribl_state *st = call->state;
    struct host *hosts = xcalloc(st->max_hosts + 1, sizeof *hosts);
    size_t n = uri_hosts(ctx, st, hosts, st->max_hosts);
    char name[NAME_LEN];
    for (size_t i = 0; i < n; i++) {
        if (st->kind == URIBL_RHS) {
            if (rhs_name(st, &hosts[i], name, sizeof name))
                eval_dns_ask(ctx, name, st->type);
        } else if (st->kind == URIBL_ADDR_A) {
            for_each_address(ctx, st, &hosts[i], true, NULL);
        } else if (!hosts[i].ip) {
            eval_dns_ask(ctx, hosts[i].domain, TYPE_NS);
        }
    }
    free(hosts);
}

/* URIDNSBL.pm's subtests: exact, a mask within 127/8, N-M, N/M. */
static bool uribl_subtest(const char *subtest, const char *record)
{
    if (subtest == NULL)
        return true;
    if (strcmp(subtest, record) == 0)
        return true;
    unsigned a, b, c, d;
    if (sscanf(record, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
        return false;
    uint32_t v = a << 24 | b << 16 | c << 8 | d;
    char *end;
    unsigned long n1 = strtoul(subtest, &end, 10);
    if (end == subtest)
        return false;
    if (*end == '\0')
        return (v & n1) != 0 && (v & 0xff000000u) == 0x7f000000u;
    unsigned long n2 = strtoul(end + 1, NULL, 10);
    if (*end == '-')
        return v >= n1 && v <= n2;
    if (*end == '/')
        return (v & n2) == (n1 & n2);
    return false;
}

static bool name_hits(struct eval_ctx *ctx, const struct uribl_state *st, const char *name)
{
    const char *const *records;
    size_t count;
    if (eval_dns_answer(ctx, name, st->type, &records, &count) != RULES_DNS_ANSWER)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (st->subtest == NULL && st->type == TYPE_A && !dnsbl_a_listed(records[i]))
            continue;
        if (uribl_subtest(st->subtest, records[i]))
            return true;
    }
    return false;
}

static unsigned run(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct uribl_state *st = call->state;
    if (ctx->msg->dns == NULL || st->kind == URIBL_ADDR_NS)
        return 0;
    struct host *hosts = xcalloc(st->max_hosts + 1, sizeof *hosts);
    size_t n = uri_hosts(ctx, st, hosts, st->max_hosts);
    char name[NAME_LEN];
    unsigned hit = 0;
    for (size_t i = 0; i < n && !hit; i++) {
        if (st->kind == URIBL_RHS)
            hit = rhs_name(st, &hosts[i], name, sizeof name) && name_hits(ctx, st, name);
        else
            hit = for_each_address(ctx, st, &hosts[i], false, name_hits);
    }
    free(hosts);
    return hit;
}

static const struct eval_function functions[] = {
    { "check_uridnsbl", prepare, free_state, run },
    { NULL, NULL, NULL, NULL },
};

static const struct eval_dns_function dns[] = {
    { "check_uridnsbl", queries },
    { NULL, NULL },
};

static const char *const directives[] = {
    "urirhssub", "urirhsbl", "uridnssub", "uridnsbl", "uridnsbl_skip_domain",
    "clear_uridnsbl_skip_domain", "uridnsbl_max_domains", "uridnsbl_skip_mailto",
    "util_rb_tld", "util_rb_2tld", "util_rb_3tld", "clear_util_rb",
    NULL,
};

static const char *const capabilities[] = {
    "has_tflags_domains_only", "has_tflags_ips_only", "has_uridnsbl_for_a", NULL,
};

const struct eval_plugin eval_plugin_uridnsbl = {
    .id = EVAL_URIDNSBL,
    .name = "Mail::SpamAssassin::Plugin::URIDNSBL",
    .available = true,
    .functions = functions,
    .directives = directives,
    .dns = dns,
    .capabilities = capabilities,
};
