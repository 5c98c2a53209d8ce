/* test_spf.c - the SPF evaluator's pieces (filter/spf*.c) with a fake DNS (an in-memory table
 * given to spf_check as its lookup function): the record grammar, the macro examples of
 * RFC 7208 section 7.4, and the limits an attacker's records run into (lookups and void
 * lookups counted over the whole evaluation, include loops, the time budget, MX/PTR names).
 * The conformance suites with a real DNS server are tests/spf/test-spf.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "spf.h"
#include "spf_config.h"
#include "util.h"

/* --- a fake DNS --------------------------------------------------------------------------- */

struct fake_rr {
    const char *name;
    int type;
    const char *data;          /* NULL: the name exists without this type */
};

struct fake_dns {
    const struct fake_rr *rrs;
    size_t count;
    const char *timeout_name;  /* queries for it take sleep_ms and time out */
    unsigned sleep_ms;
    bool wildcard_txt;         /* every unknown name has "v=spf1 include:<name>x.loop.test" */
    unsigned queries;
};

static void fake_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    struct fake_dns *f = arg;
    f->queries++;
    memset(out, 0, sizeof *out);
    out->rcode = 0;
    if (f->timeout_name != NULL && strcasecmp(name, f->timeout_name) == 0) {
        usleep((useconds_t)(f->sleep_ms < timeout_ms ? f->sleep_ms : timeout_ms) * 1000);
        out->status = DNS_TIMEOUT;
        out->rcode = -1;
        return;
    }
    bool exists = false;
    out->data = xcalloc(f->count + 2, sizeof *out->data);
    for (size_t i = 0; i < f->count; i++) {
        if (strcasecmp(f->rrs[i].name, name) != 0)
            continue;
        exists = true;
        if (f->rrs[i].type == type && f->rrs[i].data != NULL)
            out->data[out->count++] = xstrdup(f->rrs[i].data);
    }
    if (!exists && f->wildcard_txt && type == 16 && strlen(name) < 200) {
        out->data[out->count++] = xasprintf("v=spf1 include:x%s -all", name);
        exists = true;
    }
    out->status = exists ? DNS_OK : DNS_NXDOMAIN;
    if (!exists) {
        out->rcode = 3;
        free(out->data);
        out->data = NULL;
    }
}

static struct spf_verdict check(struct fake_dns *f, const char *ip, const char *sender)
{
    struct spf_request req = {.sender = sender, .helo = "mx.client.test"};
    assert_true(ipaddr_parse(ip, &req.client));
    struct spf_limits lim;
    spf_limits_default(&lim);
    lim.budget_ms = 2000;
    struct spf_verdict v;
    spf_check(&req, &lim, fake_lookup, f, &v);
    return v;
}

#define FAKE(rrs) { rrs, sizeof rrs / sizeof rrs[0], NULL, 0, false, 0 }

/* --- record grammar ----------------------------------------------------------------------- */

static void parse_ok(const char *text)
{
    struct spf_record rec;
    char why[200] = "";
    if (!spf_record_parse(text, &rec, why, sizeof why))
        fail_msg("\"%s\" should parse: %s", text, why);
    spf_record_free(&rec);
}

static void parse_bad(const char *text)
{
    struct spf_record rec;
    char why[200] = "";
    if (spf_record_parse(text, &rec, why, sizeof why)) {
        spf_record_free(&rec);
        fail_msg("\"%s\" should be a syntax error", text);
    }
    assert_true(why[0] != '\0');
}

static void test_record_valid(void **state)
{
    (void)state;
    parse_ok("v=spf1");
    parse_ok("v=spf1 ");
    parse_ok("V=SPF1 -ALL");
    parse_ok("v=spf1 a mx ptr -all");
    parse_ok("v=spf1 a/24 mx/24//64 a:example.com/0 mx:example.com//0 ~all");
    parse_ok("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ip6:::ffff:1.2.3.4 ?all");
    parse_ok("v=spf1 include:_spf.example.com exists:%{ir}.%{l1r+-}._spf.%{d} -all");
    parse_ok("v=spf1 redirect=_spf.example.com");
    parse_ok("v=spf1 -all exp=explain._spf.%{d}");
    parse_ok("v=spf1 foo.bar-baz_1=anything%%here -all");
    parse_ok("v=spf1 a:example.com.");
    parse_ok("v=spf1 a:foo-bar.c0m a:%{d}");
}

static void test_record_invalid(void **state)
{
    (void)state;
    parse_bad("v=spf10");
    parse_bad("v=spf1 -all:foo");
    parse_bad("v=spf1 all/24");
    parse_bad("v=spf1 ip4:1.2.3.4/33");
    parse_bad("v=spf1 ip4:1.2.3.04");
    parse_bad("v=spf1 ip4:1.2.3");
    parse_bad("v=spf1 ip4:2001:db8::1");
    parse_bad("v=spf1 ip6:1.2.3.4");
    parse_bad("v=spf1 ip6:::1/129");
    parse_bad("v=spf1 a/032");
    parse_bad("v=spf1 a:example.123");
    parse_bad("v=spf1 a:museum");
    parse_bad("v=spf1 a:");
    parse_bad("v=spf1 include");
    parse_bad("v=spf1 exists");
    parse_bad("v=spf1 ptr/24");
    parse_bad("v=spf1 foo");
    parse_bad("v=spf1 -foo=bar");
    parse_bad("v=spf1 redirect=a.example redirect=b.example");
    parse_bad("v=spf1 exp=a.example exp=b.example");
    parse_bad("v=spf1 a:%{x}.example.com");
    parse_bad("v=spf1 a:%{d0}.example.com");
    parse_bad("v=spf1 a:%{c}.example.com");      /* c, r, t only in explanations */
    parse_bad("v=spf1 a:50%.example.com");
    parse_bad("v=spf1 a:%{d");
    parse_bad("v=spf1\t-all");
    parse_bad("v=spf1 -all\x7f");
    parse_bad("v=spf1 a:caf\xc3\xa9.example");
}

/* --- macros: RFC 7208 section 7.4 --------------------------------------------------------- */

static void expect_macro(const char *text, enum spf_macro_mode mode, const char *ip,
    const char *want)
{
    struct spf_macro_vars v = {
        .sender = "strong-bad@email.example.com", .local_part = "strong-bad",
        .sender_domain = "email.example.com", .domain = "email.example.com",
        .helo = "mx.example.org", .receiver = "mx.receiver.test", .now = 1234,
    };
    assert_true(ipaddr_parse(ip, &v.client));
    char *out = NULL;
    char why[160];
    if (!spf_macro_expand(text, mode, &v, &out, why, sizeof why))
        fail_msg("\"%s\": %s", text, why);
    assert_string_equal(out, want);
    free(out);
}

static void test_macro_rfc_examples(void **state)
{
    (void)state;
    const enum spf_macro_mode D = SPF_MACRO_DOMAIN;
    const char *ip4 = "192.0.2.3";
    expect_macro("%{s}", D, ip4, "strong-bad@email.example.com");
    expect_macro("%{o}", D, ip4, "email.example.com");
    expect_macro("%{d}", D, ip4, "email.example.com");
    expect_macro("%{d4}", D, ip4, "email.example.com");
    expect_macro("%{d3}", D, ip4, "email.example.com");
    expect_macro("%{d2}", D, ip4, "example.com");
    expect_macro("%{d1}", D, ip4, "com");
    expect_macro("%{dr}", D, ip4, "com.example.email");
    expect_macro("%{d2r}", D, ip4, "example.email");
    expect_macro("%{l}", D, ip4, "strong-bad");
    expect_macro("%{l-}", D, ip4, "strong.bad");
    expect_macro("%{lr}", D, ip4, "strong-bad");
    expect_macro("%{lr-}", D, ip4, "bad.strong");
    expect_macro("%{l1r-}", D, ip4, "strong");
    expect_macro("%{ir}.%{v}._spf.%{d2}", D, ip4, "3.2.0.192.in-addr._spf.example.com");
    expect_macro("%{lr-}.lp._spf.%{d2}", D, ip4, "bad.strong.lp._spf.example.com");
    expect_macro("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", D, ip4,
        "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    expect_macro("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", D, ip4,
        "3.2.0.192.in-addr.strong.lp._spf.example.com");
    expect_macro("%{d2}.trusted-domains.example.net", D, ip4,
        "example.com.trusted-domains.example.net");
    expect_macro("%{ir}.%{v}._spf.%{d2}", D, "2001:db8::cb01",
        "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
    expect_macro("%{ir}", D, "::ffff:192.0.2.3", "3.2.0.192");       /* mapped = IPv4 */
    expect_macro("%%%_%-", SPF_MACRO_EXPLAIN, ip4, "% %20");
    expect_macro("%{S}", D, ip4, "strong-bad%40email.example.com");
    expect_macro("%{c} at %{t} by %{r}", SPF_MACRO_EXPLAIN, ip4, "192.0.2.3 at 1234 by mx.receiver.test");
    expect_macro("%{d99999999999999}", D, ip4, "email.example.com");
}

static void test_macro_cut_to_253(void **state)
{
    (void)state;
    char local[70];
    memset(local, 'a', 63);
    local[63] = '\0';
    struct spf_macro_vars v = {.sender = "x", .local_part = local, .sender_domain = "e.test",
        .domain = "e.test", .helo = "h.test"};
    assert_true(ipaddr_parse("192.0.2.1", &v.client));
    char *out = NULL;
    char why[160];
    assert_true(spf_macro_expand("%{l}.%{l}.%{l}.%{l}.%{l}.example.com", SPF_MACRO_DOMAIN, &v,
        &out, why, sizeof why));
    assert_true(strlen(out) <= 253);
    assert_true(str_iendswith(out, ".example.com"));
    assert_true(out[0] != '.');
    free(out);
    /* the expansion is bounded: 8192 characters at most */
    struct textbuf big;
    textbuf_init(&big);
    for (int i = 0; i < 400; i++)
        textbuf_puts(&big, "%{L}%{S}");
    assert_false(spf_macro_expand(big.data, SPF_MACRO_EXPLAIN, &v, &out, why, sizeof why));
    assert_null(out);
    textbuf_free(&big);
}

/* --- evaluation --------------------------------------------------------------------------- */

static void test_eval_basics(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"example.test", 16, "v=spf1 a mx:mail.example.test ip6:2001:db8::/32 -all"},
        {"example.test", 16, "some other TXT record"},
        {"example.test", 1, "192.0.2.10"},
        {"mail.example.test", 15, "10 mx1.example.test"},
        {"mx1.example.test", 1, "198.51.100.7"},
        {"two.test", 16, "v=spf1 -all"},
        {"two.test", 16, "v=spf1 +all"},
        {"bad.test", 16, "v=spf1 ip4:1.2.3.4/99 -all"},
    };
    struct fake_dns f = FAKE(rrs);
    struct spf_verdict v = check(&f, "192.0.2.10", "user@example.test");
    assert_string_equal(spf_result_name(v.result), "pass");
    assert_string_equal(v.mechanism, "a");
    spf_verdict_free(&v);
    v = check(&f, "::ffff:198.51.100.7", "user@example.test");    /* mapped: IPv4 */
    assert_string_equal(spf_result_name(v.result), "pass");
    assert_string_equal(v.mechanism, "mx:mail.example.test");
    spf_verdict_free(&v);
    v = check(&f, "2001:db8::1", "user@example.test");
    assert_string_equal(spf_result_name(v.result), "pass");
    spf_verdict_free(&v);
    v = check(&f, "203.0.113.1", "user@example.test");
    assert_string_equal(spf_result_name(v.result), "fail");
    assert_non_null(v.explanation);
    assert_false(v.explanation_from_domain);
    spf_verdict_free(&v);
    v = check(&f, "203.0.113.1", "user@two.test");
    assert_string_equal(spf_result_name(v.result), "permerror");
    spf_verdict_free(&v);
    v = check(&f, "203.0.113.1", "user@bad.test");
    assert_string_equal(spf_result_name(v.result), "permerror");
    assert_non_null(v.problem);
    spf_verdict_free(&v);
    v = check(&f, "203.0.113.1", "user@nowhere.test");
    assert_string_equal(spf_result_name(v.result), "none");
    spf_verdict_free(&v);
    v = check(&f, "203.0.113.1", "user@localhost");               /* not multi-label */
    assert_string_equal(spf_result_name(v.result), "none");
    assert_int_equal(v.queries, 0);
    spf_verdict_free(&v);
}

/* RFC 6591 SPF-DNS: the verdict keeps the checked domain's own record as published (not an
 * include's), also when it does not parse; none when the domain has no or two records. */
static void test_eval_keeps_checked_domain_record(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"top.test", 16, "v=spf1 include:inc.test -all"},
        {"top.test", 16, "unrelated TXT"},
        {"inc.test", 16, "v=spf1 ip4:192.0.2.1 -all"},
        {"bad.test", 16, "v=spf1 ip4:1.2.3.4/99 -all"},
        {"two.test", 16, "v=spf1 -all"},
        {"two.test", 16, "v=spf1 +all"},
    };
    struct fake_dns f = FAKE(rrs);
    struct spf_verdict v = check(&f, "192.0.2.1", "user@top.test");
    assert_string_equal(spf_result_name(v.result), "pass");
    assert_non_null(v.record);
    assert_string_equal(v.record, "v=spf1 include:inc.test -all");
    spf_verdict_free(&v);
    v = check(&f, "192.0.2.1", "user@bad.test");
    assert_string_equal(spf_result_name(v.result), "permerror");
    assert_non_null(v.record);
    assert_string_equal(v.record, "v=spf1 ip4:1.2.3.4/99 -all");
    spf_verdict_free(&v);
    v = check(&f, "192.0.2.1", "user@two.test");
    assert_null(v.record);
    spf_verdict_free(&v);
    v = check(&f, "192.0.2.1", "user@nowhere.test");
    assert_null(v.record);
    spf_verdict_free(&v);
}

/* The lookup limit counts over includes: 11 includes of records that each do one more. */
static void test_eval_lookup_limit_is_global(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"top.test", 16, "v=spf1 include:i1.test include:i2.test include:i3.test "
            "include:i4.test include:i5.test include:i6.test -all"},
        {"i1.test", 16, "v=spf1 a:x.test ?all"}, {"i2.test", 16, "v=spf1 a:x.test ?all"},
        {"i3.test", 16, "v=spf1 a:x.test ?all"}, {"i4.test", 16, "v=spf1 a:x.test ?all"},
        {"i5.test", 16, "v=spf1 a:x.test ?all"}, {"i6.test", 16, "v=spf1 a:x.test ?all"},
        {"x.test", 1, "192.0.2.99"},
    };
    struct fake_dns f = FAKE(rrs);
    struct spf_verdict v = check(&f, "203.0.113.1", "u@top.test");
    assert_string_equal(spf_result_name(v.result), "permerror");
    assert_int_equal(v.dns_terms, 11);
    assert_non_null(strstr(v.problem, "DNS-querying terms"));
    spf_verdict_free(&v);
}

/* A record tree where every name includes another (the 11,111-query attack on libspf2):
 * the whole evaluation stays within the limit. */
static void test_eval_include_tree_is_bounded(void **state)
{
    (void)state;
    struct fake_dns f = {.wildcard_txt = true};
    struct spf_verdict v = check(&f, "203.0.113.1", "u@loop.test");
    assert_string_equal(spf_result_name(v.result), "permerror");
    assert_true(f.queries <= 12);
    assert_true(v.dns_terms == 11);
    spf_verdict_free(&v);
}

static void test_eval_void_limit(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"void.test", 16, "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test -all"},
        {"two-void.test", 16, "v=spf1 a:n1.void.test exists:n2.void.test -all"},
        {"n2.void.test", 16, "not an address"},          /* exists, NODATA for A */
    };
    struct fake_dns f = FAKE(rrs);
    struct spf_verdict v = check(&f, "203.0.113.1", "u@void.test");
    assert_string_equal(spf_result_name(v.result), "permerror");
    assert_int_equal(v.void_lookups, 3);
    spf_verdict_free(&v);
    v = check(&f, "203.0.113.1", "u@two-void.test");
    assert_string_equal(spf_result_name(v.result), "fail");
    assert_int_equal(v.void_lookups, 2);
    spf_verdict_free(&v);
}

static void test_eval_mx_limit(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"manymx.test", 16, "v=spf1 mx -all"},
        {"manymx.test", 15, "1 a.test"}, {"manymx.test", 15, "2 b.test"},
        {"manymx.test", 15, "3 c.test"}, {"manymx.test", 15, "4 d.test"},
        {"manymx.test", 15, "5 e.test"}, {"manymx.test", 15, "6 f.test"},
        {"manymx.test", 15, "7 g.test"}, {"manymx.test", 15, "8 h.test"},
        {"manymx.test", 15, "9 i.test"}, {"manymx.test", 15, "10 j.test"},
        {"manymx.test", 15, "11 k.test"},
    };
    struct fake_dns f = FAKE(rrs);
    struct spf_verdict v = check(&f, "203.0.113.1", "u@manymx.test");
    assert_string_equal(spf_result_name(v.result), "permerror");
    assert_int_equal(f.queries, 2);                  /* TXT, MX: no address lookups */
    spf_verdict_free(&v);
}

static void test_eval_budget(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"slow.test", 16, "v=spf1 a:s1.slow.test a:s1.slow.test a:s1.slow.test -all"},
    };
    struct fake_dns f = FAKE(rrs);
    f.timeout_name = "s1.slow.test";
    f.sleep_ms = 5000;
    struct spf_request req = {.sender = "u@slow.test", .helo = "h.test"};
    assert_true(ipaddr_parse("203.0.113.1", &req.client));
    struct spf_limits lim;
    spf_limits_default(&lim);
    lim.budget_ms = 300;
    struct spf_verdict v;
    uint64_t start = now_ms();
    spf_check(&req, &lim, fake_lookup, &f, &v);
    uint64_t took = now_ms() - start;
    assert_string_equal(spf_result_name(v.result), "temperror");
    assert_true(took < 1000);
    assert_non_null(strstr(v.problem, "the time budget of 300 ms was spent"));
    spf_verdict_free(&v);

    /* nothing left of the message's DNS budget: the log says so, not "a budget of 0 ms" */
    lim.budget_ms = 0;
    spf_check(&req, &lim, fake_lookup, &f, &v);
    assert_string_equal(spf_result_name(v.result), "temperror");
    assert_non_null(strstr(v.problem, "no time was left for DNS"));
    assert_null(strstr(v.problem, "0 ms"));
    spf_verdict_free(&v);
}

static void test_eval_explanation(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"exp.test", 16, "v=spf1 -all exp=why.exp.test"},
        {"why.exp.test", 16, "%{i} may not send for %{d}; ask %{l}"},
        {"inc.test", 16, "v=spf1 include:exp.test -all exp=why.inc.test"},
        {"why.inc.test", 16, "top level says no"},
        {"ctl.test", 16, "v=spf1 -all exp=why.ctl.test"},
        {"why.ctl.test", 16, "a %{S} b"},
    };
    struct fake_dns f = FAKE(rrs);
    struct spf_verdict v = check(&f, "192.0.2.1", "joe@exp.test");
    assert_string_equal(spf_result_name(v.result), "fail");
    assert_true(v.explanation_from_domain);
    assert_string_equal(v.explanation, "192.0.2.1 may not send for exp.test; ask joe");
    spf_verdict_free(&v);
    v = check(&f, "192.0.2.1", "joe@inc.test");
    assert_string_equal(v.explanation, "top level says no");
    spf_verdict_free(&v);
    /* a control character in the sender never reaches the explanation */
    v = check(&f, "192.0.2.1", "jo\re@ctl.test");
    assert_string_equal(spf_result_name(v.result), "fail");
    assert_null(strchr(v.explanation, '\r'));
    spf_verdict_free(&v);
}

static void test_identity(void **state)
{
    (void)state;
    static const struct fake_rr rrs[] = {
        {"helo.test", 16, "v=spf1 ip4:192.0.2.1 -all"},
    };
    struct fake_dns f = FAKE(rrs);
    struct spf_request req = {.sender = "", .helo = "helo.test"};
    assert_true(ipaddr_parse("192.0.2.1", &req.client));
    struct spf_limits lim;
    spf_limits_default(&lim);
    struct spf_verdict v;
    spf_check(&req, &lim, fake_lookup, &f, &v);
    assert_string_equal(v.identity, "postmaster@helo.test");
    assert_string_equal(spf_result_name(v.result), "pass");
    spf_verdict_free(&v);
    req.sender = "user@other.test";
    req.check_helo = true;
    spf_check(&req, &lim, fake_lookup, &f, &v);
    assert_string_equal(v.domain, "helo.test");
    assert_string_equal(spf_result_name(v.result), "pass");
    spf_verdict_free(&v);
    req.helo = "[192.0.2.1]";
    spf_check(&req, &lim, fake_lookup, &f, &v);
    assert_string_equal(spf_result_name(v.result), "none");
    spf_verdict_free(&v);
}

/* spf.query_timeout = 0 means dns.timeout (mailwarden.conf(5)), not what is left of the budget:
 * each query is given dns.timeout, capped by the rest of the budget; a set query_timeout wins. */
struct recorded {
    struct fake_dns *dns;
    uint64_t timeouts[16];
    size_t count;
};

static void recording_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    struct recorded *r = arg;
    if (r->count < 16)
        r->timeouts[r->count++] = timeout_ms;
    fake_lookup(r->dns, name, type, timeout_ms, out);
}

static void query_timeouts(struct config *cfg, struct recorded *r)
{
    static const struct fake_rr rrs[] = {
        {"example.test", 16, "v=spf1 a mx -all"},
        {"example.test", 1, "192.0.2.1"},
    };
    static struct fake_dns f = FAKE(rrs);
    memset(r, 0, sizeof *r);
    r->dns = &f;
    struct spf_request req = {.sender = "u@example.test", .helo = "h.test"};
    assert_true(ipaddr_parse("203.0.113.1", &req.client));
    struct spf_limits lim;
    spf_limits_for(cfg, &lim);
    struct spf_verdict v;
    spf_check(&req, &lim, recording_lookup, r, &v);
    assert_string_equal(spf_result_name(v.result), "fail");
    assert_true(r->count >= 3);
    spf_verdict_free(&v);
}

static void test_query_timeout_zero_is_dns_timeout(void **state)
{
    (void)state;
    struct config *cfg = config_defaults();
    cfg->dns.timeout_ms = 3000;
    cfg->spf->budget_ms = 20000;
    cfg->spf->query_timeout_ms = 0;
    struct recorded r;
    query_timeouts(cfg, &r);
    for (size_t i = 0; i < r.count; i++) {
        if (r.timeouts[i] != 3000)
            fail_msg("query %zu was given %llu ms, not dns.timeout (3000)", i + 1,
                (unsigned long long)r.timeouts[i]);
    }

    cfg->spf->query_timeout_ms = 1500;     /* set: it wins over dns.timeout */
    query_timeouts(cfg, &r);
    for (size_t i = 0; i < r.count; i++)
        assert_int_equal(r.timeouts[i], 1500);

    cfg->spf->query_timeout_ms = 0;        /* the rest of the budget still caps dns.timeout */
    cfg->spf->budget_ms = 1000;
    query_timeouts(cfg, &r);
    for (size_t i = 0; i < r.count; i++)
        assert_true(r.timeouts[i] > 0 && r.timeouts[i] <= 1000);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_valid),
        cmocka_unit_test(test_record_invalid),
        cmocka_unit_test(test_macro_rfc_examples),
        cmocka_unit_test(test_macro_cut_to_253),
        cmocka_unit_test(test_eval_basics),
        cmocka_unit_test(test_eval_keeps_checked_domain_record),
        cmocka_unit_test(test_eval_lookup_limit_is_global),
        cmocka_unit_test(test_eval_include_tree_is_bounded),
        cmocka_unit_test(test_eval_void_limit),
        cmocka_unit_test(test_eval_mx_limit),
        cmocka_unit_test(test_eval_budget),
        cmocka_unit_test(test_query_timeout_zero_is_dns_timeout),
        cmocka_unit_test(test_eval_explanation),
        cmocka_unit_test(test_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
