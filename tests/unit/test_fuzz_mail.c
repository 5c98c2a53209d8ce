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

struct split_case {
    const char *input;
    size_t first;              /* the slot the reader fills from */
    size_t count;              /* fields it must report */
    const char *last_name, *last_value;   /* of the last field */
    const char *body;
};

static void check_split(const struct split_case *c)
{
    char *text = xstrdup(c->input);
    struct header_field fields[8];
    size_t count = 99;
    char *body = fuzz_mail_split(text, fields, c->first, &count);
    assert_int_equal(count, c->count);
    assert_string_equal(fields[c->first + count - 1].name, c->last_name);
    assert_string_equal(fields[c->first + count - 1].value, c->last_value);
    assert_string_equal(body, c->body);
    free(text);
}

static void test_split_counts_fields_before_the_empty_line(void **state)
{
    (void)state;
    static const struct split_case lf = { "From: a@example.com\nSubject: one\n two\n\nbody line\n",
        1, 2, "Subject", " one\n two", "body line\n" };
    static const struct split_case crlf = { "From: a@example.com\r\n\r\nbody\r\n",
        0, 1, "From", " a@example.com", "body\r\n" };
    check_split(&lf);
    check_split(&crlf);
}

static void test_split_header_block_without_body(void **state)
{
    (void)state;
    static const struct split_case no_body = { "From: a@example.com\nTo: b@example.com",
        0, 2, "To", " b@example.com", "" };
    check_split(&no_body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_counts_fields_before_the_empty_line),
        cmocka_unit_test(test_split_header_block_without_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
