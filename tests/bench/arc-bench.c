/* arc-bench.c - what ARC costs per message in CPU: verifying a chain of three sets (the
 * newest AMS with its body hash, the two older AMSes for oldest-pass, three seals, key
 * records parsed and decoded; DNS answered from memory) and sealing (the body hash, the AMS
 * and the seal), each with RSA-2048 and with ed25519 keys, on a 2 KB message. CPU time of the
 * process (CLOCK_PROCESS_CPUTIME_ID), so that other load on a shared machine does not count.
 * Not a test; numbers in docs/PERFORMANCE.md. `make bench-arc`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "arc_bodyhash.h"
#include "arc_crypto.h"
#include "arc_seal.h"
#include "arc_verify.h"
#include "util.h"

#define MAX_FIELDS 32

struct msg {
    struct header_field field[MAX_FIELDS];
    size_t count;
    char *body;
};

static char *key_record;           /* the one key every hop uses (selector "s") */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static EVP_PKEY *make_key(int id, int bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(id, NULL);
    EVP_PKEY *key = NULL;
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1
        || (bits > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1)
        || EVP_PKEY_keygen(ctx, &key) != 1)
        abort();
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static char *record_of(EVP_PKEY *key)
{
    unsigned char buf[1024];
    size_t len = sizeof buf;
    bool ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
    if (ed) {
        EVP_PKEY_get_raw_public_key(key, buf, &len);
    } else {
        unsigned char *p = buf;
        len = (size_t)i2d_PUBKEY(key, &p);
    }
    char *b64 = arc_base64_encode(buf, len);
    char *rec = xasprintf("v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa", b64);
    free(b64);
    return rec;
}

static void lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    (void)arg;
    (void)name;
    (void)type;
    (void)timeout_ms;
    memset(out, 0, sizeof *out);
    out->status = DNS_OK;
    out->count = 1;
    out->data = xcalloc(2, sizeof *out->data);
    out->data[0] = xstrdup(key_record);
}

static void msg_init(struct msg *m)
{
    memset(m, 0, sizeof *m);
    const char *const base[][2] = {
        { "Authentication-Results", "list.example; spf=pass smtp.mailfrom=a.example" },
        { "From", "Alice <alice@a.example>" }, { "To", "list@list.example" },
        { "Subject", "a benchmark message" }, { "Date", "Thu, 03 Dec 2026 06:00:00 +0000" },
        { "Message-ID", "<bench@a.example>" }, { "MIME-Version", "1.0" },
        { "Content-Type", "text/plain; charset=utf-8" },
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        m->field[i].name = xstrdup(base[i][0]);
        m->field[i].value = xstrdup(base[i][1]);
    }
    m->count = sizeof base / sizeof base[0];
    struct textbuf body;
    textbuf_init(&body);
    while (body.len < 2000)
        textbuf_puts(&body, "A line of text in the body of the message,   with  some blanks.\r\n");
    m->body = body.data;
}

static void msg_free(struct msg *m)
{
    for (size_t i = 0; i < m->count; i++) {
        free(m->field[i].name);
        free(m->field[i].value);
    }
    free(m->body);
}

static void body_hash(const struct msg *m, unsigned char digest[ARC_BODYHASH_MAX])
{
    struct arc_bodyhash *bh = arc_bodyhash_new(ARC_CANON_RELAXED, -1);
    arc_bodyhash_update(bh, (const unsigned char *)m->body, strlen(m->body));
    arc_bodyhash_final(bh, digest, NULL);
    arc_bodyhash_free(bh);
}

/* One seal (body hash included); prepends the set when keep. */
static void seal_once(struct msg *m, EVP_PKEY *key, enum arc_cv cv, bool keep)
{
    unsigned char digest[ARC_BODYHASH_MAX];
    body_hash(m, digest);
    struct arc_seal_request req = {
        .fields = m->field, .field_count = m->count, .cv = cv, .authserv_id = "hop.example",
        .results = "arc=pass; spf=pass smtp.mailfrom=a.example", .body_hash = digest,
        .body_hash_len = 32, .timestamp = 1764741600, .fold = "\r\n",
    };
    struct arc_seal_key sk = { .pkey = key, .domain = "hop.example", .selector = "s" };
    struct arc_sealed out;
    char why[256];
    if (!arc_seal(&req, &sk, &out, why, sizeof why)) {
        fprintf(stderr, "arc-bench: %s\n", why);
        exit(1);
    }
    if (keep) {
        const char *names[3] = { "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results" };
        char *values[3] = { out.seal, out.ams, out.aar };
        memmove(&m->field[3], &m->field[0], m->count * sizeof m->field[0]);
        for (int i = 0; i < 3; i++) {
            m->field[i].name = xstrdup(names[i]);
            m->field[i].value = values[i];
        }
        m->count += 3;
        memset(&out, 0, sizeof out);
    }
    arc_sealed_free(&out);
}

static void verify_once(const struct msg *m)
{
    struct arc_verify *v = arc_verify_begin(m->field, m->count, NULL);
    arc_verify_body(v, (const unsigned char *)m->body, strlen(m->body));
    struct arc_result res;
    arc_verify_finish(v, lookup, NULL, &res);
    if (res.status != ARC_STATUS_PASS || res.count != 3) {
        fprintf(stderr, "arc-bench: the chain does not pass: %s\n", res.detail);
        exit(1);
    }
    arc_result_free(&res);
    arc_verify_free(v);
}

static void run(const char *label, EVP_PKEY *key, int verifies, int seals)
{
    free(key_record);
    key_record = record_of(key);
    struct msg m;
    msg_init(&m);
    seal_once(&m, key, ARC_CV_NONE, true);
    seal_once(&m, key, ARC_CV_PASS, true);
    seal_once(&m, key, ARC_CV_PASS, true);
    double t0 = cpu_seconds();
    for (int i = 0; i < verifies; i++)
        verify_once(&m);
    double t1 = cpu_seconds();
    for (int i = 0; i < seals; i++)
        seal_once(&m, key, ARC_CV_PASS, false);
    double t2 = cpu_seconds();
    printf("%-10s verify a 3-set chain: %8.1f us CPU per message (%d messages)\n", label,
        (t1 - t0) / verifies * 1e6, verifies);
    printf("%-10s seal (4th set):       %8.1f us CPU per message (%d messages)\n", label,
        (t2 - t1) / seals * 1e6, seals);
    msg_free(&m);
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    EVP_PKEY *rsa = make_key(EVP_PKEY_RSA, 2048);
    EVP_PKEY *ed = make_key(EVP_PKEY_ED25519, 0);
    run("RSA-2048", rsa, 2000 * scale, 300 * scale);
    run("ed25519", ed, 2000 * scale, 2000 * scale);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ed);
    free(key_record);
    return 0;
}
