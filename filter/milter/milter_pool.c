/* milter_pool.c - a queue of jobs and the threads that run them. A thread is started when a
 * job is queued and no thread is idle, up to the limit (milter.max_connections: one thread per
 * busy session at most, so sessions blocked on a lookup never wait for each other); threads
 * then stay, idle ones waiting on a condition variable. Jobs run in the order queued. Promises:
 * every queued job runs once; a waiting thread wakes for each job (the condition is re-checked
 * under the lock, so no wake-up is lost or spurious). The loop thread signals after it let go of
 * the lock, so the woken thread does not block on it again. */
#include "milter_pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_queued = PTHREAD_COND_INITIALIZER;
static struct pool_job *head, *tail;
static unsigned threads, idle, limit = 1, busy;

static struct pool_job *take_job(void)
{
    struct pool_job *job = head;
    head = job->next;
    if (head == NULL)
        tail = NULL;
    return job;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (head == NULL) {
            idle++;
            pthread_cond_wait(&job_queued, &lock);
            idle--;
        }
        struct pool_job *job = take_job();
        pthread_mutex_unlock(&lock);
        job->run(job->arg);
        pthread_mutex_lock(&lock);
        busy--;
    }
    return NULL;
}

void pool_set_limit(unsigned n)
{
    pthread_mutex_lock(&lock);
    limit = n > 0 ? n : 1;
    pthread_mutex_unlock(&lock);
}

unsigned pool_busy(void)
{
    pthread_mutex_lock(&lock);
    unsigned n = busy;
    pthread_mutex_unlock(&lock);
    return n;
}

void pool_submit(struct pool_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&lock);
    if (tail != NULL)
        tail->next = job;
    else
        head = job;
    tail = job;
    busy++;
    /* jobs waiting beyond the idle threads: one more thread if the limit allows */
    unsigned queued = 0;
    for (const struct pool_job *j = head; j != NULL && queued <= idle; j = j->next)
        queued++;
    bool start = queued > idle && threads < limit;
    if (start) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&tid, &attr, worker, NULL) == 0)
            threads++;
        else if (threads == 0)
            log_err("cannot start a worker thread: the job waits for one");
        pthread_attr_destroy(&attr);
    }
    bool someone_waits = idle > 0;
    pthread_mutex_unlock(&lock);
    /* signalled after the unlock: the woken thread does not find the lock still held and go
     * back to sleep on it (two system calls and a context switch fewer per job); the queue is
     * re-checked under the lock, so a thread that was not waiting still finds the job */
    if (someone_waits)
        pthread_cond_signal(&job_queued);
}
