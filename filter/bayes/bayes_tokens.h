/* bayes_tokens.h - a message's Bayes tokens: SpamAssassin's tokenizer (Plugin/Bayes.pm of
 * SpamAssassin 4.0), written again in C. A token is text ("free", "UD:example.com",
 * "H*F:D*example.com") and its key, the last 5 bytes of its SHA-1, which is what a database
 * stores (as SpamAssassin does). A set holds each key once. Pure: no store, no policy. */
#ifndef MW_BAYES_TOKENS_H
#define MW_BAYES_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

enum { BAYES_KEY_LEN = 5, BAYES_MAX_TOKEN_LENGTH = 15 };

struct bayes_token {
    unsigned char key[BAYES_KEY_LEN];
    char *text;
};

struct bayes_tokens {
    struct bayes_token *items;
    size_t count;
    size_t cap;
    size_t body_count, uri_count, header_count;   /* tokens added per source (before dedup) */
};

/* Where a line comes from: SpamAssassin's "region" (headers 0, body 1, URIs 2). */
enum bayes_region { BAYES_REGION_HEADER = 0, BAYES_REGION_BODY = 1, BAYES_REGION_URI = 2 };

/* One header field as SpamAssassin's get_all_headers() gives it: the name as written, the
 * value MIME-decoded and unfolded. */
struct bayes_header {
    const char *name;
    const char *value;
};

/* SpamAssassin's relay metadata (Message/Metadata/Received.pm's X-Spam-Relays-Trusted,
 * -Untrusted, -Internal and -External strings, "[ ip=... rdns=... helo=... ]" per relay, as
 * rules_relays.h builds them), which Bayes.pm tokenizes as header fields; NULL: none. */
struct bayes_relays {
    const char *trusted, *untrusted, *internal, *external;
};

/* What a message is tokenized from. body: the rendered text (message_view's text), one
 * SpamAssassin line per '\n'-separated line. */
struct bayes_message {
    const char *body;
    size_t body_len;
    const char *const *uris;
    size_t uri_count;
    const struct bayes_header *headers;
    size_t header_count;
    const struct bayes_relays *relays;     /* NULL: no relay tokens */
};

/* Tokenizes a whole message into set (emptied first). Caps as SpamAssassin's: 50000 body,
 * 10000 URI and 10000 header tokens. */
void bayes_tokenize_message(const struct bayes_message *msg, struct bayes_tokens *set);

/* One line as SpamAssassin's _tokenize_line(line, prefix, region): appends each token (with
 * repeats) through add; exposed for the tests. */
typedef void (*bayes_token_fn)(void *arg, const char *token, size_t len);
void bayes_tokenize_line(const char *line, size_t len, const char *prefix,
    enum bayes_region region, bayes_token_fn add, void *arg);

/* The header tokens (SpamAssassin's _tokenize_headers, then each value tokenized with its
 * "H<name>:" prefix). */
void bayes_tokenize_headers(const struct bayes_header *headers, size_t count,
    bayes_token_fn add, void *arg);

/* The relay metadata's tokens, as _tokenize_headers makes them: each string with the
 * " name=" words dropped, tokenized with "H*RT:" (trusted), "H*RU:" (untrusted),
 * "Hx-spam-relays-internal:" and "Hx-spam-relays-external:". */
void bayes_tokenize_relays(const struct bayes_relays *relays, bayes_token_fn add, void *arg);

/* Header pre-chewing, exposed for the tests; each returns a new string. */
char *bayes_chew_received(const char *value);
char *bayes_chew_message_id(const char *value);
char *bayes_chew_content_type(const char *value);
char *bayes_chew_addresses(const char *value);

/* The set: adds one token (its key computed; a key already present keeps its first text). */
void bayes_tokens_add(struct bayes_tokens *set, const char *token, size_t len);
/* Sorts by key and drops repeats; bayes_tokenize_message does it. */
void bayes_tokens_finish(struct bayes_tokens *set);
bool bayes_tokens_contains(const struct bayes_tokens *set, const char *token);
void bayes_tokens_clear(struct bayes_tokens *set);
void bayes_tokens_free(struct bayes_tokens *set);
/* The key of a token: the last 5 bytes of SHA-1(token). */
void bayes_token_key(const char *token, size_t len, unsigned char key[BAYES_KEY_LEN]);

#endif
