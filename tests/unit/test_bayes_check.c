/* test_bayes_check.c - Bayes through the engine (tests/unit/policy_fixture.c) on the embedded
 * store: the `bayes` section's defaults and errors; a database trained with 200+200 crafted
 * messages gives an unseen spam BAYES_99 (+ BAYES_999) and an unseen ham BAYES_00 with
 * SpamAssassin's scores; below the minimum counts nothing is added; a spam scoring over 12
 * points without Bayes, 3 of them from header and 3 from body tests, is autolearnt, one
 * between the thresholds, one without the header points or one whose points are from
 * noautolearn rules is not (tflags autolearn_force waives the split); the points as SpamAssassin
 * 4.0 counts them (the set without Bayes, metas split by their dependencies, autolearn_header /
 * autolearn_body, rawbody as body and full as neither, rounding); per_user classifies with the
 * first recipient's database; SpamAssassin's 23_bayes.cf rules hit through the rules'
 * check_bayes with score set 2 (no resolver), an inline check_bayes rule by its range;
 * disabled, nothing runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bayes_corpus.h"
#include "bayes_db.h"
#include "bayes_policy.h"
#include "bayes_result.h"
#include "config_errors.h"
#include "policy_fixture.h"
#include "rules.h"

#define BASE "spam: { enabled = false }\nrules: { files = [ ] }\n"

/* The crafted message as the fixture takes it ("\n" line ends), with extra body text. */
static const char *message_text(bool spam, unsigned seed, const char *extra)
{
    static char out[32768];
    static struct corpus_message m;
    corpus_make(&m, spam, seed);
    int n = corpus_format(&m, out, sizeof out - 256);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (out[i] != '\r')
            out[k++] = out[i];
    }
    out[k] = '\0';
    if (extra != NULL)
        strncat(out, extra, sizeof out - k - 1);
    return out;
}

static struct bayes_db db_of(const char *name)
{
    struct config *cfg = config_current();
    const struct bayes_policy *p = cfg->bayes;
    assert_non_null(p->store);
    struct bayes_db db;      /* the store is process-lifetime: it outlives the reference */
    assert_true(bayes_db_init(&db, p->store, name, p->token_ttl_ms, p->seen_ttl_ms));
    config_release(cfg);
    return db;
}

static void train(const char *name, unsigned spam, unsigned ham)
{
    struct bayes_db db = db_of(name);
    struct bayes_tokens set = { 0 };
    static struct corpus_message m;
    for (unsigned i = 0; i < spam + ham; i++) {
        bool is_spam = i < spam;
        corpus_make(&m, is_spam, is_spam ? i : i - spam);
        bayes_tokenize_message(&m.msg, &set);
        enum bayes_learn_outcome out;
        assert_int_equal(bayes_db_learn(&db, &set, is_spam, &out), STORE_OK);
    }
    bayes_tokens_free(&set);
}

static int64_t spam_count(const char *name)
{
    struct bayes_db db = db_of(name);
    int64_t ns, nh;
    assert_int_equal(bayes_db_message_counts(&db, &ns, &nh), STORE_OK);
    return ns;
}

static int64_t ham_count(const char *name)
{
    struct bayes_db db = db_of(name);
    int64_t ns, nh;
    assert_int_equal(bayes_db_message_counts(&db, &ns, &nh), STORE_OK);
    return nh;
}

static enum action run(bool spam, unsigned seed, const char *extra, const char *rcpt)
{
    struct smtp_session s = { .message = message_text(spam, seed, extra) };
    if (rcpt != NULL)
        s.rcpts[0] = rcpt;
    return fixture_run(&s);
}

static void test_policy_defaults_and_errors(void **state)
{
    (void)state;
    struct config *cfg = fixture_load_ok("bayes: { enabled = true }\n");
    assert_true(cfg->bayes->enabled);
    assert_false(cfg->bayes->per_user);
    assert_int_equal(cfg->bayes->min_spam, 200);
    assert_int_equal(cfg->bayes->min_ham, 200);
    assert_true(cfg->bayes->autolearn_spam == 12.0);
    assert_true(cfg->bayes->autolearn_ham == 0.1);
    assert_int_equal(cfg->bayes->max_tokens, 150000);
    assert_int_equal(cfg->bayes->token_ttl_ms, 21ULL * 86400 * 1000);
    config_free(cfg);
    struct config_errors errs = {0};
    assert_null(fixture_load("bayes: { database = \"everyone\" }\n", &errs));
    assert_string_equal(errs.items[0].option, "bayes.database");
    config_errors_free(&errs);
    assert_null(fixture_load("bayes: { enabled = true; autolearn_threshold_ham = 20.0 }\n", &errs));
    assert_string_equal(errs.items[0].option, "bayes.autolearn_threshold_ham");
    config_errors_free(&errs);
    assert_null(fixture_load("bayes: { store = \"nowhere\" }\n", &errs));
    assert_int_equal(errs.count, 1);
    config_errors_free(&errs);
}

static void test_trained_classifies_spam_and_ham(void **state)
{
    (void)state;
    fixture_policy(BASE "bayes: { enabled = true; autolearn = false }\n");
    train("global", 200, 200);
    run(true, 1000, NULL, NULL);
    assert_true(fixture_has("BAYES_99"));
    assert_true(fixture_has("BAYES_999"));
    assert_true(fixture_score_of("BAYES_99") == 3.5);
    assert_false(fixture_has("BAYES_00"));
    run(false, 1000, NULL, NULL);
    assert_true(fixture_has("BAYES_00"));
    assert_true(fixture_score_of("BAYES_00") == -1.9);
    assert_false(fixture_has("BAYES_99"));
}

static void test_nothing_below_minimum_counts(void **state)
{
    (void)state;
    fixture_policy(BASE "bayes: { enabled = true; autolearn = false }\n");
    train("global", 199, 200);
    run(true, 1000, NULL, NULL);
    assert_false(fixture_has("BAYES_99"));
    assert_false(fixture_has("BAYES_50"));
}

static enum action run_from(const char *sender, bool spam, unsigned seed, const char *extra)
{
    struct smtp_session s = { .message = message_text(spam, seed, extra), .sender = sender };
    return fixture_run(&s);
}

/* The rules of the autolearn tests: a header rule that hits on the envelope sender
 * marked@..., body rules on markers in the text. */
#define AUTOLEARN_RULE_LIST \
    "rules: { files = [ ]; inline = [ \"header HDR_MARK EnvelopeFrom =~ /marked@/\"," \
    " \"score HDR_MARK 3.0\", \"body MARK_HIGH /marker-high/\", \"score MARK_HIGH 12.5\"," \
    " \"body MARK_MID /marker-mid/\", \"score MARK_MID 6.0\"," \
    " \"body MARK_FORCE /marker-force/\", \"score MARK_FORCE 12.5\"," \
    " \"tflags MARK_FORCE autolearn_force\"," \
    " \"body MARK_NOAL /marker-noal/\", \"score MARK_NOAL 9.5\"," \
    " \"tflags MARK_NOAL noautolearn\" ] }\n"
#define AUTOLEARN_RULES AUTOLEARN_RULE_LIST "actions: { reject = 1000.0 }\n"

static void test_autolearn_by_threshold(void **state)
{
    (void)state;
    fixture_policy("spam: { enabled = false }\nbayes: { enabled = true }\n" AUTOLEARN_RULES);
    train("global", 200, 200);
    assert_int_equal(spam_count("global"), 200);
    run_from("marked@sender.test", true, 2000, "marker-mid\n");   /* 9 points: not learnt */
    assert_true(fixture_has("MARK_MID"));
    assert_true(fixture_has("HDR_MARK"));
    assert_int_equal(spam_count("global"), 200);
    run_from("marked@sender.test", true, 2001, "marker-high\n");  /* 15.5, 3 header: learnt */
    assert_true(fixture_has("MARK_HIGH"));
    assert_int_equal(spam_count("global"), 201);
}

/* SpamAssassin learns a spam only with 3 header and 3 body points: 12.5 body points alone
 * are not learnt (the old code learnt them), unless the rule has tflags autolearn_force. */
static void test_autolearn_spam_needs_header_and_body_points(void **state)
{
    (void)state;
    fixture_policy("spam: { enabled = false }\nbayes: { enabled = true }\n" AUTOLEARN_RULES);
    train("global", 200, 200);
    run_from("plain@sender.test", true, 2002, "marker-high\n");   /* 12.5 body, 0 header */
    assert_true(fixture_has("MARK_HIGH"));
    assert_false(fixture_has("HDR_MARK"));
    assert_int_equal(spam_count("global"), 200);
    run_from("plain@sender.test", true, 2003, "marker-force\n");  /* autolearn_force */
    assert_true(fixture_has("MARK_FORCE"));
    assert_int_equal(spam_count("global"), 201);
}

/* A noautolearn rule's points do not count: 3 header + 9.5 noautolearn body = 12.5 scored,
 * 3 for autolearn. */
static void test_autolearn_ignores_noautolearn_rules(void **state)
{
    (void)state;
    fixture_policy("spam: { enabled = false }\nbayes: { enabled = true }\n" AUTOLEARN_RULES);
    train("global", 200, 200);
    run_from("marked@sender.test", true, 2004, "marker-noal\n");
    assert_true(fixture_has("MARK_NOAL"));
    assert_true(fixture_has("HDR_MARK"));
    assert_int_equal(spam_count("global"), 200);
}

/* SpamAssassin learns a spam only when it also scored as spam (is_spam(): its whole score at
 * or above required_score), a ham only when it did not. mailwarden's equivalent is the lowest
 * score threshold in force: 15.5 points are learnt with add_header at 5 but not when the only
 * threshold is a reject at 20; a ham with no autolearn points but 9.5 points of a noautolearn
 * rule (over add_header's 5) is not learnt as ham, a plain one is. */
static void test_autolearn_needs_the_message_scored_as_spam(void **state)
{
    (void)state;
    fixture_policy("spam: { enabled = false }\nbayes: { enabled = true }\n" AUTOLEARN_RULE_LIST
        "actions: { add_header = 0.0; reject = 20.0 }\n");
    train("global", 200, 200);
    run_from("marked@sender.test", true, 2200, "marker-high\n");
    assert_true(fixture_has("MARK_HIGH"));
    assert_true(fixture_has("HDR_MARK"));
    assert_int_equal(spam_count("global"), 200);        /* under every threshold: not spam */

    fixture_policy("spam: { enabled = false }\nbayes: { enabled = true }\n" AUTOLEARN_RULE_LIST
        "actions: { add_header = 5.0; reject = 1000.0 }\n");
    train("global", 200, 200);
    run_from("marked@sender.test", true, 2201, "marker-high\n");
    assert_int_equal(spam_count("global"), 201);

    int64_t hams = ham_count("global");
    run_from("plain@sender.test", false, 2202, "marker-noal\n");
    assert_true(fixture_has("MARK_NOAL"));
    assert_int_equal(ham_count("global"), hams);         /* scored as spam: not learnt as ham */
    run_from("plain@sender.test", false, 2203, NULL);
    assert_int_equal(ham_count("global"), hams + 1);
}

/* A spam Bayes calls BAYES_99 and a ham it calls BAYES_00, each learnt or not. */
static void autolearn_what_bayes_knew(const char *bayes_section, unsigned seed, int learnt)
{
    char policy[2048];
    snprintf(policy, sizeof policy, "spam: { enabled = false }\n%s\n" AUTOLEARN_RULES,
        bayes_section);
    fixture_policy(policy);
    train("global", 200, 200);
    run_from("marked@sender.test", true, seed, "marker-high\n");
    assert_true(fixture_has("MARK_HIGH"));
    assert_true(fixture_has("BAYES_99"));
    assert_int_equal(spam_count("global"), 200 + learnt);
    int64_t hams = ham_count("global");
    run_from("plain@sender.test", false, seed + 1, NULL);
    assert_true(fixture_has("BAYES_00"));
    assert_int_equal(ham_count("global"), hams + learnt);
}

/* bayes.autolearn_on_error (bayes_auto_learn_on_error): what Bayes already called BAYES_99 or
 * BAYES_00 is not learnt again; off (the default), it is. */
static void test_autolearn_on_error_skips_what_bayes_already_knew(void **state)
{
    (void)state;
    autolearn_what_bayes_knew("bayes: { enabled = true; autolearn_on_error = true }", 2300, 0);
    autolearn_what_bayes_knew("bayes: { enabled = true }", 2302, 1);
}

/* SpamAssassin 4.0's _get_autolearn_points, point by point: each case below is learnt or
 * not as 4.0.1 decides it (PerMsgStatus.pm), and each was decided the other way before. */
#define AUTOLEARN_40_RULES(more) \
    "rules: { files = [ ]; inline = [ \"header HDR_MARK EnvelopeFrom =~ /marked@/\"," \
    " \"score HDR_MARK 3.0\", \"body MARK_HIGH /marker-high/\", \"score MARK_HIGH 12.5\"" \
    more " ] }\n" "actions: { reject = 1000.0 }\n"
#define LEARN_POLICY(more) \
    "spam: { enabled = false }\nbayes: { enabled = true }\n" AUTOLEARN_40_RULES(more)

/* The points are the scores of the message's set without the Bayes bit: scored in set 2 (Bayes
 * trained, no resolver) MARK_SETS is 13, but autolearn counts its set 0 score, 1: 4 points. */
static void test_autolearn_counts_the_score_set_without_bayes(void **state)
{
    (void)state;
    fixture_policy(LEARN_POLICY(", \"body MARK_SETS /marker-sets/\", \"score MARK_SETS 1 1 13 13\""));
    train("global", 200, 200);
    run_from("marked@sender.test", true, 2100, "marker-sets\n");
    assert_true(fixture_has("HDR_MARK"));
    assert_true(fixture_score_of("MARK_SETS") == 13.0);
    assert_int_equal(spam_count("global"), 200);
}

/* A meta rule's points are split by the types of the rules its expression names: 4 body and 1
 * header dependency make 12 points 9.6 body and 2.4 header (under 3: not learnt); a meta over
 * body rules only has no header points. Before, a meta counted for neither side. */
#define META_DEPS ", \"body __B1 /marker-meta/\", \"body __B2 /marker-meta/\"," \
    " \"body __B3 /marker-meta/\", \"body __B4 /marker-meta/\"," \
    " \"header __H1 EnvelopeFrom =~ /metahead/\"," \
    " \"meta META_SPLIT __B1 && __B2 && __B3 && __B4 && __H1\", \"score META_SPLIT 12\"," \
    " \"body __C1 /marker-body-meta/\", \"body __C2 /marker-body-meta/\"," \
    " \"meta META_BODY __C1 && __C2\", \"score META_BODY 13\"," \
    " \"header HDR_MORE EnvelopeFrom =~ /more/\", \"score HDR_MORE 1\""
static void test_autolearn_splits_a_meta_by_its_dependencies(void **state)
{
    (void)state;
    fixture_policy(LEARN_POLICY(META_DEPS));
    train("global", 200, 200);
    run_from("metahead@sender.test", true, 2110, "marker-meta\n");
    assert_true(fixture_has("META_SPLIT"));
    assert_int_equal(spam_count("global"), 200);
    run_from("plain@sender.test", true, 2111, "marker-body-meta\n");
    assert_true(fixture_has("META_BODY"));
    assert_int_equal(spam_count("global"), 200);
    /* 12 meta points as 9.6 body + 2.4 header, with 1 header point more: learnt */
    run_from("metahead-more@sender.test", true, 2112, "marker-meta\n");
    assert_true(fixture_has("META_SPLIT"));
    assert_true(fixture_has("HDR_MORE"));
    assert_int_equal(spam_count("global"), 201);
}

/* tflags autolearn_header and autolearn_body put a rule's points on that side (bug 7907). */
static void test_autolearn_header_and_autolearn_body_tflags(void **state)
{
    (void)state;
    fixture_policy(LEARN_POLICY(", \"body MARK_AH /marker-ah/\", \"score MARK_AH 3\","
        " \"tflags MARK_AH autolearn_header\", \"header HDR_BIG EnvelopeFrom =~ /bigmark/\","
        " \"score HDR_BIG 12.5\", \"tflags HDR_BIG autolearn_body\""));
    train("global", 200, 200);
    run_from("plain@sender.test", true, 2120, "marker-ah marker-high\n");  /* 3 h, 12.5 b */
    assert_true(fixture_has("MARK_AH"));
    assert_int_equal(spam_count("global"), 201);
    run_from("bigmark-marked@sender.test", true, 2121, NULL);             /* 3 h, 12.5 b */
    assert_true(fixture_has("HDR_BIG"));
    assert_true(fixture_has("HDR_MARK"));
    assert_int_equal(spam_count("global"), 202);
}

/* rawbody rules are body points; full rules are neither header nor body points (they count in
 * the total only). Before, both counted as header and body points. */
static void test_autolearn_rawbody_is_body_and_full_is_neither(void **state)
{
    (void)state;
    fixture_policy(LEARN_POLICY(", \"rawbody RAW_MARK /marker-raw/\", \"score RAW_MARK 12.5\","
        " \"full FULL_MARK /marker-full/\", \"score FULL_MARK 13\""));
    train("global", 200, 200);
    run_from("plain@sender.test", true, 2130, "marker-raw\n");     /* 12.5 body, 0 header */
    assert_true(fixture_has("RAW_MARK"));
    assert_int_equal(spam_count("global"), 200);
    run_from("plain@sender.test", true, 2131, "marker-full\n");    /* 13, neither */
    assert_true(fixture_has("FULL_MARK"));
    assert_int_equal(spam_count("global"), 200);
    run_from("marked@sender.test", true, 2132, "marker-raw\n");    /* 3 header, 12.5 body */
    assert_true(fixture_has("RAW_MARK"));
    assert_int_equal(spam_count("global"), 201);
}

/* noautolearn is read before learn: a learner rule with noautolearn is not the learner's
 * opinion either, so its -5 does not veto a spam learn. */
static void test_autolearn_ignores_a_noautolearn_learner(void **state)
{
    (void)state;
    fixture_policy(LEARN_POLICY(", \"body MARK_LRN /marker-lrn/\", \"score MARK_LRN -5\","
        " \"tflags MARK_LRN learn noautolearn\""));
    train("global", 200, 200);
    run_from("marked@sender.test", true, 2140, "marker-lrn marker-high\n");
    assert_true(fixture_has("MARK_LRN"));
    assert_int_equal(spam_count("global"), 201);
}

/* The total is rounded to thousandths (sprintf "%0.3f"): 3 + 8.9996 = 11.9996 is 12.000. */
static void test_autolearn_rounds_points_to_thousandths(void **state)
{
    (void)state;
    fixture_policy(LEARN_POLICY(", \"body MARK_ALMOST /marker-almost/\","
        " \"score MARK_ALMOST 8.9996\""));
    train("global", 200, 200);
    run_from("marked@sender.test", true, 2150, "marker-almost\n");
    assert_true(fixture_has("MARK_ALMOST"));
    assert_int_equal(spam_count("global"), 201);
}

/* The daemon's tokens include SpamAssassin's relay tokens, the first relay from what the MTA
 * knew of the client (203.0.113.5, untrusted and external by default). */
static void test_relay_tokens_from_the_client(void **state)
{
    (void)state;
    fixture_policy(BASE "bayes: { enabled = true; autolearn = false }\n");
    run(true, 3000, NULL, NULL);
    const struct bayes_txn_state *s = bayes_result(fixture_txn());
    assert_non_null(s);
    assert_true(bayes_tokens_contains(&s->tokens, "H*RU:203.0.113.5"));
    assert_true(bayes_tokens_contains(&s->tokens, "Hx-spam-relays-external:203.0.113.5"));
    assert_false(bayes_tokens_contains(&s->tokens, "H*RT:203.0.113.5"));
}

static void test_per_user_uses_first_recipient(void **state)
{
    (void)state;
    fixture_policy(BASE "bayes: { enabled = true; database = \"per_user\"; autolearn = false }\n");
    train("bob@our.test", 200, 200);
    run(true, 1000, NULL, "bob@our.test");
    assert_true(fixture_has("BAYES_99"));
    run(true, 1000, NULL, "carol@our.test");     /* carol's database is empty */
    assert_false(fixture_has("BAYES_99"));
}

/* With SpamAssassin's own Bayes rules loaded (23_bayes.cf, its scores in 50_scores.cf), the
 * rules' check_bayes hits on the classifier's probability and scores set 2 (Bayes without
 * network tests: the fixture has no resolver). */
static void test_stock_rules_hit_through_check_bayes(void **state)
{
    (void)state;
    if (access("/usr/share/spamassassin/23_bayes.cf", R_OK) != 0)
        skip();
    fixture_policy("spam: { enabled = false }\nbayes: { enabled = true; autolearn = false }\n"
        "rules: { files = [ \"/usr/share/spamassassin/23_bayes.cf\","
        " \"/usr/share/spamassassin/50_scores.cf\" ] }\n");
    struct config *cfg = config_current();
    assert_true(ruleset_has_rule(cfg->rules->set, "BAYES_99"));
    config_release(cfg);
    train("global", 200, 200);
    run(true, 1000, NULL, NULL);
    assert_true(fixture_has("BAYES_99"));
    assert_true(fixture_score_of("BAYES_99") == 3.8);
    assert_true(fixture_has("BAYES_999"));
    assert_true(fixture_score_of("BAYES_999") == 0.2);
    run(false, 1000, NULL, NULL);
    assert_true(fixture_has("BAYES_00"));
    assert_true(fixture_score_of("BAYES_00") == -1.5);
}

/* An inline rule: check_bayes's range is (lo, hi]; a one-column score is the admin's. */
static void test_inline_check_bayes_range_and_score(void **state)
{
    (void)state;
    fixture_policy("spam: { enabled = false }\nbayes: { enabled = true; autolearn = false }\n"
        "rules: { files = [ ]; inline = [ \"body MY_BAYES_HIGH eval:check_bayes('0.9', 'undef')\","
        " \"score MY_BAYES_HIGH 4.2\", \"body MY_BAYES_LOW eval:check_bayes('0', '0.1')\","
        " \"score MY_BAYES_LOW -2\" ] }\n");
    train("global", 200, 200);
    run(true, 1000, NULL, NULL);
    assert_true(fixture_has("MY_BAYES_HIGH"));
    assert_true(fixture_score_of("MY_BAYES_HIGH") == 4.2);
    assert_false(fixture_has("MY_BAYES_LOW"));
    run(false, 1000, NULL, NULL);
    assert_true(fixture_has("MY_BAYES_LOW"));
    assert_false(fixture_has("MY_BAYES_HIGH"));
}

static void test_disabled_adds_nothing(void **state)
{
    (void)state;
    fixture_policy(BASE "bayes: { enabled = false }\n");
    train("global", 200, 200);
    run(true, 1000, NULL, NULL);
    assert_false(fixture_has("BAYES_99"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_policy_defaults_and_errors, fixture_fresh),
        cmocka_unit_test_setup(test_trained_classifies_spam_and_ham, fixture_fresh),
        cmocka_unit_test_setup(test_nothing_below_minimum_counts, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_by_threshold, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_spam_needs_header_and_body_points, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_ignores_noautolearn_rules, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_counts_the_score_set_without_bayes, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_splits_a_meta_by_its_dependencies, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_header_and_autolearn_body_tflags, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_rawbody_is_body_and_full_is_neither, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_ignores_a_noautolearn_learner, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_rounds_points_to_thousandths, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_needs_the_message_scored_as_spam, fixture_fresh),
        cmocka_unit_test_setup(test_autolearn_on_error_skips_what_bayes_already_knew, fixture_fresh),
        cmocka_unit_test_setup(test_relay_tokens_from_the_client, fixture_fresh),
        cmocka_unit_test_setup(test_per_user_uses_first_recipient, fixture_fresh),
        cmocka_unit_test_setup(test_stock_rules_hit_through_check_bayes, fixture_fresh),
        cmocka_unit_test_setup(test_inline_check_bayes_range_and_score, fixture_fresh),
        cmocka_unit_test_setup(test_disabled_adds_nothing, fixture_fresh),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
