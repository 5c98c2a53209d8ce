/* test_limits.c - a limit reached on attacker input never makes a message look cleaner:
 * a spam whose Subject, Content-Type and Content-Transfer-Encoding come after 1000+ junk
 * fields (limits.max_headers), or after fields that fill limits.max_header_bytes, gets the
 * verdict of the same spam without the padding or a stricter one, with HEADER_COUNT_LIMIT or
 * HEADER_BYTES_LIMIT; the checked fields have their own byte budget
 * (limits.max_checked_header_bytes); a body past limits.max_body_buffer gets BODY_TRUNCATED,
 * enough for the spam header; the symbols take a policy action; a DKIM signature is never a
 * pass when fields were not kept. Driven through the engine as milter.c does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_fixture.h"
#include "util.h"

/* Two inline rules score 8 each: the Subject, and the base64 body once decoded (which needs
 * Content-Type and Content-Transfer-Encoding). Both hit: 16 >= 15, rejected. */
#define RULES \
    "rules: { inline = [\n" \
    "  \"header LOCAL_PILLS_SUBJECT Subject =~ /cheap pills/i\", \"score LOCAL_PILLS_SUBJECT 8.0\",\n" \
    "  \"body LOCAL_VIAGRA_BODY /buy viagra now/i\", \"score LOCAL_VIAGRA_BODY 8.0\" ] }\n"
#define POLICY "actions: { add_header = 5.0; reject = 15.0 }\n" RULES

#define SPAM_HEADERS \
    "Subject: Cheap pills\n" \
    "MIME-Version: 1.0\n" \
    "Content-Type: text/plain; charset=us-ascii\n" \
    "Content-Transfer-Encoding: base64\n"
#define SPAM_BODY "QnV5IHZpYWdyYSBub3cgYXQgdGhlIGxvd2VzdCBwcmljZSwgbGltaXRlZCBvZmZlciENCg==\n"
#define SPAM_TOP \
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n" \
    "Message-ID: <flood@sender.test>\n" \
    "From: Alice <alice@sender.test>\n" \
    "To: Bob <bob@our.test>\n"

static int setup(void **state)
{
    (void)state;
    return fixture_init() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    return 0;
}

/* The spam with `junk` fields of `junk_len` value bytes each between its top fields and its
 * Subject/MIME fields. */
static char *padded_spam(size_t junk, size_t junk_len)
{
    struct textbuf m;
    textbuf_init(&m);
    textbuf_puts(&m, SPAM_TOP);
    char *value = xcalloc(1, junk_len + 1);
    memset(value, 'x', junk_len);
    for (size_t i = 0; i < junk; i++)
        textbuf_printf(&m, "X-Junk-%04zu: %s\n", i, value);
    free(value);
    textbuf_puts(&m, SPAM_HEADERS "\n" SPAM_BODY);
    return m.data;
}

struct outcome {
    enum action action;
    double score;
};

static struct outcome run(const char *message)
{
    struct smtp_session s = {.message = message};
    struct outcome o;
    o.action = fixture_run(&s);
    o.score = fixture_txn()->verdict.score;
    return o;
}

static struct outcome run_padded(size_t junk, size_t junk_len)
{
    char *m = padded_spam(junk, junk_len);
    struct outcome o = run(m);
    free(m);
    return o;
}

static void test_header_flood_spam_is_rejected_as_unpadded(void **state)
{
    (void)state;
    fixture_policy(POLICY);
    struct outcome plain = run_padded(0, 1);
    assert_int_equal(plain.action, ACTION_REJECT);
    assert_false(fixture_has("HEADER_COUNT_LIMIT"));

    struct outcome flood = run_padded(1200, 1);
    assert_true(fixture_has("LOCAL_PILLS_SUBJECT"));
    assert_true(fixture_has("LOCAL_VIAGRA_BODY"));
    assert_true(fixture_has("HEADER_COUNT_LIMIT"));
    assert_false(fixture_has("MISSING_DATE"));
    assert_int_equal(flood.action, ACTION_REJECT);
    assert_true(flood.score >= plain.score);
    assert_true(txn_headers_truncated(fixture_txn()));
}

static void test_header_bytes_flood_spam_is_rejected_as_unpadded(void **state)
{
    (void)state;
    fixture_policy("limits: { max_header_bytes = \"4k\" }\n" POLICY);
    struct outcome plain = run_padded(0, 1);
    assert_int_equal(plain.action, ACTION_REJECT);
    assert_false(fixture_has("HEADER_BYTES_LIMIT"));

    struct outcome flood = run_padded(40, 500);     /* 20 KB of junk, under max_headers */
    assert_true(fixture_has("HEADER_BYTES_LIMIT"));
    assert_false(fixture_has("HEADER_COUNT_LIMIT"));
    assert_true(fixture_has("LOCAL_PILLS_SUBJECT"));
    assert_true(fixture_has("LOCAL_VIAGRA_BODY"));
    assert_int_equal(flood.action, ACTION_REJECT);
    assert_true(flood.score >= plain.score);
}

/* The checked fields are bounded by bytes too: Received fields past their budget are
 * dropped and the message is marked. */
static void test_checked_fields_past_their_budget_are_marked(void **state)
{
    (void)state;
    fixture_policy("limits: { max_checked_header_bytes = \"2k\" }\n" POLICY);
    struct textbuf m;
    textbuf_init(&m);
    for (int i = 0; i < 100; i++)
        textbuf_printf(&m, "Received: from hop%d.example.test by relay.example.test\n", i);
    textbuf_puts(&m, fixture_clean_message(NULL, NULL));
    struct outcome o = run(m.data);
    textbuf_free(&m);
    assert_true(fixture_has("HEADER_BYTES_LIMIT"));
    assert_true(o.score >= 5.0);
    assert_string_equal(fixture_header_edit("X-Spam-Flag"), "YES");
    assert_null(txn_header(fixture_txn(), "Received", 99));    /* not all 100 were kept */
}

/* A clean message under every limit gets none of the symbols. */
static void test_clean_message_gets_no_limit_symbol(void **state)
{
    (void)state;
    fixture_policy(POLICY);
    struct outcome o = run(fixture_clean_message("X-Mailer: test\n", NULL));
    assert_int_equal(o.action, ACTION_ACCEPT);
    assert_false(fixture_has("HEADER_COUNT_LIMIT"));
    assert_false(fixture_has("HEADER_BYTES_LIMIT"));
    assert_false(fixture_has("BODY_TRUNCATED"));
    assert_null(fixture_header_edit("X-Spam-Flag"));
}

/* The spam text after 2 KB of filler, with a 1 KB body buffer: unpadded it scores 8 (spam
 * header); padded, the checks cannot see it, and BODY_TRUNCATED keeps the spam header. */
static void test_body_truncation_keeps_the_spam_header(void **state)
{
    (void)state;
    fixture_policy("limits: { max_body_buffer = \"1k\" }\n" POLICY);
    struct outcome plain = run(fixture_clean_message(NULL, "Buy viagra now!\n"));
    assert_int_equal(plain.action, ACTION_ACCEPT);
    assert_string_equal(fixture_header_edit("X-Spam-Flag"), "YES");
    assert_false(fixture_has("BODY_TRUNCATED"));

    struct textbuf body;
    textbuf_init(&body);
    for (int i = 0; i < 40; i++)
        textbuf_puts(&body, "Nothing to see here, just a long and boring paragraph.\n");
    textbuf_puts(&body, "Buy viagra now!\n");
    struct outcome padded = run(fixture_clean_message(NULL, body.data));
    textbuf_free(&body);
    assert_true(fixture_has("BODY_TRUNCATED"));
    assert_false(fixture_has("LOCAL_VIAGRA_BODY"));   /* past the buffer: not seen */
    assert_int_equal(padded.action, ACTION_ACCEPT);
    assert_string_equal(fixture_header_edit("X-Spam-Flag"), "YES");
    assert_true(padded.score >= 5.0);
}

/* The symbols take a policy action like any other. */
static void test_limit_symbol_action_from_policy(void **state)
{
    (void)state;
    fixture_policy("symbols: { HEADER_COUNT_LIMIT: { action = \"reject\"; "
        "reply = \"550 5.7.1 Too many header fields\" } }\n"
        "actions: { add_header = 5.0; reject = 15.0 }\n");
    char *m = padded_spam(1100, 1);
    /* a clean Subject: only the limit can refuse it */
    char *subject = strstr(m, "Subject: Cheap pills");
    memcpy(subject, "Subject: Lunch-time", strlen("Subject: Lunch-time"));
    struct smtp_session s = {.message = m};
    assert_int_equal(fixture_run(&s), ACTION_REJECT);
    free(m);
    assert_string_equal(fixture_txn()->verdict.decided_by, "HEADER_COUNT_LIMIT");
    assert_string_equal(fixture_txn()->verdict.reply.text, "Too many header fields");
}

/* A field a loaded rule names is kept past max_headers like the built-in ones. */
static void test_field_named_by_a_rule_is_kept(void **state)
{
    (void)state;
    fixture_policy("actions: { add_header = 5.0; reject = 15.0 }\n"
        "rules: { inline = [ \"header LOCAL_BAD_MAILER X-Mailer =~ /BulkBlaster/\", "
        "\"score LOCAL_BAD_MAILER 20.0\" ] }\n");
    struct textbuf m;
    textbuf_init(&m);
    textbuf_puts(&m, SPAM_TOP);
    for (int i = 0; i < 1100; i++)
        textbuf_printf(&m, "X-Junk-%04d: x\n", i);
    textbuf_puts(&m, "X-Mailer: BulkBlaster 3.0\nSubject: hello\n\nhello\n");
    struct outcome o = run(m.data);
    textbuf_free(&m);
    assert_true(fixture_has("LOCAL_BAD_MAILER"));
    assert_int_equal(o.action, ACTION_REJECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_flood_spam_is_rejected_as_unpadded),
        cmocka_unit_test(test_header_bytes_flood_spam_is_rejected_as_unpadded),
        cmocka_unit_test(test_checked_fields_past_their_budget_are_marked),
        cmocka_unit_test(test_clean_message_gets_no_limit_symbol),
        cmocka_unit_test(test_body_truncation_keeps_the_spam_header),
        cmocka_unit_test(test_limit_symbol_action_from_policy),
        cmocka_unit_test(test_field_named_by_a_rule_is_kept),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
