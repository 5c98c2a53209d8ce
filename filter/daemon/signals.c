/* signals.c - one thread receives SIGHUP, SIGUSR1, SIGTERM and SIGINT and calls the daemon's
 * hooks: reload, graceful stop (which wakes the milter loop through its eventfd), stop now.
 * The signals are blocked in every other thread (they inherit the mask set here before any of
 * them starts). A reload reads files and starts a resolver: it runs on this thread, never on
 * the milter loop, so connections are served while it runs. */
#include "signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "log.h"

static void (*on_reload)(void);
static void (*on_stop)(void);
static void (*on_stop_now)(void);
static sigset_t handled;

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
