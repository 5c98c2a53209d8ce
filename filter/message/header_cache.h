/* header_cache.h - the decoded forms of one message's header fields, each made at most once
 * per message: a field's value unfolded, cut at the cap and only then RFC 2047-decoded
 * (GMime), and the first mailbox of an address field. Beside them it keeps, by a key its
 * caller chooses, texts built from them (the header rules' texts, rules_headers.c), so that
 * every rule reading the same header shares one text. Cutting before decoding bounds the work
 * per field by the cap, whatever the field's size; every field is decoded at most once, so a
 * message costs at most its header bytes in decoding however many rules read it.
 * The message's view owns one (message_view.h); it points into the header fields it was made
 * for, which must outlive it. Not thread-safe: one message, one thread. */
#ifndef MW_HEADER_CACHE_H
#define MW_HEADER_CACHE_H

#include <stdbool.h>
#include <stddef.h>

struct header_field;
struct header_cache;

struct header_cache *header_cache_new(const struct header_field *fields, size_t count);
void header_cache_free(struct header_cache *cache);

/* The fields the cache was made for (to check a cache belongs to a message). */
const struct header_field *header_cache_fields(const struct header_cache *cache);

/* Every result below is made for a cap in bytes; a call with another cap than the last one
 * forgets what was made (one policy per message makes this never happen in practice). */

/* Field i's value without CR and LF, leading blanks dropped, cut at cap bytes (at the last
 * blank before the cap, when there is one, so that no encoded word is cut in two). */
const char *header_cache_flat(struct header_cache *cache, size_t i, size_t cap);
/* The same, RFC 2047-decoded (UTF-8 where the charset is known). */
const char *header_cache_decoded(struct header_cache *cache, size_t i, size_t cap);
/* The first mailbox of field i (descending into a group): its address and display name,
 * each NULL when absent. */
void header_cache_mailbox(struct header_cache *cache, size_t i, size_t cap, const char **address,
    const char **name);

/* Texts stored by key: false when key was not stored yet. */
bool header_cache_text(struct header_cache *cache, const char *key, size_t cap, const char **text,
    size_t *len, bool *present);
/* Stores a copy of text under key (the key must not be stored yet). */
void header_cache_store_text(struct header_cache *cache, const char *key, size_t cap,
    const char *text, size_t len, bool present);

/* A header value without CR and LF, leading blanks dropped, at most cap bytes (cut at the last
 * blank before the cap when there is one); reads no further than it needs. Free it. */
char *header_value_cut(const char *value, size_t cap);

/* For tests and benchmarks: RFC 2047 decodings made, and the bytes given to the decoder. */
size_t header_cache_decodings(const struct header_cache *cache);
size_t header_cache_decoded_bytes(const struct header_cache *cache);

#endif
