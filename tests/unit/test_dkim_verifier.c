/* test_dkim_verifier.c - our DKIM signer and verifier against each other and against the
 * outcomes RFC 6376/8463/8301 give, with a fake key lookup (no DNS): RSA and ed25519, every
 * canonicalization, values folded with bare LF as Postfix hands them; a changed body or
 * signed field fails; an added From fails through oversigning; l= reports a partial body;
 * a missing key is permerror, a failed lookup temperror (never a pass); a revoked key, a key
 * of the wrong type, a small RSA key, rsa-sha1, x= passed, t= in the future, i= outside d=,
 * h= without From, a tag twice and a missing tag each get their own outcome; at most
 * max_signatures are read. The independent checks (python3-dkim, the RFC examples, the
 * Mail::DKIM corpus) are in tests/dkim/test-dkim.py. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "arc_crypto.h"
#include "dkim_signer.h"
#include "dkim_verifier.h"
#include "util.h"

#define NOW 1700000000

static EVP_PKEY *rsa_key, *small_rsa_key, *ed_key;

static EVP_PKEY *make_key(int type, int bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    if (bits > 0)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static char *public_text(EVP_PKEY *key)
{
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
        unsigned char raw[32];
        size_t len = sizeof raw;
        assert_int_equal(EVP_PKEY_get_raw_public_key(key, raw, &len), 1);
        return arc_base64_encode(raw, len);
    }
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key, &der);
    char *text = arc_base64_encode(der, (size_t)len);
    OPENSSL_free(der);
    return text;
}

static int setup(void **state)
{
    (void)state;
    rsa_key = make_key(EVP_PKEY_RSA, 2048);
    small_rsa_key = make_key(EVP_PKEY_RSA, 1024);
    ed_key = make_key(EVP_PKEY_ED25519, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(small_rsa_key);
    EVP_PKEY_free(ed_key);
    return 0;
}

/* The fake DNS: one TXT record per name, or a status. */
struct fake_dns {
    const char *name;
    char *record;              /* NULL: the status below */
    enum dns_status status;
    int lookups;
};

static const struct dns_answer *fake_lookup(void *arg, const char *name, struct dns_answer *out)
{
    struct fake_dns *dns = arg;
    dns->lookups++;
    memset(out, 0, sizeof *out);
    if (strcmp(name, dns->name) != 0) {
        out->status = DNS_NXDOMAIN;
        return out;
    }
    if (dns->record == NULL) {
        out->status = dns->status;
        return out;
    }
    out->status = DNS_OK;
    out->count = 1;
    out->data = xcalloc(2, sizeof *out->data);
    out->data[0] = xstrdup(dns->record);
    return out;
}

/* A message: fields (the value as Postfix hands it: folded with LF) and a body (CRLF). */
static struct header_field fields[16];
static size_t field_count;
static const char *body = "Hello,\r\n\r\nthis is  the body.  \r\n\r\n\r\n";

static void add_field(const char *name, const char *value)
{
    fields[field_count].name = xstrdup(name);
    fields[field_count].value = xstrdup(value);
    fields[field_count].raw_value = xasprintf(" %s", value);
    field_count++;
}

static void reset_message(void)
{
    for (size_t i = 0; i < field_count; i++) {
        free(fields[i].name);
        free(fields[i].value);
        free(fields[i].raw_value);
    }
    field_count = 0;
    add_field("From", "Alice <alice@example.com>");
    add_field("To", "bob@example.net");
    add_field("Subject", "a subject that is long enough to be folded by the sender\n\tat this point");
    add_field("Date", "Tue, 14 Nov 2023 22:13:20 +0000");
    add_field("Message-ID", "<1@example.com>");
}

/* Signs the message and puts the signature on top, as the MTA inserts it. */
static void sign(EVP_PKEY *key, enum arc_canon_kind hc, enum arc_canon_kind bc, uint64_t expire)
{
    struct dkim_sign_params p = { key, "example.com", "sel", hc, bc, "from:to:subject:date",
        "from:subject", NOW, expire };
    struct dkim_signer *s = dkim_signer_new(&p);
    dkim_signer_body(s, (const unsigned char *)body, strlen(body));
    char why[200];
    char *value = dkim_signer_finish(s, fields, field_count, true, why, sizeof why);
    assert_non_null(value);
    dkim_signer_free(s);
    memmove(&fields[1], &fields[0], field_count * sizeof fields[0]);
    field_count++;
    fields[0].name = xstrdup("DKIM-Signature");
    fields[0].raw_value = xasprintf(" %s", value);
    fields[0].value = value;
}

static struct dkim_verify_params params(void)
{
    struct dkim_verify_params p = { 8, 1024, false, NOW + 10, 300 };
    return p;
}

/* Verifies with dns; the outcome of signature i. */
static enum dkim_outcome verify_with(struct fake_dns *dns, const char *text, size_t i,
    struct dkim_verify_params p)
{
    struct dkim_verifier *v = dkim_verifier_new(fields, field_count, &p);
    dkim_verifier_body(v, (const unsigned char *)text, strlen(text));
    dkim_verifier_finish(v, fields, field_count, fake_lookup, dns);
    assert_true(i < dkim_verifier_count(v));
    enum dkim_outcome o = dkim_verifier_result(v, i)->outcome;
    if (o != DKIM_OUTCOME_PASS)
        print_message("# outcome %d: %s\n", o, dkim_verifier_result(v, i)->detail);
    dkim_verifier_free(v);
    return o;
}

static struct fake_dns dns_for(EVP_PKEY *key)
{
    char *p = public_text(key);
    bool ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
    struct fake_dns dns = { "sel._domainkey.example.com",
        xasprintf("v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa", p), DNS_OK, 0 };
    free(p);
    return dns;
}

static void test_sign_then_verify_every_canonicalization(void **state)
{
    (void)state;
    EVP_PKEY *keys[2] = { rsa_key, ed_key };
    for (int k = 0; k < 2; k++) {
        for (int hc = 0; hc < 2; hc++) {
            for (int bc = 0; bc < 2; bc++) {
                reset_message();
                sign(keys[k], (enum arc_canon_kind)hc, (enum arc_canon_kind)bc, 0);
                struct fake_dns dns = dns_for(keys[k]);
                assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PASS);
                /* one body byte changed */
                assert_int_equal(verify_with(&dns, "Hello!\r\n", 0, params()), DKIM_OUTCOME_FAIL);
                /* relaxed body: trailing white space and empty lines do not matter */
                if (bc == ARC_CANON_RELAXED)
                    assert_int_equal(verify_with(&dns, "Hello,   \r\n\r\nthis is the body.\r\n",
                        0, params()), DKIM_OUTCOME_PASS);
                /* a signed field changed */
                free(fields[3].value);
                fields[3].value = xstrdup("another subject");
                free(fields[3].raw_value);
                fields[3].raw_value = xstrdup(" another subject");
                assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_FAIL);
                free(dns.record);
            }
        }
    }
}

static void test_oversigned_from_added_later_fails(void **state)
{
    (void)state;
    reset_message();
    sign(rsa_key, ARC_CANON_RELAXED, ARC_CANON_RELAXED, 0);
    struct fake_dns dns = dns_for(rsa_key);
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PASS);
    assert_non_null(strstr(fields[0].value, "h=from:from:to:subject:subject:date;"));
    add_field("From", "Mallory <m@evil.test>");
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_FAIL);
    free(dns.record);
}

static void test_lookup_outcomes(void **state)
{
    (void)state;
    reset_message();
    sign(rsa_key, ARC_CANON_RELAXED, ARC_CANON_SIMPLE, 0);
    struct fake_dns dns = { "other._domainkey.example.com", NULL, DNS_OK, 0 };
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PERMERROR);
    dns.name = "sel._domainkey.example.com";
    dns.status = DNS_TIMEOUT;
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_TEMPERROR);
    dns.status = DNS_SERVFAIL;
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_TEMPERROR);
    dns.record = xstrdup("v=DKIM1; k=rsa; p=");
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PERMERROR);   /* revoked */
    free(dns.record);
    char *p = public_text(rsa_key);
    dns.record = xasprintf("v=DKIM1; k=ed25519; p=%s", p);
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PERMERROR);   /* k= */
    free(dns.record);
    dns.record = xasprintf("v=DKIM1; h=sha1; p=%s", p);
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PERMERROR);   /* h= */
    free(dns.record);
    dns.record = xasprintf("v=DKIM1; s=other; p=%s", p);
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PERMERROR);   /* s= */
    free(dns.record);
    dns.record = xasprintf("v=DKIM1; p=%s", p);
    struct dkim_verify_params strict = params();
    strict.min_key_bits = 4096;
    assert_int_equal(verify_with(&dns, body, 0, strict), DKIM_OUTCOME_SMALL_KEY);
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PASS);
    free(dns.record);
    free(p);
}

static void test_times_and_length(void **state)
{
    (void)state;
    reset_message();
    sign(ed_key, ARC_CANON_RELAXED, ARC_CANON_RELAXED, 3600);
    assert_non_null(strstr(fields[0].value, "x=1700003600;"));
    struct fake_dns dns = dns_for(ed_key);
    assert_int_equal(verify_with(&dns, body, 0, params()), DKIM_OUTCOME_PASS);
    struct dkim_verify_params later = params();
    later.now = NOW + 3601;
    assert_int_equal(verify_with(&dns, body, 0, later), DKIM_OUTCOME_EXPIRED);
    struct dkim_verify_params earlier = params();
    earlier.now = NOW - 301;             /* t= beyond the clock drift */
    assert_int_equal(verify_with(&dns, body, 0, earlier), DKIM_OUTCOME_EXPIRED);
    free(dns.record);
}

/* A signature we write by hand around a real one: its tags changed one at a time. */
static void replace_in_signature(const char *from, const char *to)
{
    char *v = fields[0].value;
    char *at = strstr(v, from);
    assert_non_null(at);
    char *changed = xasprintf("%.*s%s%s", (int)(at - v), v, to, at + strlen(from));
    free(fields[0].value);
    free(fields[0].raw_value);
    fields[0].value = changed;
    fields[0].raw_value = xasprintf(" %s", changed);
}

static void test_syntax_outcomes(void **state)
{
    (void)state;
    struct fake_dns dns = dns_for(rsa_key);
    const struct { const char *from, *to; enum dkim_outcome want; } cases[] = {
        { "v=1;", "v=2;", DKIM_OUTCOME_NEUTRAL },
        { "v=1;", "", DKIM_OUTCOME_NEUTRAL },                       /* v= missing */
        { "d=example.com;", "d=example.com; i=@other.example;", DKIM_OUTCOME_NEUTRAL },
        { "d=example.com;", "d=example.com; i=user=40sub.example.com;", DKIM_OUTCOME_PASS },
        { "h=from:from:", "h=", DKIM_OUTCOME_NEUTRAL },             /* From not signed */
        { "s=sel;", "s=sel; s=sel;", DKIM_OUTCOME_NEUTRAL },        /* a tag twice */
        { "a=rsa-sha256", "a=rsa-sha1", DKIM_OUTCOME_SHA1 },
        { "a=rsa-sha256", "a=rsa-md5", DKIM_OUTCOME_NEUTRAL },
        { "c=relaxed/simple", "c=loose/simple", DKIM_OUTCOME_NEUTRAL },
        { "t=1700000000;", "t=1700000000; x=1699999999;", DKIM_OUTCOME_NEUTRAL },
        { "d=example.com;", "d=example.com; q=http;", DKIM_OUTCOME_NEUTRAL },
        { "d=example.com;", "d=example.com; l=3;", DKIM_OUTCOME_FAIL },  /* hash changes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset_message();
        sign(rsa_key, ARC_CANON_RELAXED, ARC_CANON_SIMPLE, 0);
        replace_in_signature(cases[i].from, cases[i].to);
        enum dkim_outcome got = verify_with(&dns, body, 0, params());
        if (cases[i].want == DKIM_OUTCOME_PASS)
            assert_true(got == DKIM_OUTCOME_FAIL);       /* b= covers the changed tags */
        else
            assert_int_equal(got, cases[i].want);
    }
    free(dns.record);
}

static void test_limits_and_one_lookup_per_key(void **state)
{
    (void)state;
    reset_message();
    sign(rsa_key, ARC_CANON_RELAXED, ARC_CANON_RELAXED, 0);
    sign(rsa_key, ARC_CANON_SIMPLE, ARC_CANON_SIMPLE, 0);
    sign(rsa_key, ARC_CANON_RELAXED, ARC_CANON_SIMPLE, 0);
    struct fake_dns dns = dns_for(rsa_key);
    struct dkim_verify_params p = params();
    struct dkim_verifier *v = dkim_verifier_new(fields, field_count, &p);
    dkim_verifier_body(v, (const unsigned char *)body, strlen(body));
    dkim_verifier_finish(v, fields, field_count, fake_lookup, &dns);
    assert_int_equal(dkim_verifier_count(v), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(dkim_verifier_result(v, i)->outcome, DKIM_OUTCOME_PASS);
    assert_int_equal(dns.lookups, 1);
    assert_string_equal(dkim_verifier_result(v, 0)->identity, "@example.com");
    assert_int_equal(dkim_verifier_result(v, 0)->key_bits, 2048);
    dkim_verifier_free(v);
    p.max_signatures = 2;
    v = dkim_verifier_new(fields, field_count, &p);
    assert_int_equal(dkim_verifier_count(v), 2);
    dkim_verifier_free(v);
    free(dns.record);
}

static void test_signer_refusals(void **state)
{
    (void)state;
    reset_message();
    struct dkim_sign_params p = { rsa_key, "example.com", "sel", ARC_CANON_RELAXED,
        ARC_CANON_RELAXED, "to:subject", "", NOW, 0 };
    struct dkim_signer *s = dkim_signer_new(&p);
    char why[200];
    assert_null(dkim_signer_finish(s, fields, field_count, true, why, sizeof why));
    assert_non_null(strstr(why, "From"));
    dkim_signer_free(s);
    /* a folded value never passes 78 columns and signs the same unfolded */
    sign(rsa_key, ARC_CANON_SIMPLE, ARC_CANON_SIMPLE, 0);
    size_t column = sizeof "DKIM-Signature: " - 1;
    for (const char *c = fields[0].value; *c != '\0'; c++) {
        column = *c == '\n' ? 0 : column + 1;
        assert_true(column <= 78);
    }
}

/* A lookup that lends the caller's answer (as check_dkim_verify.c lends its prefetched ones). */
static const struct dns_answer *lending_lookup(void *arg, const char *name, struct dns_answer *out)
{
    (void)name;
    (void)out;
    return arg;
}

/* A lent key answer is used as it is and stays the lender's: one answer for two signatures of
 * one key, intact after the verifier is freed (the ASan build sees it freed or read after). */
static void test_lent_key_answer_stays_the_lenders(void **state)
{
    (void)state;
    reset_message();
    sign(ed_key, ARC_CANON_RELAXED, ARC_CANON_RELAXED, 0);
    sign(ed_key, ARC_CANON_SIMPLE, ARC_CANON_SIMPLE, 0);
    struct fake_dns dns = dns_for(ed_key);
    struct dns_answer lent = { .status = DNS_OK, .count = 1 };
    lent.data = xcalloc(2, sizeof *lent.data);
    lent.data[0] = dns.record;
    struct dkim_verify_params p = params();
    struct dkim_verifier *v = dkim_verifier_new(fields, field_count, &p);
    dkim_verifier_body(v, (const unsigned char *)body, strlen(body));
    dkim_verifier_finish(v, fields, field_count, lending_lookup, &lent);
    assert_int_equal(dkim_verifier_count(v), 2);
    assert_int_equal(dkim_verifier_result(v, 0)->outcome, DKIM_OUTCOME_PASS);
    assert_int_equal(dkim_verifier_result(v, 1)->outcome, DKIM_OUTCOME_PASS);
    dkim_verifier_free(v);
    assert_int_equal(lent.count, 1);
    assert_ptr_equal(lent.data[0], dns.record);
    assert_non_null(strstr(lent.data[0], "k=ed25519"));
    dns_answer_free(&lent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_then_verify_every_canonicalization),
        cmocka_unit_test(test_oversigned_from_added_later_fails),
        cmocka_unit_test(test_lookup_outcomes),
        cmocka_unit_test(test_times_and_length),
        cmocka_unit_test(test_syntax_outcomes),
        cmocka_unit_test(test_limits_and_one_lookup_per_key),
        cmocka_unit_test(test_lent_key_answer_stays_the_lenders),
        cmocka_unit_test(test_signer_refusals),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    for (size_t i = 0; i < field_count; i++) {
        free(fields[i].name);
        free(fields[i].value);
        free(fields[i].raw_value);
    }
    return failed;
}
