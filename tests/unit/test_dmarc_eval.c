/* test_dmarc_eval.c - DMARC evaluation (filter/dmarc/dmarc_eval.c) on a fake DNS (a table
 * given to dmarc_evaluate as its lookup function, which also logs every query): the tree walk
 * and its 8-query shortcut, policy discovery, the Organizational Domain with psd=y, psd=n and
 * without psd, p/sp/np and the existence test, t=y, strict and relaxed alignment of SPF and
 * DKIM, DNS failures, the budget and the query limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "dmarc_eval.h"
#include "util.h"

struct fake_rr {
    const char *name;
    int type;
    const char *data;          /* "SERVFAIL": the query fails */
};

struct fake_dns {
    const struct fake_rr *rrs;
    size_t count;
    char log[4096];            /* "name/type " per query */
};

static void fake_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    (void)timeout_ms;
    struct fake_dns *f = arg;
    size_t used = strlen(f->log);
    snprintf(f->log + used, sizeof f->log - used, "%s/%d ", name, type);
    memset(out, 0, sizeof *out);
    bool exists = false;
    out->data = xcalloc(f->count + 1, sizeof *out->data);
    for (size_t i = 0; i < f->count; i++) {
        if (strcasecmp(f->rrs[i].name, name) != 0)
            continue;
        exists = true;
        if (f->rrs[i].type != type)
            continue;
        if (strcmp(f->rrs[i].data, "SERVFAIL") == 0) {
            dns_answer_free(out);
            memset(out, 0, sizeof *out);
            out->status = DNS_SERVFAIL;
            out->rcode = 2;
            return;
        }
        out->data[out->count++] = xstrdup(f->rrs[i].data);
    }
    out->status = exists ? DNS_OK : DNS_NXDOMAIN;
    out->rcode = exists ? 0 : 3;
    if (!exists) {
        free(out->data);
        out->data = NULL;
    }
}

#define FAKE(rrs) { rrs, sizeof rrs / sizeof rrs[0], "" }
#define TXT 16

static struct dmarc_verdict v;

static void evaluate(struct fake_dns *f, const char *from, const char *spf_domain, bool spf_pass,
    const char *dkim1, const char *dkim2)
{
    const char *dkim[2] = { dkim1, dkim2 };
    struct dmarc_request req = { .from_domain = from, .spf_domain = spf_domain,
        .spf_pass = spf_pass, .dkim_domains = dkim, .dkim_count = dkim2 ? 2 : dkim1 ? 1 : 0 };
    struct dmarc_limits lim;
    dmarc_limits_default(&lim);
    dmarc_verdict_free(&v);
    f->log[0] = 0;
    dmarc_evaluate(&req, &lim, fake_lookup, f, &v);
}

static int teardown(void **state)
{
    (void)state;
    dmarc_verdict_free(&v);
    return 0;
}

static const struct fake_rr example[] = {
    { "_dmarc.example.com", TXT, "v=DMARC1; p=reject; sp=quarantine; rua=mailto:r@example.com" },
    { "_dmarc.example.com", TXT, "some other text" },
    { "example.com", 1, "192.0.2.1" },
    { "mail.example.com", 1, "192.0.2.2" },
    { "_dmarc.other.example", TXT, "v=spf1 -all" },
};

static void test_no_record_is_none_after_the_walk(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(example);
    evaluate(&f, "a.b.other.example", "a.b.other.example", true, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_NONE);
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
    assert_false(v.has_record);
    assert_string_equal(v.policy_tag, "");
    assert_string_equal(f.log, "_dmarc.a.b.other.example/16 _dmarc.b.other.example/16 "
        "_dmarc.other.example/16 _dmarc.example/16 ");
    assert_int_equal(v.queries, 4);
    assert_non_null(strstr(v.problem, "no DMARC record"));
}

static void test_record_at_the_author_domain_and_dkim_pass(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(example);
    evaluate(&f, "Example.COM", NULL, false, "example.com", NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
    assert_int_equal(v.published, DMARC_POLICY_REJECT);
    assert_string_equal(v.policy_tag, "p");
    assert_string_equal(v.policy_domain, "example.com");
    assert_string_equal(v.org_domain, "example.com");
    assert_true(v.dkim_aligned);
    assert_false(v.spf_aligned);
    assert_string_equal(v.dkim_aligned_domain, "example.com");
    assert_int_equal(v.record.rua_count, 1);
    assert_string_equal(v.record.rua[0], "mailto:r@example.com");
    /* the org walk goes on above the record: com is asked too, once */
    assert_string_equal(f.log, "_dmarc.example.com/16 _dmarc.com/16 ");
}

static void test_fail_applies_p_at_the_author_domain(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(example);
    evaluate(&f, "example.com", "evil.test", true, "evil.test", NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_int_equal(v.policy, DMARC_POLICY_REJECT);
    assert_false(v.spf_aligned);
    assert_false(v.dkim_aligned);
    assert_non_null(strstr(v.problem, "no aligned"));
}

static void test_subdomain_gets_sp_and_relaxed_alignment(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(example);
    evaluate(&f, "mail.example.com", "bounce.example.com", true, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_true(v.spf_aligned);
    assert_string_equal(v.org_domain, "example.com");
    evaluate(&f, "mail.example.com", "example.net", true, "example.org", NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_int_equal(v.published, DMARC_POLICY_QUARANTINE);
    assert_string_equal(v.policy_tag, "sp");
    assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
    assert_string_equal(v.policy_domain, "example.com");
    /* SPF pass that did not pass is not an identity */
    evaluate(&f, "mail.example.com", "mail.example.com", false, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_false(v.spf_aligned);
}

static const struct fake_rr strict[] = {
    { "_dmarc.example.com", TXT, "v=DMARC1; p=reject; adkim=s; aspf=s; ruf=mailto:f@example.com" },
};

static void test_strict_alignment_needs_the_same_domain(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(strict);
    evaluate(&f, "example.com", "bounce.example.com", true, "mail.example.com", NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_int_equal(v.policy, DMARC_POLICY_REJECT);
    evaluate(&f, "example.com", "EXAMPLE.com", true, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_true(v.spf_aligned);
    evaluate(&f, "example.com", NULL, false, "bad..domain", "example.com");
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_string_equal(v.dkim_aligned_domain, "example.com");
    assert_int_equal(v.record.ruf_count, 1);
    assert_string_equal(v.record.ruf[0], "mailto:f@example.com");
}

static const struct fake_rr sp_unset[] = {
    { "_dmarc.example.com", TXT, "v=DMARC1; p=reject; np=quarantine" },
    { "_dmarc.example.net", TXT, "v=DMARC1; p=quarantine; sp=none; np=reject" },
    { "_dmarc.example.org", TXT, "v=DMARC1; p=reject; sp=none; np=none" },
    { "exists.example.net", 15, "10 mx.example.net" },
    { "servfail.example.net", 1, "SERVFAIL" },
};

static void test_sp_falls_back_to_p_and_np_needs_nxdomain(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(sp_unset);
    /* sp unset: p; the name does not exist: np */
    evaluate(&f, "ghost.example.com", NULL, false, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_false(v.author_exists);
    assert_string_equal(v.policy_tag, "np");
    assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
    assert_non_null(strstr(f.log, "ghost.example.com/1 "));
    /* exists (an MX only): sp */
    evaluate(&f, "exists.example.net", NULL, false, NULL, NULL);
    assert_true(v.author_exists);
    assert_string_equal(v.policy_tag, "sp");
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    evaluate(&f, "ghost.example.net", NULL, false, NULL, NULL);
    assert_string_equal(v.policy_tag, "np");
    assert_int_equal(v.policy, DMARC_POLICY_REJECT);
    /* np equal to sp: no existence test */
    evaluate(&f, "ghost.example.org", NULL, false, NULL, NULL);
    assert_string_equal(v.policy_tag, "sp");
    assert_null(strstr(f.log, "/1 "));
    assert_int_equal(v.published, DMARC_POLICY_NONE);
    /* a DNS failure in the existence test: temperror */
    evaluate(&f, "servfail.example.net", NULL, false, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
    assert_non_null(strstr(v.problem, "DNS failure for servfail.example.net"));
}

static const struct fake_rr testing[] = {
    { "_dmarc.reject.test", TXT, "v=DMARC1; p=reject; t=y" },
    { "_dmarc.quarantine.test", TXT, "v=DMARC1; p=quarantine; t=y" },
    { "_dmarc.none.test", TXT, "v=DMARC1; p=none; t=y" },
};

static void test_t_y_lowers_the_policy_one_step(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(testing);
    evaluate(&f, "reject.test", NULL, false, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_true(v.testing);
    assert_int_equal(v.published, DMARC_POLICY_REJECT);
    assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
    evaluate(&f, "quarantine.test", NULL, false, NULL, NULL);
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
    evaluate(&f, "none.test", NULL, false, NULL, NULL);
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
}

static void test_long_names_take_at_most_eight_queries(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(example);
    evaluate(&f, "a.b.c.d.e.f.g.h.i.j.example", NULL, false, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_NONE);
    assert_int_equal(v.queries, DMARC_WALK_MAX_QUERIES);
    assert_string_equal(f.log, "_dmarc.a.b.c.d.e.f.g.h.i.j.example/16 "
        "_dmarc.e.f.g.h.i.j.example/16 _dmarc.f.g.h.i.j.example/16 _dmarc.g.h.i.j.example/16 "
        "_dmarc.h.i.j.example/16 _dmarc.i.j.example/16 _dmarc.j.example/16 _dmarc.example/16 ");
    /* eight labels: every one, eight queries */
    evaluate(&f, "b.c.d.e.f.g.h.example", NULL, false, NULL, NULL);
    assert_int_equal(v.queries, 8);
    assert_non_null(strstr(f.log, "_dmarc.c.d.e.f.g.h.example/16 "));
    /* 127 labels */
    char name[300] = "";
    for (int i = 0; i < 120; i++)
        strcat(name, "x.");
    strcat(name, "example");
    evaluate(&f, name, NULL, false, NULL, NULL);
    assert_int_equal(v.queries, 8);
}

static const struct fake_rr psd[] = {
    { "_dmarc.gov", TXT, "v=DMARC1; p=reject; sp=quarantine; psd=y" },
    { "_dmarc.example.com", TXT, "v=DMARC1; p=none; psd=n" },
    { "_dmarc.com", TXT, "v=DMARC1; p=reject; psd=y" },
    { "_dmarc.fewest.test", TXT, "v=DMARC1; p=quarantine" },
    { "_dmarc.sub.fewest.test", TXT, "v=DMARC1; p=reject" },
    { "_dmarc.test", TXT, "v=DMARC1; p=none" },
};

static void test_psd_y_makes_the_name_below_the_org_domain(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(psd);
    evaluate(&f, "dept.agency.gov", NULL, false, "other.agency.gov", NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_string_equal(v.policy_domain, "gov");
    assert_string_equal(v.org_domain, "agency.gov");
    assert_true(v.dkim_aligned);
    evaluate(&f, "dept.agency.gov", NULL, false, "evil.gov", NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_string_equal(v.policy_tag, "sp");
    assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
    /* the PSD itself sends: its own Organizational Domain */
    evaluate(&f, "gov", NULL, false, "gov", NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_string_equal(v.org_domain, "gov");
}

static void test_psd_n_stops_the_walk(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(psd);
    evaluate(&f, "a.b.example.com", NULL, false, "c.example.com", NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_string_equal(v.org_domain, "example.com");
    assert_string_equal(v.policy_domain, "example.com");
    assert_null(strstr(f.log, "_dmarc.com/"));
    /* without psd=n the record with the fewest labels is the org domain's, and its record
     * (not sub.fewest.test's, found first) is the policy */
    evaluate(&f, "x.sub.fewest.test", NULL, false, "fewest.test", NULL);
    assert_string_equal(v.policy_domain, "test");
    assert_string_equal(v.org_domain, "test");
    assert_int_equal(v.result, DMARC_RESULT_PASS);
}

/* RFC 9989 4.10.1 and B.4.2: without a record at the Author Domain the policy is the record of
 * its Organizational Domain (else its Public Suffix Domain), not the first record the walk
 * meets on the way up. */
static const struct fake_rr between[] = {
    { "_dmarc.mail.example.com", TXT, "v=DMARC1; p=none" },
    { "_dmarc.example.com", TXT, "v=DMARC1; p=reject; sp=quarantine" },
    { "_dmarc.bank.example", TXT, "v=DMARC1; p=reject; sp=reject; psd=y" },
    { "_dmarc.giant.bank.example", TXT, "v=DMARC1; p=quarantine" },
};

static void test_policy_is_the_org_domains_record_not_the_first_found(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(between);
    evaluate(&f, "a.mail.example.com", NULL, false, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_FAIL);
    assert_string_equal(v.org_domain, "example.com");
    assert_string_equal(v.policy_domain, "example.com");
    assert_string_equal(v.policy_tag, "sp");
    assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
    /* the Author Domain's own record comes first */
    evaluate(&f, "mail.example.com", NULL, false, NULL, NULL);
    assert_string_equal(v.policy_domain, "mail.example.com");
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
    /* the Organizational Domain below a psd=y record, with a record: its record */
    evaluate(&f, "x.giant.bank.example", NULL, false, NULL, NULL);
    assert_string_equal(v.org_domain, "giant.bank.example");
    assert_string_equal(v.policy_domain, "giant.bank.example");
    assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
    /* ... without one: the Public Suffix Domain's */
    evaluate(&f, "x.mega.bank.example", NULL, false, NULL, NULL);
    assert_string_equal(v.org_domain, "mega.bank.example");
    assert_string_equal(v.policy_domain, "bank.example");
    assert_int_equal(v.policy, DMARC_POLICY_REJECT);
}

/* RFC 9989 3.2.13: non-existent is NXDOMAIN with RFC 8020's meaning: one query tells, and a
 * name with NXDOMAIN for A is non-existent whatever another type would say. */
static const struct fake_rr nx[] = {
    { "_dmarc.example.com", TXT, "v=DMARC1; p=none; np=reject" },
};

static void test_nxdomain_for_one_query_is_a_non_existent_domain(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(nx);
    evaluate(&f, "ghost.example.com", NULL, false, NULL, NULL);
    assert_false(v.author_exists);
    assert_string_equal(v.policy_tag, "np");
    assert_int_equal(v.policy, DMARC_POLICY_REJECT);
    assert_null(strstr(f.log, "ghost.example.com/28 "));
    assert_null(strstr(f.log, "ghost.example.com/15 "));
}

static const struct fake_rr broken[] = {
    { "_dmarc.two.test", TXT, "v=DMARC1; p=reject" },
    { "_dmarc.two.test", TXT, "v=DMARC1; p=none" },
    { "_dmarc.nopolicy.test", TXT, "v=DMARC1; adkim=s" },
    { "_dmarc.test", TXT, "v=DMARC1; p=quarantine" },
    { "_dmarc.fail.example", TXT, "SERVFAIL" },
    { "_dmarc.ok.example", TXT, "v=DMARC1; p=reject" },
    { "_dmarc.dkim-fail.example", TXT, "SERVFAIL" },
};

static void test_unusable_records_are_skipped(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(broken);
    evaluate(&f, "two.test", NULL, false, NULL, NULL);
    assert_string_equal(v.policy_domain, "test");
    assert_non_null(strstr(v.problem, "_dmarc.two.test has 2 DMARC records"));
    evaluate(&f, "nopolicy.test", NULL, false, NULL, NULL);
    assert_string_equal(v.policy_domain, "test");
    assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
    assert_non_null(strstr(v.problem, "no usable p="));
}

static void test_dns_failures(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(broken);
    evaluate(&f, "x.fail.example", NULL, false, NULL, NULL);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
    assert_non_null(strstr(v.problem, "DNS failure for _dmarc.fail.example TXT (servfail)"));
    /* an identity whose org domain is unknown is not aligned: temperror, not pass or fail */
    evaluate(&f, "ok.example", NULL, false, "a.dkim-fail.example", NULL);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
    assert_int_equal(v.policy, DMARC_POLICY_NONE);
    /* ... unless another identity aligns */
    evaluate(&f, "ok.example", "ok.example", true, "a.dkim-fail.example", NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    /* the Author Domain's own org walk fails: only exact matches align */
    evaluate(&f, "x.fail.example", NULL, false, "x.fail.example", NULL);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
}

static const struct fake_rr org_fails[] = {
    { "_dmarc.a.corp.example", TXT, "v=DMARC1; p=reject" },
    { "_dmarc.corp.example", TXT, "SERVFAIL" },
};

static void test_author_org_walk_failing_leaves_exact_alignment(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(org_fails);
    evaluate(&f, "a.corp.example", NULL, false, "a.corp.example", NULL);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_string_equal(v.org_domain, "");
    evaluate(&f, "a.corp.example", NULL, false, "b.corp.example", NULL);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
}

static void test_limits_budget_and_bad_author(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(example);
    const char *dkim[1] = { "mail.example.com" };
    struct dmarc_request req = { .from_domain = "a.b.c.other.example", .dkim_domains = dkim,
        .dkim_count = 1 };
    struct dmarc_limits lim;
    dmarc_limits_default(&lim);
    lim.max_queries = 2;
    dmarc_verdict_free(&v);
    dmarc_evaluate(&req, &lim, fake_lookup, &f, &v);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
    assert_int_equal(v.queries, 2);
    assert_non_null(strstr(v.problem, "more than 2 DNS queries"));
    dmarc_limits_default(&lim);
    lim.budget_ms = 0;
    lim.max_queries = 1000;                       /* capped */
    dmarc_verdict_free(&v);
    dmarc_evaluate(&req, &lim, fake_lookup, &f, &v);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
    assert_int_equal(v.queries, 0);
    assert_non_null(strstr(v.problem, "time budget"));
    /* many DKIM domains: every name is a cache entry, 64 at most (max_queries is capped) */
    const char *many[10];
    char names[10][64];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "a.b.c.d.e.f.g.d%d.example", i);
        many[i] = names[i];
    }
    struct dmarc_request req_many = { .from_domain = "example.com", .dkim_domains = many,
        .dkim_count = 10 };
    dmarc_limits_default(&lim);
    lim.max_queries = 1000;                       /* capped */
    dmarc_verdict_free(&v);
    f.log[0] = 0;
    dmarc_evaluate(&req_many, &lim, fake_lookup, &f, &v);
    assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
    assert_int_equal(v.queries, 64);
    assert_non_null(strstr(v.problem, "more than 64 names"));
    dmarc_limits_default(&lim);
    lim.query_timeout_ms = 5;
    req.from_domain = "example.com";
    dmarc_verdict_free(&v);
    dmarc_evaluate(&req, &lim, fake_lookup, &f, &v);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    const char *bad[] = { "", "a..b", ".a", "a.", "a b.example", NULL, "x@y.example" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req.from_domain = bad[i];
        dmarc_verdict_free(&v);
        dmarc_evaluate(&req, &lim, fake_lookup, &f, &v);
        assert_int_equal(v.result, DMARC_RESULT_PERMERROR);
        assert_int_equal(v.queries, 0);
    }
    char label64[80];
    memset(label64, 'a', 64);
    strcpy(label64 + 64, ".example");
    req.from_domain = label64;
    dmarc_verdict_free(&v);
    dmarc_evaluate(&req, &lim, fake_lookup, &f, &v);
    assert_int_equal(v.result, DMARC_RESULT_PERMERROR);
}

static void test_a_name_is_asked_once(void **state)
{
    (void)state;
    struct fake_dns f = FAKE(example);
    evaluate(&f, "a.example.com", "b.example.com", true, "c.example.com", "d.example.com");
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_string_equal(f.log, "_dmarc.a.example.com/16 _dmarc.example.com/16 "
        "_dmarc.com/16 _dmarc.b.example.com/16 _dmarc.c.example.com/16 ");
    assert_true(v.spf_aligned);
    assert_true(v.dkim_aligned);
    assert_string_equal(v.dkim_aligned_domain, "c.example.com");   /* d. is not needed */
}

static void test_result_names(void **state)
{
    (void)state;
    assert_string_equal(dmarc_result_name(DMARC_RESULT_NONE), "none");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_PASS), "pass");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_FAIL), "fail");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_TEMPERROR), "temperror");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_PERMERROR), "permerror");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_record_is_none_after_the_walk),
        cmocka_unit_test(test_record_at_the_author_domain_and_dkim_pass),
        cmocka_unit_test(test_fail_applies_p_at_the_author_domain),
        cmocka_unit_test(test_subdomain_gets_sp_and_relaxed_alignment),
        cmocka_unit_test(test_strict_alignment_needs_the_same_domain),
        cmocka_unit_test(test_sp_falls_back_to_p_and_np_needs_nxdomain),
        cmocka_unit_test(test_t_y_lowers_the_policy_one_step),
        cmocka_unit_test(test_long_names_take_at_most_eight_queries),
        cmocka_unit_test(test_psd_y_makes_the_name_below_the_org_domain),
        cmocka_unit_test(test_psd_n_stops_the_walk),
        cmocka_unit_test(test_policy_is_the_org_domains_record_not_the_first_found),
        cmocka_unit_test(test_nxdomain_for_one_query_is_a_non_existent_domain),
        cmocka_unit_test(test_unusable_records_are_skipped),
        cmocka_unit_test(test_dns_failures),
        cmocka_unit_test(test_author_org_walk_failing_leaves_exact_alignment),
        cmocka_unit_test(test_limits_budget_and_bad_author),
        cmocka_unit_test(test_a_name_is_asked_once),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
