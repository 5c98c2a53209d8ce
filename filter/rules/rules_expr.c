/* rules_expr.c - the expression language of meta rules and of `if` lines, as SpamAssassin
 * writes them: rule names, numbers, ! and unary minus, * /, + -, < > <= >=, == !=, && and ||
 * with Perl's precedence, and parentheses. Compiled once to postfix; evaluated in three-valued
 * logic so that a rule we cannot run is "unknown" instead of a silent 0. Nesting is bounded, so
 * hostile text cannot exhaust the stack. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "util.h"

#define EXPR_MAX_NESTING 64

struct parser {
    const char *p;
    expr_func_fn funcs;
    struct expr *out;
    size_t cap;
    size_t depth_now;
    const char *why;
    int nesting;
};

static void emit(struct parser *ps, enum expr_op op, double value, char *name)
{
    if (ps->out->count == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        ps->out->items = xrealloc(ps->out->items, ps->cap * sizeof *ps->out->items);
    }
    ps->out->items[ps->out->count++] = (struct expr_item){ .op = op, .value = value, .name = name };
    if (op == EXPR_NUM || op == EXPR_NAME) {
        ps->depth_now++;
        if (ps->depth_now > ps->out->depth)
            ps->out->depth = ps->depth_now;
    } else if (op != EXPR_NOT && op != EXPR_NEG) {
        ps->depth_now--;
    }
}

static void skip_space(struct parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* Consumes `tok` when it comes next. */
static bool accept(struct parser *ps, const char *tok)
{
    skip_space(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n) != 0)
        return false;
    /* "<" must not take the first half of "<=", "!" not of "!=" */
    if (n == 1 && (tok[0] == '<' || tok[0] == '>' || tok[0] == '!' || tok[0] == '=')
        && ps->p[1] == '=')
        return false;
    ps->p += n;
    return true;
}

static bool parse_or(struct parser *ps);

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* name(arg) in an `if` line: arg runs to the matching ')'. */
static bool parse_call(struct parser *ps, const char *name, size_t name_len)
{
    const char *arg = ps->p + 1;
    const char *close = strchr(arg, ')');
    if (close == NULL) {
        ps->why = "missing ) after a function argument";
        return false;
    }
    char func[32], argbuf[256];
    if (name_len >= sizeof func || (size_t)(close - arg) >= sizeof argbuf) {
        ps->why = "function name or argument too long";
        return false;
    }
    memcpy(func, name, name_len);
    func[name_len] = '\0';
    memcpy(argbuf, arg, (size_t)(close - arg));
    argbuf[close - arg] = '\0';
    double value;
    if (!ps->funcs(func, argbuf, &value)) {
        ps->why = "unknown function in a condition";
        return false;
    }
    emit(ps, EXPR_NUM, value, NULL);
    ps->p = close + 1;
    return true;
}

static bool parse_primary(struct parser *ps)
{
    skip_space(ps);
    if (accept(ps, "(")) {
        if (++ps->nesting > EXPR_MAX_NESTING) {
            ps->why = "parentheses nested too deeply";
            return false;
        }
        if (!parse_or(ps))
            return false;
        ps->nesting--;
        if (!accept(ps, ")")) {
            ps->why = "missing )";
            return false;
        }
        return true;
    }
    const char *start = ps->p;
    if (isdigit((unsigned char)*start) || (*start == '.' && isdigit((unsigned char)start[1]))) {
        char *end;
        double value = strtod(start, &end);
        ps->p = end;
        emit(ps, EXPR_NUM, value, NULL);
        return true;
    }
    if (!is_name_char(*start)) {
        ps->why = *start ? "unexpected character" : "expression ends too early";
        return false;
    }
    while (is_name_char(*ps->p))
        ps->p++;
    size_t len = (size_t)(ps->p - start);
    if (ps->funcs != NULL) {
        if (*ps->p == '(')
            return parse_call(ps, start, len);
        double value;
        char name[32];
        if (len < sizeof name) {
            memcpy(name, start, len);
            name[len] = '\0';
            if (ps->funcs(name, NULL, &value)) {
                emit(ps, EXPR_NUM, value, NULL);
                return true;
            }
        }
        ps->why = "unknown name in a condition";
        return false;
    }
    emit(ps, EXPR_NAME, 0, xstrndup(start, len));
    return true;
}

static bool parse_unary(struct parser *ps)
{
    if (++ps->nesting > EXPR_MAX_NESTING) {
        ps->why = "operators nested too deeply";
        return false;
    }
    bool ok;
    if (accept(ps, "!")) {
        ok = parse_unary(ps);
        if (ok)
            emit(ps, EXPR_NOT, 0, NULL);
    } else if (accept(ps, "-")) {
        ok = parse_unary(ps);
        if (ok)
            emit(ps, EXPR_NEG, 0, NULL);
    } else if (accept(ps, "+")) {
        ok = parse_unary(ps);
    } else {
        ok = parse_primary(ps);
    }
    ps->nesting--;
    return ok;
}

struct binop {
    const char *tok;
    enum expr_op op;
};

/* One precedence level: operand (op operand)*. */
static bool parse_level(struct parser *ps, bool (*operand)(struct parser *),
    const struct binop *ops)
{
    if (!operand(ps))
        return false;
    for (;;) {
        const struct binop *found = NULL;
        for (const struct binop *o = ops; o->tok != NULL && found == NULL; o++) {
            if (accept(ps, o->tok))
                found = o;
        }
        if (found == NULL)
            return true;
        if (!operand(ps))
            return false;
        emit(ps, found->op, 0, NULL);
    }
}

static const struct binop mul_ops[] = { {"*", EXPR_MUL}, {"/", EXPR_DIV}, {NULL, 0} };
static const struct binop add_ops[] = { {"+", EXPR_ADD}, {"-", EXPR_SUB}, {NULL, 0} };
static const struct binop rel_ops[] = {
    {"<=", EXPR_LE}, {">=", EXPR_GE}, {"<", EXPR_LT}, {">", EXPR_GT}, {NULL, 0},
};
static const struct binop eq_ops[] = { {"==", EXPR_EQ}, {"!=", EXPR_NE}, {NULL, 0} };
static const struct binop and_ops[] = { {"&&", EXPR_AND}, {NULL, 0} };
static const struct binop or_ops[] = { {"||", EXPR_OR}, {NULL, 0} };

static bool parse_mul(struct parser *ps) { return parse_level(ps, parse_unary, mul_ops); }
static bool parse_add(struct parser *ps) { return parse_level(ps, parse_mul, add_ops); }
static bool parse_rel(struct parser *ps) { return parse_level(ps, parse_add, rel_ops); }
static bool parse_eq(struct parser *ps) { return parse_level(ps, parse_rel, eq_ops); }
static bool parse_and(struct parser *ps) { return parse_level(ps, parse_eq, and_ops); }

static bool parse_or(struct parser *ps)
{
    if (++ps->nesting > EXPR_MAX_NESTING) {
        ps->why = "expression nested too deeply";
        return false;
    }
    bool ok = parse_level(ps, parse_and, or_ops);
    ps->nesting--;
    return ok;
}

bool expr_compile(const char *text, expr_func_fn funcs, struct expr *out, const char **why)
{
    memset(out, 0, sizeof *out);
    struct parser ps = { .p = text, .funcs = funcs, .out = out };
    bool ok = parse_or(&ps);
    skip_space(&ps);
    if (ok && *ps.p != '\0') {
        ok = false;
        ps.why = "unexpected text after the expression";
    }
    if (!ok) {
        *why = ps.why ? ps.why : "syntax error";
        expr_free(out);
        return false;
    }
    return true;
}

void expr_free(struct expr *e)
{
    for (size_t i = 0; i < e->count; i++)
        free(e->items[i].name);
    free(e->items);
    memset(e, 0, sizeof *e);
}

static struct tri known(double v)
{
    return (struct tri){ .value = v, .known = true };
}

static const struct tri unknown = { 0, false };

static struct tri logic_and(struct tri a, struct tri b)
{
    if ((a.known && a.value == 0) || (b.known && b.value == 0))
        return known(0);
    if (a.known && b.known)
        return known(1);
    return unknown;
}

static struct tri logic_or(struct tri a, struct tri b)
{
    if ((a.known && a.value != 0) || (b.known && b.value != 0))
        return known(1);
    if (a.known && b.known)
        return known(0);
    return unknown;
}

static struct tri arith(enum expr_op op, struct tri a, struct tri b)
{
    if (!a.known || !b.known)
        return unknown;
    double x = a.value, y = b.value;
    switch (op) {
    case EXPR_MUL: return known(x * y);
    case EXPR_DIV: return y == 0 ? unknown : known(x / y);
    case EXPR_ADD: return known(x + y);
    case EXPR_SUB: return known(x - y);
    case EXPR_LT: return known(x < y);
    case EXPR_GT: return known(x > y);
    case EXPR_LE: return known(x <= y);
    case EXPR_GE: return known(x >= y);
    case EXPR_EQ: return known(x == y);
    case EXPR_NE: return known(x != y);
    default: return unknown;
    }
}

struct tri expr_eval(const struct expr *e, const struct tri *values, struct tri *stack)
{
    size_t sp = 0;
    for (size_t i = 0; i < e->count; i++) {
        const struct expr_item *it = &e->items[i];
        switch (it->op) {
        case EXPR_NUM:
            stack[sp++] = known(it->value);
            break;
        case EXPR_NAME:
            stack[sp++] = values[it->index];
            break;
        case EXPR_NOT:
            if (stack[sp - 1].known)
                stack[sp - 1].value = stack[sp - 1].value == 0;
            break;
        case EXPR_NEG:
            stack[sp - 1].value = -stack[sp - 1].value;
            break;
        case EXPR_AND:
            sp--;
            stack[sp - 1] = logic_and(stack[sp - 1], stack[sp]);
            break;
        case EXPR_OR:
            sp--;
            stack[sp - 1] = logic_or(stack[sp - 1], stack[sp]);
            break;
        default:
            sp--;
            stack[sp - 1] = arith(it->op, stack[sp - 1], stack[sp]);
            break;
        }
    }
    return sp == 1 ? stack[0] : unknown;
}
