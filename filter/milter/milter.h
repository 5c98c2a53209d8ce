/* milter.h - the milter side of the daemon: opens the socket, runs the event loop that serves
 * MTA connections with our own milter protocol code (milter_loop.c, milter_session.c,
 * milter_proto.c), stops it gracefully. It only translates between the MTA and the engine; no
 * policy lives here. */
#ifndef MW_MILTER_H
#define MW_MILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Binds the socket (as root, before privileges are dropped). Returns false and logs why on
 * failure. */
bool milter_setup(const struct config *cfg);
/* Serves connections until milter_shutdown() has drained them; returns false on a failure of
 * the loop itself. */
bool milter_run(void);
/* Begins a graceful stop: the socket is closed, new transactions get a 4xx from now on, the
 * transactions in flight go on; once none is left, or grace_ms has passed, milter_run()
 * returns. Returns at once; safe from any thread. */
void milter_shutdown(uint64_t grace_ms);

#endif
