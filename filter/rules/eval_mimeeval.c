/* eval_mimeeval.c - SpamAssassin's MIMEEval plugin, natively, with its 4.0.1 semantics: what
 * its _check_attachments pass learns from every MIME part's headers and raw lines (base64 and
 * quoted-printable parts, attachments, base64 text, bad ISO charsets, far-away charsets, long
 * and dense quoted-printable, 8-bit bytes in us-ascii text, HTML unicode entities in 7/8bit
 * text, the text/HTML size ratio of multipart/alternative), the parser's flags, the share of
 * capitals in the body, non-text parts in multipart/alternative, the longest base64 line.
 * The parts are SpamAssassin's own view of the MIME tree (eval_mime.h). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval_get.h"
#include "eval_mime.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"

struct mime_stats {
    unsigned base64_count, qp_count, attachment, body_html_count, body_text_count;
    bool base64_encoded_text, bad_iso_charset, faraway_charset, qp_long_line;
    bool multipart_alternative;
    double multipart_ratio, qp_ratio, text_unicode_ratio;
    unsigned ascii_text_illegal;
    bool attachment_seen;      /* mime_attachment exists only once counted */
    char **charsets;           /* mime_html_charsets: every charset named */
    size_t charset_count;
    struct uppercase *uppercase;   /* check_for_uppercase's share, made on first use */
};

struct uppercase {
    double percent;
};

static const char *arg(const struct eval_call *call, size_t i)
{
    return i < call->argc ? call->args[i] : NULL;
}

/* The lower-case last value of a part's header, as get_header() then chomp and lc: "". */
static char *lc_header(const struct sa_mime_part *p, const char *name)
{
    const char *v = sa_mime_header(p, name, false);
    char *out = xstrdup(v != NULL ? v : "");
    str_lower(out);
    return out;
}

static bool contains_word_charset_ascii(const char *cs)
{
    static const char *const names[] = { "us-ascii", "ansi_x3.4-1968", "iso-ir-6",
        "ansi_x3.4-1986", "iso_646.irv:1991", "ascii", "iso646-us", "us", "ibm367", "cp367",
        "csascii" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strstr(cs, names[i]) != NULL)
            return true;
    }
    return false;
}

/* charset =~ /iso-\S+-\S+\b/i && charset !~ /iso-(?:8859-\d{1,2}|2022-(?:jp|kr))\b/ */
static bool bad_iso(struct eval_ctx *ctx, const char *cs)
{
    size_t len = strlen(cs);
    return eval_regex_search(ctx, "iso-\\S+-\\S+\\b", PCRE2_CASELESS, cs, len, NULL, 0)
        && !eval_regex_search(ctx, "iso-(?:8859-\\d{1,2}|2022-(?:jp|kr))\\b", 0, cs, len, NULL, 0);
}

/* MIMEEval's _check_mime_header. */
static void check_mime_header(struct eval_ctx *ctx, struct mime_stats *s, const char *ctype,
    const char *cte, const char *cd, const char *charset)
{
    if (strcmp(ctype, "text/html") == 0)
        s->body_html_count++;
    else if (strncasecmp(ctype, "text", 4) == 0)
        s->body_text_count++;
    if (strstr(cte, "base64") != NULL)
        s->base64_count++;
    else if (strstr(cte, "quoted-printable") != NULL)
        s->qp_count++;
    if (*cd != '\0' && strstr(cd, "attachment") != NULL) {
        s->attachment++;
        s->attachment_seen = true;
    }
    if (strncmp(ctype, "text", 4) == 0 && strstr(cte, "base64") != NULL
        && (*charset == '\0' || contains_word_charset_ascii(charset))
        && !(*cd != '\0' && (strncmp(cd, "attachment", 10) == 0 || strncmp(cd, "inline", 6) == 0)))
        s->base64_encoded_text = true;
    if (bad_iso(ctx, charset))
        s->bad_iso_charset = true;
    bool letter = false;
    for (const char *c = charset; *c != '\0'; c++)
        letter = letter || (isalpha((unsigned char)*c) && (unsigned char)*c < 0x80);
    if (letter) {
        s->charsets = xrealloc(s->charsets, (s->charset_count + 1) * sizeof *s->charsets);
        s->charsets[s->charset_count++] = xstrdup(charset);
        if (!s->faraway_charset && !eval_charset_ok_for_locales(ctx->rs, charset, strlen(charset)))
            s->faraway_charset = true;
    }
}

/* Quoted-printable escapes of printable characters =(?:09|3[0-9ABCEF]|[2456][0-9A-F]|7[0-9A-E]) */
static size_t qp_escapes(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i + 2 < len; i++) {
        if (s[i] != '=')
            continue;
        char a = s[i + 1], b = s[i + 2];
        bool hexb = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F');
        bool ok = (a == '0' && b == '9') || (a == '3' && hexb && b != 'D')
            || ((a == '2' || a == '4' || a == '5' || a == '6') && hexb)
            || (a == '7' && hexb && b != 'F');
        if (ok) {
            n++;
            i += 2;
        }
    }
    return n;
}

/* The length of a run of "=09"/"=20" at the end of the line (blanks after it allowed). */
static size_t qp_trailing(const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    size_t run = 0;
    while (len >= 3 && s[len - 3] == '=' && ((s[len - 2] == '0' && s[len - 1] == '9')
        || (s[len - 2] == '2' && s[len - 1] == '0'))) {
        run += 3;
        len -= 3;
    }
    return run;
}

/* s/&#x[0-9A-F]{4};//g: returns the count, *rest the length left */
static size_t unicode_entities(const char *s, size_t len, size_t *rest)
{
    size_t subs = 0;
    *rest = len;
    for (size_t i = 0; i + 8 <= len; i++) {
        if (s[i] != '&' || s[i + 1] != '#' || s[i + 2] != 'x' || s[i + 7] != ';')
            continue;
        bool hex = true;
        for (size_t k = 3; k < 7; k++)
            hex = hex && ((s[i + k] >= '0' && s[i + k] <= '9') || (s[i + k] >= 'A' && s[i + k] <= 'F'));
        if (hex) {
            subs++;
            *rest -= 8;
            i += 7;
        }
    }
    return subs;
}

static void *make_stats(struct eval_ctx *ctx)
{
    const struct sa_mime *mime = eval_mime(ctx);
    struct mime_stats *s = xcalloc(1, sizeof *s);
    s->multipart_ratio = 1.0;
    size_t qp_bytes = 0, qp_count = 0, normal_chars = 0, unicode_chars = 0;
    size_t leaves = 0;
    const char **part_type = xcalloc(mime->count + 1, sizeof *part_type);
    long *part_bytes = xcalloc(mime->count + 1, sizeof *part_bytes);   /* -1: undefined */
    char **types = xcalloc(mime->count + 1, sizeof *types);
    for (size_t i = 0; i < mime->count; i++) {
        const struct sa_mime_part *p = &mime->parts[i];
        char *ctype, *boundary, *charset, *name;
        bool missing;
        sa_parse_content_type(sa_mime_header(p, "Content-Type", false), &ctype, &boundary,
            &charset, &name, &missing);
        types[i] = ctype;
        if (strcmp(ctype, "multipart/alternative") == 0)
            s->multipart_alternative = true;
        char *cte = lc_header(p, "Content-Transfer-Encoding");
        char *cd = lc_header(p, "Content-Disposition");
        if (charset != NULL)
            str_lower(charset);
        const char *cs = charset != NULL ? charset : "";
        check_mime_header(ctx, s, ctype, cte, cd, cs);
        if (p->leaf) {
            size_t part = leaves++;
            part_type[part] = ctype;
            bool attachment = strstr(cd, "attachment") != NULL;
            part_bytes[part] = attachment ? -1 : 0;
            const char *raw = p->raw != NULL ? p->raw : "";
            size_t len = p->raw_len;
            bool qp = strcmp(cte, "quoted-printable") == 0;
            bool plain = strcmp(ctype, "text/plain") == 0;
            bool ascii = charset == NULL || strcmp(charset, "us-ascii") == 0;
            bool unencoded = *cte == '\0' || strcmp(cte, "7bit") == 0 || strcmp(cte, "8bit") == 0;
            for (size_t at = 0; at < len;) {
                const char *nl = memchr(raw + at, '\n', len - at);
                size_t llen = nl != NULL ? (size_t)(nl - raw - at) + 1 : len - at;
                const char *l = raw + at;
                at += llen;
                if (s->multipart_alternative && !attachment
                    && (plain || strcmp(ctype, "text/html") == 0))
                    part_bytes[part] += (long)llen;
                if (qp && !(llen >= 6 && memcmp(l, "SPAM: ", 6) == 0)) {
                    if (llen > 79)
                        s->qp_long_line = true;
                    qp_bytes += llen;
                    if (memchr(l, '=', llen) != NULL) {
                        size_t n = qp_escapes(l, llen);
                        if (n > 0)
                            qp_count = qp_count + n - qp_trailing(l, llen) / 3;
                    }
                }
                if (plain && ascii) {
                    for (size_t k = 0; k < llen; k++) {
                        unsigned char c = (unsigned char)l[k];
                        if (c == 0 || c == '\r' || c >= 0x80) {
                            s->ascii_text_illegal++;
                            break;
                        }
                    }
                }
                if (plain && unencoded) {
                    size_t rest;
                    unicode_chars += unicode_entities(l, llen, &rest);
                    normal_chars += rest;
                }
            }
        }
        free(cte);
        free(cd);
        free(boundary);
        free(charset);
        free(name);
    }
    if (qp_bytes > 0) {
        s->qp_ratio = (double)qp_count / (double)qp_bytes;
        s->qp_count = (unsigned)qp_count;
    }
    if (normal_chars > 0)
        s->text_unicode_ratio = (double)unicode_chars / (double)normal_chars;
    if (s->multipart_alternative) {
        long text = -1, html = -1;
        for (size_t i = leaves; i-- > 0;) {
            if (part_bytes[i] < 0)
                continue;
            if (html < 0 && strcmp(part_type[i], "text/html") == 0)
                html = part_bytes[i];
            else if (text < 0 && strcmp(part_type[i], "text/plain") == 0)
                text = part_bytes[i];
            if (html >= 0 && text >= 0)
                break;
        }
        if (text >= 0 && html > 0)
            s->multipart_ratio = (double)text / (double)html;
    }
    for (size_t i = 0; i < mime->count; i++)
        free(types[i]);
    free(types);
    free((void *)part_type);
    free(part_bytes);
    return s;
}

static void free_stats(void *data)
{
    struct mime_stats *s = data;
    eval_strings_free(s->charsets, s->charset_count);
    free(s->uppercase);
    free(s);
}

static const struct mime_stats *stats_of(struct eval_ctx *ctx)
{
    return eval_plugin_data(ctx, EVAL_MIMEEVAL, make_stats, free_stats);
}

/* check_for_mime(test): the named result of _check_attachments. */
static unsigned run_for_mime(struct eval_ctx *ctx, const struct eval_call *call)
{
    const char *test = arg(call, 0);
    if (test == NULL)
        return 0;
    const struct mime_stats *s = stats_of(ctx);
    if (strcmp(test, "mime_base64_count") == 0)
        return s->base64_count > 0;
    if (strcmp(test, "mime_qp_count") == 0)
        return s->qp_count > 0;
    if (strcmp(test, "mime_base64_encoded_text") == 0)
        return s->base64_encoded_text;
    if (strcmp(test, "mime_qp_long_line") == 0)
        return s->qp_long_line;
    if (strcmp(test, "mime_faraway_charset") == 0)
        return s->faraway_charset;
    if (strcmp(test, "mime_bad_iso_charset") == 0)
        return s->bad_iso_charset;
    if (strcmp(test, "mime_attachment") == 0)
        return s->attachment_seen && s->attachment > 0;
    if (strcmp(test, "mime_body_html_count") == 0)
        return s->body_html_count > 0;
    if (strcmp(test, "mime_body_text_count") == 0)
        return s->body_text_count > 0;
    if (strcmp(test, "mime_multipart_alternative") == 0)
        return s->multipart_alternative;
    if (strcmp(test, "mime_ascii_text_illegal") == 0)
        return s->ascii_text_illegal > 0;
    if (strcmp(test, "mime_missing_boundary") == 0)
        return eval_mime(ctx)->missing_boundary;
    /* anything else (mimepart_limit_exceeded included) is not a result of the pass: as in
     * MIMEEval.pm, `exists $pms->{$test}` is false and the answer 0 */
    return 0;
}

static bool top_type_is_html(struct eval_ctx *ctx)
{
    size_t len;
    const char *ct = eval_get(ctx, "Content-Type", HPART_VALUE, &len, NULL);
    return strncasecmp(ct, "text/html", 9) == 0;
}

static unsigned run_for_mime_html(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return top_type_is_html(ctx) || stats_of(ctx)->body_html_count > 0;
}

static unsigned run_for_mime_html_only(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    if (top_type_is_html(ctx))
        return 1;
    const struct mime_stats *s = stats_of(ctx);
    return s->body_html_count > 0 && s->body_text_count == 0;
}

static unsigned run_mime_multipart_ratio(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min, max;
    if (!eval_arg_number(arg(call, 0), &min) || !eval_arg_number(arg(call, 1), &max))
        return 0;
    double r = stats_of(ctx)->multipart_ratio;
    return r >= min && r < max;
}

static unsigned run_msg_parse_flags(struct eval_ctx *ctx, const struct eval_call *call)
{
    const char *flag = arg(call, 0);
    if (flag == NULL)
        return 0;
    const struct sa_mime *m = eval_mime(ctx);
    if (strcmp(flag, "missing_head_body_separator") == 0)
        return m->missing_head_body_separator;
    if (strcmp(flag, "missing_mime_head_body_separator") == 0)
        return m->missing_mime_head_body_separator;
    if (strcmp(flag, "missing_mime_headers") == 0)
        return m->missing_mime_headers;
    if (strcmp(flag, "mime_epilogue_exists") == 0)
        return m->mime_epilogue_exists;
    if (strcmp(flag, "mimepart_limit_exceeded") == 0)
        return m->mimepart_limit_exceeded;
    if (strcmp(flag, "truncated_header") == 0)
        return m->truncated_header;
    return 0;
}

static unsigned run_ascii_text_illegal(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return stats_of(ctx)->ascii_text_illegal > 0;
}

/* check_abundant_unicode_ratio(ratio): ratio written /^\d{0,3}\.\d{1,3}$/ */
static unsigned run_abundant_unicode_ratio(struct eval_ctx *ctx, const struct eval_call *call)
{
    const char *r = arg(call, 0);
    double ratio;
    if (r == NULL || !eval_regex_search(ctx, "^\\d{0,3}\\.\\d{1,3}$", 0, r, strlen(r), NULL, 0)
        || !eval_arg_number(r, &ratio))
        return 0;
    return stats_of(ctx)->text_unicode_ratio >= ratio;
}

static unsigned run_qp_ratio(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min;
    if (!eval_arg_number(arg(call, 0), &min))
        return 0;
    return stats_of(ctx)->qp_ratio >= min;
}

/* Content-Type's charset (get_charset_from_ct_line); NULL when none. */
static char *charset_of_ct(const char *ct)
{
    const char *p = strcasestr(ct, "charset=");
    if (p == NULL)
        return NULL;
    p += 8;
    if (*p == '"' || *p == '\'') {
        char q = *p++;
        const char *end = strchr(p, q);
        if (end != NULL && end > p)
            return xstrndup(p, (size_t)(end - p));
        return NULL;
    }
    size_t n = strcspn(p, " \t\r\n");
    return n > 0 ? xstrndup(p, n) : NULL;
}

/* check_for_faraway_charset: a top charset ok_locales does not accept, and a body mostly of
 * 8-bit bytes. */
static unsigned run_faraway_charset(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const char *locales = ruleset_ok_locales(ctx->rs);
    if (locales == NULL || strstr(locales, "all") != NULL)
        return 0;
    bool present;
    size_t len;
    const char *ct = eval_get(ctx, "Content-Type", HPART_VALUE, &len, &present);
    char *cs = present ? charset_of_ct(ct) : NULL;
    bool hit = false;
    if (cs != NULL && !eval_charset_ok_for_locales(ctx->rs, cs, strlen(cs))
        && ctx->msg->view != NULL) {
        size_t high = 0, n = ctx->msg->view->text_len;
        for (size_t i = 0; i < n; i++)
            high += (unsigned char)ctx->msg->view->text[i] >= 0x80;
        hit = n - high <= high && high > 3;
    }
    free(cs);
    return hit;
}

/* CHARSETS_LIKELY_TO_FP_AS_CAPS, anchored at both ends */
static bool likely_caps_charset(struct eval_ctx *ctx, const char *cs)
{
    return eval_regex_search(ctx, "^[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251"
        "|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*$", PCRE2_CASELESS, cs, strlen(cs), NULL, 0);
}

/* /\S\s+\S/ */
static bool has_inner_space(const char *l, size_t len)
{
    bool seen_text = false;
    for (size_t i = 0; i < len; i++) {
        bool space = isspace((unsigned char)l[i]);
        if (!space && seen_text && i > 0 && isspace((unsigned char)l[i - 1]))
            return true;
        seen_text = seen_text || !space;
    }
    return false;
}

static bool base64_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=';
}

/* /^(?:[A-Za-z0-9+\/=]{60,76} ){2}/ */
static bool base64_like(const char *l, size_t len)
{
    size_t i = 0;
    for (int word = 0; word < 2; word++) {
        size_t start = i;
        while (i < len && base64_char(l[i]) && (unsigned char)l[i] < 0x80)
            i++;
        size_t n = i - start;
        if (n < 60 || n > 76 || i >= len || l[i] != ' ')
            return false;
        i++;
    }
    return true;
}

static struct uppercase *make_uppercase(struct eval_ctx *ctx)
{
    struct uppercase *u = xcalloc(1, sizeof *u);
    /* body_charset_is_likely_to_fp */
    bool present;
    size_t len;
    const char *ct = eval_get(ctx, "Content-Type", HPART_VALUE, &len, &present);
    char *cs = present ? charset_of_ct(ct) : NULL;
    bool fp = cs != NULL && likely_caps_charset(ctx, cs);
    free(cs);
    const struct mime_stats *s = stats_of(ctx);
    for (size_t i = 0; i < s->charset_count && !fp; i++)
        fp = likely_caps_charset(ctx, s->charsets[i]);
    const struct message_view *view = ctx->msg->view;
    if (fp || view == NULL || view->text == NULL)
        return u;
    size_t total = 0, lower = 0, upper = 0;
    const char *text = view->text;
    size_t n = view->text_len;
    for (size_t at = 0; at < n;) {
        const char *nl = memchr(text + at, '\n', n - at);
        size_t llen = nl != NULL ? (size_t)(nl - text - at) : n - at;
        const char *l = text + at;
        at += llen + (nl != NULL);
        if (!has_inner_space(l, llen) || base64_like(l, llen))
            continue;
        /* s/\x1b\$B.*\x1b\(B//gs: ISO-2022-JP runs out (from the first start to the last end) */
        size_t cut_from = llen, cut_to = llen;
        const char *jis = memmem(l, llen, "\x1b$B", 3);
        if (jis != NULL) {
            for (size_t k = llen; k >= 3 && k - 3 >= (size_t)(jis - l) + 3; k--) {
                if (memcmp(l + k - 3, "\x1b(B", 3) == 0) {
                    cut_from = (size_t)(jis - l);
                    cut_to = k;
                    break;
                }
            }
        }
        for (size_t k = 0; k < llen; k++) {
            if (k >= cut_from && k < cut_to)
                continue;
            total++;
            unsigned char c = (unsigned char)l[k];
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                lower++;
            else if (c >= 'A' && c <= 'Z')
                upper++;
        }
    }
    if (total >= 200 && upper + lower > 0)
        u->percent = (double)upper / (double)(upper + lower) * 100.0;
    return u;
}

static unsigned run_for_uppercase(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min, max;
    if (!eval_arg_number(arg(call, 0), &min) || !eval_arg_number(arg(call, 1), &max))
        return 0;
    struct mime_stats *s = (struct mime_stats *)stats_of(ctx);
    if (s->uppercase == NULL)
        s->uppercase = make_uppercase(ctx);
    double pct = s->uppercase->percent;
    return pct > min && pct <= max;
}

/* check_ma_non_text: a multipart/alternative whose direct leaves are not all text (nor
 * application/rtf). */
static unsigned run_ma_non_text(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct sa_mime *m = eval_mime(ctx);
    for (size_t i = 0; i < m->count; i++) {
        if (strcmp(m->parts[i].type, "multipart/alternative") != 0)
            continue;
        for (size_t j = i + 1; j < m->count && sa_mime_is_below(m, j, i); j++) {
            const struct sa_mime_part *p = &m->parts[j];
            if (p->parent != i || !p->leaf)
                continue;
            if (strcasecmp(p->type, "multipart/related") == 0
                || strcasecmp(p->type, "application/rtf") == 0
                || strncasecmp(p->type, "text/", 5) == 0)
                continue;
            return 1;
        }
    }
    return 0;
}

/* check_base64_length(min[, max]): the longest raw line of a base64 leaf (not
 * application/ics). */
static unsigned run_base64_length(struct eval_ctx *ctx, const struct eval_call *call)
{
    double min, max;
    if (!eval_arg_number(arg(call, 0), &min))
        return 0;
    bool has_max = eval_arg_number(arg(call, 1), &max);
    const struct sa_mime *m = eval_mime(ctx);
    size_t longest = 0;
    for (size_t i = 0; i < m->count; i++) {
        const struct sa_mime_part *p = &m->parts[i];
        if (!p->leaf)
            continue;
        char *ctype, *b, *cs, *nm;
        bool missing;
        sa_parse_content_type(sa_mime_header(p, "Content-Type", false), &ctype, &b, &cs, &nm,
            &missing);
        bool ics = strcmp(ctype, "application/ics") == 0;
        free(ctype);
        free(b);
        free(cs);
        free(nm);
        char *cte = lc_header(p, "Content-Transfer-Encoding");
        bool base64 = strcmp(cte, "base64") == 0;
        free(cte);
        if (ics || !base64)
            continue;
        for (size_t at = 0; at < p->raw_len;) {
            const char *nl = memchr(p->raw + at, '\n', p->raw_len - at);
            size_t llen = nl != NULL ? (size_t)(nl - p->raw - at) + 1 : p->raw_len - at;
            if (llen > longest)
                longest = llen;
            at += llen;
        }
    }
    if (has_max && (double)longest > max)
        return 0;
    return (double)longest >= min;
}

static const struct eval_function functions[] = {
    { "check_for_mime", NULL, NULL, run_for_mime },
    { "check_for_mime_html", NULL, NULL, run_for_mime_html },
    { "check_for_mime_html_only", NULL, NULL, run_for_mime_html_only },
    { "check_mime_multipart_ratio", NULL, NULL, run_mime_multipart_ratio },
    { "check_msg_parse_flags", NULL, NULL, run_msg_parse_flags },
    { "check_for_ascii_text_illegal", NULL, NULL, run_ascii_text_illegal },
    { "check_abundant_unicode_ratio", NULL, NULL, run_abundant_unicode_ratio },
    { "check_qp_ratio", NULL, NULL, run_qp_ratio },
    { "check_for_faraway_charset", NULL, NULL, run_faraway_charset },
    { "check_for_uppercase", NULL, NULL, run_for_uppercase },
    { "check_ma_non_text", NULL, NULL, run_ma_non_text },
    { "check_base64_length", NULL, NULL, run_base64_length },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_mimeeval = {
    .id = EVAL_MIMEEVAL,
    .name = "Mail::SpamAssassin::Plugin::MIMEEval",
    .available = true,
    .functions = functions,
};
