/* check_dmarc_report.c - records each evaluated message for DMARC aggregate reports
 * (RFC 9990): at the end of the message, after check_dmarc, it reads the transaction's DMARC
 * outcome (dmarc_result.h; it never calls check_dmarc) and adds one row, with the policy the
 * domain published, to the store dmarc_reports names (dmarc_report_store.h). It adds no
 * symbol and never changes the verdict: a store failure is logged, and the mail goes on.
 * With failure_reports on, it also stores a pending failure report (RFC 9991,
 * dmarc_failure_store.h) when the record has ruf and its fo tag asks for one, within the
 * hourly failure_rate of the Author Domain.
 * Promises: nothing is recorded unless dmarc_reports is enabled, the message was evaluated,
 * and the decisive Author Domain's record asks for aggregate reports (a rua tag) or, with
 * failure_reports on, failure reports (ruf). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "authres.h"
#include "config.h"
#include "dmarc_failure.h"
#include "dmarc_failure_store.h"
#include "dmarc_report_row.h"
#include "dmarc_report_store.h"
#include "dmarc_reports_config.h"
#include "dmarc_result.h"
#include "log.h"
#include "util.h"

static enum dmarc_report_auth dkim_auth(enum dkim_verdict v)
{
    switch (v) {
    case DKIM_RESULT_PASS: return DMARC_AUTH_PASS;
    case DKIM_RESULT_FAIL: return DMARC_AUTH_FAIL;
    case DKIM_RESULT_NEUTRAL: return DMARC_AUTH_NEUTRAL;
    case DKIM_RESULT_POLICY: return DMARC_AUTH_POLICY;
    case DKIM_RESULT_TEMPERROR: return DMARC_AUTH_TEMPERROR;
    case DKIM_RESULT_PERMERROR: return DMARC_AUTH_PERMERROR;
    default: return DMARC_AUTH_NONE;
    }
}

static enum dmarc_report_auth spf_auth(enum spf_result r)
{
    switch (r) {
    case SPF_RESULT_PASS: return DMARC_AUTH_PASS;
    case SPF_RESULT_FAIL: return DMARC_AUTH_FAIL;
    case SPF_RESULT_SOFTFAIL: return DMARC_AUTH_SOFTFAIL;
    case SPF_RESULT_NEUTRAL: return DMARC_AUTH_NEUTRAL;
    case SPF_RESULT_TEMPERROR: return DMARC_AUTH_TEMPERROR;
    case SPF_RESULT_PERMERROR: return DMARC_AUTH_PERMERROR;
    default: return DMARC_AUTH_NONE;
    }
}

static enum dmarc_report_override override_of(enum dmarc_override o)
{
    switch (o) {
    case DMARC_OVERRIDE_LOCAL_POLICY: return DMARC_REASON_LOCAL_POLICY;
    case DMARC_OVERRIDE_MAILING_LIST: return DMARC_REASON_MAILING_LIST;
    case DMARC_OVERRIDE_TRUSTED_FORWARDER: return DMARC_REASON_TRUSTED_FORWARDER;
    case DMARC_OVERRIDE_POLICY_TEST_MODE: return DMARC_REASON_POLICY_TEST_MODE;
    case DMARC_OVERRIDE_OTHER: return DMARC_REASON_OTHER;
    default: return DMARC_REASON_NONE;
    }
}

static void row_from(struct txn *t, const struct dmarc_outcome *o,
    const struct dmarc_domain_outcome *d, struct dmarc_report_row *row)
{
    memset(row, 0, sizeof *row);
    dmarc_report_clean_copy(row->source_ip, sizeof row->source_ip, t->client_ip);
    if (o->disposition == DMARC_POLICY_REJECT)
        row->disposition = DMARC_DISPOSITION_REJECT;
    else if (o->disposition == DMARC_POLICY_QUARANTINE)
        row->disposition = DMARC_DISPOSITION_QUARANTINE;
    else
        row->disposition = d->result == DMARC_RESULT_PASS ? DMARC_DISPOSITION_PASS
            : DMARC_DISPOSITION_NONE;
    row->dkim_aligned = d->dkim_aligned;
    row->spf_aligned = d->spf_aligned;
    row->reason = override_of(o->override);
    dmarc_report_clean_copy(row->reason_comment, sizeof row->reason_comment, o->override_comment);
    dmarc_report_clean_copy(row->header_from, sizeof row->header_from, d->header_from);
    row->has_envelope_from = true;              /* "" for the null reverse-path */
    dmarc_report_clean_copy(row->envelope_from, sizeof row->envelope_from, o->envelope_from);
    if (t->rcpt_count > 0)
        dmarc_report_clean_copy(row->envelope_to, sizeof row->envelope_to,
            addr_domain(t->rcpts[0]));
    for (size_t i = 0; i < o->dkim_count; i++)
        if (o->dkim[i].domain[0] != 0)
            dmarc_report_row_add_dkim(row, o->dkim[i].domain, o->dkim[i].selector,
                dkim_auth(o->dkim[i].result));
    /* RFC 9990: only the MAIL FROM identity */
    if (o->spf.present && o->spf.scope != NULL && strcmp(o->spf.scope, "mfrom") == 0) {
        row->has_spf = true;
        dmarc_report_clean_copy(row->spf_domain, sizeof row->spf_domain, o->spf.domain);
        row->spf_result = spf_auth(o->spf.result);
    }
}

static void policy_from(const struct dmarc_domain_outcome *d, struct dmarc_report_policy *pol)
{
    memset(pol, 0, sizeof *pol);
    dmarc_report_clean_copy(pol->domain, sizeof pol->domain, d->policy_domain);
    pol->p = d->record.p;
    pol->sp = d->record.sp;
    pol->np = d->record.np;
    pol->adkim_strict = d->record.adkim_strict;
    pol->aspf_strict = d->record.aspf_strict;
    pol->testing = d->record.testing;
    pol->fo = d->record.fo;
    for (size_t i = 0; i < d->record.rua_count && i < DMARC_MAX_URIS; i++)
        if (dmarc_report_clean_copy(pol->rua[pol->rua_count], sizeof pol->rua[0], d->record.rua[i]))
            pol->rua_count++;
}

static bool dkim_any_failed(const struct dmarc_outcome *o)
{
    for (size_t i = 0; i < o->dkim_count; i++)
        if (o->dkim[i].result == DKIM_RESULT_FAIL)
            return true;
    return false;
}

static enum dmarc_failure_delivery delivery_of(enum dmarc_policy disposition)
{
    if (disposition == DMARC_POLICY_REJECT)
        return DMARC_DELIVERY_REJECT;
    if (disposition == DMARC_POLICY_QUARANTINE)
        return DMARC_DELIVERY_SPAM;
    return DMARC_DELIVERY_DELIVERED;
}

/* The report's fields from the outcome and the transaction, the header copy as configured. */
static void failure_from(struct txn *t, const struct dmarc_reports_settings *p,
    const struct dmarc_outcome *o, const struct dmarc_domain_outcome *d, struct dmarc_failure *f)
{
    memset(f, 0, sizeof *f);
    dmarc_report_clean_copy(f->domain, sizeof f->domain, d->header_from);
    dmarc_report_clean_copy(f->policy_domain, sizeof f->policy_domain, d->policy_domain);
    dmarc_report_clean_copy(f->source_ip, sizeof f->source_ip, t->client_ip);
    const char *sender = t->sender != NULL ? t->sender : "";
    const struct dmarc_redact_key *redact = p->failure_redact ? p->redact_key : NULL;
    if (redact != NULL)
        dmarc_failure_redact(sender, redact, f->mail_from, sizeof f->mail_from);
    else
        dmarc_report_clean_copy(f->mail_from, sizeof f->mail_from, sender);
    f->redacted = redact != NULL;
    f->arrival = (int64_t)time(NULL);
    f->spf_aligned = d->spf_aligned;
    f->dkim_aligned = d->dkim_aligned;
    f->delivery = delivery_of(o->disposition);
    char ar[DMARC_FAILURE_AUTH_MAX + 1];
    int n = snprintf(ar, sizeof ar, "%s; dmarc=%s header.from=%s", authres_id(t),
        dmarc_result_name(d->result), d->header_from);
    if (n > 0 && (size_t)n < sizeof ar && o->spf.present)
        n += snprintf(ar + n, sizeof ar - (size_t)n, "; spf=%s smtp.mailfrom=%s",
            spf_result_name(o->spf.result), o->spf.domain);
    /* each signature's result while whole ones fit (RFC 6591: the results that failed) */
    for (size_t i = 0; i < o->dkim_count && n > 0 && (size_t)n < sizeof ar; i++) {
        if (o->dkim[i].domain[0] == 0)
            continue;
        char one[400];
        int k = snprintf(one, sizeof one, "; dkim=%s header.d=%s%s%s",
            dkim_verdict_name(o->dkim[i].result), o->dkim[i].domain,
            o->dkim[i].selector[0] != 0 ? " header.s=" : "", o->dkim[i].selector);
        if (k <= 0 || (size_t)(n + k) >= sizeof ar)
            break;
        memcpy(ar + n, one, (size_t)k + 1);
        n += k;
    }
    dmarc_report_clean_copy(f->auth_results, sizeof f->auth_results, ar);
    if (t->queue_id != NULL)
        dmarc_report_clean_copy(f->envelope_id, sizeof f->envelope_id, t->queue_id);
    for (size_t i = 0; i < t->rcpt_count; i++)
        dmarc_failure_add_rcpt(f, t->rcpts[i], redact);
    /* SPF-DNS (RFC 9991 requires it for an SPF failure of an aligned identity): the MAIL FROM
     * domain's own record, whenever SPF did not pass */
    if (o->spf.present && o->spf.result != SPF_RESULT_PASS && o->spf.record[0] != 0 &&
            strlen(o->spf.record) <= DMARC_FAILURE_SPF_RECORD_MAX) {
        dmarc_report_clean_copy(f->spf_domain, sizeof f->spf_domain, o->spf.domain);
        dmarc_report_clean_copy(f->spf_record, sizeof f->spf_record, o->spf.record);
    }
    f->spf_failed_aligned = o->spf.present && o->spf.result != SPF_RESULT_PASS &&
        dmarc_failure_domain_aligned(o->spf.domain, d->header_from, d->org_domain,
            d->record.aspf_strict);
    /* DKIM-Domain and DKIM-Selector: the failed aligned signature (RFC 9991 requires them
     * then), else the first signature */
    size_t pick = o->dkim_count;
    for (size_t i = 0; i < o->dkim_count; i++) {
        if (o->dkim[i].domain[0] == 0 || o->dkim[i].result == DKIM_RESULT_PASS ||
            !dmarc_failure_domain_aligned(o->dkim[i].domain, d->header_from, d->org_domain,
                d->record.adkim_strict))
            continue;
        f->dkim_failed_aligned = true;
        pick = i;
        break;
    }
    for (size_t i = 0; pick == o->dkim_count && i < o->dkim_count; i++)
        if (o->dkim[i].domain[0] != 0)
            pick = i;
    if (pick < o->dkim_count) {
        dmarc_report_clean_copy(f->dkim_domain, sizeof f->dkim_domain, o->dkim[pick].domain);
        dmarc_report_clean_copy(f->dkim_selector, sizeof f->dkim_selector,
            o->dkim[pick].selector);
        /* DKIM-Identity: i= may name a person */
        if (redact != NULL)
            dmarc_failure_redact(o->dkim[pick].identity, redact, f->dkim_identity,
                sizeof f->dkim_identity);
        else
            dmarc_report_clean_copy(f->dkim_identity, sizeof f->dkim_identity,
                o->dkim[pick].identity);
    }
    for (size_t i = 0; i < d->record.ruf_count && f->ruf_count < DMARC_FAILURE_MAX_RUF; i++)
        if (dmarc_report_clean_copy(f->ruf[f->ruf_count], sizeof f->ruf[0], d->record.ruf[i]))
            f->ruf_count++;
    for (size_t i = 0; p->failure_headers && i < t->header_count; i++)
        dmarc_failure_add_header(f, t->headers[i].name, t->headers[i].value, redact);
    /* failure_include = "message": the header copy and the body the daemon kept, bounded */
    if (p->failure_message)
        dmarc_failure_set_message(f, t->body != NULL ? t->body : "", t->body_len,
            t->body_truncated, (size_t)p->failure_message_max, redact);
}

/* A pending failure report when the policy asks for one (ruf, fo) and the hourly rate of its
 * domain allows. Never changes the verdict. */
static void record_failure(struct txn *t, const struct dmarc_reports_settings *p,
    const struct dmarc_outcome *o, const struct dmarc_domain_outcome *d)
{
    const char *qid = t->queue_id != NULL ? t->queue_id : "-";
    /* RFC 9991: ruf in a record with psd=y is not considered */
    if (d->record.ruf_count == 0 || d->record.psd == DMARC_PSD_Y ||
        (d->result != DMARC_RESULT_FAIL && d->result != DMARC_RESULT_PASS))
        return;
    if (p->failure_redact && p->redact_key == NULL)
        return;                       /* never unredacted by accident (finish() loads it) */
    bool spf_failed = o->spf.present && o->spf.result == SPF_RESULT_FAIL;
    if (!dmarc_failure_wanted(d->record.fo, d->spf_aligned, d->dkim_aligned, spf_failed,
            dkim_any_failed(o)))
        return;
    int64_t now = (int64_t)time(NULL);
    bool allowed = false;
    enum store_status st = dmarc_failure_store_count(p->store, d->header_from, now,
        p->failure_rate, &allowed);
    if (st != STORE_OK) {
        log_warn("dmarc_reports: %s: no failure report for %s (the store did not count it)",
            qid, d->header_from);
        return;
    }
    if (!allowed) {
        log_info("dmarc_reports: %s: no failure report for %s (failure_rate %u an hour reached)",
            qid, d->header_from, p->failure_rate);
        return;
    }
    struct dmarc_failure *f = xmalloc(sizeof *f);
    failure_from(t, p, o, d, f);
    char nonce[64];
    snprintf(nonce, sizeof nonce, "%s%llx", t->queue_id != NULL ? t->queue_id : "",
        (unsigned long long)store_now_us());
    st = dmarc_failure_store_add(p->store, f, now, nonce, p->keep_ms);
    if (st != STORE_OK)
        log_warn("dmarc_reports: %s: the store did not take the failure report for %s", qid,
            d->header_from);
    dmarc_failure_free_message(f);
    free(f);
}

static void report_run(struct txn *t, enum stage stage)
{
    const struct dmarc_reports_settings *p = t->cfg->dmarc_reports;
    if (stage != STAGE_EOM || p == NULL || !p->enabled || p->store == NULL)
        return;
    const struct dmarc_outcome *o = dmarc_result_get(t);
    const struct dmarc_domain_outcome *d = o->evaluated ? dmarc_result_decisive(o) : NULL;
    if (d == NULL || !d->has_record)
        return;
    if (p->failure_reports)
        record_failure(t, p, o, d);
    if (d->record.rua_count == 0)
        return;
    struct dmarc_report_row row;
    struct dmarc_report_policy pol;
    row_from(t, o, d, &row);
    policy_from(d, &pol);
    int64_t begin, end;
    dmarc_report_period((int64_t)time(NULL), p->interval_ms / 1000, &begin, &end);
    enum store_status st = dmarc_report_store_add(p->store, &pol, &row, begin, end, p->keep_ms);
    if (st == STORE_INVALID)
        log_info("dmarc_reports: %s: no report row for %s (not a domain a report can name)",
            t->queue_id != NULL ? t->queue_id : "-", pol.domain);
    else if (st != STORE_OK)
        log_warn("dmarc_reports: %s: the store did not take the report row for %s",
            t->queue_id != NULL ? t->queue_id : "-", pol.domain);
}

const struct check check_dmarc_report = {
    .name = "dmarc_report",
    .stages = STAGE_BIT(STAGE_EOM),
    .run = report_run,
};
