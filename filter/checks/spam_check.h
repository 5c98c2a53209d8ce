/* spam_check.h - what the native spam checks share: whether they apply to a transaction. */
#ifndef MW_SPAM_CHECK_H
#define MW_SPAM_CHECK_H

#include <stdbool.h>

struct txn;

/* True when spam.enabled and the mail is inbound: not from an internal network, not from a
 * SASL-authenticated client, not a local submission. */
bool spam_checks_apply(const struct txn *t);

#endif
