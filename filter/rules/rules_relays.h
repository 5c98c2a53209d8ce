/* rules_relays.h - the relays a message passed through, as SpamAssassin's Received parser sees
 * them (Message/Metadata/Received.pm), split into trusted/untrusted and internal/external as
 * its trusted_networks/internal_networks do (ours: networks.trusted and networks.internal).
 * When the MTA knew the client (rules_envelope.client_ip), the first relay is built from the
 * real client data (IP, verified reverse name, HELO, SASL login) instead of our own Received
 * line; the rest come from Received lines. Built once per message by rules_relays_build(). */
#ifndef MW_RULES_RELAYS_H
#define MW_RULES_RELAYS_H

#include <stdbool.h>
#include <stddef.h>

struct rules_message;

struct rules_relay {
    char *ip;                  /* printable address; "" when the line had none */
    char *by;                  /* the receiving host */
    char *helo;                /* as the sender gave it */
    char *rdns;                /* the reverse name recorded; "" when none */
    char *ident;
    char *envfrom;
    char *id;
    char *auth;                /* the authentication recorded ("" none) */
    bool ip_private;           /* RFC 1918 / loopback / link-local / ULA ... */
    bool msa;                  /* received on a submission port (msa_networks) */
    bool trusted;
    bool internal;
    bool from_mta;             /* built from the MTA's own data, not a Received line */
};

struct rules_relays {
    struct rules_relay *relay; /* newest first (the one that handed us the message first) */
    size_t count;
    size_t trusted_count;      /* relay[0 .. trusted_count) are trusted, the rest untrusted */
    size_t internal_count;     /* relay[0 .. internal_count) are internal */
    size_t received_lines;     /* Received lines read */
    size_t unparsed_lines;     /* lines that were not parsed into a relay */
    /* The pseudo-headers SpamAssassin derives, in its format ("[ ip=... rdns=... helo=... by=...
     * ident=... envfrom=... intl=0 id=... auth=... msa=0 ]" per relay, space-separated). */
    char *pseudo_trusted;      /* X-Spam-Relays-Trusted */
    char *pseudo_untrusted;    /* X-Spam-Relays-Untrusted */
    char *pseudo_internal;     /* X-Spam-Relays-Internal */
    char *pseudo_external;     /* X-Spam-Relays-External */
};

/* Builds the relays of msg; never NULL. */
struct rules_relays *rules_relays_build(const struct rules_message *msg);
void rules_relays_free(struct rules_relays *relays);

#endif
