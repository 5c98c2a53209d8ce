/* check_mime.c - the MIME structure and body, at end of message, from the message view: the
 * whole message one text/html part (MIME_HTML_ONLY); HTML in a multipart without any
 * text/plain part (MIME_HTML_NO_TEXT); a link whose visible text names one domain while its
 * href goes to another (LINK_TEXT_MISMATCH; not when the text names the From's own domain and
 * the href is a host name, which is how newsletters' click tracking looks, nor when the href
 * names the shown host as its redirect target); links to IP literals (URI_IP_LITERAL); links
 * through URL shorteners from spam.shorteners (URI_SHORTENER); attachments with a file name
 * extension from spam.risky_extensions, anywhere in a double extension's last place, or a type
 * from spam.risky_types (ATTACH_RISKY); broken transfer encodings, charsets or UTF-8
 * (MIME_BAD_ENCODING); a malformed MIME structure (MIME_MALFORMED). */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "header_util.h"
#include "message_view.h"
#include "registrable.h"
#include "spam_check.h"
#include "spam_config.h"
#include "util.h"

static bool top_level_is(const struct txn *t, const char *prefix)
{
    const char *type = txn_header(t, "Content-Type", 0);
    if (type == NULL)
        return false;
    while (*type == ' ' || *type == '\t')
        type++;
    return g_ascii_strncasecmp(type, prefix, strlen(prefix)) == 0;
}

static void check_html(struct txn *t, const struct message_view *v)
{
    bool html = false, plain = false;
    for (size_t i = 0; i < v->part_count; i++) {
        if (v->parts[i].is_attachment)
            continue;
        html = html || strcmp(v->parts[i].content_type, "text/html") == 0;
        plain = plain || strcmp(v->parts[i].content_type, "text/plain") == 0;
    }
    if (!html || plain)
        return;
    if (top_level_is(t, "text/html"))
        txn_add_result(t, "MIME_HTML_ONLY", 1.0, ACTION_NONE, NULL);
    else
        txn_add_result(t, "MIME_HTML_NO_TEXT", 0.7, ACTION_NONE, NULL);
}

/* The host a link's visible text names, lower case, when it looks like a URL or a host name
 * ("www.bank.example", "https://bank.example/login"); NULL otherwise. */
static char *shown_host(const char *text)
{
    while (*text == ' ')
        text++;
    const char *p = text;
    const char *scheme = strstr(p, "://");
    if (scheme != NULL && scheme - p <= 10)
        p = scheme + 3;
    size_t len = 0;
    while (g_ascii_isalnum(p[len]) || p[len] == '.' || p[len] == '-')
        len++;
    /* the whole text, or the part up to a path, must be the host */
    if (p[len] != '\0' && p[len] != '/' && p[len] != ':' && p[len] != ' ')
        return NULL;
    while (len > 0 && p[len - 1] == '.')
        len--;
    char *host = xstrndup(p, len);
    const char *last_dot = strrchr(host, '.');
    bool alpha_tld = last_dot != NULL && last_dot[1] != '\0';
    for (const char *c = last_dot ? last_dot + 1 : ""; *c && alpha_tld; c++)
        alpha_tld = g_ascii_isalpha(*c);
    if (!alpha_tld || host[0] == '.' || strstr(host, "..") != NULL) {
        free(host);
        return NULL;
    }
    str_lower(host);
    return host;
}

static bool host_in_list(const char *host, const struct string_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const char *entry = list->items[i];
        if (strcmp(host, entry) == 0)
            return true;
        size_t hl = strlen(host), el = strlen(entry);
        if (hl > el && host[hl - el - 1] == '.' && strcmp(host + hl - el, entry) == 0)
            return true;
    }
    return false;
}

/* Whether the URL names host as the target of a redirect: "host/" or "host%2F", after "//"
 * or its percent-encoded form "%2F%2F" in the query or path ("?url=https%3A%2F%2Fhost%2F"). */
static bool url_names_target(const char *url, const char *host)
{
    const char *after_host = strstr(url, "://");
    after_host = after_host != NULL ? after_host + 3 : url;
    after_host += strcspn(after_host, "/?#");
    size_t hl = strlen(host);
    for (const char *p = after_host; *p != '\0'; p++) {
        size_t skip = 0;
        if (p[0] == '/' && p[1] == '/')
            skip = 2;
        else if (g_ascii_strncasecmp(p, "%2F%2F", 6) == 0)
            skip = 6;
        if (skip == 0 || g_ascii_strncasecmp(p + skip, host, hl) != 0)
            continue;
        char end = p[skip + hl];
        if (end == '\0' || end == '/' || end == '%' || end == '&' || end == '?' || end == ':')
            return true;
    }
    return false;
}

/* A link whose text shows another site than its href: phishing's form. Measured on the
 * parity set (docs/MEASUREMENT.md), newsletters hit it as often as spam when their own site
 * is shown over a click-tracking redirect, so the From's own domain shown over a host name,
 * and a redirect naming the shown host, are not mismatches. */
static bool link_mismatch(const struct message_uri *u, const char *from_domain)
{
    char *shown = shown_host(u->link_text);
    bool mismatch = shown != NULL && !same_registrable_domain(shown, u->host);
    if (mismatch && !u->host_is_ip && from_domain != NULL
        && same_registrable_domain(shown, from_domain))
        mismatch = false;
    if (mismatch && url_names_target(u->url, shown))
        mismatch = false;
    free(shown);
    return mismatch;
}

static void check_links(struct txn *t, const struct message_view *v)
{
    bool mismatch = false, ip = false, shortener = false;
    char *from = header_from_address(t->headers, t->header_count);
    const char *at = from != NULL ? strrchr(from, '@') : NULL;
    const char *from_domain = at != NULL && at[1] != '\0' ? at + 1 : NULL;
    for (size_t i = 0; i < v->uri_count; i++) {
        const struct message_uri *u = &v->uris[i];
        if (u->host == NULL)
            continue;
        if (u->host_is_ip)
            ip = true;
        else if (host_in_list(u->host, &t->cfg->spam->shorteners))
            shortener = true;
        if (u->link_text != NULL && !mismatch)
            mismatch = link_mismatch(u, from_domain);
    }
    free(from);
    if (mismatch)
        txn_add_result(t, "LINK_TEXT_MISMATCH", 2.5, ACTION_NONE, NULL);
    if (ip)
        txn_add_result(t, "URI_IP_LITERAL", 1.5, ACTION_NONE, NULL);
    if (shortener)
        txn_add_result(t, "URI_SHORTENER", 0.5, ACTION_NONE, NULL);
}

static bool risky_name(const char *filename, const struct string_list *extensions)
{
    const char *dot = strrchr(filename, '.');
    if (dot == NULL)
        return false;
    char *ext = xstrdup(dot + 1);
    /* trailing blanks and dots hide an extension from some readers but not from Windows */
    size_t len = strlen(ext);
    while (len > 0 && (ext[len - 1] == ' ' || ext[len - 1] == '.'))
        ext[--len] = '\0';
    str_lower(ext);
    bool risky = false;
    for (size_t i = 0; i < extensions->count && !risky; i++)
        risky = strcmp(ext, extensions->items[i]) == 0;
    free(ext);
    return risky;
}

static bool risky_type(const char *type, const struct string_list *types)
{
    for (size_t i = 0; i < types->count; i++) {
        if (strcmp(type, types->items[i]) == 0)
            return true;
    }
    return false;
}

static void check_parts(struct txn *t, const struct message_view *v)
{
    bool risky = false, bad = false;
    const struct spam_policy *p = t->cfg->spam;
    for (size_t i = 0; i < v->part_count; i++) {
        const struct message_part *part = &v->parts[i];
        bad = bad || part->bad_encoding;
        if (part->filename != NULL && risky_name(part->filename, &p->risky_extensions))
            risky = true;
        if (part->is_attachment && risky_type(part->content_type, &p->risky_types))
            risky = true;
    }
    if (risky)
        txn_add_result(t, "ATTACH_RISKY", 3.0, ACTION_NONE, NULL);
    if (bad)
        txn_add_result(t, "MIME_BAD_ENCODING", 1.0, ACTION_NONE, NULL);
    if (v->mime_error)
        txn_add_result(t, "MIME_MALFORMED", 1.0, ACTION_NONE, NULL);
}

static void run(struct txn *t, enum stage stage)
{
    (void)stage;
    if (!spam_checks_apply(t))
        return;
    const struct message_view *v = message_view_get(t);
    check_html(t, v);
    check_links(t, v);
    check_parts(t, v);
}

const struct check check_mime = {
    .name = "mime",
    .stages = STAGE_BIT(STAGE_EOM),
    .run = run,
    .shadowed = spam_shadowed,
};
