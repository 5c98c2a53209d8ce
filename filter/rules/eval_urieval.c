/* eval_urieval.c - SpamAssassin's URIEval plugin, natively: check_https_ip_mismatch (a link to
 * a numeric IP whose anchor text shows an https: URL that is not that IP), check_uri_truncated
 * (a URI over 8192 bytes was cut) and check_for_http_redirector (a URI that carries a URL of
 * another domain). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"

/* "http(s):", slashes, an optional user@ and N.N.N.N at the start of s (https only when
 * https_only). */
static bool starts_with_ip_url(const char *s, bool https_only)
{
    size_t skip;
    if (strncasecmp(s, "https:", 6) == 0)
        skip = 6;
    else if (!https_only && strncasecmp(s, "http:", 5) == 0)
        skip = 5;
    else
        return false;
    const char *p = s + skip;
    while (*p == '/')
        p++;
    size_t user = strcspn(p, "@/");
    if (p[user] == '@' && user > 0)
        p += user + 1;
    for (int part = 0; part < 4; part++) {
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
        if (part < 3 && *p++ != '.')
            return false;
    }
    return true;
}

static unsigned run_https_ip_mismatch(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_uri_details *d = eval_uri_details(ctx);
    for (size_t i = 0; i < d->count; i++) {
        const struct rules_uri_detail *e = &d->items[i];
        if (e->types == VIEW_URI_PARSED || !starts_with_ip_url(e->raw, false))
            continue;
        for (size_t k = 0; k < e->anchor_count; k++) {
            if (starts_with_ip_url(e->anchors[k], true))
                continue;
            if (strcasestr(e->anchors[k], "https:") != NULL)
                return 1;
        }
    }
    return 0;
}

static unsigned run_uri_truncated(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return eval_uri_details(ctx)->truncated;
}

/* The host at s (after "http(s)://"), up to / : ? */
static char *host_at(const char *s)
{
    return xstrndup(s, strcspn(s, "/:?"));
}

static char *domain_or_self(const struct ruleset *rs, char *host)
{
    char *h = NULL, *domain = NULL;
    if (rules_uri_to_domain(rs, host, &h, &domain)) {
        free(h);
        free(host);
        return domain;
    }
    return host;
}

/* SpamAssassin's loop: a URI http(s)://HOST... that contains a further http(s): URL of
 * another domain (uri_to_domain of each, or the host itself). */
static unsigned run_http_redirector(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_uri_details *d = eval_uri_details(ctx);
    for (size_t i = 0; i < d->list_count; i++) {
        const char *u = d->list[i];
        for (int depth = 0; depth < 16; depth++) {
            size_t skip = strncasecmp(u, "https://", 8) == 0 ? 8 : strncasecmp(u, "http://", 7) == 0 ? 7 : 0;
            if (skip == 0)
                break;
            size_t hl = strcspn(u + skip, "/:?");
            if (hl == 0 || u[skip + hl] == '\0')
                break;
            const char *next = NULL;
            for (const char *p = u + skip + hl + 1; *p; p++) {
                if (strncasecmp(p, "http", 4) != 0)
                    continue;
                const char *q = p + 4;
                if (*q == 's' || *q == 'S')
                    q++;
                if (*q != ':')
                    continue;
                q++;
                for (int s = 0; s < 2 && *q == '/'; s++)
                    q++;
                if (strcspn(q, "/:?") == 0)
                    continue;
                next = p;
                break;
            }
            if (next == NULL)
                break;
            char *redir = domain_or_self(ctx->rs, host_at(u + skip));
            const char *q = next + 4 + (next[4] == 's' || next[4] == 'S') + 1;
            while (*q == '/' && q - next < 9)
                q++;
            char *dest = domain_or_self(ctx->rs, host_at(q));
            bool differs = strcmp(redir, dest) != 0;
            free(redir);
            free(dest);
            if (differs)
                return 1;
            u = next;
        }
    }
    return 0;
}

static const struct eval_function functions[] = {
    { "check_https_ip_mismatch", NULL, NULL, run_https_ip_mismatch },
    { "check_uri_truncated", NULL, NULL, run_uri_truncated },
    { "check_for_http_redirector", NULL, NULL, run_http_redirector },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_urieval = {
    .id = EVAL_URIEVAL,
    .name = "Mail::SpamAssassin::Plugin::URIEval",
    .available = true,
    .functions = functions,
};
