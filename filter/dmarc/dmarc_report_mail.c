/* dmarc_report_mail.c - the mail that carries an aggregate report: Report-ID, file name,
 * Subject and the MIME message (RFC 9990 section "Email", RFC 2045). Every domain and address
 * is checked before it is written, so nothing from a DMARC record or the store can add a
 * header line or a MIME part. Promises: see dmarc_report_mail.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dmarc_report_mail.h"

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool dmarc_report_domain_ok(const char *domain)
{
    size_t len = domain != NULL ? strlen(domain) : 0;
    if (len == 0 || len > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = domain[i];
        if (c == '.' || c == 0) {
            if (label == 0 || label > 63 || domain[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!is_alnum(c) && !(c == '-' && label > 0))
            return false;
        label++;
    }
    return true;
}

static bool is_atext(char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* [s, end) is dot-atom-text (RFC 5322): atoms of atext separated by single dots. */
static bool dot_atom(const char *s, const char *end)
{
    bool atom_empty = true;
    for (const char *c = s; c < end; c++) {
        if (*c == '.') {
            if (atom_empty)
                return false;
            atom_empty = true;
        } else if (is_atext(*c)) {
            atom_empty = false;
        } else {
            return false;
        }
    }
    return !atom_empty;
}

bool dmarc_report_address_ok(const char *address)
{
    if (address == NULL || strlen(address) > 254)
        return false;
    const char *at = strrchr(address, '@');
    if (at == NULL || at - address > 64)
        return false;
    return dot_atom(address, at) && dmarc_report_domain_ok(at + 1);
}

bool dmarc_report_unique_id_ok(const char *id)
{
    size_t len = id != NULL ? strlen(id) : 0;
    if (len == 0 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(id[i]))
            return false;
    return true;
}

static bool has(const char *s)
{
    return s != NULL && s[0] != 0;
}

bool dmarc_report_id(const char *policy_domain, int64_t begin, int64_t end,
    const char *unique_id, const char *submitter, char *out, size_t out_size)
{
    if (!dmarc_report_domain_ok(policy_domain) || !dmarc_report_domain_ok(submitter) ||
        (has(unique_id) && !dmarc_report_unique_id_ok(unique_id)) || begin < 0 || end < begin)
        return false;
    int n = snprintf(out, out_size, "%s.%" PRId64 ".%" PRId64 "%s%s@%s", policy_domain, begin,
        end, has(unique_id) ? "." : "", has(unique_id) ? unique_id : "", submitter);
    return n > 0 && (size_t)n < out_size;
}

bool dmarc_report_filename(const char *receiver, const char *policy_domain, int64_t begin,
    int64_t end, const char *unique_id, char *out, size_t out_size)
{
    if (!dmarc_report_domain_ok(receiver) || !dmarc_report_domain_ok(policy_domain) ||
        (has(unique_id) && !dmarc_report_unique_id_ok(unique_id)) || begin < 0 || end < begin)
        return false;
    int n = snprintf(out, out_size, "%s!%s!%" PRId64 "!%" PRId64 "%s%s.xml.gz", receiver,
        policy_domain, begin, end, has(unique_id) ? "!" : "", has(unique_id) ? unique_id : "");
    return n > 0 && (size_t)n < out_size;
}

/* A Report-ID as we make it: dot-atom-text "@" domain (the left side may be longer than a
 * local part: it holds the policy domain). */
static bool report_id_ok(const char *id)
{
    const char *at = id != NULL ? strrchr(id, '@') : NULL;
    return at != NULL && strlen(id) < 600 && dot_atom(id, at) && dmarc_report_domain_ok(at + 1);
}

bool dmarc_report_subject(const char *policy_domain, const char *submitter,
    const char *report_id, char *out, size_t out_size)
{
    if (!dmarc_report_domain_ok(policy_domain) || !dmarc_report_domain_ok(submitter) ||
        !report_id_ok(report_id))
        return false;
    int n = snprintf(out, out_size, "Report Domain: %s Submitter: %s Report-ID: <%s>",
        policy_domain, submitter, report_id);
    return n > 0 && (size_t)n < out_size;
}

static void base64_lines(const unsigned char *data, size_t len, struct textbuf *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char line[80];
    size_t used = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        size_t n = len - i >= 3 ? 3 : len - i;
        if (n > 1)
            v |= (uint32_t)data[i + 1] << 8;
        if (n > 2)
            v |= data[i + 2];
        line[used++] = alphabet[(v >> 18) & 63];
        line[used++] = alphabet[(v >> 12) & 63];
        line[used++] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
        line[used++] = n > 2 ? alphabet[v & 63] : '=';
        if (used == 76) {
            line[used++] = '\n';
            textbuf_append(out, line, used);
            used = 0;
        }
    }
    if (used > 0) {
        line[used++] = '\n';
        textbuf_append(out, line, used);
    }
}

/* RFC 5322 date-time in UTC, with English names whatever the locale. */
static void format_date(time_t t, char *out, size_t size)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
        "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
        months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* FNV-1a of the report's identity: a boundary that differs between reports. */
static uint64_t boundary_hash(const struct dmarc_report_mail *m)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[] = { m->report_id, m->filename, m->to };
    for (size_t p = 0; p < 3; p++)
        for (const unsigned char *c = (const unsigned char *)parts[p]; *c != 0; c++)
            h = (h ^ *c) * 1099511628211ull;
    return h;
}

static bool filename_ok(const char *name)
{
    if (name == NULL || name[0] == 0 || strlen(name) > 600)
        return false;
    for (const char *c = name; *c != 0; c++)
        if (!is_alnum(*c) && strchr("!.-", *c) == NULL)
            return false;
    return true;
}

bool dmarc_report_message(const struct dmarc_report_mail *m, struct textbuf *out, char *why,
    size_t why_size)
{
    char subject[1024], date[64], org[128];
    if (!dmarc_report_address_ok(m->from) || !dmarc_report_address_ok(m->to)) {
        snprintf(why, why_size, "the sender or the destination is not a plain address");
        return false;
    }
    if (!dmarc_report_subject(m->policy_domain, m->submitter, m->report_id, subject,
            sizeof subject) || !filename_ok(m->filename)) {
        snprintf(why, why_size, "the policy domain, submitter, Report-ID or file name is invalid");
        return false;
    }
    format_date(m->date, date, sizeof date);
    /* the organisation's name only goes into the text part, cleaned */
    size_t o = 0;
    for (const char *c = m->org_name != NULL ? m->org_name : ""; *c != 0 && o + 1 < sizeof org; c++)
        org[o++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
    org[o] = 0;
    char boundary[64];
    snprintf(boundary, sizeof boundary, "=_mailwarden_%016" PRIx64, boundary_hash(m));

    textbuf_printf(out, "From: %s\n", m->from);
    textbuf_printf(out, "To: %s\n", m->to);
    if (strlen(subject) <= 70) {
        textbuf_printf(out, "Subject: %s\n", subject);
    } else {
        /* folded before Submitter: and Report-ID:, as RFC 9990's example */
        textbuf_printf(out, "Subject: Report Domain: %s\n Submitter: %s\n Report-ID: <%s>\n",
            m->policy_domain, m->submitter, m->report_id);
    }
    textbuf_printf(out, "Date: %s\n", date);
    textbuf_printf(out, "Message-ID: <%s>\n", m->report_id);
    textbuf_puts(out, "MIME-Version: 1.0\n");
    textbuf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n", boundary);
    textbuf_puts(out, "\n");
    textbuf_puts(out, "This is a DMARC aggregate report in MIME format.\n\n");
    textbuf_printf(out, "--%s\n", boundary);
    textbuf_puts(out, "Content-Type: text/plain; charset=us-ascii\n");
    textbuf_puts(out, "Content-Transfer-Encoding: 7bit\n\n");
    textbuf_printf(out, "This is a DMARC aggregate report (RFC 9990) from %s (%s)\n"
        "for the domain %s, covering %" PRId64 " to %" PRId64 " (seconds since 1970, UTC).\n"
        "Report-ID: <%s>\n\n", org, m->submitter, m->policy_domain, m->begin, m->end,
        m->report_id);
    textbuf_printf(out, "--%s\n", boundary);
    textbuf_printf(out, "Content-Type: application/gzip; name=\"%s\"\n", m->filename);
    textbuf_puts(out, "Content-Transfer-Encoding: base64\n");
    textbuf_printf(out, "Content-Disposition: attachment; filename=\"%s\"\n\n", m->filename);
    base64_lines(m->attachment, m->attachment_len, out);
    textbuf_printf(out, "--%s--\n", boundary);
    return true;
}
