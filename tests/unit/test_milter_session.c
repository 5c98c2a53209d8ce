/* test_milter_session.c - milter_session.c driven packet by packet, the way milter_loop.c
 * drives it, on policies installed through the policy fixture. Covers the no-reply steps of the
 * connect and HELO stages: asked for only while no check of the policy can refuse there
 * (engine_may_refuse_at: access rules, rate limits, networks.skip), and what a refusal that
 * comes anyway (a reload after the negotiation) becomes: held, and given at every MAIL of the
 * connection instead of being lost or read by the MTA as the answer to another command (the
 * engine's own connect refusals it applies again at MAIL; the glue's, such as the connection
 * limit, the glue holds). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "milter_session.h"
#include "policy_fixture.h"

#define BASE "authres: { authserv_id = \"mw.test\" }\nspam: { enabled = false }\n"
#define OFFER_EVERY_STEP 0x001FFFFFu   /* what Postfix 3.x offers in protocol version 6 */

static struct milter_session *s;
static struct milter_out out;

static uint32_t get_u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Sends one packet; true while the connection stays open. The replies are in `out`. */
static bool send_packet(char command, const char *data, size_t len)
{
    static char buf[1024];
    assert_true(len + 5 <= sizeof buf);
    uint32_t size = (uint32_t)len + 1;
    buf[0] = (char)(size >> 24);
    buf[1] = (char)(size >> 16);
    buf[2] = (char)(size >> 8);
    buf[3] = (char)size;
    buf[4] = command;
    memcpy(buf + 5, data, len);
    struct milter_packet pkt;
    size_t used = 0;
    const char *why = NULL;
    assert_int_equal(milter_read_packet(buf, len + 5, 0, &pkt, &used, &why), MILTER_READ_PACKET);
    milter_out_clear(&out);
    return milter_session_handle(s, &pkt, &out);
}

/* Negotiates, offering every step; returns the steps we asked for. */
static uint32_t negotiate(void)
{
    char data[12];
    uint32_t v[3] = { 6, 0x1FF, OFFER_EVERY_STEP };
    for (int i = 0; i < 3; i++) {
        data[4 * i] = (char)(v[i] >> 24);
        data[4 * i + 1] = (char)(v[i] >> 16);
        data[4 * i + 2] = (char)(v[i] >> 8);
        data[4 * i + 3] = (char)v[i];
    }
    assert_true(send_packet(MILTER_CMD_OPTNEG, data, sizeof data));
    assert_true(out.len >= 17);
    assert_int_equal(out.data[4], MILTER_REPLY_OPTNEG);
    return get_u32(out.data + 13);
}

static bool send_connect(const char *ip)
{
    char data[128];
    int n = snprintf(data, sizeof data, "client.example%c4%c%c%s", 0, 0x61, 0xa8, ip);
    return send_packet(MILTER_CMD_CONNECT, data, (size_t)n + 1);
}

static bool send_string(char command, const char *text)
{
    return send_packet(command, text, strlen(text) + 1);
}

/* The command byte of the only reply packet in `out`, or 0 when there is none. */
static char only_reply(void)
{
    if (out.len == 0)
        return 0;
    assert_int_equal(get_u32(out.data) + 4, out.len);
    return out.data[4];
}

static void start_session(const char *policy)
{
    fixture_policy(policy);
    s = milter_session_new();
}

static void end_session(void)
{
    milter_session_end(s);
    s = NULL;
}

/* --- tests -------------------------------------------------------------------------------- */

static void test_nothing_refuses_early_so_connect_and_helo_get_no_reply(void **state)
{
    (void)state;
    start_session(BASE);
    uint32_t steps = negotiate();
    assert_true(steps & MILTER_STEP_NR_CONN);
    assert_true(steps & MILTER_STEP_NR_HELO);
    assert_false(milter_session_answers(s, MILTER_CMD_CONNECT));
    assert_false(milter_session_answers(s, MILTER_CMD_HELO));
    assert_true(milter_session_answers(s, MILTER_CMD_MAIL));
    assert_true(send_connect("198.51.100.1"));
    assert_int_equal(only_reply(), 0);
    assert_true(send_string(MILTER_CMD_HELO, "mail.sender.test"));
    assert_int_equal(only_reply(), 0);
    assert_true(send_string(MILTER_CMD_MAIL, "<alice@sender.test>"));
    assert_int_equal(only_reply(), MILTER_REPLY_CONTINUE);
    end_session();
}

static void test_a_helo_rule_keeps_the_helo_reply(void **state)
{
    (void)state;
    start_session(BASE "access = ( { name = \"bad-helo\"; match = \"helo\"; values = [ "
                       "\"tempfail.test\" ]; action = \"tempfail\" } )\n");
    uint32_t steps = negotiate();
    assert_true(steps & MILTER_STEP_NR_CONN);
    assert_false(steps & MILTER_STEP_NR_HELO);
    assert_true(send_connect("198.51.100.1"));
    assert_int_equal(only_reply(), 0);
    assert_true(send_string(MILTER_CMD_HELO, "tempfail.test"));
    assert_true(only_reply() == MILTER_REPLY_TEMPFAIL || only_reply() == MILTER_REPLY_REPLYCODE);
    if (only_reply() == MILTER_REPLY_REPLYCODE)
        assert_int_equal(out.data[5], '4');
    end_session();
}

static void test_client_rules_limits_and_skip_keep_the_connect_reply(void **state)
{
    (void)state;
    const char *policies[] = {
        BASE "access = ( { name = \"bad\"; match = \"client\"; values = [ \"203.0.113.0/24\" ]; "
             "action = \"reject\" } )\n",
        BASE "ratelimit: { limits = ( { name = \"conn\"; key = \"client_ip\"; "
             "count = \"connections\"; rate = \"10/1m\" } ) }\n",
        BASE "networks: { skip = [ \"192.0.2.99\" ] }\n",
    };
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        start_session(policies[i]);
        assert_false(negotiate() & MILTER_STEP_NR_CONN);
        assert_true(send_connect("198.51.100.1"));
        assert_int_equal(only_reply(), MILTER_REPLY_CONTINUE);
        end_session();
    }
    /* a client rule that only scores refuses nothing */
    start_session(BASE "access = ( { name = \"meh\"; match = \"client\"; values = [ "
                       "\"203.0.113.0/24\" ]; action = \"score\"; score = 2.0 } )\n");
    assert_true(negotiate() & MILTER_STEP_NR_CONN);
    end_session();
}

/* Negotiated under a policy that refuses nothing early, then a reload adds a client rule: the
 * refusal at connect must not be lost, nor sent where the MTA reads it as the answer to HELO. */
static void test_refusal_after_reload_is_given_at_every_mail(void **state)
{
    (void)state;
    start_session(BASE);
    assert_true(negotiate() & MILTER_STEP_NR_CONN);
    fixture_policy(BASE "access = ( { name = \"bad\"; match = \"client\"; values = [ "
                        "\"203.0.113.0/24\" ]; action = \"reject\"; "
                        "reply = \"554 5.7.1 Your network is blocked\" } )\n");
    assert_true(send_connect("203.0.113.5"));
    assert_int_equal(only_reply(), 0);
    assert_true(send_string(MILTER_CMD_HELO, "mail.sender.test"));
    assert_int_equal(only_reply(), 0);
    for (int i = 0; i < 2; i++) {
        assert_true(send_string(MILTER_CMD_MAIL, "<alice@sender.test>"));
        assert_int_equal(only_reply(), MILTER_REPLY_REPLYCODE);
        assert_non_null(strstr(out.data + 5, "554 5.7.1 Your network is blocked"));
    }
    /* a new connection on the same socket (QUIT_NC) starts clean */
    assert_true(send_packet(MILTER_CMD_QUIT_NC, "", 0));
    fixture_policy(BASE);
    assert_true(send_connect("198.51.100.1"));
    assert_int_equal(only_reply(), 0);
    assert_true(send_string(MILTER_CMD_MAIL, "<alice@sender.test>"));
    assert_int_equal(only_reply(), MILTER_REPLY_CONTINUE);
    end_session();
}

/* The connection limit refuses at connect, in the glue, with no transaction state: held, the
 * MTA still gets the 421 with its text at MAIL, not a bare internal-error tempfail. */
static void test_connection_limit_is_given_at_mail(void **state)
{
    (void)state;
    start_session(BASE "milter: { max_connections = 1 }\n");
    struct milter_session *first = s;
    assert_true(negotiate() & MILTER_STEP_NR_CONN);
    assert_true(send_connect("198.51.100.1"));
    assert_int_equal(only_reply(), 0);
    s = milter_session_new();
    assert_true(negotiate() & MILTER_STEP_NR_CONN);
    assert_true(send_connect("198.51.100.2"));
    assert_int_equal(only_reply(), 0);
    assert_true(send_string(MILTER_CMD_HELO, "mail.sender.test"));
    assert_int_equal(only_reply(), 0);
    assert_true(send_string(MILTER_CMD_MAIL, "<alice@sender.test>"));
    assert_int_equal(only_reply(), MILTER_REPLY_REPLYCODE);
    assert_non_null(strstr(out.data + 5, "421 4.3.2 Too many connections to the mail filter"));
    end_session();
    s = first;
    assert_true(send_string(MILTER_CMD_MAIL, "<alice@sender.test>"));
    assert_int_equal(only_reply(), MILTER_REPLY_CONTINUE);
    end_session();
}

static void test_may_refuse_at_follows_the_policy(void **state)
{
    (void)state;
    struct config *cfg = fixture_load_ok(BASE);
    assert_false(engine_may_refuse_at(cfg, STAGE_CONNECT));
    assert_false(engine_may_refuse_at(cfg, STAGE_HELO));
    config_release(cfg);
    cfg = fixture_load_ok(BASE "ratelimit: { limits = ( { name = \"h\"; key = \"helo\"; "
                               "count = \"connections\"; rate = \"10/1m\" } ) }\n");
    assert_true(engine_may_refuse_at(cfg, STAGE_CONNECT) || engine_may_refuse_at(cfg, STAGE_HELO));
    config_release(cfg);
    cfg = fixture_load_ok(BASE "ratelimit: { limits = ( { name = \"h\"; key = \"client_ip\"; "
                               "count = \"connections\"; rate = \"10/1m\"; action = \"score\" } ) }\n");
    assert_false(engine_may_refuse_at(cfg, STAGE_CONNECT));
    config_release(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_nothing_refuses_early_so_connect_and_helo_get_no_reply,
            fixture_fresh),
        cmocka_unit_test_setup(test_a_helo_rule_keeps_the_helo_reply, fixture_fresh),
        cmocka_unit_test_setup(test_client_rules_limits_and_skip_keep_the_connect_reply,
            fixture_fresh),
        cmocka_unit_test_setup(test_refusal_after_reload_is_given_at_every_mail, fixture_fresh),
        cmocka_unit_test_setup(test_connection_limit_is_given_at_mail, fixture_fresh),
        cmocka_unit_test_setup(test_may_refuse_at_follows_the_policy, fixture_fresh),
    };
    milter_out_free(&out);
    int rc = cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
    milter_out_free(&out);
    return rc;
}
