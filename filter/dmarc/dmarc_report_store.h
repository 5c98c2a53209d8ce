/* dmarc_report_store.h - the rows of DMARC aggregate reports in the store (store.h's generic
 * records), written by the daemon and read, then cleared, by mailwarden-report:
 *   dmarc:r:BEGIN:END:DOMAIN:HASH   counter: messages with this row in this period
 *   dmarc:d:BEGIN:END:DOMAIN:HASH   value: the row's text (dmarc_report_row.h)
 *   dmarc:p:BEGIN:END:DOMAIN        value: the policy last seen for DOMAIN in the period
 *   dmarc:s:BEGIN:END:DOMAIN:ADDR   value: the report went to ADDR (a retry skips it)
 * HASH is the first 128 bits of the SHA-256 of the row's text, so equal rows add to one count
 * on every MTA sharing a store. Every key expires keep_ms after its last write.
 * Promises: the daemon's add is three writes, the counter last (a counter always has its
 * row); collect returns only periods finished by the time given; clear subtracts what was
 * reported (a late add is reported by the next run, never lost or sent twice). */
#ifndef MW_DMARC_REPORT_STORE_H
#define MW_DMARC_REPORT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "dmarc_report.h"
#include "store.h"

/* The reporting period holding now (seconds since the epoch, UTC): [*begin, *end], aligned on
 * interval_s (which divides a day), as RFC 9990 asks (a UTC day by default). */
void dmarc_report_period(int64_t now, uint64_t interval_s, int64_t *begin, int64_t *end);

/* Adds one message with row (count ignored) for pol->domain in the period [begin, end]. */
enum store_status dmarc_report_store_add(struct store *s, const struct dmarc_report_policy *pol,
    const struct dmarc_report_row *row, int64_t begin, int64_t end, uint64_t keep_ms);

/* One report to make: a policy domain and a finished period, its policy and rows. */
struct dmarc_report_batch {
    char domain[DMARC_REPORT_DOMAIN_MAX + 1];
    int64_t begin, end;
    bool has_policy;
    struct dmarc_report_policy policy;
    struct dmarc_report_row *rows;  /* count each, from the counters */
    char (*hashes)[33];             /* the row keys' HASH, for clear */
    size_t count;
    size_t unreadable;              /* rows whose text was missing or damaged (left out) */
};

/* Every batch whose period ended at or before finished_by. false + why when the store failed
 * (nothing is returned then). */
bool dmarc_report_store_collect(struct store *s, int64_t finished_by,
    struct dmarc_report_batch **out, size_t *count, char *why, size_t why_size);
void dmarc_report_batches_free(struct dmarc_report_batch *b, size_t count);

/* Whether the batch's report already went to address (a previous run that could not finish). */
bool dmarc_report_store_was_sent(struct store *s, const struct dmarc_report_batch *b,
    const char *address);
enum store_status dmarc_report_store_mark_sent(struct store *s, const struct dmarc_report_batch *b,
    const char *address, uint64_t keep_ms);
/* Takes the batch's rows out of the store (subtracting the counts reported), with its policy
 * and sent marks. false + why when a write failed (what remains is reported again). */
bool dmarc_report_store_clear(struct store *s, const struct dmarc_report_batch *b, char *why,
    size_t why_size);

#endif
