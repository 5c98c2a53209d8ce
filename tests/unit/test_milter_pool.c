/* test_milter_pool.c - the worker pool of the milter loop (filter/milter/milter_pool.c): jobs that
 * block (as a check waiting for DNS does) never make other jobs wait while the thread limit
 * allows a thread more; with the limit reached, the queued jobs still all run, in order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "milter_pool.h"

#define JOBS 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static unsigned running, finished, most_at_once;
static unsigned order[JOBS];
static bool release_all;

static void wait_until(bool (*cond)(void), int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&lock);
    while (!cond() && pthread_cond_timedwait(&changed, &lock, &until) == 0)
        ;
    pthread_mutex_unlock(&lock);
}

static bool all_running(void) { return running == JOBS || release_all; }
static bool all_finished(void) { return finished == JOBS; }

/* Blocks until every job is running at once (or the test gives up after 10 s). */
static void blocking_job(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    running++;
    if (running > most_at_once)
        most_at_once = running;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    wait_until(all_running, 10);
    pthread_mutex_lock(&lock);
    finished++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void test_blocked_jobs_never_wait_for_each_other(void **state)
{
    (void)state;
    static struct pool_job jobs[JOBS];
    pool_set_limit(JOBS + 1);
    for (size_t i = 0; i < JOBS; i++) {
        jobs[i].run = blocking_job;
        jobs[i].arg = NULL;
        pool_submit(&jobs[i]);
    }
    wait_until(all_finished, 30);
    assert_int_equal(finished, JOBS);
    assert_int_equal(most_at_once, JOBS);   /* all blocked at the same time: none waited */
}

static void ordered_job(void *arg)
{
    pthread_mutex_lock(&lock);
    order[finished++] = (unsigned)(uintptr_t)arg;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void test_jobs_over_the_limit_all_run(void **state)
{
    (void)state;
    static struct pool_job jobs[JOBS];
    pthread_mutex_lock(&lock);
    finished = 0;
    pthread_mutex_unlock(&lock);
    pool_set_limit(1);     /* threads already started stay; jobs still run, each once */
    for (size_t i = 0; i < JOBS; i++) {
        jobs[i].run = ordered_job;
        jobs[i].arg = (void *)(uintptr_t)i;
        pool_submit(&jobs[i]);
    }
    wait_until(all_finished, 30);
    assert_int_equal(finished, JOBS);
    bool seen[JOBS] = {0};
    for (size_t i = 0; i < JOBS; i++) {
        assert_true(order[i] < JOBS);
        assert_false(seen[order[i]]);
        seen[order[i]] = true;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_jobs_never_wait_for_each_other),
        cmocka_unit_test(test_jobs_over_the_limit_all_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
