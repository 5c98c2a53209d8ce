/* bayes_line.c - one line into Bayes tokens, as SpamAssassin's _tokenize_line: bytes outside
 * its alphabet become spaces, "word...word" and "word--word" are split, a sentence's
 * title-case first word is lower-cased (body and URIs), then each word is trimmed, skipped
 * when shorter than 3 bytes or an English stop word, and expanded: mail addresses (U*, D*),
 * domains (UD:), long words (u8: UTF-8 characters or sk: skips), and the decomposed forms
 * (punctuation dropped, lower case). Byte semantics throughout, as SpamAssassin's Perl on
 * undecoded text. Promises the same tokens, in the same order, as SpamAssassin 4.0.1. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bayes_tokens.h"
#include "util.h"

static bool is_ascii_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_cont(unsigned char c)
{
    return c >= 0x80 && c <= 0xBF;
}

/* SpamAssassin's alphabet: [A-Za-z0-9,@*!_'"$. -]. */
static bool is_kept_ascii(unsigned char c)
{
    if (is_ascii_word(c))
        return true;
    return strchr(",@*!'\"$. -", c) != NULL && c != '\0';
}

/* Bytes of a UTF-8-looking sequence starting at s[i] (2..4), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    if (c >= 0xC0 && c <= 0xDF && i + 1 < n && is_cont(s[i + 1]))
        return 2;
    if (c >= 0xE0 && c <= 0xEF && i + 2 < n && is_cont(s[i + 1]) && is_cont(s[i + 2]))
        return 3;
    if (c >= 0xF0 && c <= 0xF4 && i + 3 < n && is_cont(s[i + 1]) && is_cont(s[i + 2])
        && is_cont(s[i + 3]))
        return 4;
    return 0;
}

/* Step 1: every byte outside the alphabet (and not part of a UTF-8 sequence, nor a lone byte
 * >= 0xA1) becomes a space. Same length. */
static void keep_alphabet(unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (is_kept_ascii(s[i])) {
            i++;
            continue;
        }
        size_t seq = utf8_sequence(s, n, i);
        if (seq > 0) {
            i += seq;
            continue;
        }
        if (s[i] < 0xA1)
            s[i] = ' ';
        i++;
    }
}

/* s/(\w)(X{min,6})(\w)/$1 $2 $3/g: X = '.' (min 3) or '-' (min 2). Returns a new string
 * (len in *n) or NULL when nothing matched. */
static char *split_runs(const char *s, size_t *n, char mark, size_t min)
{
    size_t len = *n;
    if (len < 4)
        return NULL;
    char *out = NULL;
    size_t out_len = 0, copied = 0;
    size_t i = 0;
    while (i + 1 < len) {
        if (!is_ascii_word((unsigned char)s[i]) || s[i + 1] != mark) {
            i++;
            continue;
        }
        size_t run = 0;
        while (i + 1 + run < len && s[i + 1 + run] == mark)
            run++;
        size_t after = i + 1 + run;
        if (run < min || run > 6 || after >= len || !is_ascii_word((unsigned char)s[after])) {
            i++;
            continue;
        }
        if (out == NULL)
            out = xmalloc(len * 2 + 1);
        memcpy(out + out_len, s + copied, i + 1 - copied);
        out_len += i + 1 - copied;
        out[out_len++] = ' ';
        memcpy(out + out_len, s + i + 1, run);
        out_len += run;
        out[out_len++] = ' ';
        out[out_len++] = s[after];
        copied = after + 1;
        i = after + 1;
    }
    if (out == NULL)
        return NULL;
    memcpy(out + out_len, s + copied, len - copied);
    out_len += len - copied;
    out[out_len] = '\0';
    *n = out_len;
    return out;
}

/* The title-case rule: s/(?:^|\.\s+)([A-Z])([^A-Z]+)(?:\s|$)/ ' '.lc($1).$2.' ' /ge.
 * After step 1 the only white space left is ' '. Returns a new string or NULL (no match). */
static size_t title_match_at(const char *s, size_t len, size_t q, size_t *end, size_t *body_end)
{
    if (q >= len || !is_upper((unsigned char)s[q]))
        return 0;
    size_t e = q + 1;
    while (e < len && !is_upper((unsigned char)s[e]))
        e++;
    if (e == q + 1)
        return 0;
    if (e == len) {
        *body_end = len;
        *end = len;
        return 1;
    }
    for (size_t k = e - 1; k >= q + 2; k--) {
        if (s[k] == ' ') {
            *body_end = k;
            *end = k + 1;
            return 1;
        }
    }
    return 0;
}

static char *lower_title_words(const char *s, size_t *n)
{
    size_t len = *n;
    char *out = NULL;
    size_t out_len = 0, copied = 0;
    size_t start = 0;
    while (start < len) {
        size_t end = 0, body_end = 0, q = 0;
        bool hit = false;
        if (start == 0 && title_match_at(s, len, 0, &end, &body_end)) {
            hit = true;
            q = 0;
        } else if (s[start] == '.' && start + 1 < len && s[start + 1] == ' ') {
            q = start + 1;
            while (q < len && s[q] == ' ')
                q++;
            hit = title_match_at(s, len, q, &end, &body_end) != 0;
        }
        if (!hit) {
            start++;
            continue;
        }
        if (out == NULL)
            out = xmalloc(len + 2 * (len / 2 + 1) + 1);
        memcpy(out + out_len, s + copied, start - copied);
        out_len += start - copied;
        out[out_len++] = ' ';
        out[out_len++] = (char)(s[q] - 'A' + 'a');
        memcpy(out + out_len, s + q + 1, body_end - (q + 1));
        out_len += body_end - (q + 1);
        out[out_len++] = ' ';
        copied = end;
        start = end;
    }
    if (out == NULL)
        return NULL;
    memcpy(out + out_len, s + copied, len - copied);
    out_len += len - copied;
    out[out_len] = '\0';
    *n = out_len;
    return out;
}

/* SpamAssassin's English stop words (60_bayes_stopwords.cf, bayes_stopword_en): a whole
 * token equal to one of these, ASCII case ignored, is no token. */
static const char *const stop_words[] = {
    "able", "already", "all", "and", "any", "are", "because", "both", "can", "come", "each",
    "email", "even", "few", "first", "for", "from", "give", "have", "has", "http",
    "information", "into", "it's", "just", "know", "like", "long", "look", "made", "mail",
    "mailing", "mailto", "make", "many", "more", "most", "much", "need", "not", "now",
    "number", "off", "only", "one", "out", "own", "people", "place", "right", "same", "see",
    "such", "that", "this", "through", "the", "time", "using", "web", "where", "why", "with",
    "without", "world", "work", "year", "years", "you", "you're", "your", NULL,
};

static bool is_stop_word(const char *t, size_t len)
{
    if (len > 11)
        return false;
    for (size_t i = 0; stop_words[i] != NULL; i++) {
        if (strlen(stop_words[i]) == len && strncasecmp(stop_words[i], t, len) == 0)
            return true;
    }
    return false;
}

static bool is_trim(unsigned char c)
{
    return c == '-' || c == '\'' || c == '"' || c == '.' || c == ',';
}

struct emit {
    bayes_token_fn add;
    void *arg;
    char buf[4096];
};

/* Emits prefix + a + b (b may be NULL). */
static void emit3(struct emit *e, const char *prefix, const char *a, const char *b, size_t blen)
{
    size_t pl = strlen(prefix), al = strlen(a);
    if (pl + al + blen >= sizeof e->buf)
        return;
    memcpy(e->buf, prefix, pl);
    memcpy(e->buf + pl, a, al);
    if (b != NULL)
        memcpy(e->buf + pl + al, b, blen);
    e->buf[pl + al + blen] = '\0';
    e->add(e->arg, e->buf, pl + al + blen);
}

/* "D*" + every tail after a dot: while (s/^[^\.]+\.(.+)$/$1/) push "D*$1". */
static void emit_domain_tails(struct emit *e, const char *tag, const char *d, size_t len)
{
    for (;;) {
        if (len == 0 || d[0] == '.')
            return;
        const char *dot = memchr(d, '.', len);
        if (dot == NULL || (size_t)(dot - d) + 1 >= len)
            return;
        len -= (size_t)(dot - d) + 1;
        d = dot + 1;
        emit3(e, "", tag, d, len);
    }
}

/* SpamAssassin's _tokenize_mail_addrs: U*local, D*domain, D* of each parent domain. */
static void emit_mail_address(struct emit *e, const char *t, size_t len)
{
    size_t at = len;
    for (size_t i = len; i-- > 1;) {
        if (t[i] == '@' && i + 1 < len) {
            at = i;
            break;
        }
    }
    if (at == len)
        return;
    emit3(e, "", "U*", t, at);
    emit3(e, "", "D*", t + at + 1, len - at - 1);
    emit_domain_tails(e, "D*", t + at + 1, len - at - 1);
}

void bayes_tokenize_mail_address(const char *addr, size_t len, bayes_token_fn add, void *arg);
void bayes_tokenize_mail_address(const char *addr, size_t len, bayes_token_fn add, void *arg)
{
    struct emit e = { .add = add, .arg = arg };
    emit_mail_address(&e, addr, len);
}

static bool has_mail_at(const char *t, size_t len)
{
    for (size_t i = 1; i + 1 < len; i++) {
        if (t[i] == '@' && t[i - 1] != ' ' && t[i + 1] != ' ')
            return true;
    }
    return false;
}

static bool has_domain_dot(const char *t, size_t len)
{
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char c = (unsigned char)t[i + 1];
        if (t[i] == '.' && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return true;
    }
    return false;
}

/* u8: tokens of a long token: every (?:[\xE0-\xEF]|[\xF0-\xF4][\x80-\xBF])[\x80-\xBF]{2}.
 * Returns whether there was one. */
static bool emit_utf8_chars(struct emit *e, const char *prefix, const char *t, size_t len)
{
    const unsigned char *u = (const unsigned char *)t;
    bool any = false;
    size_t i = 0;
    while (i < len) {
        size_t m = 0;
        if (u[i] >= 0xE0 && u[i] <= 0xEF && i + 2 < len && is_cont(u[i + 1]) && is_cont(u[i + 2]))
            m = 3;
        else if (u[i] >= 0xF0 && u[i] <= 0xF4 && i + 3 < len && is_cont(u[i + 1])
            && is_cont(u[i + 2]) && is_cont(u[i + 3]))
            m = 4;
        if (m == 0) {
            i++;
            continue;
        }
        emit3(e, prefix, "u8:", t + i, m);
        any = true;
        i += m;
    }
    return any;
}

static bool has_two_cont(const char *t, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (is_cont((unsigned char)t[i]) && is_cont((unsigned char)t[i + 1]))
            return true;
    }
    return false;
}

/* Bytes of SpamAssassin's first 7 "characters" of a long token (its skip rule), 0 when the
 * rest would be shorter than 2 bytes. */
static size_t skip_prefix_len(const char *t, size_t len)
{
    const unsigned char *u = (const unsigned char *)t;
    size_t i = 0;
    for (int c = 0; c < 7; c++) {
        if (i >= len)
            return 0;
        if (u[i] <= 0x7F || u[i] >= 0xF5) {
            i++;
            continue;
        }
        size_t seq = utf8_sequence(u, len, i);
        i += seq > 0 ? seq : 1;
    }
    return len - i >= 2 ? i : 0;
}

static bool is_word_colon_star(unsigned char c)
{
    return is_ascii_word(c) || c == ':' || c == '*';
}

static void emit_decomposed(struct emit *e, const char *prefix, const char *t, size_t len)
{
    bool has_other = false, has_upper = false;
    for (size_t i = 0; i < len; i++) {
        if (!is_word_colon_star((unsigned char)t[i]))
            has_other = true;
        if (is_upper((unsigned char)t[i]))
            has_upper = true;
    }
    char tmp[2048];
    if (len >= sizeof tmp)
        return;
    if (has_other) {
        size_t k = 0;
        for (size_t i = 0; i < len; i++) {
            if (is_word_colon_star((unsigned char)t[i]))
                tmp[k++] = t[i];
        }
        emit3(e, prefix, "", tmp, k);
    }
    if (has_upper) {
        for (size_t i = 0; i < len; i++)
            tmp[i] = is_upper((unsigned char)t[i]) ? (char)(t[i] - 'A' + 'a') : t[i];
        emit3(e, prefix, "", tmp, len);
        if (has_other) {
            size_t k = 0;
            for (size_t i = 0; i < len; i++) {
                if (is_word_colon_star((unsigned char)tmp[i]))
                    tmp[k++] = tmp[i];
            }
            emit3(e, prefix, "", tmp, k);
        }
    }
}

static void one_token(struct emit *e, const char *t, size_t len, const char *prefix,
    enum bayes_region region)
{
    while (len > 0 && is_trim((unsigned char)t[0])) {
        t++;
        len--;
    }
    while (len > 0 && is_trim((unsigned char)t[len - 1]))
        len--;
    if (len < 3 || is_stop_word(t, len))
        return;
    bool body_like = region == BAYES_REGION_BODY || region == BAYES_REGION_URI;
    if (body_like) {
        if (has_mail_at(t, len)) {
            emit_mail_address(e, t, len);
        } else if (has_domain_dot(t, len)) {
            emit3(e, "", "UD:", t, len);
            emit_domain_tails(e, "UD:", t, len);
        }
    }
    char skipped[64];
    if (len > BAYES_MAX_TOKEN_LENGTH && memchr(t, '*', len) == NULL) {
        if (has_two_cont(t, len) && emit_utf8_chars(e, prefix, t, len))
            return;
        if (region != BAYES_REGION_URI) {
            size_t keep = skip_prefix_len(t, len);
            if (keep > 0) {
                memcpy(skipped, "sk:", 3);
                memcpy(skipped + 3, t, keep);
                t = skipped;
                len = keep + 3;
            }
        }
    }
    if (body_like)
        emit_decomposed(e, prefix, t, len);
    emit3(e, prefix, "", t, len);
}

void bayes_tokenize_line(const char *line, size_t len, const char *prefix,
    enum bayes_region region, bayes_token_fn add, void *arg)
{
    struct emit *e = xmalloc(sizeof *e);
    e->add = add;
    e->arg = arg;
    char *s = xmalloc(len + 1);
    memcpy(s, line, len);
    s[len] = '\0';
    keep_alphabet((unsigned char *)s, len);
    size_t n = len;
    char *t = split_runs(s, &n, '.', 3);
    if (t != NULL) {
        free(s);
        s = t;
    }
    t = split_runs(s, &n, '-', 2);
    if (t != NULL) {
        free(s);
        s = t;
    }
    if (region == BAYES_REGION_BODY || region == BAYES_REGION_URI) {
        t = lower_title_words(s, &n);
        if (t != NULL) {
            free(s);
            s = t;
        }
    }
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && s[i] != ' ')
            i++;
        if (i > start)
            one_token(e, s + start, i - start, prefix, region);
    }
    free(s);
    free(e);
}
