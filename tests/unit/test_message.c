/* test_message.c - reading a message the way the MTA hands it to a milter
 * (filter/tools/message_file.c): LF and CRLF input give the same fields and a CRLF body; folded
 * fields keep their continuation lines joined with CRLF; the first line that is not a field
 * starts the body; a message without a body, without a final newline, with NUL or 8-bit bytes,
 * empty, or larger than the read buffer; a stream that cannot be read; and a leading mbox
 * "From " line, which is no header field and is skipped as SpamAssassin skips it; a field
 * with blanks before its colon (obsolete syntax) is a field, named without the blanks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "message_file.h"

/* Reads `len` bytes of `data` as a message. */
static void read_bytes(const char *data, size_t len, struct message *msg)
{
    FILE *fp = fmemopen((void *)data, len, "r");
    assert_non_null(fp);
    assert_int_equal(message_read(fp, msg), 0);
    fclose(fp);
}

static void read_text(const char *text, struct message *msg)
{
    read_bytes(text, strlen(text), msg);
}

static void assert_header(const struct message *msg, size_t i, const char *name,
    const char *value)
{
    assert_true(i < msg->header_count);
    assert_string_equal(msg->headers[i].name, name);
    assert_string_equal(msg->headers[i].value, value);
}

static void assert_body(const struct message *msg, const char *body, size_t len)
{
    assert_int_equal(msg->body_len, len);
    if (len > 0)
        assert_memory_equal(msg->body, body, len);
}

#define ASSERT_BODY(msg, literal) assert_body((msg), (literal), sizeof(literal) - 1)

static void test_lf_input(void **state)
{
    (void)state;
    struct message msg;
    read_text("From: alice@example.com\nTo: bob@example.org\nSubject: hi\n\nline 1\nline 2\n",
        &msg);
    assert_int_equal(msg.header_count, 3);
    assert_header(&msg, 0, "From", "alice@example.com");
    assert_header(&msg, 1, "To", "bob@example.org");
    assert_header(&msg, 2, "Subject", "hi");
    ASSERT_BODY(&msg, "line 1\r\nline 2\r\n");
    message_free(&msg);
    assert_null(msg.headers);
    assert_null(msg.body);
}

static void test_crlf_input(void **state)
{
    (void)state;
    struct message msg;
    read_text("From: alice@example.com\r\nSubject: hi\r\n\r\nline 1\r\nline 2\r\n", &msg);
    assert_int_equal(msg.header_count, 2);
    assert_header(&msg, 0, "From", "alice@example.com");
    assert_header(&msg, 1, "Subject", "hi");
    ASSERT_BODY(&msg, "line 1\r\nline 2\r\n");
    message_free(&msg);
}

static void test_mixed_line_ends_in_body(void **state)
{
    (void)state;
    struct message msg;
    read_text("A: b\n\none\r\ntwo\nthree\r\n\nfive", &msg);
    ASSERT_BODY(&msg, "one\r\ntwo\r\nthree\r\n\r\nfive");
    message_free(&msg);
}

static void test_folded_header(void **state)
{
    (void)state;
    struct message msg;
    read_text("Subject: one\n two\n\tthree\nTo: x@example.org\n\nbody\n", &msg);
    assert_int_equal(msg.header_count, 2);
    assert_header(&msg, 0, "Subject", "one\r\n two\r\n\tthree");
    assert_header(&msg, 1, "To", "x@example.org");
    message_free(&msg);

    read_text("Received: from a\r\n\tby b\r\n\r\n", &msg);
    assert_header(&msg, 0, "Received", "from a\r\n\tby b");
    assert_int_equal(msg.body_len, 0);
    message_free(&msg);
}

static void test_header_value_forms(void **state)
{
    (void)state;
    struct message msg;
    read_text("X-Empty:\nX-Tight:value\nX-Spaces:   three\nX-Colon: a: b\n\n", &msg);
    assert_int_equal(msg.header_count, 4);
    assert_header(&msg, 0, "X-Empty", "");
    assert_header(&msg, 1, "X-Tight", "value");
    assert_header(&msg, 2, "X-Spaces", "  three");    /* only the first space is dropped */
    assert_header(&msg, 3, "X-Colon", "a: b");
    message_free(&msg);
}

static void test_non_header_line_starts_body(void **state)
{
    (void)state;
    struct message msg;
    read_text("From: alice@example.com\nthis is not a header\nSubject: not one either\n", &msg);
    assert_int_equal(msg.header_count, 1);
    assert_header(&msg, 0, "From", "alice@example.com");
    ASSERT_BODY(&msg, "this is not a header\r\nSubject: not one either\r\n");
    message_free(&msg);

    /* a continuation line before any field is body too */
    read_text(" indented first line\nFrom: x\n", &msg);
    assert_int_equal(msg.header_count, 0);
    ASSERT_BODY(&msg, " indented first line\r\nFrom: x\r\n");
    message_free(&msg);

    /* ":" with no name is not a field */
    read_text(": no name\n", &msg);
    assert_int_equal(msg.header_count, 0);
    ASSERT_BODY(&msg, ": no name\r\n");
    message_free(&msg);
}

static void test_no_body(void **state)
{
    (void)state;
    struct message msg;
    read_text("From: a@example.com\nTo: b@example.org\n", &msg);
    assert_int_equal(msg.header_count, 2);
    assert_int_equal(msg.body_len, 0);
    message_free(&msg);

    read_text("From: a@example.com\n\n", &msg);
    assert_int_equal(msg.header_count, 1);
    assert_int_equal(msg.body_len, 0);
    message_free(&msg);
}

static void test_no_trailing_newline(void **state)
{
    (void)state;
    struct message msg;
    read_text("From: a@example.com\nTo: b@example.org", &msg);
    assert_int_equal(msg.header_count, 2);
    assert_header(&msg, 1, "To", "b@example.org");
    assert_int_equal(msg.body_len, 0);
    message_free(&msg);

    read_text("From: a@example.com\n\nlast line", &msg);
    ASSERT_BODY(&msg, "last line");
    message_free(&msg);
}

static void test_nul_and_8bit_bytes(void **state)
{
    (void)state;
    static const char input[] = "Subject: caf\xc3\xa9\nX-Bin: \xff\xfe\n\nx\0y\n\xff\0\n";
    struct message msg;
    read_bytes(input, sizeof input - 1, &msg);
    assert_int_equal(msg.header_count, 2);
    assert_header(&msg, 0, "Subject", "caf\xc3\xa9");
    assert_header(&msg, 1, "X-Bin", "\xff\xfe");
    static const char body[] = "x\0y\r\n\xff\0\r\n";
    assert_body(&msg, body, sizeof body - 1);
    message_free(&msg);

    /* a NUL inside a field ends its value as a C string, and reading goes on */
    static const char nul_header[] = "X-Nul: a\0b\nTo: c\n\nbody\n";
    read_bytes(nul_header, sizeof nul_header - 1, &msg);
    assert_int_equal(msg.header_count, 2);
    assert_string_equal(msg.headers[0].value, "a");
    assert_header(&msg, 1, "To", "c");
    ASSERT_BODY(&msg, "body\r\n");
    message_free(&msg);
}

static void test_empty_input(void **state)
{
    (void)state;
    struct message msg;
    read_bytes("", 0, &msg);
    assert_int_equal(msg.header_count, 0);
    assert_int_equal(msg.body_len, 0);
    message_free(&msg);

    read_text("\n", &msg);
    assert_int_equal(msg.header_count, 0);
    assert_int_equal(msg.body_len, 0);
    message_free(&msg);
}

static void test_large_message(void **state)
{
    (void)state;
    /* more than the 64 KiB first read buffer, all bare LF */
    enum { LINES = 100000 };
    static char input[sizeof "A: b\n\n" - 1 + 2 * LINES];
    size_t n = 0;
    memcpy(input, "A: b\n\n", 6);
    n = 6;
    for (int i = 0; i < LINES; i++) {
        input[n++] = 'x';
        input[n++] = '\n';
    }
    struct message msg;
    read_bytes(input, n, &msg);
    assert_int_equal(msg.header_count, 1);
    assert_int_equal(msg.body_len, 3 * LINES);
    for (size_t i = 0; i < msg.body_len; i += 3)
        assert_memory_equal(msg.body + i, "x\r\n", 3);
    message_free(&msg);
}

static void test_unreadable_stream(void **state)
{
    (void)state;
    FILE *fp = fopen("/dev/null", "w");   /* reading a write-only stream fails */
    assert_non_null(fp);
    struct message msg;
    assert_int_equal(message_read(fp, &msg), -1);
    assert_int_equal(msg.header_count, 0);
    assert_null(msg.body);
    fclose(fp);
}

static void test_mbox_from_line_skipped(void **state)
{
    (void)state;
    struct message msg;
    read_text("From alice@example.com  Sat Feb  5 09:19:10 2022\nFrom: Alice <alice@example.com>\n"
              "Subject: hi\n\nbody\n", &msg);
    assert_int_equal(msg.header_count, 2);
    assert_header(&msg, 0, "From", "Alice <alice@example.com>");
    assert_header(&msg, 1, "Subject", "hi");
    assert_body(&msg, "body\r\n", 6);
    message_free(&msg);
}

static void test_blanks_before_colon_still_a_field(void **state)
{
    (void)state;
    struct message msg;
    read_text("Received: from x\nFrom  :<tst1@example.com>\nSubject\t: hi\nTo: b@example.org\n"
              "\nbody\n", &msg);
    assert_int_equal(msg.header_count, 4);
    assert_header(&msg, 1, "From", "<tst1@example.com>");
    assert_header(&msg, 2, "Subject", "hi");
    assert_header(&msg, 3, "To", "b@example.org");
    message_free(&msg);
    read_text("Not a field line\nFrom: a@b\n", &msg);     /* blanks inside a name: the body */
    assert_int_equal(msg.header_count, 0);
    message_free(&msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lf_input),
        cmocka_unit_test(test_crlf_input),
        cmocka_unit_test(test_mixed_line_ends_in_body),
        cmocka_unit_test(test_folded_header),
        cmocka_unit_test(test_header_value_forms),
        cmocka_unit_test(test_non_header_line_starts_body),
        cmocka_unit_test(test_no_body),
        cmocka_unit_test(test_no_trailing_newline),
        cmocka_unit_test(test_nul_and_8bit_bytes),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_large_message),
        cmocka_unit_test(test_unreadable_stream),
        cmocka_unit_test(test_mbox_from_line_skipped),
        cmocka_unit_test(test_blanks_before_colon_still_a_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
