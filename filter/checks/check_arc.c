/* check_arc.c - verifies the ARC chain of inbound mail (RFC 8617 5.2) with arc_verify. At the
 * end of the headers it starts the verifier on the header fields and streams the body into
 * it (.body); at the end of the message it starts the key lookups with the other checks'
 * (.prefetch), verifies through the message's DNS budget (txn_dns_query) and records the
 * result in its state slot (arc_result.h, with each hop's AAR read for DMARC), in
 * Authentication-Results ("arc=pass|fail smtp.remote-ip=... header.oldest-pass=N", RFC 8617
 * 10.1; arc=none only with arc.report_none) and as one symbol (arc_result_symbol): ARC_NONE,
 * ARC_PASS, ARC_INVALID, ARC_FAIL, ARC_REJECT. No limit makes a chain pass: ARC fields
 * possibly among header fields past a limit make it fail. Not verified: outbound mail, mail an
 * accept was forced for, and arc.enabled = false, unless the message is to be sealed
 * (arc_sealing.h: our seal's cv= needs the verdict). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_config.h"
#include "arc_sealing.h"
#include "arc_state.h"
#include "authres.h"
#include "check.h"
#include "log.h"
#include "util.h"

extern const struct check check_arc;

#define ARC_DNS_TXT 16

static const struct {
    const char *symbol;
    double score;
} symbols[] = {
    {"ARC_NONE", 0},
    {"ARC_PASS", 0},
    {"ARC_FAIL", 1.0},            /* a signature or body hash, a key absent or bad */
    {"ARC_INVALID", 1.0},         /* the structure, or a seal says cv=fail */
    {"ARC_REJECT", 1.0},          /* a limit, or a key lookup that failed */
};

static const char *qid(const struct txn *t)
{
    return t->queue_id != NULL ? t->queue_id : "NOQUEUE";
}

static bool verified(const struct txn *t)
{
    const struct arc_policy *p = t->cfg->arc;
    if (p == NULL)
        return false;
    if (p->enabled && !t->allowed && !txn_is_outbound(t))
        return true;
    return arc_sealing_wanted(t);
}

static struct arc_txn_state *state_of(struct txn *t)
{
    return *txn_check_state(t, &check_arc);
}

static void limits_for(const struct txn *t, struct arc_limits *lim)
{
    const struct arc_policy *p = t->cfg->arc;
    arc_limits_default(lim);
    lim->max_instances = p->max_instances;
    lim->max_lookups = p->max_key_lookups;
    lim->budget_ms = p->budget_ms;
    if (txn_dns_budget_left_ms(t) < lim->budget_ms)
        lim->budget_ms = txn_dns_budget_left_ms(t);  /* what the message has left */
    lim->query_timeout_ms = t->cfg->dns.timeout_ms;
}

static void arc_headers(struct txn *t)
{
    if (!verified(t))
        return;
    struct arc_txn_state *s = xcalloc(1, sizeof *s);
    *txn_check_state(t, &check_arc) = s;
    s->outcome.checked = true;
    struct arc_limits lim;
    limits_for(t, &lim);
    s->verify = arc_verify_begin(t->headers, t->header_count, &lim);
}

static void arc_body(struct txn *t, const unsigned char *data, size_t len)
{
    struct arc_txn_state *s = state_of(t);
    if (s != NULL && s->verify != NULL && arc_verify_needs_body(s->verify))
        arc_verify_body(s->verify, data, len);
}

/* At the end of the message: every key the verifier may ask for, sent together with the
 * other checks' queries of the stage. */
static void arc_prefetch(struct txn *t, enum stage stage)
{
    struct arc_txn_state *s = state_of(t);
    if (stage != STAGE_EOM || s == NULL || s->verify == NULL)
        return;
    const char *names[100];
    size_t max = t->cfg->arc->max_key_lookups < 100 ? t->cfg->arc->max_key_lookups : 100;
    size_t n = arc_verify_key_names(s->verify, names, max);
    for (size_t i = 0; i < n; i++)
        txn_dns_start(t, names[i], ARC_DNS_TXT);
}

static void lookup_through_txn(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    txn_dns_query(arg, name, type, timeout_ms, out);
}

/* Each hop's AAR, read for DMARC's trusted sealers and for mailwarden-check. */
static void read_aars(struct arc_outcome *o)
{
    if (o->verdict.hop_count == 0)
        return;
    o->aar = xcalloc(o->verdict.hop_count, sizeof *o->aar);
    for (unsigned i = 0; i < o->verdict.hop_count; i++) {
        const char *payload = o->verdict.hop[i].aar_payload;
        o->aar[i].read = payload != NULL && arc_aar_parse(payload, &o->aar[i].aar);
    }
}

static void record_authres(struct txn *t, const struct arc_outcome *o, bool pass)
{
    struct textbuf b;
    textbuf_init(&b);
    textbuf_printf(&b, "arc=%s", pass ? "pass" : arc_status_name(o->verdict.status));
    if (pass) {
        char oldest[16];
        snprintf(oldest, sizeof oldest, "%u", o->verdict.oldest_pass);
        authres_add_property(&b, "header.oldest-pass", oldest);
    }
    if (t->have_client_addr)
        authres_add_property(&b, "smtp.remote-ip", t->client_ip);
    txn_add_authres(t, b.data);
    textbuf_free(&b);
}

static void record(struct txn *t, const struct arc_outcome *o)
{
    const char *symbol = arc_result_symbol(o);
    bool pass = strcmp(symbol, "ARC_PASS") == 0;
    if (o->verdict.status != ARC_STATUS_NONE || t->cfg->arc->report_none)
        record_authres(t, o, pass);
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (strcmp(symbols[i].symbol, symbol) == 0)
            txn_add_result(t, symbol, symbols[i].score, ACTION_NONE, NULL);
    }
    if (o->verdict.status == ARC_STATUS_FAIL)
        log_info("arc: qid=%s client=%s result=fail sets=%u instance=%u field=%s reason=%s "
            "lookups=%u: %s", qid(t), t->client_ip, o->verdict.count, o->verdict.fail_instance,
            arc_field_name(o->verdict.fail_field), arc_reason_name(o->verdict.reason),
            o->verdict.lookups, o->verdict.detail);
    else
        log_debug("arc: qid=%s client=%s result=%s sets=%u oldest-pass=%u lookups=%u", qid(t),
            t->client_ip, arc_status_name(o->verdict.status), o->verdict.count,
            o->verdict.oldest_pass, o->verdict.lookups);
}

static void arc_eom(struct txn *t)
{
    struct arc_txn_state *s = state_of(t);
    if (s == NULL || s->verify == NULL)
        return;
    struct arc_outcome *o = &s->outcome;
    arc_verify_finish(s->verify, lookup_through_txn, t, &o->verdict);
    arc_verify_free(s->verify);
    s->verify = NULL;
    read_aars(o);
    if (o->verdict.status != ARC_STATUS_NONE && txn_headers_truncated(t)) {
        /* a field past a limit was not kept: it may be an ARC field, or one a signature
         * covers; the chain cannot pass on what was not seen */
        o->header_limit = true;
        o->verdict.status = ARC_STATUS_FAIL;
        o->verdict.seal_cv = ARC_CV_FAIL;
        snprintf(o->verdict.detail, sizeof o->verdict.detail, "header fields past "
            "limits.max_headers or limits.max_header_bytes were not kept");
    }
    record(t, o);
}

static void arc_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_HEADERS)
        arc_headers(t);
    else if (stage == STAGE_EOM)
        arc_eom(t);
}

static void arc_txn_end(struct txn *t, void *state)
{
    (void)t;
    struct arc_txn_state *s = state;
    if (s->verify != NULL)
        arc_verify_free(s->verify);
    arc_result_free(&s->outcome.verdict);
    free(s->outcome.aar);
    free(s);
}

static bool arc_shadowed(const struct config *cfg)
{
    return cfg->arc->shadow;
}

const struct check check_arc = {
    .name = "arc",
    .stages = STAGE_BIT(STAGE_HEADERS) | STAGE_BIT(STAGE_EOM),
    .run = arc_run,
    /* verified(): after a forced accept only when the message is to be sealed */
    .flags = CHECK_EVEN_WHEN_ALLOWED,
    .prefetch = arc_prefetch,
    .body = arc_body,
    .txn_end = arc_txn_end,
    .shadowed = arc_shadowed,
};
