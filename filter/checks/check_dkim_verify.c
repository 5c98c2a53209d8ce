/* check_dkim_verify.c - verifies the DKIM signatures of inbound mail with libopendkim
 * (RFC 6376, RFC 8463, RFC 8301). At the end of the headers it starts a verifying handle
 * (key lookups go through the daemon's resolver, dkim_dns.c), streams the body into it, and
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

#include <opendkim/dkim.h>

#include "authres.h"
#include "check.h"
#include "dkim_dns.h"
#include "dkim_policy.h"
#include "dkim_prefetch.h"
#include "dkim_result.h"
#include "dkim_util.h"
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

/* Starts the key lookup of every signature libopendkim will examine, all at once, and waits
 * for them within dkim.verify.budget (which runs from here), or what is left of the message's
 * DNS budget when that is less: libopendkim looks the keys up one by one inside dkim_eoh, and
 * is then answered from these. */
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
    dkim_prefetch_collect(keys);
    return keys;
}

static void verify_headers(struct txn *t)
{
    struct dkim_policy *p = t->cfg->dkim;
    if (p == NULL || !p->verify.enabled || p->verify_lib == NULL || txn_is_outbound(t))
        return;
    struct dkim_verify_state *s = xcalloc(1, sizeof *s);
    *txn_check_state(t, &check_dkim_verify) = s;
    if (txn_header(t, "DKIM-Signature", 0) == NULL)
        return;
    DKIM_STAT status;
    s->handle = dkim_verify(p->verify_lib, (const unsigned char *)(t->queue_id ? t->queue_id
        : "NOQUEUE"), NULL, &status);
    if (s->handle == NULL) {
        s->failed = true;
        return;
    }
    dkim_set_user_context(s->handle, p);
    struct textbuf line;
    textbuf_init(&line);
    for (size_t i = 0; i < t->header_count; i++) {
        dkim_header_text(&t->headers[i], &line);
        (void)dkim_header(s->handle, (unsigned char *)line.data, line.len);
    }
    textbuf_free(&line);
    uint64_t lookups_started = dns_now_ms();
    s->keys = prefetch_keys(p, t);
    dkim_dns_use_prefetch(s->keys);
    status = dkim_eoh(s->handle);
    dkim_dns_use_prefetch(NULL);
    txn_dns_charge(t, lookups_started);   /* the key lookups' wait, to the message's budget */
    if (status != DKIM_STAT_OK && status != DKIM_STAT_NOSIG)
        s->failed = true;
}

static void verify_body(struct txn *t, const unsigned char *data, size_t len)
{
    struct dkim_verify_state *s = *txn_check_state(t, &check_dkim_verify);
    if (s == NULL || s->handle == NULL || s->failed)
        return;
    if (dkim_body(s->handle, (unsigned char *)data, len) != DKIM_STAT_OK)
        s->failed = true;
}

static enum outcome outcome_of_error(int error, int bh)
{
    switch (error) {
    case DKIM_SIGERROR_KEYFAIL:
        return O_TEMPERROR;
    case DKIM_SIGERROR_KEYTOOSMALL:
        return O_SMALL_KEY;
    case DKIM_SIGERROR_EXPIRED:
    case DKIM_SIGERROR_FUTURE:
        return O_EXPIRED;
    case DKIM_SIGERROR_NOKEY:
    case DKIM_SIGERROR_DNSSYNTAX:
    case DKIM_SIGERROR_MULTIREPLY:
    case DKIM_SIGERROR_KEYVERSION:
    case DKIM_SIGERROR_KEYUNKNOWNHASH:
    case DKIM_SIGERROR_KEYHASHMISMATCH:
    case DKIM_SIGERROR_NOTEMAILKEY:
    case DKIM_SIGERROR_KEYTYPEMISSING:
    case DKIM_SIGERROR_KEYTYPEUNKNOWN:
    case DKIM_SIGERROR_KEYREVOKED:
    case DKIM_SIGERROR_KEYDECODE:
        return O_PERMERROR;
    case DKIM_SIGERROR_BADSIG:
        return O_FAIL;
    case DKIM_SIGERROR_OK:
    case DKIM_SIGERROR_UNKNOWN:
        return bh == DKIM_SIGBH_MISMATCH || error == DKIM_SIGERROR_OK ? O_FAIL : O_NEUTRAL;
    default:
        return O_NEUTRAL;      /* the signature's own syntax: RFC 8601 2.7.1 neutral */
    }
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

static char *tag_copy(DKIM_SIGINFO *sig, const char *tag)
{
    unsigned char *v = dkim_sig_gettagvalue(sig, false, (unsigned char *)tag);
    return v != NULL ? xstrdup((const char *)v) : NULL;
}

/* Examines one signature: its outcome, and its tags into r. */
static enum outcome examine(const struct dkim_policy *p, DKIM *d, DKIM_SIGINFO *sig,
    struct dkim_sig_result *r)
{
    unsigned flags = dkim_sig_getflags(sig);
    int bh = dkim_sig_getbh(sig);
    r->domain = tag_copy(sig, "d");
    if (r->domain != NULL)
        str_lower(r->domain);
    r->selector = tag_copy(sig, "s");
    r->algorithm = tag_copy(sig, "a");
    unsigned char identity[512];
    if (dkim_sig_getidentity(d, sig, identity, sizeof identity) == DKIM_STAT_OK)
        r->identity = xstrdup((const char *)identity);
    const unsigned char *b = dkim_sig_gettagvalue(sig, false, (unsigned char *)"b");
    size_t n = 0;
    for (; b != NULL && *b != '\0' && n < 8; b++) {
        if (!isspace(*b))
            r->b_prefix[n++] = (char)*b;
    }
    r->b_prefix[n] = '\0';
    (void)dkim_sig_getkeysize(sig, &r->key_bits);
    if (!(flags & DKIM_SIGFLAG_PASSED) || bh != DKIM_SIGBH_MATCH) {
        int error = dkim_sig_geterror(sig);
        log_debug("DKIM signature d=%s s=%s: %s (body hash %s)", r->domain ? r->domain : "-",
            r->selector ? r->selector : "-", dkim_sig_geterrorstr(error),
            bh == DKIM_SIGBH_MATCH ? "matches" : bh == DKIM_SIGBH_MISMATCH ? "differs" : "untested");
        return outcome_of_error(error, bh);
    }
    if (!p->verify.accept_rsa_sha1 && r->algorithm != NULL && str_ieq(r->algorithm, "rsa-sha1"))
        return O_SHA1;
    ssize_t msglen = 0, canonlen = 0, signlen = -1;
    if (dkim_sig_getcanonlen(d, sig, &msglen, &canonlen, &signlen) == DKIM_STAT_OK
        && signlen >= 0 && canonlen < msglen) {
        r->body_partial = true;
        return O_BODY_LENGTH;
    }
    return O_PASS;
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
    if (s->handle == NULL && !s->failed) {
        if (t->cfg->dkim->verify.report_none)
            txn_add_authres(t, "dkim=none");
        txn_add_result(t, outcome_symbols[O_NONE].symbol, outcome_symbols[O_NONE].score,
            ACTION_NONE, NULL);
        return;
    }
    DKIM_STAT status = DKIM_STAT_INTERNAL;
    if (s->handle != NULL && !s->failed) {
        dkim_dns_use_prefetch(s->keys);
        status = dkim_eom(s->handle, NULL);
        dkim_dns_use_prefetch(NULL);
    }
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;
    if (s->handle == NULL || dkim_getsiglist(s->handle, &sigs, &nsigs) != DKIM_STAT_OK)
        nsigs = 0;
    size_t examined = 0;
    for (int i = 0; i < nsigs && examined < t->cfg->dkim->verify.max_signatures; i++) {
        if (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE)
            continue;
        struct dkim_sig_result r = {0};
        enum outcome o = examine(t->cfg->dkim, s->handle, sigs[i], &r);
        /* the hash covered only the fields kept: a field past a limit (an added copy of a
         * signed field, say) was not seen, so a pass cannot be trusted */
        if (txn_headers_truncated(t) && (o == O_PASS || o == O_BODY_LENGTH))
            o = O_HEADER_LIMIT;
        record(t, s, &r, o, seen);
        examined++;
    }
    if (examined == 0) {
        /* libopendkim could not take the signatures apart at all */
        log_info("%s: DKIM: no signature could be evaluated: %s",
            t->queue_id ? t->queue_id : "NOQUEUE",
            s->handle && dkim_geterror(s->handle) ? dkim_geterror(s->handle)
                : dkim_getresultstr(status));
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
    if (s->handle != NULL)
        dkim_free(s->handle);
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
