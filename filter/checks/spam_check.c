/* spam_check.c - the rule every native spam check follows about which mail it looks at:
 * inbound mail only, and only while the spam section is enabled. */
#include "spam_check.h"

#include "spam_config.h"
#include "txn.h"

bool spam_checks_apply(const struct txn *t)
{
    if (t->cfg->spam == NULL || !t->cfg->spam->enabled)
        return false;
    if (t->non_smtp || (t->client_flags & CLIENT_INTERNAL) != 0)
        return false;
    return t->sasl_user == NULL;
}
