/* dkim_keys.c - loads DKIM private keys from key files: refuses files other users may read,
 * keys OpenSSL cannot parse, key types other than RSA and ed25519 and RSA keys under 1024
 * bits (RFC 8301); warns under 2048. A loaded key keeps its parsed form, which signing uses
 * as it is, and the p= value of its DNS record. */
#include "dkim_keys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "policy_file.h"
#include "util.h"

#define MAX_KEY_FILE 65536
#define ED25519_SEED_LEN 32

static char *base64_encode(const unsigned char *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* Decodes base64 ignoring whitespace; returns the length or -1. */
static long base64_decode(const char *text, size_t len, unsigned char *out, size_t out_size)
{
    char *clean = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isspace((unsigned char)text[i]))
            clean[n++] = text[i];
    }
    clean[n] = '\0';
    long decoded = -1;
    if (n % 4 == 0 && n / 4 * 3 <= out_size) {
        int got = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)n);
        if (got >= 0) {
            decoded = got;
            for (size_t i = n; i > 0 && clean[i - 1] == '='; i--)
                decoded--;
        }
    }
    free(clean);
    return decoded;
}

/* The p= value: RSA keys publish SubjectPublicKeyInfo DER, ed25519 the raw 32 bytes (RFC 8463). */
static char *public_b64(EVP_PKEY *pkey, enum dkim_key_type type)
{
    if (type == DKIM_KEY_ED25519) {
        unsigned char raw[64];
        size_t len = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1)
            return NULL;
        return base64_encode(raw, len);
    }
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0)
        return NULL;
    char *b64 = base64_encode(der, (size_t)len);
    OPENSSL_free(der);
    return b64;
}

/* OpenSSL's default asks on the terminal; this one refuses at once and notes that a pass
 * phrase was wanted. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(bool *)arg = true;
    return -1;
}

/* PEM text to a private key; never asks for a pass phrase (an encrypted key fails at once and
 * sets *encrypted). */
static EVP_PKEY *parse_pem(const char *pem, size_t len, bool *encrypted)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return NULL;
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, refuse_passphrase, encrypted);
    BIO_free(bio);
    return pkey;
}

static EVP_PKEY *parse_key_text(const char *text, size_t len, bool *encrypted)
{
    *encrypted = false;
    if (len >= 5 && memcmp(text, "-----", 5) == 0)
        return parse_pem(text, len, encrypted);
    unsigned char seed[64];
    long n = base64_decode(text, len, seed, sizeof seed);
    if (n != ED25519_SEED_LEN)
        return NULL;
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, ED25519_SEED_LEN);
}

struct dkim_key *dkim_key_from_text(const char *text, size_t len, const char *source,
    char *why, size_t why_size, char *warn, size_t warn_size)
{
    warn[0] = '\0';
    bool encrypted;
    EVP_PKEY *pkey = parse_key_text(text, len, &encrypted);
    if (pkey == NULL && encrypted) {
        snprintf(why, why_size, "%s: encrypted keys are not supported; decrypt it with "
            "openssl pkey (openssl pkey -in KEY -out PLAIN, then chmod 600 PLAIN)", source);
        return NULL;
    }
    if (pkey == NULL) {
        snprintf(why, why_size, "%s: not a private key (want a PEM RSA or ed25519 key, as "
            "mailwarden-keygen writes, or an ed25519 seed in base64); make a new one with "
            "mailwarden-keygen", source);
        return NULL;
    }
    struct dkim_key *key = xcalloc(1, sizeof *key);
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        key->type = DKIM_KEY_RSA;
        key->bits = (unsigned)EVP_PKEY_get_bits(pkey);
        break;
    case EVP_PKEY_ED25519:
        key->type = DKIM_KEY_ED25519;
        key->bits = 256;
        break;
    default:
        snprintf(why, why_size, "%s: key type %s is not usable for DKIM (RSA or ed25519 only)",
            source, OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
        EVP_PKEY_free(pkey);
        free(key);
        return NULL;
    }
    if (key->type == DKIM_KEY_RSA && key->bits < 1024) {
        snprintf(why, why_size, "%s: RSA key of %u bits; RFC 8301 forbids under 1024: make a "
            "2048-bit key with mailwarden-keygen", source, key->bits);
        EVP_PKEY_free(pkey);
        free(key);
        return NULL;
    }
    if (key->type == DKIM_KEY_RSA && key->bits < 2048)
        snprintf(warn, warn_size, "%s: RSA key of %u bits; 2048 is recommended "
            "(mailwarden-keygen makes one)", source, key->bits);
    key->pkey = pkey;
    key->public_b64 = public_b64(pkey, key->type);
    if (key->public_b64 == NULL) {
        snprintf(why, why_size, "%s: OpenSSL could not re-encode the key", source);
        dkim_key_free(key);
        return NULL;
    }
    return key;
}

struct dkim_key *dkim_key_load_file(const char *path, char *why, size_t why_size,
    char *warn, size_t warn_size)
{
    warn[0] = '\0';
    char reason[300];
    int fd = policy_file_open(path, reason, sizeof reason);
    if (fd < 0) {
        /* a key pasted into file = names no file: never echo it */
        if (policy_path_showable(path))
            snprintf(why, why_size, "%s: cannot read the key file: %s", path, reason);
        else
            snprintf(why, why_size, "file: the value names no file (not shown: it may be key "
                "text): give the path of a key file, as mailwarden-keygen writes");
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(why, why_size, "%s: the key file is open to group or others (mode %04o): "
            "run chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return NULL;
    }
    if (st.st_size <= 0 || st.st_size > MAX_KEY_FILE) {
        snprintf(why, why_size, "%s: %s", path, st.st_size <= 0 ? "the key file is empty"
            : "the key file is too large to be a key");
        close(fd);
        return NULL;
    }
    char *text = xmalloc((size_t)st.st_size + 1);
    ssize_t got = read(fd, text, (size_t)st.st_size);
    close(fd);
    if (got != st.st_size) {
        snprintf(why, why_size, "%s: short read", path);
        free(text);
        return NULL;
    }
    text[got] = '\0';
    struct dkim_key *key = dkim_key_from_text(text, (size_t)got, path, why, why_size, warn,
        warn_size);
    OPENSSL_cleanse(text, (size_t)got);
    free(text);
    return key;
}

void dkim_key_free(struct dkim_key *key)
{
    if (key == NULL)
        return;
    free(key->public_b64);
    EVP_PKEY_free(key->pkey);
    free(key);
}

const char *dkim_key_algorithm(const struct dkim_key *key)
{
    return key->type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

const char *dkim_key_k_tag(const struct dkim_key *key)
{
    return key->type == DKIM_KEY_ED25519 ? "ed25519" : "rsa";
}

char *dkim_tag_value(const char *record, const char *name)
{
    size_t name_len = strlen(name);
    const char *p = record;
    while (*p != '\0') {
        while (isspace((unsigned char)*p) || *p == ';')
            p++;
        const char *tag = p;
        while (*p != '\0' && *p != '=' && *p != ';' && !isspace((unsigned char)*p))
            p++;
        size_t tag_len = (size_t)(p - tag);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=') {
            while (*p != '\0' && *p != ';')
                p++;
            continue;
        }
        p++;
        struct textbuf value;
        textbuf_init(&value);
        while (*p != '\0' && *p != ';') {
            if (!isspace((unsigned char)*p))
                textbuf_append(&value, p, 1);
            p++;
        }
        if (tag_len == name_len && strncmp(tag, name, name_len) == 0)
            return value.data != NULL ? value.data : xstrdup("");
        textbuf_free(&value);
    }
    return NULL;
}

bool dkim_key_matches_record(const struct dkim_key *key, const char *record, char *why,
    size_t why_size)
{
    char *k = dkim_tag_value(record, "k");
    char *p = dkim_tag_value(record, "p");
    bool ok = false;
    if (p == NULL)
        snprintf(why, why_size, "the record has no p= tag");
    else if (*p == '\0')
        snprintf(why, why_size, "the record has an empty p= (the key is revoked)");
    else if (strcmp(k != NULL ? k : "rsa", dkim_key_k_tag(key)) != 0)
        snprintf(why, why_size, "the record says k=%s but the private key is %s",
            k != NULL ? k : "rsa (by default)", dkim_key_k_tag(key));
    else if (strcmp(p, key->public_b64) != 0)
        snprintf(why, why_size, "the record's p= is not the public half of this private key");
    else
        ok = true;
    free(k);
    free(p);
    return ok;
}
