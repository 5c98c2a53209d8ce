/* store-bench.c - how fast the rate-limit stores decide, and what the embedded one costs in
 * memory. Not a test: it prints numbers for docs/PERFORMANCE.md ("make bench-store").
 *   embedded: 1 000 000 distinct keys, one GCRA decision each, on 1 and on 2 threads
 *             (decisions/s), and the resident memory those keys take (RSS delta);
 *   redis:    a redis-server it starts on a free loopback port (or --redis-port N for one
 *             already running): decisions/s on 1 and 4 threads, and the latency one decision
 *             adds to a message (mean, p50, p99 on one thread);
 *   lmdb:     the store on disk in a temporary directory: decisions/s on 1 and 4 threads
 *             (new keys, then the same keys again), latency (mean, p50, p99 on one thread)
 *             and the size of data.mdb.
 * Usage: store-bench [--keys N] [--redis-ops N] [--redis-port N] [--no-redis]
 *                    [--lmdb-ops N] [--no-lmdb] */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

static long rss_kib(void)
{
    long pages_total = 0, pages_resident = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp == NULL)
        return -1;
    if (fscanf(fp, "%ld %ld", &pages_total, &pages_resident) != 2)
        pages_resident = -1;
    fclose(fp);
    return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct job {
    struct store *store;
    const struct gcra_limit *limit;
    long first, count;         /* key numbers */
    long allowed;
    double *latencies;         /* NULL = do not measure each call */
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    char key[64];
    for (long i = j->first; i < j->first + j->count; i++) {
        snprintf(key, sizeof key, "rl:bench|%ld.%ld.%ld.%ld", (i >> 24) & 255, (i >> 16) & 255,
            (i >> 8) & 255, i & 255);
        struct gcra_result r;
        double start = j->latencies ? seconds() : 0;
        if (store_gcra(j->store, key, j->limit, 1, store_now_us(), &r, NULL) == STORE_OK
            && r.allowed)
            j->allowed++;
        if (j->latencies)
            j->latencies[i - j->first] = seconds() - start;
    }
    return NULL;
}

/* Runs `threads` jobs over keys [base, base + total); returns decisions per second. */
static double run(struct store *s, const struct gcra_limit *l, int threads, long base, long total,
    long *allowed)
{
    pthread_t th[16];
    struct job jobs[16];
    double start = seconds();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){.store = s, .limit = l, .first = base + i * (total / threads),
            .count = total / threads};
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    *allowed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        *allowed += jobs[i].allowed;
    }
    return (double)total / (seconds() - start);
}

static void bench_memory(long keys)
{
    struct gcra_limit l;
    const char *why;
    gcra_limit_make(100, 3600LL * 1000000, 10, &l, &why);
    for (int threads = 1; threads <= 2; threads++) {
        void *impl = store_memory_new((uint64_t)keys + keys / 10);
        struct store *s = store_wrap(&store_memory_ops, impl, "memory", STORE_FAIL_TEMPFAIL);
        long before = rss_kib(), allowed;
        size_t heap_before = mallinfo2().uordblks;
        double rate = run(s, &l, threads, 0, keys, &allowed);
        long after = rss_kib();
        size_t heap_after = mallinfo2().uordblks;
        printf("embedded, %d thread%s: %ld new keys: %.0f decisions/s; %lu keys held\n",
            threads, threads == 1 ? " " : "s", keys, rate,
            (unsigned long)store_memory_key_count(impl));
        printf("  memory for them: heap in use +%.1f MiB (%.0f bytes/key)",
            (double)(heap_after - heap_before) / 1048576.0,
            (double)(heap_after - heap_before) / (double)keys);
        if (threads == 1)
            printf(", RSS +%.1f MiB\n", (double)(after - before) / 1024.0);
        else
            printf(" (RSS not comparable: the first run's freed memory is reused)\n");
        rate = run(s, &l, threads, 0, keys, &allowed);
        printf("embedded, %d thread%s: the same %ld keys again (updates): %.0f decisions/s\n",
            threads, threads == 1 ? " " : "s", keys, rate);
        store_free(s);
        fflush(stdout);
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t start_redis(int port)
{
    char text[16];
    snprintf(text, sizeof text, "%d", port);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        execlp("redis-server", "redis-server", "--port", text, "--bind", "127.0.0.1", "--save",
            "", "--appendonly", "no", "--dir", "/tmp", "--dbfilename", "mw-store-bench.rdb",
            (char *)NULL);
        _exit(127);
    }
    usleep(300000);
    return pid;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_redis(int port, long ops)
{
    char host[] = "127.0.0.1", prefix[] = "mwbench:";
    struct store_settings st = {.backend = STORE_REDIS, .redis_host = host, .redis_port = port,
        .redis_prefix = prefix, .connect_timeout_ms = 1000, .command_timeout_ms = 1000,
        .retry_interval_ms = 1000, .pool_size = 4, .fail_mode = STORE_FAIL_TEMPFAIL};
    struct store *s = store_wrap(&store_redis_ops, store_redis_new(&st), "redis", STORE_FAIL_TEMPFAIL);
    struct gcra_limit l;
    const char *why;
    gcra_limit_make(100, 3600LL * 1000000, 10, &l, &why);
    double *lat = calloc((size_t)ops, sizeof *lat);
    struct job one = {.store = s, .limit = &l, .first = 10000000, .count = ops, .latencies = lat};
    double start = seconds();
    run_job(&one);
    double rate = (double)ops / (seconds() - start);
    if (one.allowed != ops) {
        printf("redis: only %ld of %ld decisions succeeded (is redis-server running on port %d?)\n",
            one.allowed, ops, port);
        free(lat);
        store_free(s);
        return;
    }
    qsort(lat, (size_t)ops, sizeof *lat, compare);
    double sum = 0;
    for (long i = 0; i < ops; i++)
        sum += lat[i];
    printf("redis, 1 thread : %ld new keys: %.0f decisions/s; latency per decision: mean %.0f us, p50 %.0f us, p99 %.0f us\n",
        ops, rate, sum / (double)ops * 1e6, lat[ops / 2] * 1e6, lat[ops * 99 / 100] * 1e6);
    long allowed;
    rate = run(s, &l, 4, 20000000, ops, &allowed);
    printf("redis, 4 threads (pool of 4): %ld new keys: %.0f decisions/s\n", ops, rate);
    free(lat);
    store_free(s);
}

/* The latency statistics of one thread's calls, printed after label. */
static void print_latencies(const char *label, double *lat, long ops, double rate)
{
    qsort(lat, (size_t)ops, sizeof *lat, compare);
    double sum = 0;
    for (long i = 0; i < ops; i++)
        sum += lat[i];
    printf("%s: %ld new keys: %.0f decisions/s; latency per decision: mean %.0f us, p50 %.0f us, "
        "p99 %.0f us\n", label, ops, rate, sum / (double)ops * 1e6, lat[ops / 2] * 1e6,
        lat[ops * 99 / 100] * 1e6);
}

static void bench_lmdb(long ops)
{
    char dir[] = "/tmp/mw-store-bench.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return;
    }
    char path[sizeof dir + 8], why[300];
    snprintf(path, sizeof path, "%s/store", dir);
    struct store_settings st = {.backend = STORE_LMDB, .lmdb_path = path,
        .lmdb_max_size = 1024ULL * 1024 * 1024, .fail_mode = STORE_FAIL_TEMPFAIL};
    void *impl = store_lmdb_new(&st, why, sizeof why);
    if (impl == NULL) {
        printf("lmdb: %s\n", why);
        return;
    }
    struct store *s = store_wrap(&store_lmdb_ops, impl, "lmdb", STORE_FAIL_TEMPFAIL);
    struct gcra_limit l;
    const char *error;
    gcra_limit_make(100, 3600LL * 1000000, 10, &l, &error);
    double *lat = calloc((size_t)ops, sizeof *lat);
    struct job one = {.store = s, .limit = &l, .first = 10000000, .count = ops, .latencies = lat};
    double start = seconds();
    run_job(&one);
    double rate = (double)ops / (seconds() - start);
    print_latencies("lmdb, 1 thread ", lat, ops, rate);
    long allowed;
    rate = run(s, &l, 1, 10000000, ops, &allowed);
    printf("lmdb, 1 thread : the same %ld keys again (updates): %.0f decisions/s\n", ops, rate);
    rate = run(s, &l, 4, 20000000, ops, &allowed);
    printf("lmdb, 4 threads: %ld new keys: %.0f decisions/s (%ld allowed)\n", ops, rate, allowed);
    store_free(s);
    char data[sizeof path + 16];
    snprintf(data, sizeof data, "%s/data.mdb", path);
    struct stat sb;
    if (stat(data, &sb) == 0)
        printf("lmdb: data.mdb holds %ld keys in %.1f MiB (%.0f bytes/key)\n", 2 * ops,
            (double)sb.st_size / (1024 * 1024), (double)sb.st_size / (double)(2 * ops));
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("lmdb: could not remove %s\n", dir);
    free(lat);
}

int main(int argc, char **argv)
{
    long keys = 1000000, redis_ops = 100000, lmdb_ops = 100000;
    int redis_port = 0;
    bool redis = true, lmdb = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            keys = atol(argv[++i]);
        else if (strcmp(argv[i], "--redis-ops") == 0 && i + 1 < argc)
            redis_ops = atol(argv[++i]);
        else if (strcmp(argv[i], "--redis-port") == 0 && i + 1 < argc)
            redis_port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-redis") == 0)
            redis = false;
        else if (strcmp(argv[i], "--lmdb-ops") == 0 && i + 1 < argc)
            lmdb_ops = atol(argv[++i]);
        else if (strcmp(argv[i], "--no-lmdb") == 0)
            lmdb = false;
        else {
            fprintf(stderr, "usage: store-bench [--keys N] [--redis-ops N] [--redis-port N] "
                "[--no-redis] [--lmdb-ops N] [--no-lmdb]\n");
            return 2;
        }
    }
    log_open("store-bench", LOG_MAIL, true, false);
    bench_memory(keys);
    if (lmdb)
        bench_lmdb(lmdb_ops);
    if (!redis)
        return 0;
    pid_t pid = 0;
    if (redis_port == 0) {
        redis_port = free_port();
        pid = start_redis(redis_port);
    }
    bench_redis(redis_port, redis_ops);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return 0;
}
