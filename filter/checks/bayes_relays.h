/* bayes_relays.h - the relay metadata Bayes tokenizes (SpamAssassin's X-Spam-Relays-* strings):
 * the message's relays as the rules see them (rules_relays.h), trusted and internal by the
 * policy's networks, the first one from what the MTA knew of the client. For check_bayes and
 * mailwarden-learn; it reads the relay model, it calls no check. */
#ifndef MW_BAYES_RELAYS_H
#define MW_BAYES_RELAYS_H

#include <stddef.h>

#include "bayes_tokens.h"

struct config;
struct header_field;
struct rules_relays;
struct txn;

struct bayes_relay_info {
    struct rules_relays *relays;   /* owns the strings meta points to */
    struct bayes_relays meta;
};

/* The relays of a transaction (its client first). */
void bayes_relays_of_txn(struct txn *t, struct bayes_relay_info *out);
/* The relays of a message read from a file: Received lines only, as SpamAssassin reads a
 * file, trusted and internal by cfg's networks. */
void bayes_relays_of_headers(const struct config *cfg, const struct header_field *headers,
    size_t header_count, struct bayes_relay_info *out);
void bayes_relays_free(struct bayes_relay_info *info);

#endif
