/* test_dmarc_record.c - the DMARC record grammar (filter/dmarc/dmarc_record.c): the version
 * test, every tag and its default, bad values falling back with a warning, the tags RFC 9989
 * removed and unknown tags ignored, p=none from a usable rua, and malformed terms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dmarc_record.h"

static struct dmarc_record rec;
static char why[128];

static enum dmarc_record_status parse(const char *text)
{
    dmarc_record_free(&rec);
    why[0] = 0;
    return dmarc_record_parse(text, &rec, why, sizeof why);
}

static void test_version_must_come_first(void **state)
{
    (void)state;
    assert_true(dmarc_is_dmarc1("v=DMARC1; p=none"));
    assert_true(dmarc_is_dmarc1("v=DMARC1"));
    assert_true(dmarc_is_dmarc1(" v = DMARC1 ;p=none"));
    assert_true(dmarc_is_dmarc1("V=DMARC1;p=none"));
    assert_false(dmarc_is_dmarc1("v=dmarc1; p=none"));      /* %x44.4d.41.52.43.31 */
    assert_false(dmarc_is_dmarc1("v=DMARC10; p=none"));
    assert_false(dmarc_is_dmarc1("v=DMARC1 p=none"));
    assert_false(dmarc_is_dmarc1("p=none; v=DMARC1"));
    assert_false(dmarc_is_dmarc1("v=spf1 -all"));
    assert_false(dmarc_is_dmarc1(""));
    assert_false(dmarc_is_dmarc1("v"));
    assert_false(dmarc_is_dmarc1("v DMARC1"));
    assert_int_equal(parse("p=reject; v=DMARC1"), DMARC_RECORD_NOT_DMARC);
    assert_non_null(strstr(why, "v=DMARC1"));
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1; p=quarantine"), DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_QUARANTINE);
    assert_false(rec.p_from_rua);
    assert_int_equal(rec.sp, DMARC_POLICY_UNSET);
    assert_int_equal(rec.np, DMARC_POLICY_UNSET);
    assert_int_equal(rec.psd, DMARC_PSD_U);
    assert_false(rec.testing);
    assert_false(rec.adkim_strict);
    assert_false(rec.aspf_strict);
    assert_int_equal(rec.rua_count, 0);
    assert_int_equal(rec.ruf_count, 0);
    assert_int_equal(rec.fo, DMARC_FO_0);
    assert_string_equal(rec.warnings, "");
}

static void test_every_tag(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1;p=reject;sp=quarantine;np=none;psd=n;t=y;adkim=s;aspf=s;"
        "rua=mailto:a@example.com,mailto:b@example.net;ruf=mailto:f@example.com;fo=1:d:s"),
        DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_REJECT);
    assert_int_equal(rec.sp, DMARC_POLICY_QUARANTINE);
    assert_int_equal(rec.np, DMARC_POLICY_NONE);
    assert_int_equal(rec.psd, DMARC_PSD_N);
    assert_true(rec.testing);
    assert_true(rec.adkim_strict);
    assert_true(rec.aspf_strict);
    assert_int_equal(rec.rua_count, 2);
    assert_string_equal(rec.rua[0], "mailto:a@example.com");
    assert_string_equal(rec.rua[1], "mailto:b@example.net");
    assert_int_equal(rec.ruf_count, 1);
    assert_string_equal(rec.ruf[0], "mailto:f@example.com");
    assert_int_equal(rec.fo, DMARC_FO_1 | DMARC_FO_D | DMARC_FO_S);
    assert_string_equal(rec.warnings, "");
    /* white space around everything, values in any case */
    assert_int_equal(parse("v = DMARC1 ;  p = REJECT ; psd = Y ; t = N ; adkim = R ;"
        " rua = mailto:a@example.com , mailto:b@example.com ; fo = 0 : 1 "), DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_REJECT);
    assert_int_equal(rec.psd, DMARC_PSD_Y);
    assert_false(rec.testing);
    assert_false(rec.adkim_strict);
    assert_int_equal(rec.rua_count, 2);
    assert_string_equal(rec.rua[1], "mailto:b@example.com");
    assert_int_equal(rec.fo, DMARC_FO_0 | DMARC_FO_1);
    assert_int_equal(parse("v=DMARC1;p=none;psd=u"), DMARC_RECORD_OK);
    assert_int_equal(rec.psd, DMARC_PSD_U);
    assert_string_equal(rec.warnings, "");
}

static void test_removed_and_unknown_tags_are_ignored(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1; p=reject; pct=0; rf=afrf; ri=86400; x_new=1; zz=??"),
        DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_REJECT);       /* pct=0 does not weaken it */
    assert_string_equal(rec.warnings, "");
    assert_int_equal(parse("v=DMARC1; p=reject; pct=banana"), DMARC_RECORD_OK);
    assert_string_equal(rec.warnings, "");
}

static void test_bad_values_fall_back_with_a_warning(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1; p=reject; psd=maybe; t=yes; adkim=x;"
        " aspf=strict; fo=2:1"), DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_REJECT);
    assert_int_equal(rec.psd, DMARC_PSD_U);
    assert_false(rec.testing);
    assert_false(rec.adkim_strict);
    assert_false(rec.aspf_strict);
    assert_int_equal(rec.fo, DMARC_FO_1);
    assert_non_null(strstr(rec.warnings, "psd: bad value"));
    assert_non_null(strstr(rec.warnings, "t: bad value"));
    assert_non_null(strstr(rec.warnings, "adkim: bad value"));
    assert_non_null(strstr(rec.warnings, "aspf: bad value"));
    /* many warnings: cut, not overrun */
    char big[4096] = "v=DMARC1; p=none";
    for (int i = 0; i < 100; i++)
        strcat(big, "; garbage-term");
    assert_int_equal(parse(big), DMARC_RECORD_OK);
    assert_true(strlen(rec.warnings) < sizeof rec.warnings);
    assert_int_equal(parse("v=DMARC1; p=none; fo=x:y"), DMARC_RECORD_OK);
    assert_int_equal(rec.fo, DMARC_FO_0);
}

static void test_p_missing_or_bad(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1"), DMARC_RECORD_NO_POLICY);
    assert_non_null(strstr(why, "p="));
    assert_int_equal(parse("v=DMARC1; p=block"), DMARC_RECORD_NO_POLICY);
    assert_int_equal(parse("v=DMARC1; p=block; rua=not a uri"), DMARC_RECORD_NO_POLICY);
    assert_int_equal(parse("v=DMARC1; rua=mailto:r@example.com"), DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_NONE);
    assert_true(rec.p_from_rua);
    assert_int_equal(parse("v=DMARC1; p=reject-ish; sp=reject; rua=mailto:r@example.com"),
        DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_NONE);
    assert_int_equal(rec.sp, DMARC_POLICY_UNSET);      /* as if the record were p=none */
}

/* RFC 9989 4.10.1: an sp or np that is not valid is treated as a bad p: the record is p=none
 * when rua has a usable URI, else it is no policy record (not p with sp falling back). */
static void test_bad_sp_or_np_is_p_none_with_rua_else_no_policy(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1; p=reject; sp=bogus"), DMARC_RECORD_NO_POLICY);
    assert_non_null(strstr(why, "sp= or np="));
    assert_int_equal(parse("v=DMARC1; p=reject; np="), DMARC_RECORD_NO_POLICY);
    assert_int_equal(parse("v=DMARC1; p=reject; sp=reject; np=nope; rua=mailto:r@example.com"),
        DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_NONE);
    assert_int_equal(rec.sp, DMARC_POLICY_UNSET);
    assert_int_equal(rec.np, DMARC_POLICY_UNSET);
    assert_true(rec.p_from_rua);
    assert_non_null(strstr(rec.warnings, "np: bad value 'nope'"));
}

static void test_uris(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1; p=none; rua=mailto:a@example.com,,nocolon,:x,1a:b,"
        "mailto:,ok+1.x-y:z,mailto:b@ex ample.com"), DMARC_RECORD_OK);
    assert_int_equal(rec.rua_count, 2);                 /* "mailto:b@ex ample.com" is not */
    assert_string_equal(rec.rua[0], "mailto:a@example.com");
    assert_string_equal(rec.rua[1], "ok+1.x-y:z");
    assert_int_equal(rec.uris_dropped, 6);
    char many[2048] = "v=DMARC1; p=none; ruf=";
    for (int i = 0; i < 12; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%smailto:r%d@example.com",
            i ? "," : "", i);
    assert_int_equal(parse(many), DMARC_RECORD_OK);
    assert_int_equal(rec.ruf_count, DMARC_MAX_URIS);
    assert_int_equal(rec.uris_dropped, 4);
    assert_string_equal(rec.ruf[7], "mailto:r7@example.com");
    assert_int_equal(parse("v=DMARC1; p=none; rua=mailto:a@example.com!10m"), DMARC_RECORD_OK);
    assert_int_equal(rec.rua_count, 1);
}

static void test_malformed_terms_and_repeats(void **state)
{
    (void)state;
    assert_int_equal(parse("v=DMARC1;; ;p=reject;=x;novalue;p q=none;;"), DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_REJECT);
    assert_non_null(strstr(rec.warnings, "'novalue' is not a tag=value"));
    assert_int_equal(parse("v=DMARC1; p=reject; p=none; v=DMARC1"), DMARC_RECORD_OK);
    assert_int_equal(rec.p, DMARC_POLICY_REJECT);
    assert_non_null(strstr(rec.warnings, "p repeated"));
    assert_non_null(strstr(rec.warnings, "v repeated"));
    assert_int_equal(parse("v=DMARC1; p=reject; x-dash=1"), DMARC_RECORD_OK);  /* not a tag-name */
    assert_non_null(strstr(rec.warnings, "'x-dash=1' is not a tag=value"));
    assert_int_equal(parse("v=DMARC1; p=reject\x7f"), DMARC_RECORD_NO_POLICY);
}

static void test_policy_names(void **state)
{
    (void)state;
    assert_string_equal(dmarc_policy_name(DMARC_POLICY_UNSET), "unset");
    assert_string_equal(dmarc_policy_name(DMARC_POLICY_NONE), "none");
    assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
    assert_string_equal(dmarc_policy_name(DMARC_POLICY_REJECT), "reject");
}

static int teardown(void **state)
{
    (void)state;
    dmarc_record_free(&rec);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_must_come_first),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_tag),
        cmocka_unit_test(test_removed_and_unknown_tags_are_ignored),
        cmocka_unit_test(test_bad_values_fall_back_with_a_warning),
        cmocka_unit_test(test_p_missing_or_bad),
        cmocka_unit_test(test_bad_sp_or_np_is_p_none_with_rua_else_no_policy),
        cmocka_unit_test(test_uris),
        cmocka_unit_test(test_malformed_terms_and_repeats),
        cmocka_unit_test(test_policy_names),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
