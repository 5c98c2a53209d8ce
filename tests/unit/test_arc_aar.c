/* test_arc_aar.c - reading an ARC-Authentication-Results payload (arc_aar.c): the
 * authserv-id, each method's result and the identity's domain, with comments, quoted values,
 * white space around "=", versions and "none"; a payload without an authserv-id is refused;
 * more results than kept are counted, never read past. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arc_aar.h"

static void test_reads_methods_and_domains(void **state)
{
    (void)state;
    struct arc_aar a;
    assert_true(arc_aar_parse(" lists.example.org; spf=pass smtp.mailfrom=alice@Sender.Example;\r\n"
        "\tdkim=pass (good signature) header.d=sender.example header.s=sel;\r\n"
        "\tdmarc=fail header.from=sender.example", &a));
    assert_string_equal(a.authserv_id, "lists.example.org");
    assert_int_equal(a.count, 3);
    assert_string_equal(a.result[0].method, "spf");
    assert_string_equal(a.result[0].result, "pass");
    assert_string_equal(a.result[0].domain, "sender.example");
    assert_string_equal(a.result[1].method, "dkim");
    assert_string_equal(a.result[1].domain, "sender.example");
    assert_string_equal(a.result[2].result, "fail");
    assert_true(arc_aar_passed(&a, "spf"));
    assert_true(arc_aar_passed(&a, "dkim"));
    assert_false(arc_aar_passed(&a, "dmarc"));
    assert_false(arc_aar_passed(&a, "arc"));
}

static void test_comments_quotes_and_spacing(void **state)
{
    (void)state;
    struct arc_aar a;
    assert_true(arc_aar_parse("(hop one) mx.example.net 1 (version; with a ; inside); "
        "dkim/1 = pass (a (nested) comment) header.i = \"@Signer.Example\"; "
        "spf=fail reason=\"x; y\" smtp.helo=helo.example", &a));
    assert_string_equal(a.authserv_id, "mx.example.net");
    assert_int_equal(a.count, 2);
    assert_string_equal(a.result[0].method, "dkim");
    assert_string_equal(a.result[0].result, "pass");
    assert_string_equal(a.result[0].domain, "signer.example");
    assert_string_equal(a.result[1].method, "spf");
    assert_string_equal(a.result[1].result, "fail");
    assert_string_equal(a.result[1].domain, "helo.example");
}

static void test_none_and_refused(void **state)
{
    (void)state;
    struct arc_aar a;
    assert_true(arc_aar_parse("mx.example.net; none", &a));
    assert_int_equal(a.count, 0);
    assert_false(arc_aar_passed(&a, "spf"));
    assert_false(arc_aar_parse("", &a));
    assert_false(arc_aar_parse("  (only a comment) ", &a));
    assert_false(arc_aar_parse("spf=pass smtp.mailfrom=x.example", &a));   /* no authserv-id */
    assert_string_equal(a.authserv_id, "");
    assert_int_equal(a.count, 0);
    /* a piece that is no method=result is counted, not read as one */
    assert_true(arc_aar_parse("mx.example.net; garbage; spf=pass", &a));
    assert_int_equal(a.count, 1);
    assert_int_equal(a.dropped, 1);
    assert_true(arc_aar_passed(&a, "spf"));
    /* an unterminated comment hides the rest */
    assert_true(arc_aar_parse("mx.example.net; (spf=pass", &a));
    assert_int_equal(a.count, 0);
}

/* found by tests/fuzz/fuzz_arc_aar.c: a version with no method before it ("/1=pass") was read
 * as a result of the method "" */
static void test_result_without_method_is_dropped(void **state)
{
    (void)state;
    struct arc_aar a;
    assert_true(arc_aar_parse("mx.example.net; /1 = pass; spf=pass", &a));
    assert_int_equal(a.count, 1);
    assert_int_equal(a.dropped, 1);
    assert_string_equal(a.result[0].method, "spf");
    assert_false(arc_aar_passed(&a, ""));
}

/* found by tests/fuzz/fuzz_arc_aar.c: an empty quoted string was taken as the authserv-id */
static void test_empty_authserv_id_is_refused(void **state)
{
    (void)state;
    struct arc_aar a;
    assert_false(arc_aar_parse("\"\"; spf=pass", &a));
    assert_false(arc_aar_parse("\"", &a));
    assert_string_equal(a.authserv_id, "");
    assert_int_equal(a.count, 0);
}

static void test_many_results_are_counted(void **state)
{
    (void)state;
    char payload[4096] = "mx.example.net";
    for (int i = 0; i < ARC_AAR_MAX_RESULTS + 5; i++)
        snprintf(payload + strlen(payload), sizeof payload - strlen(payload),
            "; dkim=fail header.d=d%d.example", i);
    strcat(payload, "; spf=pass");
    struct arc_aar a;
    assert_true(arc_aar_parse(payload, &a));
    assert_int_equal(a.count, ARC_AAR_MAX_RESULTS);
    assert_int_equal(a.dropped, 6);
    assert_false(arc_aar_passed(&a, "spf"));       /* past the kept ones: not seen */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_methods_and_domains),
        cmocka_unit_test(test_comments_quotes_and_spacing),
        cmocka_unit_test(test_none_and_refused),
        cmocka_unit_test(test_result_without_method_is_dropped),
        cmocka_unit_test(test_empty_authserv_id_is_refused),
        cmocka_unit_test(test_many_results_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
