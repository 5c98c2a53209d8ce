/* stats-bench.c - what the metrics cost per message, without the noise of a shared machine's
 * load: times, in one thread and then in two racing threads, the stats calls one message makes
 * in the daemon (about 15 check calls timed with one clock read each, one message, four
 * symbols, one store operation and one rate-limit decision, a connection opened and closed,
 * a transaction begun and ended) and prints nanoseconds per message. Not a test; numbers in
 * docs/PERFORMANCE.md. `make bench-stats`. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "stats.h"

#define MESSAGES 1000000

static const char *const checks[] = {
    "networks", "access", "limits", "spf", "dkim_verify", "ratelimit", "rdns", "helo",
    "headers", "mime", "dnslists", "greylist", "rules", "dkim_sign", "access",
};
static const char *const symbols[] = { "SPF_NONE", "DKIM_NONE", "RDNS_NONE", "DATE_IN_PAST" };

static void one_message(void)
{
    stats_connection_open();
    stats_transactions_add(+1);
    uint64_t started = stats_now_ns();       /* as engine.c: one clock read per check */
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        uint64_t ended = stats_now_ns();
        stats_check_time(i, checks[i], ended - started);
        started = ended;
    }
    stats_store_op("memory", STATS_STORE_GCRA, true);
    stats_ratelimit(STATS_RATELIMIT_ALLOWED);
    stats_message(ACTION_ACCEPT, false);
    for (size_t i = 0; i < 4; i++)
        stats_symbol_hit(symbols[i], false);
    stats_transactions_add(-1);
    stats_connection_close();
}

static void *run(void *arg)
{
    (void)arg;
    for (int i = 0; i < MESSAGES; i++)
        one_message();
    return NULL;
}

static double timed(int threads)
{
    pthread_t t[2];
    uint64_t start = stats_now_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (double)(stats_now_ns() - start) / MESSAGES;
}

int main(void)
{
    run(NULL);                                       /* warm up, claim the names */
    printf("one thread:  %.0f ns per message\n", timed(1));
    printf("two threads: %.0f ns per message per thread (wall time, counters shared)\n", timed(2));
    return 0;
}
