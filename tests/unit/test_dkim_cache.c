/* test_dkim_cache.c - the verifier's caches, without DNS or an MTA:
 * - the decoded public keys (dkim_pubkeys.c): the same p= text gives the same key again,
 *   another text another key, the number kept is bounded, and text that is no key still
 *   fails and is not kept;
 * - the key prefetch (dkim_prefetch.c) without a resolver: the s= and d= tags of a signature
 *   are found through folding white space and between other tags, and one key is looked up
 *   once however many signatures name it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "arc_crypto.h"
#include "dkim_prefetch.h"
#include "dkim_pubkeys.h"

/* The p= text (base64 of the 32 raw octets) of a fresh ed25519 key. */
static char *new_pubkey_text(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
    unsigned char raw[32];
    size_t len = sizeof raw;
    assert_int_equal(EVP_PKEY_get_raw_public_key(pkey, raw, &len), 1);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    return arc_base64_encode(raw, len);
}

static EVP_PKEY *decode(const char *text)
{
    char why[160];
    return dkim_pubkey_get(text, true, why, sizeof why);
}

static void test_public_keys_decoded_once_per_text(void **state)
{
    (void)state;
    char *text1 = new_pubkey_text();
    char *text2 = new_pubkey_text();
    EVP_PKEY *a = decode(text1);
    EVP_PKEY *b = decode(text1);
    EVP_PKEY *c = decode(text2);
    assert_non_null(a);
    assert_non_null(c);
    assert_ptr_equal(a, b);            /* decoded once, handed out twice */
    assert_ptr_not_equal(a, c);
    assert_int_equal(EVP_PKEY_eq(a, c), 0);
    /* the key handed out is the key of that text */
    unsigned char raw[32];
    size_t len = sizeof raw;
    assert_int_equal(EVP_PKEY_get_raw_public_key(c, raw, &len), 1);
    char *again = arc_base64_encode(raw, len);
    assert_string_equal(again, text2);
    free(again);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(c);
    /* the same text asked as RSA is another key type: refused, not the cached ed25519 key */
    char why[160];
    assert_null(dkim_pubkey_get(text1, false, why, sizeof why));
    /* text that is no key fails, and is not remembered */
    size_t before = dkim_pubkey_count();
    assert_null(decode("AAAA"));
    assert_null(decode("not base64!"));
    assert_int_equal(dkim_pubkey_count(), before);
    free(text1);
    free(text2);
}

static void test_public_key_cache_is_bounded(void **state)
{
    (void)state;
    for (int i = 0; i < 300; i++) {
        char *text = new_pubkey_text();
        EVP_PKEY *pkey = decode(text);
        assert_non_null(pkey);
        EVP_PKEY_free(pkey);
        free(text);
        assert_true(dkim_pubkey_count() <= DKIM_PUBKEYS_MAX);
    }
    assert_int_equal(dkim_pubkey_count(), DKIM_PUBKEYS_MAX);
}

static void test_signature_tags_through_folding(void **state)
{
    char out[64];
    (void)state;
    const char *sig = "v=1; a=rsa-sha256; c=relaxed/simple; d=exa\r\n mple.com;\r\n"
        " i=@example.com; s = sel1 ; bh=abc=; b=x\r\n\ty=";
    assert_true(dkim_signature_tag(sig, "d", out, sizeof out));
    assert_string_equal(out, "example.com");
    assert_true(dkim_signature_tag(sig, "s", out, sizeof out));
    assert_string_equal(out, "sel1");
    assert_true(dkim_signature_tag(sig, "b", out, sizeof out));
    assert_string_equal(out, "xy=");
    assert_false(dkim_signature_tag(sig, "x", out, sizeof out));
    assert_false(dkim_signature_tag("ds=1; sd=2", "d", out, sizeof out));
    assert_false(dkim_signature_tag("d=a-rather-long-domain.example", "d", out, 8));
    assert_false(dkim_signature_tag("", "d", out, sizeof out));
    assert_false(dkim_signature_tag("d", "d", out, sizeof out));
}

static void test_prefetch_looks_each_key_up_once(void **state)
{
    (void)state;
    struct dkim_prefetch *f = dkim_prefetch_new(NULL, 1000);
    dkim_prefetch_add_signature(f, "d=example.com; s=one");
    dkim_prefetch_add_signature(f, "s=ONE; d=Example.COM.");
    dkim_prefetch_add_signature(f, "d=example.com; s=two");
    dkim_prefetch_add_signature(f, "d=example.com");           /* no selector */
    dkim_prefetch_add(f, "", "example.com");
    assert_int_equal(dkim_prefetch_count(f), 2);
    assert_null(dkim_prefetch_answer(f, "one._domainkey.example.com"));   /* not collected */
    dkim_prefetch_collect(f);
    const struct dns_answer *a = dkim_prefetch_answer(f, "ONE._domainkey.example.com.");
    assert_non_null(a);
    assert_int_equal(a->status, DNS_ERROR);                   /* no resolver */
    assert_null(dkim_prefetch_answer(f, "three._domainkey.example.com"));
    dkim_prefetch_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_keys_decoded_once_per_text),
        cmocka_unit_test(test_public_key_cache_is_bounded),
        cmocka_unit_test(test_signature_tags_through_folding),
        cmocka_unit_test(test_prefetch_looks_each_key_up_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
