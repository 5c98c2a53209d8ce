/* test_ctl_protocol.c - the control socket's request parser and reply framing
 * (ctl_protocol.c): every command with and without its argument, line ends, the limits on
 * length and characters, and that a body line can never forge a status line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ctl_protocol.h"

static bool parse(const char *line, struct ctl_request *req, char *why, size_t why_size)
{
    return ctl_parse_request(line, strlen(line), req, why, why_size);
}

static void test_each_command_parses(void **state)
{
    (void)state;
    struct ctl_request req;
    char why[256];
    assert_true(parse("reload\n", &req, why, sizeof why));
    assert_int_equal(req.command, CTL_RELOAD);
    assert_true(parse("status\r\n", &req, why, sizeof why));
    assert_int_equal(req.command, CTL_STATUS);
    assert_true(parse("stats", &req, why, sizeof why));
    assert_int_equal(req.command, CTL_STATS);
    assert_true(parse("flush-dns-cache\n", &req, why, sizeof why));
    assert_int_equal(req.command, CTL_FLUSH_DNS_CACHE);
    assert_true(parse("test-key mail-2026.rsa_1\n", &req, why, sizeof why));
    assert_int_equal(req.command, CTL_TEST_KEY);
    assert_string_equal(req.argument, "mail-2026.rsa_1");
    assert_string_equal(ctl_command_name(CTL_FLUSH_DNS_CACHE), "flush-dns-cache");
}

static void test_bad_requests_say_why(void **state)
{
    (void)state;
    struct ctl_request req;
    char why[256];
    assert_false(parse("relaod\n", &req, why, sizeof why));
    assert_non_null(strstr(why, "unknown command \"relaod\""));
    assert_false(parse("RELOAD\n", &req, why, sizeof why));          /* exact names only */
    assert_false(parse("reload now\n", &req, why, sizeof why));
    assert_string_equal(why, "reload takes no argument");
    assert_false(parse("test-key\n", &req, why, sizeof why));
    assert_non_null(strstr(why, "needs an argument"));
    assert_false(parse("test-key \n", &req, why, sizeof why));
    assert_false(parse("test-key a b\n", &req, why, sizeof why));      /* a space is not a name */
    assert_false(parse("test-key ../../etc/shadow\n", &req, why, sizeof why));
    assert_false(parse("status\x1b[2J\n", &req, why, sizeof why));
    assert_non_null(strstr(why, "control or non-ASCII character at byte 7"));
    assert_false(parse("", &req, why, sizeof why));
    char key[80];
    memset(key, 'k', sizeof key);
    memcpy(key, "test-key ", 9);
    key[9 + CTL_ARGUMENT_MAX + 1] = '\0';                              /* one byte too long */
    assert_false(parse(key, &req, why, sizeof why));
    key[9 + CTL_ARGUMENT_MAX] = '\0';
    assert_true(parse(key, &req, why, sizeof why));
    char line[CTL_REQUEST_MAX + 8];
    memset(line, 'a', sizeof line);
    line[sizeof line - 1] = '\0';
    assert_false(parse(line, &req, why, sizeof why));
    assert_non_null(strstr(why, "longer than"));
}

static void test_body_line_cannot_end_the_reply(void **state)
{
    (void)state;
    char buf[64];
    ctl_format_body_line("changed: a\nOK", buf, sizeof buf);
    assert_string_equal(buf, "+ changed: a?OK\n");
    ctl_format_body_line("0123456789012345678901234567890123456789", buf, 16);
    assert_int_equal(strlen(buf), 15);
    assert_int_equal(buf[14], '\n');
    assert_int_equal(strncmp(buf, "+ ", 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_command_parses),
        cmocka_unit_test(test_bad_requests_say_why),
        cmocka_unit_test(test_body_line_cannot_end_the_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
