/* native_symbols.h - the names of the symbols mailwarden's own checks emit (not the admin's
 * rules, access rules, rate limits or DNS lists, which the policy names). A rule of one of
 * these names replaces the native check's symbol (txn_add_result); `mailwarden -t` warns,
 * except for SpamAssassin's own tests of those names. */
#ifndef MW_NATIVE_SYMBOLS_H
#define MW_NATIVE_SYMBOLS_H

#include <stdbool.h>

/* NULL-terminated. */
extern const char *const native_symbols[];

bool native_symbol(const char *name);
/* The native symbols named after the SpamAssassin rule whose test they are (GTUBE,
 * MISSING_DATE, SPF_FAIL, DKIM_SIGNED, RDNS_NONE, ...): SpamAssassin's stock rule of that name,
 * fed from the same data, is the same test, so its taking the symbol loses nothing. */
bool native_symbol_is_spamassassins(const char *name);

#endif
