/* spf_eval.c - check_host() of RFC 7208 sections 4 and 5: record lookup and selection, the
 * mechanisms, redirect= and exp=, the processing limits and the time budget. Promises: the
 * DNS-term and void-lookup limits are counted once over the whole evaluation (includes and
 * redirects share them); no query is sent after the budget is spent (temperror instead); an
 * include or redirect loop ends at the term limit; explanations are printable ASCII. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spf.h"
#include "util.h"

#define MAX_DEPTH 24          /* includes + redirects; the term limit ends loops sooner */
#define MAX_EXPLANATION 512

enum match {
    NO_MATCH,
    MATCH,
    MATCH_TEMPERROR,
    MATCH_PERMERROR,
};

struct eval {
    const struct spf_limits *lim;
    spf_lookup_fn lookup;
    void *lookup_arg;
    struct ipaddr client;
    const char *sender;
    const char *local_part;
    const char *sender_domain;
    const char *helo;
    const char *receiver;
    uint64_t started;
    uint64_t deadline;
    unsigned dns_terms;
    unsigned void_lookups;
    unsigned queries;
    char problem[256];
    char *mechanism;          /* the term that matched last */
    char *explanation;
    bool explanation_from_domain;
    char **p_names;           /* %{p}: the client's validated names, looked up once */
    const char *p_domain;     /* the current domain while %{p} is expanded */
    char *record;             /* the checked domain's own v=spf1 record, as published */
};

const char *spf_result_name(enum spf_result result)
{
    switch (result) {
    case SPF_RESULT_NONE: return "none";
    case SPF_RESULT_NEUTRAL: return "neutral";
    case SPF_RESULT_PASS: return "pass";
    case SPF_RESULT_FAIL: return "fail";
    case SPF_RESULT_SOFTFAIL: return "softfail";
    case SPF_RESULT_TEMPERROR: return "temperror";
    case SPF_RESULT_PERMERROR: return "permerror";
    }
    return "none";
}

void spf_limits_default(struct spf_limits *lim)
{
    lim->max_dns_terms = 10;
    lim->max_void_lookups = 2;
    lim->max_names = 10;
    lim->budget_ms = 20000;
    lim->query_timeout_ms = 0;
}

void spf_lookup_resolver(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    dns_query(arg, name, type, timeout_ms, out);
}

static void problem(struct eval *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct eval *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->problem, sizeof e->problem, fmt, ap);
    va_end(ap);
}

bool spf_domain_valid(const char *name)
{
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    size_t labels = 0, label_len = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == '@')
            return false;
        if (c == '.') {
            if (label_len == 0)
                return false;
            labels++;
            label_len = 0;
        } else if (++label_len > 63) {
            return false;
        }
    }
    if (label_len == 0)
        return false;
    return labels + 1 >= 2;
}

/* One query within the budget; a spent budget looks like a timeout. */
static void query(struct eval *e, const char *name, int type, struct dns_answer *out)
{
    uint64_t now = now_ms();
    if (now >= e->deadline) {
        memset(out, 0, sizeof *out);
        out->status = DNS_TIMEOUT;
        out->rcode = -1;
        return;
    }
    uint64_t timeout = e->deadline - now;
    if (e->lim->query_timeout_ms > 0 && e->lim->query_timeout_ms < timeout)
        timeout = e->lim->query_timeout_ms;
    e->queries++;
    e->lookup(e->lookup_arg, name, type, timeout, out);
}

static bool dns_failed(const struct dns_answer *a)
{
    return a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT;
}

static bool dns_void(const struct dns_answer *a)
{
    return a->status == DNS_NXDOMAIN || (a->status == DNS_OK && a->count == 0);
}

static enum match temperror_for(struct eval *e, const char *name, const struct dns_answer *a)
{
    if (e->lim->budget_ms == 0)
        problem(e, "no time was left for DNS (the message's DNS budget was spent before SPF; "
            "at %s)", name);
    else if (now_ms() >= e->deadline)
        problem(e, "the time budget of %llu ms was spent (at %s)",
            (unsigned long long)e->lim->budget_ms, name);
    else
        problem(e, "DNS %s for %s", dns_status_name(a->status), name);
    return MATCH_TEMPERROR;
}

/* Counts one DNS-querying term; false (permerror) past the limit. */
static bool count_term(struct eval *e)
{
    if (++e->dns_terms > e->lim->max_dns_terms) {
        problem(e, "more than %u DNS-querying terms (RFC 7208 4.6.4)", e->lim->max_dns_terms);
        return false;
    }
    return true;
}

static bool count_void(struct eval *e)
{
    if (++e->void_lookups > e->lim->max_void_lookups) {
        problem(e, "more than %u void DNS lookups (RFC 7208 4.6.4)", e->lim->max_void_lookups);
        return false;
    }
    return true;
}

static int address_type(const struct eval *e)
{
    return e->client.family == AF_INET6 ? 28 : 1;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Does a printable address from an A/AAAA answer fall in the client's network? */
static bool address_matches(const struct eval *e, const char *text, unsigned cidr4,
    unsigned cidr6)
{
    uint8_t bytes[16];
    if (e->client.family == AF_INET6) {
        return inet_pton(AF_INET6, text, bytes) == 1
            && prefix_equal(bytes, e->client.bytes, cidr6);
    }
    return inet_pton(AF_INET, text, bytes) == 1 && prefix_equal(bytes, e->client.bytes, cidr4);
}

static bool name_in_domain(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (d > 0 && domain[d - 1] == '.')
        d--;
    if (n == d)
        return strncasecmp(name, domain, n) == 0;
    return n > d && name[n - d - 1] == '.' && strncasecmp(name + n - d, domain, d) == 0;
}

/* Does name have an address equal to the client's? (the validation of RFC 7208 5.5) */
static bool name_validates(struct eval *e, const char *name)
{
    struct dns_answer a;
    query(e, name, address_type(e), &a);
    bool ok = false;
    for (size_t i = 0; a.status == DNS_OK && i < a.count && !ok; i++)
        ok = address_matches(e, a.data[i], 32, 128);
    dns_answer_free(&a);
    return ok;
}

/* The client's validated names (at most max_names PTR names looked at); *ptr_status gets
 * the PTR answer's status. Returns a NULL-terminated array to free with the names. */
static char **validated_names(struct eval *e, struct dns_answer *ptr)
{
    char rev[80];
    ipaddr_ptr_name(&e->client, rev, sizeof rev);
    query(e, rev, 12, ptr);
    char **names = xcalloc(e->lim->max_names + 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; ptr->status == DNS_OK && i < ptr->count && i < e->lim->max_names; i++) {
        if (name_validates(e, ptr->data[i]))
            names[n++] = xstrdup(ptr->data[i]);
    }
    return names;
}

static void free_names(char **names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        free(names[i]);
    free(names);
}

/* %{p}: a validated name, preferring the current domain, then its subdomains, then any. */
static const char *p_macro_value(void *arg)
{
    struct eval *e = arg;
    if (e->p_names == NULL) {
        struct dns_answer ptr;
        e->p_names = validated_names(e, &ptr);
        dns_answer_free(&ptr);
    }
    char **names = e->p_names;
    const char *best = NULL;
    for (size_t i = 0; names[i] != NULL && best == NULL; i++) {
        if (str_ieq(names[i], e->p_domain))
            best = names[i];
    }
    for (size_t i = 0; names[i] != NULL && best == NULL; i++) {
        if (name_in_domain(names[i], e->p_domain))
            best = names[i];
    }
    if (best == NULL)
        best = names[0];
    return best;
}

static void macro_vars(struct eval *e, const char *domain, struct spf_macro_vars *v)
{
    memset(v, 0, sizeof *v);
    v->sender = e->sender;
    v->local_part = e->local_part;
    v->sender_domain = e->sender_domain;
    v->domain = domain;
    v->client = e->client;
    v->helo = e->helo != NULL ? e->helo : "";
    v->receiver = e->receiver;
    v->now = (uint64_t)time(NULL);
    v->validated_name = p_macro_value;
    v->validated_name_arg = e;
    e->p_domain = domain;
}

/* The target of a term: its domain-spec expanded, or the current domain. */
static char *target_name(struct eval *e, const char *domain_spec, const char *domain)
{
    if (domain_spec == NULL)
        return xstrdup(domain);
    struct spf_macro_vars v;
    macro_vars(e, domain, &v);
    char *out = NULL;
    char why[160];
    if (!spf_macro_expand(domain_spec, SPF_MACRO_DOMAIN, &v, &out, why, sizeof why)) {
        problem(e, "%s", why);
        return NULL;
    }
    return out;
}

static enum spf_result check_host(struct eval *e, const char *domain, unsigned depth,
    bool want_explanation);

static enum match match_a(struct eval *e, const struct spf_mechanism *m, const char *target)
{
    struct dns_answer a;
    query(e, target, address_type(e), &a);
    enum match r = NO_MATCH;
    if (dns_failed(&a))
        r = temperror_for(e, target, &a);
    else if (dns_void(&a))
        r = count_void(e) ? NO_MATCH : MATCH_PERMERROR;
    for (size_t i = 0; a.status == DNS_OK && i < a.count && r == NO_MATCH; i++) {
        if (address_matches(e, a.data[i], m->cidr4, m->cidr6))
            r = MATCH;
    }
    dns_answer_free(&a);
    return r;
}

/* "pref name" from an MX answer: the name. */
static const char *mx_name(const char *data)
{
    const char *space = strchr(data, ' ');
    return space != NULL ? space + 1 : data;
}

static enum match match_mx(struct eval *e, const struct spf_mechanism *m, const char *target)
{
    struct dns_answer mx;
    query(e, target, 15, &mx);
    enum match r = NO_MATCH;
    if (dns_failed(&mx)) {
        r = temperror_for(e, target, &mx);
    } else if (dns_void(&mx)) {
        r = count_void(e) ? NO_MATCH : MATCH_PERMERROR;
    } else if (mx.status == DNS_OK && mx.count > e->lim->max_names) {
        problem(e, "%s has more than %u MX records (RFC 7208 4.6.4)", target, e->lim->max_names);
        r = MATCH_PERMERROR;
    }
    for (size_t i = 0; mx.status == DNS_OK && i < mx.count && r == NO_MATCH; i++) {
        const char *host = mx_name(mx.data[i]);
        if (strcmp(host, ".") == 0 || host[0] == '\0')
            continue;                 /* a null MX (RFC 7505) has no address */
        struct dns_answer a;
        query(e, host, address_type(e), &a);
        if (dns_failed(&a))
            r = temperror_for(e, host, &a);
        for (size_t k = 0; a.status == DNS_OK && k < a.count && r == NO_MATCH; k++) {
            if (address_matches(e, a.data[k], m->cidr4, m->cidr6))
                r = MATCH;
        }
        dns_answer_free(&a);
    }
    dns_answer_free(&mx);
    return r;
}

static enum match match_ptr(struct eval *e, const char *target)
{
    struct dns_answer ptr;
    char **names = validated_names(e, &ptr);
    enum match r = NO_MATCH;
    if (dns_void(&ptr) && !count_void(e))
        r = MATCH_PERMERROR;
    for (size_t i = 0; names[i] != NULL && r == NO_MATCH; i++) {
        if (name_in_domain(names[i], target))
            r = MATCH;
    }
    dns_answer_free(&ptr);
    free_names(names);
    return r;
}

static enum match match_exists(struct eval *e, const char *target)
{
    struct dns_answer a;
    query(e, target, 1, &a);
    enum match r = NO_MATCH;
    if (dns_failed(&a))
        r = temperror_for(e, target, &a);
    else if (dns_void(&a))
        r = count_void(e) ? NO_MATCH : MATCH_PERMERROR;
    else if (a.status == DNS_OK)
        r = MATCH;
    dns_answer_free(&a);
    return r;
}

static enum match match_include(struct eval *e, const char *target, unsigned depth)
{
    switch (check_host(e, target, depth + 1, false)) {
    case SPF_RESULT_PASS:
        return MATCH;
    case SPF_RESULT_FAIL:
    case SPF_RESULT_SOFTFAIL:
    case SPF_RESULT_NEUTRAL:
        return NO_MATCH;
    case SPF_RESULT_TEMPERROR:
        return MATCH_TEMPERROR;
    case SPF_RESULT_NONE:
        problem(e, "include:%s has no SPF record", target);
        return MATCH_PERMERROR;
    case SPF_RESULT_PERMERROR:
        return MATCH_PERMERROR;
    }
    return MATCH_PERMERROR;
}

static enum match match_mechanism(struct eval *e, const struct spf_mechanism *m,
    const char *domain, unsigned depth)
{
    switch (m->type) {
    case SPF_MECH_ALL:
        return MATCH;
    case SPF_MECH_IP4:
        return e->client.family == AF_INET && prefix_equal(m->network, e->client.bytes, m->cidr4)
            ? MATCH : NO_MATCH;
    case SPF_MECH_IP6:
        return e->client.family == AF_INET6
            && prefix_equal(m->network, e->client.bytes, m->cidr6) ? MATCH : NO_MATCH;
    default:
        break;
    }
    if (!count_term(e))
        return MATCH_PERMERROR;
    char *target = target_name(e, m->domain_spec, domain);
    if (target == NULL)
        return MATCH_PERMERROR;
    enum match r = NO_MATCH;
    switch (m->type) {
    case SPF_MECH_A: r = match_a(e, m, target); break;
    case SPF_MECH_MX: r = match_mx(e, m, target); break;
    case SPF_MECH_PTR: r = match_ptr(e, target); break;
    case SPF_MECH_EXISTS: r = match_exists(e, target); break;
    case SPF_MECH_INCLUDE: r = match_include(e, target, depth); break;
    default: break;
    }
    free(target);
    return r;
}

/* Keeps only printable ASCII and caps the length. */
static char *printable(const char *text)
{
    size_t len = strlen(text);
    if (len > MAX_EXPLANATION)
        len = MAX_EXPLANATION;
    char *out = xstrndup(text, len);
    for (char *p = out; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    }
    return out;
}

/* RFC 7208 6.2: the exp= text, or NULL to use the default. */
static char *fetch_explanation(struct eval *e, const char *exp_spec, const char *domain)
{
    char *name = target_name(e, exp_spec, domain);
    if (name == NULL)
        return NULL;
    struct dns_answer a;
    query(e, name, 16, &a);
    free(name);
    char *text = NULL;
    if (a.status == DNS_OK && a.count == 1) {
        struct spf_macro_vars v;
        macro_vars(e, domain, &v);
        char why[160];
        char *expanded = NULL;
        if (spf_macro_expand(a.data[0], SPF_MACRO_EXPLAIN, &v, &expanded, why, sizeof why)) {
            text = printable(expanded);
            free(expanded);
        }
    }
    dns_answer_free(&a);
    return text;
}

static void set_explanation(struct eval *e, const struct spf_record *rec, const char *domain)
{
    if (e->explanation != NULL)
        return;
    char *text = rec->exp != NULL ? fetch_explanation(e, rec->exp, domain) : NULL;
    if (text != NULL) {
        e->explanation = text;
        e->explanation_from_domain = true;
    }
}

/* RFC 7208 4.4 and 4.5: the one v=spf1 record of domain, or a result without one. */
static enum spf_result find_record(struct eval *e, const char *domain, bool top,
    struct spf_record *rec)
{
    struct dns_answer a;
    query(e, domain, 16, &a);
    enum spf_result r = SPF_RESULT_NONE;
    const char *found = NULL;
    if (dns_failed(&a)) {
        temperror_for(e, domain, &a);
        r = SPF_RESULT_TEMPERROR;
    } else if (a.status != DNS_OK) {
        problem(e, "%s: %s", domain, a.status == DNS_NXDOMAIN ? "no such domain"
            : "not a name that can be looked up");
    }
    size_t records = 0;
    for (size_t i = 0; a.status == DNS_OK && i < a.count; i++) {
        if (spf_is_spf1(a.data[i])) {
            records++;
            found = a.data[i];
        }
    }
    if (r == SPF_RESULT_NONE && records == 0 && a.status == DNS_OK)
        problem(e, "%s has no SPF record", domain);
    if (records > 1) {
        problem(e, "%s has %zu SPF records (RFC 7208 4.5)", domain, records);
        r = SPF_RESULT_PERMERROR;
    } else if (records == 1) {
        char why[200];
        if (top && e->record == NULL)
            e->record = xstrdup(found);       /* kept even when it does not parse */
        if (spf_record_parse(found, rec, why, sizeof why)) {
            r = SPF_RESULT_NEUTRAL;           /* a record to evaluate */
        } else {
            problem(e, "%s: %s", domain, why);
            r = SPF_RESULT_PERMERROR;
        }
    }
    dns_answer_free(&a);
    return r;
}

static enum spf_result redirect(struct eval *e, const struct spf_record *rec, const char *domain,
    unsigned depth, bool want_explanation)
{
    if (!count_term(e))
        return SPF_RESULT_PERMERROR;
    char *target = target_name(e, rec->redirect, domain);
    if (target == NULL)
        return SPF_RESULT_PERMERROR;
    enum spf_result r = check_host(e, target, depth + 1, want_explanation);
    if (r == SPF_RESULT_NONE) {
        problem(e, "redirect=%s: no SPF record there", target);
        r = SPF_RESULT_PERMERROR;
    }
    free(target);
    return r;
}

static enum spf_result check_host(struct eval *e, const char *domain, unsigned depth,
    bool want_explanation)
{
    if (depth > MAX_DEPTH) {
        problem(e, "includes and redirects nested more than %d deep", MAX_DEPTH);
        return SPF_RESULT_PERMERROR;
    }
    if (!spf_domain_valid(domain)) {
        problem(e, "\"%s\" is not a valid domain name", domain);
        return SPF_RESULT_NONE;
    }
    struct spf_record rec;
    enum spf_result r = find_record(e, domain, depth == 0, &rec);
    if (r != SPF_RESULT_NEUTRAL)
        return r;
    for (size_t i = 0; i < rec.mech_count; i++) {
        const struct spf_mechanism *m = &rec.mechs[i];
        enum match mr = match_mechanism(e, m, domain, depth);
        if (mr == NO_MATCH)
            continue;
        if (mr == MATCH_TEMPERROR) {
            r = SPF_RESULT_TEMPERROR;
        } else if (mr == MATCH_PERMERROR) {
            r = SPF_RESULT_PERMERROR;
        } else {
            r = m->qualifier;
            free(e->mechanism);
            e->mechanism = xstrdup(m->term);
            if (r == SPF_RESULT_FAIL && want_explanation)
                set_explanation(e, &rec, domain);
        }
        spf_record_free(&rec);
        return r;
    }
    if (rec.redirect != NULL) {
        r = redirect(e, &rec, domain, depth, want_explanation);
    } else {
        r = SPF_RESULT_NEUTRAL;
        free(e->mechanism);
        e->mechanism = NULL;
    }
    spf_record_free(&rec);
    return r;
}

void spf_verdict_free(struct spf_verdict *v)
{
    free(v->domain);
    free(v->identity);
    free(v->explanation);
    free(v->mechanism);
    free(v->problem);
    free(v->record);
    memset(v, 0, sizeof *v);
}

/* Splits the identity: local part (or "postmaster") and domain. */
static void identity_of(const struct spf_request *req, char **local, char **domain)
{
    const char *helo = req->helo != NULL ? req->helo : "";
    const char *addr = req->sender != NULL ? req->sender : "";
    if (req->check_helo || addr[0] == '\0') {
        *local = xstrdup("postmaster");
        *domain = xstrdup(helo);
        return;
    }
    const char *at = strrchr(addr, '@');
    if (at == NULL) {
        *local = xstrdup("postmaster");
        *domain = xstrdup(addr);
        return;
    }
    *local = at == addr ? xstrdup("postmaster") : xstrndup(addr, (size_t)(at - addr));
    *domain = xstrdup(at + 1);
}

void spf_check(const struct spf_request *req, const struct spf_limits *lim,
    spf_lookup_fn lookup, void *lookup_arg, struct spf_verdict *out)
{
    memset(out, 0, sizeof *out);
    char *local, *domain;
    identity_of(req, &local, &domain);
    size_t dlen = strlen(domain);
    if (dlen > 1 && domain[dlen - 1] == '.')
        domain[dlen - 1] = '\0';
    char *sender = xasprintf("%s@%s", local, domain);

    struct eval e = {
        .lim = lim, .lookup = lookup, .lookup_arg = lookup_arg, .client = req->client,
        .sender = sender, .local_part = local, .sender_domain = domain, .helo = req->helo,
        .receiver = req->receiver, .started = now_ms(),
    };
    e.deadline = e.started + lim->budget_ms;
    enum spf_result r = check_host(&e, domain, 0, true);

    out->result = r;
    out->domain = domain;
    out->identity = sender;
    out->mechanism = e.mechanism;
    out->record = e.record;
    if (r == SPF_RESULT_FAIL) {
        if (e.explanation != NULL) {
            out->explanation = e.explanation;
            out->explanation_from_domain = e.explanation_from_domain;
        } else {
            char ip[64];
            ipaddr_format(&req->client, ip, sizeof ip);
            char *text = xasprintf("%s is not allowed to send mail from %s", ip, domain);
            out->explanation = printable(text);
            free(text);
        }
    } else {
        free(e.explanation);
    }
    if (e.problem[0] != '\0' && (r == SPF_RESULT_NONE || r == SPF_RESULT_PERMERROR
            || r == SPF_RESULT_TEMPERROR))
        out->problem = printable(e.problem);
    out->dns_terms = e.dns_terms;
    out->void_lookups = e.void_lookups;
    out->queries = e.queries;
    out->elapsed_ms = now_ms() - e.started;
    free(local);
    if (e.p_names != NULL)
        free_names(e.p_names);
}
