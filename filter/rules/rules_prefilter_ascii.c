/* rules_prefilter_ascii.c - the ASCII form of a prefilter pattern: every alternative that can
 * only match bytes >= 0x80 removed (the UTF-8 look-alike branches of the ReplaceTags
 * obfuscation classes: "[\xc3][\x80\x81]", "[\x80-\xff]+" alone in a branch, ...). On a text
 * with no byte >= 0x80 such a branch never matches, so the ASCII form matches exactly where the
 * pattern does; rules_prefilter.c scans such texts (most body lines of most mail) with
 * databases of these forms, which Hyperscan scans up to twice as fast for the FUZZY_* rules.
 * A branch is removed only when it is made of classes holding no byte below 0x80 and \xHH
 * escapes of such bytes, in non-capturing groups, with no quantifier but "+" (it then matches
 * only a non-empty string of high bytes); a group left with no branch, or a pattern that cannot be
 * read, gives no ASCII form. Pure string functions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules_prefilter_ascii.h"
#include "rules_regex_class.h"
#include "util.h"

/* The index of the ")" closing the group opening at s[start], or 0. */
static size_t closing_paren(const char *s, size_t start)
{
    size_t depth = 0;
    for (size_t i = start; s[i] != '\0'; i++) {
        if (s[i] == '\\') {
            if (s[i + 1] == '\0')
                return 0;
            i++;
            continue;
        }
        if (s[i] == '[') {
            const char *close = regex_class_end(s + i);
            if (close == NULL)
                return 0;
            i = (size_t)(close - s);
            continue;
        }
        if (s[i] == '(')
            depth++;
        if (s[i] == ')' && --depth == 0)
            return i;
    }
    return 0;
}

static bool reduce(const char *s, size_t n, struct textbuf *out, bool *changed);

/* The branches of s[0 .. n) (one alternation level) without those of high bytes only, each
 * reduced in turn; false when none is left. */
static bool reduce_alternation(const char *s, size_t n, struct textbuf *out, bool *changed)
{
    size_t kept = 0;
    for (size_t start = 0;;) {
        size_t end;
        if (!regex_branch_end(s, n, start, &end))
            return false;
        if (regex_branch_high_only(s + start, end - start, true)) {
            *changed = true;
        } else {
            if (kept++ > 0)
                textbuf_puts(out, "|");
            if (!reduce(s + start, end - start, out, changed))
                return false;
        }
        if (end == n)
            break;
        start = end + 1;
    }
    return kept > 0;
}

/* One branch (a sequence): copied, each group's alternation reduced. */
static bool reduce(const char *s, size_t n, struct textbuf *out, bool *changed)
{
    for (size_t i = 0; i < n;) {
        if (s[i] == '\\') {
            size_t len = i + 1 < n ? 2 : 1;
            textbuf_append(out, s + i, len);
            i += len;
            continue;
        }
        if (s[i] == '[') {
            const char *close = regex_class_end(s + i);
            if (close == NULL || close >= s + n)
                return false;
            textbuf_append(out, s + i, (size_t)(close - (s + i)) + 1);
            i = (size_t)(close - s) + 1;
            continue;
        }
        if (s[i] != '(') {
            textbuf_append(out, s + i, 1);
            i++;
            continue;
        }
        size_t close = closing_paren(s, i);
        if (close == 0 || close >= n)
            return false;
        /* the group's opening: "(", "(?:", "(?=", "(?!", "(?<=", "(?<!"; any other ((?i),
         * (?x), (?<name>, ...) is left to the caller: no ASCII form */
        static const char *const openings[] = { "(?:", "(?=", "(?!", "(?<=", "(?<!" };
        size_t open = s[i + 1] == '?' ? 0 : 1;
        for (size_t k = 0; k < sizeof openings / sizeof openings[0] && open == 0; k++) {
            if (strncmp(s + i, openings[k], strlen(openings[k])) == 0)
                open = strlen(openings[k]);
        }
        if (open == 0 || i + open > close)
            return false;
        textbuf_append(out, s + i, open);
        if (!reduce_alternation(s + i + open, close - i - open, out, changed))
            return false;
        textbuf_puts(out, ")");
        i = close + 1;
    }
    return true;
}

char *prefilter_ascii_form(const char *expression)
{
    bool changed = false;
    struct textbuf out;
    textbuf_init(&out);
    bool ok = reduce_alternation(expression, strlen(expression), &out, &changed);
    if (!ok || !changed) {
        textbuf_free(&out);
        return NULL;
    }
    return out.data ? out.data : xstrdup("");
}

bool prefilter_text_is_ascii(const char *text, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, text + i, sizeof word);
        if (word & 0x8080808080808080ULL)
            return false;
    }
    for (; i < len; i++) {
        if ((unsigned char)text[i] >= 0x80)
            return false;
    }
    return true;
}
