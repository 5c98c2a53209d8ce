/* test_arc_chain.c - the ARC check and sealing on real chains, driven through the engine as
 * milter.c drives it, the key records served by the loopback DNS server (dnsserver.py):
 * a chain a trusted forwarder sealed with spf=pass in its AAR passes, with arc=pass,
 * header.oldest-pass and smtp.remote-ip in our Authentication-Results, and is a trusted pass
 * for DMARC (arc_result_trusted_pass) only for a listed sealer whose AAR says spf or dkim
 * pass; a body changed after sealing fails (ARC_FAIL); a key lookup that never answers is
 * ARC_REJECT within the budget, never a pass; a chain behind header fields past
 * limits.max_headers is ARC_REJECT, never a pass; our seal goes on after DKIM signing and
 * after our Authentication-Results (its AAR carries them), ARC-Seal on top, and the message as
 * delivered verifies with our own verifier (arc=pass, i=1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "arc_bodyhash.h"
#include "arc_result.h"
#include "dmarc_result.h"
#include "arc_seal.h"
#include "dkim_keys.h"
#include "pattern.h"
#include "policy_fixture.h"
#include "util.h"

/* A test key only (ed25519): the forwarder's seal and ours. */
static const char test_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIOnRkSqDe7KPXhKoECcscr9fQqrw+mdtQfRgHdFotzLx\n"
    "-----END PRIVATE KEY-----\n";
static char key_dir[64];
static char key_path[128];
static char rsa_path[128];        /* a DKIM signing key of the other type */
static struct dkim_key *key;
static bool have_dns;

#define BODY "Hello Bob,\n\nthe list says hello.\n"

static int setup(void **state)
{
    (void)state;
    strcpy(key_dir, "/tmp/mw-test-arc.XXXXXX");
    if (mkdtemp(key_dir) == NULL || !fixture_init())
        return -1;
    snprintf(key_path, sizeof key_path, "%s/seal.key", key_dir);
    int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, test_key, sizeof test_key - 1) != (ssize_t)(sizeof test_key - 1))
        return -1;
    close(fd);
    snprintf(rsa_path, sizeof rsa_path, "%s/dkim.key", key_dir);
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    FILE *f = fopen(rsa_path, "w");
    if (rsa == NULL || f == NULL || fchmod(fileno(f), 0600) != 0
            || !PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL))
        return -1;
    fclose(f);
    EVP_PKEY_free(rsa);
    char why[256], warn[256];
    key = dkim_key_load_file(key_path, why, sizeof why, warn, sizeof warn);
    if (key == NULL)
        return -1;
    char *zone = xasprintf(
        "fwd._domainkey.forwarder.test TXT \"v=DKIM1; k=ed25519; p=%s\"\n"
        "arc._domainkey.our.test TXT \"v=DKIM1; k=ed25519; p=%s\"\n"
        "dead._domainkey.slow.test TIMEOUT\n"
        "_dmarc.strict.test TXT \"v=DMARC1; p=reject\"\n", key->public_b64, key->public_b64);
    have_dns = fixture_dns_start(zone);
    free(zone);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    dkim_key_free(key);
    unlink(key_path);
    unlink(rsa_path);
    rmdir(key_dir);
    return 0;
}

#define SKIP_WITHOUT_DNS() do { if (!have_dns) { print_message("no python3-dnslib: skipped\n"); skip(); } } while (0)

static const char *const top_names[] = {"From", "To", "Subject", "Date", "Message-ID"};
static const char *top_values[] = {"Alice <alice@author.test>", "list@forwarder.test",
    "list post", "Mon, 1 Jan 2024 10:00:00 +0000", "<post1@author.test>"};

/* The message as the forwarder sends it: its ARC set (d=forwarder.test, s=SELECTOR, AAR
 * "forwarder.test; RESULTS") on top; `changed` edits the body after sealing. */
static char *forwarded(const char *selector, const char *results, bool changed)
{
    struct header_field fields[5];
    for (size_t i = 0; i < 5; i++)
        fields[i] = (struct header_field){.name = (char *)top_names[i], .value = (char *)top_values[i]};
    struct arc_bodyhash *bh = arc_bodyhash_new(ARC_CANON_RELAXED, -1);
    const char *crlf_body = "Hello Bob,\r\n\r\nthe list says hello.\r\n";
    arc_bodyhash_update(bh, (const unsigned char *)crlf_body, strlen(crlf_body));
    unsigned char digest[ARC_BODYHASH_MAX];
    bool short_body;
    size_t len = arc_bodyhash_final(bh, digest, &short_body);
    arc_bodyhash_free(bh);
    struct arc_seal_request req = {
        .fields = fields, .field_count = 5, .cv = ARC_CV_NONE, .authserv_id = "forwarder.test",
        .results = results, .body_hash = digest, .body_hash_len = len,
        .timestamp = (uint64_t)time(NULL),
    };
    struct arc_seal_key k = {.pkey = key->pkey, .domain = "forwarder.test", .selector = selector};
    struct arc_sealed sealed;
    char why[256];
    assert_true(arc_seal(&req, &k, &sealed, why, sizeof why));
    struct textbuf m;
    textbuf_init(&m);
    textbuf_printf(&m, "ARC-Seal: %s\nARC-Message-Signature: %s\nARC-Authentication-Results: %s\n",
        sealed.seal, sealed.ams, sealed.aar);
    for (size_t i = 0; i < 5; i++)
        textbuf_printf(&m, "%s: %s\n", top_names[i], top_values[i]);
    textbuf_printf(&m, "\n%s", changed ? "Hello Eve,\n\nthe list says hello.\n" : BODY);
    arc_sealed_free(&sealed);
    return m.data;
}

static const char *authres(void)
{
    const char *v = fixture_header_edit("Authentication-Results");
    assert_non_null(v);
    return v;
}

static bool trusted(const char *sealer_pattern, char *sealer, size_t size)
{
    struct pattern_list sealers;
    pattern_list_init(&sealers, PATTERN_DOMAINS);
    assert_true(pattern_list_add(&sealers, sealer_pattern, "test", 1, NULL, NULL));
    bool ok = arc_result_trusted_pass(fixture_txn(), &sealers, sealer, size);
    pattern_list_free(&sealers);
    return ok;
}

static void test_trusted_forwarder_passes(void **state)
{
    (void)state;
    SKIP_WITHOUT_DNS();
    fixture_policy("arc: { enabled = true }\n");
    char *msg = forwarded("fwd", "spf=pass smtp.mailfrom=alice@author.test; dkim=none", false);
    struct smtp_session s = {.message = msg, .sender = "bounce@forwarder.test"};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_PASS"));
    assert_non_null(strstr(authres(), "arc=pass header.oldest-pass=0 smtp.remote-ip=203.0.113.5"));
    const struct arc_outcome *o = arc_result_get(fixture_txn());
    assert_int_equal(o->verdict.status, ARC_STATUS_PASS);
    assert_int_equal(o->verdict.count, 1);
    assert_true(o->aar[0].read);
    assert_string_equal(o->aar[0].aar.authserv_id, "forwarder.test");
    char sealer[256];
    assert_true(trusted("forwarder.test", sealer, sizeof sealer));
    assert_string_equal(sealer, "forwarder.test");
    assert_false(trusted(".forwarder.test", sealer, sizeof sealer));  /* subdomains only */
    assert_false(trusted("other.test", sealer, sizeof sealer));
    assert_string_equal(sealer, "");
    free(msg);

    /* arc in mode "shadow": the pass is logged, but overrides nothing */
    fixture_policy("arc: { mode = \"shadow\" }\n");
    msg = forwarded("fwd", "spf=pass smtp.mailfrom=alice@author.test", false);
    s.message = msg;
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_PASS"));
    assert_false(trusted("forwarder.test", sealer, sizeof sealer));
    free(msg);
    fixture_policy("arc: { enabled = true }\n");

    /* the same sealer, whose AAR records no passing SPF or DKIM: no override */
    msg = forwarded("fwd", "spf=fail smtp.mailfrom=alice@author.test; dkim=fail header.d=author.test", false);
    s.message = msg;
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_PASS"));
    assert_false(trusted("forwarder.test", sealer, sizeof sealer));
    free(msg);
}

/* DMARC's trusted ARC sealers: a list post from strict.test (p=reject) that the list
 * forwarder re-sent (its own MAIL FROM, so SPF and DKIM do not align: DMARC fails) is rejected,
 * unless dmarc.trusted_arc_sealers names the forwarder, whose passing chain records spf=pass:
 * then it is delivered with the override trusted_forwarder naming the sealer. */
static void test_trusted_sealer_rescues_dmarc(void **state)
{
    (void)state;
    SKIP_WITHOUT_DNS();
    const char *from = top_values[0];
    top_values[0] = "Alice <alice@strict.test>";       /* p=reject */
    char *msg = forwarded("fwd", "spf=pass smtp.mailfrom=alice@strict.test", false);
    top_values[0] = from;
    struct smtp_session s = {.message = msg, .sender = "bounce@forwarder.test"};

    fixture_policy("arc: { enabled = true }\n");
    assert_int_equal(fixture_run(&s), ACTION_REJECT);
    assert_true(fixture_has("ARC_PASS"));
    assert_true(fixture_has("DMARC_FAIL_REJECT"));
    assert_int_equal(dmarc_result_get(fixture_txn())->override, DMARC_OVERRIDE_NONE);

    fixture_policy("arc: { enabled = true }\ndmarc: { trusted_arc_sealers = \"forwarder.test\" }\n");
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    const struct dmarc_outcome *o = dmarc_result_get(fixture_txn());
    assert_int_equal(o->result, DMARC_RESULT_FAIL);
    assert_int_equal(o->disposition, DMARC_POLICY_NONE);
    assert_int_equal(o->override, DMARC_OVERRIDE_TRUSTED_FORWARDER);
    assert_non_null(strstr(o->override_comment, "forwarder.test"));

    /* a sealer not on the list rescues nothing */
    fixture_policy("arc: { enabled = true }\ndmarc: { trusted_arc_sealers = \"other.test\" }\n");
    assert_int_equal(fixture_run(&s), ACTION_REJECT);
    free(msg);
}

static void test_changed_body_fails(void **state)
{
    (void)state;
    SKIP_WITHOUT_DNS();
    fixture_policy("arc: { enabled = true }\n");
    char *msg = forwarded("fwd", "spf=pass smtp.mailfrom=alice@author.test", true);
    struct smtp_session s = {.message = msg};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_FAIL"));
    assert_false(fixture_has("ARC_PASS"));
    assert_non_null(strstr(authres(), "arc=fail smtp.remote-ip=203.0.113.5"));
    const struct arc_outcome *o = arc_result_get(fixture_txn());
    assert_int_equal(o->verdict.reason, ARC_REASON_BODY_HASH);
    assert_int_equal(o->verdict.fail_instance, 1);
    char sealer[256];
    assert_false(trusted("forwarder.test", sealer, sizeof sealer));
    free(msg);
}

static void test_dead_key_server_is_reject_not_pass(void **state)
{
    (void)state;
    SKIP_WITHOUT_DNS();
    /* the fixture's dns.timeout is 3 s; arc.budget cuts the wait to 300 ms */
    fixture_policy("arc: { budget = \"300ms\" }\n");
    char *msg = forwarded("dead", "spf=pass smtp.mailfrom=alice@author.test", false);
    /* sealed as forwarder.test with s=dead: point d= at slow.test, where the key never comes */
    char *p;
    while ((p = strstr(msg, "d=forwarder.test")) != NULL)
        memcpy(p, "d=slow.test     ", 16);
    struct smtp_session s = {.message = msg};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true(fixture_has("ARC_REJECT"));
    assert_false(fixture_has("ARC_PASS"));
    const struct arc_outcome *o = arc_result_get(fixture_txn());
    assert_int_equal(o->verdict.status, ARC_STATUS_FAIL);
    assert_true(o->verdict.reason == ARC_REASON_BUDGET || o->verdict.reason == ARC_REASON_KEY_TEMPERROR);
    double elapsed = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_true(elapsed < 2.5);           /* well under dns.timeout: the budget cut it */
    free(msg);
}

static void test_header_limit_is_reject_not_pass(void **state)
{
    (void)state;
    SKIP_WITHOUT_DNS();
    fixture_policy("arc: { enabled = true }\nlimits: { max_headers = 16 }\n");
    char *msg = forwarded("fwd", "spf=pass smtp.mailfrom=alice@author.test", false);
    struct textbuf m;
    textbuf_init(&m);
    for (int i = 0; i < 40; i++)
        textbuf_printf(&m, "X-Padding-%02d: x\n", i);
    textbuf_puts(&m, msg);
    struct smtp_session s = {.message = m.data};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_REJECT"));
    assert_false(fixture_has("ARC_PASS"));
    assert_true(arc_result_get(fixture_txn())->header_limit);
    char sealer[256];
    assert_false(trusted("forwarder.test", sealer, sizeof sealer));
    textbuf_free(&m);
    free(msg);
}

/* The delivered message: the edits at the top, newest on top, above the message. */
static char *delivered(const struct txn *t, const char *message)
{
    struct textbuf m;
    textbuf_init(&m);
    for (size_t i = t->verdict.edit_count; i > 0; i--) {
        const struct header_edit *e = &t->verdict.edits[i - 1];
        if (e->op == HEADER_INSERT)
            textbuf_printf(&m, "%s: %s\n", e->name, e->value);
    }
    textbuf_puts(&m, message);
    return m.data;
}

static int edit_index(const struct txn *t, const char *name)
{
    for (size_t i = 0; i < t->verdict.edit_count; i++) {
        if (strcmp(t->verdict.edits[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static void test_sealed_after_signing_and_authres_and_verifies(void **state)
{
    (void)state;
    SKIP_WITHOUT_DNS();
    char *policy = xasprintf(
        "networks: { internal = [ \"192.0.2.0/24\" ] }\n"
        "dkim: { keys = ( { name = \"arc\"; domain = \"our.test\"; selector = \"arc\"; "
        "file = \"%s\"; }, { name = \"dkim\"; domain = \"our.test\"; selector = \"dkim\"; "
        "file = \"%s\"; } ); sign = { default_key = \"dkim\" } }\n"
        "arc: { seal = { enabled = true; key = \"arc\"; relayed = true } }\n", key_path, rsa_path);
    fixture_policy(policy);
    free(policy);
    char *msg = forwarded("fwd", "spf=pass smtp.mailfrom=alice@author.test", false);
    struct smtp_session out = {.client_ip = "192.0.2.7", .message = msg,
        .sender = "list@our.test"};
    assert_int_equal(fixture_run(&out), ACTION_ACCEPT);
    struct txn *t = fixture_txn();
    assert_true(fixture_has("ARC_SEALED"));
    assert_true(fixture_has("ARC_PASS"));       /* the forwarder's chain, verified to seal it */
    int sig = edit_index(t, "DKIM-Signature"), ar = edit_index(t, "Authentication-Results");
    int aar = edit_index(t, "ARC-Authentication-Results");
    int ams = edit_index(t, "ARC-Message-Signature"), as = edit_index(t, "ARC-Seal");
    assert_true(sig >= 0 && ar > sig && aar > ar && ams == aar + 1 && as == ams + 1
        && (size_t)as == t->verdict.edit_count - 1);
    const char *aar_value = t->verdict.edits[aar].value;
    assert_non_null(strstr(aar_value, "i=2;"));
    assert_non_null(strstr(aar_value, "arc=pass"));  /* our final results */
    assert_non_null(strstr(t->verdict.edits[as].value, "cv=pass"));
    char *sent = delivered(t, msg);
    free(msg);

    /* the next hop: our chain of two verifies */
    fixture_policy("arc: { enabled = true }\n");
    struct smtp_session in = {.message = sent};
    assert_int_equal(fixture_run(&in), ACTION_ACCEPT);
    const struct arc_outcome *o = arc_result_get(fixture_txn());
    if (o->verdict.status != ARC_STATUS_PASS)
        fail_msg("our sealed message: %s: %s", arc_reason_name(o->verdict.reason), o->verdict.detail);
    assert_int_equal(o->verdict.count, 2);
    assert_string_equal(o->verdict.hop[1].seal_domain, "our.test");
    free(sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_trusted_forwarder_passes, fixture_fresh),
        cmocka_unit_test_setup(test_trusted_sealer_rescues_dmarc, fixture_fresh),
        cmocka_unit_test_setup(test_changed_body_fails, fixture_fresh),
        cmocka_unit_test_setup(test_dead_key_server_is_reject_not_pass, fixture_fresh),
        cmocka_unit_test_setup(test_header_limit_is_reject_not_pass, fixture_fresh),
        cmocka_unit_test_setup(test_sealed_after_signing_and_authres_and_verifies, fixture_fresh),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
