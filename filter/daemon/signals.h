/* signals.h - signal handling for the daemon: SIGHUP and SIGUSR1 reload, SIGTERM and SIGINT
 * stop gracefully (a second one stops at once). */
#ifndef MW_SIGNALS_H
#define MW_SIGNALS_H

/* Call before any other thread exists: blocks the signals in every thread and starts the one
 * thread that waits for them and calls these hooks. */
void signals_start(void (*reload)(void), void (*stop)(void), void (*stop_now)(void));

#endif
