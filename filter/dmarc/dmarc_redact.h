/* dmarc_redact.h - the keyed redaction of addresses in DMARC failure reports (RFC 6590, as
 * RFC 9991 suggests): the local part of an address becomes "redacted-" and 16 base32
 * characters of HMAC-SHA256(key, "local@domain" in lower case), so the same address always
 * gives the same token under one installation's key (reports stay correlatable) and nothing
 * of the local part can be read back without the key. Also the key file: read, or created
 * with 32 random bytes (mode 0600) when absent. Promises: the key's bytes are never written
 * anywhere but into the key file and struct dmarc_redact_key, and never into an error text. */
#ifndef MW_DMARC_REDACT_H
#define MW_DMARC_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DMARC_REDACT_KEY_MIN 16       /* bytes of a key file, at least */
#define DMARC_REDACT_KEY_MAX 1024     /* ... at most */
#define DMARC_REDACT_KEY_NEW 32       /* bytes of a created key */
#define DMARC_REDACT_PREFIX "redacted-"
#define DMARC_REDACT_HASH_CHARS 16    /* base32 characters: 80 bits of the HMAC */
#define DMARC_REDACT_TOKEN_SIZE (sizeof DMARC_REDACT_PREFIX + DMARC_REDACT_HASH_CHARS)

struct dmarc_redact_key {
    unsigned char bytes[DMARC_REDACT_KEY_MAX];
    size_t len;
};

/* The token for the address local@domain (local and domain as written, local_len and
 * domain_len bytes; compared in ASCII lower case) into out (DMARC_REDACT_TOKEN_SIZE bytes:
 * the prefix, 16 characters of [a-z2-7], the terminator). */
void dmarc_redact_token(const struct dmarc_redact_key *key, const char *local, size_t local_len,
    const char *domain, size_t domain_len, char *out);

/* Reads the key file path into key: a regular file (not through a symbolic link) that no
 * group or other user may read or write, of DMARC_REDACT_KEY_MIN to DMARC_REDACT_KEY_MAX
 * bytes, used as it is. When it does not exist and create is set, makes it first (32 bytes
 * from the system's random source, mode 0600, given to owner/group when those are not -1,
 * put in place atomically so two processes never see half a key). false + why (naming the
 * file and the fix, never the key) otherwise; *created tells whether it was made. */
bool dmarc_redact_key_load(const char *path, bool create, uid_t owner, gid_t group,
    struct dmarc_redact_key *key, bool *created, char *why, size_t why_size);

#endif
