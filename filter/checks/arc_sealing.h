/* arc_sealing.h - which messages the policy seals (arc.seal): shared by check_arc, which must
 * verify the chain of a message it is going to seal (our cv= depends on it) even when that
 * message is outbound, and check_arc_seal, which seals it. Reads the transaction only. */
#ifndef MW_ARC_SEALING_H
#define MW_ARC_SEALING_H

#include <stdbool.h>

struct txn;

/* arc.seal.enabled, and: relayed mail (internal or authenticated clients) with
 * seal.relayed, or a recipient in seal.recipients, the envelope sender in seal.senders, or
 * the client in seal.clients. */
bool arc_sealing_wanted(const struct txn *t);

#endif
