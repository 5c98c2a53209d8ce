/* engine.c - the stage pipeline. At each stage it runs the checks registered for it, then
 * looks at the results they added: the first forced action decides (an ACCEPT stops further
 * checks, a REJECT or TEMPFAIL is returned at once, QUARANTINE and DISCARD wait for the end of
 * the message). At the end of the message the score thresholds apply and the header edits are
 * made. Never includes libmilter. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "check.h"
#include "log.h"
#include "stats.h"
#include "util.h"

/* Whether check c runs now: never for a skip client; after a forced ACCEPT only the checks
 * that ask to (signing, counting). */
static bool check_runs(const struct txn *t, const struct check *c)
{
    if (t->client_flags & CLIENT_SKIP)
        return false;
    return !t->allowed || (c->flags & CHECK_EVEN_WHEN_ALLOWED);
}

/* Every check's DNS queries of the stage are started first (.prefetch), then the checks run
 * in order, each taking its answers; what none took is cancelled. */
static void run_checks(struct txn *t, enum stage stage)
{
    for (const struct check *const *c = check_table; *c != NULL; c++) {
        if ((*c)->prefetch != NULL && (*c)->stages & STAGE_BIT(stage) && check_runs(t, *c))
            (*c)->prefetch(t, stage);
    }
    /* one clock read per check: the end of one call is the start of the next */
    uint64_t started = stats_now_ns();
    for (const struct check *const *c = check_table; *c != NULL; c++) {
        if (!((*c)->stages & STAGE_BIT(stage) && check_runs(t, *c)))
            continue;
        t->shadow_now = (*c)->shadowed != NULL && (*c)->shadowed(t->cfg);
        (*c)->run(t, stage);
        t->shadow_now = false;
        uint64_t ended = stats_now_ns();
        stats_check_time((size_t)(c - check_table), (*c)->name, ended - started);
        started = ended;
    }
    txn_dns_clear(t);
}

static void decide(struct txn *t, enum action action, const struct reply *reply, const char *by)
{
    t->verdict.action = action;
    t->verdict.reply = *reply;
    if (action == ACTION_REJECT || action == ACTION_TEMPFAIL)
        reply_complete(&t->verdict.reply, action);
    else if (action == ACTION_QUARANTINE && t->verdict.reply.text[0] == '\0')
        t->verdict.reply = t->cfg->actions.quarantine_reply;   /* the reason the MTA records */
    t->verdict.decided_by = by;
}

/* Remembers a quarantine or discard forced before the end of the message; the first wins. */
static void hold_for_eom(struct txn *t, const struct result *r)
{
    if (t->pending != ACTION_NONE)
        return;
    t->pending = r->action;
    t->pending_reply = r->reply;
    t->pending_by = r->symbol;
}

/* Looks at the results added since `from`; returns the REJECT or TEMPFAIL to give now. */
static enum action forced_action(struct txn *t, size_t from, enum stage stage)
{
    for (size_t i = from; i < t->result_count; i++) {
        struct result *r = &t->results[i];
        r->stage = stage;
        if (r->shadow)
            continue;          /* logged and counted, never acted on */
        switch (r->action) {
        case ACTION_NONE:
            break;
        case ACTION_ACCEPT:
            t->allowed = true;
            if (stage <= STAGE_HELO)
                t->conn_allowed = true;
            return ACTION_NONE;
        case ACTION_QUARANTINE:
        case ACTION_DISCARD:
            hold_for_eom(t, r);
            break;
        case ACTION_TEMPFAIL:
        case ACTION_REJECT:
            decide(t, r->action, &r->reply, r->symbol);
            return r->action;
        }
    }
    return ACTION_NONE;
}

/* Runs one stage; the results of a connect or helo stage belong to the connection. */
static enum action run_stage(struct txn *t, enum stage stage)
{
    size_t from = t->result_count;
    run_checks(t, stage);
    enum action action = forced_action(t, from, stage);
    if (stage <= STAGE_HELO)
        t->conn_result_count = t->result_count;
    return action;
}

bool engine_may_refuse_at(const struct config *cfg, enum stage stage)
{
    if (stage == STAGE_CONNECT && cfg->networks.skip.count > 0)
        return true;
    for (const struct check *const *c = check_table; *c != NULL; c++) {
        if (!((*c)->stages & STAGE_BIT(stage)))
            continue;
        if ((*c)->may_refuse == NULL || (*c)->may_refuse(cfg, stage))
            return true;
    }
    return false;
}

enum action engine_connect(struct txn *t, const char *client_name, const struct ipaddr *addr)
{
    txn_set_client(t, client_name, addr);
    txn_dns_budget_start(t);     /* the first message's DNS budget runs from here */
    enum action action = run_stage(t, STAGE_CONNECT);
    if (t->client_flags & CLIENT_SKIP)
        return ACTION_ACCEPT;     /* leave this connection alone */
    if (action != ACTION_NONE)
        engine_log_summary(t, "connect");
    return action;
}

enum action engine_helo(struct txn *t, const char *helo)
{
    txn_set_helo(t, helo);
    enum action action = run_stage(t, STAGE_HELO);
    if (action != ACTION_NONE)
        engine_log_summary(t, "helo");
    return action;
}

enum action engine_mail(struct txn *t, struct config *cfg, const char *queue_id,
    const char *sender, const char *sasl_user, const char *sasl_method)
{
    txn_reset(t);
    /* the transaction runs on the configuration its caller started it with */
    if (cfg != NULL) {
        config_release(t->cfg);
        t->cfg = cfg;
    }
    t->in_txn = true;
    t->txn_count++;
    t->started_ms = now_ms();
    if (t->txn_count > 1)
        txn_dns_budget_start(t); /* the connect's lookups were the first message's */
    t->sender = xstrdup(sender);
    if (queue_id != NULL && *queue_id != '\0')
        t->queue_id = xstrdup(queue_id);
    if (sasl_user != NULL && *sasl_user != '\0')
        t->sasl_user = xstrdup(sasl_user);
    if (sasl_method != NULL && *sasl_method != '\0')
        t->sasl_method = xstrdup(sasl_method);
    /* a connection-level decision holds for every transaction on it */
    for (size_t i = 0; i < t->conn_result_count; i++) {
        struct result *r = &t->results[i];
        if (r->shadow)
            continue;
        if (r->action == ACTION_REJECT || r->action == ACTION_TEMPFAIL) {
            decide(t, r->action, &r->reply, r->symbol);
            engine_log_summary(t, "mail");
            return r->action;
        }
        if (r->action == ACTION_QUARANTINE || r->action == ACTION_DISCARD)
            hold_for_eom(t, r);
    }
    enum action action = run_stage(t, STAGE_MAIL);
    if (action != ACTION_NONE)
        engine_log_summary(t, "mail");
    return action;
}

enum action engine_rcpt(struct txn *t, const char *rcpt)
{
    if (t->rcpt_count >= t->cfg->limits.max_recipients) {
        /* RFC 5321 4.5.3.1.10: 452, and the client sends the rest in another transaction */
        const char *why;
        reply_parse("452 4.5.3 Too many recipients", &t->verdict.reply, &why);
        t->rcpt_refusal = ACTION_TEMPFAIL;
        t->rcpt_refusal_reply = t->verdict.reply;
        t->rcpt_rejected++;
        return ACTION_TEMPFAIL;
    }
    txn_add_rcpt(t, rcpt);
    size_t from = t->result_count;
    enum action action = run_stage(t, STAGE_RCPT);
    if (action != ACTION_REJECT && action != ACTION_TEMPFAIL)
        return action;
    /* refuse this recipient only: drop it and what it caused */
    char reply_text[320];
    reply_format(&t->verdict.reply, reply_text, sizeof reply_text);
    log_info("%s: recipient <%s> refused: %s (%s)", t->queue_id ? t->queue_id : "NOQUEUE",
        rcpt, t->verdict.decided_by ? t->verdict.decided_by : "-", reply_text);
    t->rcpt_refusal = action;
    t->rcpt_refusal_reply = t->verdict.reply;
    t->rcpt_rejected++;
    t->verdict.action = ACTION_NONE;
    t->verdict.decided_by = NULL;
    free(t->rcpts[--t->rcpt_count]);
    /* keep the refused recipient's symbols out of the message's score */
    for (size_t i = from; i < t->result_count; i++)
        free(t->results[i].symbol);
    t->result_count = from;
    return action;
}

bool engine_header(struct txn *t, const char *name, const char *value)
{
    if (str_ieq(name, "Authentication-Results")) {
        unsigned index = ++t->authres_seen;
        if (authres_is_ours(value, authres_id(t))) {
            t->forged_authres = xrealloc(t->forged_authres,
                (t->forged_authres_count + 1) * sizeof *t->forged_authres);
            t->forged_authres[t->forged_authres_count++] = index;
        }
    }
    return txn_add_header(t, name, value);
}

enum action engine_eoh(struct txn *t)
{
    enum action action = run_stage(t, STAGE_HEADERS);
    if (action != ACTION_NONE)
        engine_log_summary(t, "headers");
    return action;
}

void engine_body(struct txn *t, const unsigned char *data, size_t len)
{
    txn_add_body(t, data, len);
    for (const struct check *const *c = check_table; *c != NULL; c++) {
        if ((*c)->body != NULL && check_runs(t, *c))
            (*c)->body(t, data, len);
    }
}

/* The thresholds for this message: actions, or actions.domains for its recipients. */
static void thresholds(const struct txn *t, struct score_thresholds *out)
{
    config_thresholds(t->cfg, t->rcpts, t->rcpt_count, out);
}

static void decide_by_score(struct txn *t)
{
    const struct config *cfg = t->cfg;
    double score = txn_score(t);
    if (t->client_flags & CLIENT_TRUSTED) {
        t->verdict.action = ACTION_ACCEPT;   /* inbound checks never refuse a trusted relay */
        return;
    }
    struct score_thresholds th;
    thresholds(t, &th);
    if (th.reject > 0 && score >= th.reject)
        decide(t, ACTION_REJECT, &cfg->actions.reject_reply, "score");
    else if (th.tempfail > 0 && score >= th.tempfail)
        decide(t, ACTION_TEMPFAIL, &cfg->actions.tempfail_reply, "score");
    else if (th.quarantine > 0 && score >= th.quarantine)
        decide(t, ACTION_QUARANTINE, &cfg->actions.quarantine_reply, "score");
    else
        t->verdict.action = ACTION_ACCEPT;
}

/* A score as SpamAssassin writes it in tests=: one decimal, two when needed ("1.5", "0.25"). */
static void format_score(double score, char *buf, size_t size)
{
    snprintf(buf, size, "%.2f", score);
    size_t len = strlen(buf);
    if (len > 1 && buf[len - 1] == '0')
        buf[len - 1] = '\0';
}

/* Appends "item" to a header value being built, folding ("\n\t", which the MTA turns into a
 * continuation line) before an item that would take the line past 78 characters. */
static void append_folded(struct textbuf *value, size_t *line_len, const char *item)
{
    size_t len = strlen(item);
    if (*line_len > 0 && *line_len + len > 78) {
        textbuf_puts(value, "\n\t");
        *line_len = 8;
    }
    textbuf_puts(value, item);
    *line_len += len;
}

/* X-Spam-Flag (at or above the add_header threshold), X-Spam-Score and X-Spam-Status:
 * "Yes, score=7.3 required=5.0 tests=HELO_BARE_IP=1.5,RDNS_NONE=1.3,..." with each symbol's
 * score, folded into lines of at most 78 characters. */
static void add_spam_headers(struct txn *t, double threshold)
{
    double score = txn_score(t);
    bool spam = threshold > 0 && score >= threshold;
    struct textbuf status;
    textbuf_init(&status);
    textbuf_printf(&status, "%s, score=%.1f required=%.1f tests=", spam ? "Yes" : "No", score,
        threshold);
    size_t line_len = strlen("X-Spam-Status: ") + status.len;
    bool first = true;
    for (size_t i = 0; i < t->result_count; i++) {
        if (t->results[i].score == 0)
            continue;
        char number[32];
        format_score(t->results[i].score, number, sizeof number);
        char *item = xasprintf("%s%s%s=%s", first ? "" : ",", t->results[i].symbol,
            t->results[i].shadow ? "(shadow)" : "", number);
        append_folded(&status, &line_len, item);
        free(item);
        first = false;
    }
    if (first)
        textbuf_puts(&status, "none");
    char score_text[32];
    snprintf(score_text, sizeof score_text, "%.1f", score);
    if (spam)
        verdict_add_edit(&t->verdict, HEADER_APPEND, 0, "X-Spam-Flag", "YES");
    verdict_add_edit(&t->verdict, HEADER_APPEND, 0, "X-Spam-Score", score_text);
    verdict_add_edit(&t->verdict, HEADER_APPEND, 0, "X-Spam-Status", status.data);
    textbuf_free(&status);
}

static void add_header_edits(struct txn *t)
{
    if (t->cfg->authres.remove_forged) {
        /* from the last to the first, so each index still names the same field */
        for (size_t i = t->forged_authres_count; i > 0; i--)
            verdict_add_edit(&t->verdict, HEADER_DELETE, (int)t->forged_authres[i - 1],
                "Authentication-Results", NULL);
    }
    /* outbound mail with no result to state gets no "id; none": it says nothing to anyone */
    if (!txn_is_outbound(t) || t->authres_method_count > 0) {
        char *authres = authres_build(t);
        verdict_add_edit(&t->verdict, HEADER_INSERT, 0, "Authentication-Results", authres);
        free(authres);
    }
    struct score_thresholds th;
    thresholds(t, &th);
    if (!txn_is_outbound(t) && th.add_header > 0)
        add_spam_headers(t, th.add_header);
    /* last: what covers every edit above (ARC sealing, check.h) */
    for (const struct check *const *c = check_table; *c != NULL; c++) {
        if ((*c)->after_edits != NULL && check_runs(t, *c))
            (*c)->after_edits(t);
    }
}

enum action engine_eom(struct txn *t)
{
    enum action action = run_stage(t, STAGE_EOM);
    if (action == ACTION_NONE) {
        if (t->pending != ACTION_NONE)
            decide(t, t->pending, &t->pending_reply, t->pending_by);
        else if (t->allowed)
            t->verdict.action = ACTION_ACCEPT;
        else
            decide_by_score(t);
    }
    t->verdict.score = txn_score(t);
    if (t->verdict.action == ACTION_ACCEPT || t->verdict.action == ACTION_QUARANTINE)
        add_header_edits(t);
    engine_log_summary(t, "eom");
    return t->verdict.action;
}

void engine_abort(struct txn *t)
{
    if (t->in_txn && t->rcpt_count == 0 && t->rcpt_refusal != ACTION_NONE)
        engine_log_summary(t, "rcpt");
    txn_reset(t);
}

/* What the shadow results would have made of this transaction: the most severe of the action
 * taken, the actions they force, and (at the end of the message, when the score decided) the
 * thresholds applied to the score with them. Counts them for verdict_shadow_counts(). */
static enum action shadow_would_have(const struct txn *t, enum action action, bool at_eom)
{
    size_t hits = 0;
    double shadow_score = 0;
    enum action would = action;
    for (size_t i = 0; i < t->result_count; i++) {
        const struct result *r = &t->results[i];
        if (!r->shadow)
            continue;
        hits++;
        shadow_score += r->score;
        if (r->action != ACTION_ACCEPT && action_severity(r->action) > action_severity(would))
            would = r->action;
    }
    if (hits == 0)
        return action;
    bool by_score = t->verdict.decided_by != NULL && strcmp(t->verdict.decided_by, "score") == 0;
    if (at_eom && !t->allowed && !(t->client_flags & CLIENT_TRUSTED)
        && (action == ACTION_ACCEPT || by_score)) {
        struct score_thresholds th;
        thresholds(t, &th);
        double score = txn_score(t) + shadow_score;
        enum action by = th.reject > 0 && score >= th.reject ? ACTION_REJECT
            : th.tempfail > 0 && score >= th.tempfail ? ACTION_TEMPFAIL
            : th.quarantine > 0 && score >= th.quarantine ? ACTION_QUARANTINE : ACTION_NONE;
        if (action_severity(by) > action_severity(would))
            would = by;
    }
    verdict_count_shadow(hits, action, would);
    return would;
}

/* The metrics of a decided message: its action and direction, and each symbol it got. */
static void count_outcome(const struct txn *t, enum action action)
{
    if (t->in_txn && action != ACTION_NONE)
        stats_message(action, txn_is_outbound(t));
    for (size_t i = 0; i < t->result_count; i++)
        stats_symbol_hit(t->results[i].symbol, t->results[i].shadow);
}

void engine_log_summary(struct txn *t, const char *how)
{
    if (t->summary_logged)
        return;
    t->summary_logged = true;
    enum action action = t->verdict.action;
    const struct reply *reply = &t->verdict.reply;
    if (action == ACTION_NONE && t->rcpt_count == 0 && t->rcpt_refusal != ACTION_NONE) {
        action = t->rcpt_refusal;
        reply = &t->rcpt_refusal_reply;
    }
    enum action would_have = shadow_would_have(t, action, strcmp(how, "eom") == 0);
    count_outcome(t, action);
    if (!t->cfg->log.summary)
        return;
    struct textbuf line;
    textbuf_init(&line);
    /* name[ip] as Postfix logs it: a client without a name (the MTA passes "[ip]") is unknown */
    const char *client_name = t->client_name;
    if (client_name == NULL || client_name[0] == '\0' || client_name[0] == '['
        || strcmp(client_name, t->client_ip) == 0)
        client_name = "unknown";
    textbuf_printf(&line, "qid=%s client=%s[%s] helo=%s", t->queue_id ? t->queue_id : "NOQUEUE",
        client_name, t->client_ip, t->helo ? t->helo : "-");
    if (t->in_txn)
        textbuf_printf(&line, " from=<%s> rcpts=%zu", t->sender ? t->sender : "", t->rcpt_count);
    if (t->rcpt_rejected > 0)
        textbuf_printf(&line, " rcpts_refused=%zu", t->rcpt_rejected);
    if (t->sasl_user != NULL)
        textbuf_printf(&line, " sasl=%s", t->sasl_user);
    textbuf_puts(&line, " symbols=");
    if (t->result_count == 0)
        textbuf_puts(&line, "-");
    for (size_t i = 0; i < t->result_count; i++)
        textbuf_printf(&line, "%s%s%s(%.1f)", i ? "," : "", t->results[i].symbol,
            t->results[i].shadow ? "(shadow)" : "", t->results[i].score);
    textbuf_printf(&line, " score=%.1f action=%s stage=%s", txn_score(t),
        action == ACTION_NONE ? "none" : action_name(action), how);
    if (would_have != action)
        textbuf_printf(&line, " shadow_action=%s", action_name(would_have));
    if (action == ACTION_REJECT || action == ACTION_TEMPFAIL) {
        char reply_text[320];
        reply_format(reply, reply_text, sizeof reply_text);
        textbuf_printf(&line, " reply=\"%s\"", reply_text);
    }
    if (t->in_txn)
        textbuf_printf(&line, " size=%llu time=%llums", (unsigned long long)txn_message_size(t),
            (unsigned long long)(now_ms() - t->started_ms));
    log_info("%s", line.data);
    textbuf_free(&line);
}
