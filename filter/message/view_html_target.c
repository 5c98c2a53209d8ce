/* view_html_target.c - SpamAssassin's HTML.pm target_uri: a link resolved against the <base>
 * of its HTML part as RFC 2396 (draft bis) section 5.2 says, dot segments removed, "www." and
 * "ftp." authorities without a scheme given http: and ftp:. A pure function. */
#include "view_build.h"

#include <ctype.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct uri_parts {
    char *scheme, *authority, *path, *query, *fragment;   /* NULL when absent; path never */
};

/* ^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))? */
static void parse_uri(const char *u, struct uri_parts *p)
{
    memset(p, 0, sizeof *p);
    size_t n = strcspn(u, ":/?#");
    if (n > 0 && u[n] == ':') {
        p->scheme = xstrndup(u, n);
        u += n + 1;
    }
    if (u[0] == '/' && u[1] == '/') {
        u += 2;
        n = strcspn(u, "/?#");
        p->authority = xstrndup(u, n);
        u += n;
    }
    n = strcspn(u, "?#");
    p->path = xstrndup(u, n);
    u += n;
    if (*u == '?') {
        u++;
        n = strcspn(u, "#");
        p->query = xstrndup(u, n);
        u += n;
    }
    if (*u == '#')
        p->fragment = xstrdup(u + 1);
}

static void free_uri_parts(struct uri_parts *p)
{
    free(p->scheme);
    free(p->authority);
    free(p->path);
    free(p->query);
    free(p->fragment);
}

static char *remove_dot_segments(const char *in)
{
    struct textbuf out;
    textbuf_init(&out);
    textbuf_puts(&out, "");
    char *input = NULL;
    if (strncmp(in, "./", 2) == 0)
        input = xasprintf("/%s", in + 2);
    else if (strncmp(in, "../", 3) == 0)
        input = xasprintf("/%s", in + 3);
    else
        input = xstrdup(in);
    const char *s = input;
    while (*s) {
        if (s[0] == '/' && s[1] == '.' && (s[2] == '\0' || s[2] == '/')) {
            s += 2;
            if (*s == '\0') {
                textbuf_puts(&out, "/");
                break;
            }
        } else if (s[0] == '/' && s[1] == '.' && s[2] == '.' && (s[3] == '\0' || s[3] == '/')) {
            char *slash = out.len ? strrchr(out.data, '/') : NULL;
            out.len = slash ? (size_t)(slash - out.data) : 0;
            out.data[out.len] = '\0';
            s += 3;
            if (*s == '\0') {
                textbuf_puts(&out, "/");
                break;
            }
        } else {
            size_t n = (*s == '/') ? 1 + strcspn(s + 1, "/") : strcspn(s, "/");
            textbuf_append(&out, s, n);
            s += n;
        }
    }
    free(input);
    return out.data;
}

char *view_html_target_uri(const char *base, const char *rel)
{
    struct uri_parts r, b, t = {0};
    parse_uri(rel, &r);
    parse_uri(base, &b);
    if (r.scheme && b.scheme && strcmp(r.scheme, b.scheme) == 0) {
        free(r.scheme);
        r.scheme = NULL;
    }
    if (r.scheme) {
        t.scheme = xstrdup(r.scheme);
        t.authority = r.authority ? xstrdup(r.authority) : NULL;
        t.path = remove_dot_segments(r.path);
        t.query = r.query ? xstrdup(r.query) : NULL;
    } else {
        if (r.authority) {
            t.authority = xstrdup(r.authority);
            t.path = remove_dot_segments(r.path);
            t.query = r.query ? xstrdup(r.query) : NULL;
        } else {
            if (r.path[0] == '\0') {
                t.path = xstrdup(b.path);
                t.query = xstrdup(r.query ? r.query : (b.query ? b.query : ""));
                if (!r.query && !b.query) {
                    free(t.query);
                    t.query = NULL;
                }
            } else if (r.path[0] == '/') {
                t.path = remove_dot_segments(r.path);
                t.query = r.query ? xstrdup(r.query) : NULL;
            } else {
                char *merged;
                if (b.authority && b.path[0] == '\0') {
                    merged = xasprintf("/%s", r.path);
                } else {
                    char *slash = strrchr(b.path, '/');
                    merged = xasprintf("%.*s%s", slash ? (int)(slash - b.path + 1) : 0, b.path, r.path);
                }
                t.path = remove_dot_segments(merged);
                free(merged);
                t.query = r.query ? xstrdup(r.query) : NULL;
            }
            t.authority = b.authority ? xstrdup(b.authority) : NULL;
        }
        t.scheme = b.scheme ? xstrdup(b.scheme) : NULL;
    }
    struct textbuf out;
    textbuf_init(&out);
    if (t.scheme && t.scheme[0]) {
        textbuf_printf(&out, "%s:", t.scheme);
    } else if (t.authority) {
        if (g_ascii_strncasecmp(t.authority, "www", 3) == 0) {
            size_t d = 3;
            while (isdigit((unsigned char)t.authority[d]))
                d++;
            if (t.authority[d] == '.')
                textbuf_puts(&out, "http:");
        } else if (g_ascii_strncasecmp(t.authority, "ftp", 3) == 0) {
            size_t d = 3;
            while (isdigit((unsigned char)t.authority[d]))
                d++;
            if (t.authority[d] == '.')
                textbuf_puts(&out, "ftp:");
        }
    }
    if (t.authority)
        textbuf_printf(&out, "//%s", t.authority);
    textbuf_puts(&out, t.path ? t.path : "");
    if (t.query)
        textbuf_printf(&out, "?%s", t.query);
    if (r.fragment)
        textbuf_printf(&out, "#%s", r.fragment);
    free_uri_parts(&r);
    free_uri_parts(&b);
    free_uri_parts(&t);
    if (out.data == NULL)
        textbuf_puts(&out, "");
    return out.data;
}

