/* test_rules_envfrom.c - the envelope sender the rules see when the caller does not know it
 * (rules_message.envelope_from NULL: mailwarden-check without --from), found in the message
 * as SpamAssassin's get_envelope_from finds it (rules_envfrom.c): the last untrusted relay's
 * envelope-from, else X-Envelope-From, Envelope-Sender, Return-Path when no Received field
 * precedes them, none with an X-Sender and a fetchmail Received line; a known sender (the
 * daemon's MAIL FROM, the null sender included) is never replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "message_view.h"
#include "rules.h"
#include "header.h"
#include "rules_helpers.h"

/* ENV_SEEN hits when EnvelopeFrom is not empty; ENV_x when it is that address. */
static const char rules_text[] =
    "header ENV_SEEN EnvelopeFrom =~ /./\n"
    "header ENV_BOUNCE EnvelopeFrom =~ /^bounce\\@lists\\.example\\.com$/\n"
    "header ENV_RELAY EnvelopeFrom =~ /^relay-sender\\@example\\.net$/\n"
    "header ENV_XENV EnvelopeFrom =~ /^xenv\\@example\\.org$/\n"
    "header ENV_GIVEN EnvelopeFrom =~ /^given\\@example\\.com$/\n";

struct msg {
    struct header_field h[8];
    size_t n;
};

static void add(struct msg *m, const char *name, const char *value)
{
    m->h[m->n].name = (char *)name;
    m->h[m->n].value = (char *)value;
    m->h[m->n].raw_value = NULL;
    m->n++;
}

static struct rules_helper_hits run(const struct msg *m, const char *envelope_from)
{
    struct ruleset *rs = rules_helper_load(rules_text);
    struct rules_limits limits;
    rules_limits_default(&limits);
    struct message_view view = { .text = (char *)"hello\n", .text_len = 6,
        .rawtext = (char *)"hello\n", .rawtext_len = 6 };
    struct rules_message rm = { .headers = m->h, .header_count = m->n, .view = &view,
        .body = "hello\n", .body_len = 6, .envelope_from = envelope_from };
    struct rules_helper_hits h = { .n = 0 };
    ruleset_eval(rs, &rm, &limits, rules_helper_collect, &h, NULL);
    ruleset_free(rs);
    return h;
}

#define RECEIVED "from mail.example.net (mail.example.net [198.51.100.7]) by mx.example.org " \
    "(Postfix) with ESMTP id 4AB12C0D3; Thu, 3 Dec 2026 10:00:00 +0000"

/* The MTA's final delivery puts Return-Path above the Received lines: SpamAssassin reads it. */
static void test_return_path_above_received_is_the_sender(void **state)
{
    (void)state;
    struct msg m = { .n = 0 };
    add(&m, "Return-Path", "<bounce@lists.example.com>");
    add(&m, "Received", RECEIVED);
    add(&m, "From", "Alice <alice@example.com>");
    struct rules_helper_hits h = run(&m, NULL);
    assert_true(rules_helper_has(&h, "ENV_BOUNCE"));
}

/* Below a Received line it may be an older hop's: SpamAssassin does not trust it. */
static void test_return_path_below_received_is_not_trusted(void **state)
{
    (void)state;
    struct msg m = { .n = 0 };
    add(&m, "Received", RECEIVED);
    add(&m, "Return-Path", "<bounce@lists.example.com>");
    add(&m, "From", "Alice <alice@example.com>");
    struct rules_helper_hits h = run(&m, NULL);
    assert_false(rules_helper_has(&h, "ENV_SEEN"));
}

/* The last untrusted relay's envelope-from comes first. */
static void test_relay_envelope_from_comes_before_headers(void **state)
{
    (void)state;
    struct msg m = { .n = 0 };
    add(&m, "Return-Path", "<bounce@lists.example.com>");
    add(&m, "Received", "from mail.example.net (mail.example.net [198.51.100.7]) by "
        "mx.example.org (8.15.2/8.15.2) with ESMTP id 0B3A0x1C012345 "
        "(envelope-from <relay-sender@example.net>); Thu, 3 Dec 2026 10:00:00 +0000");
    add(&m, "From", "Alice <alice@example.com>");
    struct rules_helper_hits h = run(&m, NULL);
    assert_true(rules_helper_has(&h, "ENV_RELAY"));
    assert_false(rules_helper_has(&h, "ENV_BOUNCE"));
}

/* X-Envelope-From before Return-Path; none at all once a Received line precedes it. */
static void test_x_envelope_from_first_unless_after_received(void **state)
{
    (void)state;
    struct msg m = { .n = 0 };
    add(&m, "X-Envelope-From", "<xenv@example.org>");
    add(&m, "Return-Path", "<bounce@lists.example.com>");
    add(&m, "Received", RECEIVED);
    struct rules_helper_hits h = run(&m, NULL);
    assert_true(rules_helper_has(&h, "ENV_XENV"));

    struct msg late = { .n = 0 };
    add(&late, "Return-Path", "<bounce@lists.example.com>");
    add(&late, "Received", RECEIVED);
    add(&late, "X-Envelope-From", "<xenv@example.org>");
    h = run(&late, NULL);
    assert_false(rules_helper_has(&h, "ENV_SEEN"));       /* not even the Return-Path */
}

/* fetchmail re-used a list's X-Sender as the sender: no header can be trusted. */
static void test_x_sender_with_fetchmail_gives_no_sender(void **state)
{
    (void)state;
    struct msg m = { .n = 0 };
    add(&m, "Return-Path", "<bounce@lists.example.com>");
    add(&m, "Received", "from pop.example.org [192.0.2.1] by localhost with POP3 "
        "(fetchmail-6.4.37) for <alice@localhost> (single-drop); Thu, 3 Dec 2026 10:00:00");
    add(&m, "X-Sender", "someone@lists.example.com");
    struct rules_helper_hits h = run(&m, NULL);
    assert_false(rules_helper_has(&h, "ENV_SEEN"));
}

/* The daemon knows the sender: the message never replaces it, not even the null sender. */
static void test_known_sender_is_kept(void **state)
{
    (void)state;
    struct msg m = { .n = 0 };
    add(&m, "Return-Path", "<bounce@lists.example.com>");
    add(&m, "Received", RECEIVED);
    struct rules_helper_hits h = run(&m, "given@example.com");
    assert_true(rules_helper_has(&h, "ENV_GIVEN"));
    assert_false(rules_helper_has(&h, "ENV_BOUNCE"));
    h = run(&m, "");
    assert_false(rules_helper_has(&h, "ENV_SEEN"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_return_path_above_received_is_the_sender),
        cmocka_unit_test(test_return_path_below_received_is_not_trusted),
        cmocka_unit_test(test_relay_envelope_from_comes_before_headers),
        cmocka_unit_test(test_x_envelope_from_first_unless_after_received),
        cmocka_unit_test(test_x_sender_with_fetchmail_gives_no_sender),
        cmocka_unit_test(test_known_sender_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
