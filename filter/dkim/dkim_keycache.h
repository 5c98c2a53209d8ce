/* dkim_keycache.h - the parsed private keys libopendkim signs with. libopendkim takes a key
 * as PEM text and parses it again for every message (about 1 ms of CPU for RSA-2048 with
 * OpenSSL 3). The key cache hands it the EVP_PKEY parsed at policy load instead: see
 * dkim_keycache.c. The public keys of verified signatures likewise (decoded once per distinct
 * key record). */
#ifndef MW_DKIM_KEYCACHE_H
#define MW_DKIM_KEYCACHE_H

#include <stdbool.h>
#include <stddef.h>

/* Registers pkey (EVP_PKEY *) as the parsed form of pem[0..len). The cache takes a
 * reference; the caller keeps pem alive until dkim_keycache_remove. */
void dkim_keycache_add(const char *pem, size_t len, void *pkey);
void dkim_keycache_remove(const char *pem);

/* Public keys decoded for verification and kept (at most 256; for tests and statistics). */
size_t dkim_keycache_pubkey_count(void);

/* Parses PEM with OpenSSL itself, bypassing the cache (for loading). Never asks for a pass
 * phrase: an encrypted key fails at once and sets *encrypted. */
void *dkim_keycache_parse_pem(const char *pem, size_t len, bool *encrypted);

#endif
