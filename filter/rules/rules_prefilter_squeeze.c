/* rules_prefilter_squeeze.c - the squeezed forms of a body line and of a prefilter pattern.
 * The squeezed text of a line is the line with every byte outside a kept alphabet removed
 * (letters, digits, and the punctuation obfuscated words use for letters: @!|$&#;\/()<>). The
 * squeezed form of a pattern is rewritten so that it matches the squeezed text wherever the
 * pattern matched the text: a literal outside the alphabet becomes empty, a class (and \w, \s,
 * ., ...) keeps its members in the alphabet and becomes optional when it also has members
 * outside it, anchors, \b and lookarounds become empty, atomic groups, captures, lazy and
 * possessive repeats become plain ones, repeats and alternations are rewritten recursively.
 *
 * The promise: for a text with no byte >= 0x80 and a match s of the pattern in it, the
 * squeezed text of s is a substring of the squeezed text and matches the squeezed form (by
 * induction over the pattern's structure). So a rule whose pattern may match such a line is
 * still reported when the squeezed form is scanned over the squeezed line; rules_prefilter.c
 * scans the spaced-letter patterns of the stock rules so (__DRUGS_*, FUZZY_*: no literal
 * for Hyperscan to start from), and PCRE2 still decides on the original line. Classes of
 * bytes >= 0x80 only make their alternative impossible (dropped), since such lines have none.
 * Anything this reader does not know gives no squeezed form: the pattern stays in an ordinary
 * database. Pure string functions. */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules_prefilter_squeeze.h"
#include "rules_regex_class.h"
#include "util.h"

#define INF_REPEAT ULONG_MAX      /* what regex_counted_repeat gives for no upper bound */

/* The kept alphabet: letters, digits, @!|$&#;\/()<> (rows of 16 bytes, 0x00 to 0xff). */
static const unsigned char keep_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

bool prefilter_squeeze_keeps(unsigned char c)
{
    return keep_byte[c] != 0;
}

size_t prefilter_squeeze_text(const char *text, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        out[n] = text[i];
        n += keep_byte[(unsigned char)text[i]];
    }
    return n;
}

static bool isalnum_ascii(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool isalpha_ascii(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* What a piece of the pattern becomes: nothing (it matches only empty squeezed text),
 * impossible (it cannot match a line without bytes >= 0x80), or a text. */
enum piece_kind { PIECE_EMPTY, PIECE_IMPOSSIBLE, PIECE_TEXT };

struct piece {
    enum piece_kind kind;
    struct textbuf text;
    size_t min;             /* the shortest match of text */
    bool opt;               /* text may also be skipped: written text? */
    bool atom;              /* text takes a quantifier as it is (a byte, a class, a group) */
};

struct reader {
    const char *start;
    const char *p;
    bool fail;
    char lead[8];           /* the case option set at the start of the pattern: "i", "-i", "" */
};

/* A set of ASCII bytes, and whether bytes >= 0x80 were in it. */
struct byteset {
    bool in[128];
    bool high;
};

static void piece_init(struct piece *pc, enum piece_kind kind)
{
    memset(pc, 0, sizeof *pc);
    pc->kind = kind;
    textbuf_init(&pc->text);
}

/* pc, already initialized, made anew */
static void piece_reset(struct piece *pc, enum piece_kind kind)
{
    textbuf_free(&pc->text);
    piece_init(pc, kind);
}

static void add_range(struct byteset *s, int lo, int hi)
{
    for (int c = lo; c <= hi; c++) {
        if (c < 128)
            s->in[c] = true;
        else
            s->high = true;
    }
}

static void put_byte(struct textbuf *out, int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        char ch = (char)c;
        textbuf_append(out, &ch, 1);
    } else {
        textbuf_printf(out, "\\x%02x", c);
    }
}

/* The piece (pc, initialized) of one byte set (a literal, a class, \w, .): its members in the alphabet, optional
 * when it has others below 0x80; empty when it has only those; impossible when it has none. */
static void set_piece(const struct byteset *s, struct piece *pc)
{
    int kept = 0, other = 0, last = -1;
    for (int c = 0; c < 128; c++) {
        bool k = s->in[c] && prefilter_squeeze_keeps((unsigned char)c);
        kept += k;
        other += s->in[c] && !k;
        last = k ? c : last;
    }
    piece_reset(pc, kept > 0 ? PIECE_TEXT : other > 0 ? PIECE_EMPTY : PIECE_IMPOSSIBLE);
    if (kept == 0)
        return;
    pc->min = 1;
    pc->opt = other > 0;
    pc->atom = true;
    if (kept == 1) {
        put_byte(&pc->text, last);
        return;
    }
    textbuf_puts(&pc->text, "[");
    for (int c = 0; c < 128; c++) {
        if (!s->in[c] || !prefilter_squeeze_keeps((unsigned char)c))
            continue;
        int end = c;
        while (end + 1 < 128 && s->in[end + 1] && prefilter_squeeze_keeps((unsigned char)(end + 1))
                && isalnum_ascii(end + 1) && isalnum_ascii(c))
            end++;
        put_byte(&pc->text, c);
        if (end > c + 1)
            textbuf_puts(&pc->text, "-");
        if (end > c)
            put_byte(&pc->text, end);
        c = end;
    }
    textbuf_puts(&pc->text, "]");
}

/* The set of an escape that stands for a class (\d \D \w \W \s \S \h \H \v \V); false for
 * any other. */
static bool escape_set(char e, struct byteset *s)
{
    struct byteset base;
    memset(&base, 0, sizeof base);
    char lower = (char)(e | 0x20);
    if (lower == 'd') {
        add_range(&base, '0', '9');
    } else if (lower == 'w') {
        add_range(&base, '0', '9');
        add_range(&base, 'a', 'z');
        add_range(&base, 'A', 'Z');
        add_range(&base, '_', '_');
    } else if (lower == 's') {
        add_range(&base, 9, 13);
        add_range(&base, ' ', ' ');
    } else if (lower == 'h') {
        add_range(&base, 9, 9);
        add_range(&base, ' ', ' ');
        base.high = true;
    } else if (lower == 'v') {
        add_range(&base, 10, 13);
        base.high = true;
    } else {
        return false;
    }
    bool negated = e != lower;
    for (int c = 0; c < 128; c++)
        s->in[c] = s->in[c] || (base.in[c] != negated);
    s->high = true;         /* both \w and \W (and the others) may match bytes >= 0x80 */
    return true;
}

/* The byte of a single-byte escape at p ("\xHH", "\x{HH}", "\n", "\.", ...), its length in
 * *len; -1 for one that is not a byte. */
static int escape_byte(const char *p, size_t *len)
{
    int c = regex_member_byte(p, len);
    if (c >= 0)
        return c;
    *len = p[1] != '\0' ? 2 : 1;
    if (p[1] == 'x' && p[2] == '{' && isxdigit((unsigned char)p[3])) {
        char *end;
        unsigned long v = strtoul(p + 3, &end, 16);
        if (*end != '}' || end == p + 3 || v > 0xff)
            return -1;
        *len = (size_t)(end + 1 - p);
        return (int)v;
    }
    static const char simple[] = "ntrfea";
    static const int bytes[] = { '\n', '\t', '\r', '\f', 27, 7 };
    const char *s = p[1] != '\0' ? strchr(simple, p[1]) : NULL;
    if (s != NULL)
        return bytes[s - simple];
    unsigned char e = (unsigned char)p[1];
    if (e != '\0' && e < 128 && !isalnum_ascii(e))
        return e;               /* an escaped punctuation character */
    return -1;
}

/* A bracket class at r->p into its piece pc (initialized, empty). */
static void read_class(struct reader *r, struct piece *pc)
{
    const char *end = regex_class_end(r->p);
    const char *q = r->p + 1;
    bool negated = *q == '^';
    q += negated;
    struct byteset s;
    memset(&s, 0, sizeof s);
    if (end == NULL) {
        r->fail = true;
        return;
    }
    while (q < end && !r->fail) {
        size_t len = 1;
        int lo = (unsigned char)*q;
        if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.')) {
            r->fail = true;         /* a POSIX class */
        } else if (*q == '\\' && escape_set(q[1], &s)) {
            len = 2;
            lo = -2;
        } else if (*q == '\\') {
            lo = q[1] == 'b' ? 8 : escape_byte(q, &len);
            len = q[1] == 'b' ? 2 : len;
            r->fail = lo < 0;
        }
        q += len;
        if (r->fail || lo == -2)
            continue;
        int hi = lo;
        if (*q == '-' && q + 1 < end) {
            hi = (unsigned char)q[1];
            len = 1;
            if (q[1] == '\\')
                hi = escape_byte(q + 1, &len);
            r->fail = hi < lo || (q[1] == '[');
            q += 1 + len;
        }
        if (!r->fail)
            add_range(&s, lo, hi);
    }
    if (r->fail)
        return;
    if (negated) {
        for (int c = 0; c < 128; c++)
            s.in[c] = !s.in[c];
        s.high = true;
    }
    r->p = end + 1;
    set_piece(&s, pc);
}

/* Writes pc as one item of a sequence. */
static void put_piece(struct textbuf *out, const struct piece *pc)
{
    if (pc->opt && !pc->atom)
        textbuf_puts(out, "(?:");
    textbuf_append(out, pc->text.data ? pc->text.data : "", pc->text.len);
    if (pc->opt && !pc->atom)
        textbuf_puts(out, ")");
    if (pc->opt)
        textbuf_puts(out, "?");
}

static void read_alternation(struct reader *r, struct piece *out);

/* A counted repeat "{m}", "{m,}", "{m,n}" at p with m <= n: its length, or 0 when p is not one. */
static size_t read_count(const char *p, unsigned long *lo, unsigned long *hi)
{
    size_t n = regex_counted_repeat(p, lo, hi);
    return n > 0 && *hi >= *lo ? n : 0;
}

/* The quantifier after an item, if any: r->p moves past it (and a lazy or possessive mark). */
static bool read_quantifier(struct reader *r, unsigned long *lo, unsigned long *hi)
{
    size_t n = 1;
    if (*r->p == '*') {
        *lo = 0;
        *hi = INF_REPEAT;
    } else if (*r->p == '+') {
        *lo = 1;
        *hi = INF_REPEAT;
    } else if (*r->p == '?') {
        *lo = 0;
        *hi = 1;
    } else {
        n = read_count(r->p, lo, hi);
        if (n == 0)
            return false;
    }
    r->p += n;
    if (*r->p == '?' || *r->p == '+')
        r->p++;
    return true;
}

/* pc repeated lo to hi times. */
static void repeat_piece(struct piece *pc, unsigned long lo, unsigned long hi)
{
    if (hi == 0 || pc->kind == PIECE_EMPTY || (pc->kind == PIECE_IMPOSSIBLE && lo == 0)) {
        piece_reset(pc, PIECE_EMPTY);
        return;
    }
    if (pc->kind == PIECE_IMPOSSIBLE)
        return;
    struct textbuf t;
    textbuf_init(&t);
    if (!pc->atom)
        textbuf_puts(&t, "(?:");
    textbuf_append(&t, pc->text.data, pc->text.len);
    if (!pc->atom)
        textbuf_puts(&t, ")");
    if (pc->opt)
        lo = 0;
    if (hi == INF_REPEAT || hi > 10) {
        lo = lo > 0 ? 1 : 0;
        textbuf_puts(&t, lo > 0 ? "+" : "*");
    } else if (lo == 0 && hi == 1) {
        textbuf_puts(&t, "?");
    } else if (lo == hi) {
        textbuf_printf(&t, "{%lu}", lo);
    } else {
        textbuf_printf(&t, "{%lu,%lu}", lo, hi);
    }
    textbuf_free(&pc->text);
    pc->text = t;
    pc->min *= lo;
    pc->opt = false;
    pc->atom = false;
}

/* A group at r->p ("(" seen) into pc (initialized, empty): its opening decides what it
 * becomes. */
static void read_group(struct reader *r, struct piece *pc)
{
    const char *p = r->p;
    const char *opening = "(?:";
    bool zero_width = false;
    char flags[8] = "";
    if (p[1] != '?') {
        r->p += 1;
    } else if (p[2] == ':' || p[2] == '>') {
        r->p += 3;
    } else if (p[2] == '=' || p[2] == '!') {
        r->p += 3;
        zero_width = true;
    } else if (p[2] == '<' && (p[3] == '=' || p[3] == '!')) {
        r->p += 4;
        zero_width = true;
    } else if (p[2] == '#') {
        const char *close = strchr(p, ')');
        r->fail = close == NULL;
        r->p = close != NULL ? close + 1 : p;
        return;
    } else if ((p[2] == '<' || (p[2] == 'P' && p[3] == '<'))
            && isalpha_ascii(p[p[2] == 'P' ? 4 : 3])) {
        const char *close = strchr(p, '>');
        r->fail = close == NULL;
        r->p = close != NULL ? close + 1 : p;
    } else {
        /* inline options: (?i:...) keeps i; (?i) only at the very start of the pattern */
        const char *q = p + 2;
        size_t n = 0;
        bool minus = false;
        for (; *q == 'i' || *q == 'm' || *q == 's' || (*q == '-' && !minus); q++) {
            minus = minus || *q == '-';
            if ((*q == 'i' || *q == '-') && n < 4)
                flags[n++] = *q;
        }
        flags[n] = '\0';
        if (n > 0 && flags[n - 1] == '-')
            flags[n - 1] = '\0';
        if (*q == ')' && p == r->start) {
            r->p = q + 1;
            memcpy(r->lead, flags, sizeof r->lead);  /* for the whole pattern, put first */
            return;
        }
        r->fail = *q != ':';
        r->p = q + 1;
    }
    if (r->fail)
        return;
    struct piece inner;
    read_alternation(r, &inner);
    if (r->fail || *r->p != ')') {
        r->fail = true;
        textbuf_free(&inner.text);
        return;
    }
    r->p++;
    if (zero_width || inner.kind != PIECE_TEXT) {
        textbuf_free(&inner.text);
        piece_reset(pc, zero_width ? PIECE_EMPTY : inner.kind);
        return;
    }
    piece_reset(pc, PIECE_TEXT);
    if (flags[0] != '\0')
        textbuf_printf(&pc->text, "(?%s:", flags);
    else
        textbuf_puts(&pc->text, opening);
    textbuf_append(&pc->text, inner.text.data, inner.text.len);
    textbuf_puts(&pc->text, ")");
    pc->min = inner.min;
    pc->opt = inner.opt;
    pc->atom = true;
    textbuf_free(&inner.text);
}

/* One item at r->p (not "|", ")" or the end): an atom and its quantifier. */
static void read_item(struct reader *r, struct piece *pc)
{
    const char *p = r->p;
    struct byteset s;
    memset(&s, 0, sizeof s);
    piece_init(pc, PIECE_EMPTY);
    if (*p == '(') {
        read_group(r, pc);
    } else if (*p == '[') {
        read_class(r, pc);
    } else if (*p == '^' || *p == '$') {
        r->p++;
    } else if (*p == '.') {
        add_range(&s, 0, 255);
        s.in['\n'] = false;
        set_piece(&s, pc);
        r->p++;
    } else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
        r->fail = true;         /* a "{" that is not a count: {,n} is one in newer PCRE2 */
    } else if (*p == '\\' && p[1] != '\0' && strchr("bBAzZGK", p[1]) != NULL) {
        r->p += 2;              /* zero width */
    } else if (*p == '\\' && escape_set(p[1], &s)) {
        set_piece(&s, pc);
        r->p += 2;
    } else if (*p == '\\') {
        size_t len;
        int c = escape_byte(p, &len);
        r->fail = c < 0;
        add_range(&s, c < 0 ? 0 : c, c < 0 ? 0 : c);
        set_piece(&s, pc);
        r->p += len;
    } else {
        add_range(&s, (unsigned char)*p, (unsigned char)*p);
        set_piece(&s, pc);
        r->p++;
    }
    unsigned long lo, hi;
    if (!r->fail && r->p != p && read_quantifier(r, &lo, &hi))
        repeat_piece(pc, lo, hi);
}

/* A sequence of items up to "|", ")" or the end. */
static void read_sequence(struct reader *r, struct piece *out)
{
    piece_init(out, PIECE_EMPTY);
    bool impossible = false;
    while (*r->p != '\0' && *r->p != '|' && *r->p != ')' && !r->fail) {
        struct piece item;
        read_item(r, &item);
        impossible = impossible || item.kind == PIECE_IMPOSSIBLE;
        if (item.kind == PIECE_TEXT) {
            put_piece(&out->text, &item);
            out->min += item.opt ? 0 : item.min;
            out->kind = PIECE_TEXT;
        }
        textbuf_free(&item.text);
    }
    if (impossible)
        piece_reset(out, PIECE_IMPOSSIBLE);
}

/* Alternatives up to ")" or the end: the impossible ones dropped, the empty ones making the
 * rest optional. */
static void read_alternation(struct reader *r, struct piece *out)
{
    piece_init(out, PIECE_IMPOSSIBLE);
    bool empty = false;
    for (;;) {
        struct piece branch;
        read_sequence(r, &branch);
        empty = empty || branch.kind == PIECE_EMPTY;
        if (branch.kind == PIECE_TEXT) {
            if (out->kind == PIECE_TEXT)
                textbuf_puts(&out->text, "|");
            out->min = out->kind == PIECE_TEXT && out->min < branch.min ? out->min : branch.min;
            out->kind = PIECE_TEXT;
            textbuf_append(&out->text, branch.text.data, branch.text.len);
        }
        textbuf_free(&branch.text);
        if (r->fail || *r->p != '|')
            break;
        r->p++;
    }
    if (out->kind == PIECE_IMPOSSIBLE && empty)
        out->kind = PIECE_EMPTY;
    out->opt = out->kind == PIECE_TEXT && empty;
}

char *prefilter_squeeze_form(const char *expression, size_t *min_len)
{
    struct reader r = { .start = expression, .p = expression, .fail = false };
    struct piece top;
    read_alternation(&r, &top);
    *min_len = 0;
    if (r.fail || *r.p != '\0' || top.kind != PIECE_TEXT) {
        textbuf_free(&top.text);
        return NULL;
    }
    struct textbuf out;
    textbuf_init(&out);
    if (r.lead[0] != '\0')
        textbuf_printf(&out, "(?%s)", r.lead);
    put_piece(&out, &top);
    textbuf_free(&top.text);
    *min_len = top.opt ? 0 : top.min;
    return out.data;
}
