/* check_spf.c - the SPF policy (RFC 7208 2.3, 2.4): at MAIL FROM it evaluates the HELO
 * identity (when it is a FQDN) and the MAIL FROM identity (postmaster@HELO for the null
 * sender) with the evaluator in spf_eval.c on the daemon's resolver, and adds one symbol per
 * identity: SPF_<RESULT> and SPF_HELO_<RESULT>. Defaults: fail rejects (550 5.7.23 with the
 * explanation, RFC 7372), temperror tempfails (451 4.7.24), permerror and softfail score; the
 * admin's `symbols` override any of them. It records Authentication-Results ("spf=<result>
 * smtp.mailfrom=<domain>", or smtp.helo= when HELO decided), optionally a Received-SPF field
 * with the same result (RFC 7208 9.1), and the outcomes in the txn for DMARC. Outbound mail
 * (internal networks, authenticated clients), trusted relays and the allowlists are not
 * checked. The HELO result is kept for the connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "check.h"
#include "log.h"
#include "spf.h"
#include "spf_config.h"
#include "spf_result.h"
#include "util.h"

extern const struct check check_spf;

/* per connection: the HELO verdict, for every transaction with the same HELO */
struct spf_conn_state {
    char *helo;
    struct spf_verdict verdict;
};

struct symbol_default {
    double score;
    enum action action;
    int code;
    const char *dsn;
};

/* indexed by enum spf_result */
static const struct symbol_default defaults[SPF_RESULT_COUNT] = {
    [SPF_RESULT_NONE] = {0.0, ACTION_NONE, 0, ""},
    [SPF_RESULT_NEUTRAL] = {0.0, ACTION_NONE, 0, ""},
    [SPF_RESULT_PASS] = {0.0, ACTION_NONE, 0, ""},
    [SPF_RESULT_FAIL] = {5.0, ACTION_REJECT, 550, "5.7.23"},
    [SPF_RESULT_SOFTFAIL] = {2.0, ACTION_NONE, 0, ""},
    [SPF_RESULT_TEMPERROR] = {0.0, ACTION_TEMPFAIL, 451, "4.7.24"},
    [SPF_RESULT_PERMERROR] = {1.5, ACTION_NONE, 550, "5.7.24"},
};

static void symbol_name(enum spf_result r, bool helo, char *buf, size_t size)
{
    char upper[16];
    strlcpy_mw(upper, spf_result_name(r), sizeof upper);
    for (char *p = upper; *p; p++)
        *p = (char)(*p - 'a' + 'A');
    snprintf(buf, size, "SPF_%s%s", helo ? "HELO_" : "", upper);
}

/* The reply text: what the domain says, marked as the domain's words (RFC 7208 8.4). */
static void reply_text(const struct spf_verdict *v, const struct txn *t, char *buf, size_t size)
{
    const char *domain = v->domain != NULL ? v->domain : "-";
    switch (v->result) {
    case SPF_RESULT_FAIL:
        if (v->explanation_from_domain)
            snprintf(buf, size, "SPF fail: %s says: %s", domain, v->explanation);
        else
            snprintf(buf, size, "SPF fail: %s", v->explanation ? v->explanation : domain);
        break;
    case SPF_RESULT_TEMPERROR:
        snprintf(buf, size, "SPF temperror for %s: %s, try again later", domain,
            v->problem ? v->problem : "DNS failure");
        break;
    case SPF_RESULT_PERMERROR:
        snprintf(buf, size, "SPF permerror for %s: %s", domain,
            v->problem ? v->problem : "bad SPF record");
        break;
    default:
        snprintf(buf, size, "SPF %s for %s from %s", spf_result_name(v->result), domain,
            t->client_ip);
        break;
    }
}

/* An override may change the action but not the reply: keep the code's class with the
 * action (a tempfail never says 5xx). */
static void match_reply_class(struct result *r)
{
    if (r->action == ACTION_TEMPFAIL && r->reply.code / 100 == 5) {
        r->reply.code = 451;
        r->reply.dsn[0] = r->reply.dsn[0] != '\0' ? '4' : '\0';
    } else if (r->action == ACTION_REJECT && r->reply.code / 100 == 4) {
        r->reply.code = 550;
        r->reply.dsn[0] = r->reply.dsn[0] != '\0' ? '5' : '\0';
    }
}

/* Adds the symbol; returns the action it forces (after the admin's overrides). */
static enum action add_symbol(struct txn *t, const struct spf_verdict *v, bool helo)
{
    char symbol[32];
    symbol_name(v->result, helo, symbol, sizeof symbol);
    const struct symbol_default *d = &defaults[v->result];
    struct reply reply = {.code = d->code};
    strlcpy_mw(reply.dsn, d->dsn, sizeof reply.dsn);
    reply_text(v, t, reply.text, sizeof reply.text);
    txn_add_result(t, symbol, d->score, d->action, &reply);
    /* a loaded rule of the same name (SpamAssassin's SPF_PASS, SPF_HELO_NONE ...) has the
     * name: then no result of ours was added (txn.h) */
    for (size_t i = t->result_count; i > 0; i--) {
        struct result *r = &t->results[i - 1];
        if (strcmp(r->symbol, symbol) == 0) {
            match_reply_class(r);
            return r->action;
        }
    }
    return ACTION_NONE;
}

static void remember(struct spf_outcome *o, const struct spf_verdict *v)
{
    o->checked = true;
    o->result = v->result;
    strlcpy_mw(o->domain, v->domain != NULL ? v->domain : "", sizeof o->domain);
    o->dns_lookups = v->dns_terms;
    o->void_lookups = v->void_lookups;
    o->queries = v->queries;
    o->record[0] = '\0';
    if (v->record != NULL && strlen(v->record) <= SPF_OUTCOME_RECORD_MAX)
        strlcpy_mw(o->record, v->record, sizeof o->record);
}

static void log_verdict(const struct txn *t, const char *identity, const struct spf_verdict *v)
{
    log_info("spf: qid=%s client=%s identity=%s %s result=%s mechanism=%s lookups=%u void=%u "
        "queries=%u ms=%llu%s%s", t->queue_id ? t->queue_id : "NOQUEUE", t->client_ip, identity,
        v->identity ? v->identity : "-", spf_result_name(v->result),
        v->mechanism ? v->mechanism : "-", v->dns_terms, v->void_lookups, v->queries,
        (unsigned long long)v->elapsed_ms, v->problem ? " problem=" : "",
        v->problem ? v->problem : "");
}

/* SPF's queries go through the transaction, so that the first ones (started by
 * spf_prefetch) are answered from the queries already in flight. */
static void lookup_through_txn(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    txn_dns_query(arg, name, type, timeout_ms, out);
}

static void evaluate(struct txn *t, bool helo, struct spf_verdict *out)
{
    struct spf_limits lim;
    spf_limits_for(t->cfg, &lim);
    if (txn_dns_budget_left_ms(t) < lim.budget_ms)
        lim.budget_ms = txn_dns_budget_left_ms(t);    /* what the message has left */
    struct spf_request req = {
        .client = t->client_addr, .sender = t->sender, .helo = t->helo,
        .receiver = t->mta_hostname, .check_helo = helo,
    };
    spf_check(&req, &lim, lookup_through_txn, t, out);
}

/* Whether the connection's cached HELO verdict answers for this HELO. A temperror does not:
 * it may come from a message whose DNS budget was spent, and the next message has a whole
 * budget again. */
static bool helo_cached(const struct spf_conn_state *c, const struct txn *t)
{
    return c != NULL && str_ieq(c->helo, t->helo) && c->verdict.result != SPF_RESULT_TEMPERROR;
}

/* The HELO verdict, from the connection's cache when the HELO is the same. */
static const struct spf_verdict *helo_verdict(struct txn *t)
{
    struct spf_conn_state **slot = (struct spf_conn_state **)txn_conn_state(t, &check_spf);
    struct spf_conn_state *c = *slot;
    if (helo_cached(c, t))
        return &c->verdict;
    if (c == NULL)
        c = *slot = xcalloc(1, sizeof *c);
    free(c->helo);
    spf_verdict_free(&c->verdict);
    c->helo = xstrdup(t->helo);
    evaluate(t, true, &c->verdict);
    log_verdict(t, "helo", &c->verdict);
    return &c->verdict;
}

static bool skipped(const struct txn *t, const struct spf_policy *p, const char **why)
{
    if (t->allowed)
        *why = "an accept was forced (an access rule)";
    else if (!t->have_client_addr || t->non_smtp)
        *why = "no client address";
    else if (t->client_flags & CLIENT_INTERNAL)
        *why = "internal network";
    else if (t->sasl_user != NULL)
        *why = "authenticated client";
    else if (t->client_flags & CLIENT_TRUSTED)
        *why = "trusted relay";
    else if (cidr_list_contains(&p->allow_clients, &t->client_addr))
        *why = "spf.allow_clients";
    else if (pattern_match_domain(&p->allow_helo, t->helo))
        *why = "spf.allow_helo";
    else if (t->sender != NULL && t->sender[0] != '\0'
        && pattern_match_domain(&p->allow_sender_domains, addr_domain(t->sender)))
        *why = "spf.allow_sender_domains";
    else if (config_resolver(t->cfg) == NULL)
        *why = "no resolver";
    else
        return false;
    return true;
}

/* A value for Received-SPF (RFC 7208 9.1): as it is when it is a plain dot-atom of letters,
 * digits and .-_+, else a quoted-string (so an address is quoted, as in 9.1's examples). */
static void append_value(struct textbuf *b, const char *value)
{
    bool plain = value[0] != '\0';
    for (const char *p = value; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || strchr(".-_+", *p) != NULL;
    if (plain) {
        textbuf_puts(b, value);
        return;
    }
    textbuf_puts(b, "\"");
    for (const char *p = value; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            textbuf_puts(b, "\\");
        if (c < 0x20 || c > 0x7e)
            c = '?';
        textbuf_append(b, (const char *)&c, 1);
    }
    textbuf_puts(b, "\"");
}

static void record_authres(struct txn *t, const struct spf_verdict *v, bool by_helo)
{
    struct textbuf b;
    textbuf_init(&b);
    textbuf_printf(&b, "spf=%s", spf_result_name(v->result));
    authres_add_property(&b, by_helo ? "smtp.helo" : "smtp.mailfrom",
        by_helo ? (t->helo ? t->helo : "") : (v->domain ? v->domain : ""));
    txn_add_authres(t, b.data);
    textbuf_free(&b);
}

/* The comment of Received-SPF, in words; the domain is made safe for a comment. */
static void received_spf_comment(struct textbuf *b, const char *receiver,
    const struct spf_verdict *v, const char *ip)
{
    char domain[256];
    strlcpy_mw(domain, v->domain != NULL ? v->domain : "-", sizeof domain);
    for (char *p = domain; *p; p++) {
        if (*p == '(' || *p == ')' || *p == '\\' || (unsigned char)*p < 0x21
                || (unsigned char)*p > 0x7e)
            *p = '?';
    }
    const char *before, *after = "";
    switch (v->result) {
    case SPF_RESULT_PASS: before = "designates"; after = " as permitted sender"; break;
    case SPF_RESULT_FAIL: before = "does not designate"; after = " as permitted sender"; break;
    case SPF_RESULT_SOFTFAIL: before = "does not designate"; after = ", but not firmly"; break;
    case SPF_RESULT_NEUTRAL: before = "neither permits nor denies"; break;
    case SPF_RESULT_NONE: before = "publishes no SPF record to judge"; break;
    case SPF_RESULT_PERMERROR: before = "has an SPF record that cannot judge"; break;
    default: before = "could not be asked about"; break;
    }
    textbuf_printf(b, "(%s: domain %s %s %s%s) ", receiver, domain, before, ip, after);
}

/* RFC 7208 9.1: result (comment) key=value; ... */
static char *received_spf(const struct txn *t, const struct spf_verdict *v, bool by_helo)
{
    const char *receiver = t->mta_hostname ? t->mta_hostname : authres_id(t);
    struct textbuf b;
    textbuf_init(&b);
    textbuf_printf(&b, "%s ", spf_result_name(v->result));
    received_spf_comment(&b, receiver ? receiver : "mailwarden", v, t->client_ip);
    textbuf_puts(&b, "client-ip=");
    append_value(&b, t->client_ip);
    textbuf_puts(&b, "; envelope-from=");
    append_value(&b, t->sender && t->sender[0] ? t->sender : v->identity ? v->identity : "");
    textbuf_puts(&b, "; helo=");
    append_value(&b, t->helo && t->helo[0] ? t->helo : "unknown");
    if (receiver != NULL) {
        textbuf_puts(&b, "; receiver=");
        append_value(&b, receiver);
    }
    textbuf_printf(&b, "; identity=%s", by_helo ? "helo" : "mailfrom");
    if (v->mechanism != NULL) {
        textbuf_puts(&b, "; mechanism=");
        append_value(&b, v->mechanism);
    }
    if (v->problem != NULL) {
        textbuf_puts(&b, "; problem=");
        append_value(&b, v->problem);
    }
    textbuf_puts(&b, ";");
    return b.data;
}

/* The transaction's state: the outcomes (spf_result.h) and the Received-SPF value. */
static struct spf_txn_state *txn_state(struct txn *t)
{
    struct spf_txn_state **slot = (struct spf_txn_state **)txn_check_state(t, &check_spf);
    if (*slot == NULL)
        *slot = xcalloc(1, sizeof **slot);
    return *slot;
}

static void publish(struct txn *t, const struct spf_verdict *v, bool by_helo)
{
    record_authres(t, v, by_helo);
    if (!t->cfg->spf->received_spf)
        return;
    struct spf_txn_state *s = txn_state(t);
    free(s->received_spf);
    s->received_spf = received_spf(t, v, by_helo);
}

static void spf_mail(struct txn *t)
{
    const struct spf_policy *p = t->cfg->spf;
    const char *why = NULL;
    if (p == NULL || !p->enabled || skipped(t, p, &why)) {
        if (why != NULL)
            log_debug("spf: not checked: %s", why);
        return;
    }
    txn_state(t);
    bool null_sender = t->sender == NULL || t->sender[0] == '\0';
    const struct spf_verdict *helo = NULL;
    struct ipaddr helo_ip;
    if (p->check_helo && t->helo != NULL && spf_domain_valid(t->helo)
            && !ipaddr_parse(t->helo, &helo_ip)) {      /* a FQDN, not an address */
        helo = helo_verdict(t);
        remember(&txn_state(t)->helo, helo);
        enum action a = add_symbol(t, helo, true);
        if (a == ACTION_REJECT || a == ACTION_TEMPFAIL || !p->check_mail_from || null_sender) {
            /* HELO decided; for <> the MAIL FROM identity is postmaster@HELO, the same check */
            publish(t, helo, true);
            if (null_sender && p->check_mail_from)
                remember(&txn_state(t)->mailfrom, helo);
            return;
        }
    }
    if (!p->check_mail_from)
        return;
    struct spf_verdict v;
    evaluate(t, false, &v);
    log_verdict(t, "mailfrom", &v);
    remember(&txn_state(t)->mailfrom, &v);
    add_symbol(t, &v, false);
    publish(t, &v, null_sender);
    spf_verdict_free(&v);
}

static void spf_eom(struct txn *t)
{
    struct spf_txn_state *s = *txn_check_state(t, &check_spf);
    if (s != NULL && s->received_spf != NULL)
        verdict_add_edit(&t->verdict, HEADER_INSERT, 0, "Received-SPF", s->received_spf);
}

/* The HELO check would evaluate this name (not an address, not cached for this HELO). */
static bool helo_to_check(struct txn *t, const struct spf_policy *p)
{
    struct ipaddr helo_ip;
    if (!p->check_helo || t->helo == NULL || !spf_domain_valid(t->helo)
            || ipaddr_parse(t->helo, &helo_ip))
        return false;
    struct spf_conn_state *c = *(struct spf_conn_state **)txn_conn_state(t, &check_spf);
    return !helo_cached(c, t);
}

/* At MAIL FROM: the TXT queries of the HELO name and the sender's domain go out together
 * (with those of the other checks of the stage), rather than the second after the first's
 * whole evaluation. */
static void spf_prefetch(struct txn *t, enum stage stage)
{
    const struct spf_policy *p = t->cfg->spf;
    const char *why = NULL;
    if (stage != STAGE_MAIL || p == NULL || !p->enabled || skipped(t, p, &why))
        return;
    if (helo_to_check(t, p))
        txn_dns_start(t, t->helo, 16);
    if (p->check_mail_from && t->sender != NULL && t->sender[0] != '\0')
        txn_dns_start(t, addr_domain(t->sender), 16);
}

static void spf_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_MAIL)
        spf_mail(t);
    else if (stage == STAGE_EOM)
        spf_eom(t);
}

static void spf_txn_end(struct txn *t, void *state)
{
    (void)t;
    struct spf_txn_state *s = state;
    free(s->received_spf);
    free(s);
}

static void spf_conn_end(struct txn *t, void *state)
{
    (void)t;
    struct spf_conn_state *c = state;
    free(c->helo);
    spf_verdict_free(&c->verdict);
    free(c);
}

static bool spf_shadowed(const struct config *cfg)
{
    return cfg->spf->shadow;
}

const struct check check_spf = {
    .name = "spf",
    .stages = STAGE_BIT(STAGE_MAIL) | STAGE_BIT(STAGE_EOM),
    .run = spf_run,
    .prefetch = spf_prefetch,
    /* so that a Received-SPF decided at MAIL FROM is added even when a later stage forces an
     * accept; spf_mail itself does nothing once an accept was forced */
    .flags = CHECK_EVEN_WHEN_ALLOWED,
    .txn_end = spf_txn_end,
    .conn_end = spf_conn_end,
    .shadowed = spf_shadowed,
};
