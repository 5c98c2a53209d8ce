/* test_arc_set.c - filter/arc/arc_set.c on header fields written in the test: no ARC field is
 * no chain; well-formed chains of 1, 2 and 50 sets in any field order are ready; every rule of
 * RFC 8617 5.2 steps 1-3 (50 sets, 1..N without gap, one field of each kind per instance, the
 * AAR's leading i=, required tags, cv= none at 1 and pass above, cv=fail anywhere) makes the
 * chain invalid with a reason naming the rule and, where one is at fault, the instance. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arc_set.h"
#include "util.h"

#define MAX_FIELDS 200

struct fields {
    struct header_field field[MAX_FIELDS];
    size_t count;
};

static void add(struct fields *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct fields *f, const char *name, const char *fmt, ...)
{
    assert_true(f->count < MAX_FIELDS);
    va_list ap;
    va_start(ap, fmt);
    char *value = NULL;
    assert_true(vasprintf(&value, fmt, ap) >= 0);
    va_end(ap);
    f->field[f->count].name = xstrdup(name);
    f->field[f->count].value = value;
    f->field[f->count].raw_value = NULL;
    f->count++;
}

static void fields_free(struct fields *f)
{
    for (size_t i = 0; i < f->count; i++) {
        free(f->field[i].name);
        free(f->field[i].value);
    }
    f->count = 0;
}

static void add_seal(struct fields *f, unsigned i, const char *cv)
{
    add(f, "ARC-Seal", "i=%u; a=rsa-sha256; t=12345; cv=%s; d=example.org; s=sel;\r\n\tb=c2VhbA==", i, cv);
}

static void add_ams(struct fields *f, unsigned i)
{
    add(f, "ARC-Message-Signature", "i=%u; a=rsa-sha256; c=relaxed/relaxed; d=example.org;"
        " s=sel; h=from:to:subject; bh=Ym9keQ==; b=c2ln", i);
}

static void add_aar(struct fields *f, unsigned i)
{
    add(f, "ARC-Authentication-Results", "i=%u; lists.example.org; spf=pass smtp.mailfrom=a.test", i);
}

/* Sets n down to 1, newest first, as a message carries them. */
static void add_chain(struct fields *f, unsigned n)
{
    for (unsigned i = n; i >= 1; i--) {
        add_seal(f, i, i == 1 ? "none" : "pass");
        add_ams(f, i);
        add_aar(f, i);
    }
}

static void expect_invalid(struct fields *f, unsigned instance, const char *reason_part)
{
    struct arc_chain chain;
    arc_chain_collect(f->field, f->count, &chain);
    if (chain.state != ARC_CHAIN_INVALID || chain.bad_instance != instance
            || strstr(chain.reason, reason_part) == NULL)
        fail_msg("state %s, instance %u, reason \"%s\"; expected invalid at %u with \"%s\"",
            arc_chain_state_name(chain.state), chain.bad_instance, chain.reason, instance,
            reason_part);
    arc_chain_free(&chain);
    fields_free(f);
}

static void test_no_arc_fields_is_none(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add(&f, "From", "a@example.org");
    add(&f, "DKIM-Signature", "v=1; a=rsa-sha256; d=example.org; s=x; b=y; bh=z; h=from");
    add(&f, "Authentication-Results", "mx.test; spf=pass");
    struct arc_chain chain;
    arc_chain_collect(f.field, f.count, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_NONE);
    assert_null(chain.set);
    assert_int_equal(chain.count, 0);
    arc_chain_free(&chain);
    arc_chain_collect(NULL, 0, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_NONE);
    arc_chain_free(&chain);
    fields_free(&f);
}

static void test_one_set_ready(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add(&f, "Received", "by mx.test");
    add_chain(&f, 1);
    add(&f, "From", "a@example.org");
    struct arc_chain chain;
    arc_chain_collect(f.field, f.count, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_READY);
    assert_int_equal(chain.count, 1);
    const struct arc_set *set = &chain.set[0];
    assert_int_equal(set->instance, 1);
    assert_int_equal(set->seal_field, 1);
    assert_int_equal(set->ams_field, 2);
    assert_int_equal(set->aar_field, 3);
    assert_int_equal(set->cv, ARC_CV_NONE);
    assert_string_equal(arc_tags_get(&set->seal, "d"), "example.org");
    assert_string_equal(arc_tags_get(&set->ams, "h"), "from:to:subject");
    assert_string_equal(set->aar_payload, " lists.example.org; spf=pass smtp.mailfrom=a.test");
    arc_chain_free(&chain);
    fields_free(&f);
}

static void test_three_sets_any_order_and_name_case_ready(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add_aar(&f, 1);
    add(&f, "arc-seal", "i=3; a=rsa-sha256; cv=pass; d=example.org; s=sel; b=eA==");
    add_ams(&f, 2);
    add_seal(&f, 1, "none");
    add_aar(&f, 3);
    add(&f, "ARC-MESSAGE-SIGNATURE", "i=3; a=ed25519-sha256; d=e.test; s=s; h=from; bh=eA==; b=eA==");
    add_seal(&f, 2, "pass");
    add_ams(&f, 1);
    add_aar(&f, 2);
    struct arc_chain chain;
    arc_chain_collect(f.field, f.count, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_READY);
    assert_int_equal(chain.count, 3);
    assert_int_equal(chain.set[2].seal_field, 1);
    assert_int_equal(chain.set[2].ams_field, 5);
    assert_int_equal(chain.set[2].aar_field, 4);
    assert_int_equal(chain.set[1].cv, ARC_CV_PASS);
    assert_string_equal(arc_tags_get(&chain.set[2].ams, "a"), "ed25519-sha256");
    arc_chain_free(&chain);
    fields_free(&f);
}

static void test_fifty_sets_ready_fifty_one_invalid(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add_chain(&f, 50);
    struct arc_chain chain;
    arc_chain_collect(f.field, f.count, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_READY);
    assert_int_equal(chain.count, 50);
    arc_chain_free(&chain);
    fields_free(&f);

    add_chain(&f, 49);
    add_aar(&f, 51);
    expect_invalid(&f, 0, "does not start with i=1..50");
    add_chain(&f, 49);
    add_seal(&f, 51, "pass");
    expect_invalid(&f, 0, "ARC-Seal has no i= tag of 1..50");
    add_chain(&f, 50);
    add_aar(&f, 1);
    expect_invalid(&f, 0, "151 ARC header fields: more than 50 sets");
}

static void test_instance_values_refused(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    const char *bad[] = { "", "0", "00", "x", "1x", "-1", "+1", "100", "1 2" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        add(&f, "ARC-Seal", "i=%s; a=rsa-sha256; cv=none; d=example.org; s=sel; b=eA==", bad[k]);
        add_ams(&f, 1);
        add_aar(&f, 1);
        expect_invalid(&f, 0, "ARC-Seal has no i= tag of 1..50");
    }
    add(&f, "ARC-Message-Signature", "a=rsa-sha256; d=e.test; s=s; h=from; bh=eA==; b=eA==");
    expect_invalid(&f, 0, "ARC-Message-Signature has no i= tag");
}

static void test_aar_must_start_with_instance(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    const char *bad[] = {
        "lists.example.org; spf=pass",              /* no i= */
        "lists.example.org; i=1; spf=pass",         /* i= not first */
        "i=1 lists.example.org; spf=pass",          /* no ";" after it */
        "i=; lists.example.org",                    /* empty */
        "i=0; lists.example.org",                   /* zero */
        "i=a; lists.example.org",                   /* not a number */
        "i=123; lists.example.org",                 /* three digits */
        "I=1; lists.example.org",                   /* the tag is "i" */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        add_seal(&f, 1, "none");
        add_ams(&f, 1);
        add(&f, "ARC-Authentication-Results", "%s", bad[k]);
        expect_invalid(&f, 0, "ARC-Authentication-Results does not start with i=1..50");
    }
    const char *payload = NULL;
    assert_int_equal(arc_aar_instance(" i = 7 ;x", &payload), 7);
    assert_string_equal(payload, "x");
    assert_int_equal(arc_aar_instance("\r\n\ti=\r\n 50;", &payload), 50);
    assert_int_equal(arc_aar_instance("i=51;", &payload), 0);
}

static void test_duplicate_fields_refused(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add_chain(&f, 2);
    add_seal(&f, 1, "none");
    expect_invalid(&f, 1, "two ARC-Seal fields with i=1");
    add_chain(&f, 2);
    add_ams(&f, 2);
    expect_invalid(&f, 2, "two ARC-Message-Signature fields with i=2");
    add_chain(&f, 1);
    add_aar(&f, 1);
    expect_invalid(&f, 1, "two ARC-Authentication-Results fields with i=1");
}

static void test_missing_fields_and_gaps_refused(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add_ams(&f, 1);
    add_aar(&f, 1);
    expect_invalid(&f, 1, "no ARC-Seal with i=1");
    add_seal(&f, 1, "none");
    add_aar(&f, 1);
    expect_invalid(&f, 1, "no ARC-Message-Signature with i=1");
    add_seal(&f, 1, "none");
    add_ams(&f, 1);
    expect_invalid(&f, 1, "no ARC-Authentication-Results with i=1");
    add_chain(&f, 1);
    add_seal(&f, 3, "pass");
    add_ams(&f, 3);
    add_aar(&f, 3);
    expect_invalid(&f, 2, "no ARC-Seal with i=2 (sets must run 1..3)");
    add_seal(&f, 2, "pass");        /* the chain starts at 2 */
    add_ams(&f, 2);
    add_aar(&f, 2);
    expect_invalid(&f, 1, "no ARC-Seal with i=1");
    add_chain(&f, 2);
    add_aar(&f, 3);                 /* an AAR alone above the chain */
    expect_invalid(&f, 3, "no ARC-Seal with i=3");
}

static void test_cv_rules(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add_seal(&f, 1, "pass");
    add_ams(&f, 1);
    add_aar(&f, 1);
    expect_invalid(&f, 1, "ARC-Seal i=1 must say cv=none");
    add_seal(&f, 1, "fail");
    add_ams(&f, 1);
    add_aar(&f, 1);
    expect_invalid(&f, 1, "says cv=fail");
    add_seal(&f, 2, "none");
    add_ams(&f, 2);
    add_aar(&f, 2);
    add_chain(&f, 1);
    expect_invalid(&f, 2, "ARC-Seal i=2 must say cv=pass");
    add_seal(&f, 2, "fail");
    add_ams(&f, 2);
    add_aar(&f, 2);
    add_chain(&f, 1);
    expect_invalid(&f, 2, "ARC-Seal i=2 says cv=fail");
    add_seal(&f, 2, "pass");        /* an old failure further down still fails the chain */
    add_ams(&f, 2);
    add_aar(&f, 2);
    add_seal(&f, 1, "fail");
    add_ams(&f, 1);
    add_aar(&f, 1);
    expect_invalid(&f, 1, "ARC-Seal i=1 says cv=fail");
    const char *bad[] = { "Pass", "NONE", "", "passed", "pass fail" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        add(&f, "ARC-Seal", "i=1; a=rsa-sha256; cv=%s; d=example.org; s=sel; b=eA==", bad[k]);
        add_ams(&f, 1);
        add_aar(&f, 1);
        expect_invalid(&f, 1, k == 2 ? "has an empty cv= tag" : "cv= is not none, pass or fail");
    }
}

static void test_required_tags(void **state)
{
    (void)state;
    const char *seal_tags[] = { "i=1", "a=rsa-sha256", "cv=none", "d=example.org", "s=sel", "b=eA==" };
    const char *seal_names[] = { "i", "a", "cv", "d", "s", "b" };
    for (size_t drop = 1; drop < 6; drop++) {      /* without i= it is not at instance 1 */
        for (int empty = 0; empty <= 1; empty++) {
            struct textbuf sb;
            textbuf_init(&sb);
            for (size_t k = 0; k < 6; k++) {
                if (k != drop)
                    textbuf_printf(&sb, "%s; ", seal_tags[k]);
                else if (empty)
                    textbuf_printf(&sb, "%s=; ", seal_names[k]);
            }
            struct fields f = { .count = 0 };
            add(&f, "ARC-Seal", "%s", sb.data);
            add_ams(&f, 1);
            add_aar(&f, 1);
            char reason[80];
            snprintf(reason, sizeof reason, "ARC-Seal i=1 has %s %s= tag", empty ? "an empty" : "no",
                seal_names[drop]);
            expect_invalid(&f, 1, reason);
            textbuf_free(&sb);
        }
    }
    const char *ams_tags[] = { "i=1", "a=rsa-sha256", "d=e.test", "s=s", "h=from", "bh=eA==", "b=eA==" };
    const char *ams_names[] = { "i", "a", "d", "s", "h", "bh", "b" };
    for (size_t drop = 1; drop < 7; drop++) {
        struct textbuf sb;
        textbuf_init(&sb);
        for (size_t k = 0; k < 7; k++) {
            if (k != drop)
                textbuf_printf(&sb, "%s; ", ams_tags[k]);
        }
        struct fields f = { .count = 0 };
        add_seal(&f, 1, "none");
        add(&f, "ARC-Message-Signature", "%s", sb.data);
        add_aar(&f, 1);
        char reason[80];
        snprintf(reason, sizeof reason, "ARC-Message-Signature i=1 has no %s= tag", ams_names[drop]);
        expect_invalid(&f, 1, reason);
        textbuf_free(&sb);
    }
}

static void test_seal_h_tag_and_bad_t_refused(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add(&f, "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=example.org; s=sel; h=from; b=eA==");
    add_ams(&f, 1);
    add_aar(&f, 1);
    expect_invalid(&f, 1, "ARC-Seal i=1 has an h= tag");
    const char *bad_t[] = { "", "x", "12a", "-5", "1234567890123" };
    for (size_t k = 0; k < sizeof bad_t / sizeof bad_t[0]; k++) {
        add(&f, "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=example.org; s=sel; t=%s; b=eA==", bad_t[k]);
        add_ams(&f, 1);
        add_aar(&f, 1);
        expect_invalid(&f, 1, "t= is not a number of seconds");
    }
    add_seal(&f, 1, "none");
    add(&f, "ARC-Message-Signature", "i=1; a=rsa-sha256; d=e.test; s=s; h=from; bh=eA==; b=eA==; t=x");
    add_aar(&f, 1);
    expect_invalid(&f, 1, "ARC-Message-Signature i=1: t= is not a number of seconds");
}

static void test_tag_syntax_errors_refused(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add(&f, "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=example.org; s=sel;; b=eA==");
    add_ams(&f, 1);
    add_aar(&f, 1);
    expect_invalid(&f, 0, "ARC-Seal: empty tag-spec");
    add_seal(&f, 1, "none");
    add(&f, "ARC-Message-Signature", "i=1; a=rsa-sha256; d=e.test; d=e.test; s=s; h=from; bh=eA==; b=eA==");
    add_aar(&f, 1);
    expect_invalid(&f, 0, "ARC-Message-Signature: duplicate tag \"d\"");
}

static void test_unknown_tags_and_trailing_semicolon_ready(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add(&f, "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=example.org; s=sel; b=eA==; x=unknown;");
    add(&f, "ARC-Message-Signature", "i=1; a=rsa-sha256; d=e.test; s=s; h=from; bh=eA==; b=eA==; foo=bar;");
    add_aar(&f, 1);
    struct arc_chain chain;
    arc_chain_collect(f.field, f.count, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_READY);
    arc_chain_free(&chain);
    fields_free(&f);
}

static void test_empty_h_in_ams_ready(void **state)
{
    (void)state;
    struct fields f = { .count = 0 };
    add_seal(&f, 1, "none");
    add(&f, "ARC-Message-Signature", "i=1; a=rsa-sha256; d=e.test; s=s; h=; bh=eA==; b=eA==");
    add_aar(&f, 1);
    struct arc_chain chain;
    arc_chain_collect(f.field, f.count, &chain);
    assert_int_equal(chain.state, ARC_CHAIN_READY);
    assert_string_equal(arc_tags_get(&chain.set[0].ams, "h"), "");
    arc_chain_free(&chain);
    fields_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_arc_fields_is_none),
        cmocka_unit_test(test_one_set_ready),
        cmocka_unit_test(test_three_sets_any_order_and_name_case_ready),
        cmocka_unit_test(test_fifty_sets_ready_fifty_one_invalid),
        cmocka_unit_test(test_instance_values_refused),
        cmocka_unit_test(test_aar_must_start_with_instance),
        cmocka_unit_test(test_duplicate_fields_refused),
        cmocka_unit_test(test_missing_fields_and_gaps_refused),
        cmocka_unit_test(test_cv_rules),
        cmocka_unit_test(test_required_tags),
        cmocka_unit_test(test_seal_h_tag_and_bad_t_refused),
        cmocka_unit_test(test_tag_syntax_errors_refused),
        cmocka_unit_test(test_unknown_tags_and_trailing_semicolon_ready),
        cmocka_unit_test(test_empty_h_in_ams_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
