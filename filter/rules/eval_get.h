/* eval_get.h - what SpamAssassin's plugins read through PerMsgStatus::get(), for our plugins:
 * a header's text (every instance, each ending in a newline; decoded, or :raw), the pseudo
 * headers ALL, ToCc, MESSAGEID and EnvelopeFrom, the first address (:addr, no newline), every
 * address of a header, and a Perl-style regex search for patterns built at run time. Texts
 * live in the message's header cache (rules_headers.c) and stay valid for the evaluation. */
#ifndef MW_EVAL_GET_H
#define MW_EVAL_GET_H

#include <stdbool.h>
#include <stddef.h>

#include "rules_evalfn.h"

/* get("Name"), get("Name:raw") (part HPART_RAW), get("Name:addr") (HPART_ADDR). name may be
 * ALL, ToCc, MESSAGEID or EnvelopeFrom. Never NULL: "" when absent (present false). */
const char *eval_get(struct eval_ctx *ctx, const char *name, enum header_part part,
    size_t *len, bool *present);
/* get("EnvelopeFrom:addr"): the envelope sender without <>; "" when none. */
const char *eval_envelope_from(struct eval_ctx *ctx);
/* Every address of every instance of header `name` (ToCc: To then Cc), in order, as the
 * header has them (case kept). Returns the count; free with eval_strings_free. */
size_t eval_addresses(struct eval_ctx *ctx, const char *name, char ***out);
void eval_strings_free(char **list, size_t count);
/* Searches subject for pattern (PCRE2 syntax, options PCRE2_*); on a match, fills ov (pairs
 * of offsets, ov_pairs of them) and returns true. Errors and limits are no match. */
bool eval_regex_search(struct eval_ctx *ctx, const char *pattern, unsigned options,
    const char *subject, size_t len, size_t *ov, size_t ov_pairs);
/* The last value of plugin directive `name`, NULL when never set. */
const char *eval_directive_last(const struct ruleset *rs, const char *name);
/* A Perl-regex-safe copy of text (every non-alphanumeric byte escaped): \Q...\E. Free it. */
char *eval_regex_quote(const char *text, size_t len);
/* Whether SpamAssassin's ok_locales (default "all") lets charset through
 * (Locales::is_charset_ok_for_locales); true whenever ok_locales is "all". */
bool eval_charset_ok_for_locales(const struct ruleset *rs, const char *charset, size_t len);

#endif
