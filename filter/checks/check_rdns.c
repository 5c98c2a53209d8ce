/* check_rdns.c - the client's reverse DNS, at connect: no PTR record (RDNS_NONE), a name that
 * does not resolve back to the address (RDNS_NOT_CONFIRMED), a generic or dynamic-looking name
 * (RDNS_DYNAMIC: the address's digits in it, or a token such as dsl, pool, dhcp from
 * spam.dynamic_keywords outside its registrable domain). Lookups that fail or time out score
 * nothing. The confirmed name is kept for the connection (rdns_result.h). */
#include "check_rdns.h"

#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dns.h"
#include "rdns_result.h"
#include "registrable.h"
#include "spam_check.h"
#include "spam_config.h"
#include "util.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_PTR 12
#define DNS_TYPE_AAAA 28
#define MAX_NAMES 3                 /* PTR names tried for confirmation */

extern const struct check check_rdns;


/* Whether name resolves (A or AAAA, by the client's family) to the client's address. */
static bool resolves_to(struct txn *t, const char *name)
{
    struct dns_answer answer;
    int type = t->client_addr.family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA;
    txn_dns_query(t, name, type, 0, &answer);
    bool found = false;
    for (size_t i = 0; answer.status == DNS_OK && i < answer.count && !found; i++) {
        struct ipaddr a;
        found = ipaddr_parse(answer.data[i], &a) && a.family == t->client_addr.family
            && memcmp(a.bytes, t->client_addr.bytes, a.family == AF_INET ? 4 : 16) == 0;
    }
    dns_answer_free(&answer);
    return found;
}

/* The digit runs of s, as numbers (at most max). */
static size_t digit_runs(const char *s, unsigned long *out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        if ('0' <= *s && *s <= '9') {
            char *end;
            out[n++] = strtoul(s, &end, 10);
            s = end;
        } else {
            s++;
        }
    }
    return n;
}

static bool has_ip_digits(const char *host_part, const struct ipaddr *addr)
{
    if (addr->family != AF_INET)
        return false;
    unsigned long runs[32];
    size_t n = digit_runs(host_part, runs, 32);
    unsigned found = 0;
    for (int octet = 0; octet < 4; octet++) {
        for (size_t i = 0; i < n; i++) {
            if (runs[i] == addr->bytes[octet]) {
                found++;
                break;
            }
        }
    }
    /* the last two octets, or three of the four: "c-203-0-113-7", "7.113.dyn" */
    bool last_two = false;
    for (size_t i = 0; i + 1 < n; i++) {
        if ((runs[i] == addr->bytes[2] && runs[i + 1] == addr->bytes[3])
            || (runs[i] == addr->bytes[3] && runs[i + 1] == addr->bytes[2]))
            last_two = true;
    }
    char hex[9];
    snprintf(hex, sizeof hex, "%02x%02x%02x%02x", addr->bytes[0], addr->bytes[1], addr->bytes[2],
        addr->bytes[3]);
    return found >= 3 || last_two || strstr(host_part, hex) != NULL;
}

static bool has_keyword(const char *host_part, const char *const *keywords, size_t count)
{
    const char *p = host_part;
    while (*p) {
        while (*p && !('a' <= *p && *p <= 'z'))
            p++;
        const char *start = p;
        while ('a' <= *p && *p <= 'z')
            p++;
        size_t len = (size_t)(p - start);
        for (size_t i = 0; len > 0 && i < count; i++) {
            if (strlen(keywords[i]) == len && memcmp(keywords[i], start, len) == 0)
                return true;
        }
    }
    return false;
}

bool rdns_name_is_dynamic(const char *name, const struct ipaddr *addr, const char *const *keywords,
    size_t keyword_count)
{
    char *lower = xstrdup(name);
    str_lower(lower);
    char *reg = registrable_domain(lower);
    size_t len = strlen(lower), reg_len = strlen(reg);
    /* only the labels left of the registrable domain say what the host is */
    if (reg_len < len)
        lower[len - reg_len] = '\0';
    else
        lower[0] = '\0';
    bool dynamic = lower[0] != '\0'
        && (has_ip_digits(lower, addr) || has_keyword(lower, keywords, keyword_count));
    free(reg);
    free(lower);
    return dynamic;
}

static bool wanted(struct txn *t)
{
    const struct spam_policy *p = t->cfg->spam;
    return spam_checks_apply(t) && p->rdns && t->have_client_addr && config_resolver(t->cfg) != NULL;
}

/* The PTR query goes out with the other connect-stage lookups (DNS lists). */
static void prefetch(struct txn *t, enum stage stage)
{
    (void)stage;
    if (!wanted(t))
        return;
    char zone[128];
    ipaddr_ptr_name(&t->client_addr, zone, sizeof zone);
    txn_dns_start(t, zone, DNS_TYPE_PTR);
}

static void run(struct txn *t, enum stage stage)
{
    (void)stage;
    const struct spam_policy *p = t->cfg->spam;
    if (!wanted(t))
        return;
    const char *confirmed = NULL;
    char zone[128];
    ipaddr_ptr_name(&t->client_addr, zone, sizeof zone);
    struct dns_answer ptr;
    txn_dns_query(t, zone, DNS_TYPE_PTR, 0, &ptr);
    if (ptr.status == DNS_NXDOMAIN || (ptr.status == DNS_OK && ptr.count == 0)) {
        txn_add_result(t, "RDNS_NONE", 1.3, ACTION_NONE, NULL);
    } else if (ptr.status == DNS_OK) {
        const char *name = NULL;
        for (size_t i = 0; i < ptr.count && i < MAX_NAMES && name == NULL; i++) {
            if (resolves_to(t, ptr.data[i]))
                name = ptr.data[i];
        }
        if (name == NULL) {
            txn_add_result(t, "RDNS_NOT_CONFIRMED", 1.0, ACTION_NONE, NULL);
            name = ptr.data[0];
        } else {
            confirmed = name;
        }
        if (rdns_name_is_dynamic(name, &t->client_addr, (const char *const *)p->dynamic_keywords.items,
                p->dynamic_keywords.count))
            txn_add_result(t, "RDNS_DYNAMIC", 1.0, ACTION_NONE, NULL);
    }
    rdns_result_set(t, confirmed);
    dns_answer_free(&ptr);
}

const struct check check_rdns = {
    .name = "rdns",
    .stages = STAGE_BIT(STAGE_CONNECT),
    .run = run,
    .prefetch = prefetch,
    .conn_end = rdns_result_free,
    .shadowed = spam_shadowed,
    .may_refuse = check_never_refuses,    /* symbols only */
};
