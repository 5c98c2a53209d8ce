/* header_util.h - header values the native checks read, decoded with GMime: addresses of From
 * and Reply-To, display names, RFC 2047 text, dates. */
#ifndef MW_HEADER_UTIL_H
#define MW_HEADER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct header_field;

/* The bytes of a header value the checks below decode or parse (the rest costs nothing). */
#define HEADER_TEXT_MAX (64 * 1024)

/* The first mailbox of the named header (of its first HEADER_TEXT_MAX bytes): address (lower
 * case) and display name (decoded, UTF-8); each NULL when absent. Returns false when the
 * header is absent or has no mailbox. Free both. */
bool header_mailbox(const struct header_field *fields, size_t count, const char *header,
    char **address, char **name);
/* The From header's address, lower case; NULL when none. */
char *header_from_address(const struct header_field *fields, size_t count);
/* The number of mailboxes in the named headers (every instance, whole: never cut, so padding
 * cannot hide recipients), groups expanded. */
size_t header_address_count(const struct header_field *fields, size_t count,
    const char *header);
/* The decoded (RFC 2047) text of a header's first instance, UTF-8, unfolded: of its first
 * HEADER_TEXT_MAX bytes, cut before decoding (header_value_cut); NULL when absent. */
char *header_text(const struct header_field *fields, size_t count, const char *header);
/* Parses an RFC 5322 date; false when it cannot be read. */
bool header_date(const char *value, time_t *out);

#endif
