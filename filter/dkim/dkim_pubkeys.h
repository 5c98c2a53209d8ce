/* dkim_pubkeys.h - the public keys of verified signatures, decoded once per distinct key
 * record: OpenSSL 3's decoder costs more than an RSA verification, and the same few keys
 * sign most mail. Keyed by the p= text and the key type; at most DKIM_PUBKEYS_MAX kept (the
 * oldest decoded goes first). Thread-safe. A key handed out is shared: callers only read it
 * and drop their reference with EVP_PKEY_free. */
#ifndef MW_DKIM_PUBKEYS_H
#define MW_DKIM_PUBKEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#define DKIM_PUBKEYS_MAX 256

/* The key of p_b64 (a new reference), or NULL with why when it does not decode as the type
 * asked. No minimum size: the caller compares EVP_PKEY_get_bits with its policy. */
EVP_PKEY *dkim_pubkey_get(const char *p_b64, bool ed25519, char *why, size_t why_size);
/* Keys kept now (for tests and statistics). */
size_t dkim_pubkey_count(void);

#endif
