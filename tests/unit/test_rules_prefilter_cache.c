/* test_rules_prefilter_cache.c - the prefilter's compiled databases kept on disk
 * (rules_prefilter_cache.c): a second ruleset with the same rules reads every database back
 * instead of compiling it and decides exactly as PCRE2 alone; a damaged file is compiled again
 * and replaced; a directory others may write is not used; files unused for 30 days go; a
 * process about to exit stops every compile first. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mw_build.h"
#include "message_view.h"
#include "rules.h"
#include "header.h"
#include "util.h"

/* Four texts: six databases (body, rawbody, the Subject header, the URIs, and the squeezed
 * forms of the body and rawbody patterns, rules_prefilter_squeeze.c). */
static const char RULES[] =
    "body BODY_PILLS /cheap\\s+pills/i\n"
    "body BODY_WATCH /replica\\s+watch(?:es)?/i\n"
    "rawbody RAW_CLICK /click\\s+here/i\n"
    "header SUBJ_MONEY Subject =~ /free money/i\n"
    "uri URI_EXAMPLE /example\\.com/\n";
#define DATABASES 6

static char dir[64];
static char cache[128];        /* each test's own directory in dir */
static int test_number;

static void new_cache(void)
{
    snprintf(cache, sizeof cache, "%s/cache%d", dir, ++test_number);
}

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mw-hscache.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char *cmd = xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static struct ruleset *load(const char *text, const char *cache_dir)
{
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "test", text, strlen(text));
    ruleset_finish(rs);
    ruleset_set_prefilter_cache(rs, cache_dir);
    return rs;
}

static void note(const struct rules_hit *hit, void *arg)
{
    textbuf_printf(arg, "%s*%u\n", hit->name, hit->count);
}

static char *hits_of(const struct ruleset *rs, const char *subject, const char *body,
    bool prefilter)
{
    struct header_field headers[] = {
        { .name = (char *)"Subject", .value = (char *)subject },
    };
    struct message_view view = {
        .text = (char *)body, .text_len = strlen(body),
        .rawtext = (char *)body, .rawtext_len = strlen(body),
    };
    struct rules_message msg = { .headers = headers, .header_count = 1, .view = &view,
        .body = body, .body_len = strlen(body) };
    struct rules_limits limits;
    rules_limits_default(&limits);
    limits.prefilter = prefilter;
    struct textbuf out;
    textbuf_init(&out);
    ruleset_eval(rs, &msg, &limits, note, &out, NULL);
    return out.data ? out.data : xstrdup("");
}

/* The same hits with the prefilter (ready) as with PCRE2 alone, on messages that hit and not. */
static void same_hits(const struct ruleset *rs)
{
    static const char *const cases[][2] = {
        { "free money inside", "Buy cheap  pills and replica watches: click here" },
        { "hello", "nothing to see" },
        { "FREE MONEY", "cheap pills" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *with = hits_of(rs, cases[i][0], cases[i][1], true);
        char *without = hits_of(rs, cases[i][0], cases[i][1], false);
        assert_string_equal(with, without);
        if (i == 0)
            assert_non_null(strstr(with, "BODY_PILLS*"));
        free(with);
        free(without);
    }
}

static size_t count_files(const char *path, const char *suffix)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > strlen(suffix) && strcmp(e->d_name + len - strlen(suffix), suffix) == 0;
    }
    closedir(d);
    return n;
}

/* The path of one cache file (any). */
static char *some_file(void)
{
    DIR *d = opendir(cache);
    assert_non_null(d);
    char *path = NULL;
    struct dirent *e;
    while (path == NULL && (e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".hsdb") != NULL)
            path = xasprintf("%s/%s", cache, e->d_name);
    }
    closedir(d);
    assert_non_null(path);
    return path;
}

static void expect_sources(const struct ruleset *rs, size_t compiled, size_t from_cache)
{
    assert_true(ruleset_prefilter_wait(rs));
    struct prefilter_stats stats;
    assert_true(ruleset_prefilter_stats(rs, &stats));
    assert_int_equal(stats.compiled, compiled);
    assert_int_equal(stats.from_cache, from_cache);
}

static void test_second_ruleset_reads_every_database_from_the_cache(void **state)
{
    (void)state;
#ifndef HAVE_HYPERSCAN
    skip();
#endif
    new_cache();
    struct ruleset *first = load(RULES, cache);
    expect_sources(first, DATABASES, 0);
    assert_int_equal(count_files(cache, ".hsdb"), DATABASES);
    struct stat st;
    assert_int_equal(stat(cache, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);     /* made private */
    same_hits(first);
    struct ruleset *second = load(RULES, cache);
    expect_sources(second, 0, DATABASES);
    same_hits(second);
    char line[512];
    ruleset_prefilter_describe(second, line, sizeof line);
    assert_non_null(strstr(line, "0 compiled"));
    assert_non_null(strstr(line, "6 read from the cache"));
    ruleset_free(first);
    ruleset_free(second);
    /* one rule added: only its databases (body, and its squeezed form) are compiled again */
    char *changed = xasprintf("%sbody BODY_NEW /lottery\\s+winner/i\n", RULES);
    struct ruleset *third = load(changed, cache);
    expect_sources(third, 2, DATABASES - 2);
    ruleset_free(third);
    free(changed);
}

/* The second checks are databases too, kept and read back like the others: a body rule with a
 * UTF-8 look-alike branch and a short squeezed form (its database has an ASCII form; with a
 * squeezed rule next to it, it is in the rest database, in its ASCII form) and a long repeated
 * group (its counted check, and its squeezed form). */
static void test_ascii_forms_and_counted_checks_are_kept(void **state)
{
    (void)state;
#ifndef HAVE_HYPERSCAN
    skip();
#endif
    new_cache();
    struct textbuf text;
    textbuf_init(&text);
    textbuf_puts(&text, "body LOOKALIKE /p(?:[aA]|[\\xc3][\\xa0\\xa1])y\\s+m/i\n");
    /* alone: its database and that database's ASCII form */
    struct ruleset *alone = load(text.data, cache);
    assert_true(ruleset_prefilter_wait(alone));
    struct prefilter_stats stats;
    assert_true(ruleset_prefilter_stats(alone, &stats));
    assert_int_equal(stats.ascii_forms, 1);
    assert_int_equal(stats.squeezed_forms, 0);
    expect_sources(alone, 2, 0);
    ruleset_free(alone);
    textbuf_puts(&text, "body FORM3 /(?:(?:");
    for (int i = 0; i < 150; i++)
        textbuf_printf(&text, "%sfield%03d", i > 0 ? "|" : "", i);
    textbuf_puts(&text, "):\\s?){3}/\n");
    /* one body database, FORM3's squeezed form, LOOKALIKE's ASCII form (the rest database),
     * the counted check of FORM3 */
    struct ruleset *first = load(text.data, cache);
    assert_true(ruleset_prefilter_wait(first));
    assert_true(ruleset_prefilter_stats(first, &stats));
    assert_int_equal(stats.ascii_forms, 1);
    assert_int_equal(stats.squeezed_forms, 1);
    assert_int_equal(stats.counted_checks, 1);
    expect_sources(first, 3, 1);       /* LOOKALIKE's ASCII form: the same database as alone */
    struct ruleset *second = load(text.data, cache);
    expect_sources(second, 0, 4);
    static const char *const bodies[] = {
        "please pay me now\n", "please p\xc3\xa0y me now\n", "please pray me now\n",
        "field001: field002: field003:\n", "field001: field002: and more\n",
        "field001: field002: p\xc3\xa1y me field003:\n",
    };
    static const char *const expected[] = {
        "LOOKALIKE*1\n", "LOOKALIKE*1\n", "", "FORM3*1\n", "", "LOOKALIKE*1\n",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char *with = hits_of(second, "hello", bodies[i], true);
        char *without = hits_of(second, "hello", bodies[i], false);
        assert_string_equal(with, expected[i]);
        assert_string_equal(without, expected[i]);
        free(with);
        free(without);
    }
    ruleset_free(first);
    ruleset_free(second);
    textbuf_free(&text);
}

static void test_damaged_file_is_compiled_again_and_replaced(void **state)
{
    (void)state;
#ifndef HAVE_HYPERSCAN
    skip();
#endif
    new_cache();
    struct ruleset *rs = load(RULES, cache);
    expect_sources(rs, DATABASES, 0);
    ruleset_free(rs);
    char *path = some_file();
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    unsigned char byte;
    off_t at = st.st_size / 2;
    assert_int_equal(pread(fd, &byte, 1, at), 1);
    byte ^= 0x20;
    assert_int_equal(pwrite(fd, &byte, 1, at), 1);
    close(fd);
    rs = load(RULES, cache);
    expect_sources(rs, 1, DATABASES - 1);
    same_hits(rs);
    ruleset_free(rs);
    /* the damaged file was replaced: all six read back now */
    rs = load(RULES, cache);
    expect_sources(rs, 0, DATABASES);
    ruleset_free(rs);
    /* a file cut short is no better */
    assert_int_equal(truncate(path, 20), 0);
    rs = load(RULES, cache);
    expect_sources(rs, 1, DATABASES - 1);
    same_hits(rs);
    ruleset_free(rs);
    free(path);
}

static void test_directory_others_may_write_is_not_used(void **state)
{
    (void)state;
#ifndef HAVE_HYPERSCAN
    skip();
#endif
    char *open_dir = xasprintf("%s/open", dir);
    assert_int_equal(mkdir(open_dir, 0777), 0);
    assert_int_equal(chmod(open_dir, 0777), 0);
    struct ruleset *rs = load(RULES, open_dir);
    expect_sources(rs, DATABASES, 0);
    assert_int_equal(count_files(open_dir, ".hsdb"), 0);   /* nothing written there either */
    char line[512];
    ruleset_prefilter_describe(rs, line, sizeof line);
    assert_non_null(strstr(line, "no cache"));
    same_hits(rs);
    ruleset_free(rs);
    /* a relative path or none: compiled, no cache */
    rs = load(RULES, "");
    expect_sources(rs, DATABASES, 0);
    ruleset_free(rs);
    free(open_dir);
}

static void test_files_unused_for_30_days_are_removed(void **state)
{
    (void)state;
#ifndef HAVE_HYPERSCAN
    skip();
#endif
    new_cache();
    assert_int_equal(mkdir(cache, 0700), 0);
    char *old = xasprintf("%s/%064d.hsdb", cache, 0);
    char *recent = xasprintf("%s/%064d.hsdb", cache, 1);
    char *tmp = xasprintf("%s/.tmp-abcdef", cache);
    const char *made[] = { old, recent, tmp };
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(made[i], "w");
        assert_non_null(f);
        fputs("not a database", f);
        fclose(f);
    }
    time_t now = time(NULL);
    struct timespec days31[2] = { { now - 31 * 86400, 0 }, { now - 31 * 86400, 0 } };
    struct timespec days2[2] = { { now - 2 * 86400, 0 }, { now - 2 * 86400, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, old, days31, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, recent, days2, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, tmp, days2, 0), 0);
    /* something is compiled, then the directory is pruned */
    struct ruleset *rs = load(RULES, cache);
    expect_sources(rs, DATABASES, 0);
    ruleset_free(rs);
    assert_int_equal(access(old, F_OK), -1);
    assert_int_equal(access(recent, F_OK), 0);
    assert_int_equal(access(tmp, F_OK), -1);          /* a left-over temporary file */
    free(old);
    free(recent);
    free(tmp);
}

/* Last: it stops the prefilter for the whole process. A compile in progress is waited for
 * (afterwards nothing is "compiling"), and none starts after. */
static void test_stop_waits_for_compiles_and_starts_none(void **state)
{
    (void)state;
#ifndef HAVE_HYPERSCAN
    skip();
#endif
    struct textbuf heavy;
    textbuf_init(&heavy);
    for (int r = 0; r < 64; r++) {
        textbuf_printf(&heavy, "body HEAVY_%d /(?:", r);
        for (int w = 0; w < 60; w++)
            textbuf_printf(&heavy, "%sw%dx%d[a-z]{1,3}\\s+n%d", w ? "|" : "", r, w, w);
        textbuf_printf(&heavy, ")/i\n");
    }
    struct ruleset *busy = load(heavy.data, "");
    for (int i = 0; i < 60; i++)                    /* the 50th starts the compile */
        free(hits_of(busy, "hello", "nothing to see", true));
    rules_prefilter_stop();
    char line[512];
    ruleset_prefilter_describe(busy, line, sizeof line);
    assert_null(strstr(line, "compiling"));
    ruleset_free(busy);
    struct ruleset *late = load(RULES, "");
    for (int i = 0; i < 60; i++)
        free(hits_of(late, "hello", "nothing to see", true));
    assert_false(ruleset_prefilter_wait(late));
    ruleset_prefilter_describe(late, line, sizeof line);
    assert_non_null(strstr(line, "the process is stopping"));
    same_hits(late);
    ruleset_free(late);
    textbuf_free(&heavy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_ruleset_reads_every_database_from_the_cache),
        cmocka_unit_test(test_ascii_forms_and_counted_checks_are_kept),
        cmocka_unit_test(test_damaged_file_is_compiled_again_and_replaced),
        cmocka_unit_test(test_directory_others_may_write_is_not_used),
        cmocka_unit_test(test_files_unused_for_30_days_are_removed),
        cmocka_unit_test(test_stop_waits_for_compiles_and_starts_none),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
