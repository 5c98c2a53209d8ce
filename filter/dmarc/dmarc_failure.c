/* dmarc_failure.c - DMARC failure reports (RFC 9991): the fo decision, the keyed redaction
 * of local parts, the pending report's text in the store and the ARF message (see
 * dmarc_failure.h for what each promises). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc_failure.h"
#include "dmarc_report.h"
#include "dmarc_report_mail.h"

#define FORMAT_TAG "mwfail1"

bool dmarc_failure_wanted(unsigned fo, bool spf_aligned, bool dkim_aligned, bool spf_failed,
    bool dkim_failed)
{
    if (fo == 0)
        fo = DMARC_FO_0;
    if ((fo & DMARC_FO_0) && !spf_aligned && !dkim_aligned)
        return true;
    if ((fo & DMARC_FO_1) && (!spf_aligned || !dkim_aligned))
        return true;
    if ((fo & DMARC_FO_D) && dkim_failed)
        return true;
    if ((fo & DMARC_FO_S) && spf_failed)
        return true;
    return false;
}

/* name is org or ends with "." org */
static bool under(const char *name, const char *org)
{
    size_t n = strlen(name), o = strlen(org);
    if (o == 0 || n < o)
        return false;
    if (strcasecmp(name + n - o, org) != 0)
        return false;
    return n == o || name[n - o - 1] == '.';
}

bool dmarc_failure_domain_aligned(const char *domain, const char *author, const char *org,
    bool strict)
{
    if (domain == NULL || author == NULL || domain[0] == 0 || author[0] == 0)
        return false;
    if (strcasecmp(domain, author) == 0)
        return true;
    if (strict || org == NULL || org[0] == 0)
        return false;
    return under(domain, org) && under(author, org);
}

static bool is_atext(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL) || (unsigned char)c >= 0x80;
}

static bool is_domain_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        c == '[' || (unsigned char)c >= 0x80;
}

/* Where the local part ending just before text[at] ('@') begins; at itself when none. */
static size_t local_part_start(const char *text, size_t at)
{
    size_t i = at;
    if (i > 0 && text[i - 1] == '"') {
        /* a quoted string: back to the opening quote not escaped by a backslash */
        size_t j = i - 1;
        while (j > 0) {
            j--;
            if (text[j] == '"' && (j == 0 || text[j - 1] != '\\'))
                return j;
        }
        return at;     /* no opening quote: treat as an atom below */
    }
    while (i > 0 && is_atext(text[i - 1]))
        i--;
    /* in tag=value text (DKIM's i=, smtp.mailfrom=) the tag is not the local part: it starts
     * after the last '=' (SRS and BATV local parts keep their prefix, the person is redacted) */
    for (size_t j = at; j > i; j--)
        if (text[j - 1] == '=')
            return j;
    return i;
}

/* Where the domain starting at text[i] ends: a run of letters, digits, '-', '.', '_' and
 * non-ASCII bytes without the dots and hyphens it ends with, or an address literal up to its
 * ']'. */
static size_t domain_end(const char *text, size_t i, size_t n)
{
    if (text[i] == '[') {
        const char *close = memchr(text + i, ']', n - i);
        return close != NULL ? (size_t)(close - text) + 1 : i;
    }
    size_t start = i;
    while (i < n && (is_domain_start(text[i]) || text[i] == '-' || text[i] == '.' ||
            text[i] == '_'))
        i++;
    while (i > start && (text[i - 1] == '.' || text[i - 1] == '-'))
        i--;                          /* "write to bob@example.org." ends a sentence */
    return i;
}

bool dmarc_failure_redact(const char *text, const struct dmarc_redact_key *key, char *out,
    size_t size)
{
    size_t n = strlen(text), o = 0;
    bool whole = true;
    if (size == 0)
        return false;
    /* work on a copy whose local parts are known: mark the spans first */
    char *copy = xstrdup(text);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)copy[i] < 0x20 || copy[i] == 0x7f)
            copy[i] = ' ';
    size_t i = 0;
    while (i < n) {
        /* find the next '@' that follows a local part and precedes a domain */
        const char *at = strchr(copy + i, '@');
        size_t stop = at != NULL ? (size_t)(at - copy) : n;
        size_t start = stop;
        if (at != NULL && is_domain_start(at[1]))
            start = local_part_start(copy, stop);
        if (start < i)
            start = i;      /* never reach back over what is already written */
        size_t keep = start - i;
        if (o + keep >= size) {
            keep = size - 1 - o;
            whole = false;
        }
        memcpy(out + o, copy + i, keep);
        o += keep;
        if (!whole)
            break;
        if (at == NULL)
            break;
        if (start < stop) {
            char token[DMARC_REDACT_TOKEN_SIZE];
            size_t end = domain_end(copy, stop + 1, n);
            dmarc_redact_token(key, copy + start, stop - start, copy + stop + 1,
                end - stop - 1, token);
            size_t r = strlen(token);
            if (o + r >= size) {
                whole = false;
                break;
            }
            memcpy(out + o, token, r);
            o += r;
        }
        if (o + 1 >= size) {
            whole = false;
            break;
        }
        out[o++] = '@';
        i = stop + 1;
    }
    out[o] = 0;
    free(copy);
    return whole;
}

const char *dmarc_failure_delivery_name(enum dmarc_failure_delivery d)
{
    switch (d) {
    case DMARC_DELIVERY_DELIVERED: return "delivered";
    case DMARC_DELIVERY_SPAM: return "spam";
    case DMARC_DELIVERY_POLICY: return "policy";
    case DMARC_DELIVERY_REJECT: return "reject";
    default: return "other";
    }
}

static bool names_a_message(const char *name)
{
    return strcasecmp(name, "Message-ID") == 0 || strcasecmp(name, "In-Reply-To") == 0 ||
        strcasecmp(name, "References") == 0;
}

static bool name_ok(const char *name)
{
    if (name == NULL || name[0] == 0 || strlen(name) > 76)
        return false;
    for (const char *c = name; *c != 0; c++)
        if (*c <= 0x20 || *c >= 0x7f || *c == ':')
            return false;
    return true;
}

void dmarc_failure_add_header(struct dmarc_failure *f, const char *name, const char *value,
    const struct dmarc_redact_key *redact)
{
    char line[DMARC_FAILURE_FIELD_MAX + 2];
    char clean[DMARC_FAILURE_FIELD_MAX + 1];
    if (!name_ok(name) || value == NULL)
        return;
    size_t room = sizeof clean - strlen(name) - 2;
    if (redact != NULL && !names_a_message(name))
        dmarc_failure_redact(value, redact, clean, room);
    else
        dmarc_report_clean_copy(clean, room, value);
    /* one line: folding and any control character become a space */
    for (char *c = clean; *c != 0; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    const char *v = clean;
    while (*v == ' ')
        v++;
    int len = snprintf(line, sizeof line, "%s: %s\n", name, v);
    if (len < 0 || (size_t)len >= sizeof line)
        return;
    if (f->headers_len + (size_t)len >= sizeof f->headers) {
        f->headers_cut = true;
        return;
    }
    memcpy(f->headers + f->headers_len, line, (size_t)len + 1);
    f->headers_len += (size_t)len;
}

void dmarc_failure_add_rcpt(struct dmarc_failure *f, const char *address,
    const struct dmarc_redact_key *redact)
{
    char kept[DMARC_FAILURE_ADDRESS_MAX];
    bool whole = address != NULL && address[0] != 0 && f->rcpt_count < DMARC_FAILURE_MAX_RCPT;
    if (whole && redact != NULL)
        whole = dmarc_failure_redact(address, redact, kept, sizeof kept);
    else if (whole)
        whole = dmarc_report_clean_copy(kept, sizeof kept, address);
    if (!whole) {
        f->rcpt_left_out++;           /* a cut address would name someone else */
        return;
    }
    memcpy(f->rcpt[f->rcpt_count++], kept, sizeof kept);
}

/* One body line (len bytes, no LF) made safe into out (room bytes at least
 * DMARC_FAILURE_LINE_MAX + 1): CR dropped, control characters but tab made spaces, local
 * parts redacted under redact. Returns its length; *cut when it was longer. */
static size_t body_line(const char *line, size_t len, const struct dmarc_redact_key *redact,
    char *out, bool *cut)
{
    char raw[DMARC_FAILURE_LINE_MAX + 1];
    size_t r = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\r')
            continue;
        if (r == DMARC_FAILURE_LINE_MAX) {
            *cut = true;
            break;
        }
        raw[r++] = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c;
    }
    raw[r] = 0;
    if (redact == NULL) {
        memcpy(out, raw, r + 1);
        return r;
    }
    if (!dmarc_failure_redact(raw, redact, out, DMARC_FAILURE_LINE_MAX + 1))
        *cut = true;
    return strlen(out);
}

void dmarc_failure_set_message(struct dmarc_failure *f, const char *body, size_t body_len,
    bool body_truncated, size_t max, const struct dmarc_redact_key *redact)
{
    dmarc_failure_free_message(f);
    if (max < DMARC_FAILURE_MESSAGE_MIN)
        max = DMARC_FAILURE_MESSAGE_MIN;
    if (max > DMARC_FAILURE_MESSAGE_MAX)
        max = DMARC_FAILURE_MESSAGE_MAX;
    char *m = xmalloc(max + 1);
    size_t o = 0;
    bool cut = f->headers_cut || body_truncated;
    /* the header copy, whole fields while they fit, then the empty line */
    size_t take = 0;
    while (take < f->headers_len) {
        const char *nl = memchr(f->headers + take, '\n', f->headers_len - take);
        size_t line = nl != NULL ? (size_t)(nl - (f->headers + take)) + 1 : f->headers_len - take;
        if (take + line + 1 > max) {
            cut = true;
            break;
        }
        take += line;
    }
    memcpy(m, f->headers, take);
    o = take;
    m[o++] = '\n';
    f->headers[0] = 0;
    f->headers_len = 0;
    char line[DMARC_FAILURE_LINE_MAX + 1];
    size_t i = 0;
    while (i < body_len) {
        const char *nl = memchr(body + i, '\n', body_len - i);
        size_t len = nl != NULL ? (size_t)(nl - (body + i)) : body_len - i;
        size_t n = body_line(body + i, len, redact, line, &cut);
        if (o + n + 1 > max) {
            cut = true;
            break;
        }
        memcpy(m + o, line, n);
        o += n;
        m[o++] = '\n';
        i += len + 1;
    }
    m[o] = 0;
    f->message = m;
    f->message_len = o;
    f->message_cut = cut;
}

void dmarc_failure_free_message(struct dmarc_failure *f)
{
    free(f->message);
    f->message = NULL;
    f->message_len = 0;
}

/* One "key value\n" line with the value cleaned; false when it does not fit. */
static bool put(char *out, size_t size, size_t *o, const char *key, const char *value)
{
    char clean[DMARC_FAILURE_SPF_RECORD_MAX + 1];
    dmarc_report_clean_copy(clean, sizeof clean, value);
    int n = snprintf(out + *o, size - *o, "%s %s\n", key, clean);
    if (n < 0 || (size_t)n >= size - *o)
        return false;
    *o += (size_t)n;
    return true;
}

bool dmarc_failure_encode(const struct dmarc_failure *f, char *out, size_t size, size_t *len)
{
    size_t o = 0;
    char num[32];
    bool ok = size > 0;
    *len = 0;
    if (ok)
        out[0] = 0;
    ok = ok && put(out, size, &o, "v", FORMAT_TAG);
    ok = ok && put(out, size, &o, "domain", f->domain);
    ok = ok && put(out, size, &o, "policy", f->policy_domain);
    ok = ok && put(out, size, &o, "ip", f->source_ip);
    ok = ok && put(out, size, &o, "from", f->mail_from);
    snprintf(num, sizeof num, "%" PRId64, f->arrival);
    ok = ok && put(out, size, &o, "arrival", num);
    ok = ok && put(out, size, &o, "auth", f->auth_results);
    snprintf(num, sizeof num, "%d%d%d%d", f->spf_aligned ? 1 : 0, f->dkim_aligned ? 1 : 0,
        f->spf_failed_aligned ? 1 : 0, f->dkim_failed_aligned ? 1 : 0);
    ok = ok && put(out, size, &o, "align", num);
    ok = ok && put(out, size, &o, "delivery", dmarc_failure_delivery_name(f->delivery));
    ok = ok && put(out, size, &o, "dkim_d", f->dkim_domain);
    ok = ok && put(out, size, &o, "dkim_s", f->dkim_selector);
    for (size_t i = 0; ok && i < f->ruf_count && i < DMARC_FAILURE_MAX_RUF; i++)
        ok = put(out, size, &o, "ruf", f->ruf[i]);
    ok = ok && put(out, size, &o, "redacted", f->redacted ? "1" : "0");
    ok = ok && put(out, size, &o, "envid", f->envelope_id);
    ok = ok && put(out, size, &o, "dkim_i", f->dkim_identity);
    snprintf(num, sizeof num, "%zu", f->message_parts);
    ok = ok && put(out, size, &o, "msg_parts", num);
    snprintf(num, sizeof num, "%zu", f->message_len);
    ok = ok && put(out, size, &o, "msg_len", num);
    ok = ok && put(out, size, &o, "msg_cut", f->message_cut ? "1" : "0");
    /* what may be left out when it does not fit, room kept for the last two lines */
    const char *cut_line = "cut 1\n\n";
    char more[48];
    size_t reserve = strlen(cut_line) + sizeof more;
    size_t limit = ok && size > reserve ? size - reserve : 0;
    ok = ok && o < limit;
    if (ok && f->spf_domain[0] != 0 && f->spf_record[0] != 0) {
        size_t mark = o;
        if (!put(out, limit, &o, "spf_d", f->spf_domain) ||
                !put(out, limit, &o, "spf_r", f->spf_record))
            o = mark;                 /* SPF-DNS left out whole */
    }
    size_t left_out = f->rcpt_left_out;
    for (size_t i = 0; ok && i < f->rcpt_count && i < DMARC_FAILURE_MAX_RCPT; i++)
        if (!put(out, limit, &o, "rcpt", f->rcpt[i]))
            left_out++;
    snprintf(more, sizeof more, "%zu", left_out);
    ok = ok && put(out, size, &o, "rcpt_more", more);
    ok = ok && o + strlen(cut_line) < size;
    if (!ok) {
        if (size > 0)
            out[0] = 0;
        return false;
    }
    size_t room = size - o - strlen(cut_line) - 1;
    size_t take = 0;
    bool cut = f->headers_cut;
    while (take < f->headers_len) {
        const char *nl = memchr(f->headers + take, '\n', f->headers_len - take);
        size_t line = nl != NULL ? (size_t)(nl - (f->headers + take)) + 1 : f->headers_len - take;
        if (take + line > room) {
            cut = true;
            break;
        }
        take += line;
    }
    o += (size_t)snprintf(out + o, size - o, "cut %d\n\n", cut ? 1 : 0);
    memcpy(out + o, f->headers, take);
    o += take;
    out[o] = 0;
    *len = o;
    return true;
}

static void copy_field(char *dst, size_t size, const char *value, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, value, len);
    dst[len] = 0;
}

bool dmarc_failure_decode(const char *text, size_t len, struct dmarc_failure *f)
{
    memset(f, 0, sizeof *f);
    size_t i = 0;
    bool tagged = false, ended = false;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        if (nl == NULL)
            return false;
        size_t line = (size_t)(nl - (text + i));
        if (line == 0) {
            i++;
            ended = true;
            break;
        }
        const char *sp = memchr(text + i, ' ', line);
        if (sp == NULL)
            return false;
        size_t klen = (size_t)(sp - (text + i));
        const char *v = sp + 1;
        size_t vlen = line - klen - 1;
        char key[16];
        copy_field(key, sizeof key, text + i, klen);
        char num[32];
        if (strcmp(key, "v") == 0)
            tagged = vlen == strlen(FORMAT_TAG) && memcmp(v, FORMAT_TAG, vlen) == 0;
        else if (strcmp(key, "domain") == 0)
            copy_field(f->domain, sizeof f->domain, v, vlen);
        else if (strcmp(key, "policy") == 0)
            copy_field(f->policy_domain, sizeof f->policy_domain, v, vlen);
        else if (strcmp(key, "ip") == 0)
            copy_field(f->source_ip, sizeof f->source_ip, v, vlen);
        else if (strcmp(key, "from") == 0)
            copy_field(f->mail_from, sizeof f->mail_from, v, vlen);
        else if (strcmp(key, "arrival") == 0) {
            copy_field(num, sizeof num, v, vlen);
            f->arrival = strtoll(num, NULL, 10);
        } else if (strcmp(key, "auth") == 0)
            copy_field(f->auth_results, sizeof f->auth_results, v, vlen);
        else if (strcmp(key, "align") == 0) {
            f->spf_aligned = vlen >= 1 && v[0] == '1';
            f->dkim_aligned = vlen >= 2 && v[1] == '1';
            f->spf_failed_aligned = vlen >= 3 && v[2] == '1';
            f->dkim_failed_aligned = vlen >= 4 && v[3] == '1';
        } else if (strcmp(key, "delivery") == 0) {
            copy_field(num, sizeof num, v, vlen);
            f->delivery = DMARC_DELIVERY_OTHER;
            for (int d = DMARC_DELIVERY_DELIVERED; d <= DMARC_DELIVERY_OTHER; d++)
                if (strcmp(num, dmarc_failure_delivery_name((enum dmarc_failure_delivery)d)) == 0)
                    f->delivery = (enum dmarc_failure_delivery)d;
        } else if (strcmp(key, "dkim_d") == 0)
            copy_field(f->dkim_domain, sizeof f->dkim_domain, v, vlen);
        else if (strcmp(key, "dkim_s") == 0)
            copy_field(f->dkim_selector, sizeof f->dkim_selector, v, vlen);
        else if (strcmp(key, "ruf") == 0 && f->ruf_count < DMARC_FAILURE_MAX_RUF)
            copy_field(f->ruf[f->ruf_count++], sizeof f->ruf[0], v, vlen);
        else if (strcmp(key, "redacted") == 0)
            f->redacted = vlen == 1 && v[0] == '1';
        else if (strcmp(key, "msg_parts") == 0 || strcmp(key, "msg_len") == 0) {
            copy_field(num, sizeof num, v, vlen);
            size_t value = (size_t)strtoull(num, NULL, 10);
            if (key[4] == 'p')
                f->message_parts = value;
            else
                f->message_len = value;
        } else if (strcmp(key, "msg_cut") == 0)
            f->message_cut = vlen == 1 && v[0] == '1';
        else if (strcmp(key, "envid") == 0)
            copy_field(f->envelope_id, sizeof f->envelope_id, v, vlen);
        else if (strcmp(key, "dkim_i") == 0)
            copy_field(f->dkim_identity, sizeof f->dkim_identity, v, vlen);
        else if (strcmp(key, "spf_d") == 0)
            copy_field(f->spf_domain, sizeof f->spf_domain, v, vlen);
        else if (strcmp(key, "spf_r") == 0)
            copy_field(f->spf_record, sizeof f->spf_record, v, vlen);
        else if (strcmp(key, "rcpt") == 0 && f->rcpt_count < DMARC_FAILURE_MAX_RCPT)
            copy_field(f->rcpt[f->rcpt_count++], sizeof f->rcpt[0], v, vlen);
        else if (strcmp(key, "rcpt_more") == 0) {
            copy_field(num, sizeof num, v, vlen);
            f->rcpt_left_out = (size_t)strtoull(num, NULL, 10);
        }
        else if (strcmp(key, "cut") == 0)
            f->headers_cut = vlen == 1 && v[0] == '1';
        i += line + 1;
    }
    if (!tagged || !ended || f->domain[0] == 0 || f->message_len > DMARC_FAILURE_MESSAGE_MAX ||
            f->message_parts > DMARC_FAILURE_MESSAGE_MAX / 1024 + 1)
        return false;
    size_t rest = len - i;
    if (rest >= sizeof f->headers)
        return false;
    memcpy(f->headers, text + i, rest);
    f->headers[rest] = 0;
    f->headers_len = rest;
    return true;
}

void dmarc_failure_subject(const struct dmarc_failure *f, char *out, size_t size)
{
    snprintf(out, size, "DMARC Failure Report for %s from %s", f->domain, f->source_ip);
}

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

static bool ip_ok(const char *ip)
{
    if (ip[0] == 0)
        return false;
    for (const char *c = ip; *c != 0; c++)
        if (strchr("0123456789abcdefABCDEF.:", *c) == NULL)
            return false;
    return true;
}

static bool message_id_ok(const char *id)
{
    if (id == NULL || id[0] == 0 || strlen(id) > 200 || strchr(id, '@') == NULL)
        return false;
    for (const char *c = id; *c != 0; c++)
        if (*c <= 0x20 || *c >= 0x7f || *c == '<' || *c == '>')
            return false;
    return true;
}

/* A field line "Name: value", folded before a space where the line would pass 78 characters
 * (a value without spaces stays on one line; the store's bounds keep it under 998). */
static void put_folded(struct textbuf *out, const char *name, const char *value)
{
    size_t column = strlen(name) + 1;
    textbuf_printf(out, "%s:", name);
    const char *word = value;
    while (*word != 0) {
        while (*word == ' ')
            word++;
        if (*word == 0)
            break;
        size_t len = strcspn(word, " ");
        if (column + 1 + len > 78 && column > strlen(name) + 1) {
            textbuf_puts(out, "\n ");
            column = 1;
        } else {
            textbuf_puts(out, " ");
            column++;
        }
        textbuf_append(out, word, len);
        column += len;
        word += len;
    }
    textbuf_puts(out, "\n");
}

static bool envelope_id_ok(const char *id)
{
    if (id[0] == 0)
        return false;
    for (const char *c = id; *c != 0; c++)
        if (*c <= 0x20 || *c >= 0x7f || *c == '+' || *c == '=')
            return false;
    return true;
}

bool dmarc_failure_message(const struct dmarc_failure *f, const struct dmarc_failure_mail *m,
    struct textbuf *out, char *why, size_t why_size)
{
    if (!dmarc_report_address_ok(m->from) || !dmarc_report_address_ok(m->to)) {
        snprintf(why, why_size, "the sender or the destination is not a plain address");
        return false;
    }
    if (!dmarc_report_domain_ok(f->domain) || !dmarc_report_domain_ok(m->submitter) ||
        !ip_ok(f->source_ip) || !message_id_ok(m->message_id)) {
        snprintf(why, why_size, "the reported domain, submitter, source IP or Message-ID is "
            "invalid");
        return false;
    }
    char subject[512], date[64], arrival[64], boundary[64], mail_from[sizeof f->mail_from];
    dmarc_failure_subject(f, subject, sizeof subject);
    format_date(m->date, date, sizeof date);
    format_date((time_t)f->arrival, arrival, sizeof arrival);
    dmarc_report_clean_copy(mail_from, sizeof mail_from, f->mail_from);
    /* a boundary that the copied text (the sender's) does not hold anywhere */
    uint64_t seed = (uint64_t)f->arrival ^ (uint64_t)m->date;
    do {
        snprintf(boundary, sizeof boundary, "=_mailwarden_arf_%016" PRIx64, seed);
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    } while ((f->message != NULL && strstr(f->message, boundary) != NULL) ||
        strstr(f->headers, boundary) != NULL);
    /* RFC 9991: the mechanisms that failed to authenticate an aligned identity */
    const char *alignment = f->spf_failed_aligned && f->dkim_failed_aligned ? "dkim, spf"
        : f->dkim_failed_aligned ? "dkim" : f->spf_failed_aligned ? "spf" : "none";

    textbuf_printf(out, "From: %s\n", m->from);
    textbuf_printf(out, "To: %s\n", m->to);
    textbuf_printf(out, "Subject: %s\n", subject);
    textbuf_printf(out, "Date: %s\n", date);
    textbuf_printf(out, "Message-ID: <%s>\n", m->message_id);
    textbuf_puts(out, "MIME-Version: 1.0\n");
    textbuf_printf(out, "Content-Type: multipart/report; report-type=feedback-report;\n"
        " boundary=\"%s\"\n\n", boundary);
    textbuf_puts(out, "This is a DMARC failure report in MIME format.\n\n");
    textbuf_printf(out, "--%s\n", boundary);
    textbuf_puts(out, "Content-Type: text/plain; charset=us-ascii\n");
    textbuf_puts(out, "Content-Transfer-Encoding: 7bit\n\n");
    textbuf_printf(out, "This is a DMARC failure report (RFC 9991) from %s for a message from\n"
        "%s claiming to be from %s, received %s.\n", m->submitter, f->source_ip, f->domain,
        arrival);
    if (f->redacted)
        textbuf_puts(out, "Local parts of addresses are redacted (RFC 6590): each is replaced\n"
            "by a keyed hash, the same for the same address in every report from this host.\n");
    if (f->message != NULL && f->message_cut)
        textbuf_printf(out, "The copy of the message was cut to a size bound (%zu bytes kept):\n"
            "some fields, lines or its end are left out.\n", f->message_len);
    else if (f->headers_cut)
        textbuf_puts(out, "The header copy was cut to a size bound: some fields are left out.\n");
    if (f->message_lost)
        textbuf_puts(out, "The copy of the message was lost from the store: it is left out.\n");
    if (f->rcpt_left_out > 0)
        textbuf_printf(out, "%zu more envelope recipient(s) are left out of this report.\n",
            f->rcpt_left_out);
    textbuf_puts(out, "\n");
    textbuf_printf(out, "--%s\n", boundary);
    textbuf_puts(out, "Content-Type: message/feedback-report\n\n");
    textbuf_puts(out, "Feedback-Type: auth-failure\n");
    textbuf_puts(out, "Version: 1\n");
    textbuf_puts(out, "User-Agent: mailwarden\n");
    textbuf_puts(out, "Auth-Failure: dmarc\n");
    textbuf_printf(out, "Original-Mail-From: <%s>\n", mail_from);
    for (size_t i = 0; i < f->rcpt_count && i < DMARC_FAILURE_MAX_RCPT; i++) {
        char rcpt[sizeof f->rcpt[0]];
        dmarc_report_clean_copy(rcpt, sizeof rcpt, f->rcpt[i]);
        textbuf_printf(out, "Original-Rcpt-To: <%s>\n", rcpt);
    }
    if (envelope_id_ok(f->envelope_id))
        textbuf_printf(out, "Original-Envelope-Id: %s\n", f->envelope_id);
    textbuf_printf(out, "Arrival-Date: %s\n", arrival);
    textbuf_printf(out, "Reporting-MTA: dns; %s\n", m->submitter);
    textbuf_printf(out, "Source-IP: %s\n", f->source_ip);
    textbuf_printf(out, "Reported-Domain: %s\n", f->domain);
    if (f->auth_results[0] != 0) {
        char ar[DMARC_FAILURE_AUTH_MAX + 1];
        dmarc_report_clean_copy(ar, sizeof ar, f->auth_results);
        textbuf_printf(out, "Authentication-Results: %s\n", ar);
    }
    textbuf_printf(out, "Identity-Alignment: %s\n", alignment);
    textbuf_printf(out, "Delivery-Result: %s\n", dmarc_failure_delivery_name(f->delivery));
    if (f->dkim_domain[0] != 0 && dmarc_report_domain_ok(f->dkim_domain)) {
        char sel[sizeof f->dkim_selector];
        dmarc_report_clean_copy(sel, sizeof sel, f->dkim_selector);
        textbuf_printf(out, "DKIM-Domain: %s\n", f->dkim_domain);
        if (f->dkim_identity[0] != 0) {
            char identity[sizeof f->dkim_identity];
            dmarc_report_clean_copy(identity, sizeof identity, f->dkim_identity);
            textbuf_printf(out, "DKIM-Identity: %s\n", identity);
        }
        if (sel[0] != 0)
            textbuf_printf(out, "DKIM-Selector: %s\n", sel);
    }
    if (f->spf_record[0] != 0 && dmarc_report_domain_ok(f->spf_domain)) {
        char record[sizeof f->spf_record], value[sizeof f->spf_record + 300];
        dmarc_report_clean_copy(record, sizeof record, f->spf_record);
        snprintf(value, sizeof value, "txt : %s : %s", f->spf_domain, record);
        put_folded(out, "SPF-DNS", value);
    }
    textbuf_puts(out, "\n");
    if (f->message != NULL) {
        bool eight_bit = false;
        for (size_t i = 0; i < f->message_len && !eight_bit; i++)
            eight_bit = (unsigned char)f->message[i] >= 0x80;
        textbuf_printf(out, "--%s\n", boundary);
        textbuf_puts(out, "Content-Type: message/rfc822\n");
        textbuf_printf(out, "Content-Transfer-Encoding: %s\n\n", eight_bit ? "8bit" : "7bit");
        textbuf_append(out, f->message, f->message_len);
        textbuf_puts(out, "\n");
    } else if (f->headers_len > 0) {
        textbuf_printf(out, "--%s\n", boundary);
        textbuf_puts(out, "Content-Type: text/rfc822-headers\n\n");
        textbuf_append(out, f->headers, f->headers_len);
        textbuf_puts(out, "\n");
    }
    textbuf_printf(out, "--%s--\n", boundary);
    return true;
}
