/* eval_dnseval.c - SpamAssassin's DNSEval plugin, natively, through our resolver: DNS block
 * and allow lists of the relays' addresses (check_rbl, check_rbl_txt, and check_rbl_sub, which
 * reads the answers its set's check_rbl asked for) and of the senders' domains
 * (check_rbl_from_host, check_rbl_from_domain, check_rbl_envfrom), with DNSEval.pm's choice of
 * addresses by the set's suffix: -lastexternal (the last external relay), -firsttrusted (the
 * first untrusted one), -untrusted (all but that), -notfirsthop, or every untrusted relay (at
 * most 9, newest last), private addresses never. The queries are listed before the evaluation
 * (rules_dns.c) and sent by check_rules within the message's DNS budget; an answer not known
 * (no resolver, a timeout, a failure) hits nothing, as SpamAssassin's rules with -L or past
 * their time. check_dns_sender hits only on A or MX records in an NXDOMAIN or SERVFAIL reply
 * in DNSEval.pm: never from our resolver, which gives none; it asks nothing. Not read:
 * originating_ip_headers (X-Originating-IP ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "eval_dnsbl.h"
#include "eval_lists.h"
#include "registrable.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "rules_relays.h"
#include "util.h"

#define TYPE_A 1
#define TYPE_TXT 16
#define MAX_IPS 9              /* num_check_received */
#define NAME_MAX_LEN 520

struct rbl_state {
    char *set;
    char zone[256];
    int type;
    struct dnsbl_subtest subtest;
    bool nice;
};

static void free_rbl(void *p)
{
    struct rbl_state *st = p;
    if (st == NULL)
        return;
    free(st->set);
    dnsbl_subtest_free(&st->subtest);
    free(st);
}

/* check_rbl(set, zone[, subtest]) and the _txt, _from_host, _from_domain, _envfrom ones. */
static bool prepare_rbl(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)rs;
    if (argc < 2 || args[0][0] == '\0' || args[1][0] == '\0') {
        *why = "needs a set and a zone";
        return false;
    }
    struct rbl_state *st = xcalloc(1, sizeof *st);
    st->set = xstrdup(args[0]);
    dnsbl_zone(args[1], st->zone, sizeof st->zone);
    st->type = strcmp(r->eval->name, "check_rbl_txt") == 0 ? TYPE_TXT : TYPE_A;
    st->nice = (r->tflags & TFLAG_NICE) != 0;
    if (!dnsbl_subtest_parse(argc >= 3 ? args[2] : NULL, &st->subtest)) {
        free_rbl(st);
        *why = "a subtest regex PCRE2 cannot compile";
        return false;
    }
    *state = st;
    return true;
}

static bool seen_ip(char ips[][64], size_t n, const char *ip)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ips[i], ip) == 0)
            return true;
    }
    return false;
}

/* Appends relay[i]'s address unless empty, private or present. */
static size_t add_relay_ip(const struct rules_relay *rl, char ips[][64], size_t n, size_t max)
{
    if (n >= max || rl->ip == NULL || rl->ip[0] == '\0' || rl->ip_private
            || seen_ip(ips, n, rl->ip))
        return n;
    strlcpy_mw(ips[n], rl->ip, 64);
    return n + 1;
}

/* The addresses a set looks up, in DNSEval.pm's order (_check_rbl_backend). */
static size_t set_ips(struct eval_ctx *ctx, const char *set, char ips[][64], size_t max)
{
    const struct rules_relays *relays = eval_relays(ctx);
    size_t n = 0;
    for (size_t i = relays->trusted_count; i < relays->count; i++)
        n = add_relay_ip(&relays->relay[i], ips, n, max);
    if (n == 0)
        return 0;                          /* no untrusted address: nothing asked */
    size_t len = strlen(set);
    if ((len > 13 && strcmp(set + len - 13, "-lastexternal") == 0)
            || (len > 12 && strcmp(set + len - 12, "-notfirsthop") == 0)) {
        /* the external relays: the trusted ones not internal, then the untrusted ones */
        n = 0;
        for (size_t i = 0; i < relays->trusted_count; i++) {
            if (!relays->relay[i].internal)
                n = add_relay_ip(&relays->relay[i], ips, n, max);
        }
        for (size_t i = relays->trusted_count; i < relays->count; i++)
            n = add_relay_ip(&relays->relay[i], ips, n, max);
        if (set[len - 1] == 'l')           /* -lastexternal */
            return n > 0 ? 1 : 0;
        return n > 1 ? n - 1 : n;
    }
    if (len > 13 && strcmp(set + len - 13, "-firsttrusted") == 0)
        return 1;
    if (len > 10 && strcmp(set + len - 10, "-untrusted") == 0) {
        memmove(ips[0], ips[1], (n - 1) * sizeof ips[0]);
        return n - 1;
    }
    for (size_t i = 0; i < n / 2; i++) {  /* every untrusted one, oldest first */
        char tmp[64];
        memcpy(tmp, ips[i], 64);
        memcpy(ips[i], ips[n - 1 - i], 64);
        memcpy(ips[n - 1 - i], tmp, 64);
    }
    return n;
}

static bool reversed_name(const char *ip, const char *zone, char *out, size_t size)
{
    struct ipaddr addr;
    return ipaddr_parse(ip, &addr) && ipaddr_reverse_name(&addr, zone, out, size);
}

static void rbl_queries(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rbl_state *st = call->state;
    char ips[MAX_IPS][64];
    size_t n = set_ips(ctx, st->set, ips, MAX_IPS);
    char name[NAME_MAX_LEN];
    for (size_t i = 0; i < n; i++) {
        if (reversed_name(ips[i], st->zone, name, sizeof name))
            eval_dns_ask(ctx, name, st->type);
    }
}

static unsigned run_rbl(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rbl_state *st = call->state;
    char ips[MAX_IPS][64];
    size_t n = set_ips(ctx, st->set, ips, MAX_IPS);
    char name[NAME_MAX_LEN];
    for (size_t i = 0; i < n; i++) {
        if (reversed_name(ips[i], st->zone, name, sizeof name)
                && dnsbl_answer_hits(ctx, name, st->type, &st->subtest))
            return 1;
    }
    return 0;
}

/* ---- check_rbl_sub(set, subtest): the answers of the set's check_rbl ---- */

struct rbl_sub_state {
    struct rbl_state *lists;   /* every check_rbl / check_rbl_txt rule of the set */
    size_t count;
    struct dnsbl_subtest subtest;
};

static void free_rbl_sub(void *p)
{
    struct rbl_sub_state *st = p;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->count; i++) {
        free(st->lists[i].set);
        dnsbl_subtest_free(&st->lists[i].subtest);
    }
    free(st->lists);
    dnsbl_subtest_free(&st->subtest);
    free(st);
}

static bool prepare_rbl_sub(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    if (argc < 2 || args[0][0] == '\0') {
        *why = "needs a set and a subtest";
        return false;
    }
    (void)r;
    struct rbl_sub_state *st = xcalloc(1, sizeof *st);
    if (!dnsbl_subtest_parse(args[1], &st->subtest)) {
        free(st);
        *why = "a subtest regex PCRE2 cannot compile";
        return false;
    }
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *o = &rs->rules[i];
        if (o->eval == NULL || o->eval_argc < 2 || strcmp(o->eval_args[0], args[0]) != 0
                || (strcmp(o->eval->name, "check_rbl") != 0
                    && strcmp(o->eval->name, "check_rbl_txt") != 0))
            continue;
        st->lists = xrealloc(st->lists, (st->count + 1) * sizeof *st->lists);
        struct rbl_state *l = &st->lists[st->count++];
        *l = (struct rbl_state){ .set = xstrdup(args[0]),
            .type = strcmp(o->eval->name, "check_rbl_txt") == 0 ? TYPE_TXT : TYPE_A };
        dnsbl_zone(o->eval_args[1], l->zone, sizeof l->zone);
    }
    *state = st;
    return true;
}

static unsigned run_rbl_sub(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rbl_sub_state *st = call->state;
    for (size_t k = 0; k < st->count; k++) {
        char ips[MAX_IPS][64];
        size_t n = set_ips(ctx, st->lists[k].set, ips, MAX_IPS);
        char name[NAME_MAX_LEN];
        for (size_t i = 0; i < n; i++) {
            if (reversed_name(ips[i], st->lists[k].zone, name, sizeof name)
                    && dnsbl_answer_hits(ctx, name, st->lists[k].type, &st->subtest))
                return 1;
        }
    }
    return 0;
}

/* ---- the senders' domains ---- */

/* The names a rule looks up: "domain.zone" for each sender address's domain (from_host:
 * every sender address; from_domain: their registrable domains; envfrom: the envelope
 * sender's). */
static size_t sender_names(struct eval_ctx *ctx, const struct eval_call *call,
    char names[][NAME_MAX_LEN], size_t max)
{
    const struct rbl_state *st = call->state;
    const char *fn = call->rule->eval->name;
    struct addr_list addrs = { 0 };
    if (strcmp(fn, "check_rbl_envfrom") == 0)
        eval_header_addrs(ctx, "EnvelopeFrom", &addrs);
    else
        eval_from_addrs(ctx, &addrs);
    size_t n = 0;
    for (size_t i = 0; i < addrs.count && n < max; i++) {
        const char *at = strrchr(addrs.addr[i], '@');
        if (at == NULL || strchr(at + 1, '.') == NULL)
            continue;
        char domain[256];
        strlcpy_mw(domain, at + 1, sizeof domain);
        if (strcmp(fn, "check_rbl_from_domain") == 0) {
            char *reg = registrable_domain(domain);
            strlcpy_mw(domain, reg, sizeof domain);
            free(reg);
        }
        snprintf(names[n], NAME_MAX_LEN, "%s.%s", domain, st->zone);
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(names[k], names[n]) == 0;
        if (!dup)
            n++;
    }
    addr_list_free(&addrs);
    return n;
}

static void sender_queries(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rbl_state *st = call->state;
    char names[8][NAME_MAX_LEN];
    size_t n = sender_names(ctx, call, names, 8);
    for (size_t i = 0; i < n; i++)
        eval_dns_ask(ctx, names[i], st->type);
}

static unsigned run_sender(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct rbl_state *st = call->state;
    char names[8][NAME_MAX_LEN];
    size_t n = sender_names(ctx, call, names, 8);
    for (size_t i = 0; i < n; i++) {
        if (dnsbl_answer_hits(ctx, names[i], st->type, &st->subtest))
            return 1;
    }
    return 0;
}

static unsigned run_never(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)ctx;
    (void)call;
    return 0;
}

static const struct eval_function functions[] = {
    { "check_rbl", prepare_rbl, free_rbl, run_rbl },
    { "check_rbl_txt", prepare_rbl, free_rbl, run_rbl },
    { "check_rbl_sub", prepare_rbl_sub, free_rbl_sub, run_rbl_sub },
    { "check_rbl_from_host", prepare_rbl, free_rbl, run_sender },
    { "check_rbl_from_domain", prepare_rbl, free_rbl, run_sender },
    { "check_rbl_envfrom", prepare_rbl, free_rbl, run_sender },
    { "check_dns_sender", NULL, NULL, run_never },
    { NULL, NULL, NULL, NULL },
};

static const struct eval_dns_function dns[] = {
    { "check_rbl", rbl_queries },
    { "check_rbl_txt", rbl_queries },
    { "check_rbl_from_host", sender_queries },
    { "check_rbl_from_domain", sender_queries },
    { "check_rbl_envfrom", sender_queries },
    { NULL, NULL },
};

static const char *const capabilities[] = {
    "has_tflags_domains_only", "has_tflags_ips_only", NULL,
};

const struct eval_plugin eval_plugin_dnseval = {
    .id = EVAL_DNSEVAL,
    .name = "Mail::SpamAssassin::Plugin::DNSEval",
    .available = true,
    .functions = functions,
    .dns = dns,
    .capabilities = capabilities,
};
