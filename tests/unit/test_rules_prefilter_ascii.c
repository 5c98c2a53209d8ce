/* test_rules_prefilter_ascii.c - the ASCII form of a prefilter pattern
 * (rules_prefilter_ascii.c): which alternatives go (those of bytes >= 0x80 only), which stay,
 * when there is no ASCII form at all, and the test for a text without high bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_prefilter_ascii.h"

static void expect_form(const char *expression, const char *ascii)
{
    char *form = prefilter_ascii_form(expression);
    if (form == NULL)
        fail_msg("%s: no ASCII form, expected %s", expression, ascii);
    if (strcmp(form, ascii) != 0)
        fail_msg("%s: ASCII form %s, expected %s", expression, form, ascii);
    free(form);
}

static void expect_none(const char *expression)
{
    char *form = prefilter_ascii_form(expression);
    if (form != NULL)
        fail_msg("%s: ASCII form %s, expected none", expression, form);
}

static void test_high_alternatives_go(void **state)
{
    (void)state;
    /* a ReplaceTags letter: its UTF-8 look-alikes go, the entity and mixed class stay */
    expect_form("(?:[aA@\\xe0]|[\\xc3][\\xa0\\xa1]|&\\#1072;)", "(?:[aA@\\xe0]|&\\#1072;)");
    expect_form("p(?:[aA]|[\\x80-\\xff]+)y", "p(?:[aA])y");
    expect_form("(?:[\\xe1](?:[\\xb8][\\x80\\x81]|[\\xba][\\x9a])|b|\\xc3\\xa9)x", "(?:b)x");
    expect_form("(?:(?:[\\xc3][\\x80]|[\\xc4][\\x81])|b)", "(?:b)");
    expect_form("(?!x|[\\xc3][\\xa0])y", "(?!x)y");
    expect_form("(?<=a|[\\xd0][\\xb0])z", "(?<=a)z");
    expect_form("a|[\\xc3][\\xa9]", "a");
    expect_form("(c)(?:[\\xc3]|d)\\1", "(c)(?:d)\\1");      /* groups keep their numbers */
    expect_form("[(](?:x|[\\xc3])[)]", "[(](?:x)[)]");
}

static void test_other_alternatives_stay(void **state)
{
    (void)state;
    expect_none("abc");
    expect_none("(?:a|b)+");
    expect_none("(?:a|[\\xc3]?)");               /* may match empty */
    expect_none("(?:a|[\\xc3]*)");
    expect_none("(?:a|[\\xc3]b)");               /* needs an ASCII byte */
    expect_none("(?:a|[^\\x80-\\xff])");         /* negated */
    expect_none("(?:a|[\\x7f-\\xff])");          /* a range from below 0x80 */
    expect_none("(?:a|([\\xc3]))");              /* a capturing group is never removed */
    expect_none("(?:a|\\s)");
    expect_none("(?:a|[\\xc3]++)");              /* possessive: left alone */
}

static void test_no_form_when_unsure(void **state)
{
    (void)state;
    expect_none("(?:[\\xc3][\\xa0])x");           /* the group would be left empty */
    expect_none("[\\xc3][\\xa9]");                /* the whole pattern */
    expect_none("(?i)a|[\\xc3]");                /* an inline option */
    expect_none("(?x) a | [\\xc3] ");
    expect_none("(?<n>a|[\\xc3])");              /* a named group */
    expect_none("(?:a|[\\xc3]");                 /* unbalanced */
    expect_none("(?:a|[\\xc3)");
}

static void test_ascii_text(void **state)
{
    (void)state;
    const char *plain = "a plain line of text, longer than one word of eight bytes";
    assert_true(prefilter_text_is_ascii(plain, strlen(plain)));
    assert_true(prefilter_text_is_ascii("", 0));
    assert_true(prefilter_text_is_ascii("\x7f\x01", 2));
    for (size_t at = 0; at < 20; at++) {
        char text[21];
        memset(text, 'x', 20);
        text[20] = '\0';
        text[at] = (char)0xc3;
        assert_false(prefilter_text_is_ascii(text, 20));
        assert_true(prefilter_text_is_ascii(text, at));     /* the high byte past the end */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_high_alternatives_go),
        cmocka_unit_test(test_other_alternatives_stay),
        cmocka_unit_test(test_no_form_when_unsure),
        cmocka_unit_test(test_ascii_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
