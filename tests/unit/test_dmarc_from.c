/* test_dmarc_from.c - the Author Domain from hostile From fields (filter/dmarc/dmarc_from.c):
 * every outcome, the inputs of OpenDMARC's From-header CVEs (CVE-2021-34555: several
 * addresses in one field; CVE-2019-16378: several From addresses where one was checked),
 * quoted local parts with escaped quotes, nested comments, encoded words in display names,
 * stray and missing angle brackets, obs- syntax, and limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dmarc_from.h"

static struct dmarc_from result;

static enum dmarc_from_outcome parse1(const char *value)
{
    const char *values[1] = { value };
    dmarc_from_parse(values, 1, &result);
    return result.outcome;
}

static void assert_one(const char *value, const char *domain)
{
    if (parse1(value) != DMARC_FROM_ONE)
        fail_msg("'%s': %s (%s), expected one", value, dmarc_from_outcome_name(result.outcome),
            result.problem);
    assert_string_equal(result.domain, domain);
}

static void assert_outcome(const char *value, enum dmarc_from_outcome outcome)
{
    if (parse1(value) != outcome)
        fail_msg("'%s': %s (%s), expected %s", value, dmarc_from_outcome_name(result.outcome),
            result.problem, dmarc_from_outcome_name(outcome));
    assert_string_equal(result.domain, "");
    assert_true(result.problem[0] != 0);
}

static void test_plain_forms_give_the_domain_lower_cased(void **state)
{
    (void)state;
    assert_one("user@Example.COM", "example.com");
    assert_one(" <user@example.com>", "example.com");
    assert_one("John Doe <john@mail.example.org>", "mail.example.org");
    assert_one("\"Doe, John\" <john@example.org>", "example.org");
    assert_one("John Q. Public <jqp@example.net>", "example.net");      /* obs-phrase '.' */
    assert_one("\r\n\tJohn\r\n <john@example.com>\r\n", "example.com");   /* folding */
    assert_one("Jos\xc3\xa9 <jose@example.com>", "example.com");         /* UTF-8 name */
    assert_one("user@sub_domain.example.com", "sub_domain.example.com");
    assert_int_equal(result.mailbox_count, 1);
    assert_int_equal(result.field_count, 1);
}

static void test_quoted_local_parts_with_escaped_quotes(void **state)
{
    (void)state;
    assert_one("\"a@evil.example\"@good.example", "good.example");
    assert_one("\"a\\\"@evil.example\"@good.example", "good.example");
    assert_one("\"x\\\" <a@evil.example> \\\"\" <b@good.example>", "good.example");
    assert_one("\"\\\\\"@good.example", "good.example");
    assert_outcome("\"a\\\"@evil.example", DMARC_FROM_UNPARSEABLE);     /* quote never closed */
    assert_outcome("\"abc\\", DMARC_FROM_UNPARSEABLE);                  /* ends in a backslash */
}

static void test_comments_nested_and_hiding_addresses(void **state)
{
    (void)state;
    assert_one("(a@evil.example) user@good.example", "good.example");
    assert_one("user(comment)@(c (nested (deeper))) good . example (x)", "good.example");
    assert_one("Name (a <b@evil.example>) <u@good.example>", "good.example");
    assert_one("(\\) still a comment) u@good.example", "good.example");
    assert_outcome("(unterminated u@good.example", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@good.example )", DMARC_FROM_UNPARSEABLE);
    char deep[200];
    memset(deep, '(', 40);
    memset(deep + 40, ')', 40);
    strcpy(deep + 80, " u@good.example");
    assert_outcome(deep, DMARC_FROM_UNPARSEABLE);                       /* nested > 32 */
    memset(deep, '(', 32);
    memset(deep + 32, ')', 32);
    strcpy(deep + 64, " u@good.example");
    assert_one(deep, "good.example");                                   /* nested = 32 */
}

static void test_encoded_words_are_never_addresses(void **state)
{
    (void)state;
    assert_one("=?utf-8?q?a@evil.example?= <u@good.example>", "good.example");
    assert_one("=?UTF-8?B?YUBldmlsLmV4YW1wbGU=?= <u@good.example>", "good.example");
    assert_one("=?utf-8?q?x?= =?utf-8?q?y?= <u@good.example>", "good.example");
    assert_outcome("=?utf-8?q?a@evil.example?=", DMARC_FROM_NO_ADDRESS);
    /* not an encoded word: the '@' is a real one and the rest is garbage */
    assert_outcome("=?utf-8?q?a@evil.example <u@good.example>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("=?utf-8 x?q?a@evil.example?= <u@good.example>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("=?utf-8?x?a@evil.example?= <u@good.example>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("=??q?a@evil.example?= <u@good.example>", DMARC_FROM_UNPARSEABLE);
}

static void test_angle_brackets_stray_and_missing(void **state)
{
    (void)state;
    assert_outcome("u@good.example>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("Name > <u@good.example>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("<u@good.example>>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("<u@good.example", DMARC_FROM_UNPARSEABLE);
    assert_outcome("<<u@good.example>>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("a@evil.example <u@good.example>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("<u@good.example> <v@evil.example>", DMARC_FROM_UNPARSEABLE);
    assert_outcome("Name <u@good.example> trailing", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u @", DMARC_FROM_UNPARSEABLE);
    assert_outcome("@good.example", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@good..example", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@good.example.", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@@good.example", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u\\@evil.example", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@good.example\x01", DMARC_FROM_UNPARSEABLE);
    assert_outcome("\"u\x01\"@good.example", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@[192.0.2.1", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@[a[b]", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@\"good.example\"", DMARC_FROM_UNPARSEABLE);
    assert_non_null(strstr(result.problem, "found a quoted string"));
    assert_outcome("[192.0.2.1]", DMARC_FROM_UNPARSEABLE);
    assert_non_null(strstr(result.problem, "unexpected a domain literal"));
    assert_outcome("<u@good.example,>", DMARC_FROM_UNPARSEABLE);
    assert_non_null(strstr(result.problem, "',' instead of '>'"));
}

static void test_obs_route_and_obs_local_part(void **state)
{
    (void)state;
    assert_one("<@relay.example,@other.example:u@good.example>", "good.example");
    assert_one("<,@relay.example:u@good.example>", "good.example");
    assert_one("first . \"second\" @ good.example", "good.example");
    assert_outcome("<@relay.example u@good.example>", DMARC_FROM_UNPARSEABLE);
}

/* CVE-2021-34555 (OpenDMARC crashed on a multi-value From) and CVE-2019-16378 (only one of
 * several From addresses was checked): each is an outcome with every domain listed. */
static void test_several_addresses_in_one_field(void **state)
{
    (void)state;
    assert_outcome("a@good.example, b@evil.example", DMARC_FROM_SEVERAL_ADDRESSES);
    assert_int_equal(result.mailbox_count, 2);
    assert_int_equal(result.domain_count, 2);
    assert_string_equal(result.domains[0], "good.example");
    assert_string_equal(result.domains[1], "evil.example");
    assert_outcome("<a@good.example>,<b@evil.example>", DMARC_FROM_SEVERAL_ADDRESSES);
    assert_outcome("A <a@good.example>, \"B\" <b@evil.example>", DMARC_FROM_SEVERAL_ADDRESSES);
    assert_outcome("a@good.example, Display Only", DMARC_FROM_SEVERAL_ADDRESSES);
    assert_outcome("a@good.example, <>", DMARC_FROM_SEVERAL_ADDRESSES);
    /* obs-mbox-list: empty elements are no addresses */
    assert_one("a@good.example,", "good.example");
    assert_one(", , a@good.example ,,", "good.example");
    /* more domains than kept: counted, not overrun */
    char many[2048] = "";
    for (int i = 0; i < 40; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%su%d@d%d.example",
            i ? "," : "", i, i);
    assert_outcome(many, DMARC_FROM_SEVERAL_ADDRESSES);
    assert_int_equal(result.mailbox_count, 40);
    assert_int_equal(result.domain_count, DMARC_FROM_MAX_DOMAINS);
    assert_string_equal(result.domains[15], "d15.example");
}

static void test_several_from_fields(void **state)
{
    (void)state;
    const char *two[] = { "a@good.example", "b@evil.example" };
    dmarc_from_parse(two, 2, &result);
    assert_int_equal(result.outcome, DMARC_FROM_SEVERAL_FIELDS);
    assert_string_equal(result.domain, "");
    assert_int_equal(result.field_count, 2);
    assert_int_equal(result.domain_count, 2);
    assert_string_equal(result.domains[1], "evil.example");
    const char *same[] = { "a@good.example", "a@good.example" };
    dmarc_from_parse(same, 2, &result);
    assert_int_equal(result.outcome, DMARC_FROM_SEVERAL_FIELDS);
    const char *one_empty[] = { "a@good.example", "" };
    dmarc_from_parse(one_empty, 2, &result);
    assert_int_equal(result.outcome, DMARC_FROM_SEVERAL_FIELDS);
    const char *one_bad[] = { "a@good.example", "b@evil.example>" };
    dmarc_from_parse(one_bad, 2, &result);
    assert_int_equal(result.outcome, DMARC_FROM_UNPARSEABLE);
    assert_int_equal(result.domain_count, 0);
    assert_non_null(strstr(result.problem, "From field 2"));
    dmarc_from_parse(NULL, 0, &result);
    assert_int_equal(result.outcome, DMARC_FROM_NO_FIELD);
    const char *null_value[] = { NULL };
    dmarc_from_parse(null_value, 1, &result);
    assert_int_equal(result.outcome, DMARC_FROM_NO_ADDRESS);
}

static void test_groups(void **state)
{
    (void)state;
    assert_outcome("undisclosed-recipients:;", DMARC_FROM_GROUP);
    assert_int_equal(result.mailbox_count, 0);
    assert_outcome("Friends: a@good.example;", DMARC_FROM_GROUP);
    assert_int_equal(result.domain_count, 1);
    assert_string_equal(result.domains[0], "good.example");
    assert_outcome("Friends: a@good.example, B <b@evil.example>;", DMARC_FROM_GROUP);
    assert_int_equal(result.domain_count, 2);
    assert_outcome("G: a@good.example;, c@other.example", DMARC_FROM_GROUP);
    assert_outcome("G: a@good.example", DMARC_FROM_UNPARSEABLE);           /* no ';' */
    assert_outcome("G: a@good.example,", DMARC_FROM_UNPARSEABLE);
    assert_non_null(strstr(result.problem, "unterminated group"));
    assert_outcome("G:", DMARC_FROM_UNPARSEABLE);
    assert_outcome("G: H: a@good.example;;", DMARC_FROM_UNPARSEABLE);      /* nested */
    assert_outcome(": a@good.example;", DMARC_FROM_UNPARSEABLE);           /* no name */
    assert_outcome("G: a@good.example b;", DMARC_FROM_UNPARSEABLE);
    assert_outcome("a@good.example;", DMARC_FROM_UNPARSEABLE);
}

static void test_no_address(void **state)
{
    (void)state;
    assert_outcome("", DMARC_FROM_NO_ADDRESS);
    assert_outcome("   \r\n ", DMARC_FROM_NO_ADDRESS);
    assert_outcome("(just a comment)", DMARC_FROM_NO_ADDRESS);
    assert_outcome("John Doe", DMARC_FROM_NO_ADDRESS);
    assert_outcome("localpart", DMARC_FROM_NO_ADDRESS);
    assert_outcome("<>", DMARC_FROM_NO_ADDRESS);
    assert_outcome("Name <>", DMARC_FROM_NO_ADDRESS);
    assert_outcome(",", DMARC_FROM_NO_ADDRESS);
    assert_outcome("\"\"", DMARC_FROM_NO_ADDRESS);
    assert_outcome("Name <user>", DMARC_FROM_UNPARSEABLE);
}

static void test_bad_domains(void **state)
{
    (void)state;
    assert_outcome("u@[192.0.2.1]", DMARC_FROM_BAD_DOMAIN);
    assert_outcome("Name <u@[IPv6:2001:db8::1]>", DMARC_FROM_BAD_DOMAIN);
    assert_outcome("u@b\xc3\xbc" "cher.example.", DMARC_FROM_UNPARSEABLE);
    assert_outcome("u@a!b.example", DMARC_FROM_BAD_DOMAIN);
    char longlabel[200] = "u@";
    memset(longlabel + 2, 'a', 64);
    strcpy(longlabel + 66, ".example");
    assert_outcome(longlabel, DMARC_FROM_BAD_DOMAIN);
    memmove(longlabel + 65, longlabel + 66, strlen(longlabel + 66) + 1); /* 63 is fine */
    assert_one(longlabel, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example");
    char longname[600] = "u@";
    for (int i = 0; i < 60; i++)
        strcat(longname, "abcd.");
    strcat(longname, "example");                                        /* 307 characters */
    assert_outcome(longname, DMARC_FROM_BAD_DOMAIN);
    assert_int_equal(result.domain_count, 0);
    assert_outcome("u@[192.0.2.1], v@good.example", DMARC_FROM_SEVERAL_ADDRESSES);
    assert_int_equal(result.domain_count, 1);
}

/* RFC 9989 5.3.1: a U-label is converted to an A-label (RFC 5890 2.3); the A-labels below
 * are RFC 3492's Punycode as Python's codec computes it. */
static void test_u_labels_become_a_labels(void **state)
{
    (void)state;
    assert_one("u@b\xc3\xbc" "cher.example", "xn--bcher-kva.example");
    assert_one("Bob <bob@mail.m\xc3\xbc" "nchen.example>", "mail.xn--mnchen-3ya.example");
    assert_one("u@MAIL.M\xc3\xbc" "NCHEN.example", "mail.xn--mnchen-3ya.example");
    assert_one("u@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.example", "xn--e1afmkfd.example");
    assert_one("u@\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.example", "xn--wgv71a119e.example");
    assert_one("u@\xcf\x80\xce\xb1\xcf\x81\xce\xac\xce\xb4\xce\xb5\xce\xb9\xce\xb3\xce\xbc"
        "\xce\xb1.example", "xn--hxajbheg2az3al.example");
    assert_one("u@caf\xc3\xa9-bar.example", "xn--caf-bar-dya.example");
    /* 84 octets of UTF-8 whose A-label has exactly 63 characters; one more pair is too long */
    char label[200] = "u@";
    for (int i = 0; i < 28; i++)
        strcat(label, "a\xc3\xbc");
    strcat(label, ".example");
    assert_one(label, "xn--aaaaaaaaaaaaaaaaaaaaaaaaaaaa-16cbbbbbbbbbbbbbbbbbbbbbbbbbbb.example");
    memmove(label + 2 + 3, label + 2, strlen(label + 2) + 1);
    memcpy(label + 2, "a\xc3\xbc", 3);
    assert_outcome(label, DMARC_FROM_BAD_DOMAIN);
    /* not UTF-8: truncated, overlong, a surrogate, past U+10FFFF, a stray continuation */
    assert_outcome("u@b\xc3.example", DMARC_FROM_BAD_DOMAIN);
    assert_outcome("u@b\xc0\xaf.example", DMARC_FROM_BAD_DOMAIN);
    assert_outcome("u@b\xed\xa0\x80.example", DMARC_FROM_BAD_DOMAIN);
    assert_outcome("u@b\xf4\x90\x80\x80.example", DMARC_FROM_BAD_DOMAIN);
    assert_outcome("u@b\xbc.example", DMARC_FROM_BAD_DOMAIN);
    /* a character no label may have, beside a non-ASCII one */
    assert_outcome("u@b\xc3\xbc!.example", DMARC_FROM_BAD_DOMAIN);
}

static void test_outcome_names(void **state)
{
    (void)state;
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_ONE), "one");
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_NO_FIELD), "no-field");
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_SEVERAL_FIELDS), "several-fields");
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_SEVERAL_ADDRESSES),
        "several-addresses");
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_GROUP), "group");
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_NO_ADDRESS), "no-address");
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_BAD_DOMAIN), "bad-domain");
    assert_string_equal(dmarc_from_outcome_name(DMARC_FROM_UNPARSEABLE), "unparseable");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_forms_give_the_domain_lower_cased),
        cmocka_unit_test(test_quoted_local_parts_with_escaped_quotes),
        cmocka_unit_test(test_comments_nested_and_hiding_addresses),
        cmocka_unit_test(test_encoded_words_are_never_addresses),
        cmocka_unit_test(test_angle_brackets_stray_and_missing),
        cmocka_unit_test(test_obs_route_and_obs_local_part),
        cmocka_unit_test(test_several_addresses_in_one_field),
        cmocka_unit_test(test_several_from_fields),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_no_address),
        cmocka_unit_test(test_bad_domains),
        cmocka_unit_test(test_u_labels_become_a_labels),
        cmocka_unit_test(test_outcome_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
