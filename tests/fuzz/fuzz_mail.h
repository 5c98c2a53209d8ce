/* tests/fuzz/fuzz_mail.h - what the mail-signature fuzz targets (fuzz_arc_verify.c,
 * fuzz_dkim_verify.c) share: the fuzzer's own ed25519 key and its DKIM key record, the fake
 * key records answered by selector, and the reader that splits an input into header fields
 * and a body. (Implementation: fuzz_mail.c, built into every target by run.sh.) */
#ifndef MW_FUZZ_MAIL_H
#define MW_FUZZ_MAIL_H

#include <stddef.h>

#include <openssl/evp.h>

#include "dns.h"
#include "header.h"

#define FUZZ_MAIL_MAX_FIELDS 200

/* The fuzzer's ed25519 key, made on first call from a fixed seed (the ARC seed corpus is
 * sealed with it); never NULL (aborts when OpenSSL cannot make it). */
EVP_PKEY *fuzz_mail_ed_key(void);

/* The key record for a selector, as a DNS answer (the caller frees it with dns_answer_free):
 * "ed*" the ed25519 key above, "rsa*" a 1024-bit RSA key, "bad*" a broken record, "rev*" a
 * revoked key, "tmp*" SERVFAIL, anything else ("nx*") NXDOMAIN. */
void fuzz_mail_key_answer(const char *name, struct dns_answer *out);

/* Splits text in place into fields (one a line, "Name: value", a line starting with SP or HTAB
 * continues the field; at most FUZZ_MAIL_MAX_FIELDS slots, filled from slot `first` on, the
 * number filled in *count) and returns the body: what follows the empty line, or where the
 * header block stopped. */
char *fuzz_mail_split(char *text, struct header_field *fields, size_t first, size_t *count);

#endif
