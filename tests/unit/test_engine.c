/* test_engine.c - the engine driven the way milter.c drives it (engine_connect, _helo, _mail,
 * _rcpt, _header, _eoh, _body, _eom, _abort, then txn_reset), with policies written to the
 * policy fixture's temporary directory, loaded with config_load and made current with
 * config_install, so that engine_mail's refresh of the configuration is exercised. Covers: refusals at connect, HELO,
 * MAIL and RCPT with the configured replies (a refused recipient leaves the others and the
 * message alone; all refused gives a summary at abort); allow lists stop later checks; skip,
 * internal, trusted and SASL clients; quarantine forced early and applied at the end; score thresholds
 * and X-Spam-* headers; symbol overrides; forged Authentication-Results removed in descending
 * order and ours inserted on top; several transactions on one connection with a reload between
 * them; header, body and recipient limits; NUL and 8-bit bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "policy_fixture.h"

/* Every policy starts with this: an internal and a skipped network, and (in BASE) our
 * authserv-id. libconfig refuses a section given twice in one file. */
#define NETWORKS "networks: { internal = [ \"10.0.0.0/8\" ]; skip = [ \"192.0.2.99\" ] }\n"
#define BASE "authres: { authserv_id = \"mw.test\" }\n" NETWORKS SPAM_OFF
/* the native spam checks (issue 6) would add their own symbols to these bare test messages */
#define SPAM_OFF "spam: { enabled = false }\n"

#define INBOUND_IP "198.51.100.1"

static struct txn *t;           /* the connection under test (the fixture's) */

/* --- helpers ------------------------------------------------------------------------------ */

/* A new connection on the configuration in force (as mw_connect does). */
static void new_connection(void)
{
    t = fixture_connection();
}

/* Installs a policy (a reload) and opens a new connection on it. */
static void start(const char *text)
{
    config_install(fixture_load_ok(text));   /* the old connection keeps its policy */
    new_connection();
}

static enum action connect_from(const char *ip)
{
    struct ipaddr a;
    assert_true(ipaddr_parse(ip, &a));
    return engine_connect(t, "client.example", &a);
}

/* Connect from an inbound address and say HELO; both must pass. */
static void inbound_connection(void)
{
    new_connection();
    assert_int_equal(connect_from(INBOUND_IP), ACTION_NONE);
    assert_int_equal(engine_helo(t, "client.example"), ACTION_NONE);
}

static enum action mail_from(const char *sender)
{
    return engine_mail(t, config_current(), "QID1", sender, NULL, NULL);
}

/* Headers, end of headers, a body and the end of the message; returns the final action. */
static enum action send_message(void)
{
    engine_header(t, "From", "<sender@example.com>");
    engine_header(t, "To", "<alice@example.org>");
    engine_header(t, "Subject", "test");
    assert_int_equal(engine_eoh(t), ACTION_NONE);
    static const unsigned char body[] = "Hello.\r\n";
    engine_body(t, body, sizeof body - 1);
    return engine_eom(t);
}

static bool has_symbol(const char *symbol)
{
    for (size_t i = 0; i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, symbol) == 0)
            return true;
    }
    return false;
}

/* The n-th (0-based) edit of this kind on this header name, or NULL. */
static const struct header_edit *find_edit(enum header_op op, const char *name, size_t n)
{
    for (size_t i = 0; i < t->verdict.edit_count; i++) {
        const struct header_edit *e = &t->verdict.edits[i];
        if (e->op == op && strcasecmp(e->name, name) == 0 && n-- == 0)
            return e;
    }
    return NULL;
}

/* The value of the first edit of this kind on this header name, which must exist. */
static const char *edit_value(enum header_op op, const char *name)
{
    const struct header_edit *e = find_edit(op, name, 0);
    if (e == NULL)
        fail_msg("no edit of %s", name);
    return e->value;
}

static void assert_reply(int code, const char *dsn, const char *text)
{
    assert_int_equal(t->verdict.reply.code, code);
    assert_string_equal(t->verdict.reply.dsn, dsn);
    assert_string_equal(t->verdict.reply.text, text);
}

/* Runs engine_abort with the log going to a temporary file; returns what was logged. */
static void abort_and_capture_log(char *out, size_t size)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    log_open("test_engine", LOG_MAIL, true, false);
    engine_abort(t);
    log_open("test_engine", LOG_MAIL, false, false);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, size - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" not found in: %s", needle, haystack);
}

/* --- refusals at each stage ---------------------------------------------------------------- */

static void test_client_rule_rejects_at_connect(void **state)
{
    (void)state;
    start(BASE
        "access = ( { name = \"bad-clients\"; match = \"client\"; values = [ \"203.0.113.0/24\" ];\n"
        "  action = \"reject\"; reply = \"554 5.7.1 Your network is blocked\" } )\n");
    assert_int_equal(connect_from("203.0.113.5"), ACTION_REJECT);
    assert_reply(554, "5.7.1", "Your network is blocked");
    assert_string_equal(t->verdict.decided_by, "ACCESS_BAD_CLIENTS");
    assert_true(has_symbol("ACCESS_BAD_CLIENTS"));
    assert_int_equal(t->conn_result_count, t->result_count);

    /* an MTA that goes on anyway gets the same answer for every transaction */
    assert_int_equal(mail_from("someone@example.com"), ACTION_REJECT);
    assert_reply(554, "5.7.1", "Your network is blocked");

    new_connection();
    assert_int_equal(connect_from("::ffff:203.0.113.200"), ACTION_REJECT);
    new_connection();
    assert_int_equal(connect_from("203.0.114.1"), ACTION_NONE);
    assert_false(has_symbol("ACCESS_BAD_CLIENTS"));
}

static void test_helo_tempfail(void **state)
{
    (void)state;
    start(BASE
        "access = (\n"
        "  { name = \"slow-helo\"; match = \"helo\"; values = [ \"tempfail.test\", \".dyn.example\" ];\n"
        "    action = \"tempfail\"; reply = \"451 4.7.1 Come back later\" },\n"
        "  { name = \"plain-helo\"; match = \"helo\"; values = [ \"other.test\" ]; action = \"tempfail\" }\n"
        ")\n");
    new_connection();
    assert_int_equal(connect_from(INBOUND_IP), ACTION_NONE);
    assert_int_equal(engine_helo(t, "TempFail.Test"), ACTION_TEMPFAIL);
    assert_reply(451, "4.7.1", "Come back later");
    assert_string_equal(t->verdict.decided_by, "ACCESS_SLOW_HELO");

    new_connection();
    connect_from(INBOUND_IP);
    assert_int_equal(engine_helo(t, "host.dyn.example"), ACTION_TEMPFAIL);

    new_connection();
    connect_from(INBOUND_IP);
    assert_int_equal(engine_helo(t, "dyn.example"), ACTION_NONE);   /* not a subdomain */

    new_connection();
    connect_from(INBOUND_IP);
    assert_int_equal(engine_helo(t, "other.test"), ACTION_TEMPFAIL);
    assert_reply(451, "4.7.1", "Service temporarily unavailable, try again later");
}

static void test_sender_rejected_at_mail(void **state)
{
    (void)state;
    start(BASE
        "access = (\n"
        "  { name = \"blocked-senders\"; match = \"sender\"; values = [ \"@spam.example\" ];\n"
        "    action = \"reject\"; reply = \"550 5.7.1 Sender blocked\" },\n"
        "  { name = \"null-sender\"; match = \"sender\"; values = [ \"<>\" ] }\n"
        ")\n");
    inbound_connection();
    assert_int_equal(mail_from("someone@SPAM.example"), ACTION_REJECT);
    assert_reply(550, "5.7.1", "Sender blocked");
    assert_string_equal(t->verdict.decided_by, "ACCESS_BLOCKED_SENDERS");
    assert_int_equal(t->rcpt_count, 0);      /* decided before any recipient or body */
    assert_int_equal(t->body_bytes, 0);
    engine_abort(t);

    assert_int_equal(mail_from(""), ACTION_REJECT);    /* rule without reply: the default */
    assert_reply(550, "5.7.1", "Rejected by policy");
    engine_abort(t);

    assert_int_equal(mail_from("good@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_false(has_symbol("ACCESS_BLOCKED_SENDERS"));
}

/* Access values take the pattern language: "*.spam.example" for the subdomains (before, only
 * ".spam.example" meant them here: the DKIM spelling matched nothing), "!" leaves one address
 * out, and the first pattern that matches decides. */
static void test_access_values_take_patterns(void **state)
{
    (void)state;
    start(BASE
        "access = ( { name = \"blocked\"; match = \"sender\";\n"
        "  values = [ \"!ok@mx.spam.example\", \"*.spam.example\" ]; action = \"reject\" } )\n");
    inbound_connection();
    assert_int_equal(mail_from("someone@mx.spam.example"), ACTION_REJECT);
    assert_string_equal(t->verdict.decided_by, "ACCESS_BLOCKED");
    engine_abort(t);
    inbound_connection();
    assert_int_equal(mail_from("ok@mx.spam.example"), ACTION_NONE);
    engine_abort(t);
    inbound_connection();
    assert_int_equal(mail_from("someone@spam.example"), ACTION_NONE);   /* not a subdomain */
    engine_abort(t);
}

static void test_recipient_refused_alone(void **state)
{
    (void)state;
    start(BASE
        "access = (\n"
        "  { name = \"no-such-user\"; match = \"recipient\"; values = [ \"nobody@example.org\" ];\n"
        "    action = \"reject\"; score = 100.0; reply = \"550 5.1.1 No such user\" },\n"
        "  { name = \"slow-domain\"; match = \"recipient_domain\"; values = [ \"slow.example\" ];\n"
        "    action = \"tempfail\"; score = 100.0 }\n"
        ")\n");
    inbound_connection();
    assert_int_equal(mail_from("sender@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "Nobody@Example.ORG"), ACTION_REJECT);
    assert_reply(550, "5.1.1", "No such user");
    assert_int_equal(engine_rcpt(t, "carol@slow.example"), ACTION_TEMPFAIL);
    assert_int_equal(t->verdict.reply.code, 451);
    assert_int_equal(engine_rcpt(t, "bob@example.org"), ACTION_NONE);

    assert_int_equal(t->rcpt_count, 2);
    assert_string_equal(t->rcpts[0], "alice@example.org");
    assert_string_equal(t->rcpts[1], "bob@example.org");
    assert_int_equal(t->rcpt_rejected, 2);

    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_true(t->verdict.score == 0.0);       /* the refused recipients' scores are gone */
    assert_false(has_symbol("ACCESS_NO_SUCH_USER"));
    assert_false(has_symbol("ACCESS_SLOW_DOMAIN"));
}

static void test_all_recipients_refused_then_abort(void **state)
{
    (void)state;
    start(BASE
        "access = ( { name = \"no-such-user\"; match = \"recipient\";\n"
        "  values = [ \"nobody@example.org\", \"@gone.example\" ];\n"
        "  action = \"reject\"; reply = \"550 5.1.1 No such user\" } )\n");
    inbound_connection();
    assert_int_equal(mail_from("sender@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "nobody@example.org"), ACTION_REJECT);
    assert_int_equal(engine_rcpt(t, "x@gone.example"), ACTION_REJECT);
    assert_int_equal(t->rcpt_count, 0);

    char log[8192];
    abort_and_capture_log(log, sizeof log);   /* the MTA ends the transaction */
    assert_contains(log, "from=<sender@example.com> rcpts=0 rcpts_refused=2");
    assert_contains(log, "action=reject stage=rcpt");
    assert_contains(log, "reply=\"550 5.1.1 No such user\"");
    assert_contains(log, "symbols=-");
    assert_non_null(strchr(log, '\n'));
    assert_string_equal(strchr(log, '\n'), "\n");                  /* one line */

    /* the transaction is gone, the connection stays */
    assert_false(t->in_txn);
    assert_null(t->sender);
    assert_int_equal(t->rcpt_rejected, 0);
    assert_string_equal(t->client_ip, INBOUND_IP);
    assert_string_equal(t->helo, "client.example");

    /* an abort without refused recipients logs nothing */
    assert_int_equal(mail_from("sender@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    abort_and_capture_log(log, sizeof log);
    assert_string_equal(log, "");
}

/* --- allow lists and client classes ------------------------------------------------------- */

static void test_accept_rule_stops_later_checks(void **state)
{
    (void)state;
    start(BASE
        "access = (\n"
        "  { name = \"partner\"; match = \"sender\"; values = [ \"boss@partner.example\" ]; action = \"accept\" },\n"
        "  { name = \"deny-partner\"; match = \"sender_domain\"; values = [ \"partner.example\" ] },\n"
        "  { name = \"deny-rcpt\"; match = \"recipient_domain\"; values = [ \"example.org\" ] }\n"
        ")\n"
        "actions: { add_header = 5.0 }\n");
    inbound_connection();
    assert_int_equal(mail_from("boss@partner.example"), ACTION_NONE);
    assert_true(t->allowed);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);   /* deny-rcpt skipped */
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_true(has_symbol("ACCESS_PARTNER"));
    assert_false(has_symbol("ACCESS_DENY_PARTNER"));
    assert_false(has_symbol("ACCESS_DENY_RCPT"));
    assert_non_null(find_edit(HEADER_INSERT, "Authentication-Results", 0));
    txn_reset(t);

    /* the allow list held for that transaction only: the deny rules are live */
    assert_false(t->allowed);
    assert_int_equal(mail_from("other@partner.example"), ACTION_REJECT);
    assert_string_equal(t->verdict.decided_by, "ACCESS_DENY_PARTNER");
    engine_abort(t);
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_REJECT);
}

static void test_client_allow_list_holds_for_the_connection(void **state)
{
    (void)state;
    start(BASE
        "access = (\n"
        "  { name = \"friends\"; match = \"client\"; values = [ \"198.51.100.50\" ]; action = \"accept\" },\n"
        "  { name = \"deny\"; match = \"sender\"; values = [ \"@spam.example\" ] }\n"
        ")\n");
    new_connection();
    assert_int_equal(connect_from("198.51.100.50"), ACTION_NONE);
    assert_true(t->conn_allowed);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mail_from("x@spam.example"), ACTION_NONE);
        assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
        assert_int_equal(send_message(), ACTION_ACCEPT);
        assert_false(has_symbol("ACCESS_DENY"));
        txn_reset(t);
    }
}

static void test_skip_network(void **state)
{
    (void)state;
    start(BASE
        "access = ( { name = \"deny-net\"; match = \"client\"; values = [ \"192.0.2.0/24\" ] } )\n");
    new_connection();
    assert_int_equal(connect_from("192.0.2.99"), ACTION_ACCEPT);   /* left alone */
    assert_true(t->client_flags & CLIENT_SKIP);

    new_connection();
    assert_int_equal(connect_from("192.0.2.98"), ACTION_REJECT);
    assert_false(t->client_flags & CLIENT_SKIP);
}

static void test_internal_network(void **state)
{
    (void)state;
    start(BASE "actions: { add_header = 1.0 }\n");
    new_connection();
    assert_int_equal(connect_from("10.1.2.3"), ACTION_NONE);
    assert_true(t->client_flags & CLIENT_INTERNAL);
    assert_false(t->client_flags & (CLIENT_SKIP | CLIENT_TRUSTED));
    assert_true(has_symbol("NETWORK_INTERNAL"));
    assert_true(txn_is_outbound(t));

    assert_int_equal(engine_helo(t, "laptop.internal"), ACTION_NONE);
    assert_int_equal(mail_from("user@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "someone@example.net"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_true(has_symbol("NETWORK_INTERNAL"));     /* a connection result, carried over */
    /* outbound with no result to state: no useless "mw.test; none" */
    assert_null(find_edit(HEADER_INSERT, "Authentication-Results", 0));
    assert_null(find_edit(HEADER_APPEND, "X-Spam-Score", 0));   /* outbound: no spam headers */

    new_connection();
    assert_int_equal(connect_from("11.1.2.3"), ACTION_NONE);
    assert_false(t->client_flags & CLIENT_INTERNAL);
    assert_false(txn_is_outbound(t));
}

static void test_sasl_user_is_outbound(void **state)
{
    (void)state;
    start(BASE);
    inbound_connection();
    assert_false(txn_is_outbound(t));
    assert_int_equal(engine_mail(t, config_current(), NULL, "alice@example.com", "alice", "PLAIN"), ACTION_NONE);
    assert_true(txn_is_outbound(t));
    assert_string_equal(t->sasl_user, "alice");
    assert_string_equal(t->sasl_method, "PLAIN");
    assert_null(t->queue_id);
    assert_true(has_symbol("AUTHENTICATED"));
    assert_int_equal(engine_rcpt(t, "bob@example.net"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_null(find_edit(HEADER_APPEND, "X-Spam-Score", 0));
    txn_reset(t);

    /* the next transaction on the connection is not authenticated */
    assert_int_equal(engine_mail(t, config_current(), "", "x@example.com", "", ""), ACTION_NONE);
    assert_null(t->sasl_user);
    assert_false(txn_is_outbound(t));
    assert_false(has_symbol("AUTHENTICATED"));
    assert_int_equal(engine_rcpt(t, "bob@example.net"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_non_null(find_edit(HEADER_APPEND, "X-Spam-Score", 0));
}

static void test_trusted_relay_not_refused_by_score(void **state)
{
    (void)state;
    start("authres: { authserv_id = \"mw.test\" }\n" SPAM_OFF
        "networks: { trusted = [ \"192.0.2.0/28\" ] }\n"
        "actions: { add_header = 5.0; quarantine = 8.0; reject = 15.0 }\n"
        "access = ( { name = \"spammy\"; match = \"sender_domain\"; values = [ \"spam.example\" ];\n"
        "  action = \"score\"; score = 20.0 } )\n");
    new_connection();
    assert_int_equal(connect_from("192.0.2.5"), ACTION_NONE);
    assert_true(t->client_flags & CLIENT_TRUSTED);
    assert_true(has_symbol("NETWORK_TRUSTED"));
    assert_false(txn_is_outbound(t));               /* trusted is still inbound mail */
    assert_int_equal(mail_from("x@spam.example"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_true(t->verdict.score == 20.0);

    /* the same message from an untrusted client is refused */
    new_connection();
    assert_int_equal(connect_from("192.0.2.16"), ACTION_NONE);
    assert_false(t->client_flags & CLIENT_TRUSTED);
    assert_int_equal(mail_from("x@spam.example"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_REJECT);
}

static void test_connection_without_address(void **state)
{
    (void)state;
    start(BASE);
    new_connection();
    assert_int_equal(engine_connect(t, NULL, NULL), ACTION_NONE);
    assert_string_equal(t->client_ip, "unknown");
    assert_string_equal(t->client_name, "unknown");
    assert_int_equal(t->client_flags, 0);
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "bob@example.net"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
}

/* --- quarantine ---------------------------------------------------------------------------- */

static void test_quarantine_forced_at_mail_waits_for_eom(void **state)
{
    (void)state;
    start(BASE
        "access = ( { name = \"held\"; match = \"sender\"; values = [ \"@held.example\" ];\n"
        "  action = \"quarantine\"; reply = \"Suspicious sender\" } )\n");
    inbound_connection();
    assert_int_equal(mail_from("x@held.example"), ACTION_NONE);
    assert_int_equal(t->pending, ACTION_QUARANTINE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_QUARANTINE);
    assert_int_equal(t->verdict.action, ACTION_QUARANTINE);
    assert_string_equal(t->verdict.reply.text, "Suspicious sender");
    assert_string_equal(t->verdict.decided_by, "ACCESS_HELD");
    /* a quarantined message is delivered to the hold queue, with our headers */
    const struct header_edit *e = find_edit(HEADER_INSERT, "Authentication-Results", 0);
    assert_non_null(e);
    assert_int_equal(e->index, 0);
    assert_string_equal(e->value, "mw.test; none");
    assert_non_null(find_edit(HEADER_APPEND, "X-Spam-Score", 0));
}

static void test_quarantine_without_reply_gives_configured_reason(void **state)
{
    (void)state;
    start(BASE
        "actions: { quarantine_reply = \"Held by the test policy\" }\n"
        "access = ( { name = \"held\"; match = \"sender\"; values = [ \"@held.example\" ];\n"
        "  action = \"quarantine\" } )\n");
    inbound_connection();
    assert_int_equal(mail_from("x@held.example"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_QUARANTINE);
    /* milter.c hands this text to smfi_quarantine as the reason */
    assert_string_equal(t->verdict.reply.text, "Held by the test policy");
}

static void test_client_quarantine_at_connect_applies_at_eom(void **state)
{
    (void)state;
    start(BASE
        "access = ( { name = \"held-net\"; match = \"client\"; values = [ \"203.0.113.0/24\" ];\n"
        "  action = \"quarantine\"; reply = \"Held: client network\" } )\n");
    new_connection();
    assert_int_equal(connect_from("203.0.113.9"), ACTION_NONE);
    assert_int_equal(engine_helo(t, "client.example"), ACTION_NONE);
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_QUARANTINE);
    assert_string_equal(t->verdict.reply.text, "Held: client network");
}

/* --- scores -------------------------------------------------------------------------------- */

#define SCORE_POLICY BASE \
    "actions: { add_header = 5.0; quarantine = 8.0; tempfail = 10.0; reject = 15.0;\n" \
    "  reject_reply = \"550 5.7.1 Spam score too high\";\n" \
    "  tempfail_reply = \"451 4.7.1 Score says later\";\n" \
    "  quarantine_reply = \"Score says hold\" }\n" \
    "access = (\n" \
    "  { name = \"s3\"; match = \"sender_domain\"; values = [ \"s3.example\" ]; action = \"score\"; score = 3.0 },\n" \
    "  { name = \"s5\"; match = \"sender_domain\"; values = [ \"s5.example\" ]; action = \"score\"; score = 5.0 },\n" \
    "  { name = \"s8\"; match = \"sender_domain\"; values = [ \"s8.example\" ]; action = \"score\"; score = 8.0 },\n" \
    "  { name = \"s10\"; match = \"sender_domain\"; values = [ \"s10.example\" ]; action = \"score\"; score = 10.0 },\n" \
    "  { name = \"s15\"; match = \"sender_domain\"; values = [ \"s15.example\" ]; action = \"score\"; score = 15.0 },\n" \
    "  { name = \"mild\"; match = \"sender_domain\"; values = [ \"mild.example\" ]; action = \"score\"; score = 1.0 },\n" \
    "  { name = \"loud\"; match = \"sender_domain\"; values = [ \"loud.example\" ]; action = \"score\"; score = 1.0 }\n" \
    ")\n"

/* One inbound message from sender; returns the final action. */
static enum action message_from(const char *sender)
{
    inbound_connection();
    assert_int_equal(mail_from(sender), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    return send_message();
}

static void test_score_below_add_header(void **state)
{
    (void)state;
    start(SCORE_POLICY);
    assert_int_equal(message_from("x@s3.example"), ACTION_ACCEPT);
    assert_true(t->verdict.score == 3.0);
    assert_null(find_edit(HEADER_APPEND, "X-Spam-Flag", 0));
    const struct header_edit *e = find_edit(HEADER_APPEND, "X-Spam-Score", 0);
    assert_non_null(e);
    assert_string_equal(e->value, "3.0");
    e = find_edit(HEADER_APPEND, "X-Spam-Status", 0);
    assert_non_null(e);
    assert_string_equal(e->value, "No, score=3.0 required=5.0 tests=ACCESS_S3=3.0");

    assert_int_equal(message_from("x@example.com"), ACTION_ACCEPT);
    e = find_edit(HEADER_APPEND, "X-Spam-Status", 0);
    assert_non_null(e);
    assert_string_equal(e->value, "No, score=0.0 required=5.0 tests=none");
}

static void test_score_at_add_header(void **state)
{
    (void)state;
    start(SCORE_POLICY);
    assert_int_equal(message_from("x@s5.example"), ACTION_ACCEPT);
    const struct header_edit *e = find_edit(HEADER_APPEND, "X-Spam-Flag", 0);
    assert_non_null(e);
    assert_string_equal(e->value, "YES");
    assert_string_equal(edit_value(HEADER_APPEND, "X-Spam-Status"),
        "Yes, score=5.0 required=5.0 tests=ACCESS_S5=5.0");
}

static void test_score_quarantine(void **state)
{
    (void)state;
    start(SCORE_POLICY);
    assert_int_equal(message_from("x@s8.example"), ACTION_QUARANTINE);
    assert_string_equal(t->verdict.reply.text, "Score says hold");
    assert_string_equal(t->verdict.decided_by, "score");
    assert_non_null(find_edit(HEADER_APPEND, "X-Spam-Flag", 0));
    assert_non_null(find_edit(HEADER_INSERT, "Authentication-Results", 0));
}

static void test_score_tempfail(void **state)
{
    (void)state;
    start(SCORE_POLICY);
    assert_int_equal(message_from("x@s10.example"), ACTION_TEMPFAIL);
    assert_reply(451, "4.7.1", "Score says later");
    assert_string_equal(t->verdict.decided_by, "score");
    assert_int_equal(t->verdict.edit_count, 0);      /* a refused message gets no edits */
}

static void test_score_reject(void **state)
{
    (void)state;
    start(SCORE_POLICY);
    assert_int_equal(message_from("x@s15.example"), ACTION_REJECT);
    assert_reply(550, "5.7.1", "Spam score too high");
    assert_true(t->verdict.score == 15.0);
    assert_int_equal(t->verdict.edit_count, 0);
}

static void test_symbol_override(void **state)
{
    (void)state;
    start(SCORE_POLICY
        "symbols: {\n"
        "  ACCESS_MILD: { score = 20.0 }\n"
        "  ACCESS_LOUD: { action = \"reject\"; reply = \"550 5.7.0 Overridden\" }\n"
        "  ACCESS_S15: { score = 0.5 }\n"
        "}\n");
    assert_int_equal(message_from("x@mild.example"), ACTION_REJECT);    /* score 1 -> 20 */
    assert_true(t->verdict.score == 20.0);
    assert_string_equal(t->verdict.decided_by, "score");

    inbound_connection();
    assert_int_equal(mail_from("x@loud.example"), ACTION_REJECT);      /* score -> reject */
    assert_reply(550, "5.7.0", "Overridden");
    assert_string_equal(t->verdict.decided_by, "ACCESS_LOUD");

    assert_int_equal(message_from("x@s15.example"), ACTION_ACCEPT);     /* 15 -> 0.5 */
    assert_true(t->verdict.score == 0.5);
}

/* --- Authentication-Results ---------------------------------------------------------------- */

static void send_authres_headers(void)
{
    engine_header(t, "Authentication-Results", "mw.test; spf=pass smtp.mailfrom=x");    /* 1 */
    engine_header(t, "Received", "from somewhere");
    engine_header(t, "Authentication-Results", "other.example; dkim=pass");             /* 2 */
    engine_header(t, "authentication-results", "(forged) MW.TEST 1; none");             /* 3 */
    engine_header(t, "Authentication-Results", "mw.test.evil; spf=pass");               /* 4 */
    engine_header(t, "Authentication-Results", "\"mw.test\"; dmarc=pass");              /* 5 */
}

static void test_forged_authres_removed_ours_inserted(void **state)
{
    (void)state;
    start(BASE);
    inbound_connection();
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    send_authres_headers();
    assert_int_equal(send_message(), ACTION_ACCEPT);

    /* deleted last to first, so each index still names the same field; foreign ones kept */
    const struct header_edit *d0 = find_edit(HEADER_DELETE, "Authentication-Results", 0);
    const struct header_edit *d1 = find_edit(HEADER_DELETE, "Authentication-Results", 1);
    const struct header_edit *d2 = find_edit(HEADER_DELETE, "Authentication-Results", 2);
    assert_non_null(d0);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_null(find_edit(HEADER_DELETE, "Authentication-Results", 3));
    assert_int_equal(d0->index, 5);
    assert_int_equal(d1->index, 3);
    assert_int_equal(d2->index, 1);
    assert_null(d0->value);

    /* ours on top, after the deletions (inserting first would shift the indexes) */
    const struct header_edit *ins = find_edit(HEADER_INSERT, "Authentication-Results", 0);
    assert_non_null(ins);
    assert_null(find_edit(HEADER_INSERT, "Authentication-Results", 1));
    assert_int_equal(ins->index, 0);
    assert_string_equal(ins->value, "mw.test; none");
    assert_true(ins > d2);
}

/* Without authres.authserv_id the id is the MTA's own name (macro j), not this host's short
 * name: forged fields are recognised by it and ours carries it. A set id always wins. */
static void test_authserv_id_defaults_to_the_mta_name(void **state)
{
    (void)state;
    start(NETWORKS SPAM_OFF);
    new_connection();
    t->mta_hostname = strdup("mx1.mta.example");
    assert_int_equal(connect_from(INBOUND_IP), ACTION_NONE);
    assert_int_equal(engine_helo(t, "client.example"), ACTION_NONE);
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    engine_header(t, "Authentication-Results", "mx1.mta.example; spf=pass smtp.mailfrom=x");
    engine_header(t, "Authentication-Results", "mw.test; spf=pass smtp.mailfrom=x");
    assert_int_equal(send_message(), ACTION_ACCEPT);
    const struct header_edit *d0 = find_edit(HEADER_DELETE, "Authentication-Results", 0);
    assert_non_null(d0);
    assert_int_equal(d0->index, 1);
    assert_null(find_edit(HEADER_DELETE, "Authentication-Results", 1));
    const struct header_edit *ins = find_edit(HEADER_INSERT, "Authentication-Results", 0);
    assert_non_null(ins);
    assert_string_equal(ins->value, "mx1.mta.example; none");

    start(BASE);     /* authserv_id = "mw.test" */
    new_connection();
    t->mta_hostname = strdup("mx1.mta.example");
    assert_int_equal(connect_from(INBOUND_IP), ACTION_NONE);
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    ins = find_edit(HEADER_INSERT, "Authentication-Results", 0);
    assert_non_null(ins);
    assert_string_equal(ins->value, "mw.test; none");
}

static void test_forged_authres_kept_when_not_removing(void **state)
{
    (void)state;
    start(NETWORKS "authres: { authserv_id = \"mw.test\"; remove_forged = false }\n");
    inbound_connection();
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    send_authres_headers();
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_null(find_edit(HEADER_DELETE, "Authentication-Results", 0));
    assert_non_null(find_edit(HEADER_INSERT, "Authentication-Results", 0));
}

/* The engine runs a transaction on the configuration its caller hands it, never on one it
 * fetches itself: with NULL it keeps the connection's, even after a reload installed another
 * (the old engine_mail called config_current() and switched). */
static void test_mail_runs_on_the_configuration_handed_in(void **state)
{
    (void)state;
    struct config *first = fixture_load_ok("authres: { authserv_id = \"first.test\" }\n" SPAM_OFF);
    struct config *second = fixture_load_ok("authres: { authserv_id = \"second.test\" }\n" SPAM_OFF);
    config_install(first);
    new_connection();
    assert_int_equal(connect_from(INBOUND_IP), ACTION_NONE);
    config_install(second);                          /* t holds the only reference to first */
    assert_int_equal(engine_mail(t, NULL, "QID1", "a@example.com", NULL, NULL), ACTION_NONE);
    assert_ptr_equal(t->cfg, first);
    txn_reset(t);
    assert_int_equal(engine_mail(t, config_current(), "QID2", "a@example.com", NULL, NULL),
        ACTION_NONE);
    assert_ptr_equal(t->cfg, second);                /* the caller's choice: the one in force */
}

/* --- several transactions, reload ---------------------------------------------------------- */

static void test_transactions_on_one_connection_and_reload(void **state)
{
    (void)state;
    struct config *first = fixture_load_ok(
        "authres: { authserv_id = \"mw.test\" }\n" SPAM_OFF
        "actions: { add_header = 5.0 }\n"
        "access = (\n"
        "  { name = \"helo-score\"; match = \"helo\"; values = [ \"scored.example\" ]; action = \"score\"; score = 2.0 },\n"
        "  { name = \"s3\"; match = \"sender_domain\"; values = [ \"s3.example\" ]; action = \"score\"; score = 3.0 }\n"
        ")\n");
    struct config *second = fixture_load_ok(
        "authres: { authserv_id = \"mw2.test\" }\n" SPAM_OFF
        "actions: { add_header = 5.0 }\n"
        "access = (\n"
        "  { name = \"helo-score\"; match = \"helo\"; values = [ \"scored.example\" ]; action = \"score\"; score = 2.0 },\n"
        "  { name = \"now-blocked\"; match = \"sender_domain\"; values = [ \"s3.example\" ];\n"
        "    action = \"reject\"; reply = \"550 5.7.1 Blocked since the reload\" }\n"
        ")\n");
    config_install(first);
    new_connection();
    assert_int_equal(connect_from(INBOUND_IP), ACTION_NONE);
    assert_int_equal(engine_helo(t, "scored.example"), ACTION_NONE);
    assert_int_equal(t->conn_result_count, 1);

    /* 1st transaction; the policy is reloaded in its middle */
    assert_int_equal(mail_from("a@s3.example"), ACTION_NONE);
    assert_ptr_equal(t->cfg, first);
    config_install(second);                         /* t holds the only reference to first */
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_ptr_equal(t->cfg, first);
    assert_true(t->verdict.score == 5.0);           /* HELO 2 + sender 3 */
    assert_non_null(find_edit(HEADER_APPEND, "X-Spam-Flag", 0));
    assert_string_equal(edit_value(HEADER_INSERT, "Authentication-Results"),
        "mw.test; none");
    txn_reset(t);                                   /* as mw_eom does */

    /* the envelope is gone, the connection results stay */
    assert_int_equal(t->result_count, 1);
    assert_true(has_symbol("ACCESS_HELO_SCORE"));
    assert_null(t->sender);
    assert_null(t->queue_id);
    assert_int_equal(t->rcpt_count, 0);
    assert_int_equal(t->header_count, 0);
    assert_int_equal(t->body_len, 0);
    assert_int_equal(t->body_bytes, 0);
    assert_int_equal(t->verdict.edit_count, 0);
    assert_int_equal(t->verdict.action, ACTION_NONE);
    assert_string_equal(t->helo, "scored.example");
    assert_string_equal(t->client_ip, INBOUND_IP);

    /* 2nd: MAIL FROM picks up the reloaded policy */
    assert_int_equal(mail_from("a@s3.example"), ACTION_REJECT);
    assert_ptr_equal(t->cfg, second);
    assert_reply(550, "5.7.1", "Blocked since the reload");
    assert_int_equal(t->txn_count, 2);
    engine_abort(t);

    /* 3rd: accepted under the new policy, the HELO score still counts */
    assert_int_equal(mail_from("b@other.example"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_true(t->verdict.score == 2.0);
    assert_null(find_edit(HEADER_APPEND, "X-Spam-Flag", 0));
    assert_string_equal(edit_value(HEADER_INSERT, "Authentication-Results"),
        "mw2.test; none");
    assert_int_equal(t->txn_count, 3);
}

/* --- limits and odd bytes ------------------------------------------------------------------ */

static void test_header_count_limit(void **state)
{
    (void)state;
    start(BASE "limits: { max_headers = 16 }\n");
    inbound_connection();
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "X-N%d", i);
        assert_int_equal(engine_header(t, name, "v"), i < 16);
    }
    assert_int_equal(t->header_count, 16);
    assert_true(txn_headers_truncated(t));
    assert_true(t->header_count_passed);
    assert_string_equal(t->headers[15].name, "X-N15");
    assert_int_equal(engine_eoh(t), ACTION_NONE);
    assert_int_equal(engine_eom(t), ACTION_ACCEPT);
}

static void test_header_bytes_limit(void **state)
{
    (void)state;
    start(BASE "limits: { max_header_bytes = \"1k\" }\n");
    inbound_connection();
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    char value[301];
    memset(value, 'v', 300);
    value[300] = '\0';
    /* "X-Big" + 300 + 3 = 308 bytes each: three fit in 1024, the fourth does not */
    for (int i = 0; i < 5; i++)
        assert_int_equal(engine_header(t, "X-Big", value), i < 3);
    assert_int_equal(t->header_count, 3);
    assert_true(txn_headers_truncated(t));
    assert_true(t->header_bytes <= 1024);
    assert_true(t->header_bytes_passed);
    /* a field the checks read is kept past the limit (its own budget,
     * max_checked_header_bytes), and a forged one is found and removed */
    char forged[300];
    snprintf(forged, sizeof forged, "mw.test; spf=pass (%.*s)", 200, value);
    assert_true(engine_header(t, "Authentication-Results", forged));
    assert_int_equal(engine_eoh(t), ACTION_NONE);
    assert_int_equal(engine_eom(t), ACTION_ACCEPT);
    const struct header_edit *e = find_edit(HEADER_DELETE, "Authentication-Results", 0);
    assert_non_null(e);
    assert_int_equal(e->index, 1);
}

static void test_body_buffer_cap(void **state)
{
    (void)state;
    start(BASE "limits: { max_body_buffer = 100 }\n");
    inbound_connection();
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    assert_int_equal(engine_eoh(t), ACTION_NONE);
    unsigned char chunk[60];
    unsigned char all[180];
    for (int c = 0; c < 3; c++) {
        memset(chunk, 'a' + c, sizeof chunk);
        memcpy(all + c * 60, chunk, sizeof chunk);
        engine_body(t, chunk, sizeof chunk);
    }
    assert_int_equal(t->body_bytes, 180);
    assert_int_equal(t->body_len, 100);
    assert_true(t->body_truncated);
    assert_memory_equal(t->body, all, 100);
    assert_int_equal(engine_eom(t), ACTION_ACCEPT);

    start(BASE "limits: { max_body_buffer = 0 }\n");
    inbound_connection();
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "alice@example.org"), ACTION_NONE);
    engine_body(t, chunk, sizeof chunk);
    assert_int_equal(t->body_len, 0);
    assert_int_equal(t->body_bytes, 60);
    assert_true(t->body_truncated);
    assert_int_equal(engine_eom(t), ACTION_ACCEPT);
}

static void test_recipient_limit(void **state)
{
    (void)state;
    start(BASE "limits: { max_recipients = 2 }\n");
    inbound_connection();
    assert_int_equal(mail_from("x@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "a@example.org"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "b@example.org"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "c@example.org"), ACTION_TEMPFAIL);
    assert_reply(452, "4.5.3", "Too many recipients");
    assert_int_equal(t->verdict.action, ACTION_NONE);   /* the message itself is not refused */
    assert_int_equal(t->rcpt_count, 2);
    assert_int_equal(t->rcpt_rejected, 1);
    assert_int_equal(engine_rcpt(t, "d@example.org"), ACTION_TEMPFAIL);
    assert_int_equal(send_message(), ACTION_ACCEPT);
    assert_int_equal(t->rcpt_count, 2);
}

static void test_nul_and_8bit_bytes(void **state)
{
    (void)state;
    start(BASE);
    inbound_connection();
    assert_int_equal(mail_from("j\xc3\xb6rg@example.com"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "\xff\xfe@example.org"), ACTION_NONE);
    assert_true(engine_header(t, "Subject", "Gr\xfc\xdf" "e \xff\xfe\x80"));
    assert_true(engine_header(t, "X-\xe9t\xe9", "caf\xc3\xa9"));
    assert_true(engine_header(t, "Authentication-Results", "mw.test\xff; none"));
    assert_int_equal(engine_eoh(t), ACTION_NONE);
    static const unsigned char body[] = {'a', 0, 'b', 0xff, 0, 0x80, '\r', '\n', 0};
    engine_body(t, body, sizeof body);
    engine_body(t, body, sizeof body);
    assert_int_equal(t->body_len, 2 * sizeof body);
    assert_memory_equal(t->body, body, sizeof body);
    assert_memory_equal(t->body + sizeof body, body, sizeof body);
    assert_string_equal(txn_header(t, "SUBJECT", 0), "Gr\xfc\xdf" "e \xff\xfe\x80");
    assert_int_equal(engine_eom(t), ACTION_ACCEPT);
    assert_null(find_edit(HEADER_DELETE, "Authentication-Results", 0));   /* not our id */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_client_rule_rejects_at_connect),
        T(test_helo_tempfail),
        T(test_sender_rejected_at_mail),
        T(test_access_values_take_patterns),
        T(test_recipient_refused_alone),
        T(test_all_recipients_refused_then_abort),
        T(test_accept_rule_stops_later_checks),
        T(test_client_allow_list_holds_for_the_connection),
        T(test_skip_network),
        T(test_internal_network),
        T(test_sasl_user_is_outbound),
        T(test_trusted_relay_not_refused_by_score),
        T(test_connection_without_address),
        T(test_quarantine_forced_at_mail_waits_for_eom),
        T(test_quarantine_without_reply_gives_configured_reason),
        T(test_client_quarantine_at_connect_applies_at_eom),
        T(test_score_below_add_header),
        T(test_score_at_add_header),
        T(test_score_quarantine),
        T(test_score_tempfail),
        T(test_score_reject),
        T(test_symbol_override),
        T(test_forged_authres_removed_ours_inserted),
        T(test_forged_authres_kept_when_not_removing),
        T(test_authserv_id_defaults_to_the_mta_name),
        T(test_transactions_on_one_connection_and_reload),
        T(test_mail_runs_on_the_configuration_handed_in),
        T(test_header_count_limit),
        T(test_header_bytes_limit),
        T(test_body_buffer_cap),
        T(test_recipient_limit),
        T(test_nul_and_8bit_bytes),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
