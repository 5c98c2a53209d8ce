/* arc_crypto.c - rsa-sha256 and ed25519-sha256 signing and verification, key decoding and
 * base64 for ARC (see arc_crypto.h). Everything through OpenSSL's EVP interface. */
#include "arc_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "util.h"

enum arc_alg arc_alg_parse(const char *a)
{
    if (strcmp(a, "rsa-sha256") == 0)
        return ARC_ALG_RSA_SHA256;
    if (strcmp(a, "ed25519-sha256") == 0)
        return ARC_ALG_ED25519_SHA256;
    if (strcmp(a, "rsa-sha1") == 0)
        return ARC_ALG_RSA_SHA1;
    return ARC_ALG_UNKNOWN;
}

const char *arc_alg_name(enum arc_alg alg)
{
    switch (alg) {
    case ARC_ALG_RSA_SHA256:
        return "rsa-sha256";
    case ARC_ALG_ED25519_SHA256:
        return "ed25519-sha256";
    case ARC_ALG_RSA_SHA1:
        return "rsa-sha1";
    case ARC_ALG_UNKNOWN:
        break;
    }
    return "unknown";
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

unsigned char *arc_base64_decode(const char *text, size_t *out_len)
{
    size_t len = strlen(text);
    if (len == 0 || len % 4 != 0)
        return NULL;
    size_t pad = 0;
    if (text[len - 1] == '=')
        pad = text[len - 2] == '=' ? 2 : 1;
    unsigned char *out = xmalloc(len / 4 * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (size_t k = 0; k < 4; k++) {
            bool padding = i + k >= len - pad;
            v[k] = padding ? 0 : b64_value(text[i + k]);
            if (v[k] < 0 || (padding && text[i + k] != '=')) {
                free(out);
                return NULL;
            }
        }
        unsigned long triple = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12)
            | ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        out[n++] = (unsigned char)(triple >> 16);
        out[n++] = (unsigned char)(triple >> 8);
        out[n++] = (unsigned char)triple;
    }
    *out_len = n - pad;
    return out;
}

char *arc_base64_encode(const unsigned char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = xmalloc((len + 2) / 3 * 4 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long triple = (unsigned long)data[i] << 16;
        if (i + 1 < len)
            triple |= (unsigned long)data[i + 1] << 8;
        if (i + 2 < len)
            triple |= data[i + 2];
        out[n++] = alphabet[(triple >> 18) & 63];
        out[n++] = alphabet[(triple >> 12) & 63];
        out[n++] = i + 1 < len ? alphabet[(triple >> 6) & 63] : '=';
        out[n++] = i + 2 < len ? alphabet[triple & 63] : '=';
    }
    out[n] = '\0';
    return out;
}

EVP_PKEY *arc_public_key_any_size(const char *p_b64, bool ed25519, char *why, size_t why_size)
{
    size_t der_len = 0;
    unsigned char *der = arc_base64_decode(p_b64, &der_len);
    if (der == NULL) {
        snprintf(why, why_size, "p= is not valid base64");
        return NULL;
    }
    EVP_PKEY *key = NULL;
    if (ed25519) {
        if (der_len == 32)
            key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, der_len);
        free(der);
        if (key == NULL)
            snprintf(why, why_size, "p= is not a 32-octet ed25519 public key");
        return key;
    }
    const unsigned char *p = der;
    key = d2i_PUBKEY(NULL, &p, (long)der_len);
    if (key == NULL) {
        p = der;
        key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)der_len);
    }
    free(der);
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        snprintf(why, why_size, "p= is not an RSA public key");
        return NULL;
    }
    return key;
}

EVP_PKEY *arc_public_key(const char *p_b64, bool ed25519, char *why, size_t why_size)
{
    EVP_PKEY *key = arc_public_key_any_size(p_b64, ed25519, why, why_size);
    if (key != NULL && !ed25519 && EVP_PKEY_get_bits(key) < 1024) {
        snprintf(why, why_size, "the RSA key has %d bits, under the 1024 RFC 8301 requires",
            EVP_PKEY_get_bits(key));
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

static bool key_fits(EVP_PKEY *key, enum arc_alg alg)
{
    int id = EVP_PKEY_get_base_id(key);
    if (alg == ARC_ALG_RSA_SHA256)
        return id == EVP_PKEY_RSA;
    if (alg == ARC_ALG_ED25519_SHA256)
        return id == EVP_PKEY_ED25519;
    return false;
}

bool arc_verify_signature(EVP_PKEY *key, enum arc_alg alg, const unsigned char *data,
    size_t data_len, const unsigned char *sig, size_t sig_len)
{
    bool sha1 = alg == ARC_ALG_RSA_SHA1;
    if (!key_fits(key, sha1 ? ARC_ALG_RSA_SHA256 : alg))
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        abort();
    bool ok;
    if (alg == ARC_ALG_RSA_SHA256 || sha1) {
        ok = EVP_DigestVerifyInit(ctx, NULL, sha1 ? EVP_sha1() : EVP_sha256(), NULL, key) == 1
            && EVP_DigestVerify(ctx, sig, sig_len, data, data_len) == 1;
    } else {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digest_len = 0;
        ok = EVP_Digest(data, data_len, digest, &digest_len, EVP_sha256(), NULL) == 1
            && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1
            && EVP_DigestVerify(ctx, sig, sig_len, digest, digest_len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

unsigned char *arc_sign_data(EVP_PKEY *key, enum arc_alg alg, const unsigned char *data,
    size_t data_len, size_t *sig_len)
{
    if (!key_fits(key, alg))
        return NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        abort();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    const unsigned char *input = data;
    size_t input_len = data_len;
    const EVP_MD *md = EVP_sha256();
    if (alg == ARC_ALG_ED25519_SHA256) {
        if (EVP_Digest(data, data_len, digest, &digest_len, EVP_sha256(), NULL) != 1) {
            EVP_MD_CTX_free(ctx);
            return NULL;
        }
        input = digest;
        input_len = digest_len;
        md = NULL;
    }
    unsigned char *sig = NULL;
    size_t len = 0;
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1
        && EVP_DigestSign(ctx, NULL, &len, input, input_len) == 1) {
        sig = xmalloc(len);
        if (EVP_DigestSign(ctx, sig, &len, input, input_len) != 1) {
            free(sig);
            sig = NULL;
        }
    }
    EVP_MD_CTX_free(ctx);
    *sig_len = len;
    return sig;
}
