/* test_arc_check.c - the ARC check driven through the engine as milter.c drives it
 * (check_arc.c, arc_result.c, arc_config.c): a message without ARC fields gets arc=none with
 * smtp.remote-ip in our Authentication-Results (arc.report_none) and ARC_NONE; a structurally broken chain gets
 * arc=fail and ARC_INVALID with the instance at fault, never a pass for DMARC; outbound mail
 * and arc.enabled = false are not verified; mode "shadow" keeps the score out; the `arc`
 * section's errors name the option and the fix (seal key missing or not in dkim.keys, values
 * out of range, unknown options). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_config.h"
#include "arc_result.h"
#include "pattern.h"
#include "policy_fixture.h"
#include "util.h"

/* A test key only (ed25519), for the seal key of the policy tests. */
static const char test_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIOnRkSqDe7KPXhKoECcscr9fQqrw+mdtQfRgHdFotzLx\n"
    "-----END PRIVATE KEY-----\n";
static char key_dir[64];
static char key_path[128];

static int setup(void **state)
{
    (void)state;
    strcpy(key_dir, "/tmp/mw-test-arc.XXXXXX");
    if (mkdtemp(key_dir) == NULL || !fixture_init())
        return -1;
    snprintf(key_path, sizeof key_path, "%s/seal.key", key_dir);
    int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    bool ok = write(fd, test_key, sizeof test_key - 1) == (ssize_t)(sizeof test_key - 1);
    close(fd);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fixture_cleanup();
    unlink(key_path);
    rmdir(key_dir);
    return 0;
}

static const char *authres(void)
{
    const char *v = fixture_header_edit("Authentication-Results");
    assert_non_null(v);
    return v;
}

static void test_no_chain_is_none(void **state)
{
    (void)state;
    fixture_policy("arc: { report_none = true }\n");
    struct smtp_session s = {.message = fixture_clean_message(NULL, NULL)};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_NONE"));
    assert_non_null(strstr(authres(), "arc=none smtp.remote-ip=203.0.113.5"));
    const struct arc_outcome *o = arc_result_get(fixture_txn());
    assert_true(o->checked);
    assert_int_equal(o->verdict.status, ARC_STATUS_NONE);
    assert_int_equal(o->verdict.count, 0);
    assert_string_equal(arc_result_symbol(o), "ARC_NONE");
    /* without report_none: the symbol, but nothing in Authentication-Results */
    fixture_policy("arc: { enabled = true }\n");
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_NONE"));
    assert_null(strstr(authres(), "arc="));
}

/* An AAR of instance 2 without instance 1 and without its seal and signature. */
#define BROKEN_CHAIN \
    "ARC-Authentication-Results: i=2; lists.forwarder.test; spf=pass smtp.mailfrom=sender.test\n"

static void test_broken_chain_is_invalid(void **state)
{
    (void)state;
    fixture_policy("arc: { enabled = true }\n");
    struct smtp_session s = {.message = fixture_clean_message(BROKEN_CHAIN, NULL)};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_INVALID"));
    assert_false(fixture_has("ARC_PASS"));
    assert_true(fixture_score_of("ARC_INVALID") > 0);
    assert_non_null(strstr(authres(), "arc=fail smtp.remote-ip=203.0.113.5"));
    const struct arc_outcome *o = arc_result_get(fixture_txn());
    assert_int_equal(o->verdict.status, ARC_STATUS_FAIL);
    assert_int_equal(o->verdict.reason, ARC_REASON_STRUCTURE);
    assert_int_equal(o->verdict.fail_instance, 1);
    assert_int_equal(o->verdict.seal_cv, ARC_CV_FAIL);
    /* the AAR says spf=pass, but the chain failed: no trusted forwarder */
    struct pattern_list sealers;
    pattern_list_init(&sealers, PATTERN_DOMAINS);
    assert_true(pattern_list_add(&sealers, "forwarder.test", "test", 1, NULL, NULL));
    char sealer[256] = "x";
    assert_false(arc_result_trusted_pass(fixture_txn(), &sealers, sealer, sizeof sealer));
    assert_string_equal(sealer, "");
    pattern_list_free(&sealers);
}

static void test_shadow_keeps_score_out(void **state)
{
    (void)state;
    fixture_policy("arc: { mode = \"shadow\" }\n");
    struct smtp_session s = {.message = fixture_clean_message(BROKEN_CHAIN, NULL)};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_true(fixture_has("ARC_INVALID"));
    struct txn *t = fixture_txn();
    for (size_t i = 0; i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, "ARC_INVALID") == 0)
            assert_true(t->results[i].shadow);
    }
}

static void test_not_verified_when_off_or_outbound(void **state)
{
    (void)state;
    fixture_policy("arc: { enabled = false }\n");
    struct smtp_session s = {.message = fixture_clean_message(BROKEN_CHAIN, NULL)};
    assert_int_equal(fixture_run(&s), ACTION_ACCEPT);
    assert_false(fixture_has("ARC_INVALID"));
    assert_null(strstr(authres(), "arc="));
    assert_false(arc_result_get(fixture_txn())->checked);

    fixture_policy("networks: { internal = [ \"192.0.2.0/24\" ] }\n");
    struct smtp_session out = {.client_ip = "192.0.2.7",
        .message = fixture_clean_message(BROKEN_CHAIN, NULL)};
    assert_int_equal(fixture_run(&out), ACTION_ACCEPT);
    assert_false(fixture_has("ARC_INVALID"));
    assert_false(fixture_has("ARC_NONE"));
    assert_false(arc_result_get(fixture_txn())->checked);
}

static bool errors_mention(const struct config_errors *e, const char *text)
{
    for (size_t i = 0; i < e->count; i++) {
        const struct config_error *x = &e->items[i];
        if ((x->reason && strstr(x->reason, text)) || (x->option && strstr(x->option, text)))
            return true;
    }
    return false;
}

static void expect_error(const char *policy, const char *text)
{
    struct config_errors e = {0};
    struct config *cfg = fixture_load(policy, &e);
    if (cfg != NULL)
        config_free(cfg);
    assert_null(cfg);
    if (!errors_mention(&e, text)) {
        for (size_t i = 0; i < e.count; i++)
            print_error("got: %s:%d: %s: %s\n", e.items[i].file, e.items[i].line,
                e.items[i].option, e.items[i].reason);
        fail_msg("no error mentions \"%s\"", text);
    }
    config_errors_free(&e);
}

static void test_policy_errors(void **state)
{
    (void)state;
    expect_error("arc: { max_instances = 51 }\n", "arc.max_instances");
    expect_error("arc: { max_key_lookups = 101 }\n", "arc.max_key_lookups");
    expect_error("arc: { enabeld = true }\n", "did you mean enabled");
    expect_error("arc: { seal = { enabled = true; relayed = true } }\n", "no key is named");
    expect_error("arc: { seal = { enabled = true; relayed = true; key = \"nope\" } }\n",
        "no key named \"nope\" in dkim.keys");
    expect_error("arc: { seal = { enabled = true; kye = \"x\" } }\n", "did you mean key");
    expect_error("arc: { seal = { clients = [ \"not a network\" ] } }\n", "arc.seal.clients");
    char *policy = xasprintf("dkim: { keys = ( { name = \"seal\"; domain = \"our.test\"; "
        "selector = \"arc\"; file = \"%s\"; } ) }\n"
        "arc: { seal = { enabled = true; key = \"seal\" } }\n", key_path);
    expect_error(policy, "no mail is chosen");
    free(policy);
}

static void test_policy_seal_key_resolved(void **state)
{
    (void)state;
    char *policy = xasprintf("dkim: { keys = ( { name = \"other\"; domain = \"x.test\"; "
        "selector = \"a\"; file = \"%s\"; }, { name = \"seal\"; domain = \"our.test\"; "
        "selector = \"arc\"; file = \"%s\"; } ) }\n"
        "arc: { max_instances = 10; seal = { enabled = true; key = \"seal\"; "
        "recipients = [ \"@lists.our.test\" ]; clients = [ \"198.51.100.0/24\" ] } }\n",
        key_path, key_path);
    struct config *cfg = fixture_load_ok(policy);
    free(policy);
    assert_int_equal(cfg->arc->max_instances, 10);
    assert_true(cfg->arc->seal.enabled);
    assert_int_equal(cfg->arc->seal.key_index, 1);
    assert_int_equal(cfg->arc->seal.recipients.count, 1);
    assert_int_equal(cfg->arc->seal.clients.count, 1);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_chain_is_none, fixture_fresh),
        cmocka_unit_test_setup(test_broken_chain_is_invalid, fixture_fresh),
        cmocka_unit_test_setup(test_shadow_keeps_score_out, fixture_fresh),
        cmocka_unit_test_setup(test_not_verified_when_off_or_outbound, fixture_fresh),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_policy_seal_key_resolved),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
