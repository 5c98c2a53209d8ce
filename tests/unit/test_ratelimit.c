/* test_ratelimit.c - the `ratelimit` policy section and check_ratelimit driven through the
 * engine as milter.c drives it, on the embedded store: policy errors name file, line, option
 * and the fix; the (burst+1)th message of one SASL user gets 451 4.7.1 with the text naming
 * the limit (never the key) while another user passes; recipients counted per RCPT (only the
 * refused recipient is refused); connections counted per client /24 and IPv6 /64; bytes at the
 * end of the message; reject and score-only actions; dry_run never refuses; scope and
 * exemptions; several limits, the first exceeded decides; an allow-listed client is counted
 * but not refused; a reload keeps the counters of a limit that stays. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_fixture.h"
#include "ratelimit.h"

#define BASE "networks: { internal = [ \"10.0.0.0/8\" ] }\n"

static struct txn *t;           /* the fixture's connection */

/* Installs a policy; the fixture ends its connection, and connect_from() opens the next. */
static void start(const char *text)
{
    fixture_policy(text);
    t = NULL;
}

/* The errors a policy gets, joined by newlines ("" when it loads). */
static char *errors_of(const char *text)
{
    struct config_errors errs = {0};
    struct config *cfg = fixture_load(text, &errs);
    config_free(cfg);
    static char joined[4096];
    joined[0] = '\0';
    for (size_t i = 0; i < errs.count; i++) {
        char line[600];
        snprintf(line, sizeof line, "%s:%d: %s: %s\n", errs.items[i].file, errs.items[i].line,
            errs.items[i].option, errs.items[i].reason);
        strncat(joined, line, sizeof joined - strlen(joined) - 1);
    }
    config_errors_free(&errs);
    return joined;
}

static enum action connect_from(const char *ip)
{
    t = fixture_connection();
    struct ipaddr a;
    assert_true(ipaddr_parse(ip, &a));
    enum action action = engine_connect(t, "client.example", &a);
    if (action == ACTION_NONE)
        action = engine_helo(t, "client.example");
    return action;
}

/* One whole message; the first refusal's action (rcpt refusals count when all are refused). */
static enum action message(const char *ip, const char *sasl_user, const char *sender,
    const char *const *rcpts, size_t body_size)
{
    enum action action = connect_from(ip);
    if (action != ACTION_NONE)
        return action;
    action = engine_mail(t, config_current(), NULL, sender, sasl_user, sasl_user ? "PLAIN" : NULL);
    if (action != ACTION_NONE)
        return action;
    size_t accepted = 0;
    enum action refused = ACTION_NONE;
    for (size_t i = 0; rcpts[i] != NULL; i++) {
        enum action a = engine_rcpt(t, rcpts[i]);
        if (a == ACTION_NONE)
            accepted++;
        else
            refused = a;
    }
    if (accepted == 0) {
        engine_abort(t);
        return refused;
    }
    engine_header(t, "Subject", "test");
    engine_eoh(t);
    char *body = malloc(body_size + 1);
    memset(body, 'x', body_size);
    engine_body(t, (unsigned char *)body, body_size);
    free(body);
    return engine_eom(t);
}

static const char *const one_rcpt[] = {"bob@example.org", NULL};

static void reply_is(const char *expected)
{
    char text[320];
    reply_format(&t->verdict.reply, text, sizeof text);
    assert_string_equal(text, expected);
}

static void test_policy_errors(void **state)
{
    (void)state;
    char *e = errors_of("ratelimit: { limits = ( { name = \"x\"; key = \"sasl_user\"; rate = \"100/1y\" } ) }\n");
    assert_non_null(strstr(e, ":1: ratelimit.limits[1].rate: \"100/1y\": the period is"));
    e = errors_of("ratelimit: { limits = ( { name = \"x\";\n key = [ \"sasl_usr\" ]; rate = \"1/1h\" } ) }\n");
    assert_non_null(strstr(e, ":2: ratelimit.limits[1].key: unknown key part \"sasl_usr\": did you mean sasl_user"));
    e = errors_of("ratelimit: { limits = ( { name = \"x\"; key = \"sasl_user\"; count = \"connections\"; rate = \"1/1h\" } ) }\n");
    assert_non_null(strstr(e, "connections are counted at connect"));
    e = errors_of("ratelimit: { limits = ( { name = \"x\"; key = \"helo\"; rate = \"1/1h\"; brust = 3 } ) }\n");
    assert_non_null(strstr(e, "did you mean burst?"));
    e = errors_of("ratelimit: { store: { backend = \"redi\" } }\n");
    assert_non_null(strstr(e, "ratelimit.store.backend: \"redi\": use \"memory\""));
    e = errors_of("ratelimit: { store: { backend = \"redis\";\n sentinels = \"10.0.0.1\"; master_name = \"m\" } }\n");
    assert_non_null(strstr(e, ":2: ratelimit.store.sentinels: \"10.0.0.1\": write HOST:PORT"));
    e = errors_of("ratelimit: { store: { backend = \"redis\"; sentinels = \"10.0.0.1:26379\" } }\n");
    assert_non_null(strstr(e, "sentinels and master_name go together"));
    e = errors_of("ratelimit: { store: { backend = \"redis\"; sentinels = \"10.0.0.1:26379, [::1]:26380\"; master_name = \"m\" } }\n");
    assert_string_equal(e, "");
    e = errors_of("ratelimit: { limits = ( { key = \"helo\"; rate = \"1/1h\" } ) }\n");
    assert_non_null(strstr(e, "a limit needs a name"));
    e = errors_of("ratelimit: { limits = ( { name = \"x\"; key = \"helo\"; rate = \"1/1h\"; action = \"score\"; reply = \"451 hi\" } ) }\n");
    assert_non_null(strstr(e, "sends no reply"));
    e = errors_of("ratelimit: { limits = ( { name = \"x\"; key = \"helo\"; rate = \"1/1h\"; reply = \"550 5.7.1 no\" } ) }\n");
    assert_true(e[0] != '\0');                      /* a tempfail limit with a 5xx reply */
    e = errors_of("ratelimit: { limits = ( { name = \"ok\"; key = [ \"sasl_user\", \"client_ip\" ]; rate = \"5000/1d\"; burst = 100 } ) }\n");
    assert_string_equal(e, "");
}

/* The case: the (burst+1)th message of one SASL user gets 451 with the limit's text;
 * another user still passes. */
static void test_sasl_user_burst(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"per-user\"; key = \"sasl_user\"; "
        "count = \"messages\"; rate = \"10/1h\"; burst = 3; "
        "reply = \"451 4.7.1 Sending limit per-user reached, try later\" } ) }\n");
    for (int i = 0; i < 3; i++)
        assert_int_equal(message("198.51.100.7", "alice@mta.test", "alice@example.com", one_rcpt, 10), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.7", "alice@mta.test", "alice@example.com", one_rcpt, 10), ACTION_TEMPFAIL);
    reply_is("451 4.7.1 Sending limit per-user reached, try later");
    assert_string_equal(t->verdict.decided_by, "RATELIMIT_PER_USER");
    assert_int_equal(message("198.51.100.7", "bob@mta.test", "bob@example.com", one_rcpt, 10), ACTION_ACCEPT);
    /* no SASL user: the limit does not apply */
    for (int i = 0; i < 5; i++)
        assert_int_equal(message("198.51.100.7", NULL, "x@example.com", one_rcpt, 10), ACTION_ACCEPT);
}

static void test_default_reply_names_limit(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"per-ip\"; key = \"client_ip\"; rate = \"1/1h\" } ) }\n");
    assert_int_equal(message("198.51.100.8", NULL, "a@example.com", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.8", NULL, "a@example.com", one_rcpt, 1), ACTION_TEMPFAIL);
    reply_is("451 4.7.1 Rate limit per-ip exceeded, try again later");
}

/* Each RCPT counts; only the recipient over the limit is refused. */
static void test_recipients_per_rcpt(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"rcpts\"; key = \"sender\"; count = \"recipients\"; "
        "rate = \"1/1h\"; burst = 3 } ) }\n");
    const char *const five[] = {"a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org", NULL};
    assert_int_equal(message("198.51.100.9", NULL, "bulk@example.com", five, 10), ACTION_ACCEPT);
    assert_int_equal(t->rcpt_count, 3);             /* d and e were refused */
    assert_int_equal(connect_from("198.51.100.9"), ACTION_NONE);
    assert_int_equal(engine_mail(t, config_current(), NULL, "bulk@example.com", NULL, NULL), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "f@x.org"), ACTION_TEMPFAIL);
    /* another sender has its own budget */
    assert_int_equal(engine_mail(t, config_current(), NULL, "other@example.com", NULL, NULL), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "f@x.org"), ACTION_NONE);
}

static void test_recipients_refused_after_burst(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"rcpts2\"; key = \"sender\"; count = \"recipients\"; "
        "rate = \"1/1h\"; burst = 3 } ) }\n");
    assert_int_equal(connect_from("198.51.100.9"), ACTION_NONE);
    assert_int_equal(engine_mail(t, config_current(), NULL, "bulk@example.com", NULL, NULL), ACTION_NONE);
    const char *rcpts[] = {"a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"};
    int passed = 0;
    for (int i = 0; i < 5; i++)
        passed += engine_rcpt(t, rcpts[i]) == ACTION_NONE;
    assert_int_equal(passed, 3);
    assert_int_equal(t->rcpt_count, 3);
    assert_int_equal(t->rcpt_rejected, 2);
}

/* Connections per client subnet: IPv4 /24 and IPv6 /64 share a budget. */
static void test_connections_per_subnet(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"conn\"; key = \"client_subnet\"; "
        "count = \"connections\"; rate = \"1/1h\"; burst = 2 } ) }\n");
    assert_int_equal(connect_from("203.0.113.1"), ACTION_NONE);
    assert_int_equal(connect_from("203.0.113.200"), ACTION_NONE);
    assert_int_equal(connect_from("203.0.113.77"), ACTION_TEMPFAIL);
    assert_int_equal(connect_from("203.0.114.1"), ACTION_NONE);
    assert_int_equal(connect_from("2001:db8:1:2::1"), ACTION_NONE);
    assert_int_equal(connect_from("2001:db8:1:2:ffff::9"), ACTION_NONE);
    assert_int_equal(connect_from("2001:db8:1:2:abcd::1"), ACTION_TEMPFAIL);   /* same /64 */
    assert_int_equal(connect_from("2001:db8:1:3::1"), ACTION_NONE);
}

/* Bytes are decided at the end of the message, with the size as the cost. */
static void test_bytes_at_eom(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"volume\"; key = \"sender_domain\"; count = \"bytes\"; "
        "rate = \"10k/1h\"; burst = 10000; action = \"reject\" } ) }\n");
    assert_int_equal(message("198.51.100.10", NULL, "a@big.example", one_rcpt, 6000), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.10", NULL, "b@big.example", one_rcpt, 6000), ACTION_REJECT);
    reply_is("550 5.7.1 Rate limit volume exceeded, try again later");
    assert_int_equal(message("198.51.100.10", NULL, "b@big.example", one_rcpt, 3000), ACTION_ACCEPT);
}

/* A limit decided at the end of the message on a key without a recipient is skipped when
 * every recipient is exempt. */
static void test_eom_exempt_recipients(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"vol\"; key = \"sender\"; count = \"bytes\"; "
        "rate = \"1k/1h\"; burst = 1000; exempt_recipients = [ \"@internal.example\" ] } ) }\n");
    const char *const internal[] = {"a@internal.example", "b@internal.example", NULL};
    const char *const mixed[] = {"a@internal.example", "c@outside.example", NULL};
    for (int i = 0; i < 3; i++)
        assert_int_equal(message("198.51.100.14", NULL, "v@example.com", internal, 800), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.14", NULL, "v@example.com", mixed, 800), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.14", NULL, "v@example.com", mixed, 800), ACTION_TEMPFAIL);
}

static void test_score_only_and_dry_run(void **state)
{
    (void)state;
    start(BASE "symbols: { RATELIMIT_HELO_SCORE: { score = 2.5 } }\n"
        "ratelimit: { limits = ( { name = \"helo-score\"; key = \"helo\"; rate = \"1/1h\"; action = \"score\" },\n"
        "  { name = \"dry\"; key = \"client_ip\"; rate = \"1/1h\"; dry_run = \"yes\" } ) }\n");
    assert_int_equal(message("198.51.100.11", NULL, "a@example.com", one_rcpt, 1), ACTION_ACCEPT);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(message("198.51.100.11", NULL, "a@example.com", one_rcpt, 1), ACTION_ACCEPT);
        assert_true(t->verdict.score >= 2.5);
    }
    /* dry run: counted, never acted on */
    assert_string_equal(t->cfg->ratelimit->limits[1].name, "dry");
    assert_int_equal(t->cfg->ratelimit->limits[1].dry_run_hits, 3);
}

/* Scope and exemptions. */
static void test_scope_and_exemptions(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"out\"; key = \"sender\"; rate = \"1/1h\"; scope = \"outbound\";\n"
        "  exempt_networks = [ \"10.9.0.0/16\" ]; exempt_sasl_users = [ \"root\" ]; exempt_senders = [ \"@newsletter.example\" ] } ) }\n");
    for (int i = 0; i < 3; i++) {      /* inbound: out of scope */
        assert_int_equal(message("198.51.100.12", NULL, "a@example.com", one_rcpt, 1), ACTION_ACCEPT);
        assert_int_equal(message("10.9.1.1", NULL, "b@example.com", one_rcpt, 1), ACTION_ACCEPT);
        assert_int_equal(message("198.51.100.12", "root@mta.test", "c@example.com", one_rcpt, 1), ACTION_ACCEPT);
        assert_int_equal(message("10.1.1.1", NULL, "x@newsletter.example", one_rcpt, 1), ACTION_ACCEPT);
    }
    assert_int_equal(message("10.1.1.1", NULL, "d@example.com", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("10.1.1.1", NULL, "d@example.com", one_rcpt, 1), ACTION_TEMPFAIL);
}

/* Exemptions take the pattern language: ".lists.example" exempts the subdomains (before, a
 * subdomain could not be written: the value was compared with the whole domain), "@relay.example"
 * every SASL user of a realm, and "!" leaves one sender out. */
static void test_exemptions_take_patterns(void **state)
{
    (void)state;
    start(BASE "ratelimit: { limits = ( { name = \"out\"; key = \"sender\"; rate = \"1/1h\"; scope = \"outbound\";\n"
        "  exempt_senders = [ \"!boss@mx.lists.example\", \".lists.example\" ];\n"
        "  exempt_sasl_users = [ \"@relay.example\" ] } ) }\n");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(message("10.1.1.1", NULL, "x@mx.lists.example", one_rcpt, 1), ACTION_ACCEPT);
        assert_int_equal(message("198.51.100.12", "svc@relay.example", "c@example.com", one_rcpt, 1),
            ACTION_ACCEPT);
    }
    assert_int_equal(message("10.1.1.1", NULL, "x@lists.example", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("10.1.1.1", NULL, "x@lists.example", one_rcpt, 1), ACTION_TEMPFAIL);
    assert_int_equal(message("10.1.1.1", NULL, "boss@mx.lists.example", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("10.1.1.1", NULL, "boss@mx.lists.example", one_rcpt, 1), ACTION_TEMPFAIL);
}

/* Several limits: the first exceeded decides; an allow-listed client is counted, not refused. */
static void test_first_exceeded_and_allow_list(void **state)
{
    (void)state;
    start(BASE "access = ( { name = \"friends\"; match = \"client\"; values = [ \"192.0.2.50\" ]; action = \"accept\" } )\n"
        "ratelimit: { limits = (\n"
        "  { name = \"small\"; key = \"client_ip\"; rate = \"1/1h\"; burst = 2; reply = \"451 4.7.1 small\" },\n"
        "  { name = \"big\"; key = \"client_ip\"; rate = \"1/1h\"; burst = 1; reply = \"451 4.7.1 big\" } ) }\n");
    assert_int_equal(message("192.0.2.60", NULL, "a@example.com", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("192.0.2.60", NULL, "a@example.com", one_rcpt, 1), ACTION_TEMPFAIL);
    reply_is("451 4.7.1 big");
    assert_int_equal(message("192.0.2.60", NULL, "a@example.com", one_rcpt, 1), ACTION_TEMPFAIL);
    reply_is("451 4.7.1 small");
    for (int i = 0; i < 4; i++)
        assert_int_equal(message("192.0.2.50", NULL, "a@example.com", one_rcpt, 1), ACTION_ACCEPT);
}

/* Redis unreachable (nothing listens on 127.0.0.1:1): fail_mode tempfail gives
 * RATELIMIT_STORE_DOWN 451 4.3.0 for a limit that could refuse, nothing for a score-only one;
 * fail_mode memory counts in the embedded store instead. */
static void test_store_down_fail_modes(void **state)
{
    (void)state;
    start(BASE "ratelimit: { store: { backend = \"redis\"; port = 1; fail_mode = \"tempfail\"; retry_interval = \"0\" }\n"
        "  limits = ( { name = \"scored\"; key = \"client_ip\"; rate = \"1/1h\"; action = \"score\"; score = 1.0 },\n"
        "             { name = \"strict\"; key = \"sender\"; rate = \"1/1h\"; burst = 5 } ) }\n");
    assert_int_equal(message("198.51.100.20", NULL, "d@example.com", one_rcpt, 1), ACTION_TEMPFAIL);
    reply_is("451 4.3.0 Rate limiting is unavailable, try again later");
    assert_string_equal(t->verdict.decided_by, "RATELIMIT_STORE_DOWN");
    assert_non_null(t->sender);       /* refused at MAIL by "strict", not at connect by "scored" */
    start(BASE "ratelimit: { store: { backend = \"redis\"; port = 1; fail_mode = \"memory\"; retry_interval = \"0\" }\n"
        "  limits = ( { name = \"strict2\"; key = \"sender\"; rate = \"1/1h\"; burst = 2 } ) }\n");
    assert_int_equal(message("198.51.100.20", NULL, "d@example.com", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.20", NULL, "d@example.com", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.20", NULL, "d@example.com", one_rcpt, 1), ACTION_TEMPFAIL);
    reply_is("451 4.7.1 Rate limit strict2 exceeded, try again later");
}

/* A reload keeps the counters of a limit that stays (the store is process-lifetime). */
static void test_reload_keeps_counters(void **state)
{
    (void)state;
    const char *policy = BASE "ratelimit: { limits = ( { name = \"keep\"; key = \"sender\"; rate = \"1/1h\"; burst = 2 } ) }\n";
    start(policy);
    assert_int_equal(message("198.51.100.13", NULL, "k@example.com", one_rcpt, 1), ACTION_ACCEPT);
    assert_int_equal(message("198.51.100.13", NULL, "k@example.com", one_rcpt, 1), ACTION_ACCEPT);
    start(policy);                                   /* SIGHUP */
    assert_int_equal(message("198.51.100.13", NULL, "k@example.com", one_rcpt, 1), ACTION_TEMPFAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test_setup(test_sasl_user_burst, fixture_fresh),
        cmocka_unit_test_setup(test_default_reply_names_limit, fixture_fresh),
        cmocka_unit_test_setup(test_recipients_per_rcpt, fixture_fresh),
        cmocka_unit_test_setup(test_recipients_refused_after_burst, fixture_fresh),
        cmocka_unit_test_setup(test_connections_per_subnet, fixture_fresh),
        cmocka_unit_test_setup(test_bytes_at_eom, fixture_fresh),
        cmocka_unit_test_setup(test_eom_exempt_recipients, fixture_fresh),
        cmocka_unit_test_setup(test_score_only_and_dry_run, fixture_fresh),
        cmocka_unit_test_setup(test_scope_and_exemptions, fixture_fresh),
        cmocka_unit_test_setup(test_exemptions_take_patterns, fixture_fresh),
        cmocka_unit_test_setup(test_first_exceeded_and_allow_list, fixture_fresh),
        cmocka_unit_test_setup(test_reload_keeps_counters, fixture_fresh),
        cmocka_unit_test_setup(test_store_down_fail_modes, fixture_fresh),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
