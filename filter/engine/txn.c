/* txn.c - the per-connection transaction state: setters that copy what the MTA tells us,
 * enforce the configured limits (headers, body buffer, recipients) and reset cleanly between
 * transactions on one connection. */
#include "txn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "dns_set.h"
#include "log.h"
#include "message_view.h"
#include "rules.h"
#include "util.h"

const char *stage_name(enum stage stage)
{
    static const char *const names[STAGE_COUNT] = {
        "connect", "helo", "mail", "rcpt", "headers", "eom",
    };
    return stage < STAGE_COUNT ? names[stage] : "unknown";
}

struct txn *txn_new(struct config *cfg)
{
    struct txn *t = xcalloc(1, sizeof *t);
    t->cfg = cfg;
    strlcpy_mw(t->client_ip, "unknown", sizeof t->client_ip);
    txn_dns_budget_start(t);
    return t;
}

static void free_result(struct result *r)
{
    free(r->symbol);
}

static void clear_envelope(struct txn *t)
{
    checks_txn_end(t);
    message_view_free(t->view);
    t->view = NULL;
    free(t->queue_id);
    free(t->sender);
    free(t->sasl_user);
    free(t->sasl_method);
    t->queue_id = t->sender = t->sasl_user = t->sasl_method = NULL;
    t->sender_unknown = false;
    for (size_t i = 0; i < t->rcpt_count; i++)
        free(t->rcpts[i]);
    free(t->rcpts);
    t->rcpts = NULL;
    t->rcpt_count = t->rcpt_rejected = 0;
    for (size_t i = 0; i < t->header_count; i++) {
        free(t->headers[i].name);
        free(t->headers[i].value);
        free(t->headers[i].raw_value);
    }
    free(t->headers);
    t->headers = NULL;
    t->header_count = 0;
    t->other_header_count = 0;
    t->header_bytes = 0;
    t->checked_header_bytes = 0;
    t->header_count_passed = false;
    t->header_bytes_passed = false;
    free(t->body);
    t->body = NULL;
    t->body_len = 0;
    t->body_bytes = 0;
    t->body_truncated = false;
    t->all_header_bytes = 0;
    t->body_crlf_count = 0;
    t->body_ended_in_cr = false;
    for (size_t i = t->conn_result_count; i < t->result_count; i++)
        free_result(&t->results[i]);
    t->result_count = t->conn_result_count;
    for (size_t i = 0; i < t->authres_method_count; i++)
        free(t->authres_methods[i]);
    free(t->authres_methods);
    t->authres_methods = NULL;
    t->authres_method_count = 0;
    free(t->forged_authres);
    t->forged_authres = NULL;
    t->forged_authres_count = 0;
    t->authres_seen = 0;
    t->allowed = t->conn_allowed;
    verdict_clear(&t->verdict);
    t->pending = ACTION_NONE;
    memset(&t->pending_reply, 0, sizeof t->pending_reply);
    t->pending_by = NULL;
    t->rcpt_refusal = ACTION_NONE;
    t->summary_logged = false;
    t->in_txn = false;
}

void txn_reset(struct txn *t)
{
    clear_envelope(t);
}

void txn_free(struct txn *t)
{
    if (t == NULL)
        return;
    clear_envelope(t);
    checks_conn_end(t);
    dns_set_free(t->early_dns);
    for (size_t i = 0; i < t->result_count; i++)
        free_result(&t->results[i]);
    free(t->results);
    free(t->client_name);
    free(t->helo);
    free(t->mta_hostname);
    config_release(t->cfg);
    free(t);
}

/* The client's networks (networks.skip, .internal, .trusted), known before any check of the
 * connect stage starts a lookup: no query is sent for a client the checks leave alone. */
static void classify_client(struct txn *t)
{
    t->client_flags = 0;
    if (!t->have_client_addr || t->cfg == NULL)
        return;
    const struct config *cfg = t->cfg;
    if (cidr_list_contains(&cfg->networks.skip, &t->client_addr))
        t->client_flags |= CLIENT_SKIP;
    if (cidr_list_contains(&cfg->networks.internal, &t->client_addr))
        t->client_flags |= CLIENT_INTERNAL;
    if (cidr_list_contains(&cfg->networks.trusted, &t->client_addr))
        t->client_flags |= CLIENT_TRUSTED;
}

void txn_set_client(struct txn *t, const char *name, const struct ipaddr *addr)
{
    free(t->client_name);
    t->client_name = xstrdup(name && *name ? name : "unknown");
    if (addr != NULL) {
        t->have_client_addr = true;
        t->client_addr = *addr;
        ipaddr_format(addr, t->client_ip, sizeof t->client_ip);
    }
    classify_client(t);
}

void txn_set_helo(struct txn *t, const char *helo)
{
    free(t->helo);
    t->helo = xstrdup(helo ? helo : "");
}

void txn_add_rcpt(struct txn *t, const char *rcpt)
{
    t->rcpts = xrealloc(t->rcpts, (t->rcpt_count + 1) * sizeof *t->rcpts);
    t->rcpts[t->rcpt_count++] = xstrdup(rcpt);
}

/* The fields some check reads (check_headers, check_mime, check_dkim_verify, authres, the
 * message view, the stock rules): names, and prefixes ending in '-'. */
static const char *const checked_names[] = {
    "From", "Sender", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "Reply-To",
    "In-Reply-To", "References", "Return-Path", "MIME-Version", "Received", "DKIM-Signature",
    "Authentication-Results", "ARC-Seal", "ARC-Message-Signature",
    "ARC-Authentication-Results", NULL,
};
static const char *const checked_prefixes[] = { "Content-", "List-", "Resent-", NULL };

bool txn_header_is_checked(const struct txn *t, const char *name)
{
    for (size_t i = 0; checked_names[i] != NULL; i++) {
        if (str_ieq(name, checked_names[i]))
            return true;
    }
    for (size_t i = 0; checked_prefixes[i] != NULL; i++) {
        if (strncasecmp(name, checked_prefixes[i], strlen(checked_prefixes[i])) == 0)
            return true;
    }
    const struct rules_policy *rules = t->cfg->rules;
    return rules != NULL && rules->set != NULL && ruleset_names_header(rules->set, name);
}

static void keep_header(struct txn *t, const char *name, const char *value)
{
    t->headers = xrealloc(t->headers, (t->header_count + 1) * sizeof *t->headers);
    t->headers[t->header_count].name = xstrdup(name);
    t->headers[t->header_count].value = xstrdup(value);
    t->headers[t->header_count].raw_value = NULL;
    t->header_count++;
}

bool txn_add_header(struct txn *t, const char *name, const char *value)
{
    const struct config *cfg = t->cfg;
    size_t bytes = strlen(name) + strlen(value) + 3;
    t->all_header_bytes += bytes;
    for (const char *cr = strchr(value, '\r'); cr != NULL; cr = strchr(cr + 1, '\r'))
        t->all_header_bytes--;   /* folded lines end in LF, as the MTA counts them */
    if (txn_header_is_checked(t, name)) {
        if (t->checked_header_bytes + bytes > cfg->limits.max_checked_header_bytes) {
            t->header_bytes_passed = true;
            return false;
        }
        keep_header(t, name, value);
        t->checked_header_bytes += bytes;
        return true;
    }
    if (t->other_header_count >= cfg->limits.max_headers) {
        t->header_count_passed = true;
        return false;
    }
    if (t->header_bytes + bytes > cfg->limits.max_header_bytes) {
        t->header_bytes_passed = true;
        return false;
    }
    keep_header(t, name, value);
    t->other_header_count++;
    t->header_bytes += bytes;
    return true;
}

void txn_set_header_raw(struct txn *t, const char *raw_value)
{
    if (t->header_count == 0)
        return;
    struct header_field *h = &t->headers[t->header_count - 1];
    free(h->raw_value);
    h->raw_value = xstrdup(raw_value);
}

bool txn_headers_truncated(const struct txn *t)
{
    return t->header_count_passed || t->header_bytes_passed;
}

uint64_t txn_message_size(const struct txn *t)
{
    if (t->all_header_bytes == 0 && t->body_bytes == 0)
        return 0;
    return t->all_header_bytes + 1 + t->body_bytes - t->body_crlf_count;
}

void txn_add_body(struct txn *t, const unsigned char *data, size_t len)
{
    t->body_bytes += len;
    for (size_t i = 0; i < len; i++) {   /* CRLF pairs, also across chunk boundaries */
        if (data[i] == '\n' && (i > 0 ? data[i - 1] == '\r' : t->body_ended_in_cr))
            t->body_crlf_count++;
    }
    if (len > 0)
        t->body_ended_in_cr = data[len - 1] == '\r';
    uint64_t cap = t->cfg->limits.max_body_buffer;
    if (t->body_len >= cap) {
        t->body_truncated = t->body_truncated || len > 0;
        return;
    }
    size_t keep = len;
    if (t->body_len + keep > cap) {
        keep = (size_t)(cap - t->body_len);
        t->body_truncated = true;
    }
    t->body = xrealloc(t->body, t->body_len + keep + 1);
    memcpy(t->body + t->body_len, data, keep);
    t->body_len += keep;
    t->body[t->body_len] = '\0';
}

const char *txn_header(const struct txn *t, const char *name, size_t n)
{
    return header_find(t->headers, t->header_count, name, n);
}

/* Whether a loaded rule (the rules section) defines this name. */
static bool rule_defines(const struct txn *t, const char *symbol)
{
    const struct rules_policy *rules = t->cfg->rules;
    return rules != NULL && rules->set != NULL && ruleset_has_rule(rules->set, symbol);
}

/* A name is scored once: a symbol added again replaces the earlier one of this transaction
 * (the later definition wins, as in SpamAssassin); one the connection already has stays.
 * With keep_action (a rule's hit), an earlier result's action and reply stay: a rule named
 * like a check's symbol rescores it but never takes back the check's decision. o is the
 * policy's override of the symbol (config_symbol), NULL when none; learn: how autolearn
 * counts it, NULL for a check's result (header points, its score). An override's score is
 * also the points autolearn counts. */
static void put_result(struct txn *t, const char *symbol, const struct symbol_override *o,
    double score, enum action action, const struct reply *reply, bool keep_action,
    const struct result_learn *learn)
{
    struct result r = {0};
    r.score = score;
    r.learn = learn != NULL ? *learn
        : (struct result_learn){ .score = score, .header_share = 1, .body_share = 0 };
    r.shadow = t->shadow_now;
    r.action = action;
    if (reply != NULL)
        r.reply = *reply;
    if (o != NULL) {
        if (o->has_score) {
            r.score = o->score;
            r.learn.score = o->score;
        }
        if (o->has_action)
            r.action = o->action;
        if (o->reply.code != 0 || o->reply.text[0] != '\0')
            r.reply = o->reply;
    }
    for (size_t i = 0; i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, symbol) != 0)
            continue;
        if (i < t->conn_result_count)
            return;
        r.symbol = t->results[i].symbol;
        r.stage = t->results[i].stage;
        if (keep_action && r.action == ACTION_NONE) {
            r.action = t->results[i].action;
            r.reply = t->results[i].reply;
        }
        t->results[i] = r;
        return;
    }
    r.symbol = xstrdup(symbol);
    t->results = xrealloc(t->results, (t->result_count + 1) * sizeof *t->results);
    t->results[t->result_count++] = r;
}

void txn_add_result(struct txn *t, const char *symbol, double score, enum action action,
    const struct reply *reply)
{
    const struct symbol_override *o = config_symbol(t->cfg, symbol);
    bool acts = action != ACTION_NONE || (o != NULL && o->has_action && o->action != ACTION_NONE);
    if (rule_defines(t, symbol) && !acts)
        return;              /* the admin's rule of this name replaces the check's */
    /* a check's decision (reject, tempfail, ...) stands even when a rule has its name (the
     * stock SPF_FAIL rule, say): the rule's hit rescores it, it does not take it back */
    put_result(t, symbol, o, score, action, reply, false, NULL);
}

void txn_add_rule_result(struct txn *t, const char *symbol, double score,
    const struct result_learn *learn)
{
    const struct symbol_override *o = config_symbol(t->cfg, symbol);
    if (score == 0 && (o == NULL || !o->has_score))
        return;                          /* score 0 disables a rule, as in SpamAssassin */
    put_result(t, symbol, o, score, ACTION_NONE, NULL, true, learn);
}

double txn_score(const struct txn *t)
{
    double total = 0;
    for (size_t i = 0; i < t->result_count; i++) {
        if (!t->results[i].shadow)
            total += t->results[i].score;
    }
    return total;
}

void txn_add_authres(struct txn *t, const char *method_result)
{
    t->authres_methods = xrealloc(t->authres_methods,
        (t->authres_method_count + 1) * sizeof *t->authres_methods);
    t->authres_methods[t->authres_method_count++] = xstrdup(method_result);
}

bool txn_is_outbound(const struct txn *t)
{
    return (t->client_flags & CLIENT_INTERNAL) != 0 || t->sasl_user != NULL;
}

void txn_dns_start(struct txn *t, const char *name, int type)
{
    if (config_resolver(t->cfg) == NULL || t->dns_budget_left_ms == 0)
        return;                  /* a spent budget sends nothing: txn_dns_query times out */
    if (t->early_dns == NULL)
        t->early_dns = dns_set_new();
    dns_set_start(t->early_dns, config_resolver(t->cfg), name, type);
}

void txn_dns_query(struct txn *t, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    uint64_t now = dns_now_ms();
    dns_set_query(t->early_dns, config_resolver(t->cfg), name, type, timeout_ms,
        now + t->dns_budget_left_ms, out);
    txn_dns_charge(t, now);
}

void txn_dns_budget_start(struct txn *t)
{
    t->dns_budget_left_ms = t->cfg != NULL ? t->cfg->dns.message_budget_ms : 0;
}

uint64_t txn_dns_budget_left_ms(const struct txn *t)
{
    return t->dns_budget_left_ms;
}

/* Less than this left is spent: no lookup is answered in it, and a wait that ran to the
 * budget's deadline may be measured a millisecond short of it (both ends are truncated). */
#define DNS_BUDGET_SPENT_BELOW_MS 5

void txn_dns_charge(struct txn *t, uint64_t since_ms)
{
    uint64_t now = dns_now_ms();
    uint64_t waited = now > since_ms ? now - since_ms : 0;
    uint64_t left = waited < t->dns_budget_left_ms ? t->dns_budget_left_ms - waited : 0;
    if (left < DNS_BUDGET_SPENT_BELOW_MS)
        left = 0;
    if (t->dns_budget_left_ms > 0 && left == 0)
        log_info("%s: client=%s: the message's DNS budget (dns.message_budget, %llu ms) is spent:"
            " its later lookups are timeouts", t->queue_id ? t->queue_id : "NOQUEUE",
            t->client_ip, (unsigned long long)t->cfg->dns.message_budget_ms);
    t->dns_budget_left_ms = left;
}

void txn_dns_clear(struct txn *t)
{
    dns_set_clear(t->early_dns);
}
