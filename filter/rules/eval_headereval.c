/* eval_headereval.c - SpamAssassin's HeaderEval plugin, natively, with its 4.0 semantics:
 * header checks on Message-ID forms (Outlook's time token, ratware ids), recipients (sorted
 * or similar lists, the local part in the Subject), the Subject in capitals, 8-bit bytes where
 * MIME encoding belongs, far-away charsets, unresolved templates, header counts, the envelope
 * sender against From. The Received- and Date-based functions are in
 * eval_headereval_received.c. Each function answers what HeaderEval.pm answers on the same
 * message; what it reads comes through eval_get.h as PerMsgStatus::get() gives it. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval_get.h"
#include "header.h"
#include "header_cache.h"
#include "registrable.h"
#include "rules_evalfn.h"
#include "util.h"

static const char *arg(const struct eval_call *call, size_t i)
{
    return i < call->argc ? call->args[i] : NULL;
}

static bool has_nonspace(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!isspace((unsigned char)s[i]))
            return true;
    }
    return false;
}

/* --- charsets ------------------------------------------------------------------------------ */

/* Encoded words' charsets in From:raw and Subject:raw against ok_locales. */
static unsigned run_faraway_charset_in_headers(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const char *locales = ruleset_ok_locales(ctx->rs);
    if (locales == NULL || strstr(locales, "all") != NULL)
        return 0;
    static const char *const names[] = { "From", "Subject" };
    for (size_t h = 0; h < 2; h++) {
        size_t len;
        const char *text = eval_get(ctx, names[h], HPART_RAW, &len, NULL);
        /* /=\?(.+?)\?.\?.*?\?=/g */
        const char *p = text, *end = text + len;
        while (p < end) {
            const char *start = memmem(p, (size_t)(end - p), "=?", 2);
            if (start == NULL)
                break;
            const char *cs = start + 2;
            const char *q = cs + 1;
            while (q < end && *q != '?' && *q != '\n')
                q++;
            bool word = q + 3 < end && q[2] == '?' && q[1] != '\n';
            const char *close = word ? memmem(q + 3, (size_t)(end - q - 3), "?=", 2) : NULL;
            const char *nl = word ? memchr(q + 3, '\n', (size_t)(end - q - 3)) : NULL;
            if (close == NULL || (nl != NULL && nl < close)) {
                p = start + 1;
                continue;
            }
            if (!eval_charset_ok_for_locales(ctx->rs, cs, (size_t)(q - cs)))
                return 1;
            p = close + 2;
        }
    }
    return 0;
}

/* Perl's is_valid_utf_8: well-formed UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF). */
static bool valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t more;
        if (c < 0x80)
            more = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            more = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            more = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            more = 3;
        else
            return false;
        if (more >= len - i)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        }
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] >= 0xA0)
            || (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] >= 0x90))
            return false;
        i += more + 1;
    }
    return true;
}

/* check_illegal_chars(header, ratio, count): 8-bit bytes and controls in header:raw. */
static unsigned run_illegal_chars(struct eval_ctx *ctx, const struct eval_call *call)
{
    const char *header = arg(call, 0);
    double ratio, count;
    if (header == NULL || !eval_arg_number(arg(call, 1), &ratio)
        || !eval_arg_number(arg(call, 2), &count))
        return 0;
    char name[128];
    snprintf(name, sizeof name, "%s", header);
    size_t nl = strlen(name);
    if (nl > 4 && strcmp(name + nl - 4, ":raw") == 0)
        name[nl - 4] = '\0';
    size_t len;
    const unsigned char *s = (const unsigned char *)eval_get(ctx, name, HPART_RAW, &len, NULL);
    if (len == 0 || !has_nonspace((const char *)s, len))
        return 0;
    bool non_ascii = false, controls = false;
    size_t illegal = 0, exempt = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c >= 0x80)
            non_ascii = true;
        if (c <= 0x08 || c == 0x0B || c == 0x0C || (c >= 0x0E && c <= 0x1F))
            controls = true;
        if (c <= 0x08 || c == 0x0B || c == 0x0C || (c >= 0x0E && c <= 0x1F) || c >= 0x7F)
            illegal++;
        if (c == 0xA2 || c == 0xA3 || c == 0xAE)
            exempt++;
    }
    if (non_ascii && !controls && valid_utf8(s, len))
        return 0;
    if (illegal > 0 && str_ieq(name, "Subject") && exempt == 1)
        illegal--;
    return (double)illegal / (double)len >= ratio && (double)illegal >= count;
}

/* --- headers -------------------------------------------------------------------------------- */

static bool line_matches(struct eval_ctx *ctx, const char *pattern, const char *text, size_t len)
{
    return eval_regex_search(ctx, pattern, 0, text, len, NULL, 0);
}

/* gated_through_received_hdr_remover: ezmlm, MSN groups, or no Received line at all. */
static unsigned run_gated_through_received_hdr_remover(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    size_t len, dlen, rlen;
    bool present;
    const char *list = eval_get(ctx, "Mailing-List", HPART_VALUE, &len, &present);
    if (present && line_matches(ctx, "(?m)^contact \\S+\\@\\S+\\; run by ezmlm$", list, len)) {
        const char *dlto = eval_get(ctx, "Delivered-To", HPART_VALUE, &dlen, NULL);
        const char *rcvd = eval_get(ctx, "Received", HPART_VALUE, &rlen, NULL);
        if (line_matches(ctx, "(?m)^mailing list \\S+\\@\\S+", dlto, dlen)
            && line_matches(ctx, "qmail \\d+ invoked (?:from network|by .{3,20})\\); \\d+ ... \\d+",
                rcvd, rlen))
            return 1;
    }
    const char *rcvd = eval_get(ctx, "Received", HPART_VALUE, &rlen, &present);
    if (!present)
        return 1;
    return line_matches(ctx, "from groups\\.msn\\.com \\(\\S+\\.msn\\.com ", rcvd, rlen);
}

/* check_for_matching_env_and_hdr_from: EnvelopeFrom:addr equals From:addr, ignoring case. */
static unsigned run_matching_env_and_hdr_from(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const char *from = eval_get(ctx, "From", HPART_ADDR, NULL, NULL);
    return str_ieq(eval_envelope_from(ctx), from);
}

static unsigned run_missing_to_header(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    size_t len;
    eval_get(ctx, "To", HPART_VALUE, &len, NULL);
    if (len == 0)
        eval_get(ctx, "Apparently-To", HPART_VALUE, &len, NULL);
    return len == 0;
}

/* check_header_count_range(header, min, max): distinct values of the header. */
static unsigned run_header_count_range(struct eval_ctx *ctx, const struct eval_call *call)
{
    const char *name = arg(call, 0);
    double min, max;
    if (name == NULL || !eval_arg_number(arg(call, 1), &min)
        || !eval_arg_number(arg(call, 2), &max))
        return 0;
    const struct rules_message *msg = ctx->msg;
    size_t distinct = 0;
    for (size_t i = 0; i < msg->header_count; i++) {
        if (!str_ieq(msg->headers[i].name, name) || msg->headers[i].value == NULL)
            continue;
        const char *v = header_cache_decoded(ctx->headers, i, (size_t)ctx->limits->header_bytes);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            if (str_ieq(msg->headers[j].name, name) && msg->headers[j].value != NULL)
                seen = strcmp(header_cache_decoded(ctx->headers, j,
                    (size_t)ctx->limits->header_bytes), v) == 0;
        }
        distinct += !seen;
    }
    return (double)distinct >= min && (double)distinct <= max;
}

/* check_unresolved_template: a "%[A-Z][A-Z_-]" in a header other than the address and id ones. */
static unsigned run_unresolved_template(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    size_t len;
    const char *all = eval_get(ctx, "ALL", HPART_VALUE, &len, NULL);
    return eval_regex_search(ctx, "^(?!(?i:X-VMS-To|X-UIDL|X-Face|To|Cc|From|Subject|References"
        "|In-Reply-To|(?:X-|Resent-|X-Original-)?Message-Id):)[^\\n]*%[A-Z][A-Z_-]",
        PCRE2_MULTILINE, all, len, NULL, 0);
}

/* --- Subject -------------------------------------------------------------------------------- */

/* subject_is_all_caps: letters all upper case, at least two words and ten characters. */
static unsigned run_subject_is_all_caps(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    size_t len;
    const char *subject = eval_get(ctx, "Subject", HPART_VALUE, &len, NULL);
    size_t ov[6];
    /* trim, drop reply/forward prefixes (Bug 6805) */
    if (!eval_regex_search(ctx, "^\\s*((?:(?i:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):\\s*)*)"
            "([\\s\\S]*?)\\s*\\z", 0, subject, len, ov, 3))
        return 0;
    const char *s = subject + ov[4];
    size_t n = ov[5] - ov[4];
    bool space = false;
    for (size_t i = 0; i < n; i++)
        space = space || isspace((unsigned char)s[i]);
    if (!space || n < 10)
        return 0;
    size_t rlen;
    const char *raw = eval_get(ctx, "Subject", HPART_RAW, &rlen, NULL);
    if (eval_regex_search(ctx, "=\\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251"
            "|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*\\?", PCRE2_CASELESS, raw, rlen, NULL, 0))
        return 0;
    size_t letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80 && isalpha(c)) {
            letters++;
            if (islower(c))
                return 0;
        }
    }
    return letters > 0;
}

/* check_for_to_in_subject('user'|'address'): the recipient's local part or address in the
 * Subject, in the positions HeaderEval.pm lists. */
static unsigned run_to_in_subject(struct eval_ctx *ctx, const struct eval_call *call)
{
    const char *test = arg(call, 0);
    const char *to = eval_get(ctx, "To", HPART_ADDR, NULL, NULL);
    if (test == NULL || *to == '\0')
        return 0;
    size_t len;
    const char *subject = eval_get(ctx, "Subject", HPART_VALUE, &len, NULL);
    bool hit = false;
    if (strcmp(test, "address") == 0) {
        char *q = eval_regex_quote(to, strlen(to));
        char *re = xasprintf("\\b%s\\b", q);
        hit = eval_regex_search(ctx, re, PCRE2_CASELESS, subject, len, NULL, 0);
        free(re);
        free(q);
    } else if (strcmp(test, "user") == 0) {
        char *q = eval_regex_quote(to, strcspn(to, "@"));
        char *re = xasprintf("^(?:(?:re|fw):\\s*(?:\\w+\\s+)?%s$|(?-i:%s)\\s*[,:;!?-](?:$|\\s)"
            "|%s$|,\\s*%s[,:;!?-]$)", q, q, q, q);
        hit = eval_regex_search(ctx, re, PCRE2_CASELESS, subject, len, NULL, 0);
        free(re);
        free(q);
    }
    return hit;
}

/* --- recipients ----------------------------------------------------------------------------- */

#define TOCC_SORTED_COUNT 7
#define TOCC_SIMILAR_COUNT 5
#define TOCC_SIMILAR_LENGTH 2

struct recipients {
    bool sorted;
    double similar;
};

static int compare_bytes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool same_prefix(const char *a, const char *b)
{
    return strncmp(a, b, TOCC_SIMILAR_LENGTH) == 0;
}

/* HeaderEval's _check_recipients: the addresses of To and Cc (Bcc too when fewer than five),
 * neighbours that repeat dropped, at most 256. */
static void *make_recipients(struct eval_ctx *ctx)
{
    struct recipients *r = xcalloc(1, sizeof *r);
    char **inputs = NULL;
    size_t n = eval_addresses(ctx, "ToCc", &inputs);
    if (n < TOCC_SIMILAR_COUNT) {
        char **bcc = NULL;
        size_t nb = eval_addresses(ctx, "Bcc", &bcc);
        inputs = xrealloc(inputs, (n + nb + 1) * sizeof *inputs);
        if (nb > 0)
            memcpy(inputs + n, bcc, nb * sizeof *bcc);
        n += nb;
        free(bcc);
    }
    const char **address = xcalloc(n + 1, sizeof *address);
    size_t count = 0;
    const char *previous = "";
    for (size_t i = 0; i < n && count < 256; i++) {
        if (strcmp(inputs[i], "0") == 0)
            break;      /* Perl's while (my $current = shift) stops at a false value */
        if (!str_ieq(inputs[i], previous))
            address[count++] = previous = inputs[i];
    }
    if (count >= TOCC_SORTED_COUNT) {
        const char **sorted = xcalloc(count, sizeof *sorted);
        memcpy(sorted, address, count * sizeof *sorted);
        qsort(sorted, count, sizeof *sorted, compare_bytes);
        r->sorted = true;
        for (size_t i = 0; i < count; i++)
            r->sorted = r->sorted && strcmp(sorted[i], address[i]) == 0;
        free((void *)sorted);
    }
    if (count >= TOCC_SIMILAR_COUNT) {
        size_t hits = 0, combinations = 0;
        for (size_t i = 0; i < count; i++) {
            const char *hi = strchr(address[i], '@');
            for (size_t j = i + 1; j < count; j++) {
                const char *hj = strchr(address[j], '@');
                hits += same_prefix(address[i], address[j]);
                /* map { m/\@(.*)/ } drops addresses without '@', so the lists shift; with
                 * every address holding one (GMime's parser) they line up */
                if (hi != NULL && hj != NULL && same_prefix(hi + 1, hj + 1)
                    && strcmp(hi + 1, hj + 1) != 0)
                    hits++;
                combinations++;
            }
        }
        r->similar = (double)hits / (double)combinations;
    }
    free((void *)address);
    eval_strings_free(inputs, n);
    return r;
}

static const struct recipients *recipients_of(struct eval_ctx *ctx)
{
    return eval_plugin_data(ctx, EVAL_HEADEREVAL, make_recipients, free);
}

static unsigned run_sorted_recipients(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return recipients_of(ctx)->sorted;
}

/* similar_recipients(min, max): either bound may be 'undef'. */
static unsigned run_similar_recipients(struct eval_ctx *ctx, const struct eval_call *call)
{
    double similar = recipients_of(ctx)->similar, bound;
    const char *min = arg(call, 0), *max = arg(call, 1);
    bool ok_min = min == NULL || strcmp(min, "undef") == 0
        || (eval_arg_number(min, &bound) && similar >= bound);
    bool ok_max = max == NULL || strcmp(max, "undef") == 0
        || (eval_arg_number(max, &bound) && similar < bound);
    return ok_min && ok_max;
}

/* --- Message-ID ------------------------------------------------------------------------------ */

static const struct { const char *name; int offset; } zones[] = {
    { "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "EST", -500 }, { "EDT", -400 }, { "CST", -600 },
    { "CDT", -500 }, { "MST", -700 }, { "MDT", -600 }, { "PST", -800 }, { "PDT", -700 },
    { "BST", 100 }, { "CET", 100 }, { "CEST", 200 }, { "MET", 100 }, { "MEST", 200 },
    { "EET", 200 }, { "EEST", 300 }, { "JST", 900 }, { "KST", 900 }, { "IST", 530 },
    { "HKT", 800 }, { "AEST", 1000 }, { "AEDT", 1100 },
};

static int month_of(const char *m)
{
    static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
        "aug", "sep", "oct", "nov", "dec" };
    for (int i = 0; i < 12; i++) {
        if (strncasecmp(m, months[i], 3) == 0)
            return i + 1;
    }
    return 0;
}

static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Util::parse_rfc822_date: the first date, time and zone found anywhere in text, as lenient
 * as SpamAssassin's reader; 0 when no date is found. */
static double sa_parse_date(struct eval_ctx *ctx, const char *text, size_t len)
{
    struct textbuf t;
    textbuf_init(&t);
    textbuf_puts(&t, " ");
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ',') {
            while (i + 1 < len && text[i + 1] == ' ')
                i++;
            c = ' ';
        }
        if (isspace((unsigned char)c)) {
            if (t.len > 0 && t.data[t.len - 1] == ' ')
                continue;
            c = ' ';
        }
        textbuf_append(&t, &c, 1);
    }
    textbuf_puts(&t, " ");
    size_t ov[8];
    long day = 0, year = 0;
    int month = 0;
    const char *mon = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
    char *re1 = xasprintf(" (\\d+) %s (\\d{4}) ", mon);
    char *re2 = xasprintf(" %s +(\\d+) \\d+:\\d+:\\d+ (\\d{4}) ", mon);
    char *re3 = xasprintf(" (\\d+) %s (\\d{2,3}) ", mon);
    size_t cut_start = 0, cut_end = 0;
    bool found = true;
    if (eval_regex_search(ctx, re1, PCRE2_CASELESS, t.data, t.len, ov, 4)
        || eval_regex_search(ctx, re3, PCRE2_CASELESS, t.data, t.len, ov, 4)) {
        day = strtol(t.data + ov[2], NULL, 10);
        month = month_of(t.data + ov[4]);
        year = strtol(t.data + ov[6], NULL, 10);
        if (ov[7] - ov[6] == 2 && year < 50)
            year += 2000;
        else if (ov[7] - ov[6] != 4)
            year += 1900;
        cut_start = ov[0];
        cut_end = ov[1];
    } else if (eval_regex_search(ctx, re2, PCRE2_CASELESS, t.data, t.len, ov, 4)) {
        month = month_of(t.data + ov[2]);
        day = strtol(t.data + ov[4], NULL, 10);
        year = strtol(t.data + ov[6], NULL, 10);
        cut_start = ov[0];
        cut_end = ov[1];
    } else {
        found = false;
    }
    free(re1);
    free(re2);
    free(re3);
    if (!found) {
        textbuf_free(&t);
        return 0;
    }
    /* the date part is replaced by one space before the time and zone are looked for */
    memmove(t.data + cut_start + 1, t.data + cut_end, t.len - cut_end + 1);
    t.len -= cut_end - cut_start - 1;
    t.data[cut_start] = ' ';
    long hh = 0, mm = 0, ss = 0, tz = 0;
    if (eval_regex_search(ctx, " (\\d?\\d):(\\d\\d)(:(\\d\\d))? ", 0, t.data, t.len, ov, 4)) {
        hh = strtol(t.data + ov[2], NULL, 10);
        mm = strtol(t.data + ov[4], NULL, 10);
        ss = ov[6] != (size_t)-1 ? strtol(t.data + ov[6] + 1, NULL, 10) : 0;
        memmove(t.data + ov[0] + 1, t.data + ov[1], t.len - ov[1] + 1);
        t.len -= ov[1] - ov[0] - 1;
        t.data[ov[0]] = ' ';
    }
    if (eval_regex_search(ctx, " ([-+]\\d{4}) ", 0, t.data, t.len, ov, 2)) {
        tz = strtol(t.data + ov[2], NULL, 10);
    } else if (eval_regex_search(ctx, "\\b([A-Z]{2,4}(?:-DST)?)\\b", 0, t.data, t.len, ov, 2)) {
        for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
            if (ov[3] - ov[2] == strlen(zones[i].name)
                && strncmp(t.data + ov[2], zones[i].name, ov[3] - ov[2]) == 0)
                tz = zones[i].offset;
        }
    }
    textbuf_free(&t);
    ss = ss > 59 ? 59 : ss;
    mm = mm > 59 ? 59 : mm;
    hh = hh > 23 ? 23 : hh;
    int max_dd = (month == 4 || month == 6 || month == 9 || month == 11) ? 30 : 31;
    if (month == 2)
        max_dd = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
    if (day > max_dd)
        day = max_dd;
    if (month == 0 || day < 1 || year < 1970)
        return 0;
    double t0 = (double)days_from_civil(year, month, day) * 86400.0 + hh * 3600 + mm * 60 + ss;
    long tzsec = (labs(tz) / 100) * 3600 + (labs(tz) % 100) * 60;
    return tz < 0 ? t0 + (double)tzsec : t0 - (double)tzsec;
}

/* check_outlook_message_id: Outlook's Message-ID carries a time token; it must be within 250
 * units of the Date's or the last Received line's time. */
static unsigned run_outlook_message_id(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    size_t len;
    const char *id = eval_get(ctx, "MESSAGEID", HPART_VALUE, &len, NULL);
    size_t ov[4];
    if (!eval_regex_search(ctx, "^<[0-9a-f]{4}([0-9a-f]{8})\\$[0-9a-f]{8}\\$[0-9a-f]{8}\\@", 0,
            id, len, ov, 2))
        return 0;
    char hex[9];
    memcpy(hex, id + ov[2], 8);
    hex[8] = '\0';
    double token = (double)strtoul(hex, NULL, 16);
    const double x = 0.0023283064365387, y = 27111902.8329849;
    const double fudge = 250;
    const char *date = eval_get(ctx, "Date", HPART_VALUE, &len, NULL);
    double expected = floor(sa_parse_date(ctx, date, len) * x + y);
    if (fabs(token - expected) < fudge)
        return 0;
    const char *rcvd = eval_get(ctx, "Received", HPART_VALUE, &len, NULL);
    expected = floor(sa_parse_date(ctx, rcvd, len) * x + y);
    return fabs(token - expected) >= fudge;
}

/* check_messageid_not_usable: mailing lists that eat or rewrite Message-IDs. */
static unsigned run_messageid_not_usable(struct eval_ctx *ctx, const struct eval_call *call)
{
    size_t len;
    const char *unsub = eval_get(ctx, "List-Unsubscribe", HPART_VALUE, &len, NULL);
    if (eval_regex_search(ctx, "<mailto:(?:leave-\\S+|\\S+-unsubscribe)\\@\\S+>$",
            PCRE2_CASELESS, unsub, len, NULL, 0))
        return 1;
    if (run_gated_through_received_hdr_remover(ctx, call))
        return 1;
    const char *rcvd = eval_get(ctx, "Received", HPART_VALUE, &len, NULL);
    return memmem(rcvd, len, "/CWT/DCE)", 9) != NULL
        || memmem(rcvd, len, "iPlanet Messaging Server", 24) != NULL;
}

/* check_ratware_name_id: Message-ID <28 capitals.X> with From "name" <X>. */
static unsigned run_ratware_name_id(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    size_t len, flen;
    const char *mid = eval_get(ctx, "MESSAGEID", HPART_VALUE, &len, NULL);
    size_t ov[4];
    if (!eval_regex_search(ctx, "<[A-Z]{28}\\.([^>]+?)>", 0, mid, len, ov, 2))
        return 0;
    const char *from = eval_get(ctx, "From", HPART_VALUE, &flen, NULL);
    char *q = eval_regex_quote(mid + ov[2], ov[3] - ov[2]);
    char *re = xasprintf("\"[^\"]+\"\\s*<%s>", q);
    bool hit = eval_regex_search(ctx, re, 0, from, flen, NULL, 0);
    free(re);
    free(q);
    return hit;
}

/* check_ratware_envelope_from: envelope sender "<domain>.<user>@" of the To address. */
static unsigned run_ratware_envelope_from(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const char *to = eval_get(ctx, "To", HPART_ADDR, NULL, NULL);
    const char *from = eval_envelope_from(ctx);
    if (*from == '\0' || *to == '\0')
        return 0;
    if (eval_regex_search(ctx, "^SRS\\d[=+-]", PCRE2_CASELESS, from, strlen(from), NULL, 0))
        return 0;
    const char *at = strchr(to, '@');
    if (at == NULL || at == to || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return 0;
    char *dom = registrable_domain(at + 1);
    /* RegistryBoundaries::is_domain_valid: a dot and a known top-level domain */
    bool valid = strchr(dom, '.') != NULL && strpbrk(dom, " \t") == NULL;
    bool hit = false;
    if (valid) {
        char *qd = eval_regex_quote(dom, strlen(dom));
        char *qu = eval_regex_quote(to, (size_t)(at - to));
        char *re = xasprintf("\\b%s.%s@", qd, qu);
        hit = eval_regex_search(ctx, re, PCRE2_CASELESS, from, strlen(from), NULL, 0);
        free(re);
        free(qu);
        free(qd);
    }
    free(dom);
    return hit;
}

/* The domain after the last '@', cut to its last two labels (Bug 6487). */
static void two_level_domain(const char *addr, char *out, size_t size)
{
    out[0] = '\0';
    const char *at = strrchr(addr, '@');
    if (at == NULL)
        return;
    snprintf(out, size, "%s", at + 1);
    size_t len = strlen(out);
    /* s/^.+\.([^\.]+\.[^\.]+)$/$1/ */
    size_t dots = 0;
    for (size_t i = len; i-- > 0;) {
        if (out[i] != '.')
            continue;
        if (++dots == 2) {
            if (i > 0 && out[len - 1] != '.' && out[i + 1] != '.')
                memmove(out, out + i + 1, len - i);
            break;
        }
    }
}

/* check_equal_from_domains: From and envelope sender in different second-level domains. */
static unsigned run_equal_from_domains(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    char from[256], env[256];
    two_level_domain(eval_get(ctx, "From", HPART_ADDR, NULL, NULL), from, sizeof from);
    two_level_domain(eval_envelope_from(ctx), env, sizeof env);
    if (from[0] == '\0' || env[0] == '\0')
        return 0;
    return !str_ieq(from, env);
}

static unsigned run_never(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)ctx;
    (void)call;
    return 0;       /* check_for_unique_subject_id: deprecated (Bug 8051), always 0 */
}

static const struct eval_function functions[] = {
    { "check_for_faraway_charset_in_headers", NULL, NULL, run_faraway_charset_in_headers },
    { "check_illegal_chars", NULL, NULL, run_illegal_chars },
    { "gated_through_received_hdr_remover", NULL, NULL, run_gated_through_received_hdr_remover },
    { "check_for_matching_env_and_hdr_from", NULL, NULL, run_matching_env_and_hdr_from },
    { "check_for_missing_to_header", NULL, NULL, run_missing_to_header },
    { "check_header_count_range", NULL, NULL, run_header_count_range },
    { "check_unresolved_template", NULL, NULL, run_unresolved_template },
    { "subject_is_all_caps", NULL, NULL, run_subject_is_all_caps },
    { "check_for_to_in_subject", NULL, NULL, run_to_in_subject },
    { "sorted_recipients", NULL, NULL, run_sorted_recipients },
    { "similar_recipients", NULL, NULL, run_similar_recipients },
    { "check_outlook_message_id", NULL, NULL, run_outlook_message_id },
    { "check_messageid_not_usable", NULL, NULL, run_messageid_not_usable },
    { "check_ratware_name_id", NULL, NULL, run_ratware_name_id },
    { "check_ratware_envelope_from", NULL, NULL, run_ratware_envelope_from },
    { "check_equal_from_domains", NULL, NULL, run_equal_from_domains },
    { "check_for_unique_subject_id", NULL, NULL, run_never },
    { NULL, NULL, NULL, NULL },
};

static const char *const directives[] = { "ok_locales", NULL };

const struct eval_plugin eval_plugin_headereval = {
    .id = EVAL_HEADEREVAL,
    .name = "Mail::SpamAssassin::Plugin::HeaderEval",
    .available = true,
    .functions = functions,
    .directives = directives,
};
