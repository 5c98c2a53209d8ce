/* dkim_signer.h - makes a DKIM-Signature (RFC 6376, RFC 8463) for one message: the body is
 * fed in chunks as it arrives (CRLF line ends), the header fields are given at the end, and
 * the field's value comes back folded, ready to insert above the others. rsa-sha256 or
 * ed25519-sha256 from the key; canonicalization, the fields to sign and oversign, t= and x=
 * from the caller. Pure: no clock (t= is given), no I/O; OpenSSL signs with the key given,
 * which is parsed once per policy load and never here. */
#ifndef MW_DKIM_SIGNER_H
#define MW_DKIM_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "arc_canon.h"
#include "header.h"

struct dkim_sign_params {
    EVP_PKEY *key;             /* RSA (>= 1024 bits) or ED25519; not taken over */
    const char *domain;        /* d= */
    const char *selector;      /* s= */
    enum arc_canon_kind header_canon;
    enum arc_canon_kind body_canon;
    const char *sign_headers;  /* "from:to:subject": each listed name as often as it occurs */
    const char *oversign;      /* names listed once more than they occur (absent ones once) */
    uint64_t timestamp;        /* t= */
    uint64_t expire_s;         /* x= = t= + this; 0 = no x= */
};

struct dkim_signer;

/* Copies what it needs from p (the key gets a reference of its own). Never NULL. */
struct dkim_signer *dkim_signer_new(const struct dkim_sign_params *p);
void dkim_signer_body(struct dkim_signer *s, const unsigned char *chunk, size_t len);
/* Signs over fields (the header as it stands, in order) and the body fed so far: the new
 * field's value (malloc'd; folded where lines pass 78 columns when fold is
 * true; LF + TAB, the MTA writes CRLF), or NULL with why (no From among the fields signed, a key OpenSSL cannot sign with).
 * Call once. */
char *dkim_signer_finish(struct dkim_signer *s, const struct header_field *fields, size_t count,
    bool fold, char *why, size_t why_size);
void dkim_signer_free(struct dkim_signer *s);

#endif
