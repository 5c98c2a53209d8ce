/* eval_httpsmismatch.c - SpamAssassin's HTTPSMismatch plugin, natively:
 * check_https_http_mismatch(min, max) hits when a link of an HTML part goes to one registered
 * domain while its anchor text shows an https:// URL of another, and the links with a valid
 * domain number at least min (and fewer than max). Hosts that are IP addresses are left to
 * URIEval's check_https_ip_mismatch, as in SpamAssassin. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"

struct mismatch_args {
    double min, max;
    bool has_max;
};

static bool prepare(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
    void **state, const char **why)
{
    (void)rs;
    (void)r;
    struct mismatch_args *a = xcalloc(1, sizeof *a);
    a->min = 1;
    if (argc > 0 && args[0][0] != '\0' && !eval_arg_number(args[0], &a->min))
        goto bad;
    if (a->min == 0)
        a->min = 1;                    /* Perl's $minanchors ||= 1 */
    if (argc > 1) {
        if (!eval_arg_number(args[1], &a->max))
            goto bad;
        a->has_max = true;
    }
    *state = a;
    return true;
bad:
    free(a);
    *why = "check_https_http_mismatch takes two numbers";
    return false;
}

static bool is_ip(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* The host of an http(s) URL (after the scheme, up to / : ? # and, for the anchor text,
 * whitespace); NULL when s does not start so. */
static char *url_host(const char *s, const char *scheme_re_https_only, const char *stops)
{
    (void)scheme_re_https_only;
    size_t skip;
    if (strncasecmp(s, "https://", 8) == 0)
        skip = 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        skip = 7;
    else
        return NULL;
    size_t n = strcspn(s + skip, stops);
    return n > 0 ? xstrndup(s + skip, n) : NULL;
}

/* The registered domain of host when it is valid, else NULL (SpamAssassin's trim_domain, then
 * is_domain_valid). */
static char *valid_domain(const struct ruleset *rs, const char *host)
{
    char *d = rules_trim_domain(rs, host);
    if (!rules_domain_valid(rs, d)) {
        free(d);
        return NULL;
    }
    return d;
}

static unsigned run(struct eval_ctx *ctx, const struct eval_call *call)
{
    const struct mismatch_args *a = call->state;
    const struct rules_uri_details *d = eval_uri_details(ctx);
    size_t anchors = 0;
    bool hit = false;
    for (size_t i = 0; i < d->count; i++) {
        const struct rules_uri_detail *e = &d->items[i];
        if (e->anchor_count == 0)
            continue;
        char *host = url_host(e->raw, NULL, "/:?#");
        if (host == NULL)
            continue;
        char *domain = is_ip(host) ? NULL : valid_domain(ctx->rs, host);
        free(host);
        if (domain == NULL)
            continue;
        anchors++;
        for (size_t k = 0; k < e->anchor_count && !hit; k++) {
            const char *https = strcasestr(e->anchor_count ? e->anchors[k] : "", "https://");
            if (https == NULL)
                continue;
            char *shown = url_host(https, NULL, " \t\r\n\f\v/:?#");
            if (shown == NULL)
                continue;
            char *shown_domain = is_ip(shown) ? xstrdup(shown) : valid_domain(ctx->rs, shown);
            free(shown);
            if (shown_domain != NULL && strcmp(shown_domain, domain) != 0)
                hit = true;
            free(shown_domain);
        }
        free(domain);
    }
    return hit && anchors >= a->min && (!a->has_max || anchors < a->max);
}

static const struct eval_function functions[] = {
    { "check_https_http_mismatch", prepare, free, run },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_httpsmismatch = {
    .id = EVAL_HTTPSMISMATCH,
    .name = "Mail::SpamAssassin::Plugin::HTTPSMismatch",
    .available = true,
    .functions = functions,
};
