/* dkim_keys.h - DKIM private keys: read from a key file once per policy load, checked
 * (mode 0600 or stricter, parsable, RSA >= 1024 bits) and kept parsed, so signing never reads
 * a file or parses a key. Key files are the only key source. */
#ifndef MW_DKIM_KEYS_H
#define MW_DKIM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum dkim_key_type {
    DKIM_KEY_RSA,
    DKIM_KEY_ED25519,
};

struct dkim_key {
    enum dkim_key_type type;
    unsigned bits;             /* RSA modulus size; 256 for ed25519 */
    void *pkey;                /* EVP_PKEY *, parsed once; signing uses it as it is */
    char *public_b64;          /* the p= value of its DNS record */
};

/* Loads a key file. On failure returns NULL and writes why (naming the file and the fix)
 * into why. A usable RSA key under 2048 bits loads, with a warning in warn (else ""). */
struct dkim_key *dkim_key_load_file(const char *path, char *why, size_t why_size,
    char *warn, size_t warn_size);
/* Parses key text (PEM, or an ed25519 seed in base64 as RFC 8463 A.1 prints it). */
struct dkim_key *dkim_key_from_text(const char *text, size_t len, const char *source,
    char *why, size_t why_size, char *warn, size_t warn_size);
void dkim_key_free(struct dkim_key *key);

/* "rsa-sha256" / "ed25519-sha256", and the k= tag "rsa" / "ed25519". */
const char *dkim_key_algorithm(const struct dkim_key *key);
const char *dkim_key_k_tag(const struct dkim_key *key);

/* Whether a DNS key record ("v=DKIM1; k=...; p=...") publishes this key's public half.
 * Sets why when not. */
bool dkim_key_matches_record(const struct dkim_key *key, const char *record, char *why,
    size_t why_size);

/* The value of tag `name` in a DKIM tag=value list (RFC 6376 3.2: a key record or a
 * signature), white space removed, in a new string; NULL when the tag is absent. */
char *dkim_tag_value(const char *list, const char *name);

#endif
