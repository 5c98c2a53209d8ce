/* dkim_verifier.c - DKIM verification (see dkim_verifier.h). Each signature is read once at
 * the start: its tags (arc_tags: the RFC 6376 3.2 tag list, strictly), the checks that need
 * no key (v=, the required tags, a=, c=, i= within d=, From in h=, l=, t= and x=, base64);
 * one body hash runs per distinct (canonicalization, l=, hash). At the end each remaining
 * signature gets its key (one lookup per distinct key name), then the body hash and the
 * signature over the header input of RFC 6376 3.7 (the fields h= names, each name taking the
 * bottom-most occurrence not yet taken, then the signature field with b= emptied, no final
 * CRLF). Canonicalization, body hashes and signatures are arc/'s: the one copy of each. */
#include "dkim_verifier.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_bodyhash.h"
#include "arc_canon.h"
#include "arc_crypto.h"
#include "arc_tags.h"
#include "dkim_keyrecord.h"
#include "dkim_pubkeys.h"
#include "util.h"

struct body_request {
    enum arc_canon_kind canon;
    int64_t limit;
    bool sha1;
    struct arc_bodyhash *bh;
    unsigned char digest[ARC_BODYHASH_MAX];
    size_t digest_len;
    bool short_body;
    uint64_t canonical_length;
};

struct key_entry {
    char *name;
    bool fetched;
    struct dns_answer own;         /* the answer when the lookup filled ours; empty when lent */
    const struct dns_answer *answer;   /* own or the lookup's, during dkim_verifier_finish */
};

struct sig {
    size_t field;                  /* index of the DKIM-Signature field */
    struct arc_tags tags;
    bool decided;                  /* out.outcome is final before any key */
    enum arc_alg alg;
    enum arc_canon_kind header_canon, body_canon;
    int64_t limit;
    unsigned char *b, *bh;
    size_t b_len, bh_len;
    size_t body;                   /* index into bodies */
    size_t key;                    /* index into keys */
    struct dkim_sig_check out;
};

struct dkim_verifier {
    struct dkim_verify_params params;
    struct sig *sigs;
    size_t count;
    struct body_request *bodies;
    size_t body_count;
    struct key_entry *keys;
    size_t key_count;
    bool finished;
};

static void decide(struct sig *s, enum dkim_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void decide(struct sig *s, enum dkim_outcome o, const char *fmt, ...)
{
    s->decided = true;
    s->out.outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->out.detail, sizeof s->out.detail, fmt, ap);
    va_end(ap);
}

static const char *field_text(const struct header_field *f)
{
    if (f->raw_value != NULL)
        return f->raw_value;
    return f->value != NULL ? f->value : "";
}

static bool all_digits(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return false;
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
    }
    return true;
}

static size_t body_index(struct dkim_verifier *v, enum arc_canon_kind canon, int64_t limit,
    bool sha1)
{
    for (size_t i = 0; i < v->body_count; i++) {
        const struct body_request *b = &v->bodies[i];
        if (b->canon == canon && b->limit == limit && b->sha1 == sha1)
            return i;
    }
    v->bodies = xrealloc(v->bodies, (v->body_count + 1) * sizeof *v->bodies);
    struct body_request *b = &v->bodies[v->body_count];
    memset(b, 0, sizeof *b);
    b->canon = canon;
    b->limit = limit;
    b->sha1 = sha1;
    b->bh = sha1 ? arc_bodyhash_new_sha1(canon, limit) : arc_bodyhash_new(canon, limit);
    return v->body_count++;
}

static size_t key_index(struct dkim_verifier *v, const char *selector, const char *domain)
{
    char *name = xasprintf("%s._domainkey.%s", selector, domain);
    for (size_t i = 0; i < v->key_count; i++) {
        if (strcasecmp(v->keys[i].name, name) == 0) {
            free(name);
            return i;
        }
    }
    v->keys = xrealloc(v->keys, (v->key_count + 1) * sizeof *v->keys);
    memset(&v->keys[v->key_count], 0, sizeof v->keys[0]);
    v->keys[v->key_count].name = name;
    return v->key_count++;
}

static bool decode_b64(const char *value, unsigned char **out, size_t *len)
{
    char *clean = arc_tags_strip_space(value);
    *out = arc_base64_decode(clean, len);
    free(clean);
    return *out != NULL;
}

/* Whether the colon-separated h= list names From. */
static bool h_has_from(const char *h)
{
    char *copy = arc_tags_strip_space(h);
    bool found = false;
    for (char *save = NULL, *n = strtok_r(copy, ":", &save); n != NULL;
         n = strtok_r(NULL, ":", &save))
        found = found || strcasecmp(n, "from") == 0;
    free(copy);
    return found;
}

/* i= in dkim-quoted-printable (RFC 6376 2.11): "=40" is "@"; a bad escape stays as it is. */
static char *decode_identity(const char *text)
{
    char *out = xmalloc(strlen(text) + 1);
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '=' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = { p[1], p[2], '\0' };
            out[n++] = (char)strtol(hex, NULL, 16);
            p += 2;
        } else if (!isspace((unsigned char)*p)) {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return out;
}

/* Whether the domain of identity (after its last "@") is d or a subdomain of it. */
static bool identity_within(const char *identity, const char *d)
{
    const char *at = strrchr(identity, '@');
    const char *dom = at != NULL ? at + 1 : identity;
    size_t dl = strlen(dom), l = strlen(d);
    if (dl == l)
        return strcasecmp(dom, d) == 0;
    return dl > l && dom[dl - l - 1] == '.' && strcasecmp(dom + dl - l, d) == 0;
}

static void read_times(struct dkim_verifier *v, struct sig *s)
{
    const char *t = arc_tags_get(&s->tags, "t");
    const char *x = arc_tags_get(&s->tags, "x");
    if ((t != NULL && !all_digits(t)) || (x != NULL && !all_digits(x))) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "t= or x= is not a number");
        return;
    }
    long long tv = t != NULL ? atoll(t) : -1, xv = x != NULL ? atoll(x) : -1;
    if (t != NULL && x != NULL && xv < tv)
        decide(s, DKIM_OUTCOME_NEUTRAL, "x= is before t=");
    else if (x != NULL && xv < v->params.now)
        decide(s, DKIM_OUTCOME_EXPIRED, "the signature expired (x=%lld)", xv);
    else if (t != NULL && tv > v->params.now + v->params.clock_drift_s)
        decide(s, DKIM_OUTCOME_EXPIRED, "t=%lld is in the future", tv);
}

/* The checks that need no key; leaves s undecided when it is worth a key. */
static void read_signature(struct dkim_verifier *v, struct sig *s, const struct header_field *f)
{
    const char *text = field_text(f);
    if (!arc_tags_parse(text, strlen(text), &s->tags)) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "the tag list: %s", s->tags.error);
        return;
    }
    const char *d = arc_tags_get(&s->tags, "d");
    if (d != NULL) {
        s->out.domain = xstrdup(d);
        str_lower(s->out.domain);
    }
    const char *sel = arc_tags_get(&s->tags, "s");
    const char *a = arc_tags_get(&s->tags, "a");
    s->out.selector = sel != NULL ? xstrdup(sel) : NULL;
    s->out.algorithm = a != NULL ? xstrdup(a) : NULL;
    const char *i = arc_tags_get(&s->tags, "i");
    if (i != NULL)
        s->out.identity = decode_identity(i);
    else if (d != NULL)
        s->out.identity = xasprintf("@%s", d);
    const char *b = arc_tags_get(&s->tags, "b");
    size_t n = 0;
    for (; b != NULL && *b != '\0' && n < 8; b++) {
        if (!isspace((unsigned char)*b))
            s->out.b_prefix[n++] = *b;
    }
    s->out.b_prefix[n] = '\0';

    const char *required[] = { "v", "a", "b", "bh", "d", "h", "s" };
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        if (arc_tags_get(&s->tags, required[k]) == NULL) {
            decide(s, DKIM_OUTCOME_NEUTRAL, "the required tag %s= is missing", required[k]);
            return;
        }
    }
    if (strcmp(arc_tags_get(&s->tags, "v"), "1") != 0) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "v= is not 1");
        return;
    }
    s->alg = arc_alg_parse(a);
    if (s->alg == ARC_ALG_UNKNOWN) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "unknown algorithm a=%.60s", a);
        return;
    }
    const char *c = arc_tags_get(&s->tags, "c");
    if (!arc_canon_parse(c != NULL ? c : "simple/simple", &s->header_canon, &s->body_canon)) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "unknown canonicalization c=%.60s", c);
        return;
    }
    if (s->out.domain[0] == '\0' || sel[0] == '\0') {
        decide(s, DKIM_OUTCOME_NEUTRAL, "empty d= or s=");
        return;
    }
    if (i != NULL && !identity_within(s->out.identity, s->out.domain)) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "i= is not within d=%s", s->out.domain);
        return;
    }
    if (!h_has_from(arc_tags_get(&s->tags, "h"))) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "h= does not sign From (RFC 6376 5.4)");
        return;
    }
    const char *q = arc_tags_get(&s->tags, "q");
    if (q != NULL && strstr(q, "dns/txt") == NULL) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "q= names no query method of ours (dns/txt)");
        return;
    }
    const char *l = arc_tags_get(&s->tags, "l");
    s->limit = -1;
    if (l != NULL) {
        if (!all_digits(l)) {
            decide(s, DKIM_OUTCOME_NEUTRAL, "l= is not a number");
            return;
        }
        s->limit = atoll(l);
    }
    if (!decode_b64(arc_tags_get(&s->tags, "b"), &s->b, &s->b_len)
        || !decode_b64(arc_tags_get(&s->tags, "bh"), &s->bh, &s->bh_len)) {
        decide(s, DKIM_OUTCOME_NEUTRAL, "b= or bh= is not base64");
        return;
    }
    read_times(v, s);
    if (s->decided)
        return;
    if (s->alg == ARC_ALG_RSA_SHA1 && !v->params.accept_rsa_sha1) {
        decide(s, DKIM_OUTCOME_SHA1, "rsa-sha1 is not accepted (RFC 8301)");
        return;
    }
    s->body = body_index(v, s->body_canon, s->limit, s->alg == ARC_ALG_RSA_SHA1);
    s->key = key_index(v, sel, s->out.domain);
}

struct dkim_verifier *dkim_verifier_new(const struct header_field *fields, size_t count,
    const struct dkim_verify_params *p)
{
    struct dkim_verifier *v = xcalloc(1, sizeof *v);
    v->params = *p;
    for (size_t k = 0; k < count && v->count < p->max_signatures; k++) {
        if (fields[k].name == NULL || strcasecmp(fields[k].name, "DKIM-Signature") != 0)
            continue;
        v->sigs = xrealloc(v->sigs, (v->count + 1) * sizeof *v->sigs);
        struct sig *s = &v->sigs[v->count++];
        memset(s, 0, sizeof *s);
        s->field = k;
        read_signature(v, s, &fields[k]);
    }
    return v;
}

size_t dkim_verifier_count(const struct dkim_verifier *v)
{
    return v->count;
}

void dkim_verifier_body(struct dkim_verifier *v, const unsigned char *chunk, size_t len)
{
    for (size_t i = 0; i < v->body_count; i++)
        arc_bodyhash_update(v->bodies[i].bh, chunk, len);
}

static void fetch(struct key_entry *k, dkim_lookup_fn lookup, void *arg)
{
    if (k->fetched)
        return;
    k->fetched = true;
    memset(&k->own, 0, sizeof k->own);
    k->answer = lookup(arg, k->name, &k->own);
}

/* The usable public key for s (a new reference), or NULL with s decided. */
static EVP_PKEY *key_for(struct dkim_verifier *v, struct sig *s, dkim_lookup_fn lookup,
    void *arg)
{
    struct key_entry *k = &v->keys[s->key];
    fetch(k, lookup, arg);
    const struct dns_answer *a = k->answer;
    if (a->status == DNS_NXDOMAIN || (a->status == DNS_OK && a->count == 0)) {
        decide(s, DKIM_OUTCOME_PERMERROR, "no key record at %.100s", k->name);
        return NULL;
    }
    if (a->status != DNS_OK) {
        decide(s, DKIM_OUTCOME_TEMPERROR, "the key lookup for %.100s failed: %s", k->name,
            dns_status_name(a->status));
        return NULL;
    }
    struct dkim_keyrecord rec;
    bool parsed = false;
    char last_error[160] = "";
    for (size_t i = 0; i < a->count && !parsed; i++) {
        parsed = dkim_keyrecord_parse(a->data[i], &rec);
        if (!parsed) {
            snprintf(last_error, sizeof last_error, "%s", rec.error);
            dkim_keyrecord_free(&rec);
        }
    }
    if (!parsed) {
        decide(s, DKIM_OUTCOME_PERMERROR, "the key record at %.100s: %s", k->name, last_error);
        return NULL;
    }
    bool want_ed = s->alg == ARC_ALG_ED25519_SHA256;
    const char *identity = s->out.identity;
    EVP_PKEY *key = NULL;
    char why[160] = "";
    if (rec.revoked)
        snprintf(why, sizeof why, "the key is revoked (empty p=)");
    else if ((want_ed && rec.type != DKIM_KEYRECORD_ED25519)
        || (!want_ed && rec.type != DKIM_KEYRECORD_RSA))
        snprintf(why, sizeof why, "the key is not for %s (k=)", s->out.algorithm);
    else if (s->alg == ARC_ALG_RSA_SHA1 ? !rec.sha1_allowed : !rec.sha256_allowed)
        snprintf(why, sizeof why, "the key does not allow the hash of %s (h=)", s->out.algorithm);
    else if (!rec.email_service)
        snprintf(why, sizeof why, "the key is not for email (s=)");
    else if (rec.strict && strcasecmp(strrchr(identity, '@') != NULL
            ? strrchr(identity, '@') + 1 : identity, s->out.domain) != 0)
        snprintf(why, sizeof why, "the key forbids subdomains in i= (t=s)");
    else
        key = dkim_pubkey_get(rec.public_b64, want_ed, why, sizeof why);
    dkim_keyrecord_free(&rec);
    if (key == NULL) {
        decide(s, DKIM_OUTCOME_PERMERROR, "%.100s: %s", k->name, why);
        return NULL;
    }
    s->out.key_bits = (unsigned)EVP_PKEY_get_bits(key);
    if (!want_ed && s->out.key_bits < v->params.min_key_bits) {
        decide(s, DKIM_OUTCOME_SMALL_KEY, "the RSA key at %.100s has %u bits, under %u",
            k->name, s->out.key_bits, v->params.min_key_bits);
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/* RFC 6376 3.7: the fields h= names, then the signature field with b= emptied, no CRLF. */
static void header_input(const struct sig *s, const struct header_field *fields, size_t count,
    struct textbuf *out)
{
    char *h = arc_tags_strip_space(arc_tags_get(&s->tags, "h"));
    bool *used = xcalloc(count + 1, sizeof *used);
    for (char *save = NULL, *name = strtok_r(h, ":", &save); name != NULL;
         name = strtok_r(NULL, ":", &save)) {
        for (size_t k = count; k-- > 0;) {
            if (used[k] || fields[k].name == NULL || strcasecmp(fields[k].name, name) != 0)
                continue;
            used[k] = true;
            arc_canon_header_field(s->header_canon, &fields[k], out);
            break;
        }
    }
    free(used);
    free(h);
    const struct header_field *self = &fields[s->field];
    char *spaced = NULL;
    if (s->header_canon == ARC_CANON_SIMPLE && self->raw_value == NULL)
        spaced = xasprintf(" %s", self->value != NULL ? self->value : "");
    char *value = arc_canon_without_b(spaced != NULL ? spaced : field_text(self));
    struct header_field stripped = { self->name, value, value };
    struct textbuf last;
    textbuf_init(&last);
    arc_canon_header_field(s->header_canon, &stripped, &last);
    textbuf_append(out, last.data, last.len - 2);
    textbuf_free(&last);
    free(value);
    free(spaced);
}

static void check_signature(struct dkim_verifier *v, struct sig *s,
    const struct header_field *fields, size_t count, dkim_lookup_fn lookup, void *arg)
{
    EVP_PKEY *key = key_for(v, s, lookup, arg);
    if (key == NULL)
        return;
    const struct body_request *b = &v->bodies[s->body];
    struct textbuf input;
    textbuf_init(&input);
    header_input(s, fields, count, &input);
    bool sig_ok = arc_verify_signature(key, s->alg, (const unsigned char *)input.data,
        input.len, s->b, s->b_len);
    textbuf_free(&input);
    EVP_PKEY_free(key);
    if (!sig_ok) {
        decide(s, DKIM_OUTCOME_FAIL, "the signature (b=) does not verify");
        return;
    }
    if (b->short_body) {
        decide(s, DKIM_OUTCOME_FAIL, "l= is longer than the body");
        return;
    }
    if (s->bh_len != b->digest_len || memcmp(s->bh, b->digest, b->digest_len) != 0) {
        decide(s, DKIM_OUTCOME_FAIL, "the body hash (bh=) does not match the body");
        return;
    }
    if (s->limit >= 0 && b->canonical_length > (uint64_t)s->limit) {
        s->out.body_partial = true;
        decide(s, DKIM_OUTCOME_BODY_LENGTH, "l=%lld covers %llu of %llu body octets",
            (long long)s->limit, (unsigned long long)s->limit,
            (unsigned long long)b->canonical_length);
        return;
    }
    s->decided = true;
    s->out.outcome = DKIM_OUTCOME_PASS;
    s->out.detail[0] = '\0';
}

void dkim_verifier_finish(struct dkim_verifier *v, const struct header_field *fields,
    size_t count, dkim_lookup_fn lookup, void *arg)
{
    if (v->finished)
        return;
    v->finished = true;
    for (size_t i = 0; i < v->body_count; i++) {
        struct body_request *b = &v->bodies[i];
        b->digest_len = arc_bodyhash_final(b->bh, b->digest, &b->short_body);
        b->canonical_length = arc_bodyhash_canonical_length(b->bh);
    }
    for (size_t i = 0; i < v->count; i++) {
        struct sig *s = &v->sigs[i];
        if (!s->decided)
            check_signature(v, s, fields, count, lookup, arg);
    }
}

const struct dkim_sig_check *dkim_verifier_result(const struct dkim_verifier *v, size_t i)
{
    return &v->sigs[i].out;
}

void dkim_verifier_free(struct dkim_verifier *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->count; i++) {
        struct sig *s = &v->sigs[i];
        arc_tags_free(&s->tags);
        free(s->b);
        free(s->bh);
        free(s->out.domain);
        free(s->out.selector);
        free(s->out.algorithm);
        free(s->out.identity);
    }
    free(v->sigs);
    for (size_t i = 0; i < v->body_count; i++)
        arc_bodyhash_free(v->bodies[i].bh);
    free(v->bodies);
    for (size_t i = 0; i < v->key_count; i++) {
        free(v->keys[i].name);
        if (v->keys[i].fetched)
            dns_answer_free(&v->keys[i].own);
    }
    free(v->keys);
    free(v);
}
