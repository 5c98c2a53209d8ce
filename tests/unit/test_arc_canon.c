/* test_arc_canon.c - filter/arc/arc_canon.c against values computed by hand: relaxed header
 * canonicalization (RFC 6376 3.4.2, the example of 3.4.5), the b= value removed with the white
 * space around it and nothing else (bh= kept), and the exact bytes an ARC-Seal covers for a
 * chain of two sets given in message order (newest first, mixed with other fields). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arc_canon.h"
#include "util.h"

static void expect_relaxed(const char *name, const char *value, const char *expected)
{
    struct textbuf sb;
    textbuf_init(&sb);
    arc_canon_relaxed_header(name, value, &sb);
    assert_string_equal(sb.data, expected);
    textbuf_free(&sb);
}

static void test_relaxed_rfc6376_example(void **state)
{
    (void)state;
    /* RFC 6376 3.4.5: "A: X" and "B : Y<TAB>\r\n<TAB>Z  " give "a:X" and "b:Y Z". */
    expect_relaxed("A", " X", "a:X\r\n");
    expect_relaxed("B ", " Y\t\r\n\tZ  ", "b:Y Z\r\n");
}

static void test_relaxed_white_space(void **state)
{
    (void)state;
    expect_relaxed("Subject", "", "subject:\r\n");
    expect_relaxed("Subject", " \t ", "subject:\r\n");
    expect_relaxed("ARC-Seal", "i=1;\r\n    a=rsa-sha256;\n\tb=ab\r\n cd", "arc-seal:i=1; a=rsa-sha256; b=ab cd\r\n");
    expect_relaxed("X", "a \t  b", "x:a b\r\n");
    expect_relaxed("X", "a\r\n\r\n b", "x:a b\r\n");      /* CR/LF removed, not spaces */
    expect_relaxed("X", "a\r\nb", "x:ab\r\n");
}

static void expect_without_b(const char *value, const char *expected)
{
    char *out = arc_canon_without_b(value);
    assert_string_equal(out, expected);
    free(out);
}

static void test_without_b(void **state)
{
    (void)state;
    expect_without_b("i=1; a=rsa-sha256; b=abc\r\n def; d=x", "i=1; a=rsa-sha256; b=; d=x");
    expect_without_b("bh=xyz; b = abc ;c=d", "bh=xyz; b =;c=d");
    expect_without_b("a=1;\r\n b=abc", "a=1;\r\n b=");
    expect_without_b("a=1; b=abc;", "a=1; b=;");
    expect_without_b("a=1; bh=x", "a=1; bh=x");
    expect_without_b("", "");
    expect_without_b("xb=1; b=2", "xb=1; b=");
}

static void test_seal_input_two_sets(void **state)
{
    (void)state;
    struct header_field fields[] = {
        { .name = "ARC-Seal", .value = "i=2; cv=pass; a=rsa-sha256; d=b.test; s=s2;\r\n\tb=SIG2" },
        { .name = "ARC-Message-Signature", .value = "i=2; a=rsa-sha256; d=b.test; s=s2; h=from; bh=BH2; b=AMS2" },
        { .name = "ARC-Authentication-Results", .value = "i=2;  b.test;\r\n  arc=pass" },
        { .name = "Received", .value = "by b.test" },
        { .name = "arc-seal", .value = "i=1; cv=none; a=rsa-sha256; d=a.test; s=s1; b=SIG1" },
        { .name = "ARC-Message-Signature", .value = "i=1; a=rsa-sha256; d=a.test; s=s1; h=from; bh=BH1; b=AMS1" },
        { .name = "ARC-Authentication-Results", .value = "i=1; a.test; spf=pass" },
        { .name = "From", .value = "x@a.test" },
    };
    struct arc_chain chain;
    arc_chain_collect(fields, 8, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_READY);

    const struct header_field *list[6];
    assert_int_equal(arc_canon_seal_fields(&chain, fields, 2, list), 6);
    assert_ptr_equal(list[0], &fields[6]);
    assert_ptr_equal(list[1], &fields[5]);
    assert_ptr_equal(list[2], &fields[4]);
    assert_ptr_equal(list[3], &fields[2]);
    assert_ptr_equal(list[4], &fields[1]);
    assert_ptr_equal(list[5], &fields[0]);

    struct textbuf sb;
    textbuf_init(&sb);
    assert_true(arc_canon_seal_input(&chain, fields, 2, &sb));
    assert_string_equal(sb.data,
        "arc-authentication-results:i=1; a.test; spf=pass\r\n"
        "arc-message-signature:i=1; a=rsa-sha256; d=a.test; s=s1; h=from; bh=BH1; b=AMS1\r\n"
        "arc-seal:i=1; cv=none; a=rsa-sha256; d=a.test; s=s1; b=SIG1\r\n"
        "arc-authentication-results:i=2; b.test; arc=pass\r\n"
        "arc-message-signature:i=2; a=rsa-sha256; d=b.test; s=s2; h=from; bh=BH2; b=AMS2\r\n"
        "arc-seal:i=2; cv=pass; a=rsa-sha256; d=b.test; s=s2; b=");
    textbuf_free(&sb);

    textbuf_init(&sb);
    assert_true(arc_canon_seal_input(&chain, fields, 1, &sb));
    assert_string_equal(sb.data,
        "arc-authentication-results:i=1; a.test; spf=pass\r\n"
        "arc-message-signature:i=1; a=rsa-sha256; d=a.test; s=s1; h=from; bh=BH1; b=AMS1\r\n"
        "arc-seal:i=1; cv=none; a=rsa-sha256; d=a.test; s=s1; b=");
    assert_false(arc_canon_seal_input(&chain, fields, 3, &sb));
    assert_false(arc_canon_seal_input(&chain, fields, 0, &sb));
    assert_int_equal(arc_canon_seal_fields(&chain, fields, 3, list), 0);
    textbuf_free(&sb);
    arc_chain_free(&chain);
}

static void test_seal_input_refused_for_invalid_chain(void **state)
{
    (void)state;
    struct header_field fields[] = {
        { .name = "ARC-Seal", .value = "i=1; cv=pass; a=rsa-sha256; d=a.test; s=s1; b=SIG1" },
        { .name = "ARC-Message-Signature", .value = "i=1; a=rsa-sha256; d=a.test; s=s1; h=from; bh=BH1; b=AMS1" },
        { .name = "ARC-Authentication-Results", .value = "i=1; a.test; spf=pass" },
    };
    struct arc_chain chain;
    arc_chain_collect(fields, 3, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_INVALID);
    struct textbuf sb;
    textbuf_init(&sb);
    assert_false(arc_canon_seal_input(&chain, fields, 1, &sb));
    assert_int_equal(sb.len, 0);
    textbuf_free(&sb);
    arc_chain_free(&chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relaxed_rfc6376_example),
        cmocka_unit_test(test_relaxed_white_space),
        cmocka_unit_test(test_without_b),
        cmocka_unit_test(test_seal_input_two_sets),
        cmocka_unit_test(test_seal_input_refused_for_invalid_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
