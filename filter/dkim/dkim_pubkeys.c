/* dkim_pubkeys.c - decoded public keys by p= text (see dkim_pubkeys.h): a fixed array under a
 * read-write lock, searched by hash then bytes; replaced round-robin when full. */
#include "dkim_pubkeys.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc_crypto.h"
#include "util.h"

#define PUBKEY_TEXT_MAX 8192        /* longer p= values are decoded, never kept */

struct cached_pubkey {
    uint64_t hash;
    char *text;                     /* p= */
    bool ed25519;
    EVP_PKEY *pkey;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cached_pubkey keys[DKIM_PUBKEYS_MAX];
static size_t key_count;
static size_t next_victim;          /* replaced next when full: the oldest decoded */

static uint64_t text_hash(const char *p, bool ed25519)
{
    uint64_t h = 14695981039346656037ULL;          /* FNV-1a */
    for (; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ^ (uint64_t)ed25519;
}

static EVP_PKEY *cached(uint64_t hash, const char *text, bool ed25519)
{
    EVP_PKEY *found = NULL;
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < key_count && found == NULL; i++) {
        const struct cached_pubkey *c = &keys[i];
        if (c->hash == hash && c->ed25519 == ed25519 && strcmp(c->text, text) == 0) {
            found = c->pkey;
            EVP_PKEY_up_ref(found);
        }
    }
    pthread_rwlock_unlock(&lock);
    return found;
}

static void remember(uint64_t hash, const char *text, bool ed25519, EVP_PKEY *pkey)
{
    EVP_PKEY_up_ref(pkey);
    struct cached_pubkey fresh = { hash, xstrdup(text), ed25519, pkey };
    struct cached_pubkey old = { 0, NULL, false, NULL };
    pthread_rwlock_wrlock(&lock);
    if (key_count < DKIM_PUBKEYS_MAX) {
        keys[key_count++] = fresh;
    } else {
        old = keys[next_victim];
        keys[next_victim] = fresh;
        next_victim = (next_victim + 1) % DKIM_PUBKEYS_MAX;
    }
    pthread_rwlock_unlock(&lock);
    free(old.text);
    EVP_PKEY_free(old.pkey);
}

EVP_PKEY *dkim_pubkey_get(const char *p_b64, bool ed25519, char *why, size_t why_size)
{
    bool keep = strlen(p_b64) <= PUBKEY_TEXT_MAX;
    uint64_t hash = text_hash(p_b64, ed25519);
    EVP_PKEY *pkey = keep ? cached(hash, p_b64, ed25519) : NULL;
    if (pkey != NULL)
        return pkey;
    pkey = arc_public_key_any_size(p_b64, ed25519, why, why_size);
    if (pkey != NULL && keep)
        remember(hash, p_b64, ed25519, pkey);
    return pkey;
}

size_t dkim_pubkey_count(void)
{
    pthread_rwlock_rdlock(&lock);
    size_t n = key_count;
    pthread_rwlock_unlock(&lock);
    return n;
}
