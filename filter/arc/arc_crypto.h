/* arc_crypto.h - the signature algorithms ARC uses, on OpenSSL EVP: rsa-sha256 (RSASSA-
 * PKCS1-v1_5 over SHA-256) and ed25519-sha256 (RFC 8463: PureEdDSA Ed25519 over the SHA-256
 * digest of the data), verifying and signing, the public key of a DKIM key record's p=, and
 * strict base64. Signing is sha256 only: RFC 8617 requires it and RFC 8301 retired rsa-sha1. */
#ifndef MW_ARC_CRYPTO_H
#define MW_ARC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

enum arc_alg {
    ARC_ALG_RSA_SHA256,
    ARC_ALG_ED25519_SHA256,
    ARC_ALG_RSA_SHA1,             /* recognised only to be refused with its own reason */
    ARC_ALG_UNKNOWN,
};

/* a= value -> algorithm ("rsa-sha256", "ed25519-sha256", "rsa-sha1"). */
enum arc_alg arc_alg_parse(const char *a);
const char *arc_alg_name(enum arc_alg alg);

/* Strict base64 (RFC 4648, padding required when the length is not a multiple of 4, no
 * white space: strip it first). Returns a new buffer and its length, or NULL. */
unsigned char *arc_base64_decode(const char *text, size_t *out_len);
char *arc_base64_encode(const unsigned char *data, size_t len);

/* The public key of p= (base64: SubjectPublicKeyInfo or PKCS#1 RSAPublicKey for RSA, the
 * 32 raw octets for ed25519). NULL with why when it does not decode, is not of the type
 * asked, or is an RSA key under 1024 bits. */
EVP_PKEY *arc_public_key(const char *p_b64, bool ed25519, char *why, size_t why_size);
/* The same without the 1024-bit floor, for DKIM's verifier, whose policy sets the minimum
 * (dkim.verify.min_key_bits) and reports a smaller key as its own outcome. */
EVP_PKEY *arc_public_key_any_size(const char *p_b64, bool ed25519, char *why, size_t why_size);

/* Whether sig verifies over data (the signed bytes, hashed here) with key. ARC_ALG_RSA_SHA1
 * verifies too, for DKIM's verifier when the policy still accepts rsa-sha1 (RFC 6376; ARC
 * refuses it before asking); nothing signs with it. */
bool arc_verify_signature(EVP_PKEY *key, enum arc_alg alg, const unsigned char *data,
    size_t data_len, const unsigned char *sig, size_t sig_len);

/* Signs data; a new buffer of *sig_len bytes, or NULL (key of the wrong type). */
unsigned char *arc_sign_data(EVP_PKEY *key, enum arc_alg alg, const unsigned char *data,
    size_t data_len, size_t *sig_len);

#endif
