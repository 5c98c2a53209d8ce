/* gcra.h - the Generic Cell Rate Algorithm, pure: no clock, no store, no locks. A limit is a
 * rate ("100/1h") and a burst; the state of one key is its theoretical arrival time (TAT).
 * Everything is integer microseconds, so there is no drift: a burst of N passes at once, the
 * N+1st is refused, and one emission interval later exactly one more passes. */
#ifndef MW_GCRA_H
#define MW_GCRA_H

#include <stdbool.h>
#include <stdint.h>

struct gcra_limit {
    int64_t emission_us;   /* period / count, rounded up: never more than the rate */
    int64_t burst;         /* how many may pass at once (>= 1) */
};

struct gcra_result {
    bool allowed;
    int64_t retry_after_us;   /* when refused: how long until this cost would pass */
    bool store;               /* new_tat_us must be stored: allowed, or a clamped TAT */
    int64_t new_tat_us;       /* the state to store */
    int64_t ttl_us;           /* how long the state matters: after that it equals "fresh" */
};

/* Parses "100/1h", "10/1m", "5000/1d", "2/30s", "500M/1d" (a count may carry k, M, G), and
 * fills emission_us. Sets *why on error (the caller names file and line). */
bool gcra_parse_rate(const char *text, int64_t *count, int64_t *period_us, const char **why);
/* Makes the limit from a parsed rate; false (and *why) when the rate is finer than 1 us. */
bool gcra_limit_make(int64_t count, int64_t period_us, int64_t burst, struct gcra_limit *out,
    const char **why);

/* One decision. have_tat = false for a key never seen (or expired). cost >= 1. A stored TAT
 * further ahead than a full burst (the clock went backwards) is treated as a full burst used
 * now, so a clock step back never blocks a key longer than one burst takes to refill. */
void gcra_decide(const struct gcra_limit *limit, bool have_tat, int64_t tat_us, int64_t cost,
    int64_t now_us, struct gcra_result *out);

#endif
