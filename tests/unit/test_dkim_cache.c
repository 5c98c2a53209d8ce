/* test_dkim_cache.c - the verifier's caches, without DNS or an MTA:
 * - the key record cache (dkim_keyrecord_cache.c) on a clock the test moves: an entry is
 *   served until its TTL runs out and not a second longer, the TTL is capped, a record
 *   stored after expiry replaces the old one, TTL 0 is never stored, names compare
 *   case-insensitively and types apart, the entry count never passes its bound (expired
 *   entries go first, then the soonest to expire), and eight threads hammering a cache
 *   smaller than their working set only ever read the reply stored for the name they asked;
 * - the decoded public keys (d2i_PUBKEY_bio in dkim_keycache.c): the same DER bytes give the
 *   same key again, different bytes a different key, the number kept is bounded, and bytes
 *   that are no key still fail;
 * - the key prefetch (dkim_prefetch.c) without a resolver: the s= and d= tags of a signature
 *   are found through folding white space and between other tags, and one key is looked up
 *   once however many signatures name it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim_keycache.h"
#include "dkim_keyrecord_cache.h"
#include "dkim_prefetch.h"

#define TXT 16

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

static size_t get(struct keyrecord_cache *c, const char *name, int type, char *out, size_t size)
{
    memset(out, 0, size);
    return keyrecord_cache_get(c, name, type, (unsigned char *)out, size - 1);
}

static void put(struct keyrecord_cache *c, const char *name, int type, const char *reply, int ttl)
{
    keyrecord_cache_put(c, name, type, (const unsigned char *)reply, strlen(reply), ttl);
}

static void test_entry_expires_with_its_ttl(void **state)
{
    (void)state;
    char buf[64];
    fake_now = 1000;
    struct keyrecord_cache *c = keyrecord_cache_new(16, 3600, fake_clock);
    put(c, "s1._domainkey.example.com", TXT, "record-A", 60);
    fake_now = 1059;
    assert_int_equal(get(c, "s1._domainkey.example.com", TXT, buf, sizeof buf), 8);
    assert_string_equal(buf, "record-A");
    fake_now = 1060;
    assert_int_equal(get(c, "s1._domainkey.example.com", TXT, buf, sizeof buf), 0);
    assert_int_equal(keyrecord_cache_count(c), 0);
    /* the record changed at its source: what is stored after expiry is what is served */
    put(c, "s1._domainkey.example.com", TXT, "record-B", 60);
    assert_int_equal(get(c, "s1._domainkey.example.com", TXT, buf, sizeof buf), 8);
    assert_string_equal(buf, "record-B");
    keyrecord_cache_free(c);
}

static void test_ttl_is_capped_and_zero_is_not_stored(void **state)
{
    (void)state;
    char buf[64];
    fake_now = 50;
    struct keyrecord_cache *c = keyrecord_cache_new(16, 300, fake_clock);
    put(c, "long._domainkey.example.com", TXT, "long", 86400);
    put(c, "zero._domainkey.example.com", TXT, "zero", 0);
    put(c, "negative._domainkey.example.com", TXT, "negative", -5);
    assert_int_equal(keyrecord_cache_count(c), 1);
    assert_int_equal(get(c, "zero._domainkey.example.com", TXT, buf, sizeof buf), 0);
    fake_now = 50 + 299;
    assert_int_equal(get(c, "long._domainkey.example.com", TXT, buf, sizeof buf), 4);
    fake_now = 50 + 300;
    assert_int_equal(get(c, "long._domainkey.example.com", TXT, buf, sizeof buf), 0);
    keyrecord_cache_free(c);
}

static void test_names_types_and_small_buffers(void **state)
{
    (void)state;
    char buf[64];
    fake_now = 0;
    struct keyrecord_cache *c = keyrecord_cache_new(16, 3600, fake_clock);
    put(c, "Sel._DomainKey.Example.COM", TXT, "mixed-case", 100);
    assert_int_equal(get(c, "sel._domainkey.example.com", TXT, buf, sizeof buf), 10);
    assert_string_equal(buf, "mixed-case");
    assert_int_equal(get(c, "sel._domainkey.example.com", 1, buf, sizeof buf), 0);
    assert_int_equal(get(c, "other._domainkey.example.com", TXT, buf, sizeof buf), 0);
    /* a reply larger than the caller's buffer is a miss, never a partial copy */
    assert_int_equal(keyrecord_cache_get(c, "sel._domainkey.example.com", TXT,
        (unsigned char *)buf, 5), 0);
    /* the same name again replaces the entry */
    put(c, "sel._domainkey.example.com", TXT, "newer", 100);
    assert_int_equal(keyrecord_cache_count(c), 1);
    assert_int_equal(get(c, "SEL._domainkey.example.com", TXT, buf, sizeof buf), 5);
    assert_string_equal(buf, "newer");
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    put(c, long_name, TXT, "too long", 100);
    assert_int_equal(keyrecord_cache_count(c), 1);
    assert_int_equal(get(c, long_name, TXT, buf, sizeof buf), 0);
    keyrecord_cache_free(c);
}

static void test_bound_evicts_expired_then_soonest(void **state)
{
    (void)state;
    char buf[64], name[64];
    fake_now = 0;
    struct keyrecord_cache *c = keyrecord_cache_new(4, 3600, fake_clock);
    put(c, "short._domainkey.example.com", TXT, "short", 5);
    put(c, "a._domainkey.example.com", TXT, "a", 100);
    put(c, "b._domainkey.example.com", TXT, "b", 50);
    put(c, "c._domainkey.example.com", TXT, "c", 200);
    assert_int_equal(keyrecord_cache_count(c), 4);
    fake_now = 10;                      /* "short" has expired: it makes room */
    put(c, "d._domainkey.example.com", TXT, "d", 300);
    assert_int_equal(keyrecord_cache_count(c), 4);
    assert_int_equal(get(c, "a._domainkey.example.com", TXT, buf, sizeof buf), 1);
    assert_int_equal(get(c, "b._domainkey.example.com", TXT, buf, sizeof buf), 1);
    /* nothing expired: the one expiring soonest (b, at 50) goes */
    put(c, "e._domainkey.example.com", TXT, "e", 400);
    assert_int_equal(keyrecord_cache_count(c), 4);
    assert_int_equal(get(c, "b._domainkey.example.com", TXT, buf, sizeof buf), 0);
    assert_int_equal(get(c, "a._domainkey.example.com", TXT, buf, sizeof buf), 1);
    assert_int_equal(get(c, "e._domainkey.example.com", TXT, buf, sizeof buf), 1);
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "k%d._domainkey.example.com", i);
        put(c, name, TXT, name, 1000 + i);
        assert_true(keyrecord_cache_count(c) <= 4);
    }
    keyrecord_cache_free(c);
}

#define THREADS 8
#define NAMES 64
#define ROUNDS 20000

static struct keyrecord_cache *shared;
static int mismatches;

static void *hammer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    char name[64], buf[128];
    for (int i = 0; i < ROUNDS; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 16) % NAMES;
        snprintf(name, sizeof name, "k%u._domainkey.example.com", k);
        size_t n = get(shared, name, TXT, buf, sizeof buf);
        if (n == 0)
            put(shared, name, TXT, name, 1 + (int)(seed % 7));
        else if (n != strlen(name) || strcmp(buf, name) != 0)
            __atomic_add_fetch(&mismatches, 1, __ATOMIC_RELAXED);
        if (i % 1000 == 0)
            __atomic_add_fetch(&fake_now, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_threads_only_read_what_was_stored(void **state)
{
    (void)state;
    fake_now = 0;
    mismatches = 0;
    shared = keyrecord_cache_new(16, 3600, fake_clock);
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)(i + 1)), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(mismatches, 0);
    assert_true(keyrecord_cache_count(shared) <= 16);
    assert_true(keyrecord_cache_count(shared) > 0);
    keyrecord_cache_free(shared);
}

/* DER SubjectPublicKeyInfo of a fresh ed25519 key; *len set. */
static unsigned char *new_pubkey_der(int *len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
    unsigned char *der = NULL;
    *len = i2d_PUBKEY(pkey, &der);
    assert_true(*len > 0);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    return der;
}

static EVP_PKEY *decode(const unsigned char *der, int len)
{
    BIO *bio = BIO_new_mem_buf(der, len);
    EVP_PKEY *pkey = d2i_PUBKEY_bio(bio, NULL);
    BIO_free(bio);
    return pkey;
}

static void test_public_keys_decoded_once_per_bytes(void **state)
{
    (void)state;
    int len1, len2;
    unsigned char *der1 = new_pubkey_der(&len1);
    unsigned char *der2 = new_pubkey_der(&len2);
    EVP_PKEY *a = decode(der1, len1);
    EVP_PKEY *b = decode(der1, len1);
    EVP_PKEY *c = decode(der2, len2);
    assert_non_null(a);
    assert_non_null(c);
    assert_ptr_equal(a, b);            /* decoded once, handed out twice */
    assert_ptr_not_equal(a, c);
    assert_int_equal(EVP_PKEY_eq(a, c), 0);
    /* the key handed out is the key of those bytes */
    unsigned char *again = NULL;
    int again_len = i2d_PUBKEY(c, &again);
    assert_int_equal(again_len, len2);
    assert_memory_equal(again, der2, (size_t)len2);
    OPENSSL_free(again);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(c);
    /* bytes that are no key fail, and are not remembered */
    size_t before = dkim_keycache_pubkey_count();
    unsigned char junk[40] = {0x30, 0x26, 0x01};
    assert_null(decode(junk, sizeof junk));
    assert_int_equal(dkim_keycache_pubkey_count(), before);
    OPENSSL_free(der1);
    OPENSSL_free(der2);
}

static void test_public_key_cache_is_bounded(void **state)
{
    (void)state;
    for (int i = 0; i < 300; i++) {
        int len;
        unsigned char *der = new_pubkey_der(&len);
        EVP_PKEY *pkey = decode(der, len);
        assert_non_null(pkey);
        EVP_PKEY_free(pkey);
        OPENSSL_free(der);
        assert_true(dkim_keycache_pubkey_count() <= 256);
    }
    assert_int_equal(dkim_keycache_pubkey_count(), 256);
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
        cmocka_unit_test(test_entry_expires_with_its_ttl),
        cmocka_unit_test(test_ttl_is_capped_and_zero_is_not_stored),
        cmocka_unit_test(test_names_types_and_small_buffers),
        cmocka_unit_test(test_bound_evicts_expired_then_soonest),
        cmocka_unit_test(test_threads_only_read_what_was_stored),
        cmocka_unit_test(test_public_keys_decoded_once_per_bytes),
        cmocka_unit_test(test_public_key_cache_is_bounded),
        cmocka_unit_test(test_signature_tags_through_folding),
        cmocka_unit_test(test_prefetch_looks_each_key_up_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
