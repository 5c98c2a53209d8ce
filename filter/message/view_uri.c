/* view_uri.c - the URIs of the message view: URIs and mail addresses found in the body lines
 * as SpamAssassin finds them (its Thunderbird-like pattern, schemes added, addresses as
 * mailto:), each URI's host (lower case, userinfo and port removed) and whether it is an IP literal in
 * any form a browser accepts (dotted, decimal, hex, octal, IPv6). */
#include "view_build.h"

#include <arpa/inet.h>
#include <glib.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* One dotted label of an IPv4 literal in any form inet_aton accepts: decimal, 0x hex, octal. */
static bool is_numeric_label(const char *s, size_t len)
{
    if (len == 0)
        return false;
    size_t i = 0;
    bool hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex)
        i = 2;
    for (; i < len; i++) {
        if (hex ? !g_ascii_isxdigit(s[i]) : !g_ascii_isdigit(s[i]))
            return false;
    }
    return true;
}

/* Whether host (lower case, no brackets for IPv6) is an IP literal, including the decimal
 * (http://3232235777/), hex and octal forms browsers accept. */
static bool host_is_ip_literal(const char *host)
{
    unsigned char addr[16];
    if (strchr(host, ':') != NULL)
        return inet_pton(AF_INET6, host, addr) == 1;
    size_t labels = 0;
    const char *p = host;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!is_numeric_label(p, len))
            return false;
        labels++;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return labels >= 1 && labels <= 4;
}

/* The lower-case host of url, or NULL (mailto:, relative links, no host). */
static char *uri_host(const char *url)
{
    const char *p = url;
    if (g_ascii_strncasecmp(p, "www.", 4) != 0) {
        const char *colon = strstr(p, "//");
        if (colon == p) {
            p += 2;                                  /* protocol-relative //host/ */
        } else {
            size_t i = 0;
            while (g_ascii_isalnum(p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.')
                i++;
            if (i == 0 || p[i] != ':' || p[i + 1] != '/' || p[i + 2] != '/')
                return NULL;
            p += i + 3;
        }
    }
    size_t end = strcspn(p, "/?#\\");
    const char *at = memchr(p, '@', end);
    while (at != NULL) {                             /* user:pass@host: the last @ counts */
        size_t skip = (size_t)(at - p) + 1;
        p += skip;
        end -= skip;
        at = memchr(p, '@', end);
    }
    const char *host = p;
    size_t host_len;
    if (*p == '[') {
        const char *close = memchr(p, ']', end);
        if (close == NULL)
            return NULL;
        host = p + 1;
        host_len = (size_t)(close - host);
    } else {
        const char *port = memchr(p, ':', end);
        host_len = port ? (size_t)(port - p) : end;
    }
    while (host_len > 0 && host[host_len - 1] == '.')
        host_len--;
    if (host_len == 0 || host_len > 255)
        return NULL;
    char *out = xstrndup(host, host_len);
    str_lower(out);
    return out;
}

static struct message_uri *uri_find(const struct message_view *view, const char *url)
{
    for (size_t i = 0; i < view->uri_count; i++) {
        if (strcmp(view->uris[i].url, url) == 0)
            return &view->uris[i];
    }
    return NULL;
}

/* Records a URI (trimmed of surrounding whitespace) with where it was found (VIEW_URI_*). A
 * URI without link text already known only gains the type; every link is added, since its
 * text matters. Returns the record, NULL when none was made or found. */
struct message_uri *view_add_uri_typed(struct view_builder *b, const char *url, size_t len,
    const char *link_text, unsigned type)
{
    struct message_view *view = b->view;
    while (len > 0 && view_is_space((unsigned char)*url)) {
        url++;
        len--;
    }
    while (len > 0 && view_is_space((unsigned char)url[len - 1]))
        len--;
    if (len == 0)
        return NULL;
    if (len > 8192) {                  /* SpamAssassin's MAX_URI_LENGTH */
        len = 8192;
        view->uri_truncated = true;
    }
    char *copy = xstrndup(url, len);
    for (char *c = copy; *c; c++) {
        if (*c == '\r' || *c == '\n' || *c == '\t')
            *c = ' ';
    }
    struct message_uri *known = link_text == NULL ? uri_find(view, copy) : NULL;
    if (known != NULL || view->uri_count >= VIEW_MAX_URIS) {
        free(copy);
        if (known != NULL)
            known->types |= type;
        else
            view->uris_truncated = true;
        return known;
    }
    if (view->uri_count == b->uri_alloc) {
        b->uri_alloc = b->uri_alloc ? 2 * b->uri_alloc : 16;
        view->uris = xrealloc(view->uris, b->uri_alloc * sizeof *view->uris);
    }
    struct message_uri *u = &view->uris[view->uri_count++];
    memset(u, 0, sizeof *u);
    u->url = copy;
    u->host = uri_host(copy);
    u->link_text = link_text ? xstrdup(link_text) : NULL;
    u->host_is_ip = u->host != NULL && host_is_ip_literal(u->host);
    u->types = type;
    return u;
}

void view_add_uri(struct view_builder *b, const char *url, size_t len, const char *link_text)
{
    view_add_uri_typed(b, url, len, link_text, link_text ? VIEW_URI_A : 0);
}

/* SpamAssassin's Util::url_encode (which decodes): a %XX escape is undone when XX is 21-7E
 * but not 7F (the 0x00-0x20, 0x7F-0xFF escapes stay); in the rest, bytes 0x00-0x20, 0x7F-0xFF,
 * '"', '%', '<' and '>' are escaped. */
char *view_url_decode(const char *s)
{
    struct textbuf out;
    textbuf_init(&out);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
            int hi = g_ascii_xdigit_value(p[1]), lo = g_ascii_xdigit_value(p[2]);
            int v = hi * 16 + lo;
            if (hi >= 2 && hi <= 7 && v != 0x20 && v != 0x7F) {
                char ch = (char)v;
                textbuf_append(&out, &ch, 1);
            } else {
                textbuf_append(&out, p, 3);
            }
            p += 2;
            continue;
        }
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '%' || c == '<' || c == '>')
            textbuf_printf(&out, "%%%02x", c);
        else
            textbuf_append(&out, p, 1);
    }
    if (out.data == NULL)
        textbuf_puts(&out, "");
    return out.data;
}

/* --- URIs in the body text, as SpamAssassin's _process_text_uri_list finds them ---------- */

/* SpamAssassin's "tbird" URI pattern (PerMsgStatus.pm _tbirdurire): a known scheme or www./ftp.
 * prefix (group 1), a mail address or mailto: (group 2), or a schemeless host name ending in a
 * top-level domain (group 3, host in group 4). We cannot know the admin's util_rb_tld list
 * here, so a TLD is any 2-63 letters or an xn-- label. uri_byte_class (below) lists the ASCII
 * bytes of TB_END to split lines into words: a change to one is a change to both. */
#define TB_END "><\"`}\\]{[|\\s\\x1b\\xa0"
#define TB_END_EMAIL TB_END ",('\\x80-\\xff"
static const char tbird_pattern[] =
    "(?:\\b|(?<=\\x1b\\(.)|(?<=[><\"'`,{\\[(|\\s\\x1b\\xa0]))"
    "(?:(?:((?:(?:https?|ftp)://|(?:www\\d{0,2}|ftp)\\.)[^" TB_END "]{1,2048})(?=(?:[" TB_END "]|\\z)))"
    "|(?:((?:mailto:[^" TB_END_EMAIL "]{1,2048}|[^" TB_END_EMAIL "@]{1,251}@[^" TB_END_EMAIL "]{1,251}))"
    "(?=(?:[" TB_END_EMAIL "]|\\z)))"
    "|(?:(?:^|(?<=[!\"#$&'()*+,/:;<=>?@\\[\\\\\\]^`{|}~\\s\\x1b\\xa0]))"
    "(([a-z\\d][a-z\\d._-]{0,251}\\.(?:[a-z]{2,63}|xn--[a-z\\d-]{1,59}))\\.?(?::\\d{1,5})?"
    "(?:/[^" TB_END "]{1,2048})?)(?=(?:[" TB_END "]|\\z))))";

static pcre2_code *tbird_re;

static gpointer compile_tbird(gpointer unused)
{
    (void)unused;
    int err;
    PCRE2_SIZE off;
    tbird_re = pcre2_compile((PCRE2_SPTR)tbird_pattern, PCRE2_ZERO_TERMINATED,
        PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, NULL);
    if (tbird_re != NULL)
        pcre2_jit_compile(tbird_re, PCRE2_JIT_COMPLETE);
    return NULL;
}

/* Trailing characters Thunderbird does not take into a URI, and a ')' with no '(' before it. */
static size_t trim_text_uri(const char *s, size_t len)
{
    const char *open = memchr(s, '(', len);
    const char *close = memchr(s, ')', len);
    if (close != NULL && (open == NULL || open > close))
        len = (size_t)(close - s);
    while (len > 0 && strchr("-~!@#^&*()_+=:;'?,.", s[len - 1]) != NULL)
        len--;
    return len;
}

static bool valid_label(const char *s, size_t len)
{
    if (len < 1 || len > 63)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = g_ascii_isalnum(c) || c == '_' || (c == '-' && i > 0 && i + 1 < len);
        if (!ok)
            return false;
    }
    return true;
}

/* SpamAssassin's is_fqdn_valid: two labels or more, each 1-63 of [a-z0-9_-], no '-' at an
 * end, 253 bytes at most (trailing dots ignored). */
static bool fqdn_valid(const char *host, size_t len)
{
    while (len > 0 && host[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || host[i] == '.') {
            if (!valid_label(host + start, i - start))
                return false;
            labels++;
            start = i + 1;
        }
    }
    return labels > 1;
}

/* SpamAssassin's is_domain_valid for the host of a mail address: no whitespace, a dot, and a
 * top-level domain of letters (or xn--). */
static bool mail_domain_valid(const char *host, size_t len)
{
    const char *dot = NULL;
    for (size_t i = 0; i < len; i++) {
        if (view_is_space((unsigned char)host[i]))
            return false;
        if (host[i] == '.')
            dot = host + i;
    }
    if (dot == NULL)
        return false;
    const char *tld = dot + 1;
    size_t tld_len = len - (size_t)(tld - host);
    if (tld_len >= 4 && g_ascii_strncasecmp(tld, "xn--", 4) == 0)
        return true;
    if (tld_len < 2 || tld_len > 63)
        return false;
    for (size_t i = 0; i < tld_len; i++) {
        if (!g_ascii_isalpha(tld[i]))
            return false;
    }
    return true;
}

static bool has_pct_escape(const char *s)
{
    for (; *s; s++) {
        if (s[0] == '%' && g_ascii_isxdigit(s[1]) && g_ascii_isxdigit(s[2]))
            return true;
    }
    return false;
}

/* One URI found in text, made into what SpamAssassin records: a scheme added where it had
 * none, mail addresses as mailto:. Returns NULL for what it skips. */
static char *text_uri_to_record(const char *raw, int kind, bool *schemeless, bool *unlinked)
{
    *schemeless = *unlinked = false;
    if (g_ascii_strncasecmp(raw, "http:", 5) == 0 || g_ascii_strncasecmp(raw, "https:", 6) == 0
        || g_ascii_strncasecmp(raw, "ftp:", 4) == 0 || g_ascii_strncasecmp(raw, "mailto:", 7) == 0)
        return xstrdup(raw);
    (void)kind;
    *schemeless = true;
    if (g_ascii_strncasecmp(raw, "ftp.", 4) == 0)
        return xasprintf("ftp://%s", raw);
    if (g_ascii_strncasecmp(raw, "www", 3) == 0) {
        size_t d = 3;
        while (d < 5 && g_ascii_isdigit(raw[d]))
            d++;
        if (raw[d] == '.')
            return xasprintf("http://%s", raw);
    }
    const char *at = strchr(raw, '@');
    const char *slash = strchr(raw, '/');
    if (at != NULL && slash != NULL && slash < at && at > slash + 1)
        return xasprintf("http://%s", raw);
    if (at != NULL) {
        const char *dot = strchr(at + 2 <= raw + strlen(raw) ? at + 1 : at, '.');
        if (at[1] == '\0' || dot == NULL || dot == at + 1)
            return NULL;                    /* no dot after at least one byte past the @ */
        if (strstr(raw, "&nbsp;") != NULL)
            return NULL;
        const char *p = raw;
        static const char *const misparses[] = {"skype", "email", "e-mail", "mail", "-mail", NULL};
        for (size_t k = 0; misparses[k] != NULL; k++) {
            size_t n = strlen(misparses[k]);
            if (g_ascii_strncasecmp(p, misparses[k], n) == 0 && p[n] == ':') {
                p += n;
                break;
            }
        }
        while (*p == ':')
            p++;
        return xasprintf("mailto:%s", p);
    }
    if (strchr(raw, '.') == NULL)
        return NULL;
    *unlinked = true;
    return xasprintf("http://%s", raw);
}

/* The checks SpamAssassin makes on a mailto: found in text: %-escapes undone, an @ followed
 * by a valid domain. Returns false to skip it. */
static bool text_mailto_ok(char **uri)
{
    if (has_pct_escape(*uri)) {
        char *decoded = view_url_decode(*uri);
        free(*uri);
        *uri = decoded;
    }
    const char *at = strchr(*uri, '@');
    if (at == NULL)
        return false;
    size_t host_len = strcspn(at + 1, "?&>");
    while (host_len >= 3 && strncmp(at + 1 + host_len - 3, "%20", 3) == 0)
        host_len -= 3;
    return mail_domain_valid(at + 1, host_len);
}

/* The URIs of s[start, len) (the text before start seen by the lookbehinds only). */
static void scan_word(struct view_builder *b, const char *s, size_t len, PCRE2_SIZE start,
    pcre2_match_data *md, GHashTable *seen)
{
    while (start <= len) {
        int rc = pcre2_match(tbird_re, (PCRE2_SPTR)s, len, start, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        int group = 0;
        for (int g = 1; g <= 3 && g < rc; g++) {
            if (ov[2 * g] != PCRE2_UNSET) {
                group = g;
                break;
            }
        }
        PCRE2_SIZE next = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        while (next < len && ((unsigned char)s[next] & 0xC0) == 0x80)
            next++;
        start = next;
        if (group == 0)
            continue;
        size_t raw_len = trim_text_uri(s + ov[2 * group], ov[2 * group + 1] - ov[2 * group]);
        char *raw = xstrndup(s + ov[2 * group], raw_len);
        if (g_hash_table_contains(seen, raw)) {
            free(raw);
            continue;
        }
        g_hash_table_add(seen, raw);
        if (group == 2 && strchr(raw, '@') == NULL)
            continue;
        if (group == 3 && rc > 4 && ov[8] != PCRE2_UNSET && !fqdn_valid(s + ov[8], ov[9] - ov[8]))
            continue;
        if (g_ascii_strncasecmp(raw, "cid:", 4) == 0 || g_ascii_strncasecmp(raw, "mid:", 4) == 0)
            continue;
        size_t w = 0;
        while (g_ascii_isalnum(raw[w]) || raw[w] == '_')
            w++;
        if (w > 0 && raw[w] == ':') {
            size_t k = w + 1, slashes = 0;
            while (raw[k] == '/' && slashes < 2) {
                k++;
                slashes++;
            }
            if (raw[k] == '\0')
                continue;                   /* an empty URI: "http://" */
        }
        bool schemeless, unlinked;
        char *uri = text_uri_to_record(raw, group, &schemeless, &unlinked);
        if (uri == NULL)
            continue;
        if (g_ascii_strncasecmp(uri, "mailto:", 7) == 0 && !text_mailto_ok(&uri)) {
            free(uri);
            continue;
        }
        struct message_uri *u = view_add_uri_typed(b, uri, strlen(uri), NULL, VIEW_URI_PARSED);
        if (u != NULL) {
            u->schemeless = u->schemeless || schemeless;
            u->unlinked = u->unlinked || unlinked;
        }
        free(uri);
    }
}

/* What a byte is to the word split below: the ASCII bytes of TB_END end words (every branch
 * of the pattern stops before one, so no match spans one, and the end of the text in its
 * place reads the same to the pattern: its lookaheads take either, and neither is a word
 * character); '@', ':' and '.' are what a match needs (below). */
enum uri_byte { URI_BYTE_OTHER, URI_BYTE_ENDS_WORD, URI_BYTE_NEEDED };

static const unsigned char uri_byte_class[256] = {
    [' '] = URI_BYTE_ENDS_WORD, ['\t'] = URI_BYTE_ENDS_WORD, ['\n'] = URI_BYTE_ENDS_WORD,
    ['\r'] = URI_BYTE_ENDS_WORD, ['\f'] = URI_BYTE_ENDS_WORD, ['\v'] = URI_BYTE_ENDS_WORD,
    [0x1b] = URI_BYTE_ENDS_WORD, ['>'] = URI_BYTE_ENDS_WORD, ['<'] = URI_BYTE_ENDS_WORD,
    ['"'] = URI_BYTE_ENDS_WORD, ['`'] = URI_BYTE_ENDS_WORD, ['}'] = URI_BYTE_ENDS_WORD,
    [']'] = URI_BYTE_ENDS_WORD, ['{'] = URI_BYTE_ENDS_WORD, ['['] = URI_BYTE_ENDS_WORD,
    ['|'] = URI_BYTE_ENDS_WORD,
    ['@'] = URI_BYTE_NEEDED, [':'] = URI_BYTE_NEEDED, ['.'] = URI_BYTE_NEEDED,
};

static enum uri_byte uri_byte(char c)
{
    return (enum uri_byte)uri_byte_class[(unsigned char)c];
}

/* The pattern is run only over the words (bytes between two that end words) that may hold a
 * match: each branch needs an '@' (an address), a ':' (a scheme, mailto:) or a '.' with more
 * of the word after it (www., ftp., a host name and its top-level domain), and most words of
 * a text have none. Each word is given as the end of the text, the line before it visible to
 * the lookbehinds: the URIs found are those of one run over the whole line. */
static void scan_line(struct view_builder *b, const char *s, size_t len, pcre2_match_data *md,
    GHashTable *seen)
{
    size_t word = 0;                        /* where the current word starts */
    for (size_t i = 0; i < len; i++) {
        enum uri_byte c = uri_byte(s[i]);
        if (c == URI_BYTE_ENDS_WORD) {
            word = i + 1;
            continue;
        }
        if (c != URI_BYTE_NEEDED
            || (s[i] == '.' && (i + 1 == len || uri_byte(s[i + 1]) == URI_BYTE_ENDS_WORD)))
            continue;
        size_t end = i + 1;
        while (end < len && uri_byte(s[end]) != URI_BYTE_ENDS_WORD)
            end++;
        scan_word(b, s, end, word, md, seen);
        i = end;                            /* s[end] ends the word, or end == len */
        word = end + 1;
    }
}

/* Finds the URIs of the body lines as SpamAssassin does (after view_body_finish). */
void view_scan_body_uris(struct view_builder *b)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, compile_tbird, NULL);
    if (tbird_re == NULL)
        return;
    const struct message_view *view = b->view;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(tbird_re, NULL);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    for (size_t i = 0; i < view->line_count; i++) {
        const struct view_line *line = &view->lines[i];
        const char *text = b->text.data + line->start;
        if (g_utf8_validate(text, (gssize)line->len, NULL)) {
            scan_line(b, text, line->len, md, seen);
            continue;
        }
        /* a long line split inside a character: matched as valid UTF-8, as PCRE2 needs */
        struct textbuf clean;
        textbuf_init(&clean);
        view_utf8_sanitize(text, line->len, &clean);
        scan_line(b, clean.data ? clean.data : "", clean.len, md, seen);
        textbuf_free(&clean);
    }
    g_hash_table_destroy(seen);
    pcre2_match_data_free(md);
}
