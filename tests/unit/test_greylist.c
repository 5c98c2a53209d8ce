/* test_greylist.c - greylisting through the engine on the embedded store, with a real 1 s
 * delay: mode "everyone" tempfails the first RCPT of a triplet (and only that recipient), a
 * retry before the delay too, a retry after it passes, and the triplet is remembered for the
 * client's whole /24; another /24, sender or recipient is a new triplet; internal networks,
 * SASL clients, access "accept" rules and exempt_networks are never greylisted; mode "score"
 * greylists at the end of DATA only messages scoring at least greylist.score; policy errors
 * name the option and the fix. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy_fixture.h"

#define BASE "networks: { internal = [ \"10.0.0.0/8\" ] }\nspam: { enabled = false }\n"

static struct txn *t;           /* the fixture's connection */

/* Installs a policy; the fixture ends its connection, and rcpt() opens the next. */
static void start(const char *text)
{
    fixture_policy(text);
    t = NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connect, MAIL, one RCPT: the RCPT's action. */
static enum action rcpt(const char *ip, const char *sasl, const char *sender, const char *to)
{
    t = fixture_connection();
    struct ipaddr a;
    assert_true(ipaddr_parse(ip, &a));
    assert_int_equal(engine_connect(t, "client.example", &a), ACTION_NONE);
    assert_int_equal(engine_helo(t, "client.example"), ACTION_NONE);
    enum action action = engine_mail(t, config_current(), NULL, sender, sasl, sasl ? "PLAIN" : NULL);
    if (action != ACTION_NONE)
        return action;
    return engine_rcpt(t, to);
}

/* The rest of the message after rcpt(): the final action. */
static enum action finish_message(void)
{
    engine_header(t, "Subject", "hello");
    engine_eoh(t);
    static const unsigned char body[] = "hi\r\n";
    engine_body(t, body, sizeof body - 1);
    return engine_eom(t);
}

#define EVERYONE BASE "greylist: { enabled = true; delay = \"1s\"; exempt_networks = [ \"198.51.100.0/24\" ] }\n"

static void test_everyone(void **state)
{
    (void)state;
    start(EVERYONE);
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@sender.example", "bob@example.org"), ACTION_TEMPFAIL);
    char text[320];
    reply_format(&t->rcpt_refusal_reply, text, sizeof text);
    assert_string_equal(text, "451 4.7.1 Greylisted, please try again later");
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@sender.example", "bob@example.org"), ACTION_TEMPFAIL);
    sleep_ms(1100);
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@sender.example", "bob@example.org"), ACTION_NONE);
    assert_int_equal(finish_message(), ACTION_ACCEPT);
    /* remembered, for the whole /24, case-insensitively */
    assert_int_equal(rcpt("203.0.113.200", NULL, "A@Sender.example", "Bob@example.org"), ACTION_NONE);
    /* a new triplet: another /24, sender or recipient */
    assert_int_equal(rcpt("203.0.114.5", NULL, "a@sender.example", "bob@example.org"), ACTION_TEMPFAIL);
    assert_int_equal(rcpt("203.0.113.5", NULL, "b@sender.example", "bob@example.org"), ACTION_TEMPFAIL);
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@sender.example", "carol@example.org"), ACTION_TEMPFAIL);
    /* the null sender is a sender too */
    assert_int_equal(rcpt("203.0.113.5", NULL, "", "bob@example.org"), ACTION_TEMPFAIL);
}

/* Only the new recipient waits; the known one is kept in the same transaction. */
static void test_only_new_recipient_waits(void **state)
{
    (void)state;
    start(EVERYONE);
    assert_int_equal(rcpt("203.0.113.9", NULL, "x@sender.example", "known@example.org"), ACTION_TEMPFAIL);
    sleep_ms(1100);
    assert_int_equal(rcpt("203.0.113.9", NULL, "x@sender.example", "known@example.org"), ACTION_NONE);
    assert_int_equal(engine_rcpt(t, "new@example.org"), ACTION_TEMPFAIL);
    assert_int_equal(t->rcpt_count, 1);
    assert_int_equal(finish_message(), ACTION_ACCEPT);
}

static void test_skipped(void **state)
{
    (void)state;
    start(BASE "access = ( { name = \"partner\"; match = \"sender_domain\"; values = [ \"partner.example\" ]; action = \"accept\" } )\n"
        "greylist: { enabled = true; delay = \"1s\"; exempt_networks = [ \"198.51.100.0/24\" ] }\n");
    assert_int_equal(rcpt("10.1.2.3", NULL, "a@sender.example", "bob@example.org"), ACTION_NONE);
    assert_int_equal(rcpt("203.0.113.5", "alice", "a@sender.example", "bob@example.org"), ACTION_NONE);
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@partner.example", "bob@example.org"), ACTION_NONE);
    assert_int_equal(rcpt("198.51.100.20", NULL, "a@sender.example", "bob@example.org"), ACTION_NONE);
    start(BASE "greylist: { delay = \"1s\" }\n");         /* not enabled */
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@sender.example", "bob@example.org"), ACTION_NONE);
}

/* Mode "score": only messages scoring >= greylist.score wait, decided at end of DATA. */
static void test_score_mode(void **state)
{
    (void)state;
    start(BASE "access = ( { name = \"suspect\"; match = \"sender_domain\"; values = [ \"suspect.example\" ]; action = \"score\"; score = 4.0 } )\n"
        "greylist: { enabled = true; mode = \"score\"; score = 3.0; delay = \"1s\" }\n");
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@clean.example", "bob@example.org"), ACTION_NONE);
    assert_int_equal(finish_message(), ACTION_ACCEPT);
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@suspect.example", "bob@example.org"), ACTION_NONE);
    assert_int_equal(finish_message(), ACTION_TEMPFAIL);
    assert_string_equal(t->verdict.decided_by, "GREYLIST");
    sleep_ms(1100);
    assert_int_equal(rcpt("203.0.113.5", NULL, "a@suspect.example", "bob@example.org"), ACTION_NONE);
    assert_int_equal(finish_message(), ACTION_ACCEPT);
}

static void test_policy_errors(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    assert_null(fixture_load("greylist: { enabled = true; mode = \"everybody\" }\n", &errs));
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].option, "greylist.mode");
    assert_non_null(strstr(errs.items[0].reason, "use \"everyone\""));
    assert_int_equal(errs.items[0].line, 1);
    config_errors_free(&errs);
    assert_null(fixture_load("greylist: {\n enabled = true;\n dealy = \"1m\" }\n", &errs));
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 3);
    assert_non_null(strstr(errs.items[0].reason, "did you mean delay?"));
    config_errors_free(&errs);
    assert_null(fixture_load("greylist: { enabled = true; delay = \"1h\"; retry_window = \"30m\" }\n", &errs));
    assert_string_equal(errs.items[0].option, "greylist.retry_window");
    config_errors_free(&errs);
    assert_null(fixture_load("greylist: { reply = \"550 5.7.1 go away\" }\n", &errs));
    assert_string_equal(errs.items[0].option, "greylist.reply");
    config_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_everyone, fixture_fresh),
        cmocka_unit_test_setup(test_only_new_recipient_waits, fixture_fresh),
        cmocka_unit_test_setup(test_skipped, fixture_fresh),
        cmocka_unit_test_setup(test_score_mode, fixture_fresh),
        cmocka_unit_test_setup(test_policy_errors, fixture_fresh),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
