/* arc_seal.h - adds our ARC set to a message (RFC 8617 5.1): the ARC-Authentication-Results
 * (i=, our authserv-id and results), the ARC-Message-Signature (relaxed/relaxed over the
 * header fields asked for and the body hash given) and the ARC-Seal (relaxed over every ARC
 * set, our own last, RFC 8617 5.1.1; only our own set when cv=fail). Pure: no DNS, no clock
 * (t= is given), no I/O; OpenSSL signs with the key given.
 * Promises: the instance is one above the highest i= among the ARC fields given; it refuses
 * (false, with why) to seal when that would exceed 50, when the newest seal given already
 * says cv=fail (RFC 8617 5.1: a failed chain is sealed once with cv=fail, then never again),
 * when cv does not fit the fields (cv=none over an existing chain, pass or fail without one),
 * for a key that is neither RSA nor ed25519 or an RSA key under 1024 bits, and when
 * From is not among the fields signed. a=rsa-sha256 or ed25519-sha256 from the key. */
#ifndef MW_ARC_SEAL_H
#define MW_ARC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "arc_set.h"
#include "header.h"

/* How the tags of the AMS and the seal are laid out. DEFAULT: i=, a=, then the rest, b=
 * last (our order). SUITE: the fixed layout of the ARC test suite's signing tests (tags in
 * alphabetical order: AMS a, b, bh, c, d, h, i, s, t; seal a, b, cv, d, i, s, t). Either way
 * tags are separated by "; " (so relaxed canonicalization is the same as the text). */
enum arc_layout {
    ARC_LAYOUT_DEFAULT,
    ARC_LAYOUT_SUITE,
};

struct arc_seal_key {
    EVP_PKEY *pkey;               /* RSA (>= 1024 bits) or ED25519; not taken over */
    const char *domain;           /* d= */
    const char *selector;         /* s= */
};

struct arc_seal_request {
    const struct header_field *fields; /* the header as it leaves us, in order, with the
                                     ARC sets already present; our own Authentication-
                                     Results may be among them (never signed by the AMS) */
    size_t field_count;
    enum arc_cv cv;               /* arc_result.seal_cv from arc_verify of the same message */
    const char *authserv_id;      /* ours; goes first in the AAR after i= */
    const char *results;          /* the AAR's results after "authserv-id;", e.g.
                                     "arc=pass smtp.remote-ip=192.0.2.1; spf=pass ..."
                                     (no final ";"); NULL or "" = "none" */
    const char *sign_headers;     /* h=: names separated by ":", in the order to sign, each
                                     name signing the bottom-most occurrence not yet signed
                                     (RFC 6376 5.4.2), a name not present signing nothing;
                                     NULL = arc_seal_default_headers, each name as often as
                                     it occurs and names not present left out */
    const unsigned char *body_hash; /* SHA-256 of the body, relaxed canonicalization, no
                                     length limit (arc_bodyhash with ARC_CANON_RELAXED) */
    size_t body_hash_len;         /* 32 */
    uint64_t timestamp;           /* t=, seconds since the epoch (from the caller's clock) */
    enum arc_layout layout;
    const char *fold;             /* NULL: one line each; else the line end to fold long
                                     values with (e.g. "\r\n" or "\n"), continuation lines
                                     starting with a TAB (signed as folded) */
};

/* The header fields the AMS signs when the caller names none (lower case, ":"-separated):
 * from, to, cc, subject, date, message-id, reply-to, in-reply-to, references, mime-version,
 * content-type, content-transfer-encoding, dkim-signature, list-id, list-post,
 * list-unsubscribe, list-unsubscribe-post. */
extern const char *const arc_seal_default_headers;

/* The three values to prepend, newest set on top: insert "ARC-Seal: seal", then
 * "ARC-Message-Signature: ams", then "ARC-Authentication-Results: aar" above the existing
 * fields (so they read seal, ams, aar from the top). Values without the leading space. */
struct arc_sealed {
    unsigned instance;
    char *aar;
    char *ams;
    char *seal;
};

/* Seals; true with out filled (give it to arc_sealed_free), or false with why (a sentence;
 * never key material) and out empty. */
bool arc_seal(const struct arc_seal_request *req, const struct arc_seal_key *key,
    struct arc_sealed *out, char *why, size_t why_size);
void arc_sealed_free(struct arc_sealed *out);

#endif
