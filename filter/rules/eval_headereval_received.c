/* eval_headereval_received.c - the functions of SpamAssassin's HeaderEval plugin that read
 * Received lines and dates, natively, with SpamAssassin 4.0.1's semantics: forged Received
 * lines of big providers (AOL relays, Hotmail, Yahoo, Gmail, Eudoramail, Juno), lists that
 * strip Received lines, and the Date header against the Received dates (DATE_IN_PAST_* /
 * DATE_IN_FUTURE_*, received_within_months). Exported as eval_headereval_received[]; the
 * HeaderEval plugin's lookup also searches it (eval_table.c). Header texts are SpamAssassin's
 * get(): every instance, decoded, each ending in a newline (rules_headers.c). They match the
 * Received text, not the relays (rules_relays.h), as SpamAssassin does: the relay parser keeps
 * neither the dates, nor the "with"/"via" protocols, nor the lines it ignores (qmail invoked,
 * mail pickup service, fetchmail), which these checks read; only Yahoo's uses the relays. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "header.h"
#include "rules_evalfn.h"
#include "rules_received.h"
#include "rules_relays.h"
#include "util.h"

/* A header's text as SpamAssassin's $pms->get(name) gives it ("" when absent). */
static const char *get_text(struct eval_ctx *ctx, const char *name, enum header_part part,
    bool *present)
{
    struct rule query = { .type = RULE_HEADER, .hsrc = HSRC_NAMED, .hpart = part,
        .header = (char *)name };
    const char *text = "";
    size_t len = 0;
    size_t cap = ctx->limits->header_bytes > 1u << 30 ? 1u << 30 : (size_t)ctx->limits->header_bytes;
    bool found = rules_header_text(&query, ctx->msg, ctx->headers, cap, &text, &len);
    if (present != NULL)
        *present = found;
    return text != NULL ? text : "";
}

static const char *get(struct eval_ctx *ctx, const char *name)
{
    return get_text(ctx, name, HPART_VALUE, NULL);
}

static const char *from_addr(struct eval_ctx *ctx)
{
    return get_text(ctx, "From", HPART_ADDR, NULL);
}

/* s/\s+/ /gs */
static char *squeeze(const char *text)
{
    char *out = xmalloc(strlen(text) + 1);
    size_t n = 0;
    bool space = false;
    for (const char *s = text; *s != '\0'; s++) {
        if (strchr(" \t\n\r\f\v", *s) != NULL) {
            space = true;
            continue;
        }
        if (space)
            out[n++] = ' ';
        space = false;
        out[n++] = *s;
    }
    if (space)
        out[n++] = ' ';
    out[n] = '\0';
    return out;
}

static bool match(struct received_pattern *p, const char *text)
{
    return received_pattern_match(p, text, NULL);
}

#define PAT(src) { src, false, NULL }
#define PATI(src) { src, true, NULL }

/* ------------------------------------------------------------------ */

static unsigned check_for_fake_aol_relay_in_rcvd(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    static struct received_pattern rly = PATI(" rly-[a-z][a-z]\\d\\d\\."),
        via_aol = PAT("/AOL-\\d+\\.\\d+\\.\\d+\\)"),
        aolish = PAT("ESMTP id (?:RELAY|MAILRELAY|MAILIN)");
    char *rcvd = squeeze(get(ctx, "Received"));
    unsigned hit = match(&rly, rcvd) && !match(&via_aol, rcvd) && !match(&aolish, rcvd);
    free(rcvd);
    return hit;
}

/* gated_through_received_hdr_remover: ezmlm lists and MSN groups that drop Received lines, or
 * no Received line at all. */
static bool gated_through_remover(struct eval_ctx *ctx)
{
    static struct received_pattern ezmlm = PAT("(?m)^contact \\S+@\\S+; run by ezmlm$"),
        list_dlto = PAT("(?m)^mailing list \\S+@\\S+"),
        qmail_invoked = PAT("qmail \\d+ invoked (?:from network|by .{3,20})\\); \\d+ ... \\d+"),
        msn_groups = PAT("from groups\\.msn\\.com \\(\\S+\\.msn\\.com ");
    bool present;
    const char *list = get_text(ctx, "Mailing-List", HPART_VALUE, &present);
    if (present && match(&ezmlm, list) && match(&list_dlto, get(ctx, "Delivered-To"))
        && match(&qmail_invoked, get(ctx, "Received")))
        return true;
    const char *rcvd = get_text(ctx, "Received", HPART_VALUE, &present);
    if (!present)
        return true;
    return match(&msn_groups, rcvd);
}

static unsigned gated_through_received_hdr_remover(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    return gated_through_remover(ctx);
}

/* check_for_msn_groups_headers */
static bool msn_groups(struct eval_ctx *ctx)
{
    static struct received_pattern to_groups = PATI("<(\\S+)@groups\\.msn\\.com>"),
        pickup = PAT("from mail pickup service by ((?:p\\d\\d\\.)groups\\.msn\\.com)\\b");
    char *list = NULL, *server = NULL;
    bool yes = false;
    if (!received_pattern_match(&to_groups, get(ctx, "To"), &list))
        goto out;
    if (!received_pattern_match(&pickup, get(ctx, "Received"), &server))
        goto out;
    char *source;
    if (strcmp(list, "notifications") == 0)
        source = xasprintf("^<\\S+@\\Q%s\\E>", server);
    else
        source = xasprintf("^<\\Q%s\\E-\\S+@groups\\.msn\\.com>", list);
    struct received_pattern msgid = { source, false, NULL };
    yes = match(&msgid, get(ctx, "Message-Id"));
    received_pattern_free(&msgid);
    free(source);
    if (yes && strcmp(list, "notifications") != 0) {
        char *bounce = xasprintf("\\Q%s\\E-bounce@groups\\.msn\\.com", list);
        struct received_pattern envfrom = { bounce, false, NULL };
        const char *env = ctx->msg->envelope_from != NULL ? ctx->msg->envelope_from : "";
        yes = match(&envfrom, env);
        received_pattern_free(&envfrom);
        free(bounce);
    }
out:
    free(list);
    free(server);
    return yes;
}

enum hotmail_verdict { HOTMAIL_NONE, HOTMAIL_FORGED, HOTMAIL_MISSING };

static enum hotmail_verdict hotmail_check(struct eval_ctx *ctx)
{
    static struct received_pattern pickup = PAT("from mail pickup service by hotmail\\.com with "
        "Microsoft SMTPSVC;"),
        any_ip = PAT("@IP@"),
        originator = PAT("hotmail\\.com|msonline\\-outlook"),
        hotmail_rdns = PAT("from (?:\\S*\\.)?hotmail.com \\(\\S+\\.hotmail(?:\\.msn)?\\.com[ \\)]"),
        outlook = PAT("from \\S*\\.outbound\\.protection\\.outlook\\.com \\(\\S+\\.outbound\\."
            "protection\\.outlook\\.com[ \\)]"),
        outlook_prd = PAT("from \\S*\\.(?:eur|nam)prd\\d+\\.prod\\.outlook\\.com \\(@IP@\\)"),
        hotmail_ip = PAT("from \\S*\\.hotmail.com \\(\\[@IP@\\][ \\):]"),
        hotmail_http = PAT("from \\S+ by \\S+\\.hotmail(?:\\.msn)?\\.com with HTTP;"),
        yahoo_66 = PAT("from \\[66\\.218.\\S+\\] by \\S+\\.yahoo\\.com"),
        claims_hotmail = PAT("(?:from |HELO |helo=)\\S*hotmail\\.com\\b"),
        from_hotmail = PATI("\\bhotmail\\.com$");
    enum hotmail_verdict verdict = HOTMAIL_NONE;
    char *rcvd = squeeze(get(ctx, "Received"));
    if (match(&pickup, rcvd) || msn_groups(ctx))
        goto out;
    bool present;
    const char *ip_text = get_text(ctx, "X-Originating-Ip", HPART_VALUE, &present);
    bool ip = present && match(&any_ip, ip_text);
    const char *org_text = get_text(ctx, "X-OriginatorOrg", HPART_VALUE, &present);
    bool orig = present && match(&originator, org_text);
    if (gated_through_remover(ctx))
        goto out;
    if ((ip && (match(&hotmail_rdns, rcvd) || match(&hotmail_ip, rcvd)
            || match(&hotmail_http, rcvd) || match(&yahoo_66, rcvd)))
        || (orig && (match(&outlook, rcvd) || match(&outlook_prd, rcvd))))
        goto out;
    if (match(&claims_hotmail, rcvd)) {
        verdict = HOTMAIL_FORGED;
    } else {
        char *from = xstrdup(from_addr(ctx));
        size_t n = strlen(from);
        if (n > 0 && from[n - 1] == '\n')
            from[n - 1] = '\0';
        if (match(&from_hotmail, from))
            verdict = HOTMAIL_MISSING;
        free(from);
    }
out:
    free(rcvd);
    return verdict;
}

static unsigned check_for_forged_hotmail_received_headers(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    return hotmail_check(ctx) == HOTMAIL_FORGED;
}

static unsigned check_for_no_hotmail_received_headers(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    return hotmail_check(ctx) == HOTMAIL_MISSING;
}

static unsigned check_for_msn_groups_headers(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return msn_groups(ctx);
}

static bool from_matches(struct eval_ctx *ctx, struct received_pattern *p)
{
    return match(p, from_addr(ctx));
}

static unsigned check_for_forged_eudoramail_received_headers(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    static struct received_pattern from_eudora = PATI("\\beudoramail\\.com$"),
        any_ip = PAT("@IP@"),
        whowhere = PAT("by \\S*whowhere.com;");
    if (!from_matches(ctx, &from_eudora))
        return 0;
    char *rcvd = squeeze(get(ctx, "Received"));
    bool present;
    const char *ip_text = get_text(ctx, "X-Sender-Ip", HPART_VALUE, &present);
    bool ip = present && match(&any_ip, ip_text);
    unsigned hit = !gated_through_remover(ctx) && !(match(&whowhere, rcvd) && ip);
    free(rcvd);
    return hit;
}

static unsigned check_for_forged_yahoo_received_headers(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    static struct received_pattern from_yahoo = PATI("\\byahoo\\.com$"),
        trusted_rdns = PAT(" rdns=\\S+\\.yahoo\\.com "),
        untrusted_rdns = PAT("^[^\\]]+ rdns=\\S+\\.yahoo\\.com "),
        web = PAT("by web\\S+\\.mail\\S*\\.yahoo\\.com via HTTP"),
        sonic = PAT("by sonic\\S+\\.consmr\\.mail\\S*\\.yahoo\\.com with HTTP"),
        smtp = PAT("by smtp\\S+\\.yahoo\\.com with SMTP"),
        groups = PAT("from \\[@IP@\\] by \\S+\\.(?:groups|scd|dcn)\\.yahoo\\.com with NNFMP"),
        bulk = PAT("\\bmailer\\d+\\.bulk\\.scd\\.yahoo\\.com\\b"),
        reply = PATI("@reply\\.yahoo\\.com$"),
        esmtp_id = PAT("by \\w+\\.\\w+\\.yahoo\\.com \\(\\d+\\.\\d+\\.\\d+/\\d+\\.\\d+\\.\\d+\\)"
            "(?: with ESMTP)? id \\w+");
    if (!from_matches(ctx, &from_yahoo))
        return 0;
    const char *rcvd_text = get(ctx, "Received");
    if (get(ctx, "Resent-From")[0] != '\0' && get(ctx, "Resent-To")[0] != '\0') {
        const char *x = get(ctx, "X-Received");
        if (x[0] != '\0')
            rcvd_text = x;
    }
    char *rcvd = squeeze(rcvd_text);
    const struct rules_relays *relays = eval_relays(ctx);
    unsigned hit = 1;
    if (gated_through_remover(ctx) || match(&trusted_rdns, relays->pseudo_trusted)
        || match(&untrusted_rdns, relays->pseudo_untrusted) || match(&web, rcvd)
        || match(&sonic, rcvd) || match(&smtp, rcvd) || match(&groups, rcvd)
        || (match(&bulk, rcvd) && from_matches(ctx, &reply)) || match(&esmtp_id, rcvd))
        hit = 0;
    free(rcvd);
    return hit;
}

static unsigned check_for_forged_juno_received_headers(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    static struct received_pattern from_juno = PATI("\\bjuno\\.com$"),
        juno_rcvd = PAT("from.*\\b(?:juno|untd)\\.com.*[\\[\\(]@IP@[\\]\\)].*by"),
        cookie = PAT(" cookie\\.(?:juno|untd)\\.com "),
        mail_com = PAT("from.*\\bmail\\.com.*\\[@IP@\\].*by"),
        mailer_mail_com = PAT("\\bmail\\.com"),
        webmail = PAT("from (webmail\\S+\\.untd\\.com) \\(\\1 \\[@IP@\\]\\) by"),
        webmail_mailer = PAT("^Webmail Version \\d"),
        any_ip = PAT("@IP@");
    if (!from_matches(ctx, &from_juno) || gated_through_remover(ctx))
        return 0;
    const char *xorig = get(ctx, "X-Originating-IP");
    const char *xmailer = get(ctx, "X-Mailer");
    const char *rcvd = get(ctx, "Received");
    if (xorig[0] != '\0') {
        if (!match(&juno_rcvd, rcvd) && !match(&cookie, rcvd))
            return 1;
        return strstr(xmailer, "Juno ") == NULL;
    }
    if (match(&mail_com, rcvd)) {
        if (!match(&mailer_mail_com, xmailer))
            return 1;
    } else if (match(&webmail, rcvd)) {
        if (!match(&webmail_mailer, xmailer))
            return 1;
    } else {
        return 1;
    }
    return !match(&any_ip, xorig);
}

static unsigned check_for_forged_gmail_received_headers(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    static struct received_pattern from_gmail = PATI("\\bgmail\\.com$"),
        x10 = PAT("by 10\\.\\S+ with SMTP id \\S+"),
        x2002 = PAT("by 2002:a\\d\\d:\\w+:\\S+ with SMTP id \\S+"),
        googlemail = PAT("by smtp\\.googlemail\\.com with ESMTPSA id \\S+");
    if (!from_matches(ctx, &from_gmail))
        return 0;
    const char *xreceived = get(ctx, "X-Received");
    if (match(&x10, xreceived) || match(&x2002, xreceived)
        || match(&googlemail, get(ctx, "Received")))
        return 0;
    return !(strlen(get(ctx, "X-Gm-Message-State")) >= 60
        && strlen(get(ctx, "X-Google-Smtp-Source")) >= 60);
}

/* ------------------------------------------------------------------ */
/* Dates: SpamAssassin's parse_rfc822_date and HeaderEval's date checks. */

static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
    "sep", "oct", "nov", "dec" };

/* SpamAssassin's %TZ (Util.pm) */
static const struct { const char *name; const char *offset; } zones[] = {
    { "UT", "+0000" }, { "UTC", "+0000" }, { "NDT", "-0230" }, { "AST", "-0400" },
    { "ADT", "-0300" }, { "NST", "-0330" }, { "EST", "-0500" }, { "EDT", "-0400" },
    { "CST", "-0600" }, { "CDT", "-0500" }, { "MST", "-0700" }, { "MDT", "-0600" },
    { "PST", "-0800" }, { "PDT", "-0700" }, { "HST", "-1000" }, { "AKST", "-0900" },
    { "AKDT", "-0800" }, { "HADT", "-0900" }, { "HAST", "-1000" }, { "GMT", "+0000" },
    { "BST", "+0100" }, { "IST", "+0100" }, { "WET", "+0000" }, { "WEST", "+0100" },
    { "CET", "+0100" }, { "CEST", "+0200" }, { "EET", "+0200" }, { "EEST", "+0300" },
    { "MSK", "+0300" }, { "MSD", "+0400" }, { "MET", "+0100" }, { "MEZ", "+0100" },
    { "MEST", "+0200" }, { "MESZ", "+0200" }, { "BRST", "-0200" }, { "BRT", "-0300" },
    { "AEST", "+1000" }, { "AEDT", "+1100" }, { "ACST", "+0930" }, { "ACDT", "+1030" },
    { "AWST", "+0800" }, { "NZST", "+1200" }, { "NZDT", "+1300" }, { "JST", "+0900" },
    { "KST", "+0900" }, { "HKT", "+0800" }, { "SGT", "+0800" }, { "PHT", "+0800" },
    { "IDT", "+0300" }, { NULL, NULL },
};

static const char *zone_offset(const char *name)
{
    for (size_t i = 0; zones[i].name != NULL; i++) {
        if (strcmp(zones[i].name, name) == 0)
            return zones[i].offset;
    }
    return NULL;
}

/* Removes text[start, end) and puts one space there (s/ X / /). */
static void replace_with_space(char *text, size_t start, size_t end)
{
    text[start] = ' ';
    memmove(text + start + 1, text + end, strlen(text + end) + 1);
}

static int month_number(const char *name)
{
    for (int i = 0; i < 12; i++) {
        if (strncasecmp(name, months[i], 3) == 0)
            return i + 1;
    }
    return 0;
}

static bool is_leap(long y)
{
    return (y % 4 == 0) && ((y % 100 != 0) || (y % 400 == 0));
}

/* Seconds since the epoch of a UTC date (timegm without the libc extension). */
static long long utc_seconds(long year, int month, int day, int hh, int mm, int ss)
{
    static const int before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    long long days = 0;
    for (long y = 1970; y < year; y++)
        days += is_leap(y) ? 366 : 365;
    days += before[month - 1] + (month > 2 && is_leap(year) ? 1 : 0) + (day - 1);
    return days * 86400 + hh * 3600 + mm * 60 + ss;
}

/* parse_rfc822_date: false when no date could be read. */
static bool parse_date(const char *date, long long *out)
{
    static struct received_pattern dmy = PATI(" (\\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
        "|Nov|Dec) (\\d{4}) "),
        mdty = PATI(" (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\\d+) \\d+:\\d+:\\d+ "
            "(\\d{4}) "),
        dmy2 = PATI(" (\\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\\d{2,3}) "),
        hms = PAT(" (\\d?\\d):(\\d\\d)(:(\\d\\d))? "),
        numeric_zone = PAT(" ([-+]\\d{4}) "),
        named_zone = PAT("\\b([A-Z]{2,4}(?:-DST)?)\\b");
    char *spaced = xasprintf(" %s ", date);
    /* commas and the spaces after them become one space, then runs of space one */
    for (char *c = strstr(spaced, ","); c != NULL; c = strstr(c, ",")) {
        size_t skip = 1 + strspn(c + 1, " ");
        replace_with_space(spaced, (size_t)(c - spaced), (size_t)(c - spaced) + skip);
    }
    char *text = squeeze(spaced);
    free(spaced);
    char *g[4] = { NULL, NULL, NULL, NULL };
    size_t s, e;
    long year = 0;
    int day = 0, mon = 0;
    bool ok = true;
    if (received_pattern_groups(&dmy, text, g, 3, &s, &e)) {
        day = atoi(g[0]);
        mon = month_number(g[1]);
        year = atol(g[2]);
    } else if (received_pattern_groups(&mdty, text, g, 3, &s, &e)) {
        day = atoi(g[1]);
        mon = month_number(g[0]);
        year = atol(g[2]);
    } else if (received_pattern_groups(&dmy2, text, g, 3, &s, &e)) {
        day = atoi(g[0]);
        mon = month_number(g[1]);
        year = atol(g[2]);
        if (strlen(g[2]) == 2 && year < 50)
            year += 2000;
        else
            year += 1900;          /* three digits, or two from 50 */
    } else {
        ok = false;
    }
    for (int i = 0; i < 4; i++) {
        free(g[i]);
        g[i] = NULL;
    }
    if (!ok) {
        free(text);
        return false;
    }
    replace_with_space(text, s, e);
    int hh = 0, mm = 0, ss = 0;
    if (received_pattern_groups(&hms, text, g, 4, &s, &e)) {
        hh = atoi(g[0]);
        mm = atoi(g[1]);
        ss = g[3] != NULL ? atoi(g[3]) : 0;
        replace_with_space(text, s, e);
    }
    for (int i = 0; i < 4; i++) {
        free(g[i]);
        g[i] = NULL;
    }
    const char *offset = NULL;
    char *zone = NULL;
    if (received_pattern_groups(&numeric_zone, text, &zone, 1, &s, &e)) {
        offset = zone;
    } else if (received_pattern_groups(&named_zone, text, &zone, 1, &s, &e)) {
        offset = zone_offset(zone);
    }
    if (ss > 59)
        ss = 59;
    if (mm > 59)
        mm = 59;
    if (hh > 23)
        hh = 23;
    int max_day = 31;
    if (mon == 4 || mon == 6 || mon == 9 || mon == 11)
        max_day = 30;
    else if (mon == 2)
        max_day = is_leap(year) ? 29 : 28;
    if (day > max_day) {
        day = 1;
        if (++mon > 12) {
            mon = 1;
            year++;
        }
    }
    if (year > 2037)
        year = 2037;
    else if (year < 1970)
        year = 1970;
    if (mon < 1 || day < 1) {     /* timegm croaks on day 0 or month 0: no date */
        free(zone);
        free(text);
        return false;
    }
    long long t = utc_seconds(year, mon, day, hh, mm, ss);
    if (offset != NULL && strlen(offset) == 5 && (offset[0] == '+' || offset[0] == '-')) {
        long long secs = ((offset[1] - '0') * 10 + (offset[2] - '0')) * 3600LL
            + ((offset[3] - '0') * 10 + (offset[4] - '0')) * 60LL;
        if (offset[0] == '-')
            t += secs;
        else
            t = t < secs ? 0 : t - secs;
    }
    free(zone);
    free(text);
    *out = t;
    return true;
}

struct date_data {
    bool have_date;
    long long date_time;           /* Resent-Date or Date */
    long long *received_times;     /* of the Received lines, newest first */
    size_t received_count;
    bool have_fetchmail;
    long long fetchmail_time;
    long long date_diff;
};

/* The first parseable date of the Resent-Date, then the Date fields (raw values). */
static void date_header_time(const struct rules_message *msg, struct date_data *d)
{
    static const char *const names[] = { "Resent-Date", "Date" };
    for (size_t n = 0; n < 2; n++) {
        for (size_t i = 0; i < msg->header_count; i++) {
            const char *v = msg->headers[i].value;
            if (!str_ieq(msg->headers[i].name, names[n]) || v == NULL || v[0] == '\0')
                continue;
            if (parse_date(v, &d->date_time)) {
                d->have_date = true;
                return;
            }
        }
    }
}

static char **split_received_lines(const char *text, size_t *count)
{
    char **lines = NULL;
    size_t n = 0;
    const char *p = text;
    while (*p != '\0') {
        size_t len = strcspn(p, "\n");
        bool blank = true;
        for (size_t i = 0; i < len; i++) {
            if (strchr(" \t\r\f\v", p[i]) == NULL)
                blank = false;
        }
        if (!blank) {
            lines = xrealloc(lines, (n + 1) * sizeof *lines);
            lines[n++] = xstrndup(p, len);
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    *count = n;
    return lines;
}

static bool received_line_time(const char *line, long long *t)
{
    static struct received_pattern stamp = PAT("(\\s.?\\d+ \\S\\S\\S \\d+ \\d+:\\d+:\\d+ \\S+)");
    char *date = NULL;
    bool ok = received_pattern_match(&stamp, line, &date) && parse_date(date, t);
    free(date);
    return ok;
}

/* _get_received_header_times, with its fetchmail special case. */
static void received_header_times(struct eval_ctx *ctx, struct date_data *d)
{
    static struct received_pattern local = PAT("\\bfrom (?:localhost\\s|(?:\\S+ ){1,2}\\S*"
        "\\b127\\.0\\.0\\.1\\b)"),
        qmail_uid = PAT("qmail \\d+ invoked by uid \\d+"),
        fetchmail = PAT("\\bby localhost with \\w+ \\(fetchmail-[\\d.]+");
    size_t n;
    char **lines = split_received_lines(get(ctx, "Received"), &n);
    size_t first = 0;
    const char *local_lines[2];
    size_t local_count = 0;
    if (n > 0 && (match(&local, lines[0]) || match(&qmail_uid, lines[0])))
        local_lines[local_count++] = lines[first++];
    if (first < n && match(&fetchmail, lines[first]))
        local_lines[local_count++] = lines[first++];
    else if (local_count > 0) {
        local_count = 0;          /* not a fetchmail pair: the local line counts as usual */
        first = 0;
    }
    long long now = (long long)time(NULL);
    for (size_t i = 0; i < local_count; i++) {
        long long t;
        if (received_line_time(local_lines[i], &t) && now >= t) {
            if (!d->have_fetchmail || t > d->fetchmail_time)
                d->fetchmail_time = t;
            d->have_fetchmail = true;
        }
    }
    d->received_times = xcalloc(n + 1, sizeof *d->received_times);
    for (size_t i = first; i < n; i++) {
        long long t;
        if (received_line_time(lines[i], &t))
            d->received_times[d->received_count++] = t;
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

static long long absolute(long long v)
{
    return v < 0 ? -v : v;
}

/* _check_date_diff: Date minus the Received time closest to it (the oldest Received line left
 * out when it equals Date exactly and there are others). */
static void date_diff(struct date_data *d)
{
    d->date_diff = 0;
    if (!d->have_date || d->received_count == 0)
        return;
    size_t n = d->received_count;
    if (n > 1 && d->date_time - d->received_times[n - 1] == 0)
        n--;
    long long best = d->date_time - d->received_times[0];
    for (size_t i = 1; i < n; i++) {
        long long diff = d->date_time - d->received_times[i];
        if (absolute(diff) < absolute(best))
            best = diff;
    }
    d->date_diff = best;
}

static void *make_dates(struct eval_ctx *ctx)
{
    struct date_data *d = xcalloc(1, sizeof *d);
    date_header_time(ctx->msg, d);
    received_header_times(ctx, d);
    date_diff(d);
    return d;
}

static void free_dates(void *data)
{
    struct date_data *d = data;
    free(d->received_times);
    free(d);
}

static const struct date_data *dates(struct eval_ctx *ctx)
{
    return eval_plugin_data(ctx, EVAL_HEADEREVAL_RECEIVED, make_dates, free_dates);
}

/* Two bounds in hours ('undef' = open); kept as a pair. */
struct bounds {
    bool has_min, has_max;
    double min, max;
};

static bool prepare_bounds(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)rs;
    (void)r;
    struct bounds b = { false, false, 0, 0 };
    if (argc != 2) {
        *why = "needs two bounds (numbers or 'undef')";
        return false;
    }
    if (strcmp(args[0], "undef") != 0) {
        if (!eval_arg_number(args[0], &b.min)) {
            *why = "a bound is not a number or 'undef'";
            return false;
        }
        b.has_min = true;
    }
    if (strcmp(args[1], "undef") != 0) {
        if (!eval_arg_number(args[1], &b.max)) {
            *why = "a bound is not a number or 'undef'";
            return false;
        }
        b.has_max = true;
    }
    struct bounds *kept = xmalloc(sizeof *kept);
    *kept = b;
    *state = kept;
    return true;
}

static unsigned check_for_shifted_date(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct bounds *b = call->state;
    double diff = (double)dates(ctx)->date_diff;
    return (!b->has_min || diff >= 3600.0 * b->min) && (!b->has_max || diff < 3600.0 * b->max);
}

/* _check_date_received: the median of the dates the message gives. */
static long long date_received(const struct date_data *d)
{
    long long poss[4];
    size_t n = 0;
    if (d->have_date)
        poss[n++] = d->date_time;
    if (d->received_count > 0)
        poss[n++] = d->received_times[0];
    if (d->have_fetchmail)
        poss[n++] = d->fetchmail_time;
    if (d->have_date && d->received_count > 0)
        poss[n++] = d->date_time - d->date_diff;
    if (n == 0)
        return 0;
    for (size_t i = 1; i < n; i++) {          /* descending */
        for (size_t j = i; j > 0 && poss[j] > poss[j - 1]; j--) {
            long long t = poss[j];
            poss[j] = poss[j - 1];
            poss[j - 1] = t;
        }
    }
    return poss[(n - 1) / 2];
}

static unsigned received_within_months(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct bounds *b = call->state;
    double diff = (double)((long long)time(NULL) - date_received(dates(ctx)));
    const double year = 31556952.0;
    return (!b->has_min || diff >= year * (b->min / 12)) && (!b->has_max || diff < year * (b->max / 12));
}

const struct eval_function eval_headereval_received[] = {
    { "check_for_fake_aol_relay_in_rcvd", NULL, NULL, check_for_fake_aol_relay_in_rcvd },
    { "check_for_forged_hotmail_received_headers", NULL, NULL,
        check_for_forged_hotmail_received_headers },
    { "check_for_no_hotmail_received_headers", NULL, NULL,
        check_for_no_hotmail_received_headers },
    { "check_for_msn_groups_headers", NULL, NULL, check_for_msn_groups_headers },
    { "check_for_forged_eudoramail_received_headers", NULL, NULL,
        check_for_forged_eudoramail_received_headers },
    { "check_for_forged_yahoo_received_headers", NULL, NULL,
        check_for_forged_yahoo_received_headers },
    { "check_for_forged_juno_received_headers", NULL, NULL,
        check_for_forged_juno_received_headers },
    { "check_for_forged_gmail_received_headers", NULL, NULL,
        check_for_forged_gmail_received_headers },
    { "gated_through_received_hdr_remover", NULL, NULL, gated_through_received_hdr_remover },
    { "check_for_shifted_date", prepare_bounds, free, check_for_shifted_date },
    { "received_within_months", prepare_bounds, free, received_within_months },
    { NULL, NULL, NULL, NULL },
};
