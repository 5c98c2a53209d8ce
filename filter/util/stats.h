/* stats.h - the daemon's counters, gauges and histograms, and their text in the Prometheus
 * exposition format 0.0.4 (served by metrics_http.c, printed by the control socket's `stats`).
 *
 * Promises: every update is a C11 atomic operation (no lock, no allocation except the first
 * time a symbol name is seen), so any thread may call any function at any time. Label values
 * come from bounded sets only: actions, directions, check names (the check table), store
 * backends, decisions, and symbol names (the loaded policy's symbols, at most
 * STATS_MAX_SYMBOLS names for the life of the process; hits of names past that are counted
 * in mailwarden_symbol_hits_dropped_total). Never a sender, recipient or address. */
#ifndef MW_STATS_H
#define MW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "verdict.h"

#define STATS_MAX_SYMBOLS 2048
#define STATS_MAX_CHECKS 64
#define STATS_MAX_BACKENDS 8
#define STATS_HISTOGRAM_BUCKETS 16      /* finite upper bounds; +Inf is the 17th */

/* A message's outcome: one per transaction that got a verdict (summary line). */
void stats_message(enum action action, bool outbound);
/* A symbol a message got; shadow = a check in shadow mode "would have" given it. */
void stats_symbol_hit(const char *symbol, bool shadow);
/* How long one check's call at one stage took. index is the check's place in check_table,
 * name its name (a string that lives as long as the process). */
void stats_check_time(size_t index, const char *name, uint64_t ns);

void stats_dns_query(void);
void stats_dns_timeout(void);
void stats_dns_servfail(void);
/* An answer within 1 ms of its question: libunbound does not say whether it came from its
 * cache, and a cached answer is the only way to be that fast from a remote forwarder. */
void stats_dns_fast_answer(void);
void stats_dns_cache_hit(void);

enum stats_store_op { STATS_STORE_GCRA, STATS_STORE_GREYLIST };
/* backend: the backend's static name ("memory", "redis"). */
void stats_store_op(const char *backend, enum stats_store_op op, bool ok);

enum stats_ratelimit {
    STATS_RATELIMIT_ALLOWED,
    STATS_RATELIMIT_LIMITED,
    STATS_RATELIMIT_WOULD_LIMIT,     /* dry run or an allow-listed client */
    STATS_RATELIMIT_STORE_DOWN,
};
void stats_ratelimit(enum stats_ratelimit decision);

enum stats_greylist {
    STATS_GREYLIST_NEW,
    STATS_GREYLIST_EARLY,
    STATS_GREYLIST_PASSED,
    STATS_GREYLIST_STORE_DOWN,
};
void stats_greylist(enum stats_greylist decision);

void stats_reload(bool ok);

void stats_connection_open(void);
void stats_connection_close(void);
void stats_transactions_add(int delta);
void stats_protocol_error(void);
/* The MTA connections open now and the transactions in flight on them (mailwarden-ctl status). */
void stats_open_counts(unsigned *connections, unsigned *transactions);

/* The process start time (CLOCK_REALTIME); the first call of stats_format sets it otherwise. */
void stats_mark_start(void);

/* Appends every metric in the text exposition format 0.0.4 (HELP, TYPE, samples). */
void stats_format(struct textbuf *out);

/* Appends a label value escaped as the format wants (\\, \" and \n). */
void stats_escape_label(struct textbuf *out, const char *value);

/* A monotonic clock in nanoseconds, for timing. */
uint64_t stats_now_ns(void);

/* Tests only: every counter back to zero, symbol names forgotten (not thread-safe). */
void stats_reset_for_tests(void);

#endif
