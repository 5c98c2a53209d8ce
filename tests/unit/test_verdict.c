/* test_verdict.c - actions, SMTP replies and verdicts (filter/util/verdict.c): reply_parse of good
 * forms ("550 5.7.1 text", "451 text", "550") and bad ones (class mismatch, bad enhanced code,
 * CR/LF, too long, not 4xx/5xx), reply_complete's defaults per action, reply_format,
 * action names both ways, severity order, and a verdict's header edits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "verdict.h"

static struct reply parse_ok(const char *text)
{
    struct reply r;
    const char *why = NULL;
    if (!reply_parse(text, &r, &why))
        fail_msg("reply_parse(\"%s\") failed: %s", text, why);
    return r;
}

static void assert_parse_fails(const char *text, const char *reason)
{
    struct reply r;
    const char *why = NULL;
    if (reply_parse(text, &r, &why))
        fail_msg("reply_parse(\"%s\") accepted", text);
    assert_non_null(why);
    if (strstr(why, reason) == NULL)
        fail_msg("reply_parse(\"%s\"): reason \"%s\" does not mention \"%s\"", text, why, reason);
}

static void test_reply_parse_full(void **state)
{
    (void)state;
    struct reply r = parse_ok("550 5.7.1 Sender blocked by local policy");
    assert_int_equal(r.code, 550);
    assert_string_equal(r.dsn, "5.7.1");
    assert_string_equal(r.text, "Sender blocked by local policy");

    r = parse_ok("451 4.7.1 Try again later");
    assert_int_equal(r.code, 451);
    assert_string_equal(r.dsn, "4.7.1");
    assert_string_equal(r.text, "Try again later");

    r = parse_ok("554 5.123.456 Three-digit parts");
    assert_string_equal(r.dsn, "5.123.456");
}

static void test_reply_parse_optional_parts(void **state)
{
    (void)state;
    struct reply r = parse_ok("451 Try again");
    assert_int_equal(r.code, 451);
    assert_string_equal(r.dsn, "");
    assert_string_equal(r.text, "Try again");

    r = parse_ok("550");
    assert_int_equal(r.code, 550);
    assert_string_equal(r.dsn, "");
    assert_string_equal(r.text, "");

    r = parse_ok("550 5.7.1");
    assert_string_equal(r.dsn, "5.7.1");
    assert_string_equal(r.text, "");

    r = parse_ok("  421   4.3.2   Busy, come back");
    assert_int_equal(r.code, 421);
    assert_string_equal(r.dsn, "4.3.2");
    assert_string_equal(r.text, "Busy, come back");

    /* a number that is not an enhanced code is text */
    r = parse_ok("550 5 users max");
    assert_string_equal(r.dsn, "");
    assert_string_equal(r.text, "5 users max");

    /* 8-bit text passes through */
    r = parse_ok("550 5.7.1 Gr\xc3\xbc\xc3\x9f" "e 100%");
    assert_string_equal(r.text, "Gr\xc3\xbc\xc3\x9f" "e 100%");
}

static void test_reply_parse_bad_code(void **state)
{
    (void)state;
    const char *why_code = "4xx or 5xx";
    assert_parse_fails("", why_code);
    assert_parse_fails("250 OK", why_code);
    assert_parse_fails("650 5.7.1 x", why_code);
    assert_parse_fails("55 x", why_code);
    assert_parse_fails("5500 x", why_code);
    assert_parse_fails("550x", why_code);
    assert_parse_fails("5a0 x", why_code);
    assert_parse_fails("Rejected", why_code);
    assert_parse_fails("550-5.7.1 multiline", why_code);
}

static void test_reply_parse_class_mismatch(void **state)
{
    (void)state;
    assert_parse_fails("550 4.7.1 x", "class must match");
    assert_parse_fails("451 5.7.1 x", "class must match");
}

static void test_reply_parse_bad_dsn(void **state)
{
    (void)state;
    const char *why_dsn = "must look like 5.7.1";
    assert_parse_fails("550 5.7 x", why_dsn);
    assert_parse_fails("550 5.7. x", why_dsn);
    assert_parse_fails("550 5..1 x", why_dsn);
    assert_parse_fails("550 5.7.1.2 x", why_dsn);
    assert_parse_fails("550 5.1234.1 x", why_dsn);
    assert_parse_fails("550 5.7.1x text", why_dsn);
    assert_parse_fails("550 6.7.1 x", why_dsn);
    assert_parse_fails("550 3.7.1 x", why_dsn);
    assert_parse_fails("550 5.7.1234567890123 x", "too long");
}

static void test_reply_parse_control_characters(void **state)
{
    (void)state;
    const char *why = "one line";
    assert_parse_fails("550 5.7.1 first\r\n550 second", why);
    assert_parse_fails("550 5.7.1 first\nsecond", why);
    assert_parse_fails("550 5.7.1 carriage\rreturn", why);
    assert_parse_fails("550 5.7.1 tab\there", why);
    assert_parse_fails("550 5.7.1 trailing newline\n", why);
}

static void test_reply_parse_length(void **state)
{
    (void)state;
    char text[400];
    memcpy(text, "550 5.7.1 ", 10);
    memset(text + 10, 'x', 255);
    text[10 + 255] = '\0';
    struct reply r = parse_ok(text);
    assert_int_equal(strlen(r.text), 255);

    memset(text + 10, 'x', 256);
    text[10 + 256] = '\0';
    assert_parse_fails(text, "longer than 255");
}

static void test_reply_complete_defaults(void **state)
{
    (void)state;
    struct reply r = {0};
    reply_complete(&r, ACTION_REJECT);
    assert_int_equal(r.code, 550);
    assert_string_equal(r.dsn, "5.7.1");
    assert_string_equal(r.text, "Rejected by policy");

    memset(&r, 0, sizeof r);
    reply_complete(&r, ACTION_TEMPFAIL);
    assert_int_equal(r.code, 451);
    assert_string_equal(r.dsn, "4.7.1");
    assert_string_equal(r.text, "Service temporarily unavailable, try again later");
}

static void test_reply_complete_keeps_what_is_set(void **state)
{
    (void)state;
    struct reply r = parse_ok("554 5.7.0 Go away");
    reply_complete(&r, ACTION_REJECT);
    assert_int_equal(r.code, 554);
    assert_string_equal(r.dsn, "5.7.0");
    assert_string_equal(r.text, "Go away");

    /* only the code: the dsn follows the code's class, not the action */
    r = parse_ok("421");
    reply_complete(&r, ACTION_TEMPFAIL);
    assert_int_equal(r.code, 421);
    assert_string_equal(r.dsn, "4.7.1");
    assert_string_equal(r.text, "Service temporarily unavailable, try again later");

    /* only the text */
    memset(&r, 0, sizeof r);
    strcpy(r.text, "Custom words");
    reply_complete(&r, ACTION_REJECT);
    assert_int_equal(r.code, 550);
    assert_string_equal(r.dsn, "5.7.1");
    assert_string_equal(r.text, "Custom words");

    memset(&r, 0, sizeof r);
    strcpy(r.text, "Later");
    reply_complete(&r, ACTION_TEMPFAIL);
    assert_int_equal(r.code, 451);
    assert_string_equal(r.dsn, "4.7.1");
    assert_string_equal(r.text, "Later");
}

static void test_reply_format(void **state)
{
    (void)state;
    struct reply r = parse_ok("550 5.7.1 Blocked");
    char buf[300];
    reply_format(&r, buf, sizeof buf);
    assert_string_equal(buf, "550 5.7.1 Blocked");

    char small[8];
    reply_format(&r, small, sizeof small);
    assert_string_equal(small, "550 5.7");     /* truncated, terminated */
}

static void test_action_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum action action;
    } names[] = {
        {"accept", ACTION_ACCEPT}, {"reject", ACTION_REJECT}, {"tempfail", ACTION_TEMPFAIL},
        {"quarantine", ACTION_QUARANTINE}, {"discard", ACTION_DISCARD}, {"score", ACTION_NONE},
        {"none", ACTION_NONE}, {"REJECT", ACTION_REJECT}, {"Accept", ACTION_ACCEPT},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        enum action a = (enum action)-1;
        if (!action_from_name(names[i].name, &a))
            fail_msg("action_from_name(\"%s\") failed", names[i].name);
        assert_int_equal(a, names[i].action);
    }
    const char *unknown[] = {"", "bounce", "rejected", "reject ", "hold"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        enum action a = ACTION_ACCEPT;
        if (action_from_name(unknown[i], &a))
            fail_msg("action_from_name(\"%s\") accepted", unknown[i]);
    }
    /* every action's name reads back as the same action */
    for (enum action a = ACTION_NONE; a <= ACTION_REJECT; a++) {
        enum action back;
        assert_true(action_from_name(action_name(a), &back));
        assert_int_equal(back, a);
    }
    assert_string_equal(action_name(ACTION_NONE), "none");
    assert_string_equal(action_name(ACTION_QUARANTINE), "quarantine");
}

static void test_action_severity_order(void **state)
{
    (void)state;
    assert_true(action_severity(ACTION_NONE) < action_severity(ACTION_ACCEPT));
    assert_true(action_severity(ACTION_ACCEPT) < action_severity(ACTION_QUARANTINE));
    assert_true(action_severity(ACTION_QUARANTINE) < action_severity(ACTION_DISCARD));
    assert_true(action_severity(ACTION_DISCARD) < action_severity(ACTION_TEMPFAIL));
    assert_true(action_severity(ACTION_TEMPFAIL) < action_severity(ACTION_REJECT));
}

static void test_verdict_edits(void **state)
{
    (void)state;
    struct verdict v = {0};
    v.action = ACTION_ACCEPT;
    char name[32] = "X-Spam-Flag", value[32] = "YES";
    verdict_add_edit(&v, HEADER_APPEND, 0, name, value);
    verdict_add_edit(&v, HEADER_DELETE, 3, "Authentication-Results", NULL);
    verdict_add_edit(&v, HEADER_INSERT, 0, "Authentication-Results", "mw.test; none");
    /* the edit keeps its own copies */
    strcpy(name, "changed");
    strcpy(value, "changed");

    assert_int_equal(v.edit_count, 3);
    assert_int_equal(v.edits[0].op, HEADER_APPEND);
    assert_string_equal(v.edits[0].name, "X-Spam-Flag");
    assert_string_equal(v.edits[0].value, "YES");
    assert_int_equal(v.edits[1].op, HEADER_DELETE);
    assert_int_equal(v.edits[1].index, 3);
    assert_null(v.edits[1].value);
    assert_int_equal(v.edits[2].op, HEADER_INSERT);
    assert_int_equal(v.edits[2].index, 0);
    assert_string_equal(v.edits[2].value, "mw.test; none");

    verdict_clear(&v);
    assert_int_equal(v.edit_count, 0);
    assert_null(v.edits);
    assert_int_equal(v.action, ACTION_NONE);
    verdict_clear(&v);     /* clearing twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_parse_full),
        cmocka_unit_test(test_reply_parse_optional_parts),
        cmocka_unit_test(test_reply_parse_bad_code),
        cmocka_unit_test(test_reply_parse_class_mismatch),
        cmocka_unit_test(test_reply_parse_bad_dsn),
        cmocka_unit_test(test_reply_parse_control_characters),
        cmocka_unit_test(test_reply_parse_length),
        cmocka_unit_test(test_reply_complete_defaults),
        cmocka_unit_test(test_reply_complete_keeps_what_is_set),
        cmocka_unit_test(test_reply_format),
        cmocka_unit_test(test_action_names),
        cmocka_unit_test(test_action_severity_order),
        cmocka_unit_test(test_verdict_edits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
