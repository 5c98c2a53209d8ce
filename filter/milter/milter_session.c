/* milter_session.c - the milter protocol state of one MTA connection, translated to the engine.
 * Each command becomes an engine call and the engine's answer becomes a reply packet, with
 * the header changes and quarantine of the end of the message gathered before the final
 * reply, so that one write sends them all. Copes with Postfix's and Sendmail's macro sets (the
 * queue id shows up at MAIL or only at DATA; auth names with and without realm), several
 * transactions per connection, aborts, connections without HELO, and non-SMTP submissions.
 * An internal error gives actions.on_error, never a silent loss. Runs on one thread at a time
 * per session (milter_loop.c promises it); the counters below are shared under a lock. */
#include "milter_session.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "stats.h"
#include "util.h"

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned connections_open;
static unsigned transactions_in_flight;
static bool shutting_down;
static size_t max_data_size = (256 * 1024) - 1;

/* The macros the MTA sent for one stage, as name/value pairs we own. */
struct macro_set {
    char **pairs;
    size_t count;
};

/* What we keep for one connection: the engine's state, the negotiated protocol (header values
 * with their leading space, the stages sent without a reply), whether the connection and its
 * transaction are counted, the answer of an end of headers that waits for the end of the
 * message (SMFIP_NR_EOH), a connect or HELO answer the MTA did not wait for, and the macros
 * per stage. */
struct milter_session {
    struct txn *t;
    bool negotiated;
    uint32_t actions;             /* the actions the MTA granted */
    bool header_leadspc;
    uint32_t noreply_steps;
    bool counted;
    bool connection_counted;
    enum action eoh_action;
    struct milter_out answer;     /* the answer of a command the MTA may not wait for, before
                                     pass_on decides what to do with it */
    struct milter_out held;       /* one to connect or HELO the MTA did not wait for
                                     (SMFIP_NR_CONN, _NR_HELO) and that was not "continue":
                                     given at every MAIL */
    bool in_data;
    unsigned long fields_seen;
    struct macro_set macros[MILTER_STAGE_COUNT];
};

/* A packet or a negotiation we refuse: counted in the metrics, logged. */
static void protocol_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void protocol_error(const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    stats_protocol_error();
    log_err("%s", reason);
}

/* --- counters ---------------------------------------------------------------------------- */

static void count_transaction(struct milter_session *s, bool open)
{
    if (s->counted == open)
        return;
    s->counted = open;
    pthread_mutex_lock(&counter_lock);
    if (open)
        transactions_in_flight++;
    else
        transactions_in_flight--;
    pthread_mutex_unlock(&counter_lock);
    stats_transactions_add(open ? 1 : -1);
}

void milter_sessions_stop(void)
{
    pthread_mutex_lock(&counter_lock);
    shutting_down = true;
    pthread_mutex_unlock(&counter_lock);
}

bool milter_sessions_stopping(void)
{
    pthread_mutex_lock(&counter_lock);
    bool stopping = shutting_down;
    pthread_mutex_unlock(&counter_lock);
    return stopping;
}

unsigned milter_sessions_in_flight(void)
{
    pthread_mutex_lock(&counter_lock);
    unsigned n = transactions_in_flight;
    pthread_mutex_unlock(&counter_lock);
    return n;
}

/* A header field, a body chunk: 256 KB, or 1 MB when a header limit allows more than 256 KB
 * (Sendmail with a large MaxHeadersLength; Postfix passes about 60 KB of a field). A bigger
 * packet ends the session, logged. */
size_t milter_session_max_data(const struct config *cfg)
{
    uint64_t widest = cfg->limits.max_header_bytes > cfg->limits.max_checked_header_bytes
        ? cfg->limits.max_header_bytes : cfg->limits.max_checked_header_bytes;
    return widest > (256 * 1024) - 1 ? (1024 * 1024) - 1 : (256 * 1024) - 1;
}

void milter_sessions_set_max_data(size_t bytes)
{
    max_data_size = bytes;
}

size_t milter_sessions_max_data(void)
{
    return max_data_size;
}

/* --- macros ------------------------------------------------------------------------------ */

static void macros_clear(struct macro_set *m)
{
    for (size_t i = 0; i < 2 * m->count; i++)
        free(m->pairs[i]);
    free(m->pairs);
    m->pairs = NULL;
    m->count = 0;
}

/* Forgets the macros of stage `from` and of every stage that comes after it in a session
 * (the stage numbers are not in time order: EOH comes before EOM). */
static void macros_forget_from(struct milter_session *s, enum milter_stage from)
{
    static const enum milter_stage in_time[] = { MILTER_STAGE_CONNECT, MILTER_STAGE_HELO,
        MILTER_STAGE_MAIL, MILTER_STAGE_RCPT, MILTER_STAGE_DATA, MILTER_STAGE_EOH,
        MILTER_STAGE_EOM };
    bool on = false;
    for (size_t i = 0; i < MILTER_STAGE_COUNT; i++) {
        on = on || in_time[i] == from;
        if (on)
            macros_clear(&s->macros[in_time[i]]);
    }
}

static void macros_store(struct milter_session *s, const struct milter_macros *m)
{
    int stage = milter_stage_of_command(m->command);
    if (stage < 0)
        return;       /* macros for a command that has none in the protocol: ignored */
    if (stage == MILTER_STAGE_MAIL)
        macros_forget_from(s, MILTER_STAGE_RCPT);
    struct macro_set *set = &s->macros[stage];
    macros_clear(set);
    set->pairs = xcalloc(2 * m->count + 1, sizeof *set->pairs);
    for (size_t i = 0; i < 2 * m->count; i++)
        set->pairs[i] = xstrdup(m->pairs[i]);
    set->count = m->count;
}

/* "{x}" and "x" name the same macro. */
static bool macro_name_is(const char *have, const char *want)
{
    if (strcmp(have, want) == 0)
        return true;
    size_t hl = strlen(have), wl = strlen(want);
    if (hl >= 2 && have[0] == '{' && have[hl - 1] == '}')
        return hl - 2 == wl && strncmp(have + 1, want, wl) == 0;
    if (wl >= 2 && want[0] == '{' && want[wl - 1] == '}')
        return wl - 2 == hl && strncmp(want + 1, have, hl) == 0;
    return false;
}

/* The value of a macro, the latest stage first; NULL when the MTA did not send it. */
static const char *macro(const struct milter_session *s, const char *name)
{
    static const enum milter_stage newest_first[] = { MILTER_STAGE_EOM, MILTER_STAGE_EOH,
        MILTER_STAGE_DATA, MILTER_STAGE_RCPT, MILTER_STAGE_MAIL, MILTER_STAGE_HELO,
        MILTER_STAGE_CONNECT };
    for (size_t i = 0; i < MILTER_STAGE_COUNT; i++) {
        const struct macro_set *set = &s->macros[newest_first[i]];
        for (size_t j = 0; j < set->count; j++)
            if (macro_name_is(set->pairs[2 * j], name))
                return set->pairs[2 * j + 1];
    }
    return NULL;
}

/* --- replies ----------------------------------------------------------------------------- */

static bool is_reply_code(int code, char first)
{
    return code >= 100 && code <= 999 && '0' + code / 100 == first;
}

/* "d.ddd.ddd", as an MTA accepts an enhanced status code. */
static bool is_enhanced_status(const char *dsn)
{
    const char *p = dsn;
    if (*p < '2' || *p > '5' || p[1] != '.')
        return false;
    p += 2;
    for (int part = 0; part < 2; part++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            p++;
            digits++;
        }
        if (digits == 0 || (part == 0 && *p++ != '.'))
            return false;
    }
    return *p == '\0';
}

/* A reject or tempfail with its SMTP reply: "CODE DSN text", % doubled (the MTA reads it as
 * an escape), CR and LF made spaces (the MTA refuses them). A code of the wrong class or a bad
 * DSN is not sent (the MTA would refuse it): the bare status goes, and we log why. */
static void put_refusal(struct milter_out *out, char status, const struct reply *reply)
{
    char first = status == MILTER_REPLY_REJECT ? '5' : '4';
    if (!is_reply_code(reply->code, first) || !is_enhanced_status(reply->dsn)) {
        log_warn("the reply \"%d %s %s\" is not a %cxx reply with an enhanced status code; "
                 "the MTA gives its default text", reply->code, reply->dsn, reply->text, first);
        milter_put_simple(out, status);
        return;
    }
    char text[2 * sizeof reply->text];
    size_t o = 0;
    for (const char *p = reply->text; *p && o + 2 < sizeof text; p++) {
        if (*p == '%')
            text[o++] = '%';
        text[o++] = (*p == '\r' || *p == '\n') ? ' ' : *p;
    }
    text[o] = '\0';
    char line[sizeof text + 32];
    snprintf(line, sizeof line, "%d %s %s", reply->code, reply->dsn, text);
    milter_put_replycode(out, line);
}

static void put_fixed_refusal(struct milter_out *out, int code, const char *text)
{
    struct reply r = { .code = code };
    snprintf(r.dsn, sizeof r.dsn, "4.3.2");
    snprintf(r.text, sizeof r.text, "%s", text);
    put_refusal(out, MILTER_REPLY_TEMPFAIL, &r);
}

/* A stage's answer as a reply packet. */
static void put_answer(struct milter_out *out, const struct txn *t, enum action action)
{
    switch (action) {
    case ACTION_NONE:
    case ACTION_QUARANTINE:
        milter_put_simple(out, MILTER_REPLY_CONTINUE);
        return;
    case ACTION_ACCEPT:
        milter_put_simple(out, MILTER_REPLY_ACCEPT);
        return;
    case ACTION_REJECT:
        put_refusal(out, MILTER_REPLY_REJECT, engine_reply(t));
        return;
    case ACTION_TEMPFAIL:
        put_refusal(out, MILTER_REPLY_TEMPFAIL, engine_reply(t));
        return;
    case ACTION_DISCARD:
        milter_put_simple(out, MILTER_REPLY_DISCARD);
        return;
    }
    milter_put_simple(out, MILTER_REPLY_CONTINUE);
}

static void put_on_error(struct milter_out *out)
{
    enum action action = engine_error_action(NULL);
    log_err("internal error: no transaction state for this connection; answering %s",
        action_name(action));
    milter_put_simple(out, action == ACTION_ACCEPT ? MILTER_REPLY_ACCEPT : MILTER_REPLY_TEMPFAIL);
}

/* --- commands ---------------------------------------------------------------------------- */

/* The queue id appears at MAIL (Sendmail, Postfix non-SMTP) or only from DATA (Postfix). */
static void pick_up_queue_id(const struct milter_session *s, struct txn *t)
{
    engine_queue_id_seen(t, macro(s, "i"));
}

static bool on_optneg(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    struct milter_optneg o;
    const char *why = NULL;
    if (!milter_decode_optneg(pkt, &o, &why)) {
        protocol_error("milter protocol error: %s", why);
        return false;
    }
    if (o.version < MILTER_PROTO_OLDEST) {
        protocol_error("the MTA speaks milter protocol version %u; version %d or later is needed",
            o.version, MILTER_PROTO_OLDEST);
        return false;
    }
    uint32_t need = MILTER_ACT_ADDHDRS | MILTER_ACT_CHGHDRS;
    if ((o.actions & need) != need) {
        protocol_error("the MTA does not offer header changes (actions 0x%x): cannot add "
            "Authentication-Results", o.actions);
        return false;
    }
    uint32_t actions = need | (o.actions & (MILTER_ACT_QUARANTINE | MILTER_ACT_SETSYMLIST));
    /* Steps we never use: unknown commands; header values with their leading space, which
     * DKIM's simple canonicalization signs. The DATA command, header fields and body chunks
     * never get an answer of their own (nothing is decided at DATA; the engine only collects
     * the fields and the body), so when the MTA offers it they are sent without a reply, and
     * the MTA does not wait a round trip for each; the end of headers too: what it decides is
     * answered at the end of the message (docs/ARCHITECTURE.md). Postfix sends the DATA macros
     * and command, then the fields, as small writes in a row: under Nagle's algorithm on its
     * socket each waits for the ACK of the one before, which TCP_QUICKACK after every read
     * (milter_loop.c) sends at once. Connect and HELO get no reply either while the policy in
     * force cannot refuse there (engine_may_refuse_at): two round trips fewer per connection.
     * What a reload, a shutdown or the connection limit still decides there is held and
     * answered at MAIL (pass_on). */
    uint32_t early = 0;
    struct config *cfg = config_current();
    if (cfg != NULL) {
        if (!engine_may_refuse_at(cfg, STAGE_CONNECT))
            early |= MILTER_STEP_NR_CONN;
        if (!engine_may_refuse_at(cfg, STAGE_HELO))
            early |= MILTER_STEP_NR_HELO;
        config_release(cfg);
    }
    uint32_t noreply = o.steps & (MILTER_STEP_NR_DATA | MILTER_STEP_NR_HDR | MILTER_STEP_NR_EOH
        | MILTER_STEP_NR_BODY | early);
    uint32_t steps = (o.steps & (MILTER_STEP_NOUNKNOWN | MILTER_STEP_HDR_LEADSPC)) | noreply;
    s->negotiated = true;
    s->actions = actions;
    s->noreply_steps = noreply;
    s->header_leadspc = (o.steps & MILTER_STEP_HDR_LEADSPC) != 0;
    const char *lists[MILTER_STAGE_COUNT] = {0};
    if (actions & MILTER_ACT_SETSYMLIST) {
        lists[MILTER_STAGE_CONNECT] = "j {daemon_name} {client_addr} {client_name} _";
        lists[MILTER_STAGE_MAIL] = "i {auth_type} {auth_authen} {mail_addr}";
        lists[MILTER_STAGE_RCPT] = "i {rcpt_addr}";
        lists[MILTER_STAGE_EOH] = "i";
        lists[MILTER_STAGE_EOM] = "i";
    }
    uint32_t version = o.version < MILTER_PROTO_VERSION ? o.version : MILTER_PROTO_VERSION;
    milter_put_optneg(out, version, actions, steps, lists);
    return true;
}

/* Frees the engine's state of the connection and uncounts it; the negotiation stays. */
static void end_connection(struct milter_session *s)
{
    count_transaction(s, false);
    if (s->t != NULL) {
        engine_abort(s->t);
        txn_free(s->t);
        s->t = NULL;
    }
    if (s->connection_counted) {
        s->connection_counted = false;
        pthread_mutex_lock(&counter_lock);
        connections_open--;
        pthread_mutex_unlock(&counter_lock);
        stats_connection_close();
    }
    s->in_data = false;
    s->eoh_action = ACTION_NONE;
    milter_out_clear(&s->held);
}

/* The client's address, parsed once: from the connect packet, or for a unix socket, a local
 * submission without one, from {client_addr} (Sendmail). */
static bool client_address(const struct milter_session *s, const struct milter_connect *c,
    struct ipaddr *addr)
{
    if ((c->family == '4' || c->family == '6') && ipaddr_parse(c->address, addr))
        return true;
    const char *text = macro(s, "{client_addr}");
    return text != NULL && ipaddr_parse(text, addr);
}

static bool on_connect(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    struct milter_connect c;
    const char *why = NULL;
    if (!milter_decode_connect(pkt, &c, &why)) {
        protocol_error("milter protocol error: %s", why);
        return false;
    }
    end_connection(s);     /* a second connect on one connection starts over */
    struct config *cfg = config_current();
    if (cfg == NULL) {
        put_on_error(out);
        return true;
    }
    pthread_mutex_lock(&counter_lock);
    bool stopping = shutting_down;
    bool too_many = connections_open >= cfg->milter.max_connections;
    if (!too_many && !stopping)
        connections_open++;
    pthread_mutex_unlock(&counter_lock);
    if (!too_many && !stopping)
        stats_connection_open();
    if (stopping) {
        config_release(cfg);
        put_fixed_refusal(out, 451, "Mail filter restarting, try again later");
        return true;
    }
    if (too_many) {
        log_warn("more than milter.max_connections (%u) connections: tempfail for %s",
            cfg->milter.max_connections, c.hostname);
        config_release(cfg);
        put_fixed_refusal(out, 421, "Too many connections to the mail filter, try again later");
        return true;
    }
    s->connection_counted = true;
    struct txn *t = txn_new(cfg);
    s->t = t;
    engine_connection_facts(t, macro(s, "j"), c.family == '4' && c.port == 0);
    struct ipaddr addr;
    bool have_addr = client_address(s, &c, &addr);
    put_answer(out, t, engine_connect(t, c.hostname, have_addr ? &addr : NULL));
    return true;
}

static bool on_helo(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    const char *helo = NULL, *why = NULL;
    if (!milter_decode_string(pkt, &helo, &why)) {
        protocol_error("milter protocol error: HELO: %s", why);
        return false;
    }
    if (s->held.len > 0)
        milter_out_append(out, &s->held);    /* the connection was refused at connect */
    else if (s->t == NULL)
        put_on_error(out);
    else
        put_answer(out, s->t, engine_helo(s->t, helo));
    return true;
}

/* MAIL's or RCPT's arguments (argv[0] the address); false, logged, when the packet is bad. */
static bool decode_args(const struct milter_packet *pkt, const char *command, char **argv)
{
    size_t argc = 0;
    const char *why = NULL;
    if (milter_decode_args(pkt, argv, &argc, &why))
        return true;
    protocol_error("milter protocol error: %s: %s", command, why);
    return false;
}

static bool on_mail(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    char *argv[MILTER_ARGS_MAX];
    if (!decode_args(pkt, "MAIL", argv))
        return false;
    if (s->held.len > 0) {
        /* refused (or accepted) at connect or HELO while the MTA did not wait for it: every
         * transaction of the connection gets that answer, as the MTA would have done */
        milter_out_append(out, &s->held);
        return true;
    }
    if (s->t == NULL) {
        put_on_error(out);
        return true;
    }
    struct txn *t = s->t;
    s->eoh_action = ACTION_NONE;
    s->in_data = false;
    s->fields_seen = 0;
    count_transaction(s, false);
    if (milter_sessions_stopping()) {
        put_fixed_refusal(out, 451, "Mail filter restarting, try again later");
        return true;
    }
    char *sender = smtp_addr_strip(argv[0]);
    enum action action = engine_mail(t, config_current(), macro(s, "i"), sender,
        macro(s, "{auth_authen}"), macro(s, "{auth_type}"));
    free(sender);
    count_transaction(s, action == ACTION_NONE);
    pick_up_queue_id(s, t);
    put_answer(out, t, action);
    return true;
}

static bool on_rcpt(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    char *argv[MILTER_ARGS_MAX];
    if (!decode_args(pkt, "RCPT", argv))
        return false;
    if (s->t == NULL) {
        put_on_error(out);
        return true;
    }
    pick_up_queue_id(s, s->t);
    char *rcpt = smtp_addr_strip(argv[0]);
    enum action action = engine_rcpt(s->t, rcpt);
    free(rcpt);
    put_answer(out, s->t, action);
    return true;
}

static bool on_header(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    const char *name = NULL, *value = NULL, *why = NULL;
    if (!milter_decode_header(pkt, &name, &value, &why)) {
        protocol_error("milter protocol error: header field: %s", why);
        return false;
    }
    struct txn *t = s->t;
    if (t == NULL) {
        put_on_error(out);
        return true;
    }
    s->in_data = true;
    s->fields_seen++;
    bool was_truncated = txn_headers_truncated(t);
    /* with SMFIP_HDR_LEADSPC the engine still sees the value without its first space, as
     * without it; the exact bytes are kept for DKIM */
    const char *shown = s->header_leadspc && value[0] == ' ' ? value + 1 : value;
    bool kept = engine_header(t, name, shown);
    if (kept && s->header_leadspc)
        txn_set_header_raw(t, value);
    if (!kept && !was_truncated) {
        const char *symbol = NULL;
        const char *limit = engine_header_limit_passed(t, &symbol);
        log_info("%s: header field %s not kept: %s passed; the fields checks read are still "
                 "kept, and the message gets %s", engine_queue_id(t), name, limit, symbol);
    }
    milter_put_simple(out, MILTER_REPLY_CONTINUE);
    return true;
}

/* The one handler that reads whether the MTA waits for its answer: without a reply (SMFIP_NR_EOH)
 * a decision at the end of headers is kept and answered at the end of the message. */
static void on_eoh(struct milter_session *s, struct milter_out *out)
{
    struct txn *t = s->t;
    if (t == NULL) {
        put_on_error(out);    /* with no reply agreed, the end of message answers */
        return;
    }
    pick_up_queue_id(s, t);
    enum action action = engine_eoh(t);
    if (milter_session_answers(s, MILTER_CMD_EOH)) {
        if (action != ACTION_NONE)
            s->in_data = false;    /* decided: the MTA ends the message (an abort may follow) */
        put_answer(out, t, action);
        return;
    }
    /* no reply now: a decision is answered at the end of the message (on_eom) */
    s->eoh_action = action == ACTION_QUARANTINE ? ACTION_NONE : action;
}

static void body_chunk(struct milter_session *s, const struct milter_packet *pkt)
{
    s->in_data = true;
    if (s->eoh_action == ACTION_NONE)
        engine_body(s->t, (const unsigned char *)pkt->data, pkt->len);
}

static void on_body(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    if (s->t == NULL) {
        put_on_error(out);
        return;
    }
    body_chunk(s, pkt);
    milter_put_simple(out, MILTER_REPLY_CONTINUE);
}

/* With SMFIP_HDR_LEADSPC the MTA also takes the values we add as they are: give them the space
 * after the colon that it would otherwise add itself. */
static char *added_value(const struct milter_session *s, const char *value)
{
    return xasprintf("%s%s", s->header_leadspc ? " " : "", value);
}

/* The verdict's header changes as modification packets; false when the MTA did not grant an
 * action one of them needs. */
static bool put_edits(const struct milter_session *s, struct milter_out *out,
    const struct verdict *v, const char *qid)
{
    bool ok = true;
    for (size_t i = 0; i < v->edit_count; i++) {
        const struct header_edit *e = &v->edits[i];
        uint32_t need = e->op == HEADER_DELETE ? MILTER_ACT_CHGHDRS : MILTER_ACT_ADDHDRS;
        if (!(s->actions & need) && s->negotiated) {
            log_err("%s: the MTA refused the header change of %s", qid, e->name);
            ok = false;
            continue;
        }
        char *value = e->op == HEADER_DELETE ? NULL : added_value(s, e->value);
        switch (e->op) {
        case HEADER_INSERT:
            milter_put_insheader(out, (uint32_t)e->index, e->name, value);
            break;
        case HEADER_APPEND:
            milter_put_addheader(out, e->name, value);
            break;
        case HEADER_DELETE:
            milter_put_chgheader(out, (uint32_t)e->index, e->name, NULL);
            break;
        }
        free(value);
    }
    return ok;
}

static void on_eom(struct milter_session *s, const struct milter_packet *pkt,
    struct milter_out *out)
{
    struct txn *t = s->t;
    if (t == NULL) {
        put_on_error(out);
        return;
    }
    if (pkt->len > 0)      /* the last body chunk may come with the end of the message */
        body_chunk(s, pkt);
    pick_up_queue_id(s, t);
    if (s->eoh_action != ACTION_NONE) {
        /* the end of headers decided (SMFIP_NR_EOH): its answer, as it would have been then */
        put_answer(out, t, s->eoh_action);
    } else {
        enum action action = engine_eom(t);
        const char *qid = engine_queue_id(t);
        if (action == ACTION_ACCEPT || action == ACTION_QUARANTINE) {
            size_t before = out->len;
            if (!put_edits(s, out, engine_verdict(t), qid)
                && engine_error_action(t) == ACTION_TEMPFAIL) {
                out->len = before;     /* no change of a message we tempfail */
                struct reply reply = {0};
                reply_complete(&reply, ACTION_TEMPFAIL);
                put_refusal(out, MILTER_REPLY_TEMPFAIL, &reply);
                goto done;
            }
            if (action == ACTION_QUARANTINE) {
                if (s->actions & MILTER_ACT_QUARANTINE)
                    milter_put_quarantine(out, engine_reply(t)->text);
                else
                    log_err("%s: the MTA refused to quarantine the message", qid);
            }
            milter_put_simple(out, MILTER_REPLY_CONTINUE);
        } else {
            put_answer(out, t, action);
        }
    }
done:
    s->eoh_action = ACTION_NONE;
    s->in_data = false;
    count_transaction(s, false);
    txn_reset(t);
}

/* A message that ends after its data began but before its end: the MTA's abort (the client
 * went away, an MTA limit) or a connection that ended (a protocol error, a lost connection, a
 * timeout; logged before this line). Say at least that the message got no verdict here. */
static void log_unfinished(const struct milter_session *s)
{
    log_msg(LOG_NOTICE, "%s: the message ended before its end of data, after %lu header field%s and "
               "%llu body bytes: aborted by the MTA or by a milter protocol error (a header "
               "field or packet over the %zu bytes we accept, a lost connection; the line "
               "before says which); no verdict from us",
        engine_queue_id(s->t), s->fields_seen, s->fields_seen == 1 ? "" : "s",
        (unsigned long long)engine_body_bytes(s->t), max_data_size);
}

static void on_abort(struct milter_session *s)
{
    macros_forget_from(s, MILTER_STAGE_MAIL);
    if (s->t == NULL)
        return;
    if (s->in_data)
        log_unfinished(s);
    s->in_data = false;
    s->eoh_action = ACTION_NONE;
    count_transaction(s, false);
    engine_abort(s->t);
}

struct milter_session *milter_session_new(void)
{
    return xcalloc(1, sizeof(struct milter_session));
}

bool milter_session_in_transaction(const struct milter_session *s)
{
    return s->counted;
}

/* The answer of a command that may be sent without a reply (in s->answer): sent where the MTA
 * waits for it (milter_session_answers). Where it does not, "continue" is dropped; any other
 * answer to connect or HELO (a reload, a shutdown, the connection limit) is held and given at
 * every MAIL (the first one held wins: a refusal at connect stands for the whole connection);
 * one to DATA, a header field or a body chunk (no transaction state) is dropped, as the end of
 * the message answers for the message. */
static void pass_on(struct milter_session *s, char command, struct milter_out *out)
{
    if (milter_session_answers(s, command)) {
        milter_out_append(out, &s->answer);
        return;
    }
    bool go_on = s->answer.len == 0
        || (s->answer.len == 5 && s->answer.data[4] == MILTER_REPLY_CONTINUE);
    bool early = command == MILTER_CMD_CONNECT || command == MILTER_CMD_HELO;
    if (!go_on && early && s->held.len == 0)
        milter_out_append(&s->held, &s->answer);
}

/* The commands the MTA may send without waiting for a reply: their handlers write their answer
 * into s->answer, and pass_on decides whether it goes out. */
static bool handle_maybe_unanswered(struct milter_session *s, struct milter_packet *pkt,
    struct milter_out *out)
{
    milter_out_clear(&s->answer);
    bool open = true;
    switch (pkt->command) {
    case MILTER_CMD_CONNECT:
        macros_forget_from(s, MILTER_STAGE_HELO);
        open = on_connect(s, pkt, &s->answer);
        break;
    case MILTER_CMD_HELO:
        open = on_helo(s, pkt, &s->answer);
        break;
    case MILTER_CMD_DATA:
        milter_put_simple(&s->answer, MILTER_REPLY_CONTINUE);
        break;
    case MILTER_CMD_HEADER:
        open = on_header(s, pkt, &s->answer);
        break;
    case MILTER_CMD_EOH:
        on_eoh(s, &s->answer);
        break;
    case MILTER_CMD_BODY:
        on_body(s, pkt, &s->answer);
        break;
    }
    if (open)
        pass_on(s, pkt->command, out);
    return open;
}

bool milter_session_handle(struct milter_session *s, struct milter_packet *pkt,
    struct milter_out *out)
{
    const char *why = NULL;
    struct milter_macros m;
    switch (pkt->command) {
    case MILTER_CMD_OPTNEG:
        return on_optneg(s, pkt, out);
    case MILTER_CMD_MACRO:
        if (!milter_decode_macros(pkt, &m, &why)) {
            protocol_error("milter protocol error: macros: %s", why);
            return false;
        }
        macros_store(s, &m);
        return true;
    case MILTER_CMD_CONNECT:
    case MILTER_CMD_HELO:
    case MILTER_CMD_DATA:
    case MILTER_CMD_HEADER:
    case MILTER_CMD_EOH:
    case MILTER_CMD_BODY:
        return handle_maybe_unanswered(s, pkt, out);
    case MILTER_CMD_MAIL:
        return on_mail(s, pkt, out);
    case MILTER_CMD_RCPT:
        return on_rcpt(s, pkt, out);
    case MILTER_CMD_UNKNOWN:
        milter_put_simple(out, MILTER_REPLY_CONTINUE);
        return true;
    case MILTER_CMD_BODYEOB:
        on_eom(s, pkt, out);
        return true;
    case MILTER_CMD_ABORT:
        on_abort(s);
        return true;
    case MILTER_CMD_QUIT_NC:       /* a new connection follows on this one */
        on_abort(s);
        end_connection(s);
        macros_forget_from(s, MILTER_STAGE_CONNECT);
        return true;
    case MILTER_CMD_QUIT:
        return false;
    }
    protocol_error("milter protocol error: command '%c' not handled", pkt->command);
    return false;
}

bool milter_session_answers(const struct milter_session *s, char command)
{
    switch (command) {
    case MILTER_CMD_MACRO:
    case MILTER_CMD_ABORT:
    case MILTER_CMD_QUIT:
    case MILTER_CMD_QUIT_NC:
        return false;
    case MILTER_CMD_CONNECT:
        return !(s->noreply_steps & MILTER_STEP_NR_CONN);
    case MILTER_CMD_HELO:
        return !(s->noreply_steps & MILTER_STEP_NR_HELO);
    case MILTER_CMD_DATA:
        return !(s->noreply_steps & MILTER_STEP_NR_DATA);
    case MILTER_CMD_HEADER:
        return !(s->noreply_steps & MILTER_STEP_NR_HDR);
    case MILTER_CMD_EOH:
        return !(s->noreply_steps & MILTER_STEP_NR_EOH);
    case MILTER_CMD_BODY:
        return !(s->noreply_steps & MILTER_STEP_NR_BODY);
    default:
        return true;
    }
}

void milter_session_end(struct milter_session *s)
{
    if (s->t != NULL && s->in_data)
        log_unfinished(s);
    end_connection(s);
    macros_forget_from(s, MILTER_STAGE_CONNECT);
    milter_out_free(&s->answer);
    milter_out_free(&s->held);
    free(s);
}
