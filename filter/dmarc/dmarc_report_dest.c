/* dmarc_report_dest.c - rua URIs to mailboxes, RFC 9990's external-destination check, and the
 * suppression lists. The Organizational Domains compared by the check come from the RFC 9989
 * tree walk (dmarc_evaluate on the name, nothing to align): a name with no DMARC record
 * anywhere up its tree is its own; a walk that fails leaves it unknown, and an unknown one is
 * treated as different (the check is then made: asking is always safe). Promises: see
 * dmarc_report_dest.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc_report_dest.h"
#include "dmarc_report_mail.h"
#include "util.h"

#define TYPE_TXT 16

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The obsolete size suffix: "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] at the end of [s, *len). */
static bool strip_size(const char *s, size_t *len)
{
    const char *bang = memchr(s, '!', *len);
    if (bang == NULL)
        return true;
    const char *p = bang + 1, *end = s + *len;
    size_t digits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        p++;
        digits++;
    }
    if (p < end && strchr("kmgtKMGT", *p) != NULL)
        p++;
    if (digits == 0 || digits > 15 || p != end)
        return false;
    *len = (size_t)(bang - s);
    return true;
}

enum dmarc_uri_status dmarc_report_parse_uri(const char *uri, struct dmarc_report_dest *out,
    char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(uri, ':');
    if (colon == NULL || colon == uri) {
        snprintf(why, why_size, "not a URI");
        return DMARC_URI_BAD;
    }
    if ((size_t)(colon - uri) != 6 || strncasecmp(uri, "mailto", 6) != 0) {
        snprintf(why, why_size, "only mailto: URIs are supported");
        return DMARC_URI_UNSUPPORTED;
    }
    const char *s = colon + 1;
    size_t len = strlen(s);
    const char *query = memchr(s, '?', len);
    if (!strip_size(s, &len)) {
        snprintf(why, why_size, "a '!' that is not a size suffix (it must be %%21)");
        return DMARC_URI_BAD;
    }
    if (query != NULL && (size_t)(query - s) < len)
        len = (size_t)(query - s);            /* mailto headers (?subject=...) are ignored */
    char decoded[sizeof out->address];
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(why, why_size, "a bad %%-escape");
                return DMARC_URI_BAD;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= sizeof decoded) {
            snprintf(why, why_size, "the address is too long");
            return DMARC_URI_BAD;
        }
        decoded[o++] = c;
    }
    decoded[o] = 0;
    if (o != strlen(decoded) || !dmarc_report_address_ok(decoded)) {
        snprintf(why, why_size, "not exactly one plain address");
        return DMARC_URI_BAD;
    }
    memcpy(out->address, decoded, o + 1);
    char *at = strrchr(out->address, '@');
    str_lower(at + 1);
    memcpy(out->host, at + 1, strlen(at + 1) + 1);
    return DMARC_URI_OK;
}

/* Lower case, without a final dot, into out[DMARC_DOMAIN_MAX + 1]. */
static bool normalized(const char *name, char *out)
{
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DMARC_DOMAIN_MAX)
        return false;
    memcpy(out, name, len);
    out[len] = 0;
    str_lower(out);
    return true;
}

/* The Organizational Domain of name into out; false when the walk could not tell. */
static bool org_domain_of(const char *name, const struct dmarc_limits *lim,
    dmarc_lookup_fn lookup, void *arg, char *out)
{
    struct dmarc_request req = { .from_domain = name };
    struct dmarc_verdict v;
    dmarc_evaluate(&req, lim, lookup, arg, &v);
    bool known = false;
    if (v.result == DMARC_RESULT_NONE) {
        known = normalized(name, out);        /* no record up the tree: its own */
    } else if (v.has_record && v.org_domain[0] != 0) {
        memcpy(out, v.org_domain, strlen(v.org_domain) + 1);
        known = true;
    }
    dmarc_verdict_free(&v);
    return known;
}

/* The rua of an authorising record: false when it names another host (no report at all);
 * otherwise *dest takes its first usable mailto: URI, if any. */
static bool apply_override(const struct dmarc_record *rec, struct dmarc_report_dest *dest,
    char *why, size_t why_size)
{
    for (size_t i = 0; i < rec->rua_count; i++) {
        struct dmarc_report_dest d;
        char bad[128];
        if (dmarc_report_parse_uri(rec->rua[i], &d, bad, sizeof bad) != DMARC_URI_OK)
            continue;
        if (strcmp(d.host, dest->host) != 0) {
            snprintf(why, why_size, "the authorising record at %s redirects to another host (%s)",
                dest->host, d.host);
            return false;
        }
    }
    for (size_t i = 0; i < rec->rua_count; i++) {
        struct dmarc_report_dest d;
        char bad[128];
        if (dmarc_report_parse_uri(rec->rua[i], &d, bad, sizeof bad) == DMARC_URI_OK) {
            *dest = d;
            break;
        }
    }
    return true;
}

enum dmarc_dest_verdict dmarc_report_authorize(const char *policy_domain,
    struct dmarc_report_dest *dest, const struct dmarc_limits *lim, dmarc_lookup_fn lookup,
    void *lookup_arg, char *why, size_t why_size)
{
    char policy[DMARC_DOMAIN_MAX + 1], policy_org[DMARC_DOMAIN_MAX + 1];
    char dest_org[DMARC_DOMAIN_MAX + 1];
    if (!normalized(policy_domain, policy)) {
        snprintf(why, why_size, "the policy domain is not a domain name");
        return DMARC_DEST_DENIED;
    }
    if (org_domain_of(policy, lim, lookup, lookup_arg, policy_org) &&
        org_domain_of(dest->host, lim, lookup, lookup_arg, dest_org) &&
        strcmp(policy_org, dest_org) == 0) {
        snprintf(why, why_size, "inside the Organizational Domain %s", policy_org);
        return DMARC_DEST_ALLOWED;
    }
    char name[512];
    int n = snprintf(name, sizeof name, "%s._report._dmarc.%s", policy, dest->host);
    if (n < 0 || n > DMARC_DOMAIN_MAX) {
        snprintf(why, why_size, "the name to ask is longer than a domain name may be: "
            "%s._report._dmarc.%s", policy, dest->host);
        return DMARC_DEST_DENIED;
    }
    struct dns_answer a;
    memset(&a, 0, sizeof a);
    lookup(lookup_arg, name, TYPE_TXT, lim->query_timeout_ms > 0 ? lim->query_timeout_ms :
        lim->budget_ms, &a);
    enum dmarc_dest_verdict verdict = DMARC_DEST_DENIED;
    if (a.status == DNS_NXDOMAIN) {
        snprintf(why, why_size, "%s does not authorise reports for %s (no TXT at %s)",
            dest->host, policy, name);
    } else if (a.status != DNS_OK) {
        snprintf(why, why_size, "DNS failure for %s TXT (%s); retried on the next run", name,
            dns_status_name(a.status));
        verdict = DMARC_DEST_TEMPFAIL;
    } else {
        snprintf(why, why_size, "%s does not authorise reports for %s (no v=DMARC1 TXT at %s)",
            dest->host, policy, name);
        for (size_t i = 0; i < a.count; i++) {
            if (!dmarc_is_dmarc1(a.data[i]))
                continue;
            struct dmarc_record rec;
            char bad[128];
            bool parsed = dmarc_record_parse(a.data[i], &rec, bad, sizeof bad) == DMARC_RECORD_OK;
            bool ok = !parsed || apply_override(&rec, dest, why, why_size);
            dmarc_record_free(&rec);
            if (ok) {
                snprintf(why, why_size, "authorised by %s", name);
                verdict = DMARC_DEST_ALLOWED;
            }
            break;
        }
    }
    dns_answer_free(&a);
    return verdict;
}

/* name is domain or one of its subdomains (ASCII case ignored). */
static bool at_or_below(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);
    if (d == 0 || n < d || !str_ieq(name + n - d, domain))
        return false;
    return n == d || name[n - d - 1] == '.';
}

static bool own_name(const struct dmarc_report_filter *f, const char *name)
{
    for (size_t i = 0; i < DMARC_REPORT_OWN_NAMES; i++)
        if (f->own_names[i] != NULL && at_or_below(name, f->own_names[i]))
            return true;
    return f->own_domains != NULL && pattern_match_domain(f->own_domains, name);
}

bool dmarc_report_suppressed(const struct dmarc_report_filter *f, const char *policy_domain,
    const char *dest_host, char *why, size_t why_size)
{
    const char *names[2] = { policy_domain, dest_host };
    for (size_t i = 0; i < 2; i++) {
        if (names[i] == NULL)
            continue;
        if (f->suppress != NULL && pattern_match_domain(f->suppress, names[i])) {
            snprintf(why, why_size, "%s is on the suppression list", names[i]);
            return true;
        }
        if (!f->report_own_domains && own_name(f, names[i])) {
            snprintf(why, why_size, "%s is one of our own domains (report_own_domains is off)",
                names[i]);
            return true;
        }
    }
    return false;
}
