/* rules_uri.c - the URI list uri rules match, as SpamAssassin's get_uri_list makes it: every
 * URI of the message view with its canonical forms (uri_list_canonicalize: backslashes to
 * slashes, "http:x" to "http://x", %-escapes and &#..; entities undone, a scheme added, user
 * names, trailing junk and default ports dropped, numeric hosts in dotted, hex, octal and
 * decimal forms written as dotted quads, "http://foo" as "http://www.foo.com", mail addresses
 * cut at ?, & and %20, one level of redirector (the admin's redirector_pattern, else any
 * embedded http URL) followed, its target canonicalised in turn). URIs found in the text are
 * kept only when a form has a valid domain (a top-level domain of the admin's util_rb_tld
 * lists) or an IP address. Also reads those two directives. Promises: bounded work per URI, the
 * list without repeats. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "message_view.h"
#include "rules_evalfn.h"
#include "rules_internal.h"
#include "util.h"

#define URI_MAX_LENGTH 8192        /* SpamAssassin's MAX_URI_LENGTH */
#define URI_MAX_WORK 64            /* URIs (redirect targets included) canonicalised per URI */

/* --- directives ---------------------------------------------------------------------------- */

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_words(char ***list, size_t *count, const char *words)
{
    char *copy = xstrdup(words);
    char *save = NULL;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        *list = xrealloc(*list, (*count + 1) * sizeof **list);
        (*list)[*count] = xstrdup(w);
        str_lower((*list)[*count]);
        (*count)++;
    }
    free(copy);
}

/* util_rb_tld, util_rb_2tld (level 2) and util_rb_3tld (level 3) */
void ruleset_add_tlds(struct ruleset *rs, int level, const char *list)
{
    if (level == 2)
        add_words(&rs->tld2, &rs->tld2_count, list);
    else if (level == 3)
        add_words(&rs->tld3, &rs->tld3_count, list);
    else
        add_words(&rs->tlds, &rs->tld_count, list);
    rs->tlds_sorted = false;
}

void ruleset_add_redirector(struct ruleset *rs, const char *pattern, const char *origin)
{
    const char *p = pattern;
    const char *why;
    char *detail = NULL;
    pcre2_code *re = regex_compile_perl(&p, 0, &why, &detail);
    if (re == NULL) {
        rs->malformed_lines++;
        free(detail);
        (void)origin;
        return;
    }
    rs->redirectors = xrealloc(rs->redirectors, (rs->redirector_count + 1) * sizeof *rs->redirectors);
    rs->redirectors[rs->redirector_count++] = re;
}

void ruleset_uri_finish(struct ruleset *rs)
{
    if (rs->tld_count > 0)
        qsort(rs->tlds, rs->tld_count, sizeof *rs->tlds, compare_str);
    if (rs->tld2_count > 0)
        qsort(rs->tld2, rs->tld2_count, sizeof *rs->tld2, compare_str);
    if (rs->tld3_count > 0)
        qsort(rs->tld3, rs->tld3_count, sizeof *rs->tld3, compare_str);
    rs->tlds_sorted = true;
}

void ruleset_uri_free(struct ruleset *rs)
{
    for (size_t i = 0; i < rs->tld_count; i++)
        free(rs->tlds[i]);
    free(rs->tlds);
    for (size_t i = 0; i < rs->tld2_count; i++)
        free(rs->tld2[i]);
    free(rs->tld2);
    for (size_t i = 0; i < rs->tld3_count; i++)
        free(rs->tld3[i]);
    free(rs->tld3);
    for (size_t i = 0; i < rs->redirector_count; i++)
        pcre2_code_free(rs->redirectors[i]);
    free(rs->redirectors);
}

/* --- domains ------------------------------------------------------------------------------- */

static bool tld_known(const struct ruleset *rs, const char *tld)
{
    if (rs->tld_count == 0 || !rs->tlds_sorted)
        return false;
    char *low = xstrdup(tld);
    str_lower(low);
    const char *key = low;
    bool found = bsearch(&key, rs->tlds, rs->tld_count, sizeof *rs->tlds, compare_str) != NULL;
    free(low);
    return found;
}

/* SpamAssassin's is_domain_valid: no whitespace, a dot, a known top-level domain. */
static bool domain_valid(const struct ruleset *rs, const char *dom)
{
    const char *dot = strrchr(dom, '.');
    if (dot == NULL || dot[1] == '\0')
        return false;
    for (const char *p = dom; *p; p++) {
        if (isspace((unsigned char)*p))
            return false;
    }
    return tld_known(rs, dot + 1);
}

static bool is_ipv4(const char *s)
{
    int parts = 0;
    while (*s) {
        int digits = 0;
        while (isdigit((unsigned char)*s)) {
            s++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            return false;
        parts++;
        if (*s == '.')
            s++;
        else if (*s != '\0')
            return false;
    }
    return parts == 4;
}

static bool fqdn_valid(const char *host)
{
    size_t len = strlen(host);
    while (len > 0 && host[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && host[i] != '.')
            continue;
        size_t n = i - start;
        if (n < 1 || n > 63)
            return false;
        for (size_t k = start; k < i; k++) {
            char c = host[k];
            if (!(isalnum((unsigned char)c) || c == '_' || (c == '-' && k > start && k + 1 < i)))
                return false;
        }
        labels++;
        start = i + 1;
    }
    return labels > 1;
}

static bool in_sorted(char *const *list, size_t count, const char *word)
{
    return count > 0 && bsearch(&word, list, count, sizeof *list, compare_str) != NULL;
}

/* SpamAssassin's trim_domain (RegistryBoundaries split_domain): the registered domain of a
 * host name by util_rb_2tld / util_rb_3tld (its US state rules left out). Malloc'd. */
char *rules_trim_domain(const struct ruleset *rs, const char *host)
{
    char *d = xstrdup(host);
    str_lower(d);
    size_t k = 0;                       /* ".." to ".", no dots at the ends */
    for (size_t i = 0; d[i]; i++) {
        if (d[i] == '.' && (k == 0 || d[k - 1] == '.'))
            continue;
        d[k++] = d[i];
    }
    while (k > 0 && d[k - 1] == '.')
        k--;
    d[k] = '\0';
    const char *rest = d, *prev = NULL;
    for (;;) {
        size_t labels = 1;
        for (const char *p = rest; *p; p++)
            labels += *p == '.';
        if (labels <= 1)
            break;
        if (labels == 2 && in_sorted(rs->tld2, rs->tld2_count, rest))
            break;
        if (labels == 3 && in_sorted(rs->tld3, rs->tld3_count, rest)) {
            const char *last = strrchr(rest, '.');
            if (strcmp(last + 1, "us") != 0)
                break;
        }
        prev = rest;
        rest = strchr(rest, '.') + 1;
    }
    char *out = xstrdup(prev != NULL ? prev : rest);
    free(d);
    return out;
}

bool rules_domain_valid(const struct ruleset *rs, const char *dom)
{
    return domain_valid(rs, dom);
}

/* SpamAssassin's uri_to_domain: the host of uri (*host) and its domain (*domain, an IP kept
 * whole); false when it has none that counts. Both malloc'd on success. */
bool rules_uri_to_domain(const struct ruleset *rs, const char *uri, char **host_out,
    char **domain_out)
{
    char *u = xstrdup(uri);
    str_lower(u);
    bool ok = false;
    char *host = u;
    if (strncmp(u, "javascript:", 11) == 0 || strncmp(u, "cid:", 4) == 0
        || strncmp(u, "file:", 5) == 0)
        goto out;
    if (strncmp(u, "mailto:", 7) == 0) {
        host = u + 7;
        host[strcspn(host, "?")] = '\0';
        char *at = strchr(host, '@');
        if (at == NULL || strchr(at + 1, '@') != NULL)
            goto out;
        host = strrchr(host, '@') + 1;
    } else {
        size_t i = 0;
        while (host[i] >= 'a' && host[i] <= 'z')
            i++;
        if (i > 0 && host[i] == ':') {
            host += i + 1;
            for (int k = 0; k < 2 && *host == '/'; k++)
                host++;
        }
        host[strcspn(host, "/?#")] = '\0';
        char *at = strrchr(host, '@');
        if (at != NULL)
            host = at + 1;
        char *colon = strrchr(host, ':');
        if (colon != NULL && strspn(colon + 1, "0123456789") == strlen(colon + 1))
            *colon = '\0';
    }
    for (const char *p = host; *p; p++) {
        if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            int v = (int)strtol((char[]){p[1], p[2], 0}, NULL, 16);
            if (v >= 0x21 && v <= 0x7E)
                goto out;
        }
    }
    if (is_ipv4(host)) {
        ok = true;
        if (host_out != NULL)
            *host_out = xstrdup(host);
        if (domain_out != NULL)
            *domain_out = xstrdup(host);
    } else if (fqdn_valid(host) && domain_valid(rs, host)) {
        ok = true;
        if (host_out != NULL)
            *host_out = xstrdup(host);
        if (domain_out != NULL)
            *domain_out = rules_trim_domain(rs, host);
    }
out:
    free(u);
    return ok;
}

/* --- canonical forms ----------------------------------------------------------------------- */

struct strset {
    GHashTable *seen;
    char **items;
    size_t count;
};

static void strset_init(struct strset *s)
{
    s->seen = g_hash_table_new(g_str_hash, g_str_equal);
    s->items = NULL;
    s->count = 0;
}

static bool strset_add(struct strset *s, const char *str)
{
    if (g_hash_table_contains(s->seen, str))
        return false;
    char *copy = strlen(str) > URI_MAX_LENGTH ? xstrndup(str, URI_MAX_LENGTH) : xstrdup(str);
    if (g_hash_table_contains(s->seen, copy)) {
        free(copy);
        return false;
    }
    s->items = xrealloc(s->items, (s->count + 1) * sizeof *s->items);
    s->items[s->count++] = copy;
    g_hash_table_add(s->seen, copy);
    return true;
}

static void strset_free(struct strset *s)
{
    g_hash_table_destroy(s->seen);
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
}

static bool has_escape(const char *s)
{
    for (; *s; s++) {
        if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2]))
            return true;
    }
    return false;
}

/* The variants of a mail URI: cut at '?', at '&', %20 trimmed, the <address> of a named one. */
static void mail_variants(const char *uri, struct strset *out)
{
    const char *at = strchr(uri, '@');
    if (at == NULL || at == uri)
        return;
    const char *q = strchr(at + 1, '?');
    if (q != NULL && q > at + 1) {
        char *v = xstrndup(uri, (size_t)(q - uri));
        strset_add(out, v);
        free(v);
    }
    size_t amp = strcspn(at + 1, "?&");
    if (at[1 + amp] == '&' && amp > 0) {
        char *v = xstrndup(uri, (size_t)(at + 1 + amp - uri));
        strset_add(out, v);
        free(v);
    }
    if (strstr(uri, "%20") != NULL) {
        const char *p = uri;
        if (strncasecmp(p, "mailto:", 7) == 0)
            p += 7;
        while (strncmp(p, "%20", 3) == 0)
            p += 3;
        const char *a = strchr(p, '@');
        size_t user = strcspn(p, "@");
        if (a != NULL && user > 0 && p[user] == '@') {
            size_t host = strcspn(a + 1, "?&%");
            if (host > 0) {
                char *v = xasprintf("mailto:%.*s", (int)(a + 1 + host - p), p);
                strset_add(out, v);
                free(v);
            }
        }
    }
    size_t head = strcspn(uri, "?&");
    const char *lt = memchr(uri, '<', head);
    if (lt != NULL) {
        const char *gt = strchr(lt + 1, '>');
        const char *a = strchr(lt + 1, '@');
        if (gt != NULL && a != NULL && a < gt && a > lt + 1 && gt > a + 1) {
            char *v = xasprintf("mailto:%.*s", (int)(gt - lt - 1), lt + 1);
            strset_add(out, v);
            free(v);
        }
    }
}

/* &#NN; / &#xNN; of printable ASCII, and the entities of Unicode dots, undone. */
static char *decode_entities(const char *s)
{
    struct textbuf out;
    textbuf_init(&out);
    while (*s) {
        if (s[0] == '&' && s[1] == '#') {
            const char *p = s + 2;
            bool hex = *p == 'x' || *p == 'X';
            if (hex)
                p++;
            char *end;
            unsigned long v = strtoul(p, &end, hex ? 16 : 10);
            bool digits = end > p && (hex ? true : isdigit((unsigned char)*p));
            if (digits && *end == ';') {
                bool dot = v == 0x2E || v == 0x3002 || v == 0xFF0E || v == 0xFF61;
                if ((v >= 0x21 && v <= 0x7E && (hex || v <= 126)) || dot) {
                    char c = dot ? '.' : (char)v;
                    textbuf_append(&out, &c, 1);
                    s = end + 1;
                    continue;
                }
            }
        }
        textbuf_append(&out, s, 1);
        s++;
    }
    if (out.data == NULL)
        textbuf_puts(&out, "");
    return out.data;
}

static char *ulong_to_ip(unsigned long long v)
{
    char hex[40];
    snprintf(hex, sizeof hex, "%08llx", v);
    unsigned b[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        char pair[3] = {hex[2 * i], hex[2 * i + 1] ? hex[2 * i + 1] : '0', 0};
        b[i] = (unsigned)strtoul(pair, NULL, 16);
    }
    return xasprintf("%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/* One dotted octet of SpamAssassin's IP clean-up: 0x hex to decimal, a leading-zero octal to
 * decimal, leading zeros dropped (its Perl substitutions, in order). chunk keeps its '.'. */
static void clean_octet(const char *chunk, size_t len, struct textbuf *out)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 63 ? len : 63), chunk);
    char *dot = strchr(buf, '.');
    const char *tail = dot ? "." : "";
    if (dot)
        *dot = '\0';
    char num[64];
    if (strncasecmp(buf, "0x", 2) == 0) {
        snprintf(num, sizeof num, "%llu", strtoull(buf + 2, NULL, 16));
    } else {
        snprintf(num, sizeof num, "%s", buf);
        size_t z = strspn(num, "0");
        const char *d = num + z;
        size_t oct = 0;
        if (z > 0 && *d >= '1' && *d <= '3') {
            oct = 1;
            while (oct < 3 && d[oct] >= '0' && d[oct] <= '7')
                oct++;
        } else if (z > 0 && *d >= '4' && *d <= '7') {
            oct = 1;
            if (d[1] >= '0' && d[1] <= '7')
                oct = 2;
        }
        if (oct > 0 && d[oct] == '\0') {       /* the chunk is digits: \b is its end */
            char digits[4] = {d[0], oct > 1 ? d[1] : 0, oct > 2 ? d[2] : 0, 0};
            snprintf(num, sizeof num, "%lu", strtoul(digits, NULL, 8));
        }
    }
    const char *p = num;
    while (*p == '0')
        p++;
    textbuf_puts(out, p);
    textbuf_puts(out, tail);
}

static bool ip_chunk(const char *s, size_t len)
{
    if (len == 0)
        return false;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (size_t i = 2; i < len; i++) {
            if (!isxdigit((unsigned char)s[i]))
                return false;
        }
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static void push3(struct strset *out, const char *a, const char *b, const char *c)
{
    char *v = xasprintf("%s%s%s", a, b, c);
    strset_add(out, v);
    free(v);
}

/* The host part variants of an http(s) URI (the second half of uri_list_canonicalize). */
static void http_variants(const struct ruleset *rs, const char *nuri, struct strset *out,
    struct strset *work)
{
    size_t proto_len = strncasecmp(nuri, "https://", 8) == 0 ? 8 : 7;
    char proto[9];
    memcpy(proto, nuri, proto_len);
    proto[proto_len] = '\0';
    const char *p = nuri + proto_len;
    size_t auth_len = strcspn(p, "@/?#");
    bool has_auth = p[auth_len] == '@';
    const char *h = has_auth ? p + auth_len + 1 : p;
    size_t host_len = strcspn(h, "/?#:");
    if (host_len == 0)
        return;
    char *host = xstrndup(h, host_len);
    const char *rest = h + host_len;
    const char *port = NULL;
    size_t port_len = 0;
    if (*rest == ':') {
        port = rest + 1;
        port_len = strspn(port, "0123456789");
    }
    bool is_http = strcmp(proto, "http://") == 0;
    if (port != NULL) {
        const char *def = is_http ? "80" : "443";
        if (port_len == strlen(def) && strncmp(port, def, port_len) == 0
            && !isalnum((unsigned char)port[port_len]) && port[port_len] != '_')
            push3(out, proto, host, port + port_len);
    }
    char *nhost = xstrdup(host);
    str_lower(nhost);
    /* control characters dropped from the host */
    char *stripped = xstrdup(host);
    size_t k = 0;
    for (size_t i = 0; stripped[i]; i++) {
        if ((unsigned char)stripped[i] > 0x20)
            stripped[k++] = stripped[i];
    }
    if (k != strlen(host)) {
        stripped[k] = '\0';
        push3(out, proto, stripped, rest);
        free(host);
        host = xstrdup(stripped);
    }
    free(stripped);
    /* one level of redirector */
    char *whole = xasprintf("%s%s%s", proto, host, rest);
    bool redirected = false;
    pcre2_match_data *md = NULL;
    for (size_t i = 0; i < rs->redirector_count && !redirected; i++) {
        if (md == NULL)
            md = pcre2_match_data_create(16, NULL);
        int rc = pcre2_match(rs->redirectors[i], (PCRE2_SPTR)whole, strlen(whole), 0, 0, md, NULL);
        if (rc < 2)
            continue;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[2] == PCRE2_UNSET)
            continue;
        char *target = xstrndup(whole + ov[2], ov[3] - ov[2]);
        if (strchr(target, '.') != NULL) {
            strset_add(work, target);
            redirected = true;
        }
        free(target);
    }
    if (md != NULL)
        pcre2_match_data_free(md);
    if (!redirected) {
        for (const char *r = rest; *r; r++) {
            if (strncasecmp(r, "http", 4) != 0)
                continue;
            const char *q = r + 4;
            if (*q == 's' || *q == 'S')
                q++;
            if (*q != ':')
                continue;
            q++;
            for (int s = 0; s < 2 && *q == '/'; s++)
                q++;
            size_t n = strcspn(q, "&#");
            if (n == 0)
                continue;
            char *target = xstrndup(r, (size_t)(q - r) + n);
            if (strchr(target, '.') != NULL)
                strset_add(work, target);
            free(target);
            break;
        }
    }
    free(whole);
    /* user names, trailing junk */
    const char *at = strrchr(host, '@');
    if (at != NULL) {
        char *h2 = xstrdup(at + 1);
        free(host);
        host = h2;
        push3(out, proto, host, rest);
    }
    size_t hl = strlen(host);
    while (hl > 0 && !isalnum((unsigned char)host[hl - 1]))
        hl--;
    if (hl != strlen(host)) {
        host[hl] = '\0';
        push3(out, proto, host, rest);
    }
    /* numeric hosts */
    const char *c[4];
    size_t cl[4];
    size_t parts = 0;
    const char *s = host;
    bool dotted = true;
    while (parts < 4) {
        size_t n = strcspn(s, ".");
        c[parts] = s;
        cl[parts] = n;
        if (!ip_chunk(s, n)) {
            dotted = false;
            break;
        }
        parts++;
        s += n;
        if (*s == '.')
            s++;
        else
            break;
    }
    dotted = dotted && parts == 4 && *s == '\0' && c[3][cl[3]] == '\0';
    if (dotted) {
        struct textbuf ip;
        textbuf_init(&ip);
        for (int i = 0; i < 4; i++)
            clean_octet(c[i], cl[i] + (i < 3 ? 1 : 0), &ip);
        push3(out, proto, ip.data ? ip.data : "", rest);
        textbuf_free(&ip);
    } else if (strncasecmp(host, "0x", 2) == 0 && host[2] != '\0'
        && strspn(host + 2, "0123456789abcdefABCDEF") == strlen(host + 2)) {
        size_t n = strlen(host + 2);
        const char *last = host + 2 + (n > 8 ? n - 8 : 0);
        char *ip = ulong_to_ip(strtoull(last, NULL, 16));
        push3(out, proto, ip, rest);
        free(ip);
    } else if (host[0] != '\0' && strspn(host, "0123456789") == strlen(host)) {
        char *ip = ulong_to_ip(strtoull(host, NULL, 10));
        push3(out, proto, ip, rest);
        free(ip);
    } else if (is_http && !has_auth && strcmp(nhost, "localhost") != 0 && port == NULL) {
        const char *label = strncmp(nhost, "www.", 4) == 0 ? nhost + 4 : nhost;
        if (*label != '\0' && strchr(label, '.') == NULL && !domain_valid(rs, nhost)) {
            char *v = xasprintf("%swww.%s.com%s", proto, label, rest);
            strset_add(out, v);
            free(v);
        }
    }
    free(nhost);
    free(host);
}

/* uri_list_canonicalize for one URI: its forms (itself included) added to out. */
static void canonicalize(const struct ruleset *rs, const char *raw, struct strset *out)
{
    struct strset work;
    strset_init(&work);
    strset_add(&work, raw);
    for (size_t w = 0; w < work.count && w < URI_MAX_WORK; w++) {
        struct textbuf t;
        textbuf_init(&t);
        for (const char *p = work.items[w]; *p; p++) {
            if (*p != '\n' && *p != '\r')
                textbuf_append(&t, p, 1);
        }
        char *uri = t.data ? t.data : xstrdup("");
        char *b = uri;
        while (isspace((unsigned char)*b))
            b++;
        size_t len = strlen(b);
        while (len > 0 && isspace((unsigned char)b[len - 1]))
            b[--len] = '\0';
        if (len > 0)
            strset_add(out, b);     /* SpamAssassin keeps every input, even those it skips */
        if (len <= 1 || *b == '#' || *b == '?' || *b == '&' || (*b == '/' && b[1] != '/')) {
            free(uri);
            continue;
        }
        size_t colon = strcspn(b, ":");
        if (strncasecmp(b, "mailto:", 7) == 0 || memchr(b, '@', colon) != NULL) {
            mail_variants(b, out);
            free(uri);
            continue;
        }
        char *nuri = xstrdup(b);
        for (char *q = nuri; *q; q++) {
            if (*q == '\\')
                *q = '/';
        }
        if (strncasecmp(nuri, "http:", 5) == 0 || strncasecmp(nuri, "https:", 6) == 0) {
            size_t sl = strncasecmp(nuri, "https:", 6) == 0 ? 6 : 5;
            size_t slashes = 0;
            while (slashes < 2 && nuri[sl + slashes] == '/')
                slashes++;
            char *fixed = xasprintf("%.*s//%s", (int)sl, nuri, nuri + sl + slashes);
            free(nuri);
            nuri = fixed;
        }
        if (has_escape(nuri)) {
            char *d = view_url_decode(nuri);
            free(nuri);
            nuri = d;
        }
        size_t sch = 0;
        while (isalnum((unsigned char)nuri[sch]) || nuri[sch] == '-' || nuri[sch] == '_')
            sch++;
        if (!(sch > 0 && nuri[sch] == ':')) {
            char *fixed = xasprintf("%s%s", strncmp(nuri, "ftp.", 4) == 0 ? "ftp://" : "http://", nuri);
            free(nuri);
            nuri = fixed;
        }
        if (strncasecmp(nuri, "http://", 7) == 0 || strncasecmp(nuri, "https://", 8) == 0) {
            size_t start = strncasecmp(nuri, "https://", 8) == 0 ? 8 : 7;
            size_t hl = strcspn(nuri + start, "/?#");
            char sep = nuri[start + hl];
            if (hl > 0 && (sep == '?' || sep == '#')) {
                char *fixed = xasprintf("%.*s/%s", (int)(start + hl), nuri, nuri + start + hl);
                free(nuri);
                nuri = fixed;
            }
        }
        char *ent = decode_entities(nuri);
        free(nuri);
        nuri = ent;
        if (strcmp(nuri, b) != 0)
            strset_add(out, nuri);
        if (strncasecmp(nuri, "http://", 7) == 0 || strncasecmp(nuri, "https://", 8) == 0)
            http_variants(rs, nuri, out, &work);
        free(nuri);
        free(uri);
    }
    for (size_t w = 1; w < work.count; w++)
        strset_add(out, work.items[w]);
    strset_free(&work);
}

/* --- the detail list and the list --------------------------------------------------------- */

static struct rules_uri_detail *detail_for(struct rules_uri_details *d, GHashTable *index,
    const char *raw)
{
    struct rules_uri_detail *found = g_hash_table_lookup(index, raw);
    if (found != NULL)
        return found;
    if (d->count == d->alloc) {
        d->alloc = d->alloc ? 2 * d->alloc : 16;
        d->items = xrealloc(d->items, d->alloc * sizeof *d->items);
        g_hash_table_remove_all(index);         /* the items moved: index them again */
        for (size_t i = 0; i < d->count; i++)
            g_hash_table_insert(index, d->items[i].raw, &d->items[i]);
    }
    struct rules_uri_detail *e = &d->items[d->count++];
    memset(e, 0, sizeof *e);
    e->raw = xstrdup(raw);
    g_hash_table_insert(index, e->raw, e);
    return e;
}

static void add_unique(char ***list, size_t *count, const char *s)
{
    for (size_t i = 0; i < *count; i++) {
        if (strcmp((*list)[i], s) == 0)
            return;
    }
    *list = xrealloc(*list, (*count + 1) * sizeof **list);
    (*list)[(*count)++] = xstrdup(s);
}

static void free_list(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

/* SpamAssassin's get_uri_detail_list: each URI of the view (the first max_uris) under its raw
 * form, with where it was found, its anchor texts, its canonical forms and their hosts and
 * domains. A URI found only in the text is dropped when no form has a domain or IP. */
void rules_uri_details_build(const struct ruleset *rs, const struct message_view *view,
    size_t max_uris, struct rules_uri_details *d)
{
    memset(d, 0, sizeof *d);
    GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < view->uri_count && i < max_uris; i++) {
        const struct message_uri *u = &view->uris[i];
        if (u->url == NULL || u->url[0] == '\0')
            continue;
        struct rules_uri_detail *e = detail_for(d, index, u->url);
        e->types |= u->types;
        e->schemeless = e->schemeless || u->schemeless;
        e->unlinked = e->unlinked || u->unlinked;
        if (u->anchor_text != NULL)
            add_unique(&e->anchors, &e->anchor_count, u->anchor_text);
        if (e->cleaned != NULL || e->dropped)
            continue;
        struct strset forms;
        strset_init(&forms);
        canonicalize(rs, u->url, &forms);
        for (size_t k = 0; k < forms.count; k++) {
            char *host = NULL, *domain = NULL;
            if (rules_uri_to_domain(rs, forms.items[k], &host, &domain)) {
                add_unique(&e->hosts, &e->host_count, host);
                add_unique(&e->domains, &e->domain_count, domain);
                free(host);
                free(domain);
            }
        }
        e->cleaned = forms.items;
        e->cleaned_count = forms.count;
        forms.items = NULL;
        forms.count = 0;
        strset_free(&forms);
    }
    g_hash_table_destroy(index);
    for (size_t i = 0; i < d->count; i++) {
        struct rules_uri_detail *e = &d->items[i];
        e->dropped = e->types == VIEW_URI_PARSED && e->domain_count == 0;
        if (e->dropped)
            continue;
        for (size_t k = 0; k < e->cleaned_count; k++) {
            if (strlen(e->cleaned[k]) >= URI_MAX_LENGTH)
                d->truncated = true;
        }
    }
    d->truncated = d->truncated || view->uri_truncated;
}

void rules_uri_details_free(struct rules_uri_details *d)
{
    for (size_t i = 0; i < d->count; i++) {
        struct rules_uri_detail *e = &d->items[i];
        free(e->raw);
        free_list(e->cleaned, e->cleaned_count);
        free_list(e->anchors, e->anchor_count);
        free_list(e->hosts, e->host_count);
        free_list(e->domains, e->domain_count);
    }
    free(d->items);
    free_list(d->list, d->list_count);
    memset(d, 0, sizeof *d);
}

/* The uri rules' list (get_uri_list): the canonical forms of every URI kept, no repeats. */
void rules_uri_list_make(struct rules_uri_details *d)
{
    struct strset all;
    strset_init(&all);
    for (size_t i = 0; i < d->count; i++) {
        const struct rules_uri_detail *e = &d->items[i];
        if (e->dropped)
            continue;
        for (size_t k = 0; k < e->cleaned_count; k++)
            strset_add(&all, e->cleaned[k]);
    }
    d->list = all.items;
    d->list_count = all.count;
    all.items = NULL;
    all.count = 0;
    strset_free(&all);
}

static void *make_details(struct eval_ctx *ctx)
{
    struct rules_uri_details *d = xcalloc(1, sizeof *d);
    if (ctx->msg->view != NULL) {
        rules_uri_details_build(ctx->rs, ctx->msg->view, ctx->limits->uri_count, d);
        rules_uri_list_make(d);
    }
    return d;
}

static void release_details(void *data)
{
    rules_uri_details_free(data);
    free(data);
}

const struct rules_uri_details *eval_uri_details(struct eval_ctx *ctx)
{
    return eval_plugin_data(ctx, EVAL_URIDETAIL, make_details, release_details);
}
