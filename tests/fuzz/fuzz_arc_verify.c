/* tests/fuzz/fuzz_arc_verify.c - libFuzzer target for ARC verification and sealing
 * (filter/arc/arc_verify.c, arc_seal.c, arc_canon.c, arc_bodyhash.c, arc_crypto.c,
 * filter/dkim/dkim_keyrecord.c). The input is a message: a header block (one field per line,
 * "Name: value", a line starting with SP or HTAB continues the field), an empty line, the
 * body. The reader and the fake key lookup by selector are fuzz_mail.c's: "ed*" an ed25519
 * key (the fuzzer's own, so that sealing can be checked), "rsa*" a 1024-bit key, "nx*"
 * NXDOMAIN, "tmp*" SERVFAIL, "bad*" a broken record, "rev*" a revoked key.
 * Promises under test: no crash, leak or read out of bounds; none exactly when there is no
 * ARC field; pass only with every seal verified and the newest AMS verified, no reason, a
 * count of 1..50 and an oldest-pass of 0 or 2..count; fail always with a reason and a detail;
 * never more key queries than the limit; and when we seal a message whose chain passed (or
 * that had none), the sealed message verifies as pass. */
#include <stdlib.h>
#include <string.h>

#include "arc_bodyhash.h"
#include "arc_seal.h"
#include "arc_verify.h"
#include "fuzz_mail.h"
#include "util.h"


static void fake_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    unsigned *queries = arg;
    (void)type;
    (void)timeout_ms;
    (*queries)++;
    fuzz_mail_key_answer(name, out);
}

static bool has_arc_field(const struct header_field *fields, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (str_ieq(fields[i].name, "ARC-Seal") || str_ieq(fields[i].name, "ARC-Message-Signature")
            || str_ieq(fields[i].name, "ARC-Authentication-Results"))
            return true;
    }
    return false;
}

static void verify(const struct header_field *fields, size_t count, const char *body,
    size_t body_len, struct arc_result *res)
{
    struct arc_limits lim;
    arc_limits_default(&lim);
    lim.max_lookups = 8;
    struct arc_verify *v = arc_verify_begin(fields, count, &lim);
    const char *names[8];
    size_t n = arc_verify_key_names(v, names, 8);
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL || strstr(names[i], "._domainkey.") == NULL)
            abort();
    }
    size_t half = body_len / 2;
    arc_verify_body(v, (const unsigned char *)body, half);
    arc_verify_body(v, (const unsigned char *)body + half, body_len - half);
    unsigned queries = 0;
    arc_verify_finish(v, fake_lookup, &queries, res);
    arc_verify_free(v);
    if (queries > 8 || res->lookups != queries)
        abort();
    switch (res->status) {
    case ARC_STATUS_NONE:
        if (has_arc_field(fields, count) || res->reason != ARC_REASON_OK)
            abort();
        break;
    case ARC_STATUS_PASS:
        if (res->reason != ARC_REASON_OK || res->count < 1 || res->count > ARC_MAX_INSTANCES
            || res->hop_count != res->count || res->oldest_pass == 1 || res->oldest_pass > res->count
            || !res->hop[res->count - 1].ams_ok || res->seal_cv != ARC_CV_PASS)
            abort();
        for (unsigned i = 0; i < res->count; i++) {
            if (!res->hop[i].seal_checked || !res->hop[i].seal_ok)
                abort();
        }
        break;
    case ARC_STATUS_FAIL:
        if (res->reason == ARC_REASON_OK || res->detail[0] == '\0' || res->seal_cv != ARC_CV_FAIL)
            abort();
        break;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    struct header_field *fields = xcalloc(FUZZ_MAIL_MAX_FIELDS + 3, sizeof *fields);
    size_t count = 0;
    char *body = fuzz_mail_split(text, fields, 3, &count);
    size_t body_len = strlen(body);
    struct arc_result res;
    verify(fields + 3, count, body, body_len, &res);
    bool sealable = (res.status == ARC_STATUS_PASS || res.status == ARC_STATUS_NONE)
        && res.lookups + 1 < 8;
    struct arc_bodyhash *bh = arc_bodyhash_new(ARC_CANON_RELAXED, -1);
    arc_bodyhash_update(bh, (const unsigned char *)body, body_len);
    unsigned char digest[ARC_BODYHASH_MAX];
    size_t digest_len = arc_bodyhash_final(bh, digest, NULL);
    arc_bodyhash_free(bh);
    struct arc_seal_request req = {
        .fields = fields + 3, .field_count = count, .cv = res.seal_cv,
        .authserv_id = "fuzz.example", .results = "arc=pass", .body_hash = digest,
        .body_hash_len = digest_len, .timestamp = 1, .layout = ARC_LAYOUT_DEFAULT,
        .fold = size % 2 == 0 ? "\r\n" : NULL,
    };
    struct arc_seal_key key = { .pkey = fuzz_mail_ed_key(), .domain = "fuzz.example",
        .selector = "ed" };
    struct arc_sealed sealed;
    char why[256];
    if (arc_seal(&req, &key, &sealed, why, sizeof why)) {
        fields[0] = (struct header_field){ (char *)"ARC-Seal", sealed.seal, NULL };
        fields[1] = (struct header_field){ (char *)"ARC-Message-Signature", sealed.ams, NULL };
        fields[2] = (struct header_field){ (char *)"ARC-Authentication-Results", sealed.aar, NULL };
        struct arc_result again;
        verify(fields, count + 3, body, body_len, &again);
        if (sealable && again.status != ARC_STATUS_PASS)
            abort();
        arc_result_free(&again);
        arc_sealed_free(&sealed);
    } else if (why[0] == '\0') {
        abort();
    }
    arc_result_free(&res);
    free(fields);
    free(text);
    return 0;
}
