/* bayes_db.h - one Bayes database in the generic store (store.h): the spam and ham counts of
 * each token, the number of spam and ham messages learnt, which messages were learnt as what,
 * and their expiry. Several databases share a store (per-user ones are named by recipient).
 *
 * Keys, all under "bayes:<name>:": "t:<10 hex>" a token's counter (spam count * 2^32 + ham
 * count, so one atomic add learns or forgets both), "n" the message counts (same packing),
 * "seen:<40 hex>" 's' or 'h' for a learnt message (its token set's digest). A token's key
 * expires token_ttl after it was last learnt or used to classify (SpamAssassin's atime
 * expiry); expire() also trims a database over max_tokens to three quarters of it, dropping
 * the rarest tokens first. A message's counts are read in one batch and a learn or forget
 * is one store transaction. Thread-safe as the store is. */
#ifndef MW_BAYES_DB_H
#define MW_BAYES_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bayes_tokens.h"
#include "store.h"

/* a name's bytes; its key prefix (':' and '%' escaped) must leave room in STORE_KEY_MAX for
 * "seen:" and 40 hex digits */
enum { BAYES_DB_NAME_MAX = 320, BAYES_DB_PREFIX_MAX = 440 };

struct bayes_db {
    struct store *store;
    char prefix[BAYES_DB_PREFIX_MAX];   /* "bayes:<name>:", ':' and '%' in the name as %3A, %25 */
    uint64_t token_ttl_ms;                    /* 0: tokens never expire by age */
    uint64_t seen_ttl_ms;                     /* 0: learnt-message marks are kept */
};

/* name: "global", or a recipient address (lower-cased here). False when it is empty, too
 * long (BAYES_DB_NAME_MAX, or its escaped prefix over BAYES_DB_PREFIX_MAX) or holds a
 * control character. */
bool bayes_db_init(struct bayes_db *db, struct store *store, const char *name,
    uint64_t token_ttl_ms, uint64_t seen_ttl_ms);

/* The number of spam and ham messages learnt. */
enum store_status bayes_db_message_counts(const struct bayes_db *db, int64_t *nspam,
    int64_t *nham);

/* One token's counts; absent = 0 and 0. */
enum store_status bayes_db_token_counts(const struct bayes_db *db, const unsigned char *key,
    int64_t *spam, int64_t *ham);

/* The message counts and every token's counts (counts[i] = {spam, ham} of tokens->items[i])
 * in one read of the store (one round trip on Redis: MGET). */
enum store_status bayes_db_read(const struct bayes_db *db, const struct bayes_tokens *tokens,
    int64_t *nspam, int64_t *nham, int64_t (*counts)[2]);

enum bayes_learn_outcome {
    BAYES_LEARNT,            /* counted */
    BAYES_ALREADY_LEARNT,    /* learnt as this class before: nothing changed */
    BAYES_RELEARNT,          /* learnt as the other class before: forgotten, then learnt */
    BAYES_FORGOTTEN,
    BAYES_NOT_LEARNT,        /* forget: this message was never learnt */
};

/* Learns a message's tokens as spam or ham (SpamAssassin's learn: a message learnt as the
 * other class is forgotten first). Every count and the learnt-message mark change in one
 * store transaction: a learn that fails changed nothing. STORE_INVALID for a message of more
 * than STORE_MANY_MAX - 2 tokens (never learnt in part). */
enum store_status bayes_db_learn(const struct bayes_db *db, const struct bayes_tokens *tokens,
    bool spam, enum bayes_learn_outcome *outcome);
/* Takes a learnt message's tokens back out (one transaction, as learn). */
enum store_status bayes_db_forget(const struct bayes_db *db, const struct bayes_tokens *tokens,
    enum bayes_learn_outcome *outcome);
/* Renews the age of tokens used to classify (their key expires token_ttl from now). */
enum store_status bayes_db_touch(const struct bayes_db *db, const unsigned char (*keys)[BAYES_KEY_LEN],
    size_t count);
/* Trims the database to 3/4 of max_tokens when it holds more, rarest tokens first; *tokens
 * (may be NULL) = how many it holds afterwards, *removed (may be NULL) = how many went. */
enum store_status bayes_db_expire(const struct bayes_db *db, uint64_t max_tokens,
    uint64_t *tokens, uint64_t *removed);

#endif
