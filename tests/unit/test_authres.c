/* test_authres.c - Authentication-Results (filter/engine/authres.c): authres_is_ours recognises our
 * authserv-id behind comments, before a version, quoted, in any case, and folded; it does not
 * take a longer id that merely starts with ours ("mw.test.evil"), an empty value or an id named
 * later in the field. authres_build gives "id; none" without methods and one method per
 * folded line with them. Every property value we write (smtp.auth, smtp.mailfrom, smtp.helo,
 * header.d/i/s/a/b) is a token, a plain address or a quoted-string with \ and " escaped, also
 * for hostile identities; one with CR, LF, controls or bytes that are not UTF-8 is left out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "config.h"
#include "txn.h"

#define ID "mw.test"

static void test_ours_plain_and_with_version(void **state)
{
    (void)state;
    assert_true(authres_is_ours("mw.test; spf=pass smtp.mailfrom=example.com", ID));
    assert_true(authres_is_ours("mw.test;spf=pass", ID));
    assert_true(authres_is_ours("mw.test; none", ID));
    assert_true(authres_is_ours("mw.test 1; none", ID));          /* version */
    assert_true(authres_is_ours("mw.test", ID));
    assert_true(authres_is_ours("  mw.test  ; none", ID));
}

static void test_ours_behind_comments(void **state)
{
    (void)state;
    assert_true(authres_is_ours("(c) mw.test (x); spf=pass", ID));
    assert_true(authres_is_ours("(outer (nested) comment) mw.test; none", ID));
    assert_true(authres_is_ours("(escaped \\) paren) mw.test; none", ID));
    assert_true(authres_is_ours("mw.test(comment); none", ID));
    assert_true(authres_is_ours("\r\n\tmw.test\r\n\t1; none", ID));  /* folded */
}

static void test_ours_quoted_and_case(void **state)
{
    (void)state;
    assert_true(authres_is_ours("\"mw.test\"; none", ID));
    assert_true(authres_is_ours("(c) \"mw.test\" 1; none", ID));
    assert_true(authres_is_ours("MW.TEST; spf=pass", ID));
    assert_true(authres_is_ours("Mw.Test; spf=pass", "MW.test"));
}

static void test_not_ours(void **state)
{
    (void)state;
    assert_false(authres_is_ours("mw.test.evil; spf=pass", ID));
    assert_false(authres_is_ours("mw.testing; spf=pass", ID));
    assert_false(authres_is_ours("\"mw.test.evil\"; spf=pass", ID));
    assert_false(authres_is_ours("evil.mw.test; spf=pass", ID));
    assert_false(authres_is_ours("mw.tes; spf=pass", ID));
    assert_false(authres_is_ours("other.example; spf=pass (mw.test)", ID));
    assert_false(authres_is_ours("other.example; dkim=pass header.d=mw.test", ID));
    assert_false(authres_is_ours("", ID));
    assert_false(authres_is_ours("   ", ID));
    assert_false(authres_is_ours("; spf=pass", ID));
    assert_false(authres_is_ours("(only a comment)", ID));
    assert_false(authres_is_ours("(unterminated comment mw.test; none", ID));
}

/* A transaction whose configuration has authserv-id ID. */
static struct txn *txn_with_id(void)
{
    struct config *cfg = config_defaults();
    cfg->authres.authserv_id = strdup(ID);
    assert_non_null(cfg->authres.authserv_id);
    return txn_new(cfg);   /* txn_free releases cfg */
}

/* RFC 8601 2.7.4: auth=pass smtp.auth=USER; a user that is not a plain token is quoted */
static void test_auth_method_quoting(void **state)
{
    (void)state;
    char *m = authres_auth_method("alice@mta.test");
    assert_string_equal(m, "auth=pass smtp.auth=alice@mta.test");
    free(m);
    m = authres_auth_method("bob");
    assert_string_equal(m, "auth=pass smtp.auth=bob");
    free(m);
    m = authres_auth_method("Jo \"x\"; y");
    assert_string_equal(m, "auth=pass smtp.auth=\"Jo \\\"x\\\"; y\"");
    free(m);
    m = authres_auth_method("evil\r\nX-Injected: 1");
    assert_string_equal(m, "auth=pass");          /* left out, never mangled into a new value */
    free(m);
    m = authres_auth_method("a(b\"c\\@paypal.com");
    assert_string_equal(m, "auth=pass smtp.auth=\"a(b\\\"c\\\\@paypal.com\"");
    free(m);
}

/* Every property we emit, each with identities an attacker controls. */
static const char *const properties[] = {
    "smtp.auth", "smtp.mailfrom", "smtp.helo",
    "header.d", "header.i", "header.s", "header.a", "header.b",
};

static const struct {
    const char *value;
    const char *written;       /* after "PROPERTY="; NULL = left out */
} hostile[] = {
    /* seen in the wild: an unbalanced comment and quote in a DKIM i= */
    {"a(b\"c\\@paypal.com", "\"a(b\\\"c\\\\@paypal.com\""},
    {"example.com", "example.com"},
    {"sel-2024_a", "sel-2024_a"},
    {"rsa-sha256", "rsa-sha256"},
    {"AbC+/x=", "\"AbC+/x=\""},
    {"@example.com", "@example.com"},
    {"user.name+tag@mail.example.com", "user.name+tag@mail.example.com"},
    {"x\"; dkim=pass header.d=paypal.com", "\"x\\\"; dkim=pass header.d=paypal.com\""},
    {"pay pal.com", "\"pay pal.com\""},
    {"(comment)", "\"(comment)\""},
    {")", "\")\""},
    {"\\", "\"\\\\\""},
    {"\"", "\"\\\"\""},
    {"", "\"\""},
    {"a..b@example.com", "\"a..b@example.com\""},
    {".a@example.com", "\".a@example.com\""},
    {"user@localhost", "\"user@localhost\""},
    {"user@-bad.example", "\"user@-bad.example\""},
    {"user@bad-.example", "\"user@bad-.example\""},
    {"a@b@example.com", "\"a@b@example.com\""},
    {"x;y=z", "\"x;y=z\""},
    {"j\xc3\xbcrgen@example.com", "\"j\xc3\xbcrgen@example.com\""},     /* UTF-8: quoted */
    {"evil\r\nX-Injected: 1", NULL},
    {"line\nbreak", NULL},
    {"cr\ronly", NULL},
    {"bell\x07", NULL},
    {"del\x7f", NULL},
    {"latin1 \xe9t\xe9", NULL},            /* not UTF-8 */
    {"c1 \xc2\x85 next line", NULL},       /* U+0085, a C1 control */
    {"overlong \xc0\xaf", NULL},
    {"surrogate \xed\xa0\x80", NULL},
    {"cut \xe2\x82", NULL},
};

static void test_every_property_value_is_token_address_or_quoted(void **state)
{
    (void)state;
    for (size_t p = 0; p < sizeof properties / sizeof properties[0]; p++) {
        for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
            struct textbuf b;
            textbuf_init(&b);
            textbuf_puts(&b, "dkim=fail");
            bool written = authres_add_property(&b, properties[p], hostile[i].value);
            char expected[512];
            if (hostile[i].written != NULL)
                snprintf(expected, sizeof expected, "dkim=fail %s=%s", properties[p],
                    hostile[i].written);
            else
                snprintf(expected, sizeof expected, "dkim=fail");
            if (written != (hostile[i].written != NULL) || strcmp(b.data, expected) != 0)
                fail_msg("%s with value #%zu: wrote [%s] (returned %d), expected [%s]",
                    properties[p], i, b.data, written, expected);
            textbuf_free(&b);
        }
    }
}

/* Our whole field stays one field and ours: no line break, balanced quotes, the authserv-id
 * still found first. */
static void test_build_with_hostile_identities_stays_well_formed(void **state)
{
    (void)state;
    struct txn *t = txn_with_id();
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        struct textbuf b;
        textbuf_init(&b);
        textbuf_puts(&b, "dkim=fail");
        authres_add_property(&b, "header.i", hostile[i].value);
        txn_add_authres(t, b.data);
        textbuf_free(&b);
    }
    char *value = authres_build(t);
    assert_true(authres_is_ours(value, ID));
    assert_null(strchr(value, '\r'));
    size_t quotes = 0;
    for (const char *p = value; *p; p++) {
        if (*p == '\\' && p[1] != '\0')
            p++;
        else if (*p == '"')
            quotes++;
        if (*p == '\n')
            assert_int_equal(p[1], '\t');   /* only our own folding */
    }
    assert_int_equal(quotes % 2, 0);
    free(value);
    txn_free(t);
}

static void test_build_none(void **state)
{
    (void)state;
    struct txn *t = txn_with_id();
    char *value = authres_build(t);
    assert_string_equal(value, "mw.test; none");
    assert_true(authres_is_ours(value, ID));
    free(value);
    txn_free(t);
}

static void test_build_with_methods(void **state)
{
    (void)state;
    struct txn *t = txn_with_id();
    txn_add_authres(t, "spf=pass smtp.mailfrom=example.com");
    txn_add_authres(t, "dkim=pass header.d=example.com header.s=sel");
    char *value = authres_build(t);
    assert_string_equal(value,
        "mw.test;\n\tspf=pass smtp.mailfrom=example.com;\n\tdkim=pass header.d=example.com header.s=sel");
    assert_true(authres_is_ours(value, ID));
    free(value);
    txn_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ours_plain_and_with_version),
        cmocka_unit_test(test_ours_behind_comments),
        cmocka_unit_test(test_ours_quoted_and_case),
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_build_none),
        cmocka_unit_test(test_build_with_methods),
        cmocka_unit_test(test_auth_method_quoting),
        cmocka_unit_test(test_every_property_value_is_token_address_or_quoted),
        cmocka_unit_test(test_build_with_hostile_identities_stays_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
