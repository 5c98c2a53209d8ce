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
/* Runs libmilter's accept loop until milter_stop(); returns false on a libmilter failure. */
bool milter_run(void);
/* Stops accepting connections; transactions in flight go on. Safe from any thread. */
void milter_stop(void);
/* Waits until no transaction is in flight or the deadline (now_ms()) passes; returns the
 * number still in flight. */
unsigned milter_wait_idle(uint64_t deadline_ms);

#endif
