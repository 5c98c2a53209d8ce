/* arc_bodyhash.c - SHA-256 of a canonicalized body with an optional l= limit (see
 * arc_bodyhash.h). The bytes come from arc_canon's body stream; this only counts and hashes. */
#include "arc_bodyhash.h"

#include <stdlib.h>

#include <openssl/evp.h>

#include "util.h"

struct arc_bodyhash {
    struct arc_body_canon canon;
    EVP_MD_CTX *md;
    int64_t limit;                 /* -1: no limit */
    uint64_t hashed;               /* canonical octets hashed */
    uint64_t seen;                 /* canonical octets produced */
};

static void hash_sink(void *arg, const unsigned char *data, size_t len)
{
    struct arc_bodyhash *bh = arg;
    bh->seen += len;
    if (bh->limit >= 0) {
        uint64_t room = (uint64_t)bh->limit - bh->hashed;
        if (len > room)
            len = (size_t)room;
    }
    if (len == 0)
        return;
    EVP_DigestUpdate(bh->md, data, len);
    bh->hashed += len;
}

static struct arc_bodyhash *new_with(enum arc_canon_kind canon, int64_t limit,
    const EVP_MD *digest)
{
    struct arc_bodyhash *bh = xcalloc(1, sizeof *bh);
    arc_body_canon_init(&bh->canon, canon);
    bh->limit = limit < 0 ? -1 : limit;
    bh->md = EVP_MD_CTX_new();
    if (bh->md == NULL || EVP_DigestInit_ex(bh->md, digest, NULL) != 1)
        abort();                   /* out of memory inside OpenSSL, like xmalloc */
    return bh;
}

struct arc_bodyhash *arc_bodyhash_new(enum arc_canon_kind canon, int64_t limit)
{
    return new_with(canon, limit, EVP_sha256());
}

struct arc_bodyhash *arc_bodyhash_new_sha1(enum arc_canon_kind canon, int64_t limit)
{
    return new_with(canon, limit, EVP_sha1());
}

uint64_t arc_bodyhash_canonical_length(const struct arc_bodyhash *bh)
{
    return bh->seen;
}

void arc_bodyhash_update(struct arc_bodyhash *bh, const unsigned char *chunk, size_t len)
{
    arc_body_canon_update(&bh->canon, chunk, len, hash_sink, bh);
}

size_t arc_bodyhash_final(struct arc_bodyhash *bh, unsigned char out[ARC_BODYHASH_MAX],
    bool *short_body)
{
    arc_body_canon_final(&bh->canon, hash_sink, bh);
    unsigned int n = 0;
    EVP_DigestFinal_ex(bh->md, out, &n);
    if (short_body != NULL)
        *short_body = bh->limit >= 0 && bh->seen < (uint64_t)bh->limit;
    return n;
}

void arc_bodyhash_free(struct arc_bodyhash *bh)
{
    if (bh == NULL)
        return;
    EVP_MD_CTX_free(bh->md);
    free(bh);
}
