/* milter.c - libmilter callbacks. Each callback turns what the MTA sent into an engine call and
 * the engine's answer into SMFIS_* plus smfi_setreply / smfi_insheader / smfi_chgheader /
 * smfi_quarantine. Copes with Postfix's and Sendmail's macro sets (the queue id shows up at
 * MAIL or only at DATA; auth names with and without realm), several transactions per
 * connection, aborts, connections without HELO, and non-SMTP submissions. An internal error
 * gives actions.on_error, never a silent loss. */
#include "milter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "milter_listener.h"
#include "stats.h"
#include "util.h"

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t counter_changed = PTHREAD_COND_INITIALIZER;
static unsigned connections_open;
static unsigned transactions_in_flight;
static bool shutting_down;          /* guarded by counter_lock */
static uint64_t shutdown_deadline_ms;

static void count_transaction(int delta)
{
    pthread_mutex_lock(&counter_lock);
    transactions_in_flight += delta;
    stats_transactions_add(delta);
    pthread_cond_broadcast(&counter_changed);
    pthread_mutex_unlock(&counter_lock);
}

/* What libmilter keeps for one connection: the engine's state, whether its current
 * transaction is counted as in flight (for a graceful stop), whether the connection is counted
 * against milter.max_connections, whether header values keep their leading space
 * (SMFIP_HDR_LEADSPC), the stages the MTA agreed to send without waiting for a reply
 * (SMFIP_NR_HDR, SMFIP_NR_EOH, SMFIP_NR_BODY), and the answer of the end of headers that
 * waits for the end of the message when the end of headers gets no reply.
 * mw_negotiate makes it, as it learns these. */
struct milter_conn {
    struct txn *t;
    bool counted;
    bool connection_counted;
    bool header_leadspc;      /* header values come with the space after the colon (DKIM) */
    unsigned long noreply_steps;
    enum action eoh_action;   /* with SMFIP_NR_EOH: what the end of headers decided */
    bool in_data;             /* header fields or body seen, end of message not yet */
    unsigned long fields_seen;  /* header fields the MTA sent in this transaction */
};

/* The largest milter packet libmilter reads (a header field, a body chunk): 256 KB, or 1 MB
 * when a header limit allows more than 256 KB. A bigger packet ends the session (libmilter
 * drops it). libmilter's default is 64 KB, less than one header field may be (Sendmail with a
 * large MaxHeadersLength; Postfix passes about 60 KB of a field); libmilter knows only these
 * sizes (mfdef.h MILTER_MDS_*). Set once at start (libmilter keeps it in a global). */
#define MILTER_DATA_256K ((256 * 1024) - 1)
#define MILTER_DATA_1M ((1024 * 1024) - 1)
static size_t milter_data_size;

static size_t max_data_size(const struct config *cfg)
{
    uint64_t widest = cfg->limits.max_header_bytes > cfg->limits.max_checked_header_bytes
        ? cfg->limits.max_header_bytes : cfg->limits.max_checked_header_bytes;
    return widest > MILTER_DATA_256K ? MILTER_DATA_1M : MILTER_DATA_256K;
}

/* The "go on" answer of a stage: SMFIS_NOREPLY where the MTA expects no reply (libmilter
 * would otherwise log an error and drop the reply). */
static sfsistat go_on(const struct milter_conn *c, unsigned long noreply_step)
{
    return c != NULL && (c->noreply_steps & noreply_step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void begin_transaction(struct milter_conn *c)
{
    if (!c->counted) {
        c->counted = true;
        count_transaction(+1);
    }
}

static void end_transaction(struct milter_conn *c)
{
    if (c->counted) {
        c->counted = false;
        count_transaction(-1);
    }
}

static sfsistat on_error(void)
{
    struct config *cfg = config_current();
    enum action action = cfg ? cfg->actions.on_error : ACTION_TEMPFAIL;
    config_release(cfg);
    stats_protocol_error();
    log_err("internal error: no transaction state for this connection; answering %s",
        action_name(action));
    return action == ACTION_ACCEPT ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
}

static void set_reply(SMFICTX *ctx, const struct reply *reply)
{
    char code[8], text[2 * sizeof reply->text];
    snprintf(code, sizeof code, "%d", reply->code);
    /* libmilter reads % as an escape; CR and LF are refused by the MTA */
    size_t o = 0;
    for (const char *p = reply->text; *p && o + 2 < sizeof text; p++) {
        if (*p == '%')
            text[o++] = '%';
        text[o++] = (*p == '\r' || *p == '\n') ? ' ' : *p;
    }
    text[o] = '\0';
    if (smfi_setreply(ctx, code, (char *)reply->dsn, text) != MI_SUCCESS)
        log_warn("the MTA did not take the reply \"%s %s %s\"", code, reply->dsn, text);
}

/* Maps a stage's answer to libmilter's. */
static sfsistat answer(SMFICTX *ctx, struct txn *t, enum action action)
{
    switch (action) {
    case ACTION_NONE:
        return SMFIS_CONTINUE;
    case ACTION_ACCEPT:
        return SMFIS_ACCEPT;
    case ACTION_REJECT:
        set_reply(ctx, &t->verdict.reply);
        return SMFIS_REJECT;
    case ACTION_TEMPFAIL:
        set_reply(ctx, &t->verdict.reply);
        return SMFIS_TEMPFAIL;
    case ACTION_DISCARD:
        return SMFIS_DISCARD;
    case ACTION_QUARANTINE:
        return SMFIS_CONTINUE;
    }
    return SMFIS_CONTINUE;
}

static bool is_shutting_down(void)
{
    pthread_mutex_lock(&counter_lock);
    bool stopping = shutting_down;
    pthread_mutex_unlock(&counter_lock);
    return stopping;
}

static void refuse_while_stopping(SMFICTX *ctx)
{
    smfi_setreply(ctx, "451", "4.3.2", "Mail filter restarting, try again later");
}

static struct milter_conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static struct txn *txn_of(SMFICTX *ctx)
{
    struct milter_conn *c = conn_of(ctx);
    return c ? c->t : NULL;
}

/* The queue id appears at MAIL (Sendmail, Postfix non-SMTP) or only from DATA (Postfix). */
static void pick_up_queue_id(SMFICTX *ctx, struct txn *t)
{
    if (t->queue_id != NULL)
        return;
    const char *qid = smfi_getsymval(ctx, "i");
    if (qid != NULL && *qid != '\0')
        t->queue_id = xstrdup(qid);
}

static bool sockaddr_to_ipaddr(const struct sockaddr *sa, struct ipaddr *out)
{
    char text[INET6_ADDRSTRLEN];
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text, sizeof text);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text, sizeof text);
    else
        return false;
    return ipaddr_parse(text, out);
}

static sfsistat mw_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
    unsigned long unused2, unsigned long unused3, unsigned long *want_actions,
    unsigned long *want_steps, unsigned long *want2, unsigned long *want3)
{
    (void)unused2;
    (void)unused3;
    unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
    if ((actions & need) != need) {
        log_err("the MTA does not offer header changes (actions 0x%lx): cannot add Authentication-Results", actions);
        stats_protocol_error();
        return SMFIS_REJECT;
    }
    *want_actions = need | (actions & (SMFIF_QUARANTINE | SMFIF_SETSYMLIST));
    /* steps we never use: unknown commands; header values with their leading space, which
     * DKIM's simple canonicalization signs. The DATA command is asked for although nothing
     * is done with it (libmilter answers "continue"): Postfix sends the DATA macros whether
     * or not it sends the command, and without the command nothing answers them, so the
     * headers that follow wait, under Nagle's algorithm on Postfix's socket, for our delayed
     * ACK (40 ms a message over TCP; docs/PERFORMANCE.md has the trace). Header fields and body
     * chunks never get an answer of their own (the engine only collects them; decisions come
     * at end of headers and end of message), so when the MTA offers it they are sent without
     * a reply: one round trip fewer per header field and per body chunk. The end of headers
     * too: what it decides (a reject, say) is answered at the end of the message instead,
     * which the SMTP client sees at the same moment (after its final dot either way). */
    unsigned long noreply = steps & (SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY);
    *want_steps = (steps & (SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC)) | noreply;
    struct milter_conn *c = xcalloc(1, sizeof *c);
    c->noreply_steps = noreply;
    c->header_leadspc = (steps & SMFIP_HDR_LEADSPC) != 0;
    smfi_setpriv(ctx, c);
    *want2 = 0;
    *want3 = 0;
    if (actions & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT, "j {daemon_name} {client_addr} {client_name} _");
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_type} {auth_authen} {mail_addr}");
        smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_addr}");
        smfi_setsymlist(ctx, SMFIM_EOH, "i");
        smfi_setsymlist(ctx, SMFIM_EOM, "i");
    }
    return SMFIS_CONTINUE;
}

static sfsistat mw_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct config *cfg = config_current();
    if (cfg == NULL)
        return on_error();
    pthread_mutex_lock(&counter_lock);
    bool stopping = shutting_down;
    bool too_many = connections_open >= cfg->milter.max_connections;
    if (!too_many && !stopping)
        connections_open++;
    pthread_mutex_unlock(&counter_lock);
    if (stopping) {
        config_release(cfg);
        refuse_while_stopping(ctx);
        return SMFIS_TEMPFAIL;
    }
    if (too_many) {
        log_warn("more than milter.max_connections (%u) connections: tempfail for %s",
            cfg->milter.max_connections, hostname ? hostname : "unknown");
        config_release(cfg);
        smfi_setreply(ctx, "421", "4.3.2", "Too many connections to the mail filter, try again later");
        return SMFIS_TEMPFAIL;
    }
    struct milter_conn *c = conn_of(ctx);
    if (c == NULL) {   /* an MTA without option negotiation */
        c = xcalloc(1, sizeof *c);
        smfi_setpriv(ctx, c);
    }
    c->connection_counted = true;
    stats_connection_open();
    struct txn *t = txn_new(cfg);
    c->t = t;
    const char *j = smfi_getsymval(ctx, "j");
    if (j != NULL)
        t->mta_hostname = xstrdup(j);
    struct ipaddr addr;
    bool have_addr = sockaddr_to_ipaddr((const struct sockaddr *)hostaddr, &addr);
    if (!have_addr) {
        /* Sendmail hands no address for local submissions; {client_addr} may still say */
        const char *macro = smfi_getsymval(ctx, "{client_addr}");
        have_addr = macro != NULL && ipaddr_parse(macro, &addr);
    }
    if (hostaddr != NULL && hostaddr->sa_family == AF_INET
        && ((const struct sockaddr_in *)(const void *)hostaddr)->sin_port == 0)
        t->non_smtp = true;
    return answer(ctx, t, engine_connect(t, hostname, have_addr ? &addr : NULL));
}

static sfsistat mw_helo(SMFICTX *ctx, char *helo)
{
    struct txn *t = txn_of(ctx);
    if (t == NULL)
        return on_error();
    return answer(ctx, t, engine_helo(t, helo));
}

static sfsistat mw_envfrom(SMFICTX *ctx, char **argv)
{
    struct milter_conn *c = conn_of(ctx);
    if (c == NULL || c->t == NULL)
        return on_error();
    struct txn *t = c->t;
    c->eoh_action = ACTION_NONE;
    c->in_data = false;
    c->fields_seen = 0;
    end_transaction(c);
    if (is_shutting_down()) {
        refuse_while_stopping(ctx);
        return SMFIS_TEMPFAIL;
    }
    char *sender = smtp_addr_strip(argv[0] ? argv[0] : "");
    const char *user = smfi_getsymval(ctx, "{auth_authen}");
    const char *method = smfi_getsymval(ctx, "{auth_type}");
    const char *qid = smfi_getsymval(ctx, "i");
    enum action action = engine_mail(t, qid, sender, user, method);
    free(sender);
    if (action == ACTION_NONE)
        begin_transaction(c);
    else
        end_transaction(c);
    pick_up_queue_id(ctx, t);
    return answer(ctx, t, action);
}

static sfsistat mw_envrcpt(SMFICTX *ctx, char **argv)
{
    struct txn *t = txn_of(ctx);
    if (t == NULL)
        return on_error();
    pick_up_queue_id(ctx, t);
    char *rcpt = smtp_addr_strip(argv[0] ? argv[0] : "");
    enum action action = engine_rcpt(t, rcpt);
    free(rcpt);
    return answer(ctx, t, action);
}

static sfsistat mw_header(SMFICTX *ctx, char *name, char *value)
{
    struct milter_conn *c = conn_of(ctx);
    sfsistat next = go_on(c, SMFIP_NR_HDR);
    struct txn *t = c ? c->t : NULL;
    if (t == NULL)
        return next == SMFIS_NOREPLY ? SMFIS_NOREPLY : on_error();
    c->in_data = true;
    c->fields_seen++;
    bool was_truncated = txn_headers_truncated(t);
    /* with SMFIP_HDR_LEADSPC the engine still sees the value without its first space, as
     * without it; the exact bytes are kept for DKIM */
    const char *shown = c->header_leadspc && value[0] == ' ' ? value + 1 : value;
    bool kept = engine_header(t, name, shown);
    if (kept && c->header_leadspc)
        txn_set_header_raw(t, value);
    if (!kept && !was_truncated)
        log_info("%s: header field %s not kept: %s passed; the fields checks read are still "
                 "kept, and the message gets %s", t->queue_id ? t->queue_id : "NOQUEUE", name,
            t->header_count_passed ? "limits.max_headers"
                : "limits.max_header_bytes or limits.max_checked_header_bytes",
            t->header_count_passed ? "HEADER_COUNT_LIMIT" : "HEADER_BYTES_LIMIT");
    return next;
}

static sfsistat mw_eoh(SMFICTX *ctx)
{
    struct txn *t = txn_of(ctx);
    if (t == NULL)
        return on_error();
    pick_up_queue_id(ctx, t);
    enum action action = engine_eoh(t);
    struct milter_conn *c = conn_of(ctx);
    if (go_on(c, SMFIP_NR_EOH) != SMFIS_NOREPLY) {
        if (action != ACTION_NONE)
            c->in_data = false;    /* decided: the MTA ends the message (an abort may follow) */
        return answer(ctx, t, action);
    }
    /* no reply now: a decision is answered at the end of the message (mw_eom) */
    c->eoh_action = action == ACTION_QUARANTINE ? ACTION_NONE : action;
    return SMFIS_NOREPLY;
}

static sfsistat mw_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    struct milter_conn *c = conn_of(ctx);
    sfsistat next = go_on(c, SMFIP_NR_BODY);
    struct txn *t = c ? c->t : NULL;
    if (t == NULL)
        return next == SMFIS_NOREPLY ? SMFIS_NOREPLY : on_error();
    c->in_data = true;
    if (c->eoh_action == ACTION_NONE)
        engine_body(t, data, len);
    return next;
}

/* With SMFIP_HDR_LEADSPC the MTA also takes the values we add as they are: give them the space
 * after the colon that it would otherwise add itself. */
static char *added_value(const struct milter_conn *c, const char *value)
{
    return xasprintf("%s%s", c->header_leadspc ? " " : "", value);
}

static bool apply_edits(SMFICTX *ctx, const struct verdict *v, const char *qid)
{
    const struct milter_conn *c = conn_of(ctx);
    bool ok = true;
    for (size_t i = 0; i < v->edit_count; i++) {
        const struct header_edit *e = &v->edits[i];
        int rc = MI_FAILURE;
        char *value = e->op == HEADER_DELETE ? NULL : added_value(c, e->value);
        switch (e->op) {
        case HEADER_INSERT:
            rc = smfi_insheader(ctx, e->index, e->name, value);
            break;
        case HEADER_APPEND:
            rc = smfi_addheader(ctx, e->name, value);
            break;
        case HEADER_DELETE:
            rc = smfi_chgheader(ctx, e->name, e->index, NULL);
            break;
        }
        free(value);
        if (rc != MI_SUCCESS) {
            log_err("%s: the MTA refused the header change of %s", qid, e->name);
            ok = false;
        }
    }
    return ok;
}

static sfsistat mw_eom(SMFICTX *ctx)
{
    struct milter_conn *c = conn_of(ctx);
    if (c == NULL || c->t == NULL)
        return on_error();
    sfsistat status;
    struct txn *t = c->t;
    pick_up_queue_id(ctx, t);
    if (c->eoh_action != ACTION_NONE) {
        /* the end of headers decided (SMFIP_NR_EOH): its answer, as it would have been then */
        status = answer(ctx, t, c->eoh_action);
        goto done;
    }
    enum action action = engine_eom(t);
    const char *qid = t->queue_id ? t->queue_id : "NOQUEUE";
    if (action == ACTION_ACCEPT || action == ACTION_QUARANTINE) {
        if (!apply_edits(ctx, &t->verdict, qid) && t->cfg->actions.on_error == ACTION_TEMPFAIL) {
            struct reply reply = {0};
            reply_complete(&reply, ACTION_TEMPFAIL);
            set_reply(ctx, &reply);
            status = SMFIS_TEMPFAIL;
            goto done;
        }
        if (action == ACTION_QUARANTINE
            && smfi_quarantine(ctx, t->verdict.reply.text) != MI_SUCCESS)
            log_err("%s: the MTA refused to quarantine the message", qid);
        status = SMFIS_CONTINUE;
    } else {
        status = answer(ctx, t, action);
    }
done:
    c->eoh_action = ACTION_NONE;
    c->in_data = false;
    end_transaction(c);
    txn_reset(t);
    return status;
}

/* A message that ends after its data began but before its end: libmilter calls the abort
 * callback alike for the MTA's abort (the client went away, an MTA limit) and for a session it
 * drops on a protocol error (a packet over max_data_size, a read error or timeout), and says
 * which only in its own syslog line; say at least that the message got no verdict here. */
static void log_unfinished(const struct milter_conn *c, const struct txn *t)
{
    log_msg(LOG_NOTICE, "%s: the message ended before its end of data, after %lu header field%s and "
               "%llu body bytes: aborted by the MTA or by a milter protocol error (a header "
               "field or packet over the %zu bytes libmilter accepts, a lost connection; "
               "libmilter logs which to syslog); no verdict from us",
        t->queue_id ? t->queue_id : "NOQUEUE", c->fields_seen, c->fields_seen == 1 ? "" : "s",
        (unsigned long long)t->body_bytes, milter_data_size);
}

static sfsistat mw_abort(SMFICTX *ctx)
{
    struct milter_conn *c = conn_of(ctx);
    if (c == NULL || c->t == NULL)
        return SMFIS_CONTINUE;
    if (c->in_data)
        log_unfinished(c, c->t);
    c->in_data = false;
    c->eoh_action = ACTION_NONE;
    end_transaction(c);
    engine_abort(c->t);
    return SMFIS_CONTINUE;
}

static sfsistat mw_close(SMFICTX *ctx)
{
    struct milter_conn *c = conn_of(ctx);
    if (c == NULL)
        return SMFIS_CONTINUE;
    end_transaction(c);
    smfi_setpriv(ctx, NULL);
    if (c->t != NULL) {
        engine_abort(c->t);
        txn_free(c->t);
    }
    bool counted = c->connection_counted;
    free(c);
    if (counted) {
        pthread_mutex_lock(&counter_lock);
        connections_open--;
        stats_connection_close();
        pthread_cond_broadcast(&counter_changed);
        pthread_mutex_unlock(&counter_lock);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter_description = {
    .xxfi_name = "mailwarden",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
    .xxfi_connect = mw_connect,
    .xxfi_helo = mw_helo,
    .xxfi_envfrom = mw_envfrom,
    .xxfi_envrcpt = mw_envrcpt,
    .xxfi_header = mw_header,
    .xxfi_eoh = mw_eoh,
    .xxfi_body = mw_body,
    .xxfi_eom = mw_eom,
    .xxfi_abort = mw_abort,
    .xxfi_close = mw_close,
    .xxfi_negotiate = mw_negotiate,
};

bool milter_setup(const struct config *cfg)
{
    char *conn = xstrdup(cfg->milter.socket);
    bool ok = smfi_setconn(conn) == MI_SUCCESS;
    if (!ok)
        log_err("libmilter does not accept the socket \"%s\"", conn);
    ok = ok && smfi_settimeout(cfg->milter.timeout_s) == MI_SUCCESS;
    ok = ok && smfi_setbacklog(cfg->milter.backlog) == MI_SUCCESS;
    if (ok) {
        milter_data_size = max_data_size(cfg);
        size_t old = smfi_setmaxdatasize(milter_data_size);
        log_debug("libmilter reads packets of up to %zu bytes (was %zu)", milter_data_size, old);
    }
    if (ok && smfi_register(filter_description) != MI_SUCCESS) {
        log_err("smfi_register failed");
        ok = false;
    }
    /* daemon_claim_unix_socket removed a stale socket; whatever is there now is not ours to
     * remove. A unix socket gets its mode from the umask at bind: no chmod of a path later. */
    mode_t old_umask = umask(~cfg->milter.socket_mode & 0777);
    if (ok && smfi_opensocket(0) != MI_SUCCESS) {
        log_err("cannot listen on %s: %s (is another mailwarden or milter running there?)",
            conn, strerror(errno));
        ok = false;
    }
    umask(old_umask);
    if (ok && milter_listener_nodelay(conn) == 0)
        log_warn("TCP_NODELAY could not be set on the listening socket %s: replies with header "
                 "changes may wait for the MTA's delayed ACK", conn);
    free(conn);
    return ok;
}

bool milter_run(void)
{
    return smfi_main() == MI_SUCCESS;
}

/* Waits for the transactions in flight, then stops libmilter's loop. Debian's libmilter
 * serves sessions from a worker pool that stops with the loop, so the loop must not be
 * stopped while a transaction is still going. */
static void *drain_then_stop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&counter_lock);
    while (transactions_in_flight > 0 && now_ms() < shutdown_deadline_ms) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&counter_changed, &counter_lock, &ts);
    }
    unsigned left = transactions_in_flight;
    pthread_mutex_unlock(&counter_lock);
    if (left > 0)
        log_warn("%u transaction%s still in flight after milter.shutdown_grace; the MTA keeps "
                 "or retries them", left, left == 1 ? "" : "s");
    else
        log_info("no transaction in flight: stopping");
    smfi_stop();
    return NULL;
}

void milter_shutdown(uint64_t grace_ms)
{
    pthread_mutex_lock(&counter_lock);
    bool already = shutting_down;
    shutting_down = true;
    shutdown_deadline_ms = now_ms() + grace_ms;
    unsigned n = transactions_in_flight;
    pthread_mutex_unlock(&counter_lock);
    if (already)
        return;
    log_info("new connections and transactions get 451 4.3.2 from now on; waiting for %u in flight (at most %llu ms)",
        n, (unsigned long long)grace_ms);
    pthread_t tid;
    if (pthread_create(&tid, NULL, drain_then_stop, NULL) != 0) {
        log_err("cannot start the shutdown thread: stopping now");
        smfi_stop();
        return;
    }
    pthread_detach(tid);
}
