/* eval_relayeval.c - SpamAssassin's RelayEval plugin, natively: its tests of the relays
 * (rules_relays.h: Received lines, and the MTA's real client as first relay when known) with
 * SpamAssassin 4.0.1's semantics: all relays trusted, no relays, unparseable Received lines,
 * numeric HELO, HELO/IP mismatch, no reverse name for a big-provider HELO, a forged Received
 * trail, the sender without reverse name, the From domain in Received. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "header.h"
#include "header_cache.h"
#include "rules_evalfn.h"
#include "rules_received.h"
#include "rules_relays.h"
#include "util.h"

static size_t untrusted_count(const struct rules_relays *r)
{
    return r->count - r->trusted_count;
}

static const struct rules_relay *untrusted(const struct rules_relays *r, size_t i)
{
    return &r->relay[r->trusted_count + i];
}

static unsigned check_all_trusted(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_relays *r = eval_relays(ctx);
    return r->trusted_count > 0 && untrusted_count(r) == 0 && r->unparsed_lines == 0;
}

static unsigned check_no_relays(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_relays *r = eval_relays(ctx);
    return r->count == 0 && r->unparsed_lines == 0;
}

static unsigned check_relays_unparseable(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    return eval_relays(ctx)->unparsed_lines > 0;
}

static unsigned check_for_illegal_ip(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)ctx;
    (void)call;
    return 0;                  /* retired in SpamAssassin: always false */
}

/* check_for_numeric_helo: the first "helo=<IPv4>" of X-Spam-Relays-Untrusted, public. */
static unsigned check_for_numeric_helo(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    static struct received_pattern numeric_helo = {
        "\\bhelo=((?:(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)\\.){3}"
        "(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d))(?=[\\x00-\\x20,;\\[()<>]|\\z)", true, NULL };
    const char *text = eval_relays(ctx)->pseudo_untrusted;
    char *helo = NULL;
    if (text[0] == '\0' || !received_pattern_match(&numeric_helo, text, &helo))
        return 0;
    bool public = !received_is_ip_private(helo);
    free(helo);
    return public;
}

/* helo_ip_mismatch: an untrusted relay whose public IPv4 HELO is outside the /24 of its
 * public IPv4 address. */
static unsigned helo_ip_mismatch(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_relays *r = eval_relays(ctx);
    for (size_t i = 0; i < untrusted_count(r); i++) {
        const struct rules_relay *relay = untrusted(r, i);
        if (!received_is_ipv4(relay->helo) || received_is_ip_private(relay->helo))
            continue;
        if (!received_is_ipv4(relay->ip) || received_is_ip_private(relay->ip)
            || strcmp(relay->helo, relay->ip) == 0)
            continue;
        const char *third_dot = strchr(strchr(strchr(relay->helo, '.') + 1, '.') + 1, '.');
        size_t prefix = (size_t)(third_dot - relay->helo) + 1;
        if (strncmp(relay->ip, relay->helo, prefix) != 0)
            return 1;
    }
    return 0;
}

/* check_for_no_rdns_dotcom_helo: decided by the oldest public untrusted relay, as in
 * SpamAssassin (each relay resets the answer). */
static unsigned check_for_no_rdns_dotcom_helo(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    static struct received_pattern dotcom = {
        "(?:\\.|^)(lycos\\.com|lycos\\.co\\.uk|hotmail\\.com|localhost\\.com|excite\\.com"
        "|caramail\\.com|cs\\.com|aol\\.com|msn\\.com|yahoo\\.com|drizzle\\.com)$", true, NULL };
    const struct rules_relays *r = eval_relays(ctx);
    bool hit = false;
    for (size_t i = 0; i < untrusted_count(r); i++) {
        const struct rules_relay *relay = untrusted(r, i);
        if (relay->ip_private)
            continue;
        hit = relay->no_reverse_dns && received_pattern_match(&dotcom, relay->helo, NULL);
    }
    return hit;
}

/* check_for_sender_no_reverse: as SpamAssassin 4.0.1 has it, true when the oldest untrusted
 * relay is public and its reverse name has a dot. */
static unsigned check_for_sender_no_reverse(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    const struct rules_relays *r = eval_relays(ctx);
    if (untrusted_count(r) == 0)
        return 0;
    const struct rules_relay *oldest = &r->relay[r->count - 1];
    return strchr(oldest->rdns, '.') != NULL && !oldest->ip_private;
}

/* SpamAssassin's hostname_to_domain: the last two labels (three under a two-letter TLD other
 * than ie, fr, de); an address unchanged. Lower-cased input. */
static char *hostname_to_domain(const char *host)
{
    if (strpbrk(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == NULL)
        return xstrdup(host);
    size_t len = strlen(host);
    while (len > 0 && host[len - 1] == '.')      /* split drops trailing empty labels */
        len--;
    size_t labels = 1;
    const char *dots[3] = { NULL, NULL, NULL };  /* the last three dots */
    for (size_t i = 0; i < len; i++) {
        if (host[i] == '.') {
            labels++;
            dots[2] = dots[1];
            dots[1] = dots[0];
            dots[0] = host + i;
        }
    }
    const char *last = dots[0] != NULL ? dots[0] + 1 : host;
    size_t last_len = (size_t)(host + len - last);
    bool long_tld = last_len >= 3 || (last_len == 2 && (strncmp(last, "ie", 2) == 0
        || strncmp(last, "fr", 2) == 0 || strncmp(last, "de", 2) == 0));
    if (labels > 1 && long_tld)
        return xstrndup(dots[1] != NULL ? dots[1] + 1 : host,
            (size_t)(host + len - (dots[1] != NULL ? dots[1] + 1 : host)));
    if (labels > 2)
        return xstrndup(dots[2] != NULL ? dots[2] + 1 : host,
            (size_t)(host + len - (dots[2] != NULL ? dots[2] + 1 : host)));
    return xstrndup(host, len);
}

static char *lower_domain(const char *host)
{
    char *lower = xstrdup(host);
    str_lower(lower);
    char *domain = hostname_to_domain(lower);
    free(lower);
    return domain;
}

static struct received_pattern hostname_like = { "^\\w+(?:[\\w.-]+\\.)+\\w+$", false, NULL };

struct forged_counts {
    unsigned mismatch_from;
    unsigned mismatch_ip_helo;
};

/* Class B (first two octets) of an IPv4 text, in out; false when not a.b.c.d digits. */
static bool class_b(const char *ip, char *out, size_t size)
{
    static struct received_pattern dotted = { "^(\\d+\\.\\d+)\\.\\d+\\.\\d+$", false, NULL };
    char *prefix = NULL;
    if (!received_pattern_match(&dotted, ip, &prefix))
        return false;
    strlcpy_mw(out, prefix, size);
    free(prefix);
    return true;
}

static void count_forged(const struct rules_relays *r, struct forged_counts *out)
{
    size_t n = untrusted_count(r);
    char **from = xcalloc(n + 1, sizeof *from);
    for (size_t i = 0; i < n; i++)
        from[i] = lower_domain(untrusted(r, i)->rdns);
    for (size_t i = 0; i < n; i++) {
        const struct rules_relay *relay = untrusted(r, i);
        char *by = lower_domain(relay->by);
        char *helo = lower_domain(relay->helo);
        if (received_pattern_match(&hostname_like, by, NULL)) {
            /* a localhost name for 127.0.0.1 is forgotten (only past the by check, as in
             * SpamAssassin's loop) */
            if (strcmp(relay->ip, "127.0.0.1") == 0 && (strcmp(from[i], "localhost") == 0
                || strcmp(from[i], "localhost.localdomain") == 0)) {
                free(from[i]);
                from[i] = NULL;
            }
            char helo_b[64], ip_b[64];
            if (class_b(helo, helo_b, sizeof helo_b) && class_b(relay->ip, ip_b, sizeof ip_b)
                && strcmp(helo, relay->ip) != 0 && strcmp(helo_b, ip_b) != 0
                && !received_is_ip_private(helo))
                out->mismatch_ip_helo++;
            const char *prev = i > 0 ? from[i - 1] : NULL;
            if (prev != NULL && received_pattern_match(&hostname_like, prev, NULL)
                && strcmp(by, prev) != 0
                && !(strcmp(by, "msn.com") == 0 && strcmp(prev, "hotmail.com") == 0))
                out->mismatch_from++;
        }
        free(by);
        free(helo);
    }
    for (size_t i = 0; i < n; i++)
        free(from[i]);
    free(from);
}

static unsigned check_for_forged_received_trail(struct eval_ctx *ctx, const struct eval_call *call)
{
    (void)call;
    struct forged_counts c = { 0, 0 };
    count_forged(eval_relays(ctx), &c);
    return c.mismatch_from > 1;
}

static unsigned check_for_forged_received_ip_helo(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    (void)call;
    struct forged_counts c = { 0, 0 };
    count_forged(eval_relays(ctx), &c);
    return c.mismatch_ip_helo > 0;
}

/* The first address of the first From field, "" when none. */
static const char *from_address(struct eval_ctx *ctx)
{
    const struct rules_message *msg = ctx->msg;
    for (size_t i = 0; i < msg->header_count; i++) {
        if (!str_ieq(msg->headers[i].name, "From") || msg->headers[i].value == NULL)
            continue;
        const char *address = NULL, *display = NULL;
        header_cache_mailbox(ctx->headers, i, (size_t)ctx->limits->header_bytes, &address,
            &display);
        return address != NULL ? address : "";
    }
    return "";
}

/* check_for_from_domain_in_received_headers(domain, 'true'|'false') */
static bool prepare_from_domain(const struct ruleset *rs, struct rule *r, char *const *args,
    size_t argc, void **state, const char **why)
{
    (void)rs;
    (void)r;
    (void)state;
    if (argc != 2) {
        *why = "check_for_from_domain_in_received_headers needs a domain and 'true' or 'false'";
        return false;
    }
    (void)args;
    return true;
}

static unsigned check_for_from_domain_in_received_headers(struct eval_ctx *ctx,
    const struct eval_call *call)
{
    const char *domain = call->args[0];
    bool want = strcmp(call->args[1], "true") == 0;
    const char *from = from_address(ctx);
    char *quoted = xasprintf("\\b\\Q%s\\E", domain);
    struct received_pattern in_from = { quoted, true, NULL };
    bool from_has = received_pattern_match(&in_from, from, NULL);
    received_pattern_free(&in_from);
    free(quoted);
    if (!from_has)
        return 0;
    const struct rules_relays *r = eval_relays(ctx);
    char *rcvd = xasprintf("%s\n%s", r->pseudo_trusted, r->pseudo_untrusted);
    char *source = xasprintf(" rdns=\\S*\\b%s [^\\]]*by=\\S*\\b%s ", domain, domain);
    struct received_pattern in_rcvd = { source, false, NULL };
    bool found = received_pattern_match(&in_rcvd, rcvd, NULL);
    received_pattern_free(&in_rcvd);
    free(source);
    free(rcvd);
    return found ? want : !want;
}

static const struct eval_function functions[] = {
    { "check_for_numeric_helo", NULL, NULL, check_for_numeric_helo },
    { "check_for_illegal_ip", NULL, NULL, check_for_illegal_ip },
    { "check_all_trusted", NULL, NULL, check_all_trusted },
    { "check_no_relays", NULL, NULL, check_no_relays },
    { "check_relays_unparseable", NULL, NULL, check_relays_unparseable },
    { "check_for_sender_no_reverse", NULL, NULL, check_for_sender_no_reverse },
    { "check_for_from_domain_in_received_headers", prepare_from_domain, NULL,
        check_for_from_domain_in_received_headers },
    { "check_for_forged_received_trail", NULL, NULL, check_for_forged_received_trail },
    { "check_for_forged_received_ip_helo", NULL, NULL, check_for_forged_received_ip_helo },
    { "helo_ip_mismatch", NULL, NULL, helo_ip_mismatch },
    { "check_for_no_rdns_dotcom_helo", NULL, NULL, check_for_no_rdns_dotcom_helo },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_relayeval = {
    .id = EVAL_RELAYEVAL,
    .name = "Mail::SpamAssassin::Plugin::RelayEval",
    .available = true,
    .functions = functions,
};
