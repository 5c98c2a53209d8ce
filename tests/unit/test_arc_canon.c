/* test_arc_canon.c - filter/arc/arc_canon.c against values computed by hand: relaxed header
 * canonicalization (RFC 6376 3.4.2, the example of 3.4.5), the b= value removed with the white
 * space around it and nothing else (bh= kept), and the exact bytes an ARC-Seal covers for a
 * chain of two sets given in message order (newest first, mixed with other fields); simple
 * header canonicalization, c= parsing, body canonicalization simple and relaxed (the example
 * of RFC 6376 3.4.5, empty bodies, a missing final CRLF, every way of cutting the body into
 * chunks) and the body hash with l= (arc_bodyhash.c), checked against known SHA-256 values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arc_bodyhash.h"
#include "arc_canon.h"
#include "arc_crypto.h"
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

static void test_simple_header_and_c_parse(void **state)
{
    (void)state;
    struct textbuf sb;
    textbuf_init(&sb);
    arc_canon_simple_header("Subject", " Hello \r\n\tthere ", &sb);
    assert_string_equal(sb.data, "Subject: Hello \r\n\tthere \r\n");
    textbuf_free(&sb);
    /* without the raw value, simple puts back the one SP the MTA took */
    struct header_field f = { .name = (char *)"To", .value = (char *)"a@b", .raw_value = NULL };
    textbuf_init(&sb);
    arc_canon_header_field(ARC_CANON_SIMPLE, &f, &sb);
    assert_string_equal(sb.data, "To: a@b\r\n");
    textbuf_free(&sb);
    enum arc_canon_kind h, b;
    assert_true(arc_canon_parse("relaxed/simple", &h, &b));
    assert_int_equal(h, ARC_CANON_RELAXED);
    assert_int_equal(b, ARC_CANON_SIMPLE);
    assert_true(arc_canon_parse("relaxed", &h, &b));
    assert_int_equal(b, ARC_CANON_SIMPLE);
    assert_false(arc_canon_parse("", &h, &b));
    assert_false(arc_canon_parse("relaxed/", &h, &b));
    assert_false(arc_canon_parse("Relaxed/relaxed", &h, &b));
    assert_false(arc_canon_parse("nowsp/relaxed", &h, &b));
}

static void append_sink(void *arg, const unsigned char *data, size_t len)
{
    textbuf_append(arg, (const char *)data, len);
}

/* The body canonicalized with the body cut at every pair of places: all must agree. */
static void expect_body(enum arc_canon_kind kind, const char *body, const char *expected)
{
    size_t len = strlen(body);
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            struct arc_body_canon bc;
            struct textbuf out;
            textbuf_init(&out);
            textbuf_append(&out, "", 0);
            arc_body_canon_init(&bc, kind);
            arc_body_canon_update(&bc, (const unsigned char *)body, a, append_sink, &out);
            arc_body_canon_update(&bc, (const unsigned char *)body + a, b - a, append_sink, &out);
            arc_body_canon_update(&bc, (const unsigned char *)body + b, len - b, append_sink, &out);
            arc_body_canon_final(&bc, append_sink, &out);
            if (strcmp(out.data, expected) != 0)
                fail_msg("body cut at %zu and %zu: got \"%s\"", a, b, out.data);
            textbuf_free(&out);
        }
    }
}

static void test_body_rfc6376_example(void **state)
{
    (void)state;
    const char *body = " C \r\nD \t E\r\n\r\n\r\n";
    expect_body(ARC_CANON_RELAXED, body, " C\r\nD E\r\n");
    expect_body(ARC_CANON_SIMPLE, body, " C \r\nD \t E\r\n");
}

static void test_body_edges(void **state)
{
    (void)state;
    expect_body(ARC_CANON_SIMPLE, "", "\r\n");
    expect_body(ARC_CANON_RELAXED, "", "");
    expect_body(ARC_CANON_SIMPLE, "\r\n\r\n", "\r\n");
    expect_body(ARC_CANON_RELAXED, " \t\r\n \r\n", "");
    expect_body(ARC_CANON_SIMPLE, "abc", "abc\r\n");
    expect_body(ARC_CANON_RELAXED, "abc  ", "abc\r\n");
    expect_body(ARC_CANON_RELAXED, "a\r\n\r\n  \r\nb \r\n\r\n", "a\r\n\r\n\r\nb\r\n");
    /* a bare CR or LF is line content, not a line end */
    expect_body(ARC_CANON_SIMPLE, "a\rb\nc\r", "a\rb\nc\r\r\n");
    expect_body(ARC_CANON_RELAXED, "a\r\r\n", "a\r\r\n");
}

static char *body_hash_b64(enum arc_canon_kind kind, const char *body, int64_t limit, bool *short_body)
{
    struct arc_bodyhash *bh = arc_bodyhash_new(kind, limit);
    arc_bodyhash_update(bh, (const unsigned char *)body, strlen(body));
    unsigned char digest[ARC_BODYHASH_MAX];
    size_t n = arc_bodyhash_final(bh, digest, short_body);
    arc_bodyhash_free(bh);
    assert_int_equal(n, 32);
    return arc_base64_encode(digest, n);
}

static void test_body_hash_known_values(void **state)
{
    (void)state;
    bool short_body;
    /* SHA-256 of "" and of "\r\n": the well-known DKIM body hashes of an empty body */
    char *h = body_hash_b64(ARC_CANON_RELAXED, "", -1, &short_body);
    assert_string_equal(h, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_false(short_body);
    free(h);
    h = body_hash_b64(ARC_CANON_SIMPLE, "\r\n\r\n", -1, &short_body);
    assert_string_equal(h, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    free(h);
    /* l=: only the first octets of the canonical body count */
    char *limited = body_hash_b64(ARC_CANON_RELAXED, "abc\r\nextra text\r\n", 5, &short_body);
    char *whole = body_hash_b64(ARC_CANON_RELAXED, "abc\r\n", -1, NULL);
    assert_string_equal(limited, whole);
    assert_false(short_body);
    free(limited);
    free(whole);
    /* l= longer than the body: flagged */
    h = body_hash_b64(ARC_CANON_RELAXED, "abc\r\n", 5, &short_body);
    assert_false(short_body);
    free(h);
    h = body_hash_b64(ARC_CANON_RELAXED, "abc\r\n", 6, &short_body);
    assert_true(short_body);
    free(h);
}

static void test_base64_strict(void **state)
{
    (void)state;
    size_t n;
    unsigned char *d = arc_base64_decode("YWJj", &n);
    assert_non_null(d);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "abc", 3);
    free(d);
    d = arc_base64_decode("YQ==", &n);
    assert_non_null(d);
    assert_int_equal(n, 1);
    free(d);
    assert_null(arc_base64_decode("YQ=", &n));
    assert_null(arc_base64_decode("Y===", &n));
    assert_null(arc_base64_decode("YQ=a", &n));
    assert_null(arc_base64_decode("Y Q==", &n));
    assert_null(arc_base64_decode("", &n));
    char *e = arc_base64_encode((const unsigned char *)"ab", 2);
    assert_string_equal(e, "YWI=");
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relaxed_rfc6376_example),
        cmocka_unit_test(test_relaxed_white_space),
        cmocka_unit_test(test_without_b),
        cmocka_unit_test(test_seal_input_two_sets),
        cmocka_unit_test(test_seal_input_refused_for_invalid_chain),
        cmocka_unit_test(test_simple_header_and_c_parse),
        cmocka_unit_test(test_body_rfc6376_example),
        cmocka_unit_test(test_body_edges),
        cmocka_unit_test(test_body_hash_known_values),
        cmocka_unit_test(test_base64_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
