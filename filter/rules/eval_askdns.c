/* eval_askdns.c - SpamAssassin's AskDNS plugin, natively, through our resolver: the rule type
 * `askdns NAME QUERY TYPE [SUBTEST]`, whose query may hold tags that become one query per
 * value (_SENDERDOMAIN_ the envelope sender's domain, _AUTHORDOMAIN_ each From domain,
 * _DKIMDOMAIN_ each domain of a valid DKIM signature (known from our verifier only),
 * _LASTEXTERNALHELO_ / _LASTEXTERNALIP_ / _LASTEXTERNALRDNS_ of the last external relay); a
 * query with a tag that has no value is not asked. Subtests as AskDNS.pm: /regex/, a quoted
 * string, [NOERROR,NXDOMAIN] (rcodes; ours knows those two), an address or number (mask
 * within 127/8), N-M or N/M ranges; none: any record of the type. Unknown answers (no
 * resolver, a failure) hit nothing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_dnsbl.h"
#include "eval_lists.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "rules_relays.h"
#include "util.h"

#define NAME_LEN 520
#define MAX_VALUES 8

enum askdns_test { TEST_ANY, TEST_REGEX, TEST_EXACT, TEST_NUMBERS, TEST_RCODES };

struct askdns_state {
    char *query;               /* with its tags */
    int type;                  /* 1 A, 16 TXT, 28 AAAA, 15 MX, 2 NS, 12 PTR */
    enum askdns_test test;
    pcre2_code *regex;
    char *text;                /* TEST_EXACT, or TEST_NUMBERS's "n1", "n1-n2", "n1/n2" */
    bool rcode_noerror, rcode_nxdomain;
};

static void free_state(void *p)
{
    struct askdns_state *st = p;
    if (st == NULL)
        return;
    free(st->query);
    pcre2_code_free(st->regex);
    free(st->text);
    free(st);
}

static int type_number(const char *t)
{
    static const struct { const char *name; int type; } types[] = {
        { "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "PTR", 12 }, { "MX", 15 }, { "TXT", 16 },
        { "AAAA", 28 }, { "SPF", 99 },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcasecmp(t, types[i].name) == 0)
            return types[i].type;
    }
    return -1;
}

static bool number_of(const char *s, size_t len, uint32_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    unsigned a, b, c, d;
    char tail;
    if (sscanf(buf, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 && b < 256
            && c < 256 && d < 256) {
        *out = a << 24 | b << 16 | c << 8 | d;
        return true;
    }
    char *end;
    unsigned long v = strtoul(buf, &end, strncmp(buf, "0x", 2) == 0 ? 16 : 10);
    if (*end != '\0' || v > 0xffffffffUL)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_subtest(struct askdns_state *st, const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return true;
    if (n >= 2 && s[0] == '/' && strrchr(s + 1, '/') != NULL) {
        const char *end = strrchr(s + 1, '/');
        uint32_t options = 0;
        for (const char *f = end + 1; *f; f++)
            options |= *f == 'i' ? PCRE2_CASELESS : 0;
        char *re = xstrndup(s + 1, (size_t)(end - s - 1));
        int err;
        PCRE2_SIZE off;
        st->regex = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, options, &err, &off,
            NULL);
        free(re);
        st->test = TEST_REGEX;
        return st->regex != NULL;
    }
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        st->test = TEST_EXACT;
        st->text = xstrndup(s + 1, n - 2);
        return true;
    }
    if (s[0] == '[' && s[n - 1] == ']') {
        st->test = TEST_RCODES;
        st->rcode_noerror = strstr(s, "NOERROR") != NULL || strstr(s, "noerror") != NULL;
        st->rcode_nxdomain = strstr(s, "NXDOMAIN") != NULL || strstr(s, "nxdomain") != NULL;
        return true;
    }
    const char *delim = strpbrk(s, "/-");
    uint32_t n1, n2;
    if (!number_of(s, delim != NULL ? (size_t)(delim - s) : n, &n1))
        return false;
    if (delim != NULL && !number_of(delim + 1, strlen(delim + 1), &n2))
        return false;
    bool quad = strchr(s, '.') != NULL;
    st->test = TEST_NUMBERS;
    if (delim != NULL)
        st->text = xasprintf("%u%c%u", n1, *delim, n2);
    else
        st->text = quad ? xasprintf("%u-%u", n1, n1) : xasprintf("%u", n1);
    return true;
}

static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)rs;
    (void)r;
    char query[512], type[32];
    int consumed = 0;
    if (argc != 1 || sscanf(args[0], "%511s %31s %n", query, type, &consumed) < 2) {
        *why = "askdns needs a query and a type";
        return false;
    }
    struct askdns_state *st = xcalloc(1, sizeof *st);
    st->query = xstrdup(query);
    st->type = type_number(type);
    const char *subtest = args[0] + consumed;
    if (st->type < 0 || !parse_subtest(st, subtest)) {
        free_state(st);
        *why = "askdns: an unknown type or a subtest that does not parse";
        return false;
    }
    *state = st;
    return true;
}

/* The values of a tag on this message (lower case), at most max. */
static size_t tag_values(struct eval_ctx *ctx, const char *tag, char values[][256], size_t max)
{
    size_t n = 0;
    struct addr_list addrs = { 0 };
    if (strcmp(tag, "SENDERDOMAIN") == 0 || strcmp(tag, "AUTHORDOMAIN") == 0) {
        eval_header_addrs(ctx, tag[0] == 'S' ? "EnvelopeFrom" : "From", &addrs);
        for (size_t i = 0; i < addrs.count && n < max; i++) {
            const char *at = strrchr(addrs.addr[i], '@');
            if (at != NULL && strchr(at + 1, '.') != NULL)
                strlcpy_mw(values[n++], at + 1, 256);
            if (tag[0] == 'S')
                break;
        }
    } else if (strcmp(tag, "DKIMDOMAIN") == 0) {
        const struct rules_envelope *env = ctx->msg->envelope;
        for (size_t i = 0; env != NULL && env->dkim_verified && i < env->dkim_sig_count
                && n < max; i++) {
            if (env->dkim_sigs[i].pass && env->dkim_sigs[i].domain != NULL)
                strlcpy_mw(values[n++], env->dkim_sigs[i].domain, 256);
        }
    } else if (strncmp(tag, "LASTEXTERNAL", 12) == 0) {
        const struct rules_relays *relays = eval_relays(ctx);
        const struct rules_relay *last = NULL;
        for (size_t i = 0; i < relays->count && last == NULL; i++) {
            if (!relays->relay[i].internal)
                last = &relays->relay[i];
        }
        const char *v = last == NULL ? NULL
            : strcmp(tag + 12, "HELO") == 0 ? last->helo
            : strcmp(tag + 12, "IP") == 0 ? last->ip
            : strcmp(tag + 12, "RDNS") == 0 ? last->rdns : NULL;
        if (v != NULL && v[0] != '\0' && max > 0)
            strlcpy_mw(values[n++], v, 256);
    }
    addr_list_free(&addrs);
    for (size_t i = 0; i < n; i++)
        str_lower(values[i]);
    return n;
}

/* Expands the query's first tag (one query per value), recursively; calls fn on each name. */
static bool expand(struct eval_ctx *ctx, const char *query, int depth,
    bool (*fn)(struct eval_ctx *ctx, const struct askdns_state *st, const char *name),
    const struct askdns_state *st)
{
    const char *open = strchr(query, '_');
    while (open != NULL) {
        const char *close = strchr(open + 1, '_');
        if (close == NULL)
            break;
        size_t len = (size_t)(close - open - 1);
        bool is_tag = len > 0 && len < 64;
        for (const char *p = open + 1; p < close && is_tag; p++)
            is_tag = isupper((unsigned char)*p);
        if (!is_tag) {
            open = close;
            continue;
        }
        char tag[64], values[MAX_VALUES][256];
        memcpy(tag, open + 1, len);
        tag[len] = '\0';
        size_t n = depth < 4 ? tag_values(ctx, tag, values, MAX_VALUES) : 0;
        for (size_t i = 0; i < n; i++) {
            char *next = xasprintf("%.*s%s%s", (int)(open - query), query, values[i], close + 1);
            bool done = expand(ctx, next, depth + 1, fn, st);
            free(next);
            if (done)
                return true;
        }
        return false;                   /* a tag without a value: nothing asked */
    }
    char name[NAME_LEN];
    dnsbl_zone(query, name, sizeof name);
    return fn(ctx, st, name);
}

static bool ask_one(struct eval_ctx *ctx, const struct askdns_state *st, const char *name)
{
    eval_dns_ask(ctx, name, st->type);
    return false;
}

static bool record_matches(struct eval_ctx *ctx, const struct askdns_state *st,
    const char *record)
{
    switch (st->test) {
    case TEST_ANY:
        return true;
    case TEST_REGEX:
        return regex_count(ctx->matcher, st->regex, record, strlen(record), 1) > 0;
    case TEST_EXACT:
        return strcmp(record, st->text) == 0;
    case TEST_NUMBERS: {
        if (strcmp(record, st->text) == 0)
            return true;
        uint32_t v, n1, n2;
        if (st->type != 1 || !number_of(record, strlen(record), &v))
            return false;
        char *end;
        n1 = (uint32_t)strtoul(st->text, &end, 10);
        if (*end == '\0')
            return (v & n1) != 0 && (v & 0xff000000u) == 0x7f000000u;
        n2 = (uint32_t)strtoul(end + 1, NULL, 10);
        return *end == '-' ? v >= n1 && v <= n2 : (v & n2) == (n1 & n2);
    }
    case TEST_RCODES:
        return false;
    }
    return false;
}

static bool name_hits(struct eval_ctx *ctx, const struct askdns_state *st, const char *name)
{
    const char *const *records;
    size_t count;
    enum rules_dns_status s = eval_dns_answer(ctx, name, st->type, &records, &count);
    if (st->test == TEST_RCODES)
        return (s == RULES_DNS_ANSWER && st->rcode_noerror)
            || (s == RULES_DNS_NXDOMAIN && st->rcode_nxdomain);
    if (s != RULES_DNS_ANSWER)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (record_matches(ctx, st, records[i]))
            return true;
    }
    return false;
}

static void queries(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct askdns_state *st = call->state;
    expand(ctx, st->query, 0, ask_one, st);
}

static unsigned run(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct askdns_state *st = call->state;
    if (ctx->msg->dns == NULL)
        return 0;
    return expand(ctx, st->query, 0, name_hits, st);
}

static const struct eval_function functions[] = {
    { NULL, NULL, NULL, NULL },
};

static const struct eval_function rule_types[] = {
    { "askdns", prepare, free_state, run },
    { NULL, NULL, NULL, NULL },
};

static const struct eval_dns_function dns[] = {
    { "askdns", queries },
    { NULL, NULL },
};

const struct eval_plugin eval_plugin_askdns = {
    .id = EVAL_ASKDNS,
    .name = "Mail::SpamAssassin::Plugin::AskDNS",
    .available = true,
    .functions = functions,
    .rule_types = rule_types,
    .dns = dns,
};
