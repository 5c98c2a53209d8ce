/* eval_get.c - header texts, addresses and run-time regexes for the plugins, as SpamAssassin's
 * PerMsgStatus::get() and its Locales module give them (eval_get.h). */
#include "eval_get.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "header.h"
#include "header_cache.h"
#include "mime_init.h"
#include "util.h"

const char *eval_get(struct eval_ctx *ctx, const char *name, enum header_part part,
    size_t *len, bool *present)
{
    struct rule r = { .type = RULE_HEADER, .hsrc = HSRC_NAMED, .hpart = part,
        .header = (char *)name };
    if (strcmp(name, "ALL") == 0)
        r.hsrc = HSRC_ALL;
    else if (str_ieq(name, "ToCc"))
        r.hsrc = HSRC_TOCC;
    else if (strcmp(name, "MESSAGEID") == 0)
        r.hsrc = HSRC_MESSAGEID;
    else if (str_ieq(name, "EnvelopeFrom"))
        r.hsrc = HSRC_ENVFROM;
    const char *text = "";
    size_t n = 0;
    bool found = rules_header_text(&r, ctx->msg, ctx->headers, (size_t)ctx->limits->header_bytes,
        &text, &n);
    if (text == NULL) {
        text = "";
        n = 0;
    }
    if (len != NULL)
        *len = n;
    if (present != NULL)
        *present = found;
    return text;
}

const char *eval_envelope_from(struct eval_ctx *ctx)
{
    const char *key = "eval envelope-from addr";
    size_t cap = (size_t)ctx->limits->header_bytes;
    const char *text;
    size_t len;
    bool present;
    if (header_cache_text(ctx->headers, key, cap, &text, &len, &present))
        return text;
    const char *from = ctx->msg->envelope_from != NULL ? ctx->msg->envelope_from : "";
    while (isspace((unsigned char)*from) || *from == '<')
        from++;
    size_t n = strcspn(from, "> \t\r\n");
    header_cache_store_text(ctx->headers, key, cap, from, n, n > 0);
    header_cache_text(ctx->headers, key, cap, &text, &len, &present);
    return text;
}

static void add_list(InternetAddressList *list, char ***out, size_t *count)
{
    int n = list != NULL ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(a)) {
            add_list(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), out, count);
            continue;
        }
        const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
        if (addr == NULL || *addr == '\0')
            continue;
        *out = xrealloc(*out, (*count + 1) * sizeof **out);
        (*out)[(*count)++] = xstrdup(addr);
    }
}

static void add_header_addresses(struct eval_ctx *ctx, const char *name, char ***out,
    size_t *count)
{
    size_t cap = (size_t)ctx->limits->header_bytes;
    for (size_t i = 0; i < ctx->msg->header_count; i++) {
        const struct header_field *h = &ctx->msg->headers[i];
        if (!str_ieq(h->name, name) || h->value == NULL)
            continue;
        char *value = header_value_cut(h->value, cap);
        InternetAddressList *list = internet_address_list_parse(NULL, value);
        add_list(list, out, count);
        if (list != NULL)
            g_object_unref(list);
        free(value);
    }
}

size_t eval_addresses(struct eval_ctx *ctx, const char *name, char ***out)
{
    mime_libraries_init();
    size_t count = 0;
    *out = NULL;
    if (str_ieq(name, "ToCc")) {
        add_header_addresses(ctx, "To", out, &count);
        add_header_addresses(ctx, "Cc", out, &count);
    } else {
        add_header_addresses(ctx, name, out, &count);
    }
    return count;
}

void eval_strings_free(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

bool eval_regex_search(struct eval_ctx *ctx, const char *pattern, unsigned options,
    const char *subject, size_t len, size_t *ov, size_t ov_pairs)
{
    int err;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &err,
        &erroff, NULL);
    if (code == NULL)
        return false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int rc = pcre2_match(code, (PCRE2_SPTR)subject, len, 0, 0, md, ctx->matcher->mctx);
    bool found = rc >= 0;
    if (found && ov != NULL) {
        PCRE2_SIZE *v = pcre2_get_ovector_pointer(md);
        uint32_t have = pcre2_get_ovector_count(md);
        for (size_t i = 0; i < ov_pairs; i++) {
            bool set = i < have && i < (size_t)rc && v[2 * i] != PCRE2_UNSET;
            ov[2 * i] = set ? v[2 * i] : (size_t)-1;
            ov[2 * i + 1] = set ? v[2 * i + 1] : (size_t)-1;
        }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return found;
}

const char *eval_directive_last(const struct ruleset *rs, const char *name)
{
    const char *last = NULL, *v;
    size_t cursor = 0;
    while ((v = ruleset_directive_next(rs, name, &cursor)) != NULL)
        last = v;                   /* one pass over the directives, not one per value */
    return last;
}

char *eval_regex_quote(const char *text, size_t len)
{
    char *out = xmalloc(2 * len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!isalnum(c) && c != '_' && c < 0x80)
            out[n++] = '\\';
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return out;
}

/* Locales.pm: the charsets each locale accepts beyond the Latin ones every locale accepts. */
static const struct {
    const char *locale;
    const char *charsets;
} locale_charsets[] = {
    { "ja", " EUCJP JISX020119760 JISX020819830 JISX020819900 JISX020819970 JISX021219900"
            " JISX021320001 JISX021320002 SHIFT_JIS SHIFTJIS ISO2022JP SJIS JIS7 JISX0201"
            " JISX0208 JISX0212 " },
    { "ko", " EUCKR KSC56011987 " },
    { "ru", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
    { "ka", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
    { "tg", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
    { "be", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
    { "uk", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
    { "bg", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
    { "th", " TIS620 " },
    { "zh", " GB1988 GB2312 GB231219800 GB18030 GBK BIG5HKSCS BIG5 EUCTW ISO2022CN " },
};

static bool prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool charset_ok_for_locale(const char *cs, const char *locale)
{
    char two[3] = { locale[0], locale[1], '\0' };
    if (strcmp(locale, "C") == 0)
        return false;     /* "en": no charsets beyond the Latin ones */
    for (size_t i = 0; i < sizeof locale_charsets / sizeof locale_charsets[0]; i++) {
        if (strcmp(locale_charsets[i].locale, two) != 0)
            continue;
        char word[80];
        snprintf(word, sizeof word, " %s ", cs);
        return strstr(locale_charsets[i].charsets, word) != NULL;
    }
    return false;
}

bool eval_charset_ok_for_locales(const struct ruleset *rs, const char *charset, size_t len)
{
    const char *locales = ruleset_ok_locales(rs);
    if (locales == NULL || strstr(locales, "all") != NULL)
        return true;
    /* upper case, only letters and digits, "3D" of broken quoted-printable off, first of a
     * ':'-list */
    char cs[64];
    size_t n = 0;
    for (size_t i = 0; i < len && charset[i] != ':' && n + 1 < sizeof cs; i++) {
        unsigned char c = (unsigned char)charset[i];
        if (isalnum(c) && c < 0x80)
            cs[n++] = (char)toupper(c);
    }
    cs[n] = '\0';
    char *p = cs;
    while (prefix(p, "3D"))
        p += 2;
    if (strcmp(p, "USASCII") == 0 || strcmp(p, "ASCII") == 0 || prefix(p, "ISO8859")
        || prefix(p, "ISO10646") || prefix(p, "UTF") || prefix(p, "UCS") || prefix(p, "CP125")
        || prefix(p, "WINDOWS") || strcmp(p, "IBM852") == 0 || prefix(p, "UNICODE11UTF7")
        || prefix(p, "UNICODE11UTF8") || strcmp(p, "XUNKNOWN") == 0 || strcmp(p, "ISO") == 0)
        return true;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", locales);
    char *save = NULL;
    for (char *loc = strtok_r(copy, " \t", &save); loc != NULL; loc = strtok_r(NULL, " \t", &save)) {
        if (charset_ok_for_locale(p, loc))
            return true;
    }
    return false;
}
