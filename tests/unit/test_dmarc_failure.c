/* test_dmarc_failure.c - DMARC failure reports (filter/dmarc/dmarc_failure.c): the fo tag's
 * decision, the keyed redaction of local parts (quoted, dotted, several per field, exempt
 * fields, tag=value text; the same address the same token, another key another token, no key
 * material out), the ARF message's structure and fields (RFC 5965, RFC 6591, RFC 9991:
 * Original-Rcpt-To, Original-Envelope-Id, Reporting-MTA, DKIM-Identity, SPF-DNS folded), the
 * store text's round trip and its size bound (cut at a field boundary, marked; recipients
 * give way), the bounded whole-message copy (redacted body, cut marks, a boundary it cannot
 * forge), and refusal of header injection; in a memory store: the hourly rate limit per
 * domain, pending reports written and read back within STORE_VALUE_MAX, and a message copy
 * in parts (read back whole, lost when a part is gone, deleted with the report). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dmarc_failure.h"
#include "dmarc_failure_store.h"
#include "store.h"

/* Two installations' keys (never a real one) */
static const struct dmarc_redact_key key_a = { "key-A-0123456789abcdef", 22 };
static const struct dmarc_redact_key key_b = { "key-B-0123456789abcdef", 22 };

/* The token key_a gives an address, for comparisons */
static const char *token_a(const char *local, const char *domain)
{
    static char token[DMARC_REDACT_TOKEN_SIZE];
    dmarc_redact_token(&key_a, local, strlen(local), domain, strlen(domain), token);
    return token;
}

static void fo_zero_only_when_neither_aligned(void **state)
{
    (void)state;
    assert_true(dmarc_failure_wanted(DMARC_FO_0, false, false, true, true));
    assert_false(dmarc_failure_wanted(DMARC_FO_0, true, false, false, true));
    assert_false(dmarc_failure_wanted(DMARC_FO_0, false, true, true, false));
    /* absent fo is 0 */
    assert_true(dmarc_failure_wanted(0, false, false, false, false));
    assert_false(dmarc_failure_wanted(0, true, false, false, false));
}

static void fo_one_when_either_not_aligned(void **state)
{
    (void)state;
    assert_true(dmarc_failure_wanted(DMARC_FO_1, true, false, false, false));
    assert_true(dmarc_failure_wanted(DMARC_FO_1, false, true, false, false));
    assert_false(dmarc_failure_wanted(DMARC_FO_1, true, true, false, false));
}

static void fo_d_and_s_on_failed_mechanism(void **state)
{
    (void)state;
    assert_true(dmarc_failure_wanted(DMARC_FO_D, true, true, false, true));
    assert_false(dmarc_failure_wanted(DMARC_FO_D, false, false, true, false));
    assert_true(dmarc_failure_wanted(DMARC_FO_S, true, true, true, false));
    assert_false(dmarc_failure_wanted(DMARC_FO_S, false, false, false, true));
    assert_true(dmarc_failure_wanted(DMARC_FO_D | DMARC_FO_S, true, true, true, false));
}

static void redact_replaces_local_parts(void **state)
{
    (void)state;
    char out[256];
    char want[256], first[DMARC_REDACT_TOKEN_SIZE];
    assert_true(dmarc_failure_redact("\"Jane Doe\" <jane.doe+tag@example.com>", &key_a, out,
        sizeof out));
    snprintf(want, sizeof want, "\"Jane Doe\" <%s@example.com>",
        token_a("jane.doe+tag", "example.com"));
    assert_string_equal(out, want);
    assert_true(dmarc_failure_redact("a@x.org, b.c@y.org", &key_a, out, sizeof out));
    strcpy(first, token_a("a", "x.org"));
    snprintf(want, sizeof want, "%s@x.org, %s@y.org", first, token_a("b.c", "y.org"));
    assert_string_equal(out, want);
    assert_true(dmarc_failure_redact("<\"odd \\\" local\"@example.net>", &key_a, out,
        sizeof out));
    snprintf(want, sizeof want, "<%s@example.net>", token_a("\"odd \\\" local\"", "example.net"));
    assert_string_equal(out, want);
    assert_true(dmarc_failure_redact("no address here @ all", &key_a, out, sizeof out));
    assert_string_equal(out, "no address here @ all");
    assert_true(dmarc_failure_redact("x\r\n\tby mx (for <bob@example.org>)", &key_a, out, sizeof out));
    snprintf(want, sizeof want, "x   by mx (for <%s@example.org>)", token_a("bob", "example.org"));
    assert_string_equal(out, want);
}

static void redact_cuts_within_size(void **state)
{
    (void)state;
    char out[12];
    assert_false(dmarc_failure_redact("someone@example.com", &key_a, out, sizeof out));
    assert_true(strlen(out) < sizeof out);
    assert_null(strstr(out, "someone"));
}

static struct dmarc_failure *sample(void)
{
    struct dmarc_failure *f = calloc(1, sizeof *f);
    strcpy(f->domain, "example.com");
    strcpy(f->policy_domain, "example.com");
    strcpy(f->source_ip, "192.0.2.7");
    dmarc_failure_redact("bounce-alice@mail.example.com", &key_a, f->mail_from, sizeof f->mail_from);
    f->arrival = 1700000000;
    strcpy(f->auth_results, "mx.example.org; dmarc=fail header.from=example.com");
    f->dkim_aligned = false;
    f->spf_aligned = false;
    f->delivery = DMARC_DELIVERY_REJECT;
    strcpy(f->dkim_domain, "other.example");
    strcpy(f->dkim_selector, "sel1");
    strcpy(f->ruf[0], "mailto:ruf@example.com");
    f->ruf_count = 1;
    f->redacted = true;
    dmarc_failure_add_header(f, "Return-Path", "<alice@mail.example.com>", &key_a);
    dmarc_failure_add_header(f, "From", "Alice <alice@example.com>", &key_a);
    dmarc_failure_add_header(f, "To", "bob@example.org,\r\n\tcarol@example.org", &key_a);
    dmarc_failure_add_header(f, "Message-ID", "<id123@example.com>", &key_a);
    dmarc_failure_add_header(f, "Subject", "hello", &key_a);
    return f;
}

static void header_copy_is_redacted(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    assert_null(strstr(f->headers, "alice@"));
    assert_null(strstr(f->headers, "bob@"));
    assert_null(strstr(f->headers, "carol@"));
    char want[300], bob[DMARC_REDACT_TOKEN_SIZE];
    snprintf(want, sizeof want, "From: Alice <%s@example.com>\n", token_a("alice", "example.com"));
    assert_non_null(strstr(f->headers, want));
    strcpy(bob, token_a("bob", "example.org"));
    snprintf(want, sizeof want, "To: %s@example.org,   %s@example.org\n", bob,
        token_a("carol", "example.org"));
    assert_non_null(strstr(f->headers, want));
    snprintf(want, sizeof want, "Return-Path: <%s@mail.example.com>\n",
        token_a("alice", "mail.example.com"));
    assert_non_null(strstr(f->headers, want));
    /* Message-ID names a message, not a person */
    assert_non_null(strstr(f->headers, "Message-ID: <id123@example.com>\n"));
    snprintf(want, sizeof want, "%s@mail.example.com", token_a("bounce-alice", "mail.example.com"));
    assert_string_equal(f->mail_from, want);
    free(f);
}

static void header_copy_unredacted_when_off(void **state)
{
    (void)state;
    struct dmarc_failure *f = calloc(1, sizeof *f);
    dmarc_failure_add_header(f, "From", "<alice@example.com>", NULL);
    assert_string_equal(f->headers, "From: <alice@example.com>\n");
    free(f);
}

static void header_name_injection_refused(void **state)
{
    (void)state;
    struct dmarc_failure *f = calloc(1, sizeof *f);
    dmarc_failure_add_header(f, "X-Bad\nInjected", "v", &key_a);
    dmarc_failure_add_header(f, "X-Ok", "line\r\nInjected: yes", &key_a);
    assert_string_equal(f->headers, "X-Ok: line  Injected: yes\n");
    free(f);
}

static void arf_message_structure_and_fields(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    struct dmarc_failure_mail m = { "dmarc@report.example.org", "ruf@example.com",
        "report.example.org", 1700000100, "fail.1@report.example.org" };
    struct textbuf out;
    textbuf_init(&out);
    char why[128];
    assert_true(dmarc_failure_message(f, &m, &out, why, sizeof why));
    const char *t = out.data;
    assert_non_null(strstr(t, "Content-Type: multipart/report; report-type=feedback-report;"));
    assert_non_null(strstr(t, "Subject: DMARC Failure Report for example.com from 192.0.2.7\n"));
    assert_non_null(strstr(t, "\nContent-Type: message/feedback-report\n\nFeedback-Type: "
        "auth-failure\nVersion: 1\n"));
    assert_non_null(strstr(t, "\nAuth-Failure: dmarc\n"));
    char want[300];
    snprintf(want, sizeof want, "\nOriginal-Mail-From: <%s@mail.example.com>\n",
        token_a("bounce-alice", "mail.example.com"));
    assert_non_null(strstr(t, want));
    assert_non_null(strstr(t, "\nArrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n"));
    assert_non_null(strstr(t, "\nSource-IP: 192.0.2.7\n"));
    assert_non_null(strstr(t, "\nReported-Domain: example.com\n"));
    assert_non_null(strstr(t, "\nAuthentication-Results: mx.example.org; dmarc=fail"));
    assert_non_null(strstr(t, "\nIdentity-Alignment: none\n"));
    assert_non_null(strstr(t, "\nDelivery-Result: reject\n"));
    assert_non_null(strstr(t, "\nDKIM-Domain: other.example\nDKIM-Selector: sel1\n"));
    assert_non_null(strstr(t, "\nContent-Type: text/rfc822-headers\n\nReturn-Path: "));
    assert_null(strstr(t, "alice@"));
    /* the parts close */
    const char *b = strstr(t, "boundary=\"");
    assert_non_null(b);
    char boundary[80], close[90];
    sscanf(b + 10, "%79[^\"]", boundary);
    snprintf(close, sizeof close, "\n--%s--\n", boundary);
    assert_non_null(strstr(t, close));
    textbuf_free(&out);
    free(f);
}

static void arf_refuses_bad_destination(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    struct dmarc_failure_mail m = { "dmarc@report.example.org", "x@example.com\nBcc: y@z",
        "report.example.org", 1700000100, "fail.1@report.example.org" };
    struct textbuf out;
    textbuf_init(&out);
    char why[128];
    assert_false(dmarc_failure_message(f, &m, &out, why, sizeof why));
    textbuf_free(&out);
    free(f);
}

static void encode_decode_round_trip(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    char text[4096];
    size_t len;
    assert_true(dmarc_failure_encode(f, text, sizeof text, &len));
    struct dmarc_failure *g = calloc(1, sizeof *g);
    assert_true(dmarc_failure_decode(text, len, g));
    assert_string_equal(g->domain, f->domain);
    assert_string_equal(g->policy_domain, "example.com");
    assert_string_equal(g->source_ip, f->source_ip);
    assert_string_equal(g->mail_from, f->mail_from);
    assert_int_equal(g->arrival, f->arrival);
    assert_string_equal(g->auth_results, f->auth_results);
    assert_int_equal(g->delivery, DMARC_DELIVERY_REJECT);
    assert_string_equal(g->ruf[0], "mailto:ruf@example.com");
    assert_int_equal(g->ruf_count, 1);
    assert_string_equal(g->headers, f->headers);
    assert_false(g->headers_cut);
    assert_true(g->redacted);
    /* damaged text is refused */
    assert_false(dmarc_failure_decode(text + 2, len - 2, g));
    assert_false(dmarc_failure_decode("v mwfail1\ndomain x.org\n", 23, g));
    free(g);
    free(f);
}

static void encode_cuts_headers_to_size_bound(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    char value[900];
    memset(value, 'x', sizeof value - 1);
    value[sizeof value - 1] = 0;
    for (int i = 0; i < 12; i++)
        dmarc_failure_add_header(f, "X-Filler", value, &key_a);
    assert_true(f->headers_len > 4096);
    char text[4096];
    size_t len;
    assert_true(dmarc_failure_encode(f, text, sizeof text, &len));
    assert_true(len < sizeof text);
    struct dmarc_failure *g = calloc(1, sizeof *g);
    assert_true(dmarc_failure_decode(text, len, g));
    assert_true(g->headers_cut);
    /* cut at a field boundary: the copy ends with a whole line */
    assert_true(g->headers_len > 0);
    assert_int_equal(g->headers[g->headers_len - 1], '\n');
    assert_true(g->headers_len < f->headers_len);
    free(g);
    free(f);
}

static void header_copy_bounded_in_memory(void **state)
{
    (void)state;
    struct dmarc_failure *f = calloc(1, sizeof *f);
    char value[900];
    memset(value, 'y', sizeof value - 1);
    value[sizeof value - 1] = 0;
    for (int i = 0; i < 40; i++)
        dmarc_failure_add_header(f, "X-Filler", value, &key_a);
    assert_true(f->headers_cut);
    assert_true(f->headers_len < sizeof f->headers);
    assert_int_equal(strlen(f->headers), f->headers_len);
    free(f);
}

static void alignment_of_domains_strict_and_relaxed(void **state)
{
    (void)state;
    assert_true(dmarc_failure_domain_aligned("Example.COM", "example.com", "example.com", true));
    assert_false(dmarc_failure_domain_aligned("mail.example.com", "example.com", "example.com", true));
    assert_true(dmarc_failure_domain_aligned("mail.example.com", "example.com", "example.com", false));
    assert_true(dmarc_failure_domain_aligned("a.example.com", "b.example.com", "example.com", false));
    assert_false(dmarc_failure_domain_aligned("badexample.com", "example.com", "example.com", false));
    assert_false(dmarc_failure_domain_aligned("example.net", "example.com", "example.com", false));
    assert_false(dmarc_failure_domain_aligned("mail.example.com", "example.com", "", false));
    assert_false(dmarc_failure_domain_aligned("", "example.com", "example.com", false));
}

/* RFC 9991: Identity-Alignment lists the mechanisms that failed for an aligned identity */
static void identity_alignment_names_failed_aligned_mechanisms(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    struct dmarc_failure_mail m = { "dmarc@report.example.org", "ruf@example.com",
        "report.example.org", 1700000100, "fail.1@report.example.org" };
    char why[128];
    struct { bool spf, dkim; const char *want; } cases[] = {
        { false, false, "\nIdentity-Alignment: none\n" },
        { false, true, "\nIdentity-Alignment: dkim\n" },
        { true, false, "\nIdentity-Alignment: spf\n" },
        { true, true, "\nIdentity-Alignment: dkim, spf\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->spf_failed_aligned = cases[i].spf;
        f->dkim_failed_aligned = cases[i].dkim;
        /* the aligned passes must not decide it */
        f->spf_aligned = !cases[i].spf;
        f->dkim_aligned = !cases[i].dkim;
        struct textbuf out;
        textbuf_init(&out);
        assert_true(dmarc_failure_message(f, &m, &out, why, sizeof why));
        if (strstr(out.data, cases[i].want) == NULL)
            fail_msg("case %zu: no %s", i, cases[i].want);
        textbuf_free(&out);
        /* and the store text keeps both */
        char text[4096];
        size_t len;
        struct dmarc_failure *g = calloc(1, sizeof *g);
        assert_true(dmarc_failure_encode(f, text, sizeof text, &len));
        assert_true(dmarc_failure_decode(text, len, g));
        assert_int_equal(g->spf_failed_aligned, cases[i].spf);
        assert_int_equal(g->dkim_failed_aligned, cases[i].dkim);
        free(g);
    }
    free(f);
}

static char *arf_of(const struct dmarc_failure *f)
{
    struct dmarc_failure_mail m = { "dmarc@report.example.org", "ruf@example.com",
        "report.example.org", 1700000100, "fail.1@report.example.org" };
    struct textbuf out;
    textbuf_init(&out);
    char why[128];
    assert_true(dmarc_failure_message(f, &m, &out, why, sizeof why));
    return out.data;
}

/* RFC 5965 Original-Rcpt-To: one field per envelope recipient, local parts redacted */
static void arf_has_original_rcpt_to_redacted(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    dmarc_failure_add_rcpt(f, "bob@example.org", &key_a);
    dmarc_failure_add_rcpt(f, "carol.x@other.example", &key_a);
    char *t = arf_of(f);
    char want[300], bob[DMARC_REDACT_TOKEN_SIZE];
    strcpy(bob, token_a("bob", "example.org"));
    snprintf(want, sizeof want, "\nOriginal-Rcpt-To: <%s@example.org>\nOriginal-Rcpt-To: "
        "<%s@other.example>\n", bob, token_a("carol.x", "other.example"));
    assert_non_null(strstr(t, want));
    assert_null(strstr(t, "bob@"));
    assert_null(strstr(t, "carol"));
    free(t);
    /* unredacted when redaction is off */
    struct dmarc_failure *g = sample();
    dmarc_failure_add_rcpt(g, "bob@example.org", NULL);
    t = arf_of(g);
    assert_non_null(strstr(t, "\nOriginal-Rcpt-To: <bob@example.org>\n"));
    free(t);
    free(g);
    free(f);
}

/* More recipients than DMARC_FAILURE_MAX_RCPT: the rest are counted and the report says so */
static void rcpt_over_the_bound_counted(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    for (int i = 0; i < DMARC_FAILURE_MAX_RCPT + 3; i++)
        dmarc_failure_add_rcpt(f, "someone@example.org", &key_a);
    assert_int_equal(f->rcpt_count, DMARC_FAILURE_MAX_RCPT);
    assert_int_equal(f->rcpt_left_out, 3);
    char *t = arf_of(f);
    assert_non_null(strstr(t, "3 more envelope recipient(s) are left out"));
    free(t);
    free(f);
}

/* RFC 6591 DKIM-Identity (RFC 9991: required with DKIM-Domain and DKIM-Selector) */
static void arf_has_dkim_identity(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    strcpy(f->dkim_identity, "@other.example");
    char *t = arf_of(f);
    assert_non_null(strstr(t, "\nDKIM-Domain: other.example\nDKIM-Identity: @other.example\n"
        "DKIM-Selector: sel1\n"));
    free(t);
    free(f);
}

/* RFC 6591 SPF-DNS: "txt : domain : record", folded at spaces under 78 columns */
static void arf_has_spf_dns_folded(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    strcpy(f->spf_domain, "mail.example.com");
    strcpy(f->spf_record, "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip6:2001:db8::/32 "
        "include:_spf.example.net include:_spf.example.org ~all");
    char *t = arf_of(f);
    const char *field = strstr(t, "\nSPF-DNS: txt : mail.example.com : v=spf1 ip4:192.0.2.0/24");
    assert_non_null(field);
    /* unfolded, it is the record; no line passes 78 */
    char unfolded[1024];
    size_t u = 0;
    const char *c = field + 1;
    while (*c != 0 && u + 1 < sizeof unfolded) {
        if (c[0] == '\n' && c[1] != ' ')
            break;
        if (c[0] == '\n') {
            c++;
            continue;
        }
        unfolded[u++] = *c++;
    }
    unfolded[u] = 0;
    assert_string_equal(unfolded, "SPF-DNS: txt : mail.example.com : v=spf1 ip4:192.0.2.0/24 "
        "ip4:198.51.100.0/24 ip6:2001:db8::/32 include:_spf.example.net "
        "include:_spf.example.org ~all");
    for (const char *line = field + 1; line < c; ) {
        const char *nl = strchr(line, '\n');
        assert_true(nl - line <= 78);
        line = nl + 1;
    }
    free(t);
    /* none without a record */
    f->spf_record[0] = 0;
    t = arf_of(f);
    assert_null(strstr(t, "SPF-DNS"));
    free(t);
    free(f);
}

/* RFC 5965 Original-Envelope-Id (the queue id) and Reporting-MTA */
static void arf_has_envelope_id_and_reporting_mta(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    strcpy(f->envelope_id, "4ABCD12345");
    char *t = arf_of(f);
    assert_non_null(strstr(t, "\nOriginal-Envelope-Id: 4ABCD12345\n"));
    assert_non_null(strstr(t, "\nReporting-MTA: dns; report.example.org\n"));
    free(t);
    free(f);
}

/* The new fields survive the store; recipients and SPF-DNS give way to the size bound */
static void new_fields_round_trip_and_give_way(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    strcpy(f->dkim_identity, "redacted@other.example");
    strcpy(f->spf_domain, "mail.example.com");
    strcpy(f->spf_record, "v=spf1 -all");
    strcpy(f->envelope_id, "Q123");
    dmarc_failure_add_rcpt(f, "bob@example.org", &key_a);
    dmarc_failure_add_rcpt(f, "eve@example.net", &key_a);
    char text[4096];
    size_t len;
    assert_true(dmarc_failure_encode(f, text, sizeof text, &len));
    struct dmarc_failure *g = calloc(1, sizeof *g);
    assert_true(dmarc_failure_decode(text, len, g));
    assert_string_equal(g->dkim_identity, "redacted@other.example");
    assert_string_equal(g->spf_domain, "mail.example.com");
    assert_string_equal(g->spf_record, "v=spf1 -all");
    assert_string_equal(g->envelope_id, "Q123");
    assert_int_equal(g->rcpt_count, 2);
    char want[300];
    snprintf(want, sizeof want, "%s@example.net", token_a("eve", "example.net"));
    assert_string_equal(g->rcpt[1], want);
    assert_int_equal(g->rcpt_left_out, 0);
    /* smaller bounds: whatever is kept decodes, with the fixed fields whole and every
     * recipient either kept or counted as left out; some bound keeps the report but not all
     * recipients */
    char small[1200];
    bool some_left_out = false;
    for (size_t size = sizeof small; size > 100; size--) {
        if (!dmarc_failure_encode(f, small, size, &len))
            continue;
        assert_true(len < size);
        assert_true(dmarc_failure_decode(small, len, g));
        assert_string_equal(g->domain, "example.com");
        assert_string_equal(g->dkim_identity, "redacted@other.example");
        assert_int_equal(g->rcpt_count + g->rcpt_left_out, 2);
        if (g->rcpt_left_out > 0)
            some_left_out = true;
    }
    assert_true(some_left_out);
    free(g);
    free(f);
}

/* RFC 6590 as RFC 9991 suggests it: the same address always gives the same token (any case),
 * another address or another installation's key another one */
static void redact_token_same_address_same_token(void **state)
{
    (void)state;
    char one[256], two[256], other[256], keyed_b[256];
    assert_true(dmarc_failure_redact("From: Alice <alice@example.com>", &key_a, one, sizeof one));
    assert_true(dmarc_failure_redact("To: ALICE@Example.COM", &key_a, two, sizeof two));
    const char *t1 = strchr(one, '<') + 1, *t2 = strchr(two, ' ') + 1;
    assert_memory_equal(t1, t2, DMARC_REDACT_TOKEN_SIZE - 1);
    assert_memory_equal(t1, DMARC_REDACT_PREFIX, strlen(DMARC_REDACT_PREFIX));
    /* 16 base32 characters, then the '@' */
    for (size_t i = strlen(DMARC_REDACT_PREFIX); i < DMARC_REDACT_TOKEN_SIZE - 1; i++)
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", t1[i]));
    assert_int_equal(t1[DMARC_REDACT_TOKEN_SIZE - 1], '@');
    /* another address: another token, also for the same local part in another domain */
    assert_true(dmarc_failure_redact("<bob@example.com>", &key_a, other, sizeof other));
    assert_memory_not_equal(t1, other + 1, DMARC_REDACT_TOKEN_SIZE - 1);
    assert_true(dmarc_failure_redact("<alice@example.net>", &key_a, other, sizeof other));
    assert_memory_not_equal(t1, other + 1, DMARC_REDACT_TOKEN_SIZE - 1);
    /* a sentence's full stop is not part of the domain the token is made of */
    char sentence[256], want[256];
    assert_true(dmarc_failure_redact("write to alice@example.com.", &key_a, sentence,
        sizeof sentence));
    snprintf(want, sizeof want, "write to %s@example.com.", token_a("alice", "example.com"));
    assert_string_equal(sentence, want);
    /* tag=value text keeps its tags, and the token is the address's own */
    assert_true(dmarc_failure_redact("d=bad.test; i=alice@example.com; smtp.mailfrom=alice@"
        "example.com", &key_a, sentence, sizeof sentence));
    char alice[DMARC_REDACT_TOKEN_SIZE];
    strcpy(alice, token_a("alice", "example.com"));
    snprintf(want, sizeof want, "d=bad.test; i=%s@example.com; smtp.mailfrom=%s@example.com",
        alice, alice);
    assert_string_equal(sentence, want);
    /* another key: another token for the same address */
    assert_true(dmarc_failure_redact("From: Alice <alice@example.com>", &key_b, keyed_b,
        sizeof keyed_b));
    assert_memory_not_equal(t1, strchr(keyed_b, '<') + 1, DMARC_REDACT_TOKEN_SIZE - 1);
}

/* Neither the key nor the local part is in what redaction writes */
static void redact_output_holds_no_key_material(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    dmarc_failure_add_rcpt(f, "bob@example.org", &key_a);
    char *t = arf_of(f);
    assert_null(strstr(t, "key-A"));
    assert_null(strstr(t, "0123456789abcdef"));
    assert_null(strstr(t, "alice"));
    assert_null(strstr(t, "bob@"));
    free(t);
    free(f);
}

/* failure_include = "message": the header copy, an empty line, the body with LF line ends,
 * addresses in it redacted; the header copy moves into it */
static void message_copy_has_header_and_redacted_body(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    const char *body = "Hello Bob,\r\nwrite to carol@example.org\tor me.\r\n\r\nBye\r\n";
    dmarc_failure_set_message(f, body, strlen(body), false, 65536, &key_a);
    assert_non_null(f->message);
    assert_false(f->message_cut);
    assert_int_equal(f->headers_len, 0);
    assert_int_equal(strlen(f->message), f->message_len);
    char want[300];
    /* (redaction makes the tab a space, as every control character) */
    snprintf(want, sizeof want, "\nSubject: hello\n\nHello Bob,\nwrite to %s@example.org or "
        "me.\n\nBye\n", token_a("carol", "example.org"));
    if (strstr(f->message, want) == NULL)
        fail_msg("message is: %s", f->message);
    assert_non_null(strstr(f->message, "Return-Path: <"));
    assert_null(strstr(f->message, "carol@"));
    assert_null(strchr(f->message, '\r'));
    dmarc_failure_free_message(f);
    assert_null(f->message);
    free(f);
}

/* The copy is bounded: cut at a line boundary, long lines cut, and both marked */
static void message_copy_bounded_and_marked(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    size_t big = 200000;
    char *body = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        body[i] = i % 70 == 69 ? '\n' : 'a' + (char)(i % 26);
    body[big] = 0;
    dmarc_failure_set_message(f, body, big, false, 4096, NULL);
    assert_true(f->message_cut);
    assert_true(f->message_len <= 4096);
    assert_int_equal(f->message[f->message_len - 1], '\n');
    char *t = arf_of(f);
    assert_non_null(strstr(t, "The copy of the message was cut to a size bound"));
    free(t);
    /* a line over 998 characters is cut */
    struct dmarc_failure *g = sample();
    memset(body, 'x', 2000);
    body[2000] = '\n';
    dmarc_failure_set_message(g, body, 2001, false, 65536, NULL);
    assert_true(g->message_cut);
    const char *blank = strstr(g->message, "\n\n");
    assert_non_null(blank);
    assert_int_equal(strlen(blank + 2), DMARC_FAILURE_LINE_MAX + 1);
    /* a body the daemon kept only the start of is marked too */
    struct dmarc_failure *h = sample();
    dmarc_failure_set_message(h, "short\n", 6, true, 65536, NULL);
    assert_true(h->message_cut);
    dmarc_failure_free_message(f);
    dmarc_failure_free_message(g);
    dmarc_failure_free_message(h);
    free(body);
    free(f);
    free(g);
    free(h);
}

/* The ARF carries the message as message/rfc822 (8bit when it has to), not the header part */
static void arf_carries_whole_message(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    const char *body = "Gr\xc3\xbc\xc3\x9f Bob\n";
    dmarc_failure_set_message(f, body, strlen(body), false, 65536, &key_a);
    char *t = arf_of(f);
    assert_non_null(strstr(t, "\nContent-Type: message/rfc822\nContent-Transfer-Encoding: "
        "8bit\n\nReturn-Path: <"));
    assert_non_null(strstr(t, "\n\nGr\xc3\xbc\xc3\x9f Bob\n"));
    assert_null(strstr(t, "text/rfc822-headers"));
    free(t);
    dmarc_failure_free_message(f);
    free(f);
}

/* A body holding the boundary the report would use does not break the report's parts */
static void message_cannot_forge_the_boundary(void **state)
{
    (void)state;
    struct dmarc_failure *f = sample();
    char body[200];
    /* the first boundary dmarc_failure_message tries for this arrival and date */
    snprintf(body, sizeof body, "--=_mailwarden_arf_%016llx\nContent-Type: text/plain\n\nforged\n",
        (unsigned long long)((uint64_t)f->arrival ^ (uint64_t)1700000100));
    dmarc_failure_set_message(f, body, strlen(body), false, 65536, NULL);
    char *t = arf_of(f);
    const char *b = strstr(t, "boundary=\"");
    char boundary[80], line[100];
    sscanf(b + 10, "%79[^\"]", boundary);
    assert_null(strstr(body, boundary));
    /* three parts and the close, nothing else */
    snprintf(line, sizeof line, "\n--%s", boundary);
    int count = 0;
    for (const char *c = strstr(t, line); c != NULL; c = strstr(c + 1, line))
        count++;
    assert_int_equal(count, 4);
    free(t);
    dmarc_failure_free_message(f);
    free(f);
}

static struct store *memory_store(void)
{
    return store_wrap(&store_memory_ops, store_memory_new(100000), "memory", STORE_FAIL_TEMPFAIL);
}

static void rate_limit_per_domain_and_hour(void **state)
{
    (void)state;
    struct store *s = memory_store();
    bool allowed;
    int64_t now = 1700000000;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dmarc_failure_store_count(s, "example.com", now, 3, &allowed), STORE_OK);
        assert_true(allowed);
    }
    assert_int_equal(dmarc_failure_store_count(s, "example.com", now + 10, 3, &allowed), STORE_OK);
    assert_false(allowed);
    /* another domain has its own count; the next hour starts again */
    assert_int_equal(dmarc_failure_store_count(s, "example.net", now, 3, &allowed), STORE_OK);
    assert_true(allowed);
    assert_int_equal(dmarc_failure_store_count(s, "example.com", now + 3600, 3, &allowed), STORE_OK);
    assert_true(allowed);
    /* a domain a key cannot carry is refused, not counted */
    assert_int_equal(dmarc_failure_store_count(s, "bad:domain", now, 3, &allowed), STORE_INVALID);
    assert_false(allowed);
    store_free(s);
}

struct seen {
    int reports, damaged;
    bool cut;
    char domain[256];
};

static void count_report(void *arg, const char *key, const struct dmarc_failure *f)
{
    struct seen *seen = arg;
    (void)key;
    if (f == NULL) {
        seen->damaged++;
        return;
    }
    seen->reports++;
    seen->cut = f->headers_cut;
    strcpy(seen->domain, f->domain);
}

static void pending_report_fits_store_value(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct dmarc_failure *f = sample();
    char value[900];
    memset(value, 'z', sizeof value - 1);
    value[sizeof value - 1] = 0;
    for (int i = 0; i < 8; i++)
        dmarc_failure_add_header(f, "X-Filler", value, &key_a);
    assert_int_equal(dmarc_failure_store_add(s, f, 1700000000, "Q1", 3600000), STORE_OK);
    assert_int_equal(store_value_set(s, "dmarc:f:example.com:1:junk", "junk", 4, 0, NULL),
        STORE_OK);
    struct seen seen = { 0, 0, false, "" };
    assert_int_equal(dmarc_failure_store_each(s, count_report, &seen), STORE_OK);
    assert_int_equal(seen.reports, 1);
    assert_int_equal(seen.damaged, 1);
    assert_true(seen.cut);
    assert_string_equal(seen.domain, "example.com");
    free(f);
    store_free(s);
}

struct got_message {
    int reports;
    bool lost;
    char *message;
    size_t parts;
    char key[256];
};

static void keep_message(void *arg, const char *key, const struct dmarc_failure *f)
{
    struct got_message *g = arg;
    if (f == NULL)
        return;
    g->reports++;
    g->lost = f->message_lost;
    g->parts = f->message_parts;
    free(g->message);
    g->message = f->message != NULL ? strdup(f->message) : NULL;
    snprintf(g->key, sizeof g->key, "%s", key);
}

/* The message goes through the store in parts of STORE_VALUE_MAX and comes back whole; the
 * report's deletion takes its parts; a lost part makes message_lost, never a wrong copy */
static void message_through_store_in_parts(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct dmarc_failure *f = sample();
    size_t big = 10000;
    char *body = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        body[i] = i % 60 == 59 ? '\n' : '0' + (char)(i % 10);
    body[big] = 0;
    dmarc_failure_set_message(f, body, big, false, 65536, NULL);
    assert_int_equal(dmarc_failure_store_add(s, f, 1700000000, "Q1", 3600000), STORE_OK);
    struct got_message got = { 0, false, NULL, 0, "" };
    assert_int_equal(dmarc_failure_store_each(s, keep_message, &got), STORE_OK);
    assert_int_equal(got.reports, 1);
    assert_false(got.lost);
    assert_int_equal(got.parts, (f->message_len + STORE_VALUE_MAX - 1) / STORE_VALUE_MAX);
    assert_true(got.parts >= 3);
    assert_non_null(got.message);
    assert_string_equal(got.message, f->message);
    /* one part gone: the report still comes, without its copy */
    char part[600];
    snprintf(part, sizeof part, "dmarc:fm:%s:1", got.key + strlen("dmarc:f:"));
    assert_int_equal(store_delete(s, part, NULL), STORE_OK);
    assert_int_equal(dmarc_failure_store_each(s, keep_message, &got), STORE_OK);
    assert_true(got.lost);
    assert_null(got.message);
    /* deletion takes the report and its parts */
    assert_int_equal(dmarc_failure_store_delete(s, got.key, got.parts), STORE_OK);
    struct store_item *item = malloc(sizeof *item);
    bool found = true;
    for (size_t n = 0; n < got.parts; n++) {
        snprintf(part, sizeof part, "dmarc:fm:%s:%zu", got.key + strlen("dmarc:f:"), n);
        assert_int_equal(store_get(s, part, item, &found, NULL), STORE_OK);
        assert_false(found);
    }
    assert_int_equal(store_get(s, got.key, item, &found, NULL), STORE_OK);
    assert_false(found);
    free(item);
    free(got.message);
    free(body);
    dmarc_failure_free_message(f);
    free(f);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fo_zero_only_when_neither_aligned),
        cmocka_unit_test(fo_one_when_either_not_aligned),
        cmocka_unit_test(fo_d_and_s_on_failed_mechanism),
        cmocka_unit_test(redact_replaces_local_parts),
        cmocka_unit_test(redact_cuts_within_size),
        cmocka_unit_test(header_copy_is_redacted),
        cmocka_unit_test(header_copy_unredacted_when_off),
        cmocka_unit_test(header_name_injection_refused),
        cmocka_unit_test(arf_message_structure_and_fields),
        cmocka_unit_test(arf_refuses_bad_destination),
        cmocka_unit_test(encode_decode_round_trip),
        cmocka_unit_test(encode_cuts_headers_to_size_bound),
        cmocka_unit_test(header_copy_bounded_in_memory),
        cmocka_unit_test(alignment_of_domains_strict_and_relaxed),
        cmocka_unit_test(identity_alignment_names_failed_aligned_mechanisms),
        cmocka_unit_test(arf_has_original_rcpt_to_redacted),
        cmocka_unit_test(rcpt_over_the_bound_counted),
        cmocka_unit_test(arf_has_dkim_identity),
        cmocka_unit_test(arf_has_spf_dns_folded),
        cmocka_unit_test(arf_has_envelope_id_and_reporting_mta),
        cmocka_unit_test(new_fields_round_trip_and_give_way),
        cmocka_unit_test(redact_token_same_address_same_token),
        cmocka_unit_test(redact_output_holds_no_key_material),
        cmocka_unit_test(message_copy_has_header_and_redacted_body),
        cmocka_unit_test(message_copy_bounded_and_marked),
        cmocka_unit_test(arf_carries_whole_message),
        cmocka_unit_test(message_cannot_forge_the_boundary),
        cmocka_unit_test(message_through_store_in_parts),
        cmocka_unit_test(rate_limit_per_domain_and_hour),
        cmocka_unit_test(pending_report_fits_store_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
