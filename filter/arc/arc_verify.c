/* arc_verify.c - verification of an ARC chain (RFC 8617 5.2; see arc_verify.h): structure by
 * arc_set, then the newest ARC-Message-Signature (step 5), every ARC-Seal from the oldest up
 * so that the first seal that does not verify is the one named (step 7), then the older
 * AMSes for oldest-pass (step 6, done last so that a failing chain costs no extra lookups). Every failure names the instance, the field and why. */
#include "arc_verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_bodyhash.h"
#include "arc_canon.h"
#include "arc_crypto.h"
#include "dkim_keyrecord.h"
#include "util.h"

#define MAX_KEYS (2 * ARC_MAX_INSTANCES)
#define KEY_NAME_MAX 320

/* One body hash the AMSes ask for. */
struct body_request {
    enum arc_canon_kind canon;
    int64_t limit;
    struct arc_bodyhash *bh;
    unsigned char digest[ARC_BODYHASH_MAX];
    size_t digest_len;
    bool short_body;
};

/* An AMS read for verification. */
struct ams_info {
    bool usable;                   /* parsed; else reason/detail say why */
    enum arc_reason reason;
    char detail[320];
    enum arc_alg alg;
    enum arc_canon_kind header_canon;
    size_t body;                   /* index into bodies */
    unsigned char *bh;
    size_t bh_len;
    unsigned char *b;
    size_t b_len;
    size_t key;                    /* index into keys */
};

/* A key record name and what it gave. */
struct key_entry {
    char name[KEY_NAME_MAX];
    bool fetched;
    enum arc_reason reason;        /* ARC_REASON_OK when the record parsed */
    char detail[320];
    struct dkim_keyrecord rec;
    EVP_PKEY *pkey;                /* decoded on first use */
    bool decode_failed;
};

struct arc_verify {
    const struct header_field *fields;
    size_t count;
    struct arc_limits lim;
    struct arc_chain chain;
    struct arc_result early;       /* decided at begin (none, or fail) when decided */
    bool decided;
    struct ams_info ams[ARC_MAX_INSTANCES];
    struct body_request body[ARC_MAX_INSTANCES];
    size_t body_count;
    struct key_entry *keys;
    size_t key_count;
    size_t seal_key[ARC_MAX_INSTANCES];
    bool body_done;
    /* during finish */
    arc_lookup_fn lookup;
    void *lookup_arg;
    uint64_t deadline;
    unsigned lookups;
};

const char *arc_reason_name(enum arc_reason reason)
{
    static const char *const names[] = {
        "ok", "structure", "cv-fail", "too-many", "algorithm", "bad-tag", "body-hash",
        "signature", "key-not-found", "key-temperror", "key-permerror", "lookup-limit",
        "budget",
    };
    if ((size_t)reason < sizeof names / sizeof names[0])
        return names[reason];
    return "unknown";
}

const char *arc_status_name(enum arc_status status)
{
    switch (status) {
    case ARC_STATUS_NONE:
        return "none";
    case ARC_STATUS_PASS:
        return "pass";
    case ARC_STATUS_FAIL:
        break;
    }
    return "fail";
}

const char *arc_field_name(enum arc_field field)
{
    switch (field) {
    case ARC_FIELD_AAR:
        return "ARC-Authentication-Results";
    case ARC_FIELD_AMS:
        return "ARC-Message-Signature";
    case ARC_FIELD_SEAL:
        return "ARC-Seal";
    case ARC_FIELD_NONE:
        break;
    }
    return "chain";
}

void arc_limits_default(struct arc_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->max_instances = ARC_MAX_INSTANCES;
    lim->max_lookups = 16;
    lim->budget_ms = 10000;
    lim->query_timeout_ms = 0;
    lim->check_older_ams = true;
}

void arc_lookup_resolver(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    dns_query(arg, name, type, timeout_ms, out);
}

static void set_fail(struct arc_result *r, unsigned instance, enum arc_field field,
    enum arc_reason reason, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_fail(struct arc_result *r, unsigned instance, enum arc_field field,
    enum arc_reason reason, const char *fmt, ...)
{
    r->status = ARC_STATUS_FAIL;
    r->seal_cv = ARC_CV_FAIL;
    r->fail_instance = instance;
    r->fail_field = field;
    r->reason = reason;
    r->oldest_pass = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

static const char *field_value(const struct header_field *f)
{
    return f->value != NULL ? f->value : "";
}

/* Parses an l= value (1*76DIGIT); -1 when it is not a number we can use. */
static int64_t parse_length(const char *text)
{
    size_t n = strlen(text);
    if (n == 0 || n > 15)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

static size_t key_index(struct arc_verify *v, const char *selector, const char *domain)
{
    char name[KEY_NAME_MAX];
    snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain);
    for (size_t i = 0; i < v->key_count; i++) {
        if (strcasecmp(v->keys[i].name, name) == 0)
            return i;
    }
    struct key_entry *k = &v->keys[v->key_count];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%.100s", name);
    if (strlen(selector) + strlen(domain) + 12 > 253) {
        k->fetched = true;
        k->reason = ARC_REASON_KEY_PERMERROR;
        snprintf(k->detail, sizeof k->detail, "the key name %.60s... is too long for DNS", name);
    }
    return v->key_count++;
}

static size_t body_index(struct arc_verify *v, enum arc_canon_kind canon, int64_t limit)
{
    for (size_t i = 0; i < v->body_count; i++) {
        if (v->body[i].canon == canon && v->body[i].limit == limit)
            return i;
    }
    struct body_request *b = &v->body[v->body_count];
    b->canon = canon;
    b->limit = limit;
    b->bh = arc_bodyhash_new(canon, limit);
    return v->body_count++;
}

static bool ams_unusable(struct ams_info *a, enum arc_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool ams_unusable(struct ams_info *a, enum arc_reason reason, const char *fmt, ...)
{
    a->usable = false;
    a->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->detail, sizeof a->detail, fmt, ap);
    va_end(ap);
    return false;
}

/* Whether the colon-separated h= list names ARC-Seal. */
static bool h_names_seal(const char *h)
{
    char *copy = arc_tags_strip_space(h);
    bool found = false;
    for (char *save = NULL, *name = strtok_r(copy, ":", &save); name != NULL;
         name = strtok_r(NULL, ":", &save)) {
        if (strcasecmp(name, "arc-seal") == 0)
            found = true;
    }
    free(copy);
    return found;
}

static bool decode_b64_tag(const char *value, unsigned char **out, size_t *len)
{
    char *clean = arc_tags_strip_space(value);
    *out = arc_base64_decode(clean, len);
    free(clean);
    return *out != NULL;
}

/* Reads the AMS of instance i for verification. */
static bool prepare_ams(struct arc_verify *v, unsigned i)
{
    struct ams_info *a = &v->ams[i - 1];
    const struct arc_tags *t = &v->chain.set[i - 1].ams;
    a->alg = arc_alg_parse(arc_tags_get(t, "a"));
    if (a->alg == ARC_ALG_RSA_SHA1)
        return ams_unusable(a, ARC_REASON_ALGORITHM,
            "ARC-Message-Signature i=%u: a=rsa-sha1 refused (RFC 8617 requires sha256)", i);
    if (a->alg == ARC_ALG_UNKNOWN)
        return ams_unusable(a, ARC_REASON_ALGORITHM,
            "ARC-Message-Signature i=%u: unknown a= algorithm", i);
    const char *c = arc_tags_get(t, "c");
    enum arc_canon_kind body_canon = ARC_CANON_RELAXED;
    a->header_canon = ARC_CANON_RELAXED;           /* ARC's own default (as dkimpy) */
    if (c != NULL && !arc_canon_parse(c, &a->header_canon, &body_canon))
        return ams_unusable(a, ARC_REASON_BAD_TAG,
            "ARC-Message-Signature i=%u: c= is not a canonicalization", i);
    int64_t limit = -1;
    const char *l = arc_tags_get(t, "l");
    if (l != NULL && (limit = parse_length(l)) < 0)
        return ams_unusable(a, ARC_REASON_BAD_TAG, "ARC-Message-Signature i=%u: bad l= value", i);
    if (h_names_seal(arc_tags_get(t, "h")))
        return ams_unusable(a, ARC_REASON_BAD_TAG,
            "ARC-Message-Signature i=%u: h= signs ARC-Seal (RFC 8617 4.1.2 forbids it)", i);
    if (!decode_b64_tag(arc_tags_get(t, "bh"), &a->bh, &a->bh_len))
        return ams_unusable(a, ARC_REASON_BAD_TAG, "ARC-Message-Signature i=%u: bh= is not base64", i);
    if (!decode_b64_tag(arc_tags_get(t, "b"), &a->b, &a->b_len))
        return ams_unusable(a, ARC_REASON_BAD_TAG, "ARC-Message-Signature i=%u: b= is not base64", i);
    a->body = body_index(v, body_canon, limit);
    a->key = key_index(v, arc_tags_get(t, "s"), arc_tags_get(t, "d"));
    a->usable = true;
    return true;
}

static void fill_hops(struct arc_verify *v, struct arc_result *r)
{
    r->hop_count = v->chain.count;
    r->hop = xcalloc(v->chain.count, sizeof *r->hop);
    for (unsigned i = 1; i <= v->chain.count; i++) {
        const struct arc_set *set = &v->chain.set[i - 1];
        struct arc_hop *h = &r->hop[i - 1];
        h->instance = i;
        h->cv = set->cv;
        snprintf(h->seal_domain, sizeof h->seal_domain, "%s", arc_tags_get(&set->seal, "d"));
        snprintf(h->seal_selector, sizeof h->seal_selector, "%s", arc_tags_get(&set->seal, "s"));
        snprintf(h->ams_domain, sizeof h->ams_domain, "%s", arc_tags_get(&set->ams, "d"));
        snprintf(h->ams_selector, sizeof h->ams_selector, "%s", arc_tags_get(&set->ams, "s"));
        const char *p = set->aar_payload != NULL ? set->aar_payload : "";
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        size_t n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
            n--;
        h->aar_payload = xmalloc(n + 1);   /* unfolded: a line break and the blanks after it
                                            * become one SP */
        size_t k = 0;
        for (size_t c = 0; c < n; c++) {
            if (p[c] != '\r' && p[c] != '\n') {
                h->aar_payload[k++] = p[c];
                continue;
            }
            while (c + 1 < n && (p[c + 1] == '\r' || p[c + 1] == '\n' || p[c + 1] == ' '
                       || p[c + 1] == '\t'))
                c++;
            if (k > 0 && h->aar_payload[k - 1] != ' ')
                h->aar_payload[k++] = ' ';
        }
        h->aar_payload[k] = '\0';
    }
}

struct arc_verify *arc_verify_begin(const struct header_field *fields, size_t count,
    const struct arc_limits *lim)
{
    struct arc_verify *v = xcalloc(1, sizeof *v);
    v->fields = fields;
    v->count = count;
    if (lim != NULL)
        v->lim = *lim;
    else
        arc_limits_default(&v->lim);
    if (v->lim.max_instances == 0 || v->lim.max_instances > ARC_MAX_INSTANCES)
        v->lim.max_instances = ARC_MAX_INSTANCES;
    if (v->lim.max_lookups > MAX_KEYS)
        v->lim.max_lookups = MAX_KEYS;
    v->keys = xcalloc(MAX_KEYS, sizeof *v->keys);
    arc_chain_collect(fields, count, &v->chain);
    struct arc_result *r = &v->early;
    if (v->chain.state == ARC_CHAIN_NONE) {
        r->status = ARC_STATUS_NONE;
        r->seal_cv = ARC_CV_NONE;
        v->decided = true;
        return v;
    }
    if (v->chain.state == ARC_CHAIN_INVALID) {
        bool cv_fail = strstr(v->chain.reason, "cv=fail") != NULL;
        set_fail(r, v->chain.bad_instance, cv_fail ? ARC_FIELD_SEAL : ARC_FIELD_NONE,
            cv_fail ? ARC_REASON_CV_FAIL : ARC_REASON_STRUCTURE, "%s", v->chain.reason);
        v->decided = true;
        return v;
    }
    r->count = v->chain.count;
    if (v->chain.count > v->lim.max_instances) {
        set_fail(r, 0, ARC_FIELD_NONE, ARC_REASON_TOO_MANY,
            "%u ARC sets, more than the %u allowed", v->chain.count, v->lim.max_instances);
        fill_hops(v, r);
        v->decided = true;
        return v;
    }
    unsigned n = v->chain.count;
    if (!prepare_ams(v, n)) {
        const struct ams_info *a = &v->ams[n - 1];
        set_fail(r, n, ARC_FIELD_AMS, a->reason, "%s", a->detail);
        fill_hops(v, r);
        v->decided = true;
        return v;
    }
    for (unsigned i = n; i >= 1; i--) {
        const struct arc_tags *seal = &v->chain.set[i - 1].seal;
        enum arc_alg alg = arc_alg_parse(arc_tags_get(seal, "a"));
        if (alg == ARC_ALG_RSA_SHA1 || alg == ARC_ALG_UNKNOWN) {
            set_fail(r, i, ARC_FIELD_SEAL, ARC_REASON_ALGORITHM, "ARC-Seal i=%u: %s", i,
                alg == ARC_ALG_RSA_SHA1 ? "a=rsa-sha1 refused (RFC 8617 requires sha256)"
                : "unknown a= algorithm");
            fill_hops(v, r);
            v->decided = true;
            return v;
        }
        v->seal_key[i - 1] = key_index(v, arc_tags_get(seal, "s"), arc_tags_get(seal, "d"));
    }
    if (v->lim.check_older_ams) {
        for (unsigned i = n - 1; i >= 1; i--)
            prepare_ams(v, i);
    }
    return v;
}

size_t arc_verify_key_names(const struct arc_verify *v, const char **names, size_t max)
{
    if (v->decided)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < v->key_count && n < max; i++) {
        if (!v->keys[i].fetched)
            names[n++] = v->keys[i].name;
    }
    return n;
}

bool arc_verify_needs_body(const struct arc_verify *v)
{
    return !v->decided && v->body_count > 0;
}

void arc_verify_body(struct arc_verify *v, const unsigned char *chunk, size_t len)
{
    if (v->decided || v->body_done)
        return;
    for (size_t i = 0; i < v->body_count; i++)
        arc_bodyhash_update(v->body[i].bh, chunk, len);
}

static void finish_bodies(struct arc_verify *v)
{
    if (v->body_done)
        return;
    v->body_done = true;
    for (size_t i = 0; i < v->body_count; i++) {
        struct body_request *b = &v->body[i];
        b->digest_len = arc_bodyhash_final(b->bh, b->digest, &b->short_body);
    }
}

/* Fetches key k once; false with reason/detail in the entry when it cannot be had. */
static void fetch_key(struct arc_verify *v, struct key_entry *k)
{
    if (k->fetched)
        return;
    k->fetched = true;
    if (v->lookups >= v->lim.max_lookups) {
        k->reason = ARC_REASON_LOOKUP_LIMIT;
        snprintf(k->detail, sizeof k->detail, "the limit of %u key lookups is reached (%.100s)",
            v->lim.max_lookups, k->name);
        return;
    }
    uint64_t now = now_ms();
    if (now >= v->deadline) {
        k->reason = ARC_REASON_BUDGET;
        snprintf(k->detail, sizeof k->detail, "the time budget of %llu ms is spent (%.100s)",
            (unsigned long long)v->lim.budget_ms, k->name);
        return;
    }
    uint64_t timeout = v->deadline - now;
    if (v->lim.query_timeout_ms > 0 && v->lim.query_timeout_ms < timeout)
        timeout = v->lim.query_timeout_ms;
    v->lookups++;
    struct dns_answer ans;
    memset(&ans, 0, sizeof ans);
    v->lookup(v->lookup_arg, k->name, 16, timeout, &ans);
    if (ans.status == DNS_NXDOMAIN || (ans.status == DNS_OK && ans.count == 0)) {
        k->reason = ARC_REASON_KEY_NOT_FOUND;
        snprintf(k->detail, sizeof k->detail, "no key record at %.100s", k->name);
    } else if (ans.status != DNS_OK) {
        k->reason = ARC_REASON_KEY_TEMPERROR;
        snprintf(k->detail, sizeof k->detail, "the key lookup for %.100s failed: %.100s", k->name,
            dns_status_name(ans.status));
    } else {
        k->reason = ARC_REASON_KEY_PERMERROR;
        snprintf(k->detail, sizeof k->detail, "no usable key record at %.100s", k->name);
        for (size_t i = 0; i < ans.count; i++) {
            struct dkim_keyrecord rec;
            if (dkim_keyrecord_parse(ans.data[i], &rec)) {
                k->rec = rec;
                k->reason = ARC_REASON_OK;
                break;
            }
            snprintf(k->detail, sizeof k->detail, "the key record at %.100s: %.100s", k->name, rec.error);
            dkim_keyrecord_free(&rec);
        }
    }
    dns_answer_free(&ans);
}

/* The public key of entry k usable for alg; NULL with reason and detail set. */
static EVP_PKEY *usable_key(struct arc_verify *v, size_t index, enum arc_alg alg,
    enum arc_reason *reason, char *detail, size_t detail_size)
{
    struct key_entry *k = &v->keys[index];
    fetch_key(v, k);
    if (k->reason != ARC_REASON_OK) {
        *reason = k->reason;
        snprintf(detail, detail_size, "%s", k->detail);
        return NULL;
    }
    *reason = ARC_REASON_KEY_PERMERROR;
    const struct dkim_keyrecord *rec = &k->rec;
    if (rec->revoked) {
        snprintf(detail, detail_size, "the key at %.100s is revoked (empty p=)", k->name);
        return NULL;
    }
    bool want_ed = alg == ARC_ALG_ED25519_SHA256;
    if ((want_ed && rec->type != DKIM_KEYRECORD_ED25519)
        || (!want_ed && rec->type != DKIM_KEYRECORD_RSA)) {
        snprintf(detail, detail_size, "the key at %.100s is not for %.100s (k=)", k->name,
            arc_alg_name(alg));
        return NULL;
    }
    if (!rec->sha256_allowed) {
        snprintf(detail, detail_size, "the key at %.100s does not allow sha256 (h=)", k->name);
        return NULL;
    }
    if (!rec->email_service) {
        snprintf(detail, detail_size, "the key at %.100s is not for email (s=)", k->name);
        return NULL;
    }
    if (k->pkey == NULL && !k->decode_failed) {
        char why[160];
        k->pkey = arc_public_key(rec->public_b64, want_ed, why, sizeof why);
        if (k->pkey == NULL) {
            k->decode_failed = true;
            snprintf(k->detail, sizeof k->detail, "the key at %.100s: %.100s", k->name, why);
        }
    }
    if (k->pkey == NULL) {
        snprintf(detail, detail_size, "%s", k->detail);
        return NULL;
    }
    *reason = ARC_REASON_OK;
    return k->pkey;
}

/* The header input of AMS i (RFC 6376 3.7): the fields h= names, each name taking the
 * newest occurrence not yet taken, then the AMS itself with b= emptied, no final CRLF. */
static void ams_header_input(struct arc_verify *v, unsigned i, struct textbuf *out)
{
    const struct ams_info *a = &v->ams[i - 1];
    const struct arc_set *set = &v->chain.set[i - 1];
    char *h = arc_tags_strip_space(arc_tags_get(&set->ams, "h"));
    bool *used = xcalloc(v->count + 1, sizeof *used);
    for (char *save = NULL, *name = strtok_r(h, ":", &save); name != NULL;
         name = strtok_r(NULL, ":", &save)) {
        for (size_t k = v->count; k-- > 0;) {
            if (used[k] || v->fields[k].name == NULL || strcasecmp(v->fields[k].name, name) != 0)
                continue;
            used[k] = true;
            arc_canon_header_field(a->header_canon, &v->fields[k], out);
            break;
        }
    }
    free(used);
    free(h);
    const struct header_field *self = &v->fields[set->ams_field];
    struct header_field stripped = *self;
    char *raw = NULL;
    if (a->header_canon == ARC_CANON_SIMPLE && self->raw_value == NULL)
        raw = xasprintf(" %s", field_value(self));
    char *value = arc_canon_without_b(raw != NULL ? raw : self->raw_value != NULL
        ? self->raw_value : field_value(self));
    stripped.value = value;
    stripped.raw_value = value;
    struct textbuf last;
    textbuf_init(&last);
    if (a->header_canon == ARC_CANON_SIMPLE)
        arc_canon_simple_header(self->name, value, &last);
    else
        arc_canon_header_field(ARC_CANON_RELAXED, &stripped, &last);
    textbuf_append(out, last.data, last.len - 2);
    textbuf_free(&last);
    free(value);
    free(raw);
}

/* Verifies AMS i; ARC_REASON_OK or why not, with detail. */
static enum arc_reason check_ams(struct arc_verify *v, unsigned i, char *detail, size_t size)
{
    const struct ams_info *a = &v->ams[i - 1];
    if (!a->usable) {
        snprintf(detail, size, "%s", a->detail);
        return a->reason;
    }
    const struct body_request *b = &v->body[a->body];
    if (b->short_body) {
        snprintf(detail, size, "ARC-Message-Signature i=%u: l= is longer than the body", i);
        return ARC_REASON_BODY_HASH;
    }
    if (a->bh_len != b->digest_len || memcmp(a->bh, b->digest, b->digest_len) != 0) {
        snprintf(detail, size, "ARC-Message-Signature i=%u: the body hash (bh=) does not match"
            " the body", i);
        return ARC_REASON_BODY_HASH;
    }
    enum arc_reason reason;
    char why[360];
    EVP_PKEY *key = usable_key(v, a->key, a->alg, &reason, why, sizeof why);
    if (key == NULL) {
        snprintf(detail, size, "ARC-Message-Signature i=%u: %s", i, why);
        return reason;
    }
    struct textbuf input;
    textbuf_init(&input);
    ams_header_input(v, i, &input);
    bool ok = arc_verify_signature(key, a->alg, (const unsigned char *)input.data, input.len,
        a->b, a->b_len);
    textbuf_free(&input);
    if (!ok) {
        snprintf(detail, size, "ARC-Message-Signature i=%u: the signature (b=) does not verify", i);
        return ARC_REASON_SIGNATURE;
    }
    return ARC_REASON_OK;
}

static enum arc_reason check_seal(struct arc_verify *v, unsigned i, char *detail, size_t size)
{
    const struct arc_tags *seal = &v->chain.set[i - 1].seal;
    enum arc_alg alg = arc_alg_parse(arc_tags_get(seal, "a"));
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    if (!decode_b64_tag(arc_tags_get(seal, "b"), &sig, &sig_len)) {
        snprintf(detail, size, "ARC-Seal i=%u: b= is not base64", i);
        return ARC_REASON_BAD_TAG;
    }
    enum arc_reason reason;
    char why[360];
    EVP_PKEY *key = usable_key(v, v->seal_key[i - 1], alg, &reason, why, sizeof why);
    if (key == NULL) {
        free(sig);
        snprintf(detail, size, "ARC-Seal i=%u: %s", i, why);
        return reason;
    }
    struct textbuf input;
    textbuf_init(&input);
    arc_canon_seal_input(&v->chain, v->fields, i, &input);
    bool ok = arc_verify_signature(key, alg, (const unsigned char *)input.data, input.len,
        sig, sig_len);
    textbuf_free(&input);
    free(sig);
    if (!ok) {
        snprintf(detail, size, "ARC-Seal i=%u: the signature (b=) does not verify", i);
        return ARC_REASON_SIGNATURE;
    }
    return ARC_REASON_OK;
}

void arc_verify_finish(struct arc_verify *v, arc_lookup_fn lookup, void *lookup_arg,
    struct arc_result *out)
{
    memset(out, 0, sizeof *out);
    if (v->decided) {
        *out = v->early;
        v->early.hop = NULL;             /* handed over */
        v->early.hop_count = 0;
        return;
    }
    finish_bodies(v);
    v->lookup = lookup;
    v->lookup_arg = lookup_arg;
    v->deadline = now_ms() + v->lim.budget_ms;
    unsigned n = v->chain.count;
    out->count = n;
    fill_hops(v, out);
    char detail[512];
    enum arc_reason reason = check_ams(v, n, detail, sizeof detail);
    out->hop[n - 1].ams_checked = true;
    out->hop[n - 1].ams_ok = reason == ARC_REASON_OK;
    if (reason != ARC_REASON_OK) {
        set_fail(out, n, ARC_FIELD_AMS, reason, "%s", detail);
        out->lookups = v->lookups;
        return;
    }
    for (unsigned i = 1; i <= n; i++) {     /* oldest first: the first broken seal is named */
        reason = check_seal(v, i, detail, sizeof detail);
        out->hop[i - 1].seal_checked = true;
        out->hop[i - 1].seal_ok = reason == ARC_REASON_OK;
        if (reason != ARC_REASON_OK) {
            set_fail(out, i, ARC_FIELD_SEAL, reason, "%s", detail);
            out->lookups = v->lookups;
            return;
        }
    }
    out->status = ARC_STATUS_PASS;
    out->seal_cv = ARC_CV_PASS;
    out->reason = ARC_REASON_OK;
    out->oldest_pass = n == 1 ? 0 : n;
    if (v->lim.check_older_ams) {
        out->oldest_pass = 0;
        for (unsigned i = n - 1; i >= 1; i--) {
            reason = check_ams(v, i, detail, sizeof detail);
            out->hop[i - 1].ams_checked = true;
            out->hop[i - 1].ams_ok = reason == ARC_REASON_OK;
            if (reason != ARC_REASON_OK) {
                out->oldest_pass = i + 1;
                break;
            }
        }
    }
    out->lookups = v->lookups;
}

void arc_verify_free(struct arc_verify *v)
{
    if (v == NULL)
        return;
    for (unsigned i = 0; i < ARC_MAX_INSTANCES; i++) {
        free(v->ams[i].bh);
        free(v->ams[i].b);
    }
    for (size_t i = 0; i < v->body_count; i++)
        arc_bodyhash_free(v->body[i].bh);
    for (size_t i = 0; i < v->key_count; i++) {
        dkim_keyrecord_free(&v->keys[i].rec);
        EVP_PKEY_free(v->keys[i].pkey);
    }
    free(v->keys);
    arc_result_free(&v->early);
    arc_chain_free(&v->chain);
    free(v);
}

void arc_result_free(struct arc_result *r)
{
    for (unsigned i = 0; i < r->hop_count; i++)
        free(r->hop[i].aar_payload);
    free(r->hop);
    r->hop = NULL;
    r->hop_count = 0;
}
