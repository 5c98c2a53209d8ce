/* dkim_signer.c - one DKIM-Signature (see dkim_signer.h). The h= list names each field to
 * sign as often as it occurs, plus once more for the oversigned names (so a copy added later
 * breaks the signature, RFC 6376 8.15); the header input is built as the verifier will
 * (RFC 6376 5.4.2: each name takes the bottom-most occurrence not yet taken), the signature
 * field last with an empty b= and no final CRLF. The body hash is arc_bodyhash's, the
 * canonicalization arc_canon's: the one copy of both. */
#include "dkim_signer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_bodyhash.h"
#include "arc_crypto.h"
#include "util.h"

struct dkim_signer {
    EVP_PKEY *key;
    char *domain;
    char *selector;
    enum arc_canon_kind header_canon, body_canon;
    char *sign_headers;
    char *oversign;
    uint64_t timestamp, expire_s;
    struct arc_bodyhash *body;
};

struct dkim_signer *dkim_signer_new(const struct dkim_sign_params *p)
{
    struct dkim_signer *s = xcalloc(1, sizeof *s);
    if (p->key != NULL && EVP_PKEY_up_ref(p->key) == 1)
        s->key = p->key;
    s->domain = xstrdup(p->domain);
    s->selector = xstrdup(p->selector);
    s->header_canon = p->header_canon;
    s->body_canon = p->body_canon;
    s->sign_headers = xstrdup(p->sign_headers != NULL ? p->sign_headers : "from");
    s->oversign = xstrdup(p->oversign != NULL ? p->oversign : "");
    s->timestamp = p->timestamp;
    s->expire_s = p->expire_s;
    s->body = arc_bodyhash_new(p->body_canon, -1);
    return s;
}

void dkim_signer_body(struct dkim_signer *s, const unsigned char *chunk, size_t len)
{
    arc_bodyhash_update(s->body, chunk, len);
}

static size_t occurrences(const struct header_field *fields, size_t count, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += fields[i].name != NULL && strcasecmp(fields[i].name, name) == 0;
    return n;
}

/* Whether name is in the colon-separated list. */
static bool listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p != '\0';) {
        while (*p == ':' || *p == ' ')
            p++;
        size_t n = strcspn(p, ": ");
        if (n == len && strncasecmp(p, name, n) == 0)
            return true;
        p += n;
    }
    return false;
}

/* The h= value: each name of sign_headers as often as it occurs (oversigned ones once more),
 * then the oversigned names not in sign_headers, once more than they occur. */
static char *h_value(const struct dkim_signer *s, const struct header_field *fields,
    size_t count)
{
    struct textbuf h;
    textbuf_init(&h);
    const char *lists[2] = { s->sign_headers, s->oversign };
    for (int l = 0; l < 2; l++) {
        for (const char *p = lists[l]; *p != '\0';) {
            while (*p == ':' || *p == ' ')
                p++;
            size_t n = strcspn(p, ": ");
            if (n == 0)
                break;
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(n < 127 ? n : 127), p);
            p += n;
            if (l == 1 && listed(s->sign_headers, name))
                continue;              /* counted with sign_headers */
            size_t times = occurrences(fields, count, name);
            if (listed(s->oversign, name))
                times++;
            for (size_t k = 0; k < times; k++) {
                if (h.len > 0)
                    textbuf_append(&h, ":", 1);
                textbuf_puts(&h, name);
            }
        }
    }
    return h.data != NULL ? h.data : xstrdup("");
}

/* The signed header input: the fields h= names, bottom-most unused first, in h= order. */
static void header_input(const struct dkim_signer *s, const struct header_field *fields,
    size_t count, const char *h, struct textbuf *out)
{
    bool *used = xcalloc(count + 1, sizeof *used);
    char *copy = xstrdup(h);
    for (char *save = NULL, *name = strtok_r(copy, ":", &save); name != NULL;
         name = strtok_r(NULL, ":", &save)) {
        for (size_t k = count; k-- > 0;) {
            if (used[k] || fields[k].name == NULL || strcasecmp(fields[k].name, name) != 0)
                continue;
            used[k] = true;
            arc_canon_header_field(s->header_canon, &fields[k], out);
            break;
        }
    }
    free(copy);
    free(used);
}

#define FOLD "\n\t"                 /* the MTA writes CRLF; simple canonicalization too */

/* Appends one tag spec, breaking an h= list after a colon where a line would pass 78
 * columns (white space is allowed around the colons only). */
static void put_spec(struct textbuf *out, const char *spec, size_t len, size_t *column)
{
    if (strncmp(spec, "h=", 2) != 0 || *column + len <= 78) {
        textbuf_append(out, spec, len);
        *column += len;
        return;
    }
    const char *p = spec;
    const char *end = spec + len;
    while (p < end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        size_t piece = colon != NULL ? (size_t)(colon - p) + 1 : (size_t)(end - p);
        if (*column + piece > 78 && *column > 1) {
            textbuf_puts(out, FOLD);
            *column = 1;
        }
        textbuf_append(out, p, piece);
        *column += piece;
        p += piece;
    }
}

/* Breaks value before a tag spec where a line would pass 78 columns; relaxed
 * canonicalization reads it unchanged, and simple signs it as folded here. */
static char *fold_value(const char *value, size_t first_column)
{
    struct textbuf out;
    textbuf_init(&out);
    size_t column = first_column;
    const char *p = value;
    bool first = true;
    while (*p != '\0') {
        const char *sep = strstr(p, "; ");
        size_t len = sep != NULL ? (size_t)(sep - p) + 1 : strlen(p);
        if (!first) {
            if (column + 1 + len > 78) {
                textbuf_puts(&out, FOLD);
                column = 1;
            } else {
                textbuf_append(&out, " ", 1);
                column++;
            }
        }
        first = false;
        put_spec(&out, p, len, &column);
        if (sep == NULL)
            break;
        p = sep + 2;
    }
    return out.data != NULL ? out.data : xstrdup("");
}

static bool refuse(char *why, size_t why_size, const char *text)
{
    snprintf(why, why_size, "%s", text);
    return false;
}

char *dkim_signer_finish(struct dkim_signer *s, const struct header_field *fields, size_t count,
    bool fold, char *why, size_t why_size)
{
    int id = s->key != NULL ? EVP_PKEY_get_base_id(s->key) : 0;
    enum arc_alg alg = id == EVP_PKEY_ED25519 ? ARC_ALG_ED25519_SHA256 : ARC_ALG_RSA_SHA256;
    if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
        refuse(why, why_size, "the key is neither RSA nor ed25519");
        return NULL;
    }
    unsigned char digest[ARC_BODYHASH_MAX];
    bool short_body;
    size_t digest_len = arc_bodyhash_final(s->body, digest, &short_body);
    char *h = h_value(s, fields, count);
    if (!listed(h, "from")) {
        free(h);
        refuse(why, why_size, "From is not among the header fields signed (RFC 6376 5.4)");
        return NULL;
    }
    char *bh = arc_base64_encode(digest, digest_len);
    char expiry[40] = "";
    if (s->expire_s > 0)
        snprintf(expiry, sizeof expiry, " x=%llu;",
            (unsigned long long)(s->timestamp + s->expire_s));
    char *unsigned_value = xasprintf("v=1; a=%s; c=%s/%s; d=%s; s=%s; t=%llu;%s h=%s; bh=%s; b=",
        arc_alg_name(alg), s->header_canon == ARC_CANON_RELAXED ? "relaxed" : "simple",
        s->body_canon == ARC_CANON_RELAXED ? "relaxed" : "simple", s->domain, s->selector,
        (unsigned long long)s->timestamp, expiry, h, bh);
    free(bh);
    /* folded before signing: simple canonicalization signs the folding as written */
    char *value = fold ? fold_value(unsigned_value, sizeof "DKIM-Signature: " - 1)
        : xstrdup(unsigned_value);
    free(unsigned_value);
    struct textbuf input;
    textbuf_init(&input);
    header_input(s, fields, count, h, &input);
    free(h);
    struct textbuf self;
    textbuf_init(&self);
    struct header_field field = { "DKIM-Signature", NULL, NULL };
    char *spaced = xasprintf(" %s", value);
    field.value = value;
    field.raw_value = spaced;
    arc_canon_header_field(s->header_canon, &field, &self);
    textbuf_append(&input, self.data, self.len - 2);      /* no final CRLF */
    textbuf_free(&self);
    free(spaced);
    size_t sig_len = 0;
    unsigned char *sig = arc_sign_data(s->key, alg, (const unsigned char *)input.data,
        input.len, &sig_len);
    textbuf_free(&input);
    if (sig == NULL) {
        free(value);
        refuse(why, why_size, "OpenSSL could not sign with the key");
        return NULL;
    }
    char *b = arc_base64_encode(sig, sig_len);
    free(sig);
    char *signed_value;
    if (fold) {
        /* b= goes on lines of its own: the empty b= signed above ends the value */
        struct textbuf out;
        textbuf_init(&out);
        textbuf_puts(&out, value);
        for (size_t k = 0, len = strlen(b); k < len; k += 70) {
            textbuf_puts(&out, FOLD " ");
            textbuf_append(&out, b + k, len - k < 70 ? len - k : 70);
        }
        signed_value = out.data;
    } else {
        signed_value = xasprintf("%s%s", value, b);
    }
    free(b);
    free(value);
    return signed_value;
}

void dkim_signer_free(struct dkim_signer *s)
{
    if (s == NULL)
        return;
    EVP_PKEY_free(s->key);
    free(s->domain);
    free(s->selector);
    free(s->sign_headers);
    free(s->oversign);
    arc_bodyhash_free(s->body);
    free(s);
}
