/* tests/fuzz/fuzz_dkim_verify.c - libFuzzer target for DKIM verification and signing
 * (filter/dkim/dkim_verifier.c, dkim_signer.c, dkim_keyrecord.c, dkim_pubkeys.c and arc/'s
 * canonicalization, body hashes and crypto). The input is a message: a header block (one field
 * per line, "Name: value", a line starting with SP or HTAB continues the field), an empty
 * line, the body. The reader and the fake key lookup by selector are fuzz_mail.c's: "ed*" the
 * fuzzer's own ed25519 key, "rsa*" a 1024-bit RSA key, "nx*" NXDOMAIN, "tmp*" SERVFAIL,
 * "bad*" a broken record, "rev*" a revoked key, anything else NXDOMAIN.
 * Promises under test: no crash, leak or read out of bounds; at most max_signatures results,
 * one lookup per distinct key name at most; every outcome but a pass has a reason; a pass
 * has a d= and an identity within it; and a message we sign with the ed key (From present)
 * verifies as a pass, in every canonicalization. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_signer.h"
#include "dkim_verifier.h"
#include "fuzz_mail.h"
#include "util.h"

#define MAX_SIGNATURES 6

struct lookups {
    unsigned count;
    char *names[64];
};

static const struct dns_answer *fake_lookup(void *arg, const char *name, struct dns_answer *out)
{
    struct lookups *seen = arg;
    for (unsigned i = 0; i < seen->count && i < 64; i++) {
        if (strcasecmp(seen->names[i], name) == 0)
            abort();                   /* the same key asked twice */
    }
    if (seen->count < 64)
        seen->names[seen->count] = xstrdup(name);
    seen->count++;
    fuzz_mail_key_answer(name, out);
    return out;
}

/* Verifies; the outcome of signature `which` (or -1 for none checked). */
static int verify(const struct header_field *fields, size_t count, const char *body,
    size_t body_len, size_t which)
{
    struct dkim_verify_params p = { MAX_SIGNATURES, 1024, body_len % 2 == 0, 1700000000, 300 };
    struct dkim_verifier *v = dkim_verifier_new(fields, count, &p);
    size_t half = body_len / 2;
    dkim_verifier_body(v, (const unsigned char *)body, half);
    dkim_verifier_body(v, (const unsigned char *)body + half, body_len - half);
    struct lookups seen = { 0, { NULL } };
    dkim_verifier_finish(v, fields, count, fake_lookup, &seen);
    size_t n = dkim_verifier_count(v);
    if (n > MAX_SIGNATURES || seen.count > n)
        abort();
    for (unsigned i = 0; i < seen.count && i < 64; i++)
        free(seen.names[i]);
    int wanted = -1;
    for (size_t i = 0; i < n; i++) {
        const struct dkim_sig_check *c = dkim_verifier_result(v, i);
        if (c->outcome != DKIM_OUTCOME_PASS && c->detail[0] == '\0')
            abort();
        if (c->outcome == DKIM_OUTCOME_PASS
            && (c->domain == NULL || c->identity == NULL || c->detail[0] != '\0'))
            abort();
        if (i == which)
            wanted = (int)c->outcome;
    }
    dkim_verifier_free(v);
    return wanted;
}

static bool has_from(const struct header_field *fields, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(fields[i].name, "From") == 0)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    struct header_field *fields = xcalloc(FUZZ_MAIL_MAX_FIELDS + 1, sizeof *fields);
    size_t count = 0;
    char *body = fuzz_mail_split(text, fields, 1, &count);
    size_t body_len = strlen(body);
    verify(fields + 1, count, body, body_len, 0);
    enum arc_canon_kind hc = size % 2 ? ARC_CANON_RELAXED : ARC_CANON_SIMPLE;
    enum arc_canon_kind bc = size % 3 ? ARC_CANON_RELAXED : ARC_CANON_SIMPLE;
    struct dkim_sign_params p = { fuzz_mail_ed_key(), "fuzz.example", "ed", hc, bc, "from:to:subject:date",
        "from", 1700000000, 0 };
    struct dkim_signer *s = dkim_signer_new(&p);
    dkim_signer_body(s, (const unsigned char *)body, body_len);
    char why[256];
    char *value = dkim_signer_finish(s, fields + 1, count, size % 5 != 0, why, sizeof why);
    dkim_signer_free(s);
    if (value == NULL && has_from(fields + 1, count))
        abort();
    if (value != NULL) {
        char *raw = xasprintf(" %s", value);
        fields[0] = (struct header_field){ (char *)"DKIM-Signature", value, raw };
        if (verify(fields, count + 1, body, body_len, 0) != DKIM_OUTCOME_PASS)
            abort();
        free(raw);
        free(value);
    }
    free(fields);
    free(text);
    return 0;
}
