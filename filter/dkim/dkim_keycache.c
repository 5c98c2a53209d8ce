/* dkim_keycache.c - keeps libopendkim from parsing the signing key for every message.
 *
 * libopendkim (2.11) loads the signing key in dkim_eom() by calling OpenSSL's
 * PEM_read_bio_PrivateKey() on the PEM text given to dkim_sign(). This file defines that
 * function in the daemon: the dynamic linker resolves libopendkim's call to it. When the
 * BIO holds exactly the PEM text of a key registered at policy load, it returns that parsed
 * key (with a new reference, which libopendkim frees as if it had parsed it); for anything
 * else it calls OpenSSL's own function (dlsym RTLD_NEXT). The signatures are the same bytes
 * either way; only the parsing is skipped. Thread-safe: lookups take a read lock.
 *
 * The verifier's public keys the same way: libopendkim decodes the key of every signature it
 * checks with d2i_PUBKEY_bio() on the DER bytes of the key record's p= tag, and OpenSSL 3's
 * decoder costs far more than the RSA verification itself. d2i_PUBKEY_bio is defined here
 * too: a memory BIO whose bytes were decoded before gets that key again (a new reference);
 * other bytes are decoded by OpenSSL and remembered. The key is a function of the bytes
 * alone, so a changed DNS record (new bytes) is simply decoded anew; at most
 * PUBKEY_CACHE_MAX keys are kept (the oldest decoded goes first). A key in this cache is
 * shared between messages: callers must not modify it (libopendkim only reads it). */
#include "dkim_keycache.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "util.h"

struct cached_key {
    const char *pem;
    size_t len;
    EVP_PKEY *pkey;
};

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cached_key *cache;
static size_t cache_count;

typedef EVP_PKEY *pem_reader_fn(BIO *, EVP_PKEY **, pem_password_cb *, void *);

static pem_reader_fn *openssl_reader;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve_openssl_reader(void)
{
    void *sym = dlsym(RTLD_NEXT, "PEM_read_bio_PrivateKey");
    memcpy(&openssl_reader, &sym, sizeof openssl_reader);
}

static EVP_PKEY *read_with_openssl(BIO *bio, EVP_PKEY **out, pem_password_cb *cb, void *arg)
{
    pthread_once(&resolve_once, resolve_openssl_reader);
    if (openssl_reader == NULL)
        abort();               /* libcrypto is linked: the symbol exists */
    return openssl_reader(bio, out, cb, arg);
}

static EVP_PKEY *cached_for(const char *data, size_t len)
{
    EVP_PKEY *found = NULL;
    pthread_rwlock_rdlock(&cache_lock);
    for (size_t i = 0; i < cache_count && found == NULL; i++) {
        if (cache[i].len == len && memcmp(cache[i].pem, data, len) == 0) {
            found = cache[i].pkey;
            EVP_PKEY_up_ref(found);
        }
    }
    pthread_rwlock_unlock(&cache_lock);
    return found;
}

EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bio, EVP_PKEY **out, pem_password_cb *cb, void *arg)
{
    char *data = NULL;
    long len = BIO_method_type(bio) == BIO_TYPE_MEM ? BIO_get_mem_data(bio, &data) : 0;
    if (out == NULL && len > 0 && data != NULL) {
        EVP_PKEY *pkey = cached_for(data, (size_t)len);
        if (pkey != NULL)
            return pkey;
    }
    return read_with_openssl(bio, out, cb, arg);
}

/* --- public keys (DER, from key records) --- */

#define PUBKEY_CACHE_MAX 256
#define PUBKEY_DER_MAX 8192          /* larger bytes are decoded, never kept */

struct cached_pubkey {
    uint64_t hash;
    unsigned char *der;
    size_t len;
    EVP_PKEY *pkey;
};

static pthread_rwlock_t pubkey_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cached_pubkey pubkeys[PUBKEY_CACHE_MAX];
static size_t pubkey_count;
static size_t pubkey_next_victim;    /* replaced next when full: the oldest decoded */

typedef EVP_PKEY *der_reader_fn(BIO *, EVP_PKEY **);

static der_reader_fn *openssl_pubkey_reader;
static pthread_once_t resolve_pubkey_once = PTHREAD_ONCE_INIT;

static void resolve_openssl_pubkey_reader(void)
{
    void *sym = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
    memcpy(&openssl_pubkey_reader, &sym, sizeof openssl_pubkey_reader);
}

static EVP_PKEY *decode_with_openssl(BIO *bio, EVP_PKEY **out)
{
    pthread_once(&resolve_pubkey_once, resolve_openssl_pubkey_reader);
    if (openssl_pubkey_reader == NULL)
        abort();               /* libcrypto is linked: the symbol exists */
    return openssl_pubkey_reader(bio, out);
}

static uint64_t der_hash(const unsigned char *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;          /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static EVP_PKEY *cached_pubkey_for(uint64_t hash, const unsigned char *der, size_t len)
{
    EVP_PKEY *found = NULL;
    pthread_rwlock_rdlock(&pubkey_lock);
    for (size_t i = 0; i < pubkey_count && found == NULL; i++) {
        const struct cached_pubkey *c = &pubkeys[i];
        if (c->hash == hash && c->len == len && memcmp(c->der, der, len) == 0) {
            found = c->pkey;
            EVP_PKEY_up_ref(found);
        }
    }
    pthread_rwlock_unlock(&pubkey_lock);
    return found;
}

/* Keeps pkey (a new reference) for the bytes der, which the cache takes over. */
static void remember_pubkey(uint64_t hash, unsigned char *copy, size_t len, EVP_PKEY *pkey)
{
    EVP_PKEY_up_ref(pkey);
    struct cached_pubkey old = {0, NULL, 0, NULL};
    pthread_rwlock_wrlock(&pubkey_lock);
    if (pubkey_count < PUBKEY_CACHE_MAX) {
        pubkeys[pubkey_count++] = (struct cached_pubkey){hash, copy, len, pkey};
    } else {
        old = pubkeys[pubkey_next_victim];
        pubkeys[pubkey_next_victim] = (struct cached_pubkey){hash, copy, len, pkey};
        pubkey_next_victim = (pubkey_next_victim + 1) % PUBKEY_CACHE_MAX;
    }
    pthread_rwlock_unlock(&pubkey_lock);
    free(old.der);
    EVP_PKEY_free(old.pkey);
}

EVP_PKEY *d2i_PUBKEY_bio(BIO *bio, EVP_PKEY **out)
{
    char *data = NULL;
    long len = BIO_method_type(bio) == BIO_TYPE_MEM ? BIO_get_mem_data(bio, &data) : 0;
    if (out != NULL || len <= 0 || len > PUBKEY_DER_MAX || data == NULL)
        return decode_with_openssl(bio, out);
    const unsigned char *der = (const unsigned char *)data;
    uint64_t hash = der_hash(der, (size_t)len);
    EVP_PKEY *pkey = cached_pubkey_for(hash, der, (size_t)len);
    if (pkey != NULL)
        return pkey;
    unsigned char *copy = xmalloc((size_t)len);    /* decoding consumes the BIO's bytes */
    memcpy(copy, der, (size_t)len);
    pkey = decode_with_openssl(bio, NULL);
    if (pkey != NULL)
        remember_pubkey(hash, copy, (size_t)len, pkey);
    else
        free(copy);
    return pkey;
}

size_t dkim_keycache_pubkey_count(void)
{
    pthread_rwlock_rdlock(&pubkey_lock);
    size_t n = pubkey_count;
    pthread_rwlock_unlock(&pubkey_lock);
    return n;
}

/* OpenSSL's default asks on the terminal; this one refuses at once and notes that a pass
 * phrase was wanted. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(bool *)arg = true;
    return -1;
}

void *dkim_keycache_parse_pem(const char *pem, size_t len, bool *encrypted)
{
    *encrypted = false;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return NULL;
    EVP_PKEY *pkey = read_with_openssl(bio, NULL, refuse_passphrase, encrypted);
    BIO_free(bio);
    return pkey;
}

void dkim_keycache_add(const char *pem, size_t len, void *pkey)
{
    EVP_PKEY_up_ref(pkey);
    pthread_rwlock_wrlock(&cache_lock);
    cache = xrealloc(cache, (cache_count + 1) * sizeof *cache);
    cache[cache_count++] = (struct cached_key){pem, len, pkey};
    pthread_rwlock_unlock(&cache_lock);
}

void dkim_keycache_remove(const char *pem)
{
    EVP_PKEY *drop = NULL;
    pthread_rwlock_wrlock(&cache_lock);
    for (size_t i = 0; i < cache_count; i++) {
        if (cache[i].pem == pem) {
            drop = cache[i].pkey;
            cache[i] = cache[--cache_count];
            break;
        }
    }
    if (cache_count == 0) {
        free(cache);
        cache = NULL;
    }
    pthread_rwlock_unlock(&cache_lock);
    EVP_PKEY_free(drop);
}
