/* dkim_keyrecord.h - the DKIM key record of RFC 6376 3.6.1 (a TXT record at
 * selector._domainkey.domain): v=DKIM1 (first when present), k= (rsa, ed25519 of RFC 8463),
 * h= (acceptable hashes), s= (service types), t= (flags y and s), p= (the public key in
 * base64; empty = revoked). Parsed strictly enough to refuse what cannot be used, leniently
 * where RFC 6376 says unknown values are ignored (unknown tags, unknown h= and s= entries,
 * unknown t= flags). Pure: no DNS, no crypto (decoding p= is the verifier's). */
#ifndef MW_DKIM_KEYRECORD_H
#define MW_DKIM_KEYRECORD_H

#include <stdbool.h>
#include <stddef.h>

enum dkim_keyrecord_type {
    DKIM_KEYRECORD_RSA,           /* k=rsa, or no k= */
    DKIM_KEYRECORD_ED25519,       /* k=ed25519 */
    DKIM_KEYRECORD_OTHER,         /* an unknown k=: the key cannot be used */
};

struct dkim_keyrecord {
    enum dkim_keyrecord_type type;
    bool sha256_allowed;          /* h= absent or lists sha256 */
    bool sha1_allowed;            /* h= absent or lists sha1 */
    bool email_service;           /* s= absent, "*" or lists "email" */
    bool testing;                 /* t=y */
    bool strict;                  /* t=s (no subdomains in i=) */
    bool revoked;                 /* p= empty */
    char *public_b64;             /* p= with white space removed (NULL when revoked) */
    char error[160];              /* why parsing failed; empty after success */
};

/* Parses record (the joined character-strings of one TXT record). True, or false with
 * rec->error set (a v= that is not DKIM1 or not first, no p= tag, bad tag syntax, a tag
 * twice). Call dkim_keyrecord_free() either way. */
bool dkim_keyrecord_parse(const char *record, struct dkim_keyrecord *rec);
void dkim_keyrecord_free(struct dkim_keyrecord *rec);

#endif
