/* eval_dnsbl.c - the answer tests the DNS list plugins share; see eval_dnsbl.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_dnsbl.h"
#include "util.h"

#define TYPE_A 1

static bool all_digits(const char *s)
{
    return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

static bool dotted_quad(const char *s, uint32_t *value)
{
    unsigned a, b, c, d;
    char tail;
    if (sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255
            || c > 255 || d > 255 || !isdigit((unsigned char)s[strlen(s) - 1]))
        return false;
    *value = (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
    return true;
}

bool dnsbl_subtest_parse(const char *text, struct dnsbl_subtest *out)
{
    *out = (struct dnsbl_subtest){ .kind = SUBTEST_ANY };
    if (text == NULL)
        return true;
    uint32_t v;
    if (all_digits(text)) {
        out->kind = SUBTEST_MASK;
        out->mask = (uint32_t)strtoul(text, NULL, 10);
        return true;
    }
    if (dotted_quad(text, &v)) {
        out->kind = SUBTEST_EXACT;
        out->exact = xstrdup(text);
        return true;
    }
    /* a regex as SpamAssassin's compile_regexp takes it: bare, or delimited /re/flags */
    const char *re = text;
    char *bare = NULL;
    uint32_t options = 0;
    size_t n = strlen(text);
    if (n >= 2 && text[0] == '/') {
        const char *end = strrchr(text, '/');
        if (end != NULL && end > text) {
            for (const char *f = end + 1; *f; f++)
                options |= *f == 'i' ? PCRE2_CASELESS : 0;
            bare = xstrndup(text + 1, (size_t)(end - text - 1));
            re = bare;
        }
    }
    int err;
    PCRE2_SIZE off;
    out->regex = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, options, &err, &off, NULL);
    free(bare);
    if (out->regex == NULL)
        return false;
    pcre2_jit_compile(out->regex, PCRE2_JIT_COMPLETE);
    out->kind = SUBTEST_REGEX;
    return true;
}

void dnsbl_subtest_free(struct dnsbl_subtest *st)
{
    pcre2_code_free(st->regex);
    free(st->exact);
    *st = (struct dnsbl_subtest){ 0 };
}

bool dnsbl_a_listed(const char *record)
{
    return strncmp(record, "127.", 4) == 0;
}

bool dnsbl_subtest_match(struct eval_ctx *ctx, const struct dnsbl_subtest *st,
    const char *record)
{
    uint32_t v;
    switch (st->kind) {
    case SUBTEST_ANY:
        return true;
    case SUBTEST_REGEX:
        return regex_count(ctx->matcher, st->regex, record, strlen(record), 1) > 0;
    case SUBTEST_MASK:
        return dnsbl_a_listed(record) && dotted_quad(record, &v) && (v & st->mask) != 0;
    case SUBTEST_EXACT:
        return strcmp(record, st->exact) == 0;
    }
    return false;
}

void dnsbl_zone(const char *zone, char *out, size_t size)
{
    strlcpy_mw(out, zone, size);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
}

bool dnsbl_answer_hits(struct eval_ctx *ctx, const char *name, int type,
    const struct dnsbl_subtest *st)
{
    const char *const *records;
    size_t count;
    if (eval_dns_answer(ctx, name, type, &records, &count) != RULES_DNS_ANSWER)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (type == TYPE_A && !dnsbl_a_listed(records[i]))
            continue;
        if (dnsbl_subtest_match(ctx, st, records[i]))
            return true;
    }
    return false;
}

bool rule_has_tflag(const struct ruleset *rs, const char *rule, const char *word)
{
    const char *last = NULL, *v;
    size_t n = strlen(rule);
    for (size_t cursor = 0; (v = ruleset_directive_next(rs, "tflags", &cursor)) != NULL;) {
        if (strncmp(v, rule, n) == 0 && (v[n] == ' ' || v[n] == '\t' || v[n] == '\0'))
            last = v + n;
    }
    if (last == NULL)
        return false;
    size_t w = strlen(word);
    for (const char *p = last; (p = strstr(p, word)) != NULL; p += w) {
        bool start = p == last || p[-1] == ' ' || p[-1] == '\t';
        bool end = p[w] == '\0' || p[w] == ' ' || p[w] == '\t';
        if (start && end)
            return true;
    }
    return false;
}
