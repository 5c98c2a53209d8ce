/* authres.h - the Authentication-Results header (RFC 8601): builds ours from the methods the
 * checks recorded, and recognises incoming ones that carry our authserv-id (forged). */
#ifndef MW_AUTHRES_H
#define MW_AUTHRES_H

#include <stdbool.h>

#include "txn.h"
#include "util.h"

/* Our authserv-id for this connection: authres.authserv_id when the policy sets it, else the
 * MTA's own name (macro j, what it announces) when it can be written bare (a token), else the
 * host's fully qualified name. */
const char *authres_id(const struct txn *t);
/* The value (without "Authentication-Results:") for this transaction, newly allocated. */
char *authres_build(const struct txn *t);
/* "auth=pass smtp.auth=USER", the user written as authres_add_property does. */
char *authres_auth_method(const char *user);

/* Every value we put into Authentication-Results goes through these (RFC 8601 2.2: a pvalue is
 * a token, a quoted-string or [local-part] "@" domain-name). A value that is a token or a plain
 * address (dot-atom@domain.name, @domain.name) is written as it is, anything else as a
 * quoted-string with \ and " escaped; UTF-8 text is allowed inside quotes (RFC 6532). A value
 * with CR, LF, another control character or bytes that are not UTF-8 cannot be written:
 * authres_value_writable says why, authres_append_value appends nothing and returns false, and
 * authres_add_property (which appends " property=value") also logs that the property was left
 * out, naming the property but never echoing the value. */
bool authres_value_writable(const char *value, const char **why);
bool authres_append_value(struct textbuf *b, const char *value);
bool authres_add_property(struct textbuf *b, const char *property, const char *value);
/* True when an Authentication-Results value names authserv_id as its authserv-id
 * (case-insensitive, comments and version skipped). */
bool authres_is_ours(const char *value, const char *authserv_id);

#endif
