/* check_arc.c - verifies the ARC chain of inbound mail (RFC 8617 5.2). At the end of the
 * headers it collects the ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results
 * fields into sets and checks their structure (arc_set.c); at the end of the message it
 * records the result in its state slot (arc_result.h), in Authentication-Results
 * ("arc=pass|fail smtp.remote-ip=... header.oldest-pass=N", RFC 8617 10.1; arc=none only
 * with arc.report_none) and as one
 * symbol: ARC_NONE (no chain), ARC_PASS, ARC_INVALID (structure, or a seal says cv=fail),
 * ARC_FAIL (a signature or the body hash), ARC_REJECT (a limit: arc.max_instances,
 * arc.max_key_lookups, the budget, a failed key lookup, a header field past a limit). No limit
 * makes a chain pass. Outbound mail, mail an accept was forced for, and arc.enabled = false
 * are not verified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_config.h"
#include "arc_state.h"
#include "authres.h"
#include "check.h"
#include "log.h"
#include "util.h"

extern const struct check check_arc;

static const struct {
    const char *symbol;
    double score;
} failure_symbols[] = {
    [ARC_FAILURE_NONE] = {"ARC_FAIL", 1.0},
    [ARC_FAILURE_STRUCTURE] = {"ARC_INVALID", 1.0},
    [ARC_FAILURE_SIGNATURE] = {"ARC_FAIL", 1.0},
    [ARC_FAILURE_LIMIT] = {"ARC_REJECT", 1.0},
};

static const char *qid(const struct txn *t)
{
    return t->queue_id != NULL ? t->queue_id : "NOQUEUE";
}

static bool skipped(const struct txn *t)
{
    const struct arc_policy *p = t->cfg->arc;
    return p == NULL || !p->enabled || t->allowed || txn_is_outbound(t);
}

static void fail(struct arc_outcome *o, enum arc_failure failure, unsigned instance,
    const char *reason)
{
    o->result = ARC_RESULT_FAIL;
    o->failure = failure;
    o->failed_instance = instance;
    strlcpy_mw(o->reason, reason, sizeof o->reason);
}

/* The hops of a well-formed chain: each seal's d= and s=, each AAR read. */
static void read_hops(struct arc_txn_state *s)
{
    struct arc_outcome *o = &s->outcome;
    o->count = s->chain.count;
    o->hops = xcalloc(o->count, sizeof *o->hops);
    for (unsigned i = 0; i < o->count; i++) {
        const struct arc_set *set = &s->chain.set[i];
        struct arc_hop *h = &o->hops[i];
        h->instance = i + 1;
        const char *d = arc_tags_get(&set->seal, "d");
        const char *sel = arc_tags_get(&set->seal, "s");
        strlcpy_mw(h->sealer, d != NULL ? d : "", sizeof h->sealer);
        str_lower(h->sealer);
        strlcpy_mw(h->selector, sel != NULL ? sel : "", sizeof h->selector);
        h->aar_read = set->aar_payload != NULL && arc_aar_parse(set->aar_payload, &h->aar);
    }
}

/* At the end of the headers: the chain collected and judged as far as its structure goes. */
static void arc_headers(struct txn *t)
{
    if (skipped(t))
        return;
    struct arc_txn_state *s = xcalloc(1, sizeof *s);
    *txn_check_state(t, &check_arc) = s;
    struct arc_outcome *o = &s->outcome;
    o->checked = true;
    arc_chain_collect(t->headers, t->header_count, &s->chain);
    s->collected = true;
    const struct arc_policy *p = t->cfg->arc;
    switch (s->chain.state) {
    case ARC_CHAIN_NONE:
        o->result = ARC_RESULT_NONE;
        return;
    case ARC_CHAIN_INVALID:
        fail(o, ARC_FAILURE_STRUCTURE, s->chain.bad_instance, s->chain.reason);
        return;
    case ARC_CHAIN_READY:
        break;
    }
    read_hops(s);
    char why[200];
    if (txn_headers_truncated(t)) {
        /* a field past a limit was not kept: the signatures cannot be checked on it */
        fail(o, ARC_FAILURE_LIMIT, 0, "header fields past limits.max_headers or "
            "limits.max_header_bytes were not kept");
    } else if (s->chain.count > p->max_instances) {
        snprintf(why, sizeof why, "%u ARC sets, more than arc.max_instances (%u)",
            s->chain.count, p->max_instances);
        fail(o, ARC_FAILURE_LIMIT, s->chain.count, why);
    }
}

static void record_authres(struct txn *t, const struct arc_outcome *o)
{
    struct textbuf b;
    textbuf_init(&b);
    textbuf_printf(&b, "arc=%s", o->result == ARC_RESULT_PASS ? "pass"
        : o->result == ARC_RESULT_FAIL ? "fail" : "none");
    if (o->result == ARC_RESULT_PASS) {
        char oldest[16];
        snprintf(oldest, sizeof oldest, "%u", o->oldest_pass);
        authres_add_property(&b, "header.oldest-pass", oldest);
    }
    if (t->have_client_addr)
        authres_add_property(&b, "smtp.remote-ip", t->client_ip);
    txn_add_authres(t, b.data);
    textbuf_free(&b);
}

static void record(struct txn *t, const struct arc_outcome *o)
{
    if (o->result != ARC_RESULT_NONE || t->cfg->arc->report_none)
        record_authres(t, o);
    switch (o->result) {
    case ARC_RESULT_NONE:
        txn_add_result(t, "ARC_NONE", 0, ACTION_NONE, NULL);
        break;
    case ARC_RESULT_PASS:
        txn_add_result(t, "ARC_PASS", 0, ACTION_NONE, NULL);
        break;
    case ARC_RESULT_FAIL:
        txn_add_result(t, failure_symbols[o->failure].symbol, failure_symbols[o->failure].score,
            ACTION_NONE, NULL);
        break;
    }
    if (o->result == ARC_RESULT_FAIL)
        log_info("arc: qid=%s client=%s result=fail instance=%u reason=%s", qid(t), t->client_ip,
            o->failed_instance, o->reason);
    else
        log_debug("arc: qid=%s client=%s result=%s sets=%u oldest-pass=%u", qid(t), t->client_ip,
            o->result == ARC_RESULT_PASS ? "pass" : "none", o->count, o->oldest_pass);
}

static void arc_eom(struct txn *t)
{
    struct arc_txn_state *s = *txn_check_state(t, &check_arc);
    if (s == NULL || !s->outcome.checked)
        return;
    struct arc_outcome *o = &s->outcome;
    if (s->chain.state == ARC_CHAIN_READY && o->result != ARC_RESULT_FAIL) {
        /* the signatures: not built yet (issue 13, arc_verify) */
        o->checked = false;
        log_info("arc: qid=%s: a chain of %u sets is not verified: signature verification is "
            "not built", qid(t), s->chain.count);
        return;
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
    if (s->collected)
        arc_chain_free(&s->chain);
    free(s->outcome.hops);
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
    .txn_end = arc_txn_end,
    .shadowed = arc_shadowed,
};
