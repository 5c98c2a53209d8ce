/* dmarc_failure_store.h - pending DMARC failure reports (RFC 9991) in the store (store.h's
 * generic records), written by the daemon and sent, then deleted, by mailwarden-report:
 *   dmarc:f:DOMAIN:SECONDS:NONCE   value: one report (dmarc_failure_encode, <= STORE_VALUE_MAX)
 *   dmarc:fm:DOMAIN:SECONDS:NONCE:N  value: part N (0, 1, ...) of the report's copy of the
 *                                  whole message (failure_include = "message")
 *   dmarc:fr:DOMAIN:HOUR           counter: reports recorded for DOMAIN in that hour
 * Promises: the rate limit is counted before a report is written, so no more than the rate
 * are ever recorded per domain and hour (on every MTA sharing the store); a report is a
 * single value (written whole or not at all), written after the parts of its message, so a
 * report never names parts that were not written (a part that expired or was lost makes
 * message_lost, never a wrong copy); every key expires (reports keep_ms after they
 * were written, counters after two hours). */
#ifndef MW_DMARC_FAILURE_STORE_H
#define MW_DMARC_FAILURE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "dmarc_failure.h"
#include "store.h"

/* Counts one report for domain in the hour holding now (seconds since the epoch); *allowed
 * is true while the count is within rate. */
enum store_status dmarc_failure_store_count(struct store *s, const char *domain, int64_t now,
    unsigned rate, bool *allowed);

/* Writes f (its header copy cut to fit STORE_VALUE_MAX; its message, when it has one, in
 * parts of STORE_VALUE_MAX) under a key made of its domain, now and nonce (any text; letters
 * and digits are kept). */
enum store_status dmarc_failure_store_add(struct store *s, const struct dmarc_failure *f,
    int64_t now, const char *nonce, uint64_t keep_ms);

/* Deletes the pending report key and the parts of its message (parts: f->message_parts). */
enum store_status dmarc_failure_store_delete(struct store *s, const char *key, size_t parts);

/* Called once per pending report, its message read back from its parts (f->message; NULL and
 * message_lost when a part is missing); a damaged one comes with f NULL (the caller deletes
 * it; its parts expire). */
typedef void (*dmarc_failure_fn)(void *arg, const char *key, const struct dmarc_failure *f);
/* Calls fn for every pending report (keys collected first, so fn may delete). */
enum store_status dmarc_failure_store_each(struct store *s, dmarc_failure_fn fn, void *arg);

#endif
