/* test_rules_expr.c - the expression language of meta rules and `if` lines: precedence,
 * arithmetic and comparisons over rule hit counts, boolean logic, three-valued logic for
 * skipped rules, syntax errors and bounded nesting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_internal.h"
#include "util.h"

/* Evaluates text with names A..F bound to values[0..5] (known unless unknown_mask has the bit). */
static struct tri eval_with(const char *text, const double *vals, unsigned unknown_mask)
{
    struct expr e;
    const char *why = NULL;
    assert_true(expr_compile(text, NULL, &e, &why));
    struct tri values[6];
    for (int i = 0; i < 6; i++)
        values[i] = (struct tri){ vals[i], !(unknown_mask & (1u << i)) };
    for (size_t i = 0; i < e.count; i++) {
        if (e.items[i].op == EXPR_NAME) {
            assert_int_equal(strlen(e.items[i].name), 1);
            e.items[i].index = (size_t)(e.items[i].name[0] - 'A');
        }
    }
    struct tri *stack = xcalloc(e.depth + 1, sizeof *stack);
    struct tri v = expr_eval(&e, values, stack);
    free(stack);
    expr_free(&e);
    return v;
}

static double value_of(const char *text, const double *vals)
{
    struct tri v = eval_with(text, vals, 0);
    assert_true(v.known);
    return v.value;
}

static void test_boolean(void **state)
{
    (void)state;
    const double v[6] = { 1, 0, 1, 0, 0, 0 };
    assert_true(value_of("A && C", v) != 0);
    assert_true(value_of("A && B", v) == 0);
    assert_true(value_of("B || C", v) != 0);
    assert_true(value_of("!B && A", v) != 0);
    assert_true(value_of("!(A && C)", v) == 0);
    /* && binds tighter than || */
    assert_true(value_of("A || B && D", v) != 0);
    assert_true(value_of("(A || B) && D", v) == 0);
    assert_true(value_of("!A || !B", v) != 0);
}

static void test_arithmetic(void **state)
{
    (void)state;
    const double v[6] = { 3, 2, 1, 0, 5, 0 };
    assert_true(value_of("A + B + C", v) == 6);
    assert_true(value_of("A + B * C", v) == 5);          /* * before + */
    assert_true(value_of("(A + B) * C", v) == 5);
    assert_true(value_of("(A + B) * 2", v) == 10);
    assert_true(value_of("E - A - B", v) == 0);          /* left to right */
    assert_true(value_of("E / 2", v) == 2.5);
    assert_true(value_of("-A + E", v) == 2);
    assert_true(value_of("A + B > 4", v) != 0);
    assert_true(value_of("A + B > 5", v) == 0);
    assert_true(value_of("A + B >= 5", v) != 0);
    assert_true(value_of("A < B", v) == 0);
    assert_true(value_of("C <= 1", v) != 0);
    assert_true(value_of("A == 3", v) != 0);
    assert_true(value_of("A != 3", v) == 0);
    assert_true(value_of("(A + B + C + D) >= 3 && !D", v) != 0);
    assert_true(value_of("A > 1 && B > 1 || D", v) != 0);
    assert_true(value_of("0.5 * E > 2", v) != 0);
}

static void test_unknown(void **state)
{
    (void)state;
    const double v[6] = { 1, 0, 0, 0, 0, 0 };
    /* F unknown: an outcome that does not depend on it is known */
    struct tri t = eval_with("A || F", v, 1u << 5);
    assert_true(t.known && t.value != 0);
    t = eval_with("B && F", v, 1u << 5);
    assert_true(t.known && t.value == 0);
    t = eval_with("A && !F", v, 1u << 5);
    assert_false(t.known);
    t = eval_with("A + F > 1", v, 1u << 5);
    assert_false(t.known);
    t = eval_with("A / B", v, 0);                          /* division by zero */
    assert_false(t.known);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    const char *bad[] = { "A &&", "(A || B", "A B", "&& A", "A ||| B", "A $ B", "", ")" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct expr e;
        const char *why = NULL;
        assert_false(expr_compile(bad[i], NULL, &e, &why));
        assert_non_null(why);
    }
    /* nesting is bounded, not a stack overflow */
    char deep[4000];
    memset(deep, '(', 2000);
    strcpy(deep + 2000, "A");
    struct expr e;
    const char *why = NULL;
    assert_false(expr_compile(deep, NULL, &e, &why));
    memset(deep, '!', 3000);
    strcpy(deep + 3000, "A");
    assert_false(expr_compile(deep, NULL, &e, &why));
}

static bool funcs(const char *func, const char *arg, double *value)
{
    if (arg == NULL && strcmp(func, "version") == 0) {
        *value = 4.0;
        return true;
    }
    if (arg != NULL && strcmp(func, "plugin") == 0) {
        *value = strcmp(arg, "Mail::SpamAssassin::Plugin::Check") == 0;
        return true;
    }
    return false;
}

static void test_conditions(void **state)
{
    (void)state;
    struct expr e;
    const char *why;
    struct tri stack[16];
    assert_true(expr_compile("(version >= 3.004002)", funcs, &e, &why));
    assert_true(expr_eval(&e, NULL, stack).value != 0);
    expr_free(&e);
    assert_true(expr_compile("!plugin(Mail::SpamAssassin::Plugin::MIMEHeader)", funcs, &e, &why));
    assert_true(expr_eval(&e, NULL, stack).value != 0);
    expr_free(&e);
    assert_true(expr_compile("plugin(Mail::SpamAssassin::Plugin::Check) && version < 3", funcs, &e,
        &why));
    assert_true(expr_eval(&e, NULL, stack).value == 0);
    expr_free(&e);
    assert_false(expr_compile("nosuch(x)", funcs, &e, &why));
    assert_false(expr_compile("RULE_NAME", funcs, &e, &why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boolean),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
