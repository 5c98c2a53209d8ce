/* native_symbols.h - the names of the symbols mailwarden's own checks emit (not the admin's
 * rules, access rules, rate limits or DNS lists, which the policy names). A rule of one of
 * these names replaces the native check's symbol (txn_add_result); `mailwarden -t` warns. */
#ifndef MW_NATIVE_SYMBOLS_H
#define MW_NATIVE_SYMBOLS_H

#include <stdbool.h>

/* NULL-terminated. */
extern const char *const native_symbols[];

bool native_symbol(const char *name);

#endif
