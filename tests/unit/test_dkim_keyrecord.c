/* test_dkim_keyrecord.c - filter/dkim/dkim_keyrecord.c: the DKIM key record of RFC 6376
 * 3.6.1 and RFC 8463: defaults, k=, h=, s=, t= flags, a revoked key (empty p=), white space
 * inside p=, unknown tags ignored, and the records that must be refused (v= not first or not
 * DKIM1, no p=, a tag twice, bad syntax, p= not base64). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dkim_keyrecord.h"

static void test_defaults(void **state)
{
    (void)state;
    struct dkim_keyrecord rec;
    assert_true(dkim_keyrecord_parse("p=MIGfMA0G", &rec));
    assert_int_equal(rec.type, DKIM_KEYRECORD_RSA);
    assert_true(rec.sha256_allowed);
    assert_true(rec.sha1_allowed);
    assert_true(rec.email_service);
    assert_false(rec.testing);
    assert_false(rec.strict);
    assert_false(rec.revoked);
    assert_string_equal(rec.public_b64, "MIGfMA0G");
    dkim_keyrecord_free(&rec);
}

static void test_all_tags(void **state)
{
    (void)state;
    struct dkim_keyrecord rec;
    assert_true(dkim_keyrecord_parse(" v = DKIM1 ; k=ed25519; h=sha256; s=email:other; t=y:s;"
        " n=notes here; x_unknown=1; p=11qY AW9/ 4T4=\r\n\t", &rec));
    assert_int_equal(rec.type, DKIM_KEYRECORD_ED25519);
    assert_true(rec.sha256_allowed);
    assert_false(rec.sha1_allowed);
    assert_true(rec.email_service);
    assert_true(rec.testing);
    assert_true(rec.strict);
    assert_string_equal(rec.public_b64, "11qYAW9/4T4=");
    dkim_keyrecord_free(&rec);
    assert_true(dkim_keyrecord_parse("k=dsa; h=sha1:md5; s=voice; t=z; p=AAAA", &rec));
    assert_int_equal(rec.type, DKIM_KEYRECORD_OTHER);
    assert_false(rec.sha256_allowed);
    assert_true(rec.sha1_allowed);
    assert_false(rec.email_service);
    assert_false(rec.testing);
    dkim_keyrecord_free(&rec);
    assert_true(dkim_keyrecord_parse("s=*; p=AAAA", &rec));
    assert_true(rec.email_service);
    dkim_keyrecord_free(&rec);
}

static void test_revoked(void **state)
{
    (void)state;
    struct dkim_keyrecord rec;
    assert_true(dkim_keyrecord_parse("v=DKIM1; k=rsa; p=", &rec));
    assert_true(rec.revoked);
    assert_null(rec.public_b64);
    dkim_keyrecord_free(&rec);
    assert_true(dkim_keyrecord_parse("v=DKIM1; p= ;", &rec));
    assert_true(rec.revoked);
    dkim_keyrecord_free(&rec);
}

static void expect_refused(const char *record, const char *why)
{
    struct dkim_keyrecord rec;
    assert_false(dkim_keyrecord_parse(record, &rec));
    if (strstr(rec.error, why) == NULL)
        fail_msg("\"%s\": error \"%s\" lacks \"%s\"", record, rec.error, why);
    assert_null(rec.public_b64);
    dkim_keyrecord_free(&rec);
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused("k=rsa; v=DKIM1; p=AAAA", "not the first");
    expect_refused("v=DKIM2; p=AAAA", "not DKIM1");
    expect_refused("v=DKIM1; k=rsa", "no p=");
    expect_refused("", "no p=");
    expect_refused("v=DKIM1; k=rsa; omgwhatsgoingon", "without");
    expect_refused("p=AAAA; p=BBBB", "twice");
    expect_refused("p=AA*A", "not base64");
    expect_refused("1k=rsa; p=AAAA", "letter");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_tags),
        cmocka_unit_test(test_revoked),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
