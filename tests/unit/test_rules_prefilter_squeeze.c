/* test_rules_prefilter_squeeze.c - the squeezed forms of a text and of a prefilter pattern
 * (rules_prefilter_squeeze.c): the bytes a text keeps, the squeezed form of stock-like patterns
 * and its shortest match, the patterns with no squeezed form, and the promise itself, checked
 * with PCRE2 on generated texts: wherever a pattern matches a text without bytes >= 0x80, its
 * squeezed form matches the squeezed text. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcre2.h>

#include "rules_prefilter_squeeze.h"

/* The class the squeezed form gives for the kept punctuation (\W, [_\W], ...). */
#define PUNCT "\\x21\\x23\\x24\\x26\\x28\\x29\\x2f\\x3b\\x3c\\x3e\\x40\\x5c\\x7c"
/* ... and for the whole kept alphabet (., [^\n], ...) */
#define KEPT "\\x21\\x23\\x24\\x26\\x28\\x29\\x2f0-9\\x3b\\x3c\\x3e\\x40A-Z\\x5ca-z\\x7c"

static void expect_text(const char *text, const char *squeezed)
{
    size_t len = strlen(text);
    char *out = malloc(len + 1);
    size_t n = prefilter_squeeze_text(text, len, out);
    out[n] = '\0';
    if (strcmp(out, squeezed) != 0)
        fail_msg("\"%s\" squeezed to \"%s\", expected \"%s\"", text, out, squeezed);
    free(out);
}

static void expect_form(const char *expression, const char *squeezed, size_t min_len)
{
    size_t min;
    char *form = prefilter_squeeze_form(expression, &min);
    if (form == NULL)
        fail_msg("%s: no squeezed form, expected %s", expression, squeezed);
    if (strcmp(form, squeezed) != 0 || min != min_len)
        fail_msg("%s: squeezed form %s (shortest %zu), expected %s (%zu)", expression, form,
            min, squeezed, min_len);
    free(form);
}

static void expect_none(const char *expression)
{
    size_t min = 99;
    char *form = prefilter_squeeze_form(expression, &min);
    if (form != NULL)
        fail_msg("%s: squeezed form %s, expected none", expression, form);
    assert_int_equal(min, 0);
}

static void test_text_keeps_letters_digits_and_letter_punctuation(void **state)
{
    (void)state;
    expect_text("p-h.e n_t e r m i n e", "phentermine");
    expect_text("V*i*a*g*r*a", "Viagra");
    expect_text("&#112;harmacy, cheap!", "&#112;harmacycheap!");
    expect_text("\\/ |_ @ $ ( ) < > / ; # & 0 9 Z", "\\/|@$()<>/;#&09Z");
    expect_text(" \t.,:_-*+=?'\"`~^%{}[]", "");
    expect_text("", "");
}

static void test_stock_like_forms(void **state)
{
    (void)state;
    expect_form("viagra", "viagra", 6);
    expect_form("\\bcheap\\s+pills\\b", "cheappills", 10);
    /* __DRUGS_*: spaced letters with look-alikes; the separators keep their punctuation */
    expect_form("(?:\\b|\\s)[_\\W]{0,3}p[_\\W]{0,3}h[_\\W]{0,3}[e3\\xE8-\\xEB]",
        "[" PUNCT "]{0,3}p[" PUNCT "]{0,3}h[" PUNCT "]{0,3}[3e]", 3);
    expect_form("(?:\\\\\\/|V)[_\\W]{0,3}[ij1!|l\\xEC]", "(?:\\x5c\\x2f|V)[" PUNCT
        "]{0,3}[\\x211ijl\\x7c]", 2);
    /* FUZZY_*: \W? between letters, entities kept whole */
    expect_form("(?:[pP\\xd1])+\\W?(?:[hH]|&#(?:104|72);)+",
        "(?:[Pp])+[" PUNCT "]?(?:[Hh]|\\x26\\x23(?:104|72)\\x3b)+", 2);
    expect_form("a.b", "a[" KEPT "]?b", 2);
    expect_form("(?:foo|[\\xc3][\\xa9])bar", "(?:foo)bar", 6);     /* a UTF-8 branch goes */
    expect_form("(?:a|-)b", "(?:a)?b", 1);                       /* an empty branch: optional */
    expect_form("(?i)abc", "(?i)abc", 3);
    expect_form("(?i:ab)(?s:c.)", "(?i:ab)(?:c[" KEPT "]?)", 3);
    expect_form("x(?=y)z(?<!q)", "xz", 2);                       /* lookarounds go */
    expect_form("^(?>ab)+c$", "(?:ab)+c", 3);                    /* atomic: a plain group */
    expect_form("(?<name>ab)(cd)", "(?:ab)(?:cd)", 4);           /* captures: plain groups */
    expect_form("a{2,5}?b{3}+", "a{2,5}b{3}", 5);                /* lazy, possessive: plain */
    expect_form("a\\d{20}", "a[0-9]+", 2);                       /* a large count loosened */
    expect_form("[^a-z]x",
        "[\\x21\\x23\\x24\\x26\\x28\\x29\\x2f0-9\\x3b\\x3c\\x3e\\x40A-Z\\x5c\\x7c]?x", 1);
    expect_form("(?:\\s|_)+word", "word", 4);                    /* only dropped bytes: empty */
    expect_form("\\x41\\x{42}\\.c\\n", "ABc", 3);
    expect_form("[\\w-]{2}z", "[0-9A-Za-z]{0,2}z", 1);
}

static void test_no_form_when_unsure(void **state)
{
    (void)state;
    expect_none("(a)\\1");                   /* a back reference */
    expect_none("(?x)a b");                  /* extended syntax */
    expect_none("a(?i)b");                   /* an option set inside the pattern */
    expect_none("\\Qa.b\\E");
    expect_none("\\p{L}x");
    expect_none("[[:alpha:]]x");
    expect_none("\\x{100}");
    expect_none("\\101");                    /* octal */
    expect_none("(?(DEFINE)(?<a>x))(?&a)");
    expect_none("(ab");
    expect_none("ab)");
    expect_none("[ab");
    expect_none("*a");
    expect_none("abcdef\\");               /* a lone backslash at the end */
    expect_none("abcdef{,5}");               /* a count in newer PCRE2, a literal in older */
    expect_none("abcdef\\x{ 41}");
    expect_none("[\\x80-\\xff]+");           /* matches no ASCII text */
    expect_none("a[\\xc3]b|\\xe9");
    expect_none("\\s+");                     /* nothing kept at all */
}

/* ---- the promise, checked with PCRE2 ---- */

static pcre2_code *compile(const char *pattern, bool caseless)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
        caseless ? PCRE2_CASELESS : 0, &err, &off, NULL);
    if (re == NULL)
        fail_msg("PCRE2 refuses %s (error %d at %zu)", pattern, err, (size_t)off);
    return re;
}

static bool matches(pcre2_code *re, const char *text, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)text, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* Texts built around the words the patterns look for: each letter kept, changed to a
 * look-alike, its other case or a separator, or lost, and now and then followed by up to three
 * separators; with random bytes between. */
static void generate(uint32_t *seed, char *out, size_t cap)
{
    static const char *const words[] = { "viagra", "phentermine", "pharmacy", "million",
        "cialis", "xanax", "your contact details", "valium", "urgent reply" };
    static const char separators[] = " _-.*!|@/\\&#;,:'\"()<>\t~";
    static const char *const lookalikes[] = { "a4@", "e3", "i1!|l", "o0", "s$5", "l1|!",
        "v\\/", "x><" };
    size_t n = 0;
    for (int part = 0; part < 3 && n + 64 < cap; part++) {
        *seed = *seed * 1103515245u + 12345u;
        const char *w = words[(*seed >> 8) % (sizeof words / sizeof words[0])];
        for (const char *p = w; *p && n + 8 < cap; p++) {
            *seed = *seed * 1103515245u + 12345u;
            uint32_t r = *seed >> 8;
            char c = *p;
            for (size_t k = 0; k < sizeof lookalikes / sizeof lookalikes[0] && r % 5 == 0; k++) {
                if (lookalikes[k][0] == c)
                    c = lookalikes[k][(r / 5) % strlen(lookalikes[k])];
            }
            if (r % 7 == 0 && c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            if (r % 13 == 0)
                c = separators[(r / 13) % (sizeof separators - 1)];
            if (r % 23 != 0)
                out[n++] = c;                   /* now and then a letter is lost */
            for (uint32_t s = 1 + (r / 97) % 3; s > 0 && r % 4 == 0; s--) {
                *seed = *seed * 1103515245u + 12345u;
                out[n++] = separators[(*seed >> 8) % (sizeof separators - 1)];
            }
        }
        *seed = *seed * 1103515245u + 12345u;
        for (uint32_t k = (*seed >> 8) % 6; k > 0 && n + 2 < cap; k--) {
            *seed = *seed * 1103515245u + 12345u;
            out[n++] = (char)(32 + (*seed >> 8) % 95);     /* any printable byte */
        }
    }
    out[n] = '\0';
}

static void test_squeezed_form_matches_where_the_pattern_does(void **state)
{
    (void)state;
    static const struct { const char *pattern; bool caseless; } patterns[] = {
        { "(?:\\b|\\s)[_\\W]{0,3}(?:\\\\\\/|V)[_\\W]{0,3}[ij1!|l][_\\W]{0,3}[a40@][_\\W]{0,3}"
          "[xyz]?[gj][_\\W]{0,3}r[_\\W]{0,3}[a40@][_\\W]{0,3}x?[_\\W]{0,3}(?:\\b|\\s)", true },
        { "(?!phentermine)(?:[pP])+\\W?(?:[hH]|&#104;)+\\W?(?:[eE3])+\\W?(?:[nN])+\\W?"
          "(?:[tT])+\\W?(?:[eE3])+\\W?(?:[rR])+\\W?(?:[mM]|rn)+\\W?", true },
        { "(?!milli?on)(?:[mM]|rn)(?:[iIl|!1y?])(?:[ilL|!1])(?:[ilL|!1])(?:[iIl|!1y?])"
          "(?:[goO0u])(?:[nN])", true },
        { "\\bp.?h.?a.?r.?m.?a.?c.?y\\b", true },
        { "\\byour\\b[^.]*\\b(?:contact (?:details|information)|private (?:e?[- ]?mail|fax))\\b",
          true },
        { "[cC][^a-z]{0,2}[iI1!|][^a-z]{0,2}[aA@4][^a-z]{0,2}[lL1|][^a-z]{0,2}[iI1!|]", false },
        { "(?<![a-z])x[\\s_.]*a[\\s_.]*n[\\s_.]*a[\\s_.]*x(?![a-z])", true },
        { "urgent\\W+(?>reply|response)", true },
        { "(?:v|\\\\/)\\W*a\\W*l\\W*i\\W*u\\W*m", true },
        { "million\\s+(?:us\\s+)?dollars|m.llion", true },
        { "cial.s|val[^a-z]um|ph.?rmacy", true },
        { "xan\\W+x|urgent\\W+reply|ph\\W{1,2}ntermine", true },
        { "xan(?:a|\\s|\\.|-)x|val(?:i|_|,)um|m(?:i|'|\\*)llion", true },
    };
    char text[512], squeezed[512];
    size_t hits = 0;
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        size_t min;
        char *form = prefilter_squeeze_form(patterns[i].pattern, &min);
        if (form == NULL)
            fail_msg("%s: no squeezed form", patterns[i].pattern);
        pcre2_code *re = compile(patterns[i].pattern, patterns[i].caseless);
        pcre2_code *sq = compile(form, patterns[i].caseless);
        uint32_t seed = (uint32_t)i * 7919u + 1u;
        for (int round = 0; round < 20000; round++) {
            generate(&seed, text, sizeof text);
            size_t len = strlen(text);
            if (!matches(re, text, len))
                continue;
            hits++;
            size_t n = prefilter_squeeze_text(text, len, squeezed);
            if (!matches(sq, squeezed, n))
                fail_msg("%s matches \"%s\", but its squeezed form %s does not match \"%.*s\"",
                    patterns[i].pattern, text, form, (int)n, squeezed);
        }
        pcre2_code_free(re);
        pcre2_code_free(sq);
        free(form);
    }
    assert_true(hits > 2000);      /* the texts do hit: the check is not vacuous */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_keeps_letters_digits_and_letter_punctuation),
        cmocka_unit_test(test_stock_like_forms),
        cmocka_unit_test(test_no_form_when_unsure),
        cmocka_unit_test(test_squeezed_form_matches_where_the_pattern_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
