/* arc_seal.c - builds and signs our ARC set (RFC 8617 5.1; see arc_seal.h): the AAR from the
 * results given, the AMS over the header fields asked for and the body hash, the seal over
 * the chain. Signatures are computed over the relaxed canonical form (arc_canon); folding
 * at "; " does not change it, folding inside b= does for the fields a later signature covers,
 * so the AAR and AMS are folded before the seal signs them. */
#include "arc_seal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_canon.h"
#include "arc_crypto.h"
#include "util.h"

const char *const arc_seal_default_headers =
    "from:to:cc:subject:date:message-id:reply-to:in-reply-to:references:mime-version:"
    "content-type:content-transfer-encoding:dkim-signature:list-id:list-post:"
    "list-unsubscribe:list-unsubscribe-post";

static bool refuse(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool refuse(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return false;
}

static bool is_arc_field(const char *name)
{
    return str_ieq(name, "ARC-Seal") || str_ieq(name, "ARC-Message-Signature")
        || str_ieq(name, "ARC-Authentication-Results");
}

/* The instance of one ARC field, 0 when it has none readable. */
static unsigned field_instance(const struct header_field *f, struct arc_tags *tags_out)
{
    const char *value = f->value != NULL ? f->value : "";
    if (str_ieq(f->name, "ARC-Authentication-Results")) {
        const char *payload;
        return arc_aar_instance(value, &payload);
    }
    struct arc_tags tags;
    unsigned instance = 0;
    if (arc_tags_parse(value, strlen(value), &tags)) {
        const char *i = arc_tags_get(&tags, "i");
        if (i != NULL && strlen(i) <= 2 && i[0] >= '0' && i[0] <= '9'
            && (i[1] == '\0' || (i[1] >= '0' && i[1] <= '9')))
            instance = (unsigned)atoi(i);
    }
    if (tags_out != NULL)
        *tags_out = tags;
    else
        arc_tags_free(&tags);
    return instance;
}

/* Highest instance among the ARC fields, whether any ARC field exists, and whether the
 * seal of the highest instance says cv=fail. */
static unsigned highest_instance(const struct arc_seal_request *req, bool *any, bool *top_fail)
{
    unsigned highest = 0;
    *any = false;
    *top_fail = false;
    for (size_t i = 0; i < req->field_count; i++) {
        const struct header_field *f = &req->fields[i];
        if (f->name == NULL || !is_arc_field(f->name))
            continue;
        *any = true;
        unsigned n = field_instance(f, NULL);
        if (n > highest)
            highest = n;
    }
    for (size_t i = 0; i < req->field_count; i++) {
        const struct header_field *f = &req->fields[i];
        if (f->name == NULL || !str_ieq(f->name, "ARC-Seal"))
            continue;
        struct arc_tags tags;
        if (field_instance(f, &tags) == highest && highest > 0) {
            const char *cv = arc_tags_get(&tags, "cv");
            if (cv != NULL && strcmp(cv, "fail") == 0)
                *top_fail = true;
        }
        arc_tags_free(&tags);
    }
    return highest;
}

static bool list_has_name(const char *list, const char *name)
{
    char *copy = arc_tags_strip_space(list);
    bool found = false;
    for (char *save = NULL, *n = strtok_r(copy, ":", &save); n != NULL;
         n = strtok_r(NULL, ":", &save)) {
        if (strcasecmp(n, name) == 0)
            found = true;
    }
    free(copy);
    return found;
}

/* The h= list: the caller's (white space removed) or the default list as present. */
static char *signed_names(const struct arc_seal_request *req)
{
    if (req->sign_headers != NULL)
        return arc_tags_strip_space(req->sign_headers);
    struct textbuf h;
    textbuf_init(&h);
    char *copy = xstrdup(arc_seal_default_headers);
    for (char *save = NULL, *n = strtok_r(copy, ":", &save); n != NULL;
         n = strtok_r(NULL, ":", &save)) {
        for (size_t i = 0; i < req->field_count; i++) {
            if (req->fields[i].name == NULL || strcasecmp(req->fields[i].name, n) != 0)
                continue;
            if (h.len > 0)
                textbuf_append(&h, ":", 1);
            textbuf_puts(&h, n);
        }
    }
    free(copy);
    if (h.data == NULL)
        return xstrdup("");
    return h.data;
}

/* Relaxed canonical input of the AMS: the fields named (bottom-most unused first), then the
 * AMS value with b= empty, without the final CRLF. */
static void ams_input(const struct arc_seal_request *req, const char *h, const char *ams_value,
    struct textbuf *out)
{
    bool *used = xcalloc(req->field_count + 1, sizeof *used);
    char *copy = xstrdup(h);
    for (char *save = NULL, *name = strtok_r(copy, ":", &save); name != NULL;
         name = strtok_r(NULL, ":", &save)) {
        for (size_t k = req->field_count; k-- > 0;) {
            const struct header_field *f = &req->fields[k];
            if (used[k] || f->name == NULL || strcasecmp(f->name, name) != 0)
                continue;
            used[k] = true;
            arc_canon_header_field(ARC_CANON_RELAXED, f, out);
            break;
        }
    }
    free(copy);
    free(used);
    char *stripped = arc_canon_without_b(ams_value);
    struct textbuf last;
    textbuf_init(&last);
    arc_canon_relaxed_header("ARC-Message-Signature", stripped, &last);
    textbuf_append(out, last.data, last.len - 2);
    textbuf_free(&last);
    free(stripped);
}

/* Appends the fields of instances 1..n in AAR, AMS, AS order, relaxed (cv=pass chains). */
static bool chain_input(const struct arc_seal_request *req, unsigned n, struct textbuf *out,
    char *why, size_t why_size)
{
    struct arc_chain chain;
    arc_chain_collect(req->fields, req->field_count, &chain);
    if (chain.state != ARC_CHAIN_READY || chain.count != n) {
        refuse(why, why_size, "cv=pass but the ARC chain given is not valid (%s)",
            chain.state == ARC_CHAIN_INVALID ? chain.reason : "no complete chain");
        arc_chain_free(&chain);
        return false;
    }
    const struct header_field **list = xcalloc(3 * (size_t)n, sizeof *list);
    size_t count = arc_canon_seal_fields(&chain, req->fields, n, list);
    for (size_t i = 0; i < count; i++)
        arc_canon_relaxed_header(list[i]->name, list[i]->value != NULL ? list[i]->value : "", out);
    free(list);
    arc_chain_free(&chain);
    return true;
}

static char *sign_b64(EVP_PKEY *pkey, enum arc_alg alg, const struct textbuf *input)
{
    size_t sig_len = 0;
    unsigned char *sig = arc_sign_data(pkey, alg, (const unsigned char *)input->data,
        input->len, &sig_len);
    if (sig == NULL)
        return NULL;
    char *b64 = arc_base64_encode(sig, sig_len);
    free(sig);
    return b64;
}

/* Replaces the SP after "; " with fold + TAB where a line would pass 78 columns, and breaks
 * a long b= value every 64 characters; the relaxed form is unchanged. */
static char *fold_value(const char *value, size_t first_column, const char *fold)
{
    struct textbuf out;
    textbuf_init(&out);
    size_t column = first_column;
    const char *p = value;
    while (*p != '\0') {
        const char *sep = strstr(p, "; ");
        size_t len = sep != NULL ? (size_t)(sep - p) + 1 : strlen(p);
        if (strncmp(p, "b=", 2) == 0 && len > 64) {
            for (size_t k = 0; k < len; k += 64) {
                if (k > 0) {
                    textbuf_puts(&out, fold);
                    textbuf_append(&out, "\t", 1);
                }
                textbuf_append(&out, p + k, len - k < 64 ? len - k : 64);
            }
            column = 1 + (len % 64);
        } else {
            textbuf_append(&out, p, len);
            column += len;
        }
        if (sep == NULL)
            break;
        p = sep + 2;
        const char *next = strstr(p, "; ");
        size_t next_len = next != NULL ? (size_t)(next - p) + 1 : strlen(p);
        if (column + 1 + next_len > 78) {
            textbuf_puts(&out, fold);
            textbuf_append(&out, "\t", 1);
            column = 1;
        } else {
            textbuf_append(&out, " ", 1);
            column++;
        }
    }
    return out.data != NULL ? out.data : xstrdup("");
}

bool arc_seal(const struct arc_seal_request *req, const struct arc_seal_key *key,
    struct arc_sealed *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    int id = key->pkey != NULL ? EVP_PKEY_get_base_id(key->pkey) : 0;
    enum arc_alg alg;
    if (id == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(key->pkey) < 1024)
            return refuse(why, why_size, "the RSA key for %s has under 1024 bits", key->domain);
        alg = ARC_ALG_RSA_SHA256;
    } else if (id == EVP_PKEY_ED25519) {
        alg = ARC_ALG_ED25519_SHA256;
    } else {
        return refuse(why, why_size, "the key for %s is neither RSA nor ed25519", key->domain);
    }
    if (req->body_hash == NULL || req->body_hash_len != 32)
        return refuse(why, why_size, "no SHA-256 body hash given");
    bool any, top_fail;
    unsigned highest = highest_instance(req, &any, &top_fail);
    if (top_fail)
        return refuse(why, why_size, "the newest ARC-Seal (i=%u) says cv=fail: the chain ended"
            " there and is not sealed again (RFC 8617 5.1)", highest);
    if (req->cv == ARC_CV_NONE && any)
        return refuse(why, why_size, "cv=none over a message with ARC header fields");
    if (req->cv != ARC_CV_NONE && !any)
        return refuse(why, why_size, "cv=%s without an ARC chain",
            req->cv == ARC_CV_PASS ? "pass" : "fail");
    if (req->cv == ARC_CV_FAIL && highest == 0)
        return refuse(why, why_size, "cv=fail over ARC fields without a readable instance");
    unsigned instance = highest + 1;
    if (instance > ARC_MAX_INSTANCES)
        return refuse(why, why_size, "the chain has %u sets already: no room for another (RFC"
            " 8617 allows %d)", highest, ARC_MAX_INSTANCES);
    char *h = signed_names(req);
    if (!list_has_name(h, "from")) {
        free(h);
        return refuse(why, why_size, "From is not among the header fields to sign (h=)");
    }
    if (list_has_name(h, "arc-seal")) {
        free(h);
        return refuse(why, why_size, "the AMS may not sign ARC-Seal (RFC 8617 4.1.2)");
    }
    struct textbuf seal_input;
    textbuf_init(&seal_input);
    if (req->cv == ARC_CV_PASS && !chain_input(req, highest, &seal_input, why, why_size)) {
        free(h);
        textbuf_free(&seal_input);
        return false;
    }
    const char *results = req->results != NULL && req->results[0] != '\0' ? req->results : "none";
    const char *a = arc_alg_name(alg);
    const char *cv = req->cv == ARC_CV_NONE ? "none" : req->cv == ARC_CV_PASS ? "pass" : "fail";
    char *bh = arc_base64_encode(req->body_hash, req->body_hash_len);
    unsigned long long t = (unsigned long long)req->timestamp;
    bool suite = req->layout == ARC_LAYOUT_SUITE;

    char *aar = xasprintf("i=%u; %s; %s", instance, req->authserv_id, results);
    /* the AMS, with an empty b= first */
    char *ams_empty = suite
        ? xasprintf("a=%s; b=; bh=%s; c=relaxed/relaxed; d=%s; h=%s; i=%u; s=%s; t=%llu", a, bh,
            key->domain, h, instance, key->selector, t)
        : xasprintf("i=%u; a=%s; c=relaxed/relaxed; d=%s; s=%s; t=%llu; h=%s; bh=%s; b=",
            instance, a, key->domain, key->selector, t, h, bh);
    struct textbuf input;
    textbuf_init(&input);
    ams_input(req, h, ams_empty, &input);
    char *ams_b = sign_b64(key->pkey, alg, &input);
    textbuf_free(&input);
    char *ams = suite
        ? xasprintf("a=%s; b=%s; bh=%s; c=relaxed/relaxed; d=%s; h=%s; i=%u; s=%s; t=%llu", a,
            ams_b != NULL ? ams_b : "", bh, key->domain, h, instance, key->selector, t)
        : xasprintf("i=%u; a=%s; c=relaxed/relaxed; d=%s; s=%s; t=%llu; h=%s; bh=%s; b=%s",
            instance, a, key->domain, key->selector, t, h, bh, ams_b != NULL ? ams_b : "");
    /* Folded now, before the seal signs them: the seal covers the AMS's b= value, whose
     * folding white space relaxed canonicalization keeps (as one SP). */
    if (req->fold != NULL) {
        char *f = fold_value(aar, 28, req->fold);
        free(aar);
        aar = f;
        f = fold_value(ams, 23, req->fold);
        free(ams);
        ams = f;
    }
    /* the seal over the chain (only our set for cv=fail), our set last */
    char *seal_empty = suite
        ? xasprintf("a=%s; b=; cv=%s; d=%s; i=%u; s=%s; t=%llu", a, cv, key->domain, instance,
            key->selector, t)
        : xasprintf("i=%u; a=%s; cv=%s; d=%s; s=%s; t=%llu; b=", instance, a, cv, key->domain,
            key->selector, t);
    arc_canon_relaxed_header("ARC-Authentication-Results", aar, &seal_input);
    arc_canon_relaxed_header("ARC-Message-Signature", ams, &seal_input);
    struct textbuf last;
    textbuf_init(&last);
    arc_canon_relaxed_header("ARC-Seal", seal_empty, &last);
    textbuf_append(&seal_input, last.data, last.len - 2);
    textbuf_free(&last);
    char *seal_b = sign_b64(key->pkey, alg, &seal_input);
    textbuf_free(&seal_input);
    char *seal = suite
        ? xasprintf("a=%s; b=%s; cv=%s; d=%s; i=%u; s=%s; t=%llu", a, seal_b != NULL ? seal_b : "",
            cv, key->domain, instance, key->selector, t)
        : xasprintf("i=%u; a=%s; cv=%s; d=%s; s=%s; t=%llu; b=%s", instance, a, cv, key->domain,
            key->selector, t, seal_b != NULL ? seal_b : "");
    bool ok = ams_b != NULL && seal_b != NULL;
    free(ams_b);
    free(seal_b);
    free(ams_empty);
    free(seal_empty);
    free(bh);
    free(h);
    if (!ok) {
        free(aar);
        free(ams);
        free(seal);
        return refuse(why, why_size, "OpenSSL could not sign with the key for %s", key->domain);
    }
    if (req->fold != NULL) {
        char *f = fold_value(seal, 10, req->fold);
        free(seal);
        seal = f;
    }
    out->instance = instance;
    out->aar = aar;
    out->ams = ams;
    out->seal = seal;
    return true;
}

void arc_sealed_free(struct arc_sealed *out)
{
    free(out->aar);
    free(out->ams);
    free(out->seal);
    memset(out, 0, sizeof *out);
}
