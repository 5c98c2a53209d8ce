/* check_dkim_verify.c - verifies the DKIM signatures of inbound mail with dkim_verifier.c
 * (RFC 6376, RFC 8463, RFC 8301). At the end of the headers it reads the signatures and
 * starts every key lookup (dkim_prefetch.c, through the daemon's resolver within the
 * message's DNS budget), streams the body into the verifier, and
 * at the end of the message records one result per signature (at most
 * dkim.verify.max_signatures) in its state slot (dkim_result.h), in Authentication-Results
 * (dkim=pass|fail|neutral|policy|temperror|permerror|none with header.d/i/s/a/b) and as
 * symbols: DKIM_PASS, DKIM_FAIL, DKIM_NONE, DKIM_TEMPERROR, DKIM_PERMERROR, DKIM_NEUTRAL,
 * DKIM_KEY_TOO_SMALL, DKIM_RSA_SHA1, DKIM_EXPIRED, DKIM_BODY_LENGTH, DKIM_HEADER_LIMIT (a
 * signature that would pass on a message whose header passed a limit: dkim=policy, never
 * pass). Outbound mail is not verified. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "authres.h"
#include "check.h"
#include "dkim_policy.h"
#include "dkim_prefetch.h"
#include "dkim_result.h"
#include "dkim_verifier.h"
#include "log.h"
#include "util.h"

extern const struct check check_dkim_verify;

/* One symbol per outcome, with its default score. */
static const struct {
    const char *symbol;
    double score;
} outcome_symbols[] = {
    {"DKIM_PASS", 0},          /* 0 */
    {"DKIM_FAIL", 1.0},        /* 1: bad signature or body hash */
    {"DKIM_NONE", 0},          /* 2: no signature */
    {"DKIM_TEMPERROR", 0},     /* 3: key lookup failed (DNS error) */
    {"DKIM_PERMERROR", 0.5},   /* 4: no key, bad key record */
    {"DKIM_NEUTRAL", 0.5},     /* 5: signature syntax error */
    {"DKIM_KEY_TOO_SMALL", 1.0}, /* 6: RSA key under dkim.verify.min_key_bits */
    {"DKIM_RSA_SHA1", 1.0},    /* 7: rsa-sha1, not valid since RFC 8301 */
    {"DKIM_EXPIRED", 0.5},     /* 8: x= passed, or t= in the future */
    {"DKIM_BODY_LENGTH", 0.5}, /* 9: l= covers less than the body */
    {"DKIM_HEADER_LIMIT", 0},  /* 10: would pass, but header fields past a limit were not seen */
};

enum outcome { O_PASS, O_FAIL, O_NONE, O_TEMPERROR, O_PERMERROR, O_NEUTRAL, O_SMALL_KEY,
    O_SHA1, O_EXPIRED, O_BODY_LENGTH, O_HEADER_LIMIT, O_COUNT };

/* Starts the key lookup of every signature the verifier will examine, all at once; they are
 * collected at the end of the message within dkim.verify.budget (which runs from here), or
 * what is left of the message's DNS budget when that is less. */
static struct dkim_prefetch *prefetch_keys(const struct dkim_policy *p, const struct txn *t)
{
    uint64_t budget_ms = p->verify.budget_ms;
    if (txn_dns_budget_left_ms(t) < budget_ms)
        budget_ms = txn_dns_budget_left_ms(t);
    struct dkim_prefetch *keys = dkim_prefetch_new(config_resolver(t->cfg), budget_ms);
    const char *signature;
    for (size_t i = 0; i < p->verify.max_signatures
        && (signature = txn_header(t, "DKIM-Signature", i)) != NULL; i++)
        dkim_prefetch_add_signature(keys, signature);
    return keys;
}

static void verify_headers(struct txn *t)
{
    struct dkim_policy *p = t->cfg->dkim;
    if (p == NULL || !p->verify.enabled || txn_is_outbound(t))
        return;
    struct dkim_verify_state *s = xcalloc(1, sizeof *s);
    *txn_check_state(t, &check_dkim_verify) = s;
    if (txn_header(t, "DKIM-Signature", 0) == NULL)
        return;
    struct dkim_verify_params params = {
        .max_signatures = p->verify.max_signatures,
        .min_key_bits = p->verify.min_key_bits,
        .accept_rsa_sha1 = p->verify.accept_rsa_sha1,
        .now = (int64_t)time(NULL),
        .clock_drift_s = p->verify.clock_drift_s,
    };
    s->verifier = dkim_verifier_new(t->headers, t->header_count, &params);
    s->keys = prefetch_keys(p, t);
}

static void verify_body(struct txn *t, const unsigned char *data, size_t len)
{
    struct dkim_verify_state *s = *txn_check_state(t, &check_dkim_verify);
    if (s == NULL || s->verifier == NULL)
        return;
    dkim_verifier_body(s->verifier, data, len);
}

/* The verifier's key lookup: the prefetched answer, lent (the prefetch outlives the
 * verifier's finish), else (a key not prefetched) the resolver with what is left of the
 * budget; nothing once the budget is spent. */
static const struct dns_answer *lookup_key(void *arg, const char *name, struct dns_answer *out)
{
    struct dkim_prefetch *keys = arg;
    const struct dns_answer *a = dkim_prefetch_answer(keys, name);
    if (a != NULL)
        return a;
    struct dns_resolver *resolver = dkim_prefetch_resolver(keys);
    uint64_t left = dkim_prefetch_remaining_ms(keys);
    if (resolver == NULL || left == 0) {
        memset(out, 0, sizeof *out);
        out->status = resolver == NULL ? DNS_ERROR : DNS_TIMEOUT;
        out->rcode = -1;
        return out;
    }
    dns_query(resolver, name, 16, left, out);
    return out;
}

static enum outcome outcome_of(enum dkim_outcome o)
{
    switch (o) {
    case DKIM_OUTCOME_PASS: return O_PASS;
    case DKIM_OUTCOME_FAIL: return O_FAIL;
    case DKIM_OUTCOME_TEMPERROR: return O_TEMPERROR;
    case DKIM_OUTCOME_PERMERROR: return O_PERMERROR;
    case DKIM_OUTCOME_NEUTRAL: return O_NEUTRAL;
    case DKIM_OUTCOME_SMALL_KEY: return O_SMALL_KEY;
    case DKIM_OUTCOME_SHA1: return O_SHA1;
    case DKIM_OUTCOME_EXPIRED: return O_EXPIRED;
    case DKIM_OUTCOME_BODY_LENGTH: return O_BODY_LENGTH;
    }
    return O_NEUTRAL;
}

static enum dkim_verdict verdict_of(enum outcome o)
{
    switch (o) {
    case O_PASS: case O_BODY_LENGTH: return DKIM_RESULT_PASS;
    case O_FAIL: return DKIM_RESULT_FAIL;
    case O_TEMPERROR: return DKIM_RESULT_TEMPERROR;
    case O_PERMERROR: case O_EXPIRED: return DKIM_RESULT_PERMERROR;
    case O_SMALL_KEY: case O_SHA1: case O_HEADER_LIMIT: return DKIM_RESULT_POLICY;
    case O_NEUTRAL: return DKIM_RESULT_NEUTRAL;
    case O_NONE: case O_COUNT: break;
    }
    return DKIM_RESULT_NONE;
}

/* One signature's outcome, and its tags into r. */
static enum outcome examine(const struct dkim_sig_check *c, struct dkim_sig_result *r)
{
    r->domain = c->domain != NULL ? xstrdup(c->domain) : NULL;
    r->selector = c->selector != NULL ? xstrdup(c->selector) : NULL;
    r->algorithm = c->algorithm != NULL ? xstrdup(c->algorithm) : NULL;
    r->identity = c->identity != NULL ? xstrdup(c->identity) : NULL;
    memcpy(r->b_prefix, c->b_prefix, sizeof r->b_prefix);
    r->key_bits = c->key_bits;
    r->body_partial = c->body_partial;
    if (c->outcome != DKIM_OUTCOME_PASS)
        log_debug("DKIM signature d=%s s=%s: %s", r->domain ? r->domain : "-",
            r->selector ? r->selector : "-", c->detail);
    return outcome_of(c->outcome);
}

static void add_value(struct textbuf *ar, const char *name, const char *v)
{
    if (v != NULL && *v != '\0')
        authres_add_property(ar, name, v);
}

static void add_authres(struct txn *t, const struct dkim_sig_result *r)
{
    struct textbuf ar;
    textbuf_init(&ar);
    textbuf_printf(&ar, "dkim=%s", dkim_verdict_name(r->result));
    add_value(&ar, "header.d", r->domain);
    add_value(&ar, "header.i", r->identity);
    add_value(&ar, "header.s", r->selector);
    add_value(&ar, "header.a", r->algorithm);
    add_value(&ar, "header.b", r->b_prefix);
    txn_add_authres(t, ar.data);
    textbuf_free(&ar);
}

static void record(struct txn *t, struct dkim_verify_state *s, struct dkim_sig_result *r,
    enum outcome o, bool *seen)
{
    r->result = verdict_of(o);
    s->results = xrealloc(s->results, (s->result_count + 1) * sizeof *s->results);
    s->results[s->result_count++] = *r;
    add_authres(t, r);
    if (!seen[o]) {
        seen[o] = true;
        txn_add_result(t, outcome_symbols[o].symbol, outcome_symbols[o].score, ACTION_NONE, NULL);
    }
    if (o == O_BODY_LENGTH && !seen[O_PASS]) {
        seen[O_PASS] = true;
        txn_add_result(t, outcome_symbols[O_PASS].symbol, outcome_symbols[O_PASS].score,
            ACTION_NONE, NULL);
    }
}

static void verify_eom(struct txn *t)
{
    struct dkim_verify_state *s = *txn_check_state(t, &check_dkim_verify);
    if (s == NULL)
        return;
    bool seen[O_COUNT] = {false};
    if (s->verifier == NULL) {
        if (t->cfg->dkim->verify.report_none)
            txn_add_authres(t, "dkim=none");
        txn_add_result(t, outcome_symbols[O_NONE].symbol, outcome_symbols[O_NONE].score,
            ACTION_NONE, NULL);
        return;
    }
    uint64_t lookups_started = dns_now_ms();
    dkim_prefetch_collect(s->keys);
    dkim_verifier_finish(s->verifier, t->headers, t->header_count, lookup_key, s->keys);
    txn_dns_charge(t, lookups_started);   /* the key lookups' wait, to the message's budget */
    size_t count = dkim_verifier_count(s->verifier);
    for (size_t i = 0; i < count; i++) {
        struct dkim_sig_result r = {0};
        enum outcome o = examine(dkim_verifier_result(s->verifier, i), &r);
        /* the hash covered only the fields kept: a field past a limit (an added copy of a
         * signed field, say) was not seen, so a pass cannot be trusted */
        if (txn_headers_truncated(t) && (o == O_PASS || o == O_BODY_LENGTH))
            o = O_HEADER_LIMIT;
        record(t, s, &r, o, seen);
    }
    if (count == 0) {
        /* DKIM-Signature fields, but none examined (dkim.verify.max_signatures = 0) */
        struct dkim_sig_result r = {0};
        record(t, s, &r, O_NEUTRAL, seen);
    }
}

static void verify_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_HEADERS)
        verify_headers(t);
    else if (stage == STAGE_EOM)
        verify_eom(t);
}

static void verify_txn_end(struct txn *t, void *state)
{
    (void)t;
    struct dkim_verify_state *s = state;
    dkim_verifier_free(s->verifier);
    dkim_prefetch_free(s->keys);
    for (size_t i = 0; i < s->result_count; i++) {
        struct dkim_sig_result *r = &s->results[i];
        free(r->domain);
        free(r->identity);
        free(r->selector);
        free(r->algorithm);
    }
    free(s->results);
    free(s);
}

static bool dkim_verify_shadowed(const struct config *cfg)
{
    return cfg->dkim->verify.shadow;
}

const struct check check_dkim_verify = {
    .name = "dkim_verify",
    .stages = STAGE_BIT(STAGE_HEADERS) | STAGE_BIT(STAGE_EOM),
    .run = verify_run,
    .body = verify_body,
    .txn_end = verify_txn_end,
    .shadowed = dkim_verify_shadowed,
};
