/* dkim_keycache.c - keeps libopendkim from parsing the signing key for every message.
 *
 * libopendkim (2.11) loads the signing key in dkim_eom() by calling OpenSSL's
 * PEM_read_bio_PrivateKey() on the PEM text given to dkim_sign(). This file defines that
 * function in the daemon: the dynamic linker resolves libopendkim's call to it. When the
 * BIO holds exactly the PEM text of a key registered at policy load, it returns that parsed
 * key (with a new reference, which libopendkim frees as if it had parsed it); for anything
 * else it calls OpenSSL's own function (dlsym RTLD_NEXT). The signatures are the same bytes
 * either way; only the parsing is skipped. Thread-safe: lookups take a read lock. */
#include "dkim_keycache.h"

#include <dlfcn.h>
#include <pthread.h>
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

void *dkim_keycache_parse_pem(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return NULL;
    EVP_PKEY *pkey = read_with_openssl(bio, NULL, NULL, NULL);
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
