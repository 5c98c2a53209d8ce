/* dmarc_eval.c - RFC 9989 evaluation for one Author Domain. The DNS tree walk asks
 * _dmarc.NAME for the name itself, then (a name of more than eight labels jumps to its last
 * seven) for each shorter parent down to one label: at most 8 queries. The Organizational
 * Domain of a name comes from the walk from that name: the first record with psd=n is it, the
 * first with psd=y makes the name one label below it the Organizational Domain (the name
 * itself when the record is the name's own), otherwise the record with the fewest labels,
 * otherwise the name itself. The policy record is the Author Domain's, else its
 * Organizational Domain's, else its Public Suffix Domain's (RFC 9989 4.10.1). Every answer
 * is kept for the evaluation, so a name is asked once. Promises: see dmarc_eval.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_eval.h"
#include "util.h"

#define TYPE_A 1
#define TYPE_TXT 16
#define MAX_CACHE 64
#define MAX_LABELS 128

enum lookup_state {
    LOOKUP_RECORD,            /* one usable DMARC record */
    LOOKUP_NO_RECORD,         /* none (or none usable, or several) */
    LOOKUP_FAILED,            /* DNS failure, the budget or the query limit */
};

struct cached {
    char name[DMARC_DOMAIN_MAX + 1];   /* the domain, without _dmarc. */
    enum lookup_state state;
    struct dmarc_record record;
};

struct eval {
    const struct dmarc_limits *lim;
    dmarc_lookup_fn lookup;
    void *lookup_arg;
    uint64_t deadline;
    unsigned queries;
    struct cached cache[MAX_CACHE];
    size_t cache_count;
    char problem[256];
};

/* A name split into labels: label k starts at name + start[k]. */
struct labels {
    const char *name;
    size_t start[MAX_LABELS];
    size_t count;
};

const char *dmarc_result_name(enum dmarc_result result)
{
    switch (result) {
    case DMARC_RESULT_NONE: return "none";
    case DMARC_RESULT_PASS: return "pass";
    case DMARC_RESULT_FAIL: return "fail";
    case DMARC_RESULT_TEMPERROR: return "temperror";
    case DMARC_RESULT_PERMERROR: return "permerror";
    }
    return "none";
}

void dmarc_lookup_resolver(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    dns_query(arg, name, type, timeout_ms, out);
}

void dmarc_limits_default(struct dmarc_limits *lim)
{
    lim->max_queries = 32;
    lim->budget_ms = 10000;
    lim->query_timeout_ms = 0;
}

static void problem(struct eval *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct eval *e, const char *fmt, ...)
{
    if (e->problem[0] != 0)
        return;                         /* the first problem is the one to report */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->problem, sizeof e->problem, fmt, ap);
    va_end(ap);
}

/* A DNS name we can query: labels 1..63 of letters, digits, '-' and '_', at most 253. The name
 * is copied lower-cased into out. */
static bool domain_copy(const char *name, char *out)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > DMARC_DOMAIN_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[i] = c;
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
        if (++label > 63)
            return false;
    }
    out[len] = 0;
    return label > 0;
}

static void split(const char *name, struct labels *l)
{
    l->name = name;
    l->count = 0;
    l->start[l->count++] = 0;
    for (size_t i = 0; name[i] != 0 && l->count < MAX_LABELS; i++)
        if (name[i] == '.')
            l->start[l->count++] = i + 1;
}

/* The walk's names in order: the k-th (from 0) has how many labels; 0 past the end. */
static size_t walk_step(const struct labels *l, size_t k)
{
    size_t n = l->count;
    if (k == 0)
        return n;
    size_t first_parent = n > DMARC_WALK_MAX_QUERIES ? DMARC_WALK_MAX_QUERIES - 1 : n - 1;
    if (k > first_parent)
        return 0;
    return first_parent - (k - 1);
}

static const char *last_labels(const struct labels *l, size_t k)
{
    return l->name + l->start[l->count - k];
}

bool dmarc_walk_name(const char *domain, size_t k, char *out)
{
    char name[DMARC_DOMAIN_MAX + 1];
    if (!domain_copy(domain, name))
        return false;
    struct labels l;
    split(name, &l);
    size_t n = walk_step(&l, k);
    if (n == 0)
        return false;
    const char *at = last_labels(&l, n);
    memcpy(out, at, strlen(at) + 1);
    return true;
}

/* Selects the DMARC records among a TXT answer's and parses the one there is. */
static enum lookup_state records_of(const struct dns_answer *a, struct dmarc_record *out,
    const char *name, struct eval *e)
{
    size_t dmarc = 0, which = 0;
    for (size_t i = 0; i < a->count; i++) {
        if (dmarc_is_dmarc1(a->data[i])) {
            dmarc++;
            which = i;
        }
    }
    if (dmarc == 0)
        return LOOKUP_NO_RECORD;
    if (dmarc > 1) {
        problem(e, "_dmarc.%s has %zu DMARC records: ignored", name, dmarc);
        return LOOKUP_NO_RECORD;
    }
    char why[128];
    if (dmarc_record_parse(a->data[which], out, why, sizeof why) != DMARC_RECORD_OK) {
        dmarc_record_free(out);
        problem(e, "_dmarc.%s: %s: ignored", name, why);
        return LOOKUP_NO_RECORD;
    }
    return LOOKUP_RECORD;
}

/* One query within the budget and the query limit; false (with problem) when none may be
 * sent. */
static bool query(struct eval *e, const char *name, int type, struct dns_answer *out)
{
    memset(out, 0, sizeof *out);
    out->rcode = -1;
    if (e->queries >= e->lim->max_queries) {
        problem(e, "more than %u DNS queries needed", e->lim->max_queries);
        return false;
    }
    uint64_t now = now_ms();
    if (now >= e->deadline) {
        problem(e, "the time budget of %llu ms is spent",
            (unsigned long long)e->lim->budget_ms);
        return false;
    }
    uint64_t timeout = e->deadline - now;
    if (e->lim->query_timeout_ms > 0 && e->lim->query_timeout_ms < timeout)
        timeout = e->lim->query_timeout_ms;
    e->queries++;
    e->lookup(e->lookup_arg, name, type, timeout, out);
    return true;
}

/* The DMARC record at name (a domain), asked once per evaluation. */
static const struct cached *fetch(struct eval *e, const char *name)
{
    for (size_t i = 0; i < e->cache_count; i++)
        if (strcmp(e->cache[i].name, name) == 0)
            return &e->cache[i];
    static const struct cached failed = { .state = LOOKUP_FAILED };
    if (e->cache_count == MAX_CACHE) {
        problem(e, "more than %d names to look up", MAX_CACHE);
        return &failed;
    }
    char qname[DMARC_DOMAIN_MAX + 16];
    snprintf(qname, sizeof qname, "_dmarc.%s", name);
    struct dns_answer a;
    if (!query(e, qname, TYPE_TXT, &a))
        return &failed;
    struct cached *c = &e->cache[e->cache_count++];
    memset(c, 0, sizeof *c);
    memcpy(c->name, name, strlen(name) + 1);
    if (a.status == DNS_OK)
        c->state = records_of(&a, &c->record, qname + 7, e);
    else if (a.status == DNS_NXDOMAIN)
        c->state = LOOKUP_NO_RECORD;
    else {
        c->state = LOOKUP_FAILED;
        problem(e, "DNS failure for %s TXT (%s)", qname,
            a.status == DNS_TIMEOUT ? "timeout" : a.status == DNS_SERVFAIL ? "servfail" : "error");
    }
    dns_answer_free(&a);
    return c;
}

/* The Organizational Domain of domain into out (RFC 9989 4.10.2); psd_out (may be NULL) gets
 * the name of the psd=y record that placed it ("" when none did). false when the walk could
 * not finish. */
static bool org_domain(struct eval *e, const char *domain, char *out, char *psd_out)
{
    struct labels l;
    split(domain, &l);
    const char *candidate = NULL;
    if (psd_out != NULL)
        psd_out[0] = 0;
    for (size_t k = 0, n; (n = walk_step(&l, k)) > 0; k++) {
        const char *name = last_labels(&l, n);
        const struct cached *c = fetch(e, name);
        if (c->state == LOOKUP_FAILED)
            return false;
        if (c->state != LOOKUP_RECORD)
            continue;
        if (c->record.psd == DMARC_PSD_N) {
            candidate = name;
            break;
        }
        if (c->record.psd == DMARC_PSD_Y) {
            candidate = n == l.count ? name : last_labels(&l, n + 1);
            if (psd_out != NULL && n != l.count)
                memcpy(psd_out, name, strlen(name) + 1);
            break;
        }
        candidate = name;
    }
    if (candidate == NULL)
        candidate = domain;
    memcpy(out, candidate, strlen(candidate) + 1);
    return true;
}

/* Policy discovery (RFC 9989 4.10.1): the record of the Author Domain; else that of its
 * Organizational Domain; else that of its Public Suffix Domain (the psd=y record that placed
 * the Organizational Domain). A record found on the way that is none of these (a name between
 * the Author Domain and a higher Organizational Domain) is not the policy. NULL with *failed
 * when the walk could not finish, NULL alone when there is no policy record. */
static const struct cached *discover_policy(struct eval *e, const char *domain, bool *failed)
{
    *failed = false;
    const struct cached *c = fetch(e, domain);
    if (c->state == LOOKUP_RECORD)
        return c;
    if (c->state == LOOKUP_FAILED) {
        *failed = true;
        return NULL;
    }
    char org[DMARC_DOMAIN_MAX + 1], psd[DMARC_DOMAIN_MAX + 1];
    if (!org_domain(e, domain, org, psd)) {
        *failed = true;
        return NULL;
    }
    c = fetch(e, org);
    if (c->state == LOOKUP_RECORD)
        return c;
    if (psd[0] != 0) {
        c = fetch(e, psd);
        if (c->state == LOOKUP_RECORD)
            return c;
    }
    return NULL;
}

enum alignment {
    NOT_ALIGNED,
    ALIGNED,
    UNKNOWN,                  /* the identity's Organizational Domain could not be found */
};

static enum alignment aligned(struct eval *e, const char *identity, const char *author,
    const char *author_org, bool strict)
{
    char id[DMARC_DOMAIN_MAX + 1];
    if (!domain_copy(identity, id))
        return NOT_ALIGNED;
    if (strcmp(id, author) == 0)
        return ALIGNED;
    if (strict)
        return NOT_ALIGNED;
    if (author_org[0] == 0)
        return UNKNOWN;
    char id_org[DMARC_DOMAIN_MAX + 1];
    if (!org_domain(e, id, id_org, NULL))
        return UNKNOWN;
    return strcmp(id_org, author_org) == 0 ? ALIGNED : NOT_ALIGNED;
}

/* RFC 9989 3.2.13: a domain is non-existent when a query for it gets NXDOMAIN (with RFC
 * 8020's meaning: no name at or below it), so one query (A) tells. false when DNS failed. */
static bool author_exists(struct eval *e, const char *domain, bool *exists)
{
    struct dns_answer a;
    if (!query(e, domain, TYPE_A, &a))
        return false;
    enum dns_status status = a.status;
    dns_answer_free(&a);
    if (status == DNS_OK || status == DNS_NXDOMAIN) {
        *exists = status == DNS_OK;
        return true;
    }
    problem(e, "DNS failure for %s (type %d)", domain, TYPE_A);
    return false;
}

static enum dmarc_policy lowered(enum dmarc_policy p)
{
    if (p == DMARC_POLICY_REJECT)
        return DMARC_POLICY_QUARANTINE;
    return DMARC_POLICY_NONE;
}

/* Which of p, sp, np applies; false when DNS failed on the existence test. */
static bool select_policy(struct eval *e, const char *author, struct dmarc_verdict *out)
{
    const struct dmarc_record *r = &out->record;
    out->author_exists = true;
    if (strcmp(out->policy_domain, author) == 0) {
        out->published = r->p;
        out->policy_tag = "p";
        return true;
    }
    enum dmarc_policy sp = r->sp != DMARC_POLICY_UNSET ? r->sp : r->p;
    out->published = sp;
    out->policy_tag = r->sp != DMARC_POLICY_UNSET ? "sp" : "p";
    if (r->np == DMARC_POLICY_UNSET || r->np == sp)
        return true;                    /* np would change nothing: no existence test */
    if (!author_exists(e, author, &out->author_exists))
        return false;
    if (!out->author_exists) {
        out->published = r->np;
        out->policy_tag = "np";
    }
    return true;
}

static void finish(struct dmarc_verdict *out, struct eval *e, enum dmarc_result result)
{
    out->result = result;
    out->queries = e->queries;
    memcpy(out->problem, e->problem, sizeof out->problem);
    for (size_t i = 0; i < e->cache_count; i++)
        dmarc_record_free(&e->cache[i].record);
}

void dmarc_evaluate(const struct dmarc_request *req, const struct dmarc_limits *lim,
    dmarc_lookup_fn lookup, void *lookup_arg, struct dmarc_verdict *out)
{
    memset(out, 0, sizeof *out);
    out->policy_tag = "";
    out->policy = DMARC_POLICY_NONE;
    out->author_exists = true;
    struct dmarc_limits capped = *lim;
    if (capped.max_queries > MAX_CACHE)
        capped.max_queries = MAX_CACHE;
    struct eval *e = xcalloc(1, sizeof *e);
    e->lim = &capped;
    e->lookup = lookup;
    e->lookup_arg = lookup_arg;
    e->deadline = now_ms() + lim->budget_ms;

    char author[DMARC_DOMAIN_MAX + 1];
    if (!domain_copy(req->from_domain, author)) {
        problem(e, "the Author Domain is not a domain name");
        finish(out, e, DMARC_RESULT_PERMERROR);
        free(e);
        return;
    }
    bool failed;
    const struct cached *policy = discover_policy(e, author, &failed);
    if (policy == NULL) {
        if (!failed)
            problem(e, "no DMARC record for %s", author);
        finish(out, e, failed ? DMARC_RESULT_TEMPERROR : DMARC_RESULT_NONE);
        free(e);
        return;
    }
    /* the verdict takes its own copy of the record's URIs */
    out->has_record = true;
    out->record = policy->record;
    for (size_t i = 0; i < out->record.rua_count; i++)
        out->record.rua[i] = xstrdup(policy->record.rua[i]);
    for (size_t i = 0; i < out->record.ruf_count; i++)
        out->record.ruf[i] = xstrdup(policy->record.ruf[i]);
    out->testing = out->record.testing;
    memcpy(out->policy_domain, policy->name, sizeof out->policy_domain);
    if (!select_policy(e, author, out)) {
        finish(out, e, DMARC_RESULT_TEMPERROR);
        free(e);
        return;
    }

    bool org_known = org_domain(e, author, out->org_domain, NULL);
    if (!org_known)
        out->org_domain[0] = 0;
    bool unknown = false;
    if (req->spf_pass && req->spf_domain != NULL) {
        enum alignment a = aligned(e, req->spf_domain, author, out->org_domain,
            out->record.aspf_strict);
        out->spf_aligned = a == ALIGNED;
        unknown = unknown || a == UNKNOWN;
    }
    for (size_t i = 0; i < req->dkim_count && !out->dkim_aligned; i++) {
        enum alignment a = aligned(e, req->dkim_domains[i], author, out->org_domain,
            out->record.adkim_strict);
        if (a == ALIGNED) {
            out->dkim_aligned = true;
            domain_copy(req->dkim_domains[i], out->dkim_aligned_domain);
        }
        unknown = unknown || a == UNKNOWN;
    }
    if (out->spf_aligned || out->dkim_aligned) {
        finish(out, e, DMARC_RESULT_PASS);
    } else if (unknown) {
        problem(e, "alignment could not be determined");
        finish(out, e, DMARC_RESULT_TEMPERROR);
    } else {
        problem(e, "no aligned SPF or DKIM pass for %s", author);
        out->policy = out->testing ? lowered(out->published) : out->published;
        finish(out, e, DMARC_RESULT_FAIL);
    }
    free(e);
}

void dmarc_verdict_free(struct dmarc_verdict *v)
{
    dmarc_record_free(&v->record);
    v->has_record = false;
}
