/* arc_bodyhash.h - the hash of a message body in DKIM's body canonicalization (RFC 6376
 * 3.4.3 simple, 3.4.4 relaxed) with an optional length limit (l=, 3.5), fed in chunks of any
 * size. The canonicalization itself is arc_canon's (one copy, shared with the seal input);
 * this adds SHA-256 through OpenSSL. The body comes with CRLF line ends. */
#ifndef MW_ARC_BODYHASH_H
#define MW_ARC_BODYHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arc_canon.h"

#define ARC_BODYHASH_MAX 32       /* SHA-256 */

struct arc_bodyhash;

/* limit: hash at most this many canonicalized octets; -1 = all. Never NULL. */
struct arc_bodyhash *arc_bodyhash_new(enum arc_canon_kind canon, int64_t limit);
/* The same with SHA-1 (20 bytes), for DKIM's rsa-sha1 where the policy still accepts it. */
struct arc_bodyhash *arc_bodyhash_new_sha1(enum arc_canon_kind canon, int64_t limit);
void arc_bodyhash_update(struct arc_bodyhash *bh, const unsigned char *chunk, size_t len);
/* Ends the body and writes the digest (32 bytes); returns its length. *short_body is set
 * when the limit was larger than the canonicalized body (l= longer than the body: the
 * signature fails, RFC 6376 3.5). Call once. */
size_t arc_bodyhash_final(struct arc_bodyhash *bh, unsigned char out[ARC_BODYHASH_MAX],
    bool *short_body);
/* The length of the whole canonicalized body (after final), hashed or not: more than l=
 * means the signature covers only part of the body. */
uint64_t arc_bodyhash_canonical_length(const struct arc_bodyhash *bh);
void arc_bodyhash_free(struct arc_bodyhash *bh);

#endif
