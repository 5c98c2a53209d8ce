/* dmarc_record.c - the DMARC record grammar of RFC 9989 (a tag-value list: "v=DMARC1" first,
 * then tags separated by ';' with optional white space). Each known tag is parsed on its own;
 * a bad value is the tag's default plus a warning, never an error for the whole record (the
 * RFC's "syntax errors in the remainder of the record ... discarded in favor of default
 * values"); the only record-level failures are the version and a record without p or rua.
 * Promises: see dmarc_record.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc_record.h"
#include "util.h"

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void warn(struct dmarc_record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct dmarc_record *r, const char *fmt, ...)
{
    size_t used = strlen(r->warnings);
    if (used + 2 >= sizeof r->warnings)
        return;
    if (used > 0) {
        r->warnings[used++] = ';';
        r->warnings[used++] = ' ';
        r->warnings[used] = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->warnings + used, sizeof r->warnings - used, fmt, ap);
    va_end(ap);
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
    switch (p) {
    case DMARC_POLICY_UNSET: return "unset";
    case DMARC_POLICY_NONE: return "none";
    case DMARC_POLICY_QUARANTINE: return "quarantine";
    case DMARC_POLICY_REJECT: return "reject";
    }
    return "unset";
}

/* The length of the version tag at txt, 0 when it is not "v=DMARC1". */
static size_t version_len(const char *txt)
{
    size_t i = 0;
    while (is_wsp(txt[i]))
        i++;
    if (txt[i] != 'v' && txt[i] != 'V')
        return 0;
    i++;
    while (is_wsp(txt[i]))
        i++;
    if (txt[i] != '=')
        return 0;
    i++;
    while (is_wsp(txt[i]))
        i++;
    if (strncmp(txt + i, "DMARC1", 6) != 0)
        return 0;
    i += 6;
    size_t end = i;
    while (is_wsp(txt[end]))
        end++;
    if (txt[end] != ';' && txt[end] != 0)
        return 0;
    return i;
}

bool dmarc_is_dmarc1(const char *txt)
{
    return version_len(txt) > 0;
}

static bool value_is(const char *v, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(v, word, len) == 0;
}

static enum dmarc_policy policy_value(const char *v, size_t len)
{
    if (value_is(v, len, "none"))
        return DMARC_POLICY_NONE;
    if (value_is(v, len, "quarantine"))
        return DMARC_POLICY_QUARANTINE;
    if (value_is(v, len, "reject"))
        return DMARC_POLICY_REJECT;
    return DMARC_POLICY_UNSET;
}

/* A URI as RFC 3986 begins it: scheme ":" and something, no white space. */
static bool uri_valid(const char *v, size_t len)
{
    size_t i = 0;
    if (len == 0 || !((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z')))
        return false;
    while (i < len && v[i] != ':') {
        char c = v[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '+' || c == '-' || c == '.';
        if (!ok)
            return false;
        i++;
    }
    if (i == len || i + 1 == len)
        return false;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)v[k] <= ' ' || (unsigned char)v[k] >= 0x7f)
            return false;
    return true;
}

/* The items of a list value separated by sep (rua's ",", fo's ":"), blanks around each
 * trimmed: [*a, *b) is the next one; an empty value or an empty item between two separators
 * is still an item. False once the whole value has been walked. */
static bool next_item(const char *v, size_t len, char sep, size_t *i, size_t *a, size_t *b)
{
    if (*i > len)
        return false;
    size_t start = *i;
    while (*i < len && v[*i] != sep)
        (*i)++;
    *a = start;
    *b = *i;
    while (*a < *b && is_wsp(v[*a]))
        (*a)++;
    while (*b > *a && is_wsp(v[*b - 1]))
        (*b)--;
    (*i)++;                        /* past the separator (or the end) */
    return true;
}

static void parse_uris(struct dmarc_record *r, const char *tag, const char *v, size_t len,
    char **uris, size_t *count)
{
    size_t i = 0, a, b;
    while (next_item(v, len, ',', &i, &a, &b)) {
        if (!uri_valid(v + a, b - a)) {
            warn(r, "%s: '%.*s' is not a URI", tag, (int)(b - a > 40 ? 40 : b - a), v + a);
            r->uris_dropped++;
        } else if (*count == DMARC_MAX_URIS) {
            r->uris_dropped++;
        } else {
            uris[(*count)++] = xstrndup(v + a, b - a);
        }
    }
}

static void parse_fo(struct dmarc_record *r, const char *v, size_t len)
{
    size_t i = 0, a, b;
    while (next_item(v, len, ':', &i, &a, &b)) {
        if (value_is(v + a, b - a, "0"))
            r->fo |= DMARC_FO_0;
        else if (value_is(v + a, b - a, "1"))
            r->fo |= DMARC_FO_1;
        else if (value_is(v + a, b - a, "d"))
            r->fo |= DMARC_FO_D;
        else if (value_is(v + a, b - a, "s"))
            r->fo |= DMARC_FO_S;
        else
            warn(r, "fo: '%.*s' ignored", (int)(b - a > 20 ? 20 : b - a), v + a);
    }
}

/* One tag; seen is the set of tags met before (a repeated tag is ignored); *bad_subpolicy is
 * set by an sp or np whose value is not a policy. */
static void parse_tag(struct dmarc_record *r, const char *name, size_t name_len, const char *v,
    size_t len, unsigned *seen, bool *bad_subpolicy)
{
    static const char *const known[] = { "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua",
        "ruf", "fo", "pct", "rf", "ri", "v" };
    size_t k = 0;
    while (k < sizeof known / sizeof known[0] && !value_is(name, name_len, known[k]))
        k++;
    if (k == sizeof known / sizeof known[0])
        return;                                   /* unknown tags MUST be ignored */
    if (*seen & (1u << k)) {
        warn(r, "%s repeated: the first one counts", known[k]);
        return;
    }
    *seen |= 1u << k;
    const char *tag = known[k];
    if (strcmp(tag, "p") == 0 || strcmp(tag, "sp") == 0 || strcmp(tag, "np") == 0) {
        enum dmarc_policy p = policy_value(v, len);
        if (p == DMARC_POLICY_UNSET) {
            warn(r, "%s: bad value '%.*s'", tag, (int)(len > 20 ? 20 : len), v);
            if (tag[0] != 'p')
                *bad_subpolicy = true;
        }
        if (tag[0] == 'p')
            r->p = p;
        else if (tag[0] == 's')
            r->sp = p;
        else
            r->np = p;
    } else if (strcmp(tag, "psd") == 0) {
        if (value_is(v, len, "y"))
            r->psd = DMARC_PSD_Y;
        else if (value_is(v, len, "n"))
            r->psd = DMARC_PSD_N;
        else if (!value_is(v, len, "u"))
            warn(r, "psd: bad value, taken as u");
    } else if (strcmp(tag, "t") == 0) {
        if (value_is(v, len, "y"))
            r->testing = true;
        else if (!value_is(v, len, "n"))
            warn(r, "t: bad value, taken as n");
    } else if (strcmp(tag, "adkim") == 0 || strcmp(tag, "aspf") == 0) {
        bool strict = value_is(v, len, "s");
        if (!strict && !value_is(v, len, "r"))
            warn(r, "%s: bad value, taken as r", tag);
        if (tag[1] == 'd')
            r->adkim_strict = strict;
        else
            r->aspf_strict = strict;
    } else if (strcmp(tag, "rua") == 0) {
        parse_uris(r, tag, v, len, r->rua, &r->rua_count);
    } else if (strcmp(tag, "ruf") == 0) {
        parse_uris(r, tag, v, len, r->ruf, &r->ruf_count);
    } else if (strcmp(tag, "fo") == 0) {
        parse_fo(r, v, len);
    } else if (strcmp(tag, "v") == 0) {
        warn(r, "v repeated: ignored");
    }
    /* pct, rf, ri: removed by RFC 9989, ignored */
}

static bool tag_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

enum dmarc_record_status dmarc_record_parse(const char *text, struct dmarc_record *out,
    char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    size_t i = version_len(text);
    if (i == 0) {
        snprintf(why, why_size, "does not begin with v=DMARC1");
        return DMARC_RECORD_NOT_DMARC;
    }
    unsigned seen = 0;
    bool bad_subpolicy = false;
    while (text[i] != 0) {
        while (is_wsp(text[i]) || text[i] == ';')
            i++;
        if (text[i] == 0)
            break;
        size_t term = i;
        while (text[i] != 0 && text[i] != ';')
            i++;
        size_t term_end = i;
        size_t n = term;
        while (n < term_end && tag_name_char(text[n]))
            n++;
        size_t name_end = n;
        while (n < term_end && is_wsp(text[n]))
            n++;
        if (name_end == term || n == term_end || text[n] != '=') {
            warn(out, "'%.*s' is not a tag=value: ignored",
                (int)(term_end - term > 30 ? 30 : term_end - term), text + term);
            continue;
        }
        size_t a = n + 1, b = term_end;
        while (a < b && is_wsp(text[a]))
            a++;
        while (b > a && is_wsp(text[b - 1]))
            b--;
        parse_tag(out, text + term, name_end - term, text + a, b - a, &seen, &bad_subpolicy);
    }
    if (out->fo == 0)
        out->fo = DMARC_FO_0;
    /* RFC 9989 4.10.1: no valid p, or an sp or np that is not valid: as if the record were
     * p=none (no sp, no np) when rua has a usable URI, else no DMARC processing */
    if (out->p == DMARC_POLICY_UNSET || bad_subpolicy) {
        if (out->rua_count == 0) {
            snprintf(why, why_size, "%s and no usable rua=",
                out->p == DMARC_POLICY_UNSET ? "no usable p=" : "a bad sp= or np=");
            return DMARC_RECORD_NO_POLICY;
        }
        out->p = DMARC_POLICY_NONE;
        out->sp = DMARC_POLICY_UNSET;
        out->np = DMARC_POLICY_UNSET;
        out->p_from_rua = true;
    }
    return DMARC_RECORD_OK;
}

void dmarc_record_free(struct dmarc_record *r)
{
    for (size_t i = 0; i < r->rua_count; i++)
        free(r->rua[i]);
    for (size_t i = 0; i < r->ruf_count; i++)
        free(r->ruf[i]);
    r->rua_count = r->ruf_count = 0;
}
