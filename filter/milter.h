/* milter.h - the libmilter glue: registers the callbacks, opens the socket, runs the loop.
 * It only translates between libmilter and the engine; no policy lives here. */
#ifndef MW_MILTER_H
#define MW_MILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Registers with libmilter and binds the socket (as root, before privileges are dropped).
 * Returns false and logs why on failure. */
bool milter_setup(const struct config *cfg);
/* Runs libmilter's accept loop until milter_shutdown() has drained it; returns false on a
 * libmilter failure. */
bool milter_run(void);
/* Begins a graceful stop: new connections and new transactions get a 4xx from now on, the
 * transactions in flight go on; once none is left, or grace_ms has passed, libmilter's loop
 * is stopped and milter_run() returns. Returns at once; safe from any thread. */
void milter_shutdown(uint64_t grace_ms);
/* The MTA connections open now and the transactions in flight on them (mailwarden-ctl status);
 * safe from any thread. */
void milter_counts(unsigned *connections, unsigned *transactions);

#endif
