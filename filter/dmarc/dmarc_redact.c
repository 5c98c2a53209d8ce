/* dmarc_redact.c - keyed redaction tokens and the key file (see dmarc_redact.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "dmarc_redact.h"

static void lower_into(unsigned char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
    }
}

void dmarc_redact_token(const struct dmarc_redact_key *key, const char *local, size_t local_len,
    const char *domain, size_t domain_len, char *out)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t n = local_len + 1 + domain_len;
    unsigned char *text = malloc(n + 1);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (text == NULL)
        abort();
    lower_into(text, local, local_len);
    text[local_len] = '@';
    lower_into(text + local_len + 1, domain, domain_len);
    if (HMAC(EVP_sha256(), key->bytes, (int)key->len, text, n, mac, &mac_len) == NULL ||
            mac_len < 10)
        abort();                  /* SHA-256 is always there: a broken library */
    free(text);
    size_t o = strlen(DMARC_REDACT_PREFIX);
    memcpy(out, DMARC_REDACT_PREFIX, o);
    /* 16 characters of 5 bits: the first 80 bits of the HMAC */
    for (size_t i = 0; i < DMARC_REDACT_HASH_CHARS; i++) {
        size_t bit = i * 5;
        unsigned v = ((unsigned)mac[bit / 8] << 8 | mac[bit / 8 + 1]) >> (11 - bit % 8);
        out[o++] = alphabet[v & 31];
    }
    out[o] = 0;
    OPENSSL_cleanse(mac, sizeof mac);
}

/* A new key in a temporary file beside path, linked into place: false + why. EEXIST from the
 * link (another process made it first) is not an error: that key is read. */
static bool create_key(const char *path, uid_t owner, gid_t group, char *why, size_t why_size)
{
    char tmp[4096];
    unsigned char fresh[DMARC_REDACT_KEY_NEW];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(why, why_size, "%s: the path is too long", path);
        return false;
    }
    int fd = mkstemp(tmp);                 /* mode 0600 */
    if (fd < 0) {
        snprintf(why, why_size, "%s: cannot create the key (%s): create its directory, "
            "writable by this user, or set failure_redact_key to a file there", path,
            strerror(errno));
        return false;
    }
    bool ok = RAND_bytes(fresh, sizeof fresh) == 1;
    if (!ok)
        snprintf(why, why_size, "%s: the system's random source gave no key", path);
    ok = ok && fchmod(fd, 0600) == 0;
    if (ok && (owner != (uid_t)-1 || group != (gid_t)-1) && fchown(fd, owner, group) != 0) {
        snprintf(why, why_size, "%s: cannot give the new key to its user (%s)", path,
            strerror(errno));
        ok = false;
    }
    if (ok && (write(fd, fresh, sizeof fresh) != (ssize_t)sizeof fresh || fsync(fd) != 0)) {
        snprintf(why, why_size, "%s: cannot write the new key (%s)", path, strerror(errno));
        ok = false;
    }
    OPENSSL_cleanse(fresh, sizeof fresh);
    close(fd);
    if (ok && link(tmp, path) != 0 && errno != EEXIST) {
        snprintf(why, why_size, "%s: cannot put the new key in place (%s)", path,
            strerror(errno));
        ok = false;
    }
    unlink(tmp);
    return ok;
}

bool dmarc_redact_key_load(const char *path, bool create, uid_t owner, gid_t group,
    struct dmarc_redact_key *key, bool *created, char *why, size_t why_size)
{
    memset(key, 0, sizeof *key);
    *created = false;
    if (path == NULL || path[0] != '/') {
        snprintf(why, why_size, "\"%s\": give the key file's absolute path, as "
            "\"/var/lib/mailwarden/dmarc-redact.key\"", path != NULL ? path : "");
        return false;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (!create_key(path, owner, group, why, why_size))
            return false;
        *created = true;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(why, why_size, "%s: cannot read the key (%s)%s", path, strerror(errno),
            errno == ELOOP ? ": it is a symbolic link; name the file itself" : "");
        return false;
    }
    struct stat st;
    const char *bad = NULL;
    if (fstat(fd, &st) != 0)
        bad = "cannot be examined";
    else if (!S_ISREG(st.st_mode))
        bad = "is not a regular file";
    else if ((st.st_mode & 077) != 0)
        bad = "may be read or written by group or others: chmod 600 it";
    else if (st.st_size < DMARC_REDACT_KEY_MIN || st.st_size > DMARC_REDACT_KEY_MAX)
        bad = "must hold 16 to 1024 bytes (remove it and a new one of 32 random bytes is made)";
    ssize_t got = 0;
    if (bad == NULL) {
        got = read(fd, key->bytes, sizeof key->bytes);
        if (got < DMARC_REDACT_KEY_MIN)
            bad = "could not be read whole";
    }
    close(fd);
    if (bad != NULL) {
        OPENSSL_cleanse(key, sizeof *key);
        snprintf(why, why_size, "%s %s", path, bad);
        return false;
    }
    key->len = (size_t)got;
    return true;
}
