/* dmarc_report_row.c - report rows and published policies as text for the store, the names
 * of the report's enumerations, and the cleaning of sender-controlled strings. Promises: see
 * dmarc_report_row.h and dmarc_report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_report_row.h"

static const char *const disposition_names[] = { "none", "pass", "quarantine", "reject" };
static const char *const override_names[] = { "", "local_policy", "mailing_list", "other",
    "policy_test_mode", "trusted_forwarder" };
static const char *const auth_names[] = { "none", "pass", "fail", "softfail", "policy",
    "neutral", "temperror", "permerror" };

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

const char *dmarc_report_disposition_name(enum dmarc_report_disposition d)
{
    return (size_t)d < COUNT(disposition_names) ? disposition_names[d] : "none";
}

const char *dmarc_report_override_name(enum dmarc_report_override o)
{
    return (size_t)o < COUNT(override_names) ? override_names[o] : "other";
}

const char *dmarc_report_auth_name(enum dmarc_report_auth a)
{
    return (size_t)a < COUNT(auth_names) ? auth_names[a] : "permerror";
}

/* The length of the valid UTF-8 sequence at s (1..4), 0 when it is not one. */
static size_t utf8_length(const unsigned char *s, size_t avail)
{
    size_t n;
    unsigned min;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n > avail)
        return 0;
    unsigned cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (cp == 0xfffe || cp == 0xffff)
        return 0;                  /* not XML characters */
    return n;
}

bool dmarc_report_clean_copy(char *dst, size_t size, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
    size_t avail = strlen((const char *)s), o = 0;
    bool clean = true;
    if (size == 0)
        return false;
    while (*s != 0) {
        size_t n = utf8_length(s, avail);
        bool printable = n > 1 || (n == 1 && s[0] >= 0x20 && s[0] < 0x7f);
        size_t take = printable ? n : 1;
        size_t out_len = printable ? n : 1;
        if (o + out_len >= size) {
            clean = false;
            break;
        }
        if (printable) {
            memcpy(dst + o, s, n);
        } else {
            dst[o] = '?';
            clean = false;
        }
        o += out_len;
        s += take;
        avail -= take;
    }
    dst[o] = 0;
    return clean;
}

/* ---- encoding ---- */

static void put(struct textbuf *out, const char *name, const char *value)
{
    char clean[DMARC_REPORT_URI_MAX + 1];
    dmarc_report_clean_copy(clean, sizeof clean, value);
    textbuf_printf(out, "%s=%s\n", name, clean);
}

void dmarc_report_row_encode(const struct dmarc_report_row *row, struct textbuf *out)
{
    put(out, "ip", row->source_ip);
    put(out, "disposition", dmarc_report_disposition_name(row->disposition));
    put(out, "dkim_aligned", row->dkim_aligned ? "pass" : "fail");
    put(out, "spf_aligned", row->spf_aligned ? "pass" : "fail");
    if (row->reason != DMARC_REASON_NONE) {
        put(out, "reason", dmarc_report_override_name(row->reason));
        put(out, "comment", row->reason_comment);
    }
    put(out, "header_from", row->header_from);
    if (row->has_envelope_from)
        put(out, "envelope_from", row->envelope_from);
    if (row->envelope_to[0] != 0)
        put(out, "envelope_to", row->envelope_to);
    for (size_t i = 0; i < row->dkim_count && i < DMARC_REPORT_MAX_DKIM; i++) {
        char dom[DMARC_REPORT_DOMAIN_MAX + 1], sel[DMARC_REPORT_SELECTOR_MAX + 1];
        dmarc_report_clean_copy(dom, sizeof dom, row->dkim[i].domain);
        dmarc_report_clean_copy(sel, sizeof sel, row->dkim[i].selector);
        textbuf_printf(out, "dkim=%s\t%s\t%s\n", dmarc_report_auth_name(row->dkim[i].result),
            dom, sel);
    }
    if (row->has_spf) {
        char dom[DMARC_REPORT_DOMAIN_MAX + 1];
        dmarc_report_clean_copy(dom, sizeof dom, row->spf_domain);
        textbuf_printf(out, "spf=%s\t%s\n", dmarc_report_auth_name(row->spf_result), dom);
    }
}

static const char *const policy_names[] = { "unset", "none", "quarantine", "reject" };

void dmarc_report_policy_encode(const struct dmarc_report_policy *pol, struct textbuf *out)
{
    put(out, "domain", pol->domain);
    put(out, "p", policy_names[pol->p <= DMARC_POLICY_REJECT ? pol->p : 0]);
    put(out, "sp", policy_names[pol->sp <= DMARC_POLICY_REJECT ? pol->sp : 0]);
    put(out, "np", policy_names[pol->np <= DMARC_POLICY_REJECT ? pol->np : 0]);
    put(out, "adkim", pol->adkim_strict ? "s" : "r");
    put(out, "aspf", pol->aspf_strict ? "s" : "r");
    put(out, "t", pol->testing ? "y" : "n");
    textbuf_printf(out, "fo=%u\n", pol->fo & 15u);
    for (size_t i = 0; i < pol->rua_count && i < DMARC_MAX_URIS; i++)
        put(out, "rua", pol->rua[i]);
}

/* ---- decoding ---- */

struct line {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* The next "name=value\n" line of [*p, end); false at the end. A line without '=' or
 * without its newline is returned with name_len 0 (an error for the caller). */
static bool next_line(const char **p, const char *end, struct line *l)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl != NULL ? nl : end;
    const char *eq = memchr(*p, '=', (size_t)(stop - *p));
    memset(l, 0, sizeof *l);
    if (eq != NULL && nl != NULL) {
        l->name = *p;
        l->name_len = (size_t)(eq - *p);
        l->value = eq + 1;
        l->value_len = (size_t)(stop - eq - 1);
    }
    *p = nl != NULL ? nl + 1 : end;
    return true;
}

static bool is(const struct line *l, const char *name)
{
    return l->name_len == strlen(name) && memcmp(l->name, name, l->name_len) == 0;
}

/* Copies [v, v+len) into dst[size] when it fits, is clean and holds no tab. */
static bool take(char *dst, size_t size, const char *v, size_t len)
{
    if (len >= size)
        return false;
    for (size_t i = 0; i < len; i++)
        if (v[i] == 0 || v[i] == '\t' || (unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    memcpy(dst, v, len);
    dst[len] = 0;
    return true;
}

static int name_index(const char *const *names, size_t count, const char *v, size_t len)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(names[i]) == len && memcmp(names[i], v, len) == 0)
            return (int)i;
    return -1;
}

static bool fail(char *why, size_t why_size, const struct line *l, const char *what)
{
    if (l != NULL && l->name_len > 0)
        snprintf(why, why_size, "%s in field '%.*s'", what, (int)(l->name_len > 20 ? 20 : l->name_len),
            l->name);
    else
        snprintf(why, why_size, "%s", what);
    return false;
}

/* "result\tdomain[\tselector]" */
static bool split_auth(const struct line *l, bool with_selector, enum dmarc_report_auth *result,
    char *domain, char *selector)
{
    const char *v = l->value, *end = l->value + l->value_len;
    const char *t1 = memchr(v, '\t', (size_t)(end - v));
    if (t1 == NULL)
        return false;
    int r = name_index(auth_names, COUNT(auth_names), v, (size_t)(t1 - v));
    if (r < 0)
        return false;
    *result = (enum dmarc_report_auth)r;
    const char *d = t1 + 1;
    const char *t2 = memchr(d, '\t', (size_t)(end - d));
    if (with_selector != (t2 != NULL))
        return false;
    if (!with_selector)
        return take(domain, DMARC_REPORT_DOMAIN_MAX + 1, d, (size_t)(end - d));
    return take(domain, DMARC_REPORT_DOMAIN_MAX + 1, d, (size_t)(t2 - d)) &&
        take(selector, DMARC_REPORT_SELECTOR_MAX + 1, t2 + 1, (size_t)(end - t2 - 1));
}

bool dmarc_report_row_decode(const char *text, size_t len, struct dmarc_report_row *out,
    char *why, size_t why_size)
{
    const char *p = text, *end = text + len;
    struct line l;
    bool have_ip = false, have_from = false;
    memset(out, 0, sizeof *out);
    while (next_line(&p, end, &l)) {
        bool ok;
        int k;
        if (l.name_len == 0)
            return fail(why, why_size, NULL, "a line is not name=value");
        if (is(&l, "ip")) {
            ok = take(out->source_ip, sizeof out->source_ip, l.value, l.value_len);
            have_ip = ok;
        } else if (is(&l, "disposition")) {
            k = name_index(disposition_names, COUNT(disposition_names), l.value, l.value_len);
            ok = k >= 0;
            out->disposition = ok ? (enum dmarc_report_disposition)k : DMARC_DISPOSITION_NONE;
        } else if (is(&l, "dkim_aligned") || is(&l, "spf_aligned")) {
            bool pass = l.value_len == 4 && memcmp(l.value, "pass", 4) == 0;
            ok = pass || (l.value_len == 4 && memcmp(l.value, "fail", 4) == 0);
            if (is(&l, "dkim_aligned"))
                out->dkim_aligned = pass;
            else
                out->spf_aligned = pass;
        } else if (is(&l, "reason")) {
            k = name_index(override_names, COUNT(override_names), l.value, l.value_len);
            ok = k > 0;
            out->reason = ok ? (enum dmarc_report_override)k : DMARC_REASON_NONE;
        } else if (is(&l, "comment")) {
            ok = take(out->reason_comment, sizeof out->reason_comment, l.value, l.value_len);
        } else if (is(&l, "header_from")) {
            ok = take(out->header_from, sizeof out->header_from, l.value, l.value_len);
            have_from = ok && l.value_len > 0;
        } else if (is(&l, "envelope_from")) {
            ok = take(out->envelope_from, sizeof out->envelope_from, l.value, l.value_len);
            out->has_envelope_from = true;
        } else if (is(&l, "envelope_to")) {
            ok = take(out->envelope_to, sizeof out->envelope_to, l.value, l.value_len);
        } else if (is(&l, "dkim")) {
            ok = out->dkim_count < DMARC_REPORT_MAX_DKIM;
            if (ok) {
                struct dmarc_report_dkim *d = &out->dkim[out->dkim_count++];
                ok = split_auth(&l, true, &d->result, d->domain, d->selector) &&
                    d->result != DMARC_AUTH_SOFTFAIL;
            }
        } else if (is(&l, "spf")) {
            ok = !out->has_spf && split_auth(&l, false, &out->spf_result, out->spf_domain, NULL);
            out->has_spf = true;
        } else {
            return fail(why, why_size, &l, "unknown field");
        }
        if (!ok)
            return fail(why, why_size, &l, "bad value");
    }
    if (!have_ip || !have_from)
        return fail(why, why_size, NULL, "the row has no ip or no header_from");
    return true;
}

static bool policy_value(const struct line *l, enum dmarc_policy *out, bool allow_unset)
{
    int k = name_index(policy_names, COUNT(policy_names), l->value, l->value_len);
    if (k < 0 || (k == 0 && !allow_unset))
        return false;
    *out = (enum dmarc_policy)k;
    return true;
}

static bool flag_value(const struct line *l, const char *yes, const char *no, bool *out)
{
    if (l->value_len == 1 && l->value[0] == yes[0])
        *out = true;
    else if (l->value_len == 1 && l->value[0] == no[0])
        *out = false;
    else
        return false;
    return true;
}

bool dmarc_report_policy_decode(const char *text, size_t len, struct dmarc_report_policy *out,
    char *why, size_t why_size)
{
    const char *p = text, *end = text + len;
    struct line l;
    bool have_domain = false, have_p = false;
    memset(out, 0, sizeof *out);
    while (next_line(&p, end, &l)) {
        bool ok;
        if (l.name_len == 0)
            return fail(why, why_size, NULL, "a line is not name=value");
        if (is(&l, "domain")) {
            ok = take(out->domain, sizeof out->domain, l.value, l.value_len) && l.value_len > 0;
            have_domain = ok;
        } else if (is(&l, "p")) {
            ok = policy_value(&l, &out->p, false);
            have_p = ok;
        } else if (is(&l, "sp")) {
            ok = policy_value(&l, &out->sp, true);
        } else if (is(&l, "np")) {
            ok = policy_value(&l, &out->np, true);
        } else if (is(&l, "adkim")) {
            ok = flag_value(&l, "s", "r", &out->adkim_strict);
        } else if (is(&l, "aspf")) {
            ok = flag_value(&l, "s", "r", &out->aspf_strict);
        } else if (is(&l, "t")) {
            ok = flag_value(&l, "y", "n", &out->testing);
        } else if (is(&l, "fo")) {
            ok = l.value_len >= 1 && l.value_len <= 2;
            unsigned fo = 0;
            for (size_t i = 0; ok && i < l.value_len; i++) {
                ok = l.value[i] >= '0' && l.value[i] <= '9';
                fo = fo * 10 + (unsigned)(l.value[i] - '0');
            }
            ok = ok && fo <= 15;
            out->fo = fo;
        } else if (is(&l, "rua")) {
            ok = out->rua_count < DMARC_MAX_URIS &&
                take(out->rua[out->rua_count], sizeof out->rua[0], l.value, l.value_len);
            if (ok)
                out->rua_count++;
        } else {
            return fail(why, why_size, &l, "unknown field");
        }
        if (!ok)
            return fail(why, why_size, &l, "bad value");
    }
    if (!have_domain || !have_p)
        return fail(why, why_size, NULL, "the policy has no domain or no p");
    return true;
}

/* ---- DKIM preference ---- */

/* 0: pass, strictly aligned; 1: pass, relaxed (one is a subdomain of the other); 2: other
 * pass; 3: the rest. Relaxed here is by name only: the report keeps what looks closest. */
static int dkim_rank(const struct dmarc_report_row *row, const char *domain,
    enum dmarc_report_auth result)
{
    if (result != DMARC_AUTH_PASS)
        return 3;
    if (str_ieq(domain, row->header_from))
        return 0;
    size_t a = strlen(domain), b = strlen(row->header_from);
    if (a > b && domain[a - b - 1] == '.' && str_ieq(domain + a - b, row->header_from))
        return 1;
    if (b > a && row->header_from[b - a - 1] == '.' && str_ieq(row->header_from + b - a, domain))
        return 1;
    return 2;
}

void dmarc_report_row_add_dkim(struct dmarc_report_row *row, const char *domain,
    const char *selector, enum dmarc_report_auth result)
{
    if (result == DMARC_AUTH_SOFTFAIL)
        result = DMARC_AUTH_FAIL;
    int rank = dkim_rank(row, domain != NULL ? domain : "", result);
    size_t at = row->dkim_count;
    while (at > 0 && dkim_rank(row, row->dkim[at - 1].domain, row->dkim[at - 1].result) > rank)
        at--;
    if (at == DMARC_REPORT_MAX_DKIM)
        return;                             /* every kept one is preferred */
    size_t last = row->dkim_count < DMARC_REPORT_MAX_DKIM ? row->dkim_count : DMARC_REPORT_MAX_DKIM - 1;
    memmove(&row->dkim[at + 1], &row->dkim[at], (last - at) * sizeof row->dkim[0]);
    struct dmarc_report_dkim *d = &row->dkim[at];
    dmarc_report_clean_copy(d->domain, sizeof d->domain, domain);
    dmarc_report_clean_copy(d->selector, sizeof d->selector, selector);
    d->result = result;
    if (row->dkim_count < DMARC_REPORT_MAX_DKIM)
        row->dkim_count++;
}
