/* test_authres.c - Authentication-Results (filter/authres.c): authres_is_ours recognises our
 * authserv-id behind comments, before a version, quoted, in any case, and folded; it does not
 * take a longer id that merely starts with ours ("mw.test.evil"), an empty value or an id named
 * later in the field. authres_build gives "id; none" without methods and one method per
 * folded line with them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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
    assert_string_equal(m, "auth=pass smtp.auth=\"evilX-Injected: 1\"");
    free(m);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
