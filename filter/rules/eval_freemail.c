/* eval_freemail.c - SpamAssassin's FreeMail plugin, natively: senders at free mail providers
 * (freemail_domains, with * and ? wildcards inside one label), freemail_welcomelist exceptions
 * (and the plugin's built-in ones: abuse@, postmaster@, bounce addresses ...), and its tests:
 * check_freemail_from, check_freemail_header (a header's addresses, optionally matching a
 * regex), check_freemail_body and check_freemail_replyto (From, Reply-To and the addresses in
 * the body are different free mail addresses), with FreeMail.pm's limits
 * (freemail_max_body_emails, freemail_max_body_freemails, freemail_skip_when_over_max,
 * freemail_skip_bulk_envfrom). The plugin is off when no freemail_domains are given.
 * Differs from SpamAssassin in one known way: an address's top-level domain is any run of 2 or
 * more letters (or an xn-- label), where SpamAssassin's list of valid TLDs is exact. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_get.h"
#include "eval_lists.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "util.h"

/* FreeMail.pm's email_regex; the whole match is the address. */
#define EMAIL_LOCAL "[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
#define EMAIL_RE "(?=.{0,64}\\@)(?<![a-z0-9!#$%&'*+/=?^_`{|}~-])" EMAIL_LOCAL \
    "\\@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\\.){1,4}(?:xn--[a-z0-9-]{1,59}|[a-z]{2,63})" \
    "(?![a-z0-9-])"

static const char *const email_welcome_re =
    "^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master"
    "|undisclosed.*|request-[a-f0-9]{16}|bounced?-"
    "|[a-f0-9]{8}(?:\\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})"
    "|.+=.+=.+)\\@";

static const char *const skip_envfrom_re =
    "(?:^(?:post|host|domain)master|^double-bounce|^(?:sentto|owner|return|(?:gr)?bounced?)-.+"
    "|-(?:request|bounces?|admin|owner)|\\b(?:do[._-t]?)?no[._-t]?repl(?:y|ies)|.+=.+)\\@";

/* Body text cleaned before addresses are collected: URLs with an @, and addresses followed by
 * ">" or by a word and a colon (quoted header lines). */
static const char *const url_with_at_re = "<?https?://\\S{0,255}(?:\\@|%40)\\S{0,255}";
static const char *const quoted_addr_re = "<?(?<!mailto:)" EMAIL_RE
    "(?:>|\\s{1,10}(?!(?:fa(?:x|csi)|tel|phone|e?-?mail))[a-z]{2,11}:)";

struct freemail_conf {
    char **domains;            /* exact, lower case, sorted by strcmp */
    size_t domain_count;
    char **wild;               /* with * or ?, lower case */
    size_t wild_count;
    char **welcome;            /* freemail_welcomelist: addresses or domains */
    size_t welcome_count;
    struct addr_patterns import[2];    /* welcomelist_auth, def_welcomelist_auth if imported */
    double max_body_emails, max_body_freemails, skip_when_over_max, skip_bulk_envfrom;
    pcre2_code *email, *email_welcome, *skip_envfrom, *url_with_at, *quoted_addr;
};

struct freemail_state {
    struct freemail_conf conf;
    pcre2_code *re;            /* the rule's own regex, NULL when none */
    char *header;              /* check_freemail_header's */
    bool reply_only;           /* check_freemail_replyto('reply') */
};

static void free_words(char **w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i]);
    free(w);
}

static void free_state(void *p)
{
    struct freemail_state *st = p;
    if (st == NULL)
        return;
    struct freemail_conf *c = &st->conf;
    free_words(c->domains, c->domain_count);
    free_words(c->wild, c->wild_count);
    free_words(c->welcome, c->welcome_count);
    list_free(&c->import[0]);
    list_free(&c->import[1]);
    pcre2_code_free(c->email);
    pcre2_code_free(c->email_welcome);
    pcre2_code_free(c->skip_envfrom);
    pcre2_code_free(c->url_with_at);
    pcre2_code_free(c->quoted_addr);
    pcre2_code_free(st->re);
    free(st->header);
    free(st);
}

static pcre2_code *compile(const char *re, uint32_t options)
{
    return regex_compile_jit(re, options | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF);
}

static void push(char ***list, size_t *count, const char *word)
{
    *list = xrealloc(*list, (*count + 1) * sizeof **list);
    (*list)[(*count)++] = xstrdup(word);
    str_lower((*list)[*count - 1]);
}

/* The words of every value of a directive (or its alias). */
static void read_words(const struct ruleset *rs, const char *name, const char *alias,
    void (*take)(struct freemail_conf *c, const char *word), struct freemail_conf *c)
{
    for (size_t d = 0; d < rs->directive_count; d++) {
        const struct plugin_directive *pd = &rs->directives[d];
        if (strcmp(pd->name, name) != 0 && (alias == NULL || strcmp(pd->name, alias) != 0))
            continue;
        char *copy = xstrdup(pd->value);
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save))
            take(c, w);
        free(copy);
    }
}

static void take_domain(struct freemail_conf *c, const char *w)
{
    if (strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.*?-")
            != strlen(w))
        return;                        /* FreeMail.pm warns and skips it */
    if (strpbrk(w, "*?") != NULL)
        push(&c->wild, &c->wild_count, w);
    else
        push(&c->domains, &c->domain_count, w);
}

static void take_welcome(struct freemail_conf *c, const char *w)
{
    /* FreeMail.pm: a word character, '.' or '@', a word character */
    for (const char *p = w; p[0] != '\0' && p[1] != '\0' && p[2] != '\0'; p++) {
        bool word0 = isalnum((unsigned char)p[0]) || p[0] == '_';
        bool word2 = isalnum((unsigned char)p[2]) || p[2] == '_';
        if (word0 && (p[1] == '.' || p[1] == '@') && word2) {
            push(&c->welcome, &c->welcome_count, w);
            return;
        }
    }
}

static double setting(const struct ruleset *rs, const char *name, const char *alias,
    double fallback)
{
    double value = fallback, v;
    const char *s;
    for (size_t i = 0; (s = ruleset_directive(rs, name, i)) != NULL; i++) {
        if (eval_arg_number(s, &v))
            value = v;
    }
    for (size_t i = 0; alias != NULL && (s = ruleset_directive(rs, alias, i)) != NULL; i++) {
        if (eval_arg_number(s, &v))
            value = v;
    }
    return value;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void build_conf(const struct ruleset *rs, struct freemail_conf *c)
{
    read_words(rs, "freemail_domains", NULL, take_domain, c);
    if (c->domain_count > 1)   /* sorted, for bsearch: the stock list has hundreds */
        qsort(c->domains, c->domain_count, sizeof *c->domains, by_name);
    read_words(rs, "freemail_welcomelist", "freemail_whitelist", take_welcome, c);
    if (setting(rs, "freemail_import_welcomelist_auth", "freemail_import_whitelist_auth", 0))
        list_build(rs, "welcomelist_auth", &c->import[0]);
    if (setting(rs, "freemail_import_def_welcomelist_auth", "freemail_import_def_whitelist_auth",
            0))
        list_build(rs, "def_welcomelist_auth", &c->import[1]);
    c->max_body_emails = setting(rs, "freemail_max_body_emails", NULL, 5);
    c->max_body_freemails = setting(rs, "freemail_max_body_freemails", NULL, 3);
    c->skip_when_over_max = setting(rs, "freemail_skip_when_over_max", NULL, 1);
    c->skip_bulk_envfrom = setting(rs, "freemail_skip_bulk_envfrom", NULL, 1);
    c->email = compile(EMAIL_RE, PCRE2_CASELESS);
    c->email_welcome = compile(email_welcome_re, PCRE2_CASELESS);
    c->skip_envfrom = compile(skip_envfrom_re, PCRE2_CASELESS);
    c->url_with_at = compile(url_with_at_re, PCRE2_CASELESS);
    c->quoted_addr = compile(quoted_addr_re, PCRE2_CASELESS);
}

static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    const char *fn = r->eval->name;
    const char *regex = NULL;
    struct freemail_state *st = xcalloc(1, sizeof *st);
    if (strcmp(fn, "check_freemail_header") == 0) {
        if (argc < 1 || args[0][0] == '\0') {
            free(st);
            *why = "check_freemail_header needs a header name";
            return false;
        }
        st->header = xstrdup(args[0]);
        regex = argc >= 2 ? args[1] : NULL;
    } else if (strcmp(fn, "check_freemail_replyto") == 0) {
        if (argc >= 1 && strcmp(args[0], "reply") != 0 && strcmp(args[0], "replyto") != 0) {
            free(st);
            *why = "check_freemail_replyto takes 'replyto' or 'reply'";
            return false;
        }
        st->reply_only = argc >= 1 && strcmp(args[0], "reply") == 0;
    } else {
        regex = argc >= 1 ? args[0] : NULL;
    }
    if (regex != NULL && (st->re = compile(regex, 0)) == NULL) {
        free(st->header);
        free(st);
        *why = "the regex PCRE2 cannot compile";
        return false;
    }
    build_conf(rs, &st->conf);
    if (st->conf.email == NULL || st->conf.email_welcome == NULL || st->conf.skip_envfrom == NULL
            || st->conf.url_with_at == NULL || st->conf.quoted_addr == NULL) {
        free_state(st);
        *why = "FreeMail's own regexes did not compile";
        return false;
    }
    *state = st;
    return true;
}

static bool re_matches(struct eval_ctx *ctx, const pcre2_code *re, const char *s)
{
    return regex_count(ctx->matcher, re, s, strlen(s), 1) > 0;
}

/* A free mail label pattern: * any run within one label, ? one character. */
static bool wild_domain_match(const char *p, const char *d)
{
    if (*p == '\0')
        return *d == '\0';
    if (*p == '*') {
        for (const char *s = d;; s++) {
            if (wild_domain_match(p + 1, s))
                return true;
            if (*s == '\0' || *s == '.')
                return false;
        }
    }
    if (*d == '\0' || (*p != '?' && *p != *d))
        return false;
    return wild_domain_match(p + 1, d + 1);
}

static bool is_freemail(struct eval_ctx *ctx, const struct freemail_conf *c, const char *email)
{
    if (email[0] == '\0')
        return false;
    const char *at = strrchr(email, '@');
    const char *domain = at != NULL ? at + 1 : email;
    for (size_t i = 0; i < c->welcome_count; i++) {
        if (strcmp(c->welcome[i], email) == 0 || strcmp(c->welcome[i], domain) == 0)
            return false;
    }
    if (re_matches(ctx, c->email_welcome, email))
        return false;
    for (size_t k = 0; k < 2; k++) {
        if (list_match(&c->import[k], email) != NULL)
            return false;
    }
    if (c->domain_count > 0
        && bsearch(&domain, c->domains, c->domain_count, sizeof *c->domains, by_name) != NULL)
        return true;
    for (size_t i = 0; at != NULL && i < c->wild_count; i++) {
        if (wild_domain_match(c->wild[i], domain))
            return true;
    }
    return false;
}

static bool available(const struct freemail_conf *c)
{
    return c->domain_count + c->wild_count > 0;
}

/* ---- the body's free mail addresses, once per message ---- */

struct body_freemails {
    bool parsed;
    bool skip;                 /* over the limits: the body tests do not hit */
    struct addr_list emails;
};

static void *make_body(struct eval_ctx *ctx)
{
    (void)ctx;
    return xcalloc(1, sizeof(struct body_freemails));
}

static void release_body(void *p)
{
    struct body_freemails *b = p;
    addr_list_free(&b->emails);
    free(b);
}

/* Replaces every match of re in text (in place) by one space. */
static void blank_matches(struct eval_ctx *ctx, const pcre2_code *re, struct textbuf *text)
{
    struct textbuf out;
    textbuf_init(&out);
    PCRE2_SIZE offset = 0, len = text->len;
    pcre2_match_data *md = ctx->matcher->md;
    while (offset <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)text->data, len, offset, 0, md, ctx->matcher->mctx);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        textbuf_append(&out, text->data + offset, ov[0] - offset);
        textbuf_puts(&out, " ");
        offset = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        if (ov[1] == ov[0] && ov[0] < len)
            textbuf_append(&out, text->data + ov[0], 1);
    }
    if (offset < len)
        textbuf_append(&out, text->data + offset, len - offset);
    textbuf_free(text);
    *text = out;
}

static void collect_body(struct eval_ctx *ctx, const struct freemail_conf *c,
    struct addr_list *out)
{
    const struct message_view *view = ctx->msg->view;
    if (view == NULL)
        return;
    /* mailto: links of HTML anchors first */
    for (size_t i = 0; i < view->uri_count && out->count < 20; i++) {
        const struct message_uri *u = &view->uris[i];
        if (u->url == NULL || u->link_text == NULL || strncasecmp(u->url, "mailto:", 7) != 0)
            continue;
        const char *rest = u->url + 7;
        pcre2_match_data *md = ctx->matcher->md;
        if (pcre2_match(c->email, (PCRE2_SPTR)rest, strlen(rest), 0, PCRE2_ANCHORED, md,
                ctx->matcher->mctx) >= 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            char *email = xstrndup(rest + ov[0], ov[1] - ov[0]);
            addr_list_add(out, email);
            free(email);
        }
    }
    if (view->text == NULL)
        return;
    size_t cap = ctx->limits != NULL && ctx->limits->body_bytes < view->text_len
        ? (size_t)ctx->limits->body_bytes : view->text_len;
    struct textbuf text;
    textbuf_init(&text);
    textbuf_append(&text, view->text, cap);
    blank_matches(ctx, c->url_with_at, &text);
    blank_matches(ctx, c->quoted_addr, &text);
    PCRE2_SIZE offset = 0;
    pcre2_match_data *md = ctx->matcher->md;
    while (out->count < 40 && offset < text.len) {
        int rc = pcre2_match(c->email, (PCRE2_SPTR)text.data, text.len, offset, 0, md,
            ctx->matcher->mctx);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        char *email = xstrndup(text.data + ov[0], ov[1] - ov[0]);
        addr_list_add(out, email);
        free(email);
        offset = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
    textbuf_free(&text);
}

/* FreeMail.pm's _parse_body: false when the body is over the limits (then skipped). */
static bool body_freemails(struct eval_ctx *ctx, const struct freemail_conf *c,
    const struct addr_list **emails)
{
    struct body_freemails *b = eval_plugin_data(ctx, EVAL_FREEMAIL, make_body, release_body);
    if (!b->parsed) {
        b->parsed = true;
        struct addr_list all = { 0 };
        collect_body(ctx, c, &all);
        double count_all = 0, count_fm = 0;
        for (size_t i = 0; i < all.count && !b->skip; i++) {
            if (++count_all == c->max_body_emails && c->skip_when_over_max) {
                b->skip = true;
                break;
            }
            if (!is_freemail(ctx, c, all.addr[i]))
                continue;
            if (++count_fm == c->max_body_freemails && c->skip_when_over_max) {
                b->skip = true;
                break;
            }
            addr_list_add(&b->emails, all.addr[i]);
        }
        addr_list_free(&all);
    }
    *emails = &b->emails;
    return !b->skip;
}

/* ---- the tests ---- */

static unsigned any_freemail(struct eval_ctx *ctx, const struct freemail_state *st,
    const struct addr_list *addrs)
{
    for (size_t i = 0; i < addrs->count; i++) {
        if (!is_freemail(ctx, &st->conf, addrs->addr[i]))
            continue;
        if (st->re == NULL || re_matches(ctx, st->re, addrs->addr[i]))
            return 1;
    }
    return 0;
}

static unsigned run_from(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct freemail_state *st = call->state;
    if (!available(&st->conf))
        return 0;
    struct addr_list from = { 0 };
    eval_from_addrs(ctx, &from);
    unsigned hit = any_freemail(ctx, st, &from);
    addr_list_free(&from);
    return hit;
}

static unsigned run_header(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct freemail_state *st = call->state;
    if (!available(&st->conf))
        return 0;
    struct addr_list addrs = { 0 };
    eval_header_addrs(ctx, st->header, &addrs);
    unsigned hit = any_freemail(ctx, st, &addrs);
    addr_list_free(&addrs);
    return hit;
}

static unsigned run_body(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct freemail_state *st = call->state;
    const struct addr_list *emails;
    if (!available(&st->conf) || !body_freemails(ctx, &st->conf, &emails))
        return 0;
    if (st->re == NULL)
        return emails->count > 0;
    for (size_t i = 0; i < emails->count; i++) {
        if (re_matches(ctx, st->re, emails->addr[i]))
            return 1;
    }
    return 0;
}

static bool listed_in(const struct addr_list *list, const char *addr)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->addr[i], addr) == 0)
            return true;
    }
    return false;
}

static bool any_is_freemail(struct eval_ctx *ctx, const struct freemail_conf *c,
    const struct addr_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        if (is_freemail(ctx, c, list->addr[i]))
            return true;
    }
    return false;
}

static unsigned replyto_answer(struct eval_ctx *ctx, const struct freemail_state *st,
    const struct addr_list *from, const struct addr_list *reply)
{
    const struct freemail_conf *c = &st->conf;
    const char *envfrom = eval_envelope_from(ctx);
    if (c->skip_bulk_envfrom && envfrom[0] != '\0' && re_matches(ctx, c->skip_envfrom, envfrom))
        return 0;
    bool from_fm = any_is_freemail(ctx, c, from);
    bool reply_fm = any_is_freemail(ctx, c, reply);
    bool from_not_in_reply = true;
    for (size_t i = 0; i < from->count; i++) {
        if (listed_in(reply, from->addr[i]))
            from_not_in_reply = false;
    }
    if (from_fm && reply_fm && from_not_in_reply)
        return 1;
    if (!st->reply_only && !reply_fm)
        return 0;
    if (st->reply_only && ((reply->count > 0 && !reply_fm) || (reply->count == 0 && !from_fm)))
        return 0;
    const struct addr_list *body;
    if (!body_freemails(ctx, c, &body) || body->count == 0)
        return 0;
    const struct addr_list *compare = !st->reply_only || reply_fm ? reply : from;
    for (size_t b = 0; b < body->count; b++) {
        for (size_t k = 0; k < compare->count; k++) {
            if (strcmp(body->addr[b], compare->addr[k]) != 0)
                return 1;
        }
    }
    return 0;
}

static unsigned run_replyto(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct freemail_state *st = call->state;
    if (!available(&st->conf))
        return 0;
    struct addr_list from = { 0 }, reply = { 0 };
    eval_header_addrs(ctx, "From", &from);
    eval_header_addrs(ctx, "Reply-To", &reply);
    unsigned hit = replyto_answer(ctx, st, &from, &reply);
    addr_list_free(&from);
    addr_list_free(&reply);
    return hit;
}

static const struct eval_function functions[] = {
    { "check_freemail_from", prepare, free_state, run_from },
    { "check_freemail_header", prepare, free_state, run_header },
    { "check_freemail_body", prepare, free_state, run_body },
    { "check_freemail_replyto", prepare, free_state, run_replyto },
    { NULL, NULL, NULL, NULL },
};

static const char *const directives[] = {
    "freemail_domains", "freemail_welcomelist", "freemail_whitelist",
    "freemail_max_body_emails", "freemail_max_body_freemails", "freemail_skip_when_over_max",
    "freemail_skip_bulk_envfrom", "freemail_add_describe_email",
    "freemail_import_welcomelist_auth", "freemail_import_whitelist_auth",
    "freemail_import_def_welcomelist_auth", "freemail_import_def_whitelist_auth",
    NULL,
};

const struct eval_plugin eval_plugin_freemail = {
    .id = EVAL_FREEMAIL,
    .name = "Mail::SpamAssassin::Plugin::FreeMail",
    .available = true,
    .functions = functions,
    .directives = directives,
};
