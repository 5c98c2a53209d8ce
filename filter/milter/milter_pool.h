/* milter_pool.h - the threads that run engine work for milter sessions: a queue of jobs and
 * threads that grow on demand up to a limit, so that a job blocked on DNS or Redis never makes
 * another session's job wait while the limit allows a thread more. */
#ifndef MW_MILTER_POOL_H
#define MW_MILTER_POOL_H

/* One job; its owner keeps it alive until run() has been called (a session embeds its own:
 * it never has two in flight). */
struct pool_job {
    void (*run)(void *arg);
    void *arg;
    struct pool_job *next;
};

/* At most this many threads (at least 1); lowering it stops no running thread. */
void pool_set_limit(unsigned threads);
/* Queues the job; starts a thread when none is idle and the limit allows. Any thread. */
void pool_submit(struct pool_job *job);
/* Jobs queued or running. */
unsigned pool_busy(void);

#endif
