/* test_rules_prefilter.c - the Hyperscan prefilter changes no result: Debian's stock
 * SpamAssassin rules (MW_SA_RULES overrides /usr/share/spamassassin) run on every message of
 * tests/rules/messages and tests/measure/corpus with the prefilter on and off, and every
 * rule's hit and count must be the same. Also: the stock regexes PCRE2 refused as too large
 * (ReplaceTags rules) load and match. Skipped by name when the rules are not installed. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mw_build.h"
#include "message_view.h"
#include "rules.h"
#include "rules_fixture.h"
#include "rules_internal.h"
#include "header.h"
#include "util.h"

/* A message file split into header fields (continuation lines kept, CRs dropped) and body. */
struct parsed {
    char *data;
    struct header_field *headers;
    size_t header_count;
    const char *body;
    size_t body_len;
};

static bool parse_file(const char *path, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    struct textbuf buf;
    textbuf_init(&buf);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (chunk[i] != '\r')
                textbuf_append(&buf, &chunk[i], 1);
        }
    }
    fclose(f);
    p->data = buf.data ? buf.data : xstrdup("");
    char *s = p->data;
    while (*s != '\0' && *s != '\n') {
        char *eol = strchr(s, '\n');
        while (eol != NULL && (eol[1] == ' ' || eol[1] == '\t'))
            eol = strchr(eol + 1, '\n');     /* folded: the value goes on */
        char *next = eol ? eol + 1 : s + strlen(s);
        if (eol != NULL)
            *eol = '\0';
        char *colon = strchr(s, ':');
        if (colon != NULL) {
            *colon = '\0';
            char *value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            p->headers = xrealloc(p->headers, (p->header_count + 1) * sizeof *p->headers);
            p->headers[p->header_count++] = (struct header_field){ .name = s, .value = value };
        }
        s = next;
    }
    if (*s == '\n')
        s++;
    p->body = s;
    p->body_len = strlen(s);
    return true;
}

/* Every hit of one evaluation, as "NAME*count" lines. */
static void note(const struct rules_hit *hit, void *arg)
{
    textbuf_printf(arg, "%s*%u\n", hit->name, hit->count);
}

static char *hits_of(const struct parsed *p, const struct message_view *view, bool prefilter)
{
    struct rules_message msg = { .headers = p->headers, .header_count = p->header_count,
        .view = view, .body = p->body, .body_len = p->body_len,
        .envelope_from = "sender@example.net" };
    struct rules_limits limits;
    rules_limits_default(&limits);
    limits.prefilter = prefilter;
    struct textbuf out;
    textbuf_init(&out);
    ruleset_eval(rules_fixture_stock(), &msg, &limits, note, &out, NULL);
    return out.data ? out.data : xstrdup("");
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Runs one folder's files; returns the number of hits seen, fails on any difference. */
static size_t compare_folder(const char *dir, size_t *files)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t hits = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct parsed p;
        if (!parse_file(path, &p))
            continue;
        struct message_source src = { .headers = p.headers, .header_count = p.header_count,
            .body = p.body, .body_len = p.body_len, .max_scan_bytes = 1024 * 1024 };
        struct message_view *view = message_view_build(&src);
        char *without = hits_of(&p, view, false);
        char *with = hits_of(&p, view, true);
        if (strcmp(without, with) != 0)
            fail_msg("%s: hits differ\nPCRE2 alone:\n%s\nwith the prefilter:\n%s", path, without,
                with);
        hits += count_lines(with);
        (*files)++;
        free(without);
        free(with);
        message_view_free(view);
        free(p.headers);
        free(p.data);
    }
    closedir(d);
    return hits;
}

static void test_prefilter_changes_no_hit(void **state)
{
    (void)state;
    struct ruleset *stock = rules_fixture_need_stock();
    bool in_use = ruleset_prefilter_wait(stock);
#ifdef HAVE_HYPERSCAN
    assert_true(in_use);
    struct prefilter_stats stats;
    assert_true(ruleset_prefilter_stats(stock, &stats));
    fprintf(stderr, "prefilter: %zu regexes in Hyperscan, %zu refused, %zu databases\n",
        stats.taken, stats.refused, stats.databases);
    assert_true(stats.taken > 1000);
#else
    assert_false(in_use);
#endif
    size_t files = 0, hits = 0;
    hits += compare_folder(SRCDIR "/tests/rules/messages", &files);
    hits += compare_folder(SRCDIR "/tests/measure/corpus/spam", &files);
    hits += compare_folder(SRCDIR "/tests/measure/corpus/ham", &files);
    fprintf(stderr, "%zu messages, %zu rule hits, the same with and without the prefilter\n",
        files, hits);
    assert_true(files >= 100);
    assert_true(hits > 10 * files);       /* the comparison saw real hits */
}

/* A message whose body is `text` (rules see it as the body and rawbody), with or without the
 * prefilter. */
static bool body_hits_with(const char *rule, const char *text, bool prefilter)
{
    struct header_field headers[] = {
        { .name = (char *)"Subject", .value = (char *)"hello" },
    };
    struct message_view view = {
        .text = (char *)text, .text_len = strlen(text),
        .rawtext = (char *)text, .rawtext_len = strlen(text),
    };
    struct rules_message msg = { .headers = headers, .header_count = 1, .view = &view,
        .body = text, .body_len = strlen(text) };
    struct rules_limits limits;
    rules_limits_default(&limits);
    limits.prefilter = prefilter;
    struct textbuf out;
    textbuf_init(&out);
    ruleset_eval(rules_fixture_stock(), &msg, &limits, note, &out, NULL);
    char needle[128];
    snprintf(needle, sizeof needle, "%s*", rule);
    bool hit = out.data != NULL && (strncmp(out.data, needle, strlen(needle)) == 0
        || strstr(out.data, needle) != NULL);
    textbuf_free(&out);
    return hit;
}

/* The stock rules' prefilter counts, once it is ready; false when built without Hyperscan. */
static bool stock_prefilter_stats(struct prefilter_stats *stats)
{
    struct ruleset *stock = rules_fixture_need_stock();
#ifdef HAVE_HYPERSCAN
    assert_true(ruleset_prefilter_wait(stock));
    assert_true(ruleset_prefilter_stats(stock, stats));
    return true;
#else
    (void)stock;
    (void)stats;
    return false;
#endif
}

/* A body rule on one line of text: whether it hits, expected the same with PCRE2 alone and
 * with the prefilter. */
struct body_case {
    const char *rule, *text;
    bool hit;
};

static void assert_body_cases(const struct body_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        bool alone = body_hits_with(cases[i].rule, cases[i].text, false);
        bool with = body_hits_with(cases[i].rule, cases[i].text, true);
        if (alone != cases[i].hit || with != cases[i].hit)
            fail_msg("%s on \"%s\": %d with PCRE2 alone, %d with the prefilter, %d expected",
                cases[i].rule, cases[i].text, alone, with, cases[i].hit);
    }
}


static bool body_hits(const char *rule, const char *text)
{
    return body_hits_with(rule, text, true);
}

static void test_too_large_regexes_load_and_match(void **state)
{
    (void)state;
    struct ruleset *stock = rules_fixture_need_stock();
    const char *large[] = { "__FILL_THIS_FORM_LONG1", "__FILL_THIS_FORM_LONG2", "__MY_MALWARE",
        "__PAY_ME", "__YOUR_WEBCAM", "__YOUR_ONAN", "__YOUR_PERSONAL", "__HOURS_DEADLINE" };
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        if (!ruleset_has_rule(stock, large[i]))
            fail_msg("%s not loaded: %s", large[i], ruleset_skip_reason(stock, large[i]));
    }
    assert_int_equal(ruleset_skipped_for(stock, "regex"), 0);
    /* the shared-tag form matches what the plain expansion means */
    assert_true(body_hits("__PAY_ME", "so please pay me today"));
    assert_true(body_hits("__PAY_ME", "so please p\xc3\xa0y me today"));
    assert_false(body_hits("__PAY_ME", "so please pray meanwhile"));
    assert_true(body_hits("__HOURS_DEADLINE", "You have 48 hours to pay"));
    assert_false(body_hits("__HOURS_DEADLINE", "the shop opens at 9 on weekdays"));
}

/* The ReplaceTags rules whose expansion is too long for Hyperscan (it refused 7 of the stock
 * ones, which then ran in PCRE2 on every line) are given to it with their tags widened
 * (rules_replace_tags_superset), and the widened rules still hit what they hit without the
 * prefilter, obfuscated forms included. */
static void test_long_replace_tags_rules_are_prefiltered(void **state)
{
    (void)state;
    struct prefilter_stats stats;
    if (stock_prefilter_stats(&stats))
        assert_true(stats.refused <= 7);
    static const struct { const char *rule, *text; } cases[] = {
        { "__PAY_ME", "so please pay me today" },
        { "__PAY_ME", "so please p\xc3\xa0y me today" },
        { "__PAY_ME", "so please p&#1072;y me today" },
        { "__PAY_ME", "so please pray meanwhile" },
        { "__MY_MALWARE", "I have installed a trojan on your device" },
        { "__MY_MALWARE", "I have installed a tr\xd0\xbe" "jan on your device" },
        { "__MY_MALWARE", "my installer is ready" },
        { "__YOUR_WEBCAM", "I recorded you from your webcamera" },
        { "__YOUR_WEBCAM", "I recorded you from y\xd0\xbe" "ur w\xd0\xb5" "b camera" },
        { "__YOUR_ONAN", "your masturbation video" },
        { "__YOUR_PERSONAL", "your personal data" },
        { "__YOUR_PASSWORD", "your password is known" },
        { "__HOURS_DEADLINE", "You have 48 hours to pay" },
        { "__HOURS_DEADLINE", "Y\xd0\xbe" "u have 48 h\xd0\xbe" "urs to pay" },
        { "__HOURS_DEADLINE", "the shop opens at 9 on weekdays" },
    };
    size_t hits = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool alone = body_hits_with(cases[i].rule, cases[i].text, false);
        bool with = body_hits_with(cases[i].rule, cases[i].text, true);
        if (alone != with)
            fail_msg("%s on \"%s\": %d with PCRE2 alone, %d with the prefilter", cases[i].rule,
                cases[i].text, alone, with);
        hits += with;
    }
    assert_true(hits >= 10);       /* the texts are what the rules look for */
}

/* The prefilter's own patterns keep a lower bound of counted repeats (rules_prefilter_expr.c:
 * "[a-z0-9]{6}\s{8}" is given as "[a-z0-9]{6,}\s{8,}", not "+"), so a line of short words is
 * no candidate for the rules that look for long runs; and T_FUZZY_OPTOUT, which Hyperscan
 * refused for its "(?:$|\W)" at the start, is given without anchors instead of running on
 * every line. Hits are the same with and without the prefilter. */
static void test_counted_repeats_and_anchors(void **state)
{
    (void)state;
    struct prefilter_stats stats;
    if (stock_prefilter_stats(&stats))
        assert_int_equal(stats.refused, 0);
    static const struct body_case cases[] = {
        { "__LONGWORDS_A", "absolutely wonderful beautiful gorgeous stunning marvelous fabulous", true },
        { "__LONGWORDS_A", "absolutely wonderful beautiful gorgeous stunning", false },
        { "__LONGWORDS_A", "a few short words on a line", false },
        { "__HEXHASHWORD_S2EU", "see the 0a1b2c3d4e5f6a7b word here", true },
        { "__HEXHASHWORD_S2EU", "see the 0a1b2c word here", false },
        { "__UC_GIBB_OBFU", "Dear ABCDEFGHIJKLMNOPQR friend", true },
        { "__UC_GIBB_OBFU", "Dear ABCDEFGH friend", false },
        { "T_FUZZY_OPTOUT", "to 0pt-0ut click here", true },
        { "T_FUZZY_OPTOUT", "to 0pt0ut", true },
        { "T_FUZZY_OPTOUT", "to opt out click here", false },
        { "T_FUZZY_OPTOUT", "Love, Anna Hi Tom,", false },
    };
    assert_body_cases(cases, sizeof cases / sizeof cases[0]);
}

/* The stock __FILL_THIS_FORM_* rules are one group repeated ("(?:...){5}", "{3}"), which the
 * prefilter's own pattern loosens to "+", so a line with one form field was a candidate; the
 * counted check (rules_prefilter_chain.c) runs PCRE2 only where enough of the group's matches
 * follow each other. A filled-in form still hits, with and without the prefilter, and a line
 * with fewer fields does not. */
static void test_repeated_group_rules_are_counted(void **state)
{
    (void)state;
    struct prefilter_stats stats;
    if (stock_prefilter_stats(&stats)) {
        /* LONG2, SHORT1 and SHORT2 (LONG1's group is too large for Hyperscan without prefilter
         * mode: it stays a candidate wherever one group matches) */
        assert_true(stats.counted_checks >= 3);
    }
    static const char five[] = "Your full name: ______ Your address: ______ Your phone "
        "number: ______ Your age: ______ Your occupation: ______\n";
    static const char three[] = "Your full name: ______ Your address: ______ Your phone "
        "number: ______ and nothing more here\n";
    static const char two[] = "Your full name: ______ and your address: ______ thank you\n";
    static const char numbered[] = "1. Your full name: ______ 2. Your address: ______ "
        "3. Your phone number: ______ 4. Your age: ______ 5. Your occupation: ______\n";
    static const struct body_case cases[] = {
        { "__FILL_THIS_FORM_LONG2", five, true },
        { "__FILL_THIS_FORM_SHORT2", five, true },
        { "__FILL_THIS_FORM_LONG2", three, false },
        { "__FILL_THIS_FORM_SHORT2", three, true },
        { "__FILL_THIS_FORM_SHORT2", two, false },
        { "__FILL_THIS_FORM_LONG1", numbered, true },
        { "__FILL_THIS_FORM_SHORT1", numbered, true },
        { "__FILL_THIS_FORM_LONG1", five, false },
    };
    assert_body_cases(cases, sizeof cases / sizeof cases[0]);
}

/* A body line with no byte >= 0x80 is scanned with the squeezed forms of most patterns (next
 * test) and the ASCII forms of the others (rules_prefilter_ascii.c: the UTF-8 look-alike
 * branches of the ReplaceTags classes removed); the obfuscated words the FUZZY_* rules look
 * for still hit in ASCII (digits, symbols, entities) and in UTF-8, with and without the
 * prefilter. */
static void test_ascii_lines_keep_their_hits(void **state)
{
    (void)state;
    struct prefilter_stats stats;
    if (stock_prefilter_stats(&stats))
        assert_true(stats.ascii_forms >= 2);       /* the rest databases of body and rawbody */
    static const struct body_case cases[] = {
        { "FUZZY_MILLION", "you won one m1ll1on dollars today\n", true },
        { "FUZZY_MILLION", "you won one mi11ion dollars today\n", true },
        { "FUZZY_MILLION", "you won one m&#1110;llion dollars today\n", true },
        { "FUZZY_MILLION", "you won one m\xd1\x96llion dollars today\n", true },
        { "FUZZY_MILLION", "you won one million dollars today\n", false },
        { "FUZZY_PHENT", "cheap ph3nt3rm1ne here\n", true },
        { "FUZZY_PHENT", "cheap phentermine here\n", false },
    };
    assert_body_cases(cases, sizeof cases / sizeof cases[0]);
}

/* Most body patterns are scanned on a line with no byte >= 0x80 in their squeezed form, over
 * the line squeezed (rules_prefilter_squeeze.c: only letters, digits and @!|$&#;\/()<> kept):
 * words spaced with punctuation, symbols for letters and numeric entities still hit, and near
 * misses still do not, with and without the prefilter; a UTF-8 line takes the full databases. */
static void test_squeezed_lines_keep_their_hits(void **state)
{
    (void)state;
    struct prefilter_stats stats;
    if (stock_prefilter_stats(&stats))
        assert_true(stats.squeezed_forms >= 4);    /* most of the ~600 body patterns */
    static const struct body_case cases[] = {
        { "__DRUGS_DIET1", "buy p-h.e n_t e r m i n e now\n", true },
        { "__DRUGS_DIET1", "buy p_h_3_n_t_3_r_m_1_n_3 now\n", true },
        { "__DRUGS_DIET1", "buy phentermine now\n", true },
        { "__DRUGS_DIET1", "buy p-h.e n_t e r m a n e now\n", false },
        { "__DRUGS_DIET1", "buy p-h.e n_t e r m i n e\xc2\xa0now\n", true },
        { "__DRUGS_ERECTILE1", "cheap V*i*a*g*r*a here\n", true },
        { "__DRUGS_ERECTILE1", "cheap \\/ i @ g r a here\n", true },
        { "__DRUGS_ERECTILE1", "cheap V*i*a*g*r*o here\n", false },
        { "__DRUGS_ERECTILE1", "cheap V*i*a*g*r*a h\xc3\xa9r\xc3\xa9\n", true },
        { "FUZZY_PHARMACY", "your p&#1085;armacy online\n", true },
        { "FUZZY_PHARMACY", "your p h a r m a c y online\n", true },
        { "FUZZY_PHARMACY", "your pharmacy online\n", false },
        { "FUZZY_PHARMACY", "your p&#1085;arnacy online\n", false },
    };
    assert_body_cases(cases, sizeof cases / sizeof cases[0]);
}

/* The widened form of a tag matches everything the tag matches: UTF-8 look-alikes, numeric
 * entities, the ASCII letters of a mixed class; and it still needs the letters (a prefilter
 * that matched everything would run every line in PCRE2). */
/* A rule scored 0 in every score set never runs (SpamAssassin's Check.pm), so the prefilter
 * leaves it out; one scored in some set, or one the policy scores (marked before finish), is
 * kept. */
static void test_rules_that_never_run_are_left_out(void **state)
{
    (void)state;
    struct ruleset *rs = ruleset_new();
    const char *conf = "body KEEP /alpha/\n"
        "body ZERO /beta/\nscore ZERO 0\n"
        "body ZERO_IN_SET_0 /gamma/\nscore ZERO_IN_SET_0 0 1 0 1\n"
        "body ZERO_SCORED /delta/\nscore ZERO_SCORED 0\n";
    ruleset_read_text(rs, "test", conf, strlen(conf));
    ruleset_mark_scored_by_policy(rs, "ZERO_SCORED");
    ruleset_finish(rs);
    assert_true(ruleset_prefilter_wait(rs));
    struct prefilter_stats stats;
    assert_true(ruleset_prefilter_stats(rs, &stats));
    assert_int_equal(stats.taken, 3);
    ruleset_free(rs);
}

static void test_widened_tags_match_what_the_tags_match(void **state)
{
    (void)state;
    struct ruleset *rs = ruleset_new();
    const char *conf =
        "replace_tag A (?:[aA\\@\\xc0\\xe4]|[\\xc3][\\x80\\x81\\xa0]|[\\xd0][\\x90\\xb0]|"
        "[\\xe1](?:[\\xb8][\\x80\\x81]|[\\xba][\\xa0-\\xb7])|&\\#(?:1072|x430);)\n"
        "replace_tag Y (?:[yY]|[\\xd1][\\x83]|rn)\n"
        "replace_tag SP [\\s\\d_\\xa1]\n"
        "replace_tag C (?:[\\xc0^c])\n";
    ruleset_read_text(rs, "test", conf, strlen(conf));
    const char *source = "/p<A><Y><SP>me/i";
    char *exact = rules_replace_tags(rs, source);
    char *wide = rules_replace_tags_superset(rs, source);
    assert_non_null(exact);
    assert_non_null(wide);
    const char *why;
    char *detail;
    const char *p = exact;
    pcre2_code *exact_re = regex_compile_perl(&p, 0, &why, &detail);
    p = wide;
    pcre2_code *wide_re = regex_compile_perl(&p, 0, &why, &detail);
    assert_non_null(exact_re);
    assert_non_null(wide_re);
    static const char *matching[] = { "pay me", "PAY ME", "p@y1me", "p\xc0" "y_me", "p\xe4" "y me",
        "p\xc3\xa0y me", "p\xd0\xb0\xd1\x83 me", "p\xe1\xba\xa7" "y me", "p&#1072;y me",
        "p&#x430;y me", "parn me", "pay\xa1" "me" };
    static const char *other[] = { "pray me", "pey me", "pa me", "pay-me", "p&#99;y me" };
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    for (size_t i = 0; i < sizeof matching / sizeof matching[0]; i++) {
        PCRE2_SPTR text = (PCRE2_SPTR)matching[i];
        size_t len = strlen(matching[i]);
        if (pcre2_match(exact_re, text, len, 0, 0, md, NULL) < 0)
            fail_msg("the tag does not match \"%s\": %s", matching[i], exact);
        if (pcre2_match(wide_re, text, len, 0, 0, md, NULL) < 0)
            fail_msg("the widened tag does not match \"%s\": %s", matching[i], wide);
    }
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        size_t len = strlen(other[i]);
        assert_true(pcre2_match(exact_re, (PCRE2_SPTR)other[i], len, 0, 0, md, NULL) < 0);
        if (strcmp(other[i], "p&#99;y me") != 0 && pcre2_match(wide_re, (PCRE2_SPTR)other[i],
                len, 0, 0, md, NULL) >= 0)
            fail_msg("the widened form matches \"%s\": %s", other[i], wide);
    }
    assert_true(strlen(wide) < strlen(exact));
    pcre2_code_free(exact_re);
    pcre2_code_free(wide_re);
    free(exact);
    free(wide);

    /* a class whose ASCII part starts with ^ once split stays a class of ^, not its negation */
    source = "/<C>at/";
    wide = rules_replace_tags_superset(rs, source);
    p = wide;
    wide_re = regex_compile_perl(&p, 0, &why, &detail);
    assert_non_null(wide_re);
    static const char *c_matching[] = { "cat", "^at", "\xc0" "at" };
    for (size_t i = 0; i < sizeof c_matching / sizeof c_matching[0]; i++) {
        if (pcre2_match(wide_re, (PCRE2_SPTR)c_matching[i], strlen(c_matching[i]), 0, 0, md,
                NULL) < 0)
            fail_msg("the widened tag does not match \"%s\": %s", c_matching[i], wide);
    }
    assert_true(pcre2_match(wide_re, (PCRE2_SPTR)"bat", 3, 0, 0, md, NULL) < 0);
    pcre2_match_data_free(md);
    pcre2_code_free(wide_re);
    free(wide);
    ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widened_tags_match_what_the_tags_match),
        cmocka_unit_test(test_rules_that_never_run_are_left_out),
        cmocka_unit_test(test_prefilter_changes_no_hit),
        cmocka_unit_test(test_too_large_regexes_load_and_match),
        cmocka_unit_test(test_long_replace_tags_rules_are_prefiltered),
        cmocka_unit_test(test_repeated_group_rules_are_counted),
        cmocka_unit_test(test_counted_repeats_and_anchors),
        cmocka_unit_test(test_ascii_lines_keep_their_hits),
        cmocka_unit_test(test_squeezed_lines_keep_their_hits),
    };
    return cmocka_run_group_tests(tests, rules_fixture_load_stock, rules_fixture_free_stock);
}
