/* test_arc_seal.c - filter/arc's sealer and verifier together, keys made in the test
 * (RSA-2048, ed25519) and key records served by a fake lookup: a sealed message verifies
 * (one-line and folded values, RSA and ed25519, two hops), a changed body or header fails at
 * the right field, the sealer's refusals (newest seal cv=fail, cv that does not fit, a 51st
 * set, no From, a small RSA key) and the verifier's limits and key errors (lookup limit,
 * instances, NXDOMAIN, SERVFAIL, revoked and mismatched keys). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "arc_bodyhash.h"
#include "arc_crypto.h"
#include "arc_seal.h"
#include "arc_verify.h"
#include "util.h"

#define MAX_FIELDS 64

struct msg {
    struct header_field field[MAX_FIELDS];
    size_t count;
    const char *body;
};

struct zone {
    const char *name[8];
    char *record[8];
    enum dns_status status[8];
    size_t count;
    unsigned queries;
};

static EVP_PKEY *rsa_key, *ed_key;

static EVP_PKEY *make_key(int id, int bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(id, NULL);
    EVP_PKEY *key = NULL;
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    if (bits > 0)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &key), 1);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static char *record_of(EVP_PKEY *key)
{
    unsigned char buf[1024];
    size_t len = sizeof buf;
    const char *k = "rsa";
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
        assert_int_equal(EVP_PKEY_get_raw_public_key(key, buf, &len), 1);
        k = "ed25519";
    } else {
        unsigned char *p = buf;
        int n = i2d_PUBKEY(key, &p);
        assert_true(n > 0);
        len = (size_t)n;
    }
    char *b64 = arc_base64_encode(buf, len);
    char *rec = xasprintf("v=DKIM1; k=%s; p=%s", k, b64);
    free(b64);
    return rec;
}

static int group_setup(void **state)
{
    (void)state;
    rsa_key = make_key(EVP_PKEY_RSA, 2048);
    ed_key = make_key(EVP_PKEY_ED25519, 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(ed_key);
    return 0;
}

static void zone_add(struct zone *z, const char *name, char *record, enum dns_status status)
{
    z->name[z->count] = name;
    z->record[z->count] = record;
    z->status[z->count] = status;
    z->count++;
}

static void zone_free(struct zone *z)
{
    for (size_t i = 0; i < z->count; i++)
        free(z->record[i]);
}

static void fake_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    struct zone *z = arg;
    (void)type;
    (void)timeout_ms;
    memset(out, 0, sizeof *out);
    z->queries++;
    for (size_t i = 0; i < z->count; i++) {
        if (strcmp(z->name[i], name) != 0)
            continue;
        out->status = z->status[i];
        if (out->status == DNS_OK) {
            out->count = 1;
            out->data = xcalloc(2, sizeof *out->data);
            out->data[0] = xstrdup(z->record[i]);
        }
        return;
    }
    out->status = DNS_NXDOMAIN;
}

static void msg_init(struct msg *m)
{
    memset(m, 0, sizeof *m);
    const char *const base[][2] = {
        { "Authentication-Results", " list.example; spf=pass smtp.mailfrom=a.example" },
        { "From", " Alice <alice@a.example>" },
        { "To", " list@list.example" },
        { "Subject", " a test" },
        { "Date", " Thu, 03 Dec 2026 06:00:00 +0000" },
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        m->field[i].name = xstrdup(base[i][0]);
        m->field[i].value = xstrdup(base[i][1] + 1);
        m->field[i].raw_value = xstrdup(base[i][1]);
    }
    m->count = sizeof base / sizeof base[0];
    m->body = "Hello,\r\nthe body.\r\n";
}

static void msg_free(struct msg *m)
{
    for (size_t i = 0; i < m->count; i++) {
        free(m->field[i].name);
        free(m->field[i].value);
        free(m->field[i].raw_value);
    }
}

static void msg_prepend(struct msg *m, const char *name, const char *value)
{
    assert_true(m->count < MAX_FIELDS);
    memmove(&m->field[1], &m->field[0], m->count * sizeof m->field[0]);
    m->field[0].name = xstrdup(name);
    m->field[0].value = xstrdup(value);
    m->field[0].raw_value = xasprintf(" %s", value);
    m->count++;
}

static bool seal_msg(struct msg *m, EVP_PKEY *key, const char *domain, const char *selector,
    enum arc_cv cv, bool fold, char *why, size_t why_size)
{
    struct arc_bodyhash *bh = arc_bodyhash_new(ARC_CANON_RELAXED, -1);
    arc_bodyhash_update(bh, (const unsigned char *)m->body, strlen(m->body));
    unsigned char digest[ARC_BODYHASH_MAX];
    size_t n = arc_bodyhash_final(bh, digest, NULL);
    arc_bodyhash_free(bh);
    struct arc_seal_request req = {
        .fields = m->field, .field_count = m->count, .cv = cv, .authserv_id = domain,
        .results = "arc=none; spf=pass smtp.mailfrom=a.example", .sign_headers = NULL,
        .body_hash = digest, .body_hash_len = n, .timestamp = 1764741600,
        .layout = ARC_LAYOUT_DEFAULT, .fold = fold ? "\r\n" : NULL,
    };
    struct arc_seal_key sk = { .pkey = key, .domain = domain, .selector = selector };
    struct arc_sealed out;
    if (!arc_seal(&req, &sk, &out, why, why_size))
        return false;
    msg_prepend(m, "ARC-Authentication-Results", out.aar);
    msg_prepend(m, "ARC-Message-Signature", out.ams);
    msg_prepend(m, "ARC-Seal", out.seal);
    arc_sealed_free(&out);
    return true;
}

static void verify_msg(const struct msg *m, struct zone *z, const struct arc_limits *lim,
    struct arc_result *res)
{
    struct arc_verify *v = arc_verify_begin(m->field, m->count, lim);
    const unsigned char *body = (const unsigned char *)m->body;
    size_t len = strlen(m->body);
    for (size_t off = 0; off < len; off += 3)
        arc_verify_body(v, body + off, len - off < 3 ? len - off : 3);
    arc_verify_finish(v, fake_lookup, z, res);
    arc_verify_free(v);
}

static void standard_zone(struct zone *z)
{
    memset(z, 0, sizeof *z);
    zone_add(z, "rsa._domainkey.one.example", record_of(rsa_key), DNS_OK);
    zone_add(z, "ed._domainkey.two.example", record_of(ed_key), DNS_OK);
}

static void two_hops(struct msg *m, bool fold)
{
    char why[256];
    msg_init(m);
    if (!seal_msg(m, rsa_key, "one.example", "rsa", ARC_CV_NONE, fold, why, sizeof why))
        fail_msg("hop 1: %s", why);
    if (!seal_msg(m, ed_key, "two.example", "ed", ARC_CV_PASS, fold, why, sizeof why))
        fail_msg("hop 2: %s", why);
}

static void test_sealed_chain_verifies(void **state)
{
    (void)state;
    for (int fold = 0; fold <= 1; fold++) {
        struct msg m;
        struct zone z;
        two_hops(&m, fold == 1);
        standard_zone(&z);
        struct arc_result res;
        verify_msg(&m, &z, NULL, &res);
        if (res.status != ARC_STATUS_PASS)
            fail_msg("fold=%d: %s", fold, res.detail);
        assert_int_equal(res.count, 2);
        assert_int_equal(res.oldest_pass, 0);
        assert_int_equal(res.seal_cv, ARC_CV_PASS);
        assert_int_equal(res.hop_count, 2);
        assert_string_equal(res.hop[0].seal_domain, "one.example");
        assert_string_equal(res.hop[1].ams_selector, "ed");
        assert_string_equal(res.hop[0].aar_payload,
            "one.example; arc=none; spf=pass smtp.mailfrom=a.example");
        assert_int_equal(res.lookups, 2);
        arc_result_free(&res);
        msg_free(&m);
        zone_free(&z);
    }
}

/* Folding inside the AMS's b= changes what the seal covers (relaxed keeps the white space):
 * the seal must sign the AMS as folded. */
static void test_folded_set_verifies(void **state)
{
    (void)state;
    struct msg m;
    char why[256];
    msg_init(&m);
    assert_true(seal_msg(&m, ed_key, "two.example", "ed", ARC_CV_NONE, true, why, sizeof why));
    assert_non_null(strstr(m.field[1].value, "\r\n\t"));       /* the AMS is folded */
    struct zone z;
    standard_zone(&z);
    struct arc_result res;
    verify_msg(&m, &z, NULL, &res);
    if (res.status != ARC_STATUS_PASS)
        fail_msg("%s", res.detail);
    arc_result_free(&res);
    msg_free(&m);
    zone_free(&z);
}

static void test_changes_fail_at_the_right_field(void **state)
{
    (void)state;
    struct msg m;
    struct zone z;
    struct arc_result res;
    two_hops(&m, false);
    standard_zone(&z);
    m.body = "Hello,\r\nthe body, changed.\r\n";
    verify_msg(&m, &z, NULL, &res);
    assert_int_equal(res.status, ARC_STATUS_FAIL);
    assert_int_equal(res.fail_instance, 2);
    assert_int_equal(res.fail_field, ARC_FIELD_AMS);
    assert_int_equal(res.reason, ARC_REASON_BODY_HASH);
    assert_int_equal(res.seal_cv, ARC_CV_FAIL);
    arc_result_free(&res);
    m.body = "Hello,\r\nthe body.\r\n";
    /* the oldest AAR changed: seal 1 is the first that fails */
    size_t aar1 = m.count - 6;
    assert_string_equal(m.field[aar1].name, "ARC-Authentication-Results");
    free(m.field[aar1].value);
    m.field[aar1].value = xstrdup("i=1; one.example; arc=none; spf=fail");
    verify_msg(&m, &z, NULL, &res);
    assert_int_equal(res.status, ARC_STATUS_FAIL);
    assert_int_equal(res.fail_instance, 1);
    assert_int_equal(res.fail_field, ARC_FIELD_SEAL);
    assert_int_equal(res.reason, ARC_REASON_SIGNATURE);
    arc_result_free(&res);
    msg_free(&m);
    zone_free(&z);
}

static void test_key_errors(void **state)
{
    (void)state;
    struct msg m;
    struct arc_result res;
    two_hops(&m, false);
    struct zone z;
    memset(&z, 0, sizeof z);
    zone_add(&z, "rsa._domainkey.one.example", record_of(rsa_key), DNS_OK);
    verify_msg(&m, &z, NULL, &res);                      /* two.example's key is missing */
    assert_int_equal(res.status, ARC_STATUS_FAIL);
    assert_int_equal(res.reason, ARC_REASON_KEY_NOT_FOUND);
    assert_int_equal(res.fail_instance, 2);
    arc_result_free(&res);
    zone_add(&z, "ed._domainkey.two.example", xstrdup(""), DNS_SERVFAIL);
    verify_msg(&m, &z, NULL, &res);
    assert_int_equal(res.reason, ARC_REASON_KEY_TEMPERROR);
    arc_result_free(&res);
    free(z.record[1]);
    z.record[1] = xstrdup("v=DKIM1; k=ed25519; p=");
    z.status[1] = DNS_OK;
    verify_msg(&m, &z, NULL, &res);
    assert_int_equal(res.reason, ARC_REASON_KEY_PERMERROR);
    assert_non_null(strstr(res.detail, "revoked"));
    arc_result_free(&res);
    free(z.record[1]);
    z.record[1] = record_of(rsa_key);                    /* k=rsa for an ed25519 signature */
    verify_msg(&m, &z, NULL, &res);
    assert_int_equal(res.reason, ARC_REASON_KEY_PERMERROR);
    arc_result_free(&res);
    msg_free(&m);
    zone_free(&z);
}

static void test_limits(void **state)
{
    (void)state;
    struct msg m;
    struct zone z;
    struct arc_result res;
    struct arc_limits lim;
    two_hops(&m, false);
    standard_zone(&z);
    arc_limits_default(&lim);
    lim.max_lookups = 1;
    verify_msg(&m, &z, &lim, &res);
    assert_int_equal(res.status, ARC_STATUS_FAIL);
    assert_int_equal(res.reason, ARC_REASON_LOOKUP_LIMIT);
    assert_int_equal(z.queries, 1);
    arc_result_free(&res);
    arc_limits_default(&lim);
    lim.max_instances = 1;
    z.queries = 0;
    verify_msg(&m, &z, &lim, &res);
    assert_int_equal(res.status, ARC_STATUS_FAIL);
    assert_int_equal(res.reason, ARC_REASON_TOO_MANY);
    assert_int_equal(z.queries, 0);
    arc_result_free(&res);
    arc_limits_default(&lim);
    lim.budget_ms = 0;
    verify_msg(&m, &z, &lim, &res);
    assert_int_equal(res.reason, ARC_REASON_BUDGET);
    arc_result_free(&res);
    msg_free(&m);
    zone_free(&z);
}

static void test_sealer_refusals(void **state)
{
    (void)state;
    struct msg m;
    char why[256];
    two_hops(&m, false);
    /* cv=none over a chain, and cv=pass without one */
    assert_false(seal_msg(&m, rsa_key, "one.example", "rsa", ARC_CV_NONE, false, why, sizeof why));
    assert_non_null(strstr(why, "cv=none"));
    struct msg plain;
    msg_init(&plain);
    assert_false(seal_msg(&plain, rsa_key, "one.example", "rsa", ARC_CV_PASS, false, why, sizeof why));
    /* a failed chain is sealed once with cv=fail, then never again */
    assert_true(seal_msg(&m, rsa_key, "one.example", "rsa", ARC_CV_FAIL, false, why, sizeof why));
    assert_non_null(strstr(m.field[0].value, "cv=fail"));
    struct zone z;
    standard_zone(&z);
    struct arc_result res;
    verify_msg(&m, &z, NULL, &res);
    assert_int_equal(res.status, ARC_STATUS_FAIL);
    assert_int_equal(res.reason, ARC_REASON_CV_FAIL);
    assert_int_equal(res.seal_cv, ARC_CV_FAIL);
    arc_result_free(&res);
    assert_false(seal_msg(&m, rsa_key, "one.example", "rsa", ARC_CV_FAIL, false, why, sizeof why));
    assert_non_null(strstr(why, "cv=fail"));
    msg_free(&m);
    zone_free(&z);
    /* no 51st set */
    msg_prepend(&plain, "ARC-Seal", "i=50; a=rsa-sha256; cv=pass; d=x.example; s=s; b=AAAA");
    assert_false(seal_msg(&plain, rsa_key, "one.example", "rsa", ARC_CV_PASS, false, why, sizeof why));
    assert_non_null(strstr(why, "50"));
    msg_free(&plain);
    /* From must be signed; RSA under 1024 bits is refused */
    msg_init(&plain);
    struct arc_seal_request req = {
        .fields = plain.field, .field_count = plain.count, .cv = ARC_CV_NONE,
        .authserv_id = "x.example", .sign_headers = "to:subject",
        .body_hash = (const unsigned char *)"0123456789abcdef0123456789abcdef", .body_hash_len = 32,
    };
    struct arc_seal_key sk = { .pkey = rsa_key, .domain = "x.example", .selector = "s" };
    struct arc_sealed out;
    assert_false(arc_seal(&req, &sk, &out, why, sizeof why));
    assert_non_null(strstr(why, "From"));
    req.sign_headers = "from";
    EVP_PKEY *small = make_key(EVP_PKEY_RSA, 512);
    sk.pkey = small;
    assert_false(arc_seal(&req, &sk, &out, why, sizeof why));
    assert_non_null(strstr(why, "1024"));
    EVP_PKEY_free(small);
    msg_free(&plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_chain_verifies),
        cmocka_unit_test(test_folded_set_verifies),
        cmocka_unit_test(test_changes_fail_at_the_right_field),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sealer_refusals),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
