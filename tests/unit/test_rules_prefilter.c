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

/* A message whose body is `text` (rules see it as the body and rawbody). */
static bool body_hits(const char *rule, const char *text)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefilter_changes_no_hit),
        cmocka_unit_test(test_too_large_regexes_load_and_match),
    };
    return cmocka_run_group_tests(tests, rules_fixture_load_stock, rules_fixture_free_stock);
}
