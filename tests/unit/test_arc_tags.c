/* test_arc_tags.c - the strict RFC 6376 3.2 tag=value parser of filter/arc/arc_tags.c:
 * white space and folding around names, "=" and ";" ignored, one trailing ";" allowed; bad
 * tag names, missing "=", empty tag-specs, bad value characters, duplicates and too many tags
 * refused with a reason; names case-sensitive; inner white space of a value kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arc_tags.h"
#include "util.h"

static bool parse(const char *text, struct arc_tags *tags)
{
    return arc_tags_parse(text, strlen(text), tags);
}

static void test_simple_list(void **state)
{
    (void)state;
    struct arc_tags tags;
    assert_true(parse("i=1; a=rsa-sha256; d=example.org; s=dummy; cv=none; b=abc", &tags));
    assert_int_equal(tags.count, 6);
    assert_string_equal(arc_tags_get(&tags, "i"), "1");
    assert_string_equal(arc_tags_get(&tags, "a"), "rsa-sha256");
    assert_string_equal(arc_tags_get(&tags, "cv"), "none");
    assert_string_equal(arc_tags_get(&tags, "b"), "abc");
    assert_null(arc_tags_get(&tags, "t"));
    assert_string_equal(tags.error, "");
    arc_tags_free(&tags);
}

static void test_white_space_and_folding_around_separators(void **state)
{
    (void)state;
    struct arc_tags tags;
    assert_true(parse(" i = 1 ;\r\n\ta =\r\n rsa-sha256\t;\n d=x.test ; ", &tags));
    assert_int_equal(tags.count, 3);
    assert_string_equal(arc_tags_get(&tags, "i"), "1");
    assert_string_equal(arc_tags_get(&tags, "a"), "rsa-sha256");
    assert_string_equal(arc_tags_get(&tags, "d"), "x.test");
    arc_tags_free(&tags);
}

static void test_value_keeps_inner_space(void **state)
{
    (void)state;
    struct arc_tags tags;
    assert_true(parse("b=abc\r\n def ; h=from : to", &tags));
    assert_string_equal(arc_tags_get(&tags, "b"), "abc\r\n def");
    assert_string_equal(arc_tags_get(&tags, "h"), "from : to");
    char *stripped = arc_tags_strip_space(arc_tags_get(&tags, "b"));
    assert_string_equal(stripped, "abcdef");
    free(stripped);
    arc_tags_free(&tags);
}

static void test_empty_value_allowed(void **state)
{
    (void)state;
    struct arc_tags tags;
    assert_true(parse("a=; b= ;c=x", &tags));
    assert_string_equal(arc_tags_get(&tags, "a"), "");
    assert_string_equal(arc_tags_get(&tags, "b"), "");
    assert_string_equal(arc_tags_get(&tags, "c"), "x");
    arc_tags_free(&tags);
}

static void test_names_are_case_sensitive(void **state)
{
    (void)state;
    struct arc_tags tags;
    assert_true(parse("I=1; i=2", &tags));
    assert_string_equal(arc_tags_get(&tags, "I"), "1");
    assert_string_equal(arc_tags_get(&tags, "i"), "2");
    arc_tags_free(&tags);
}

static void test_name_with_digits_and_underscore(void **state)
{
    (void)state;
    struct arc_tags tags;
    assert_true(parse("x_1=y; z9=w", &tags));
    assert_string_equal(arc_tags_get(&tags, "x_1"), "y");
    assert_string_equal(arc_tags_get(&tags, "z9"), "w");
    arc_tags_free(&tags);
}

static void expect_error(const char *text, const char *reason_part)
{
    struct arc_tags tags;
    bool ok = parse(text, &tags);
    if (ok || strstr(tags.error, reason_part) == NULL)
        fail_msg("\"%s\": parsed %d, error \"%s\", expected one with \"%s\"", text, ok, tags.error,
            reason_part);
    assert_int_equal(tags.count, 0);
    assert_null(tags.tag);
    arc_tags_free(&tags);
}

static void test_duplicate_tag_refused(void **state)
{
    (void)state;
    expect_error("i=1; a=x; i=1", "duplicate tag \"i\"");
    expect_error("a=x;a=y", "duplicate tag \"a\"");
}

static void test_bad_names_refused(void **state)
{
    (void)state;
    expect_error("1a=x", "bad tag name");
    expect_error("_a=x", "bad tag name");
    expect_error("a-b=x", "bad tag name");
    expect_error("a b=x", "bad tag name");
    expect_error("=x", "bad tag name");
    expect_error("a", "missing \"=\"");
    expect_error("a=1; b", "missing \"=\"");
}

static void test_extra_semicolons_refused(void **state)
{
    (void)state;
    expect_error("a=1;; b=2", "empty tag-spec");
    expect_error("; a=1", "empty tag-spec");
    expect_error("a=1; ;", "empty tag-spec");
    expect_error("", "empty tag list");
    expect_error(" \r\n ", "empty tag list");
}

static void test_bad_value_characters_refused(void **state)
{
    (void)state;
    expect_error("a=x\001y", "bad character");
    expect_error("a=caf\xc3\xa9", "bad character");
}

static void test_no_nul_needed_and_embedded_nul_refused(void **state)
{
    (void)state;
    struct arc_tags tags;
    const char text[] = "a=1; b=2";
    assert_true(arc_tags_parse(text, 3, &tags));   /* "a=1" only */
    assert_int_equal(tags.count, 1);
    arc_tags_free(&tags);
    const char with_nul[] = { 'a', '=', '1', '\0', '2' };
    assert_false(arc_tags_parse(with_nul, sizeof with_nul, &tags));
    arc_tags_free(&tags);
}

static void test_too_many_tags_refused(void **state)
{
    (void)state;
    struct textbuf sb;
    textbuf_init(&sb);
    for (int i = 0; i <= ARC_TAGS_MAX; i++)
        textbuf_printf(&sb, "t%d=x;", i);
    struct arc_tags tags;
    assert_false(arc_tags_parse(sb.data, sb.len, &tags));
    assert_non_null(strstr(tags.error, "more than 64 tags"));
    arc_tags_free(&tags);
    textbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_list),
        cmocka_unit_test(test_white_space_and_folding_around_separators),
        cmocka_unit_test(test_value_keeps_inner_space),
        cmocka_unit_test(test_empty_value_allowed),
        cmocka_unit_test(test_names_are_case_sensitive),
        cmocka_unit_test(test_name_with_digits_and_underscore),
        cmocka_unit_test(test_duplicate_tag_refused),
        cmocka_unit_test(test_bad_names_refused),
        cmocka_unit_test(test_extra_semicolons_refused),
        cmocka_unit_test(test_bad_value_characters_refused),
        cmocka_unit_test(test_no_nul_needed_and_embedded_nul_refused),
        cmocka_unit_test(test_too_many_tags_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
