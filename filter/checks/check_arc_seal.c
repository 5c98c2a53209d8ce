/* check_arc_seal.c - adds our ARC set (RFC 8617 5.1) to the mail the policy seals
 * (arc_sealing.h: relayed mail, or by recipient, sender or client), with the key arc.seal.key
 * names in the DKIM key table (RSA or ed25519). At the end of the headers it decides and
 * starts the body hash (relaxed, SHA-256), streams the body into it, and seals last of all
 * (.after_edits): after the verdict, after DKIM signing and after the engine's own
 * Authentication-Results, so our ARC-Authentication-Results carries our final results (spf,
 * dkim, dmarc, arc) and the ARC-Message-Signature covers the header as it leaves us, our
 * DKIM-Signature included. The cv= comes from check_arc's verdict on the same message
 * (arc_result.h). The three fields are inserted at the top: ARC-Seal, ARC-Message-Signature,
 * ARC-Authentication-Results from the top down. Runs even after an allow-list ACCEPT. A
 * message that cannot be sealed (a chain that already failed, header fields past a limit,
 * no verdict on an existing chain) is delivered unsealed with ARC_SEAL_FAILED and a log line
 * saying why; a sealed one gets ARC_SEALED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc_bodyhash.h"
#include "arc_config.h"
#include "arc_result.h"
#include "arc_seal.h"
#include "arc_sealing.h"
#include "authres.h"
#include "check.h"
#include "dkim_policy.h"
#include "log.h"
#include "util.h"

extern const struct check check_arc_seal;

struct seal_state {
    struct arc_bodyhash *body;
};

static const char *qid(const struct txn *t)
{
    return t->queue_id != NULL ? t->queue_id : "NOQUEUE";
}

static void seal_failed(struct txn *t, const char *why)
{
    log_warn("%s: not ARC-sealed: %s", qid(t), why);
    txn_add_result(t, "ARC_SEAL_FAILED", 0, ACTION_NONE, NULL);
}

static void seal_headers(struct txn *t)
{
    if (!arc_sealing_wanted(t))
        return;
    struct seal_state *s = xcalloc(1, sizeof *s);
    *txn_check_state(t, &check_arc_seal) = s;
    s->body = arc_bodyhash_new(ARC_CANON_RELAXED, -1);
}

static void seal_body(struct txn *t, const unsigned char *data, size_t len)
{
    struct seal_state *s = *txn_check_state(t, &check_arc_seal);
    if (s != NULL && s->body != NULL)
        arc_bodyhash_update(s->body, data, len);
}

/* Whether the n-th (1-based) field named `name` among fields[0..i] is field i. */
static bool is_nth_of_name(const struct header_field *fields, size_t i, const char *name,
    int n)
{
    int seen = 0;
    for (size_t k = 0; k <= i; k++) {
        if (str_ieq(fields[k].name, name))
            seen++;
    }
    return str_ieq(fields[i].name, name) && seen == n;
}

static bool deleted(const struct txn *t, size_t i)
{
    for (size_t e = 0; e < t->verdict.edit_count; e++) {
        const struct header_edit *x = &t->verdict.edits[e];
        if (x->op == HEADER_DELETE && is_nth_of_name(t->headers, i, x->name, x->index))
            return true;
    }
    return false;
}

/* The header as it leaves us: the verdict's edits applied to the fields received (inserts at
 * the top, newest first; deletions; appends at the end). The fields point into t. */
static struct header_field *leaving_header(const struct txn *t, size_t *count)
{
    struct header_field *out = xcalloc(t->header_count + t->verdict.edit_count + 1, sizeof *out);
    size_t n = 0;
    for (size_t e = t->verdict.edit_count; e > 0; e--) {
        const struct header_edit *x = &t->verdict.edits[e - 1];
        if (x->op == HEADER_INSERT)
            out[n++] = (struct header_field){.name = x->name, .value = x->value};
    }
    for (size_t i = 0; i < t->header_count; i++) {
        if (!deleted(t, i))
            out[n++] = t->headers[i];
    }
    for (size_t e = 0; e < t->verdict.edit_count; e++) {
        const struct header_edit *x = &t->verdict.edits[e];
        if (x->op == HEADER_APPEND)
            out[n++] = (struct header_field){.name = x->name, .value = x->value};
    }
    *count = n;
    return out;
}

/* Our Authentication-Results methods, for the AAR after the authserv-id. */
static char *our_results(const struct txn *t)
{
    struct textbuf b;
    textbuf_init(&b);
    for (size_t i = 0; i < t->authres_method_count; i++)
        textbuf_printf(&b, "%s%s", i > 0 ? "; " : "", t->authres_methods[i]);
    if (b.data == NULL)
        textbuf_puts(&b, "");
    return b.data;
}

/* Our cv=: check_arc's verdict, or none when the message has no ARC field at all. */
static bool choose_cv(struct txn *t, enum arc_cv *cv, const char **why)
{
    const struct arc_outcome *o = arc_result_get(t);
    if (o->checked) {
        *cv = o->verdict.seal_cv;
        return true;
    }
    if (txn_header(t, "ARC-Seal", 0) == NULL && txn_header(t, "ARC-Message-Signature", 0) == NULL
            && txn_header(t, "ARC-Authentication-Results", 0) == NULL) {
        *cv = ARC_CV_NONE;
        return true;
    }
    *why = "the message has an ARC chain that was not verified";
    return false;
}

static void seal_after_edits(struct txn *t)
{
    struct seal_state *s = *txn_check_state(t, &check_arc_seal);
    if (s == NULL || s->body == NULL)
        return;
    unsigned char digest[ARC_BODYHASH_MAX];
    bool short_body = false;
    size_t digest_len = arc_bodyhash_final(s->body, digest, &short_body);
    arc_bodyhash_free(s->body);
    s->body = NULL;
    const char *why = NULL;
    enum arc_cv cv;
    if (txn_headers_truncated(t)) {
        seal_failed(t, "the header block exceeds limits.max_headers or limits.max_header_bytes");
        return;
    }
    if (!choose_cv(t, &cv, &why)) {
        seal_failed(t, why);
        return;
    }
    const struct dkim_key_entry *e = &t->cfg->dkim->keys[t->cfg->arc->seal.key_index];
    struct arc_seal_key key = {.pkey = e->key->pkey, .domain = e->domain,
        .selector = e->selector};
    size_t field_count;
    struct header_field *fields = leaving_header(t, &field_count);
    char *results = our_results(t);
    struct arc_seal_request req = {
        .fields = fields, .field_count = field_count, .cv = cv,
        .authserv_id = authres_id(t), .results = results, .body_hash = digest,
        .body_hash_len = digest_len, .timestamp = (uint64_t)time(NULL),
        .layout = ARC_LAYOUT_DEFAULT,
        .fold = "\n",            /* LF + TAB, as our Authentication-Results */
    };
    struct arc_sealed sealed;
    char reason[256];
    bool ok = arc_seal(&req, &key, &sealed, reason, sizeof reason);
    free(results);
    free(fields);
    if (!ok) {
        seal_failed(t, reason);
        return;
    }
    /* each insert at the top goes above the last: AAR, then AMS, then the seal on top */
    verdict_add_edit(&t->verdict, HEADER_INSERT, 0, "ARC-Authentication-Results", sealed.aar);
    verdict_add_edit(&t->verdict, HEADER_INSERT, 0, "ARC-Message-Signature", sealed.ams);
    verdict_add_edit(&t->verdict, HEADER_INSERT, 0, "ARC-Seal", sealed.seal);
    log_info("%s: ARC-sealed: i=%u cv=%s d=%s s=%s", qid(t), sealed.instance,
        cv == ARC_CV_PASS ? "pass" : cv == ARC_CV_FAIL ? "fail" : "none", e->domain, e->selector);
    arc_sealed_free(&sealed);
    txn_add_result(t, "ARC_SEALED", 0, ACTION_NONE, NULL);
}

static void seal_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_HEADERS)
        seal_headers(t);
}

static void seal_txn_end(struct txn *t, void *state)
{
    (void)t;
    struct seal_state *s = state;
    if (s->body != NULL)
        arc_bodyhash_free(s->body);
    free(s);
}

const struct check check_arc_seal = {
    .name = "arc_seal",
    .stages = STAGE_BIT(STAGE_HEADERS),
    .run = seal_run,
    .flags = CHECK_EVEN_WHEN_ALLOWED,
    .body = seal_body,
    .txn_end = seal_txn_end,
    .after_edits = seal_after_edits,
};
