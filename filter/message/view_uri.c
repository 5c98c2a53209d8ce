/* view_uri.c - the URIs of the message view: bare URLs found in text by a linear scanner,
 * each URI's host (lower case, userinfo and port removed) and whether it is an IP literal in
 * any form a browser accepts (dotted, decimal, hex, octal, IPv6). */
#include "view_build.h"

#include <arpa/inet.h>
#include <glib.h>
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

static bool uri_known(const struct message_view *view, const char *url)
{
    for (size_t i = 0; i < view->uri_count; i++) {
        if (strcmp(view->uris[i].url, url) == 0)
            return true;
    }
    return false;
}

/* Records a URI (trimmed of surrounding whitespace). A bare URL already known is not added
 * again; every link is, since its text matters. */
void view_add_uri(struct view_builder *b, const char *url, size_t len, const char *link_text)
{
    struct message_view *view = b->view;
    while (len > 0 && view_is_space((unsigned char)*url)) {
        url++;
        len--;
    }
    while (len > 0 && view_is_space((unsigned char)url[len - 1]))
        len--;
    if (len == 0 || view->uri_count >= VIEW_MAX_URIS)
        return;
    char *copy = xstrndup(url, len);
    for (char *c = copy; *c; c++) {
        if (*c == '\r' || *c == '\n' || *c == '\t')
            *c = ' ';
    }
    if (link_text == NULL && uri_known(view, copy)) {
        free(copy);
        return;
    }
    if (view->uri_count == b->uri_alloc) {
        b->uri_alloc = b->uri_alloc ? 2 * b->uri_alloc : 16;
        view->uris = xrealloc(view->uris, b->uri_alloc * sizeof *view->uris);
    }
    struct message_uri *u = &view->uris[view->uri_count++];
    u->url = copy;
    u->host = uri_host(copy);
    u->link_text = link_text ? xstrdup(link_text) : NULL;
    u->host_is_ip = u->host != NULL && host_is_ip_literal(u->host);
}

static bool url_stop_byte(unsigned char c)
{
    return c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`'
        || c == '{' || c == '}' || c == '|' || c == '^';
}

/* Where a bare URL may start at s[i]: "http://", "https://", "ftp://" or a "www." not glued
 * to a preceding word. Returns the length of the prefix, 0 when none. */
static size_t url_prefix(const char *s, size_t len, size_t i)
{
    static const char *const schemes[] = {"http://", "https://", "ftp://", "www.", NULL};
    if (i > 0 && (g_ascii_isalnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '/'
            || s[i - 1] == '@' || s[i - 1] == '-'))
        return 0;
    for (size_t k = 0; schemes[k] != NULL; k++) {
        size_t n = strlen(schemes[k]);
        if (len - i > n && g_ascii_strncasecmp(s + i, schemes[k], n) == 0)
            return n;
    }
    return 0;
}

/* Finds bare URLs in plain text. Linear in len. */
void view_scan_bare_urls(struct view_builder *b, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c != 'h' && c != 'H' && c != 'f' && c != 'F' && c != 'w' && c != 'W') {
            i++;
            continue;
        }
        size_t prefix = url_prefix(s, len, i);
        if (prefix == 0) {
            i++;
            continue;
        }
        size_t end = i + prefix;
        while (end < len && !url_stop_byte((unsigned char)s[end]))
            end++;
        size_t stop = end;
        while (stop > i + prefix && strchr(".,;:!?)]", s[stop - 1]) != NULL)
            stop--;
        if (stop > i + prefix)
            view_add_uri(b, s + i, stop - i, NULL);
        i = end;
    }
}
