/* bayes_relays.c - the relay metadata Bayes tokenizes (bayes_relays.h), from rules_relays.h
 * with the rules' trust decisions (relay_trust.c): networks.internal / networks.trusted when
 * set beyond loopback, else SpamAssassin's inference from the Received lines. */
#include <sys/socket.h>
#include <string.h>

#include "bayes_relays.h"
#include "check.h"
#include "config.h"
#include "rdns_result.h"
#include "rules.h"
#include "relay_trust.h"
#include "rules_relays.h"

static void build(const struct header_field *headers, size_t header_count,
    const struct rules_envelope *env, struct bayes_relay_info *out)
{
    struct rules_message msg = { .headers = headers, .header_count = header_count,
        .envelope = env };
    out->relays = rules_relays_build(&msg);
    out->meta = (struct bayes_relays){
        .trusted = out->relays->pseudo_trusted, .untrusted = out->relays->pseudo_untrusted,
        .internal = out->relays->pseudo_internal, .external = out->relays->pseudo_external,
    };
}

void bayes_relays_of_txn(struct txn *t, struct bayes_relay_info *out)
{
    struct rules_envelope env = {
        .client_ip = t->have_client_addr ? t->client_ip : NULL,
        .client_rdns = rdns_confirmed_name(t),
        .helo = t->helo,
        .sasl_user = t->sasl_user,
        .client_internal = (t->client_flags & CLIENT_INTERNAL) != 0,
        .client_trusted = (t->client_flags & (CLIENT_INTERNAL | CLIENT_TRUSTED)) != 0,
    };
    relay_trust_set(t->cfg, &env);
    build(t->headers, t->header_count, &env, out);
}

void bayes_relays_of_headers(const struct config *cfg, const struct header_field *headers,
    size_t header_count, struct bayes_relay_info *out)
{
    struct rules_envelope env = { 0 };
    relay_trust_set(cfg, &env);
    build(headers, header_count, &env, out);
}

void bayes_relays_free(struct bayes_relay_info *info)
{
    rules_relays_free(info->relays);
    info->relays = NULL;
}
