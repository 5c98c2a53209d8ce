/* signals.c - one thread receives SIGHUP, SIGUSR1, SIGTERM and SIGINT and calls the daemon's
 * hooks.
 *
 * libmilter starts its own signal thread inside smfi_main(); it sigwait()s for SIGHUP, SIGTERM
 * and SIGINT and treats SIGHUP like SIGTERM: it stops the milter and closes the listening
 * socket. To make SIGHUP a reload (what admins and `systemctl reload` expect), this file also
 * defines sigwait(): the dynamic linker binds libmilter's call to it (libmilter is a shared
 * library that imports sigwait), and it hands libmilter's thread an empty wait set, so only
 * our thread, which uses sigwaitinfo(), ever receives these signals. Stopping is done here
 * through smfi_stop(), as libmilter's thread would have. */
#include "signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>

#include "log.h"

static void (*on_reload)(void);
static void (*on_stop)(void);
static void (*on_stop_now)(void);
static sigset_t handled;

/* The wait set libmilter asks for, less the signals our thread owns; an empty set waits for
 * ever, which is what libmilter's thread should do. */
int sigwait(const sigset_t *set, int *sig)
{
    sigset_t wanted = *set;
    sigdelset(&wanted, SIGHUP);
    sigdelset(&wanted, SIGTERM);
    sigdelset(&wanted, SIGINT);
    sigdelset(&wanted, SIGUSR1);
    for (;;) {
        int got = sigwaitinfo(&wanted, NULL);
        if (got > 0) {
            *sig = got;
            return 0;
        }
        if (errno != EINTR && errno != EAGAIN)
            return errno;
    }
}

static void *signal_thread(void *arg)
{
    (void)arg;
    bool stopping = false;
    for (;;) {
        int sig = sigwaitinfo(&handled, NULL);
        if (sig < 0)
            continue;
        if (sig == SIGHUP || sig == SIGUSR1) {
            log_info("received %s: reloading the policy", sig == SIGHUP ? "SIGHUP" : "SIGUSR1");
            on_reload();
        } else if (!stopping) {
            stopping = true;
            log_info("received %s: no new connections; finishing transactions in flight",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
            on_stop();
        } else {
            log_warn("received a second stop signal: stopping now");
            on_stop_now();
        }
    }
    return NULL;
}

void signals_start(void (*reload)(void), void (*stop)(void), void (*stop_now)(void))
{
    on_reload = reload;
    on_stop = stop;
    on_stop_now = stop_now;
    sigemptyset(&handled);
    sigaddset(&handled, SIGHUP);
    sigaddset(&handled, SIGUSR1);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    pthread_sigmask(SIG_BLOCK, &handled, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t tid;
    if (pthread_create(&tid, NULL, signal_thread, NULL) != 0) {
        log_err("cannot start the signal thread");
        return;
    }
    pthread_detach(tid);
}
