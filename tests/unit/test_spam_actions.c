/* test_spam_actions.c - actions by total score: the X-Spam-* headers (per-symbol scores in
 * X-Spam-Status, folded to lines of at most 78 characters), and thresholds per recipient
 * domain (actions.domains): a domain's own thresholds, inheritance of what it leaves out,
 * "*.domain" for subdomains, the strictest threshold when recipients are in several domains,
 * and the errors a wrong entry gives (file, line, option, did you mean). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "policy_fixture.h"
#include "util.h"

/* HELO localhost scores exactly 7.0 on an otherwise clean message */
#define POLICY \
    "symbols: { HELO_NOT_FQDN: { score = 7.0 } }\n" \
    "actions: { add_header = 5.0; quarantine = 8.0; reject = 15.0;\n" \
    "  domains = (\n" \
    "    { domains = [ \"strict.test\" ]; reject = 6.0; add_header = 2.0 },\n" \
    "    { domains = [ \"lenient.test\", \"*.lenient.test\" ]; add_header = 20.0; quarantine = 0.0; reject = 0.0 },\n" \
    "    { domains = [ \"strict.test\" ]; reject = 100.0 }\n" \
    "  ) }\n"

static int setup(void **state)
{
    (void)state;
    if (!fixture_init())
        return -1;
    fixture_policy(POLICY);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    return 0;
}

static enum action run_to(const char *r1, const char *r2)
{
    struct smtp_session s = {.helo = "localhost", .rcpts = {r1, r2}};
    enum action a = fixture_run(&s);
    assert_true(fixture_txn()->verdict.score == 7.0);
    return a;
}

static void test_global_thresholds(void **state)
{
    (void)state;
    assert_int_equal(run_to("bob@our.test", NULL), ACTION_ACCEPT);
    assert_string_equal(fixture_header_edit("X-Spam-Flag"), "YES");
    assert_string_equal(fixture_header_edit("X-Spam-Score"), "7.0");
    assert_string_equal(fixture_header_edit("X-Spam-Status"),
        "Yes, score=7.0 required=5.0 tests=HELO_NOT_FQDN=7.0");
}

static void test_domain_thresholds(void **state)
{
    (void)state;
    assert_int_equal(run_to("a@strict.test", NULL), ACTION_REJECT);   /* the first entry wins */
    assert_int_equal(fixture_txn()->verdict.reply.code, 550);
    assert_int_equal(run_to("a@STRICT.test", NULL), ACTION_REJECT);
    assert_int_equal(run_to("a@sub.strict.test", NULL), ACTION_ACCEPT); /* not a "*." entry */

    assert_int_equal(run_to("a@lenient.test", NULL), ACTION_ACCEPT);
    assert_null(fixture_header_edit("X-Spam-Flag"));
    assert_string_equal(fixture_header_edit("X-Spam-Status"),
        "No, score=7.0 required=20.0 tests=HELO_NOT_FQDN=7.0");
    assert_int_equal(run_to("a@deep.sub.lenient.test", NULL), ACTION_ACCEPT);
    assert_null(fixture_header_edit("X-Spam-Flag"));
}

static void test_several_domains_strictest(void **state)
{
    (void)state;
    assert_int_equal(run_to("a@lenient.test", "b@strict.test"), ACTION_REJECT);
    assert_int_equal(run_to("a@lenient.test", "b@our.test"), ACTION_ACCEPT);
    assert_string_equal(fixture_header_edit("X-Spam-Flag"), "YES");   /* our.test's 5.0 */
}

static void test_quarantine_inherited(void **state)
{
    (void)state;
    fixture_policy("symbols: { HELO_NOT_FQDN: { score = 9.0 } }\n"
        "actions: { add_header = 5.0; quarantine = 8.0; reject = 15.0;\n"
        "  domains = ( { domains = [ \"other.test\" ]; reject = 20.0 } ) }\n");
    struct smtp_session s = {.helo = "localhost", .rcpts = {"x@other.test"}};
    assert_int_equal(fixture_run(&s), ACTION_QUARANTINE);
}

/* actions.domains takes the pattern language: ".example.test" for the subdomains (before, only
 * "*.example.test": the policy was refused), and "!" to leave one subdomain out. */
static void test_domain_entry_takes_patterns(void **state)
{
    (void)state;
    fixture_policy("symbols: { HELO_NOT_FQDN: { score = 7.0 } }\n"
        "actions: { add_header = 5.0; quarantine = 8.0; reject = 15.0;\n"
        "  domains = ( { domains = [ \"!open.dotted.test\", \".dotted.test\" ]; reject = 6.0 } ) }\n");
    assert_int_equal(run_to("a@mx.dotted.test", NULL), ACTION_REJECT);
    assert_int_equal(run_to("a@dotted.test", NULL), ACTION_ACCEPT);        /* not a subdomain */
    assert_int_equal(run_to("a@open.dotted.test", NULL), ACTION_ACCEPT);   /* left out */
}

static void test_status_folded(void **state)
{
    (void)state;
    fixture_policy("actions: { add_header = 1.0 }\n");
    struct smtp_session s = {.helo = "192.0.2.1",
        .message = "Subject: YOU ARE THE WINNER OF OUR PRIZE!!!!\n"
                   "Content-Type: text/html\n\n<a href=\"http://198.51.100.1/\">www.bank.test</a> https://bit.ly/x\n"};
    fixture_run(&s);
    const char *status = fixture_header_edit("X-Spam-Status");
    assert_non_null(status);
    assert_non_null(strstr(status, "\n\t"));
    assert_non_null(strstr(status, "HELO_BARE_IP=1.5"));
    assert_non_null(strstr(status, "URI_SHORTENER=0.5"));
    size_t line = strlen("X-Spam-Status: ");
    for (const char *p = status; *p; p++) {
        if (*p == '\n') {
            assert_true(line <= 78);
            line = 0;
        } else {
            line += *p == '\t' ? 8 : 1;
        }
    }
    assert_true(line <= 78);
}

/* Loads a policy expected to fail; returns every error, one per line. */
static char *policy_errors(const char *text)
{
    struct config_errors errs = {0};
    assert_null(fixture_load(text, &errs));
    struct textbuf out;
    textbuf_init(&out);
    for (size_t i = 0; i < errs.count; i++)
        textbuf_printf(&out, "%d: %s: %s\n", errs.items[i].line, errs.items[i].option, errs.items[i].reason);
    config_errors_free(&errs);
    return out.data;
}

static void test_domain_entry_errors(void **state)
{
    (void)state;
    char *e = policy_errors("actions: {\n  domains = (\n    { domains = [ \"a.test\" ]; rejct = 5.0 } ) }\n");
    assert_non_null(strstr(e, "3: actions.domains[0].rejct: unknown option (did you mean reject?)"));
    free(e);
    e = policy_errors("actions: { domains = ( { reject = 5.0 } ) }\n");
    assert_non_null(strstr(e, "actions.domains[0]: needs domains"));
    free(e);
    e = policy_errors("actions: { domains = ( { domains = [ \"bad domain\" ]; reject = -1.0 } ) }\n");
    assert_non_null(strstr(e, "\"bad domain\" is not a domain"));
    assert_non_null(strstr(e, "actions.domains[0].reject: must be between 0"));
    free(e);
    e = policy_errors("actions: { domains = { reject = 5.0 } }\n");
    assert_non_null(strstr(e, "actions.domains: must be a list"));
    free(e);
}

static void test_spam_section_errors(void **state)
{
    (void)state;
    char *e = policy_errors("spam: {\n  max_scan_byte = 10;\n  dnslists = (\n"
        "    { zone = \"bl.test\"; type = \"rbl\" },\n"
        "    { zone = \"bl.test\"; type = \"ip\"; codes = ( { code = \"10.0.0.2\"; score = 1.0 } ) },\n"
        "    { type = \"ip\" },\n"
        "    { zone = \"bl.test\"; type = \"ip\"; codes = ( { mask = 300; score = 1.0 } ) }\n"
        "  ) }\n");
    assert_non_null(strstr(e, "2: spam.max_scan_byte: "));
    assert_non_null(strstr(e, "max_scan_bytes"));
    assert_non_null(strstr(e, "4: spam.dnslists[0].type: unknown type \"rbl\""));
    assert_non_null(strstr(e, "spam.dnslists[1].codes[0].code: must be an answer address in 127.0.0.0/8"));
    assert_non_null(strstr(e, "6: spam.dnslists[2]: needs zone and type"));
    assert_non_null(strstr(e, "spam.dnslists[3].codes[0].mask: must be a number 1..255"));
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_global_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_domains_strictest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarantine_inherited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_folded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_entry_takes_patterns, setup, teardown),
        cmocka_unit_test(test_domain_entry_errors),
        cmocka_unit_test(test_spam_section_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
