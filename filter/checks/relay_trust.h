/* relay_trust.h - SpamAssassin's trusted_networks and internal_networks from the policy
 * (relay_trust.c), one source for the rules' relay model and Bayes' relay tokens. */
#ifndef MW_RELAY_TRUST_H
#define MW_RELAY_TRUST_H

#include "config.h"
#include "rules.h"

/* Sets env's ip_internal, ip_trusted and networks_arg from networks.internal and
 * networks.trusted when either names networks beyond loopback; leaves them NULL otherwise
 * (SpamAssassin then infers trust from the Received lines). */
void relay_trust_set(const struct config *cfg, struct rules_envelope *env);

#endif
