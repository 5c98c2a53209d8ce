/* spf_record.c - the strict RFC 7208 section 12 ABNF for SPF records: turns "v=spf1 ..." into
 * a struct spf_record or reports the first syntax error (the caller makes it a permerror).
 * Promises: never reads past the string, never accepts a term the ABNF does not allow,
 * expands nothing (macro-strings are only checked here, expanded at evaluation). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "util.h"

#define MAX_TERM_LEN 4096

bool spf_is_spf1(const char *txt)
{
    return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == ' ' || txt[6] == '\0');
}

void spf_record_free(struct spf_record *rec)
{
    for (size_t i = 0; i < rec->mech_count; i++) {
        free(rec->mechs[i].domain_spec);
        free(rec->mechs[i].term);
    }
    free(rec->mechs);
    free(rec->redirect);
    free(rec->exp);
    memset(rec, 0, sizeof *rec);
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool toplabel_valid(const char *s, size_t len)
{
    if (len == 0)
        return false;
    bool has_alpha = false, has_dash = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-')
            has_dash = true;
        else if (is_alpha(s[i]))
            has_alpha = true;
        else if (!is_alnum(s[i]))
            return false;
    }
    if (!has_dash)
        return has_alpha;
    return s[0] != '-' && s[len - 1] != '-';
}

/* True when the macro-string ends with a macro-expand: "%{...}", "%%", "%_" or "%-". Scans
 * from the start so that "%%{" style sequences are read the way the expander reads them. */
static bool ends_with_macro_expand(const char *s, size_t len)
{
    size_t i = 0;
    bool last_was_expand = false;
    while (i < len) {
        if (s[i] == '%' && i + 1 < len) {
            if (s[i + 1] == '{') {
                const char *close = memchr(s + i, '}', len - i);
                if (close == NULL)
                    return false;
                i = (size_t)(close - s) + 1;
            } else {
                i += 2;
            }
            last_was_expand = true;
        } else {
            i++;
            last_was_expand = false;
        }
    }
    return last_was_expand;
}

/* domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static bool domain_spec_valid(const char *s, size_t len, char *why, size_t why_size)
{
    if (len == 0) {
        snprintf(why, why_size, "empty domain-spec");
        return false;
    }
    if (!spf_macro_valid(s, len, SPF_MACRO_DOMAIN, why, why_size))
        return false;
    if (ends_with_macro_expand(s, len))
        return true;
    size_t end = len;
    if (s[end - 1] == '.')
        end--;
    size_t start = end;
    while (start > 0 && s[start - 1] != '.')
        start--;
    if (start == 0 || !toplabel_valid(s + start, end - start)) {
        snprintf(why, why_size, "domain-spec \"%.*s\" must end in a macro or a dot and a "
            "top-level label that is not all digits", (int)(len > 200 ? 200 : len), s);
        return false;
    }
    return true;
}

/* "/" ("0" / %x31-39 *DIGIT) with a value up to max; digits points after the slash. */
static bool cidr_length_parse(const char *digits, size_t len, unsigned max, unsigned *out)
{
    if (len == 0 || len > 3 || (digits[0] == '0' && len > 1))
        return false;
    unsigned value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)digits[i]))
            return false;
        value = value * 10 + (unsigned)(digits[i] - '0');
    }
    if (value > max)
        return false;
    *out = value;
    return true;
}

/* Finds a trailing "/digits" in s[0..*len); returns the start of the digits or NULL. */
static const char *trailing_slash_number(const char *s, size_t len)
{
    size_t i = len;
    while (i > 0 && isdigit((unsigned char)s[i - 1]))
        i--;
    if (i == len || i == 0 || s[i - 1] != '/')
        return NULL;
    return s + i;
}

/* dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], cut off the end of arg. */
static bool split_dual_cidr(const char *arg, size_t *len, struct spf_mechanism *m, char *why,
    size_t why_size)
{
    const char *digits = trailing_slash_number(arg, *len);
    if (digits != NULL && digits - arg >= 2 && digits[-2] == '/') {
        size_t n = *len - (size_t)(digits - arg);
        if (!cidr_length_parse(digits, n, 128, &m->cidr6)) {
            snprintf(why, why_size, "bad IPv6 prefix length in \"%s\"", m->term);
            return false;
        }
        *len = (size_t)(digits - arg) - 2;
        digits = trailing_slash_number(arg, *len);
    }
    if (digits != NULL) {
        size_t n = *len - (size_t)(digits - arg);
        if (!cidr_length_parse(digits, n, 32, &m->cidr4)) {
            snprintf(why, why_size, "bad IPv4 prefix length in \"%s\"", m->term);
            return false;
        }
        *len = (size_t)(digits - arg) - 1;
    }
    return true;
}

/* qnum "." qnum "." qnum "." qnum, without leading zeros */
static bool ip4_network_parse(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned value = 0;
        while (i < len && isdigit((unsigned char)s[i]) && i - start < 3)
            value = value * 10 + (unsigned)(s[i++] - '0');
        size_t n = i - start;
        if (n == 0 || value > 255 || (n > 1 && s[start] == '0'))
            return false;
        out[part] = (uint8_t)value;
    }
    return i == len;
}

static bool ip6_network_parse(const char *s, size_t len, uint8_t out[16])
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
            return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
}

static const struct {
    const char *name;
    enum spf_mech_type type;
} mech_names[] = {
    {"all", SPF_MECH_ALL}, {"include", SPF_MECH_INCLUDE}, {"a", SPF_MECH_A},
    {"mx", SPF_MECH_MX}, {"ptr", SPF_MECH_PTR}, {"ip4", SPF_MECH_IP4}, {"ip6", SPF_MECH_IP6},
    {"exists", SPF_MECH_EXISTS},
};

/* The argument after "name": nothing, ":" domain-spec, or (a, mx) a bare dual-cidr. */
static bool parse_mechanism_argument(struct spf_mechanism *m, const char *arg, size_t len,
    char *why, size_t why_size)
{
    switch (m->type) {
    case SPF_MECH_ALL:
        if (len != 0) {
            snprintf(why, why_size, "\"all\" takes no argument: \"%s\"", m->term);
            return false;
        }
        return true;
    case SPF_MECH_A:
    case SPF_MECH_MX:
        if (!split_dual_cidr(arg, &len, m, why, why_size))
            return false;
        if (len == 0)
            return true;
        /* what is left must be ":" domain-spec */
        /* fall through */
    case SPF_MECH_PTR:
        if (len == 0)
            return true;
        /* fall through */
    case SPF_MECH_INCLUDE:
    case SPF_MECH_EXISTS:
        if (len < 1 || arg[0] != ':') {
            snprintf(why, why_size, "\"%s\": expected \":\" and a domain", m->term);
            return false;
        }
        if (!domain_spec_valid(arg + 1, len - 1, why, why_size))
            return false;
        m->domain_spec = xstrndup(arg + 1, len - 1);
        return true;
    case SPF_MECH_IP4:
    case SPF_MECH_IP6: {
        if (len < 1 || arg[0] != ':') {
            snprintf(why, why_size, "\"%s\": expected \":\" and an address", m->term);
            return false;
        }
        arg++;
        len--;
        const char *digits = trailing_slash_number(arg, len);
        bool v4 = m->type == SPF_MECH_IP4;
        if (digits != NULL) {
            size_t n = len - (size_t)(digits - arg);
            if (!cidr_length_parse(digits, n, v4 ? 32 : 128, v4 ? &m->cidr4 : &m->cidr6)) {
                snprintf(why, why_size, "bad prefix length in \"%s\"", m->term);
                return false;
            }
            len = (size_t)(digits - arg) - 1;
        }
        bool ok = v4 ? ip4_network_parse(arg, len, m->network)
                     : ip6_network_parse(arg, len, m->network);
        if (!ok) {
            snprintf(why, why_size, "\"%s\": not an %s address", m->term, v4 ? "IPv4" : "IPv6");
            return false;
        }
        return true;
    }
    }
    return false;
}

static bool parse_directive(const char *term, size_t len, struct spf_mechanism *m, char *why,
    size_t why_size)
{
    memset(m, 0, sizeof *m);
    m->term = xstrndup(term, len);
    m->qualifier = SPF_RESULT_PASS;
    m->cidr4 = 32;
    m->cidr6 = 128;
    size_t i = 0;
    switch (term[0]) {
    case '+': m->qualifier = SPF_RESULT_PASS; i = 1; break;
    case '-': m->qualifier = SPF_RESULT_FAIL; i = 1; break;
    case '~': m->qualifier = SPF_RESULT_SOFTFAIL; i = 1; break;
    case '?': m->qualifier = SPF_RESULT_NEUTRAL; i = 1; break;
    default: break;
    }
    size_t name_end = i;
    while (name_end < len && is_alnum(term[name_end]))
        name_end++;
    for (size_t k = 0; k < sizeof mech_names / sizeof mech_names[0]; k++) {
        size_t n = strlen(mech_names[k].name);
        if (n == name_end - i && strncasecmp(term + i, mech_names[k].name, n) == 0) {
            m->type = mech_names[k].type;
            return parse_mechanism_argument(m, term + name_end, len - name_end, why, why_size);
        }
    }
    snprintf(why, why_size, "unknown mechanism \"%s\"", m->term);
    return false;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); returns its length when term is
 * name "=" ..., else 0. */
static size_t modifier_name_length(const char *term, size_t len)
{
    if (len == 0 || !is_alpha(term[0]))
        return 0;
    size_t i = 1;
    while (i < len && (is_alnum(term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.'))
        i++;
    return i < len && term[i] == '=' ? i : 0;
}

static bool parse_modifier(const char *term, size_t len, size_t name_len, struct spf_record *rec,
    char *why, size_t why_size)
{
    const char *value = term + name_len + 1;
    size_t value_len = len - name_len - 1;
    char **slot = NULL;
    if (name_len == 8 && strncasecmp(term, "redirect", 8) == 0)
        slot = &rec->redirect;
    else if (name_len == 3 && strncasecmp(term, "exp", 3) == 0)
        slot = &rec->exp;
    if (slot == NULL) {
        /* unknown-modifier = name "=" macro-string: checked, then ignored */
        return spf_macro_valid(value, value_len, SPF_MACRO_DOMAIN, why, why_size);
    }
    if (*slot != NULL) {
        snprintf(why, why_size, "\"%.*s=\" appears more than once", (int)name_len, term);
        return false;
    }
    if (!domain_spec_valid(value, value_len, why, why_size))
        return false;
    *slot = xstrndup(value, value_len);
    return true;
}

bool spf_record_parse(const char *text, struct spf_record *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (!spf_is_spf1(text)) {
        snprintf(why, why_size, "not an SPF version 1 record");
        return false;
    }
    const char *p = text + 6;
    while (*p != '\0') {
        if (*p != ' ') {
            snprintf(why, why_size, "terms must be separated by spaces (found byte 0x%02x)",
                (unsigned char)*p);
            goto fail;
        }
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, " ");
        if (len > MAX_TERM_LEN) {
            snprintf(why, why_size, "a term longer than %d characters", MAX_TERM_LEN);
            goto fail;
        }
        size_t name_len = modifier_name_length(p, len);
        if (name_len > 0) {
            if (!parse_modifier(p, len, name_len, out, why, why_size))
                goto fail;
        } else {
            struct spf_mechanism m;
            if (!parse_directive(p, len, &m, why, why_size)) {
                free(m.domain_spec);
                free(m.term);
                goto fail;
            }
            out->mechs = xrealloc(out->mechs, (out->mech_count + 1) * sizeof *out->mechs);
            out->mechs[out->mech_count++] = m;
        }
        p += len;
    }
    return true;
fail:
    spf_record_free(out);
    return false;
}
