/* test_fuzz_mail.c - the message reader the mail fuzz targets share (tests/fuzz/fuzz_mail.c):
 * it must hand the targets every header field it reads, whether the header block ends at an
 * empty line or at the end of the input, or the targets fuzz messages without their fields. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "fuzz_mail.h"
#include "util.h"

static void test_split_counts_fields_before_the_empty_line(void **state)
{
    (void)state;
    char *text = xstrdup("From: a@example.com\nSubject: one\n two\n\nbody line\n");
    struct header_field fields[4];
    size_t count = 99;
    char *body = fuzz_mail_split(text, fields, 1, &count);
    assert_int_equal(count, 2);
    assert_string_equal(fields[1].name, "From");
    assert_string_equal(fields[1].value, " a@example.com");
    assert_string_equal(fields[2].name, "Subject");
    assert_string_equal(fields[2].value, " one\n two");
    assert_string_equal(body, "body line\n");
    free(text);
}

static void test_split_counts_fields_before_a_crlf_empty_line(void **state)
{
    (void)state;
    char *text = xstrdup("From: a@example.com\r\n\r\nbody\r\n");
    struct header_field fields[2];
    size_t count = 99;
    char *body = fuzz_mail_split(text, fields, 0, &count);
    assert_int_equal(count, 1);
    assert_string_equal(fields[0].value, " a@example.com");
    assert_string_equal(body, "body\r\n");
    free(text);
}

static void test_split_header_block_without_body(void **state)
{
    (void)state;
    char *text = xstrdup("From: a@example.com\nTo: b@example.com");
    struct header_field fields[2];
    size_t count = 99;
    char *body = fuzz_mail_split(text, fields, 0, &count);
    assert_int_equal(count, 2);
    assert_string_equal(fields[1].name, "To");
    assert_string_equal(body, "");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_counts_fields_before_the_empty_line),
        cmocka_unit_test(test_split_counts_fields_before_a_crlf_empty_line),
        cmocka_unit_test(test_split_header_block_without_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
