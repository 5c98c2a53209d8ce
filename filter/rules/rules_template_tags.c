/* rules_template_tags.c - SpamAssassin's own template tags that a %{NAME} template may read
 * besides captured ones: Check.pm's capture_rules_replace fills a template through
 * get_tag_raw, which knows every tag. The ones here are those SpamAssassin has before its
 * rules run and mailwarden computes alike (PerMsgStatus.pm's extract_message_metadata and
 * common_tags): SENDERDOMAIN (the envelope sender's domain), AUTHORDOMAIN (each From
 * address's domain, without repeats), RELAYSTRUSTED, RELAYSUNTRUSTED, RELAYSINTERNAL,
 * RELAYSEXTERNAL (the X-Spam-Relays-* texts), LASTEXTERNALIP, LASTEXTERNALRDNS,
 * LASTEXTERNALHELO (the external relay nearest to us) and FIRSTTRUSTEDIP (the trusted relay
 * farthest from us). Domains are lower case (idn_to_ascii of an ASCII name; a non-ASCII name
 * is kept, not turned into ACE). An empty tag has no value, so its rules do not run, as
 * SpamAssassin drops empty values. Tags computed from the score or other rules' results
 * (SCORE, TESTS, ...), HEADER(...) with its argument and the plugins' tags are not here:
 * rules reading them are skipped at load (SKIP_TEMPLATE_TAG). A capture rule may replace
 * the values of the tags SpamAssassin sets with set_tag (SENDERDOMAIN, AUTHORDOMAIN, RELAYS*),
 * never those of its common_tags (the relay addresses and names), which get_tag_raw reads
 * first. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "eval_get.h"
#include "rules_internal.h"
#include "rules_relays.h"
#include "util.h"

static const char *const set_tag_names[] = {
    "SENDERDOMAIN", "AUTHORDOMAIN", "RELAYSTRUSTED", "RELAYSUNTRUSTED", "RELAYSINTERNAL",
    "RELAYSEXTERNAL",
};
static const char *const common_tag_names[] = {
    "LASTEXTERNALIP", "LASTEXTERNALRDNS", "LASTEXTERNALHELO", "FIRSTTRUSTEDIP",
};

static bool in(const char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(names[i], name) == 0)
            return true;
    }
    return false;
}

bool template_tag_builtin(const char *name)
{
    return in(set_tag_names, sizeof set_tag_names / sizeof set_tag_names[0], name)
        || template_tag_fixed(name);
}

bool template_tag_fixed(const char *name)
{
    return in(common_tag_names, sizeof common_tag_names / sizeof common_tag_names[0], name);
}

/* get(...:addr:host) of one address: what follows its last '@' up to a blank, lower case. */
static char *host_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    if (at == NULL)
        return NULL;
    size_t n = strcspn(at + 1, " \t\r\n");
    if (n == 0)
        return NULL;
    char *host = xstrndup(at + 1, n);
    for (char *p = host; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    return host;
}

static void put_one(struct capture_tags *tags, const char *name, const char *value)
{
    const char *values[1] = { value != NULL ? value : "" };
    capture_tags_put(tags, name, values, 1);
}

void template_tags_fill(struct eval_ctx *ctx, struct capture_tags *tags)
{
    char *sender = host_of(eval_envelope_from(ctx));
    put_one(tags, "SENDERDOMAIN", sender);
    free(sender);

    char **addrs = NULL;
    size_t n = eval_addresses(ctx, "From", &addrs);
    char **hosts = xcalloc(n + 1, sizeof *hosts);
    size_t host_count = 0;
    for (size_t i = 0; i < n; i++) {
        char *h = host_of(addrs[i]);
        if (h != NULL)
            hosts[host_count++] = h;
    }
    capture_tags_put(tags, "AUTHORDOMAIN", (const char *const *)hosts, host_count);
    for (size_t i = 0; i < host_count; i++)
        free(hosts[i]);
    free(hosts);
    eval_strings_free(addrs, n);

    const struct rules_relays *relays = eval_relays(ctx);
    put_one(tags, "RELAYSTRUSTED", relays->pseudo_trusted);
    put_one(tags, "RELAYSUNTRUSTED", relays->pseudo_untrusted);
    put_one(tags, "RELAYSINTERNAL", relays->pseudo_internal);
    put_one(tags, "RELAYSEXTERNAL", relays->pseudo_external);
    const struct rules_relay *external = relays->internal_count < relays->count
        ? &relays->relay[relays->internal_count] : NULL;
    put_one(tags, "LASTEXTERNALIP", external != NULL ? external->ip : NULL);
    put_one(tags, "LASTEXTERNALRDNS", external != NULL ? external->rdns : NULL);
    put_one(tags, "LASTEXTERNALHELO", external != NULL ? external->helo : NULL);
    const struct rules_relay *trusted = relays->trusted_count > 0
        ? &relays->relay[relays->trusted_count - 1] : NULL;
    put_one(tags, "FIRSTTRUSTEDIP", trusted != NULL ? trusted->ip : NULL);
}
