/* check_dmarc.c - the DMARC policy (RFC 9989) at the end of the message: the Author Domain
 * from the From fields (dmarc_from.c), then the evaluation (dmarc_eval.c) on the daemon's
 * resolver through the transaction, within the message's DNS budget, with SPF's MAIL FROM
 * result (spf_result.h) and every DKIM signature's (dkim_result.h). It adds one symbol:
 * DMARC_PASS, DMARC_FAIL_REJECT, DMARC_FAIL_QUARANTINE, DMARC_FAIL_NONE, DMARC_NONE,
 * DMARC_TEMPERROR, DMARC_PERMERROR, or for From fields that name no single domain
 * DMARC_FROM_SEVERAL / DMARC_FROM_INVALID. Defaults: a reject policy rejects (550 5.7.1 naming
 * the domain), a quarantine policy quarantines (the MTA's hold queue) or scores, as
 * dmarc.quarantine says; the admin's `symbols` override any of them. It records
 * Authentication-Results ("dmarc=<result> header.from=<domain> policy.dmarc=<the policy
 * applied>") and
 * everything an aggregate report row needs in its slot (dmarc_result.h). Internal, trusted and
 * authenticated clients are not checked (each configurable); the local overrides let a failing
 * message through with the reason RFC 9990 reports. Promises: never a silent skip (the
 * outcome says why), never pass on a DNS failure or a limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_result.h"
#include "authres.h"
#include "check.h"
#include "dkim_result.h"
#include "dmarc_config.h"
#include "dmarc_eval.h"
#include "dmarc_from.h"
#include "dmarc_result.h"
#include "log.h"
#include "spf_result.h"
#include "util.h"

extern const struct check check_dmarc;

#define TYPE_TXT 16

struct symbol_default {
    const char *name;
    double score;
    enum action action;
};

static const struct symbol_default sym_pass = {"DMARC_PASS", 0.0, ACTION_NONE};
static const struct symbol_default sym_fail_reject = {"DMARC_FAIL_REJECT", 6.0, ACTION_REJECT};
static const struct symbol_default sym_fail_quarantine =
    {"DMARC_FAIL_QUARANTINE", 4.0, ACTION_QUARANTINE};
static const struct symbol_default sym_fail_none = {"DMARC_FAIL_NONE", 1.0, ACTION_NONE};
static const struct symbol_default sym_none = {"DMARC_NONE", 0.0, ACTION_NONE};
static const struct symbol_default sym_temperror = {"DMARC_TEMPERROR", 0.0, ACTION_NONE};
static const struct symbol_default sym_permerror = {"DMARC_PERMERROR", 0.5, ACTION_NONE};
static const struct symbol_default sym_from_several = {"DMARC_FROM_SEVERAL", 3.0, ACTION_NONE};
static const struct symbol_default sym_from_invalid = {"DMARC_FROM_INVALID", 2.0, ACTION_NONE};

/* The DMARC lookups go through the transaction (so the walk's queries started by the prefetch
 * are answered from those in flight, and the message's DNS budget is charged), and each is
 * written into the outcome's register. */
struct lookup_arg {
    struct txn *t;
    struct dmarc_outcome *o;
};

static void lookup_through_txn(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    struct lookup_arg *la = arg;
    txn_dns_query(la->t, name, type, timeout_ms, out);
    struct dmarc_outcome *o = la->o;
    if (o->query_count == DMARC_MAX_LOGGED_QUERIES) {
        o->queries_unlogged++;
        return;
    }
    struct dmarc_query *q = &o->queries[o->query_count++];
    strlcpy_mw(q->name, name, sizeof q->name);
    q->type = type;
    q->status = out->status;
    q->answers = out->count;
}

static bool skipped(const struct txn *t, const struct dmarc_settings *p, const char **why)
{
    if (t->allowed)
        *why = "an accept was forced";
    else if (!t->have_client_addr || t->non_smtp)
        *why = "no client address";
    else if (p->skip_internal && (t->client_flags & CLIENT_INTERNAL))
        *why = "internal network";
    else if (p->skip_authenticated && t->sasl_user != NULL)
        *why = "authenticated client";
    else if (p->skip_trusted && (t->client_flags & CLIENT_TRUSTED))
        *why = "trusted relay";
    else if (config_resolver(t->cfg) == NULL)
        *why = "no resolver";
    else
        return false;
    return true;
}

/* The From fields as the message has them. A header limit that dropped fields could hide a
 * second From: then the fields cannot be trusted and the outcome is unparseable. */
static void parse_from(const struct txn *t, struct dmarc_from *out)
{
    const char *values[64];
    size_t count = 0;
    const char *v;
    while (count < 64 && (v = txn_header(t, "From", count)) != NULL)
        values[count++] = v;
    dmarc_from_parse(values, count, out);
    if (t->header_bytes_passed || count == 64) {
        out->outcome = DMARC_FROM_UNPARSEABLE;
        out->domain[0] = '\0';
        snprintf(out->problem, sizeof out->problem,
            "a header limit was passed: From fields may be missing");
    }
}

/* The identities of the message, whatever happens next (for reports and --verbose). */
static void note_identities(struct txn *t, struct dmarc_outcome *o)
{
    if (t->sender != NULL && t->sender[0] != '\0')
        strlcpy_mw(o->envelope_from, addr_domain(t->sender), sizeof o->envelope_from);
    const struct spf_outcome *spf = spf_result_mailfrom(t);
    if (spf->checked) {
        o->spf.present = true;
        strlcpy_mw(o->spf.domain, spf->domain, sizeof o->spf.domain);
        o->spf.scope = "mfrom";    /* RFC 9989 3.2.4: postmaster@HELO for <> is MAIL FROM too */
        o->spf.result = spf->result;
        strlcpy_mw(o->spf.record, spf->record, sizeof o->spf.record);
    }
    size_t n = dkim_result_count(t);
    for (size_t i = 0; i < n; i++) {
        if (o->dkim_count == DMARC_MAX_SIGNATURES) {
            o->dkim_dropped++;
            continue;
        }
        const struct dkim_sig_result *r = dkim_result_get(t, i);
        struct dmarc_dkim_identity *d = &o->dkim[o->dkim_count++];
        strlcpy_mw(d->domain, r->domain != NULL ? r->domain : "", sizeof d->domain);
        strlcpy_mw(d->selector, r->selector != NULL ? r->selector : "", sizeof d->selector);
        if (r->identity != NULL && strlen(r->identity) <= DMARC_DKIM_IDENTITY_MAX)
            strlcpy_mw(d->identity, r->identity, sizeof d->identity);
        d->result = r->result;
    }
}

static void evaluate_domain(struct txn *t, struct dmarc_outcome *o, const char *domain,
    struct dmarc_domain_outcome *d)
{
    const char *passing[DMARC_MAX_SIGNATURES];
    size_t passing_count = 0;
    for (size_t i = 0; i < o->dkim_count; i++)
        if (o->dkim[i].result == DKIM_RESULT_PASS && o->dkim[i].domain[0] != '\0')
            passing[passing_count++] = o->dkim[i].domain;
    struct dmarc_request req = {
        .from_domain = domain,
        .spf_domain = o->spf.present ? o->spf.domain : NULL,
        .spf_pass = o->spf.present && o->spf.result == SPF_RESULT_PASS,
        .dkim_domains = passing,
        .dkim_count = passing_count,
    };
    struct dmarc_limits lim;
    dmarc_limits_for(t->cfg, &lim);
    if (txn_dns_budget_left_ms(t) < lim.budget_ms)
        lim.budget_ms = txn_dns_budget_left_ms(t);    /* what the message has left */
    struct lookup_arg la = {t, o};
    struct dmarc_verdict v;
    dmarc_evaluate(&req, &lim, lookup_through_txn, &la, &v);
    strlcpy_mw(d->header_from, domain, sizeof d->header_from);
    d->result = v.result;
    d->has_record = v.has_record;
    d->record = v.record;          /* the outcome owns the record from here */
    strlcpy_mw(d->policy_domain, v.policy_domain, sizeof d->policy_domain);
    strlcpy_mw(d->org_domain, v.org_domain, sizeof d->org_domain);
    d->policy_tag = v.policy_tag;
    d->published = v.published;
    d->policy = v.policy;
    d->testing = v.testing;
    d->spf_aligned = v.spf_aligned;
    d->dkim_aligned = v.dkim_aligned;
    strlcpy_mw(d->dkim_aligned_domain, v.dkim_aligned_domain, sizeof d->dkim_aligned_domain);
    d->queries = v.queries;
    strlcpy_mw(d->problem, v.problem, sizeof d->problem);
}

/* How strict one domain's outcome is: the policy it asks for first, then the result. */
static int strictness(const struct dmarc_domain_outcome *d)
{
    int result_rank = 0;
    switch (d->result) {
    case DMARC_RESULT_FAIL: result_rank = 4; break;
    case DMARC_RESULT_TEMPERROR: result_rank = 3; break;
    case DMARC_RESULT_PERMERROR: result_rank = 2; break;
    case DMARC_RESULT_NONE: result_rank = 1; break;
    case DMARC_RESULT_PASS: result_rank = 0; break;
    }
    return (int)d->policy * 10 + result_rank;
}

/* The Author Domains to evaluate; false when the From outcome itself decides (refused or
 * accepted without evaluation): then *decided is the symbol to add. */
static bool author_domains(const struct dmarc_settings *p, const struct dmarc_from *from,
    const char **domains, size_t *count, const struct symbol_default **decided,
    enum dmarc_from_policy *how)
{
    *count = 0;
    if (from->outcome == DMARC_FROM_ONE) {
        domains[(*count)++] = from->domain;
        return true;
    }
    bool several = (from->outcome == DMARC_FROM_SEVERAL_FIELDS
        || from->outcome == DMARC_FROM_SEVERAL_ADDRESSES || from->outcome == DMARC_FROM_GROUP)
        && from->domain_count > 0;
    if (!several) {
        *decided = &sym_from_invalid;
        *how = p->no_from;
        return false;
    }
    *decided = &sym_from_several;
    *how = p->several_from;
    /* more domains than we evaluate is refused as several_from = "reject" would: a limit on
     * attacker input never makes a message look cleaner */
    if (p->several_from == DMARC_FROM_STRICTEST
            && (from->mailbox_count > from->domain_count || from->domain_count > p->max_domains))
        *how = DMARC_FROM_REJECT;
    if (*how != DMARC_FROM_STRICTEST)
        return false;
    for (size_t i = 0; i < from->domain_count; i++) {
        bool seen = false;
        for (size_t j = 0; j < *count && !seen; j++)
            seen = strcmp(domains[j], from->domains[i]) == 0;
        if (!seen)
            domains[(*count)++] = from->domains[i];
    }
    return true;
}

/* A local override: an authenticated identity (the MAIL FROM domain with SPF pass, a d= with
 * DKIM pass) in one of the lists. */
static bool identity_listed(const struct dmarc_outcome *o, const struct pattern_list *list,
    char *which, size_t size)
{
    if (list->count == 0)
        return false;
    if (o->spf.present && o->spf.result == SPF_RESULT_PASS && o->spf.domain[0] != '\0'
            && pattern_match_domain(list, o->spf.domain)) {
        snprintf(which, size, "SPF-authenticated %s", o->spf.domain);
        return true;
    }
    for (size_t i = 0; i < o->dkim_count; i++) {
        if (o->dkim[i].result == DKIM_RESULT_PASS && o->dkim[i].domain[0] != '\0'
                && pattern_match_domain(list, o->dkim[i].domain)) {
            snprintf(which, size, "DKIM-authenticated %s", o->dkim[i].domain);
            return true;
        }
    }
    return false;
}

/* The one place where DMARC asks ARC (arc_result.h): the message's ARC chain validated
 * (arc=pass) and a hop sealed by a domain of dmarc.trusted_arc_sealers recorded a passing
 * SPF or DKIM result in its ARC-Authentication-Results (RFC 8617 7.2; reported as the local
 * policy override "trusted_forwarder", RFC 9990). */
static bool trusted_arc_pass(struct txn *t, const struct dmarc_settings *p, char *which,
    size_t size)
{
    char sealer[256];
    if (!arc_result_trusted_pass(t, &p->trusted_arc_sealers, sealer, sizeof sealer))
        return false;
    snprintf(which, size, "ARC chain sealed by %s", sealer);
    return true;
}

static enum dmarc_override local_override(struct txn *t, const struct dmarc_settings *p,
    const struct dmarc_outcome *o, char *which, size_t size)
{
    if (identity_listed(o, &p->trusted_forwarders, which, size))
        return DMARC_OVERRIDE_TRUSTED_FORWARDER;
    if (identity_listed(o, &p->mailing_lists, which, size))
        return DMARC_OVERRIDE_MAILING_LIST;
    if (identity_listed(o, &p->local_overrides, which, size))
        return DMARC_OVERRIDE_LOCAL_POLICY;
    if (trusted_arc_pass(t, p, which, size))
        return DMARC_OVERRIDE_TRUSTED_FORWARDER;
    return DMARC_OVERRIDE_NONE;
}

/* dmarc.reject_reply with "%d" as the domain. */
static void reject_reply(const struct dmarc_settings *p, const char *domain, struct reply *out)
{
    *out = p->reject_reply;
    char text[sizeof out->text];
    size_t n = 0;
    for (const char *s = p->reject_reply.text; *s != '\0' && n + 1 < sizeof text; s++) {
        if (s[0] == '%' && s[1] == 'd') {
            n += (size_t)snprintf(text + n, sizeof text - n, "%s", domain);
            if (n >= sizeof text)
                n = sizeof text - 1;
            s++;
            continue;
        }
        text[n++] = *s;
    }
    text[n] = '\0';
    strlcpy_mw(out->text, text, sizeof out->text);
}

/* Adds the symbol; returns the action in force after the admin's overrides (none in mode
 * shadow: the engine never acts on a shadow result). */
static enum action add_symbol(struct txn *t, const struct symbol_default *s, enum action action,
    const struct reply *reply)
{
    txn_add_result(t, s->name, s->score, action, reply);
    if (t->result_count == 0 || strcmp(t->results[t->result_count - 1].symbol, s->name) != 0)
        return ACTION_NONE;       /* a rule of that name has it */
    const struct result *r = &t->results[t->result_count - 1];
    return r->shadow ? ACTION_NONE : r->action;
}

static enum dmarc_policy disposition_of(enum action a)
{
    if (a == ACTION_REJECT)
        return DMARC_POLICY_REJECT;
    if (a == ACTION_QUARANTINE || a == ACTION_DISCARD)
        return DMARC_POLICY_QUARANTINE;
    return DMARC_POLICY_NONE;
}

/* The symbol of the decisive domain's result, and the disposition applied. */
static void apply(struct txn *t, const struct dmarc_settings *p, struct dmarc_outcome *o)
{
    const struct dmarc_domain_outcome *d = &o->domains[o->decisive];
    const struct symbol_default *s = &sym_none;
    enum action action = ACTION_NONE;
    struct reply reply = {0};
    enum dmarc_policy asked = DMARC_POLICY_NONE;
    switch (d->result) {
    case DMARC_RESULT_PASS: s = &sym_pass; break;
    case DMARC_RESULT_NONE: s = &sym_none; break;
    case DMARC_RESULT_TEMPERROR: s = &sym_temperror; break;
    case DMARC_RESULT_PERMERROR: s = &sym_permerror; break;
    case DMARC_RESULT_FAIL:
        asked = d->policy;
        if (d->policy != DMARC_POLICY_NONE)     /* nothing to override under p=none */
            o->override = local_override(t, p, o, o->override_comment,
                sizeof o->override_comment);
        if (o->override == DMARC_OVERRIDE_NONE && d->testing && d->policy != d->published) {
            o->override = DMARC_OVERRIDE_POLICY_TEST_MODE;
            snprintf(o->override_comment, sizeof o->override_comment, "t=y");
        }
        if (o->override != DMARC_OVERRIDE_NONE && o->override != DMARC_OVERRIDE_POLICY_TEST_MODE)
            s = &sym_fail_none;
        else if (d->policy == DMARC_POLICY_REJECT)
            s = &sym_fail_reject;
        else if (d->policy == DMARC_POLICY_QUARANTINE)
            s = &sym_fail_quarantine;
        else
            s = &sym_fail_none;
        break;
    }
    action = s->action;
    if (s == &sym_fail_quarantine && !p->quarantine_hold)
        action = ACTION_NONE;
    if (s == &sym_fail_reject) {
        reject_reply(p, d->policy_domain[0] != '\0' ? d->policy_domain : d->header_from, &reply);
    } else if (s == &sym_fail_quarantine) {
        snprintf(reply.text, sizeof reply.text, "DMARC policy of %s: quarantine",
            d->policy_domain);
    }
    enum action in_force = add_symbol(t, s, action, action != ACTION_NONE ? &reply : NULL);
    o->disposition = disposition_of(in_force);
    if (o->override == DMARC_OVERRIDE_NONE && o->disposition != asked) {
        o->override = DMARC_OVERRIDE_LOCAL_POLICY;
        snprintf(o->override_comment, sizeof o->override_comment, "%s",
            t->shadow_now ? "dmarc mode shadow" : s == &sym_fail_quarantine
            && !p->quarantine_hold ? "dmarc.quarantine = score" : "symbols");
    }
}

/* The From fields decided alone: refuse, or add the symbol as a score. */
static void apply_from_outcome(struct txn *t, const struct dmarc_settings *p,
    struct dmarc_outcome *o, const struct symbol_default *s, enum dmarc_from_policy how)
{
    (void)p;
    o->from_refused = how == DMARC_FROM_REJECT;
    struct reply reply = {.code = 550};
    strlcpy_mw(reply.dsn, "5.7.1", sizeof reply.dsn);
    snprintf(reply.text, sizeof reply.text, "DMARC: the From header field %s",
        s == &sym_from_several ? "names more than one author" : "has no usable author address");
    enum action in_force = add_symbol(t, s, o->from_refused ? ACTION_REJECT : ACTION_NONE,
        &reply);
    o->disposition = disposition_of(in_force);
}

/* policy.dmarc (RFC 9989 9.1): the policy applied, or to be applied, after the policy options
 * (t=y, our overrides) were processed. */
static enum dmarc_policy authres_policy(const struct dmarc_outcome *o, size_t i)
{
    const struct dmarc_domain_outcome *d = &o->domains[i];
    if (d->result == DMARC_RESULT_FAIL)
        return i == o->decisive ? o->disposition : d->policy;
    if (!d->testing || d->published == DMARC_POLICY_NONE)
        return d->published;
    return d->published == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

static void record_authres(struct txn *t, const struct dmarc_outcome *o, size_t i)
{
    const struct dmarc_domain_outcome *d = &o->domains[i];
    struct textbuf b;
    textbuf_init(&b);
    textbuf_printf(&b, "dmarc=%s", dmarc_result_name(d->result));
    authres_add_property(&b, "header.from", d->header_from);
    if (d->has_record)
        authres_add_property(&b, "policy.dmarc", dmarc_policy_name(authres_policy(o, i)));
    txn_add_authres(t, b.data);
    textbuf_free(&b);
}

static void log_outcome(const struct txn *t, const struct dmarc_outcome *o)
{
    const char *qid = t->queue_id ? t->queue_id : "NOQUEUE";
    if (o->domain_count == 0) {
        log_info("dmarc: qid=%s from=%s problem=%s disposition=%s", qid,
            dmarc_from_outcome_name(o->from_outcome), o->from_problem,
            dmarc_policy_name(o->disposition));
        return;
    }
    for (size_t i = 0; i < o->domain_count; i++) {
        const struct dmarc_domain_outcome *d = &o->domains[i];
        log_info("dmarc: qid=%s header_from=%s result=%s policy_domain=%s org_domain=%s "
            "policy=%s%s%s spf_aligned=%s dkim_aligned=%s queries=%u%s%s", qid, d->header_from,
            dmarc_result_name(d->result), d->policy_domain[0] ? d->policy_domain : "-",
            d->org_domain[0] ? d->org_domain : "-", d->policy_tag[0] ? d->policy_tag : "-",
            d->policy_tag[0] ? "=" : "", d->policy_tag[0] ? dmarc_policy_name(d->published) : "",
            d->spf_aligned ? "yes" : "no", d->dkim_aligned ? "yes" : "no", d->queries,
            d->problem[0] ? " problem=" : "", d->problem);
    }
    log_info("dmarc: qid=%s disposition=%s%s%s", qid, dmarc_policy_name(o->disposition),
        o->override != DMARC_OVERRIDE_NONE ? " override=" : "",
        dmarc_override_name(o->override));
}

static struct dmarc_outcome *new_outcome(struct txn *t)
{
    struct dmarc_outcome **slot = (struct dmarc_outcome **)txn_check_state(t, &check_dmarc);
    dmarc_outcome_free(*slot);
    *slot = xcalloc(1, sizeof **slot);
    (*slot)->result = DMARC_RESULT_NONE;
    (*slot)->disposition = DMARC_POLICY_NONE;
    return *slot;
}

static void dmarc_eom(struct txn *t)
{
    const struct dmarc_settings *p = t->cfg->dmarc;
    struct dmarc_outcome *o = new_outcome(t);
    note_identities(t, o);
    const char *why = NULL;
    if (p == NULL || !p->enabled)
        why = "disabled";
    if (why != NULL || skipped(t, p, &why)) {
        o->skipped = why;
        log_debug("dmarc: not checked: %s", why);
        return;
    }
    struct dmarc_from from;
    parse_from(t, &from);
    o->from_outcome = from.outcome;
    strlcpy_mw(o->from_problem, from.problem, sizeof o->from_problem);
    o->from_domain_count = from.domain_count;
    const char *domains[DMARC_FROM_MAX_DOMAINS];
    size_t count;
    const struct symbol_default *decided = NULL;
    enum dmarc_from_policy how = DMARC_FROM_ACCEPT;
    o->evaluated = true;
    if (!author_domains(p, &from, domains, &count, &decided, &how)) {
        apply_from_outcome(t, p, o, decided, how);
        log_outcome(t, o);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        evaluate_domain(t, o, domains[i], &o->domains[o->domain_count]);
        o->domain_count++;
    }
    for (size_t i = 1; i < o->domain_count; i++)
        if (strictness(&o->domains[i]) > strictness(&o->domains[o->decisive]))
            o->decisive = i;
    const struct dmarc_domain_outcome *d = &o->domains[o->decisive];
    o->result = d->result;
    o->spf.aligned = d->spf_aligned;
    for (size_t i = 0; i < o->dkim_count; i++)
        o->dkim[i].aligned = d->dkim_aligned && o->dkim[i].result == DKIM_RESULT_PASS
            && strcmp(o->dkim[i].domain, d->dkim_aligned_domain) == 0;
    apply(t, p, o);
    for (size_t i = 0; i < o->domain_count; i++)
        record_authres(t, o, i);
    log_outcome(t, o);
}

/* At the end of the message: the TXT queries of the Author Domain's whole tree walk go out
 * together, with the other checks' lookups of the stage (the Organizational Domain's walk
 * asks each of them anyway). */
static void dmarc_prefetch(struct txn *t, enum stage stage)
{
    const struct dmarc_settings *p = t->cfg->dmarc;
    const char *why = NULL;
    if (stage != STAGE_EOM || p == NULL || !p->enabled || skipped(t, p, &why))
        return;
    struct dmarc_from from;
    parse_from(t, &from);
    if (from.outcome != DMARC_FROM_ONE)
        return;
    char name[DMARC_DOMAIN_MAX + 1];
    char qname[DMARC_DOMAIN_MAX + 16];
    for (size_t k = 0; dmarc_walk_name(from.domain, k, name); k++) {
        snprintf(qname, sizeof qname, "_dmarc.%s", name);
        txn_dns_start(t, qname, TYPE_TXT);
    }
}

static void dmarc_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_EOM)
        dmarc_eom(t);
}

static void dmarc_txn_end(struct txn *t, void *state)
{
    (void)t;
    dmarc_outcome_free(state);
}

static bool dmarc_shadowed(const struct config *cfg)
{
    return cfg->dmarc->shadow;
}

const struct check check_dmarc = {
    .name = "dmarc",
    .stages = STAGE_BIT(STAGE_EOM),
    .run = dmarc_run,
    .prefetch = dmarc_prefetch,
    .txn_end = dmarc_txn_end,
    .shadowed = dmarc_shadowed,
};
