/* eval_hashbl.c - SpamAssassin's HashBL plugin, natively, through our resolver, for the eval
 * Debian's stock rules call: check_hashbl_bodyre(list, options, regex[, subtest]) looks up
 * what the regex's first group finds in the body text (lower case unless "case"; digits only
 * with "num"; at most max=N (10) values; hashed by sha1 (the default), md5 or sha256, or sent
 * as is with "raw") under the list ("zone" or "zone/TXT"), and hits when an answer matches
 * the subtest (127/8 without one). hashbl_ignore values are not asked. The values are taken
 * in body order where "shuffle" has SpamAssassin pick at random. The plugin's other evals
 * (check_hashbl_emails, _uris, _attachments, _tag) are not used by the stock rules and are
 * not provided. Unknown answers (no resolver, a failure) hit nothing. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval_dnsbl.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "util.h"

#define NAME_LEN 600

enum hash_kind { HASH_SHA1, HASH_MD5, HASH_SHA256, HASH_RAW };

struct hashbl_state {
    char zone[256];
    int type;
    enum hash_kind hash;
    bool keep_case, digits_only;
    size_t max;
    pcre2_code *re;
    pcre2_code *subtest;       /* NULL: ^127\. */
    char **ignore;             /* hashbl_ignore, lower case */
    size_t ignore_count;
};

static void free_state(void *p)
{
    struct hashbl_state *st = p;
    if (st == NULL)
        return;
    pcre2_code_free(st->re);
    pcre2_code_free(st->subtest);
    for (size_t i = 0; i < st->ignore_count; i++)
        free(st->ignore[i]);
    free(st->ignore);
    free(st);
}

static pcre2_code *compile(const char *re)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
        PCRE2_DOTALL | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
    if (code != NULL)
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return code;
}

static void parse_options(struct hashbl_state *st, const char *opts)
{
    st->hash = HASH_SHA1;
    st->max = 10;
    char *copy = xstrdup(opts);
    str_lower(copy);
    char *save = NULL;
    for (char *o = strtok_r(copy, "/", &save); o; o = strtok_r(NULL, "/", &save)) {
        while (*o == ' ')
            o++;
        if (strcmp(o, "raw") == 0)
            st->hash = HASH_RAW;
        else if (strcmp(o, "md5") == 0)
            st->hash = HASH_MD5;
        else if (strcmp(o, "sha256") == 0)
            st->hash = HASH_SHA256;
        else if (strcmp(o, "case") == 0)
            st->keep_case = true;
        else if (strcmp(o, "num") == 0)
            st->digits_only = true;
        else if (strncmp(o, "max=", 4) == 0 && atoi(o + 4) > 0)
            st->max = (size_t)atoi(o + 4) > 100 ? 100 : (size_t)atoi(o + 4);
    }
    free(copy);
}

static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)r;
    if (argc < 3 || args[0][0] == '\0' || args[2][0] == '\0') {
        *why = "check_hashbl_bodyre needs a list, options and a regex";
        return false;
    }
    struct hashbl_state *st = xcalloc(1, sizeof *st);
    char list[256];
    strlcpy_mw(list, args[0], sizeof list);
    char *slash = strrchr(list, '/');
    st->type = 1;
    if (slash != NULL && (strcasecmp(slash + 1, "TXT") == 0 || strcasecmp(slash + 1, "A") == 0)) {
        st->type = strcasecmp(slash + 1, "TXT") == 0 ? 16 : 1;
        *slash = '\0';
    }
    dnsbl_zone(list, st->zone, sizeof st->zone);
    parse_options(st, args[1][0] != '\0' ? args[1] : "sha1/max=10/shuffle");
    st->re = compile(args[2]);
    st->subtest = argc >= 4 && args[3][0] != '\0' ? compile(args[3]) : NULL;
    if (st->re == NULL || (argc >= 4 && args[3][0] != '\0' && st->subtest == NULL)) {
        free_state(st);
        *why = "a regex PCRE2 cannot compile";
        return false;
    }
    const char *v;
    for (size_t i = 0; (v = ruleset_directive(rs, "hashbl_ignore", i)) != NULL; i++) {
        char *copy = xstrdup(v);
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            st->ignore = xrealloc(st->ignore, (st->ignore_count + 1) * sizeof *st->ignore);
            st->ignore[st->ignore_count] = xstrdup(w);
            str_lower(st->ignore[st->ignore_count++]);
        }
        free(copy);
    }
    *state = st;
    return true;
}

static bool ignored(const struct hashbl_state *st, const char *value)
{
    for (size_t i = 0; i < st->ignore_count; i++) {
        if (strcasecmp(st->ignore[i], value) == 0)
            return true;
    }
    return false;
}

static void base32(const unsigned char *in, size_t len, char *out, size_t size)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t o = 0;
    unsigned buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < len && o + 2 < size; i++) {
        buffer = (buffer << 8) | in[i];
        bits += 8;
        while (bits >= 5 && o + 1 < size) {
            out[o++] = alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0 && o + 1 < size)
        out[o++] = alphabet[(buffer << (5 - bits)) & 31];
    out[o] = '\0';
}

/* The label asked for a value: itself, or its hash. false when it is ignored or too long. */
static bool label_of(const struct hashbl_state *st, const char *value, char *out, size_t size)
{
    if (ignored(st, value))
        return false;
    if (st->hash == HASH_RAW) {
        if (strlen(value) >= size)
            return false;
        strlcpy_mw(out, value, size);
        return true;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const EVP_MD *type = st->hash == HASH_MD5 ? EVP_md5()
        : st->hash == HASH_SHA256 ? EVP_sha256() : EVP_sha1();
    if (EVP_Digest(value, strlen(value), md, &md_len, type, NULL) != 1)
        return false;
    if (st->hash == HASH_SHA256) {
        base32(md, md_len, out, size);
    } else {
        for (unsigned i = 0; i < md_len && 2 * i + 2 < size; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    return !ignored(st, out);
}

/* Calls fn with each name to look up, in body order; stops when fn says so. */
static bool for_each_name(struct eval_ctx *ctx, const struct hashbl_state *st,
    bool (*fn)(struct eval_ctx *ctx, const struct hashbl_state *st, const char *name))
{
    const struct message_view *view = ctx->msg->view;
    if (view == NULL || view->text == NULL)
        return false;
    size_t len = ctx->limits != NULL && ctx->limits->body_bytes < view->text_len
        ? (size_t)ctx->limits->body_bytes : view->text_len;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(st->re, NULL);
    char **seen = NULL;
    size_t seen_count = 0;
    bool done = false;
    PCRE2_SIZE offset = 0;
    while (!done && seen_count < st->max && offset <= len) {
        int rc = pcre2_match(st->re, (PCRE2_SPTR)view->text, len, offset, 0, md,
            ctx->matcher->mctx);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        offset = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        if (rc < 2 || ov[2] == PCRE2_UNSET || ov[3] <= ov[2])
            continue;
        char *value = xstrndup(view->text + ov[2], ov[3] - ov[2]);
        if (!st->keep_case)
            str_lower(value);
        if (st->digits_only) {
            char *w = value;
            for (char *p = value; *p; p++) {
                if (*p >= '0' && *p <= '9')
                    *w++ = *p;
            }
            *w = '\0';
        }
        bool dup = value[0] == '\0';
        for (size_t i = 0; i < seen_count && !dup; i++)
            dup = strcmp(seen[i], value) == 0;
        if (dup) {
            free(value);
            continue;
        }
        seen = xrealloc(seen, (seen_count + 1) * sizeof *seen);
        seen[seen_count++] = value;
        char label[200], name[NAME_LEN];
        if (label_of(st, value, label, sizeof label)) {
            snprintf(name, sizeof name, "%s.%s", label, st->zone);
            done = fn(ctx, st, name);
        }
    }
    for (size_t i = 0; i < seen_count; i++)
        free(seen[i]);
    free(seen);
    pcre2_match_data_free(md);
    return done;
}

static bool ask_name(struct eval_ctx *ctx, const struct hashbl_state *st, const char *name)
{
    eval_dns_ask(ctx, name, st->type);
    return false;
}

static bool name_hits(struct eval_ctx *ctx, const struct hashbl_state *st, const char *name)
{
    const char *const *records;
    size_t count;
    if (eval_dns_answer(ctx, name, st->type, &records, &count) != RULES_DNS_ANSWER)
        return false;
    for (size_t i = 0; i < count; i++) {
        bool match = st->subtest != NULL
            ? regex_count(ctx->matcher, st->subtest, records[i], strlen(records[i]), 1) > 0
            : strncmp(records[i], "127.", 4) == 0;
        if (match)
            return true;
    }
    return false;
}

static void queries(struct eval_ctx *ctx, const struct eval_call *call)
{
    for_each_name(ctx, call->state, ask_name);
}

static unsigned run(struct eval_ctx *ctx, const struct eval_call *call)
{
    if (ctx->msg->dns == NULL)
        return 0;
    return for_each_name(ctx, call->state, name_hits);
}

static const struct eval_function functions[] = {
    { "check_hashbl_bodyre", prepare, free_state, run },
    { NULL, NULL, NULL, NULL },
};

static const struct eval_dns_function dns[] = {
    { "check_hashbl_bodyre", queries },
    { NULL, NULL },
};

static const char *const directives[] = { "hashbl_ignore", NULL };

const struct eval_plugin eval_plugin_hashbl = {
    .id = EVAL_HASHBL,
    .name = "Mail::SpamAssassin::Plugin::HashBL",
    .available = true,
    .functions = functions,
    .directives = directives,
    .dns = dns,
};
