/* store_redis.c - the shared store: Redis through hiredis, for a fleet of MTAs enforcing one
 * limit. Each decision is ONE Lua script run atomically by the server (EVALSHA; loaded again
 * when the server answers NOSCRIPT, as after a restart), on ONE key with a TTL, using the
 * server's clock (TIME) so every mailwarden of the fleet shares one clock. Keys are
 * PREFIX{KEY}: the braces are a Redis Cluster hash tag, so a decision lives on one slot.
 * With Sentinel, the master's address is asked of the sentinels at each (re)connection and
 * checked with ROLE; a failover shows as a failure (READONLY, a closed connection), after which
 * the next connection finds the new master. Cluster: each decision is on one slot; MOVED is
 * not followed (use a cluster proxy).
 * Connections: a small pool shared by the worker threads (libmilter starts a thread per
 * connection), each with a connect timeout and a command timeout. A failure drops the
 * connection and makes calls fail fast for retry_interval; the next call after it reconnects,
 * so the store recovers by itself. store.c applies the fail mode and logs the outage. */
#include "store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util.h"

static const char gcra_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local T = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local cost = tonumber(ARGV[3])\n"
    "local window = burst * T\n"
    "local tat = now\n"
    "local clamped = false\n"
    "local stored = tonumber(redis.call('GET', KEYS[1]) or '')\n"
    "if stored and stored > now then\n"
    "  if stored - now > window then tat = now + window; clamped = true else tat = stored end\n"
    "end\n"
    "local inc = cost * T\n"
    "if inc > 9007199254740992 then inc = 9007199254740992 end\n"
    "local ahead = tat + inc - now\n"
    "if ahead <= window then\n"
    "  redis.call('SET', KEYS[1], string.format('%d', tat + inc), 'PX', math.max(1, math.ceil(ahead / 1000)))\n"
    "  return {1, 0}\n"
    "end\n"
    "if clamped then\n"
    "  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.max(1, math.ceil(window / 1000)))\n"
    "end\n"
    "return {0, ahead - window}\n";

static const char grey_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local delay = tonumber(ARGV[1])\n"
    "local window = tonumber(ARGV[2])\n"
    "local remember = tonumber(ARGV[3])\n"
    "local first, passed\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then first, passed = string.match(v, '^(%d+):([01])$') end\n"
    "if not first then\n"
    "  redis.call('SET', KEYS[1], string.format('%d:0', now), 'PX', math.max(1, math.ceil(window / 1000)))\n"
    "  return {0, delay}\n"
    "end\n"
    "first = tonumber(first)\n"
    "if passed == '0' and now - first < delay then\n"
    "  return {1, delay - (now - first)}\n"
    "end\n"
    "redis.call('SET', KEYS[1], string.format('%d:1', first), 'PX', math.max(1, math.ceil(remember / 1000)))\n"
    "return {2, 0}\n";

struct script {
    const char *source;
    char sha[64];              /* "" until loaded; guarded by the slot's lock while used */
};

struct slot {
    pthread_mutex_t lock;
    redisContext *ctx;
    struct script scripts[2];  /* per connection: a slot reloads what its server lacks */
    unsigned generation;       /* r->generation when connected */
};

struct redis_store {
    struct store_settings settings;
    struct slot *slots;
    unsigned slot_count;
    unsigned next;             /* round robin start, atomic */
    int64_t fail_until_us;     /* atomic: fail fast until then */
    unsigned generation;       /* atomic: bumped by each failure */
};

enum { SCRIPT_GCRA, SCRIPT_GREY };

void *store_redis_new(const struct store_settings *settings)
{
    struct redis_store *r = xcalloc(1, sizeof *r);
    store_settings_copy(&r->settings, settings);
    r->slot_count = settings->pool_size > 0 ? settings->pool_size : 4;
    r->slots = xcalloc(r->slot_count, sizeof *r->slots);
    for (unsigned i = 0; i < r->slot_count; i++) {
        pthread_mutex_init(&r->slots[i].lock, NULL);
        r->slots[i].scripts[SCRIPT_GCRA].source = gcra_script;
        r->slots[i].scripts[SCRIPT_GREY].source = grey_script;
    }
    return r;
}

static void close_connection(struct slot *s)
{
    if (s->ctx != NULL)
        redisFree(s->ctx);
    s->ctx = NULL;
    for (int i = 0; i < 2; i++)
        s->scripts[i].sha[0] = '\0';
}

static void redis_free(void *impl)
{
    struct redis_store *r = impl;
    if (r == NULL)
        return;
    for (unsigned i = 0; i < r->slot_count; i++) {
        close_connection(&r->slots[i]);
        pthread_mutex_destroy(&r->slots[i].lock);
    }
    free(r->slots);
    store_settings_free(&r->settings);
    free(r);
}

/* A free slot if there is one, else wait for one (the pool is small and calls are short). */
static struct slot *slot_take(struct redis_store *r)
{
    unsigned start = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < r->slot_count; i++) {
        struct slot *s = &r->slots[(start + i) % r->slot_count];
        if (pthread_mutex_trylock(&s->lock) == 0)
            return s;
    }
    struct slot *s = &r->slots[start % r->slot_count];
    pthread_mutex_lock(&s->lock);
    return s;
}

static struct timeval ms_to_tv(uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* A failure: every pooled connection is suspect (they go to the same server), and calls fail
 * fast for retry_interval. */
static void start_backoff(struct redis_store *r)
{
    __atomic_add_fetch(&r->generation, 1, __ATOMIC_RELAXED);
    int64_t until = store_now_us() + (int64_t)r->settings.retry_interval_ms * 1000;
    __atomic_store_n(&r->fail_until_us, until, __ATOMIC_RELAXED);
}

/* The server closed or reset an idle connection (it restarted, or dropped idle clients):
 * worth one immediate retry on a new connection. A timeout is not. */
static bool connection_went_stale(const redisContext *ctx, int saved_errno)
{
    return ctx->err == REDIS_ERR_EOF || (ctx->err == REDIS_ERR_IO
        && (saved_errno == ECONNRESET || saved_errno == EPIPE));
}

/* Runs a command that must not fail; false (and err) when it does. */
static bool simple_command(redisContext *ctx, char *err, size_t err_size, const char *what,
    int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(ctx, argc, argv, NULL);
    bool ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;
    if (reply == NULL)
        snprintf(err, err_size, "%s: %s", what, ctx->errstr);
    else if (!ok)
        snprintf(err, err_size, "%s: %s", what, reply->str);
    freeReplyObject(reply);
    return ok;
}

/* "host:port" (or "[v6]:port") of one sentinel; false when it is not one. */
static bool split_host_port(const char *text, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text)
        return false;
    const char *start = text, *end = colon;
    if (*start == '[' && end[-1] == ']') {
        start++;
        end--;
    }
    if ((size_t)(end - start) >= host_size)
        return false;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    char *stop;
    long p = strtol(colon + 1, &stop, 10);
    if (*stop != '\0' || p < 1 || p > 65535)
        return false;
    *port = (int)p;
    return true;
}

/* Asks the sentinels, in order, where the master `sentinel_master` is now. */
static bool master_from_sentinels(const struct store_settings *st, char *host, size_t host_size,
    int *port, char *err, size_t err_size)
{
    char *list = xstrdup(st->sentinels);
    bool found = false;
    snprintf(err, err_size, "no sentinel of \"%s\" answered for master %s", st->sentinels,
        st->sentinel_master);
    for (char *save = NULL, *item = strtok_r(list, ", ", &save); item != NULL && !found;
         item = strtok_r(NULL, ", ", &save)) {
        char shost[256];
        int sport;
        if (!split_host_port(item, shost, sizeof shost, &sport))
            continue;
        redisContext *c = redisConnectWithTimeout(shost, sport, ms_to_tv(st->connect_timeout_ms));
        if (c == NULL || c->err || redisSetTimeout(c, ms_to_tv(st->command_timeout_ms)) != REDIS_OK) {
            if (c != NULL)
                redisFree(c);
            continue;
        }
        const char *argv[] = {"SENTINEL", "get-master-addr-by-name", st->sentinel_master};
        redisReply *reply = redisCommandArgv(c, 3, argv, NULL);
        if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
            && reply->element[0]->type == REDIS_REPLY_STRING
            && reply->element[1]->type == REDIS_REPLY_STRING
            && reply->element[0]->len < host_size) {
            memcpy(host, reply->element[0]->str, reply->element[0]->len + 1);
            *port = atoi(reply->element[1]->str);
            found = *port > 0;
        }
        freeReplyObject(reply);
        redisFree(c);
    }
    free(list);
    return found;
}

/* With sentinels: the server we reached must be the master (a sentinel may lag a failover). */
static bool is_master(redisContext *ctx, char *err, size_t err_size)
{
    const char *argv[] = {"ROLE"};
    redisReply *reply = redisCommandArgv(ctx, 1, argv, NULL);
    bool ok = reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
        && reply->element[0]->type == REDIS_REPLY_STRING
        && strcmp(reply->element[0]->str, "master") == 0;
    if (!ok)
        snprintf(err, err_size, "the server the sentinels named is not a master (yet)");
    freeReplyObject(reply);
    return ok;
}

static bool connect_slot(struct redis_store *r, struct slot *s, char *err, size_t err_size)
{
    const struct store_settings *st = &r->settings;
    struct timeval ctv = ms_to_tv(st->connect_timeout_ms);
    char master[256];
    int master_port = 0;
    if (st->sentinels != NULL) {
        if (!master_from_sentinels(st, master, sizeof master, &master_port, err, err_size))
            return false;
        s->ctx = redisConnectWithTimeout(master, master_port, ctv);
    } else if (st->redis_socket != NULL) {
        s->ctx = redisConnectUnixWithTimeout(st->redis_socket, ctv);
    } else {
        s->ctx = redisConnectWithTimeout(st->redis_host, st->redis_port, ctv);
    }
    if (s->ctx == NULL || s->ctx->err) {
        snprintf(err, err_size, "cannot connect: %s", s->ctx ? s->ctx->errstr : "out of memory");
        return false;
    }
    if (redisSetTimeout(s->ctx, ms_to_tv(st->command_timeout_ms)) != REDIS_OK) {
        snprintf(err, err_size, "cannot set the command timeout: %s", s->ctx->errstr);
        return false;
    }
    if (st->redis_password != NULL) {
        const char *argv[] = {"AUTH", st->redis_password};
        if (!simple_command(s->ctx, err, err_size, "AUTH", 2, argv))
            return false;
    }
    if (st->sentinels != NULL && !is_master(s->ctx, err, err_size))
        return false;
    if (st->redis_db > 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", st->redis_db);
        const char *argv[] = {"SELECT", db};
        if (!simple_command(s->ctx, err, err_size, "SELECT", 2, argv))
            return false;
    }
    return true;
}

static bool load_script(redisContext *ctx, struct script *sc, char *err, size_t err_size)
{
    const char *argv[] = {"SCRIPT", "LOAD", sc->source};
    redisReply *reply = redisCommandArgv(ctx, 3, argv, NULL);
    bool ok = reply != NULL && reply->type == REDIS_REPLY_STRING && reply->len < sizeof sc->sha;
    if (ok)
        memcpy(sc->sha, reply->str, reply->len + 1);
    else
        snprintf(err, err_size, "SCRIPT LOAD: %s", reply == NULL ? ctx->errstr
            : reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    freeReplyObject(reply);
    return ok;
}

/* EVALSHA on a connected slot, loading the script when the server lacks it (NOSCRIPT).
 * *demoted says the server answered READONLY: it is a replica now (a Sentinel failover). */
static bool eval_on_slot(struct redis_store *r, struct slot *s, int which, const char *key,
    const char *const *args, int nargs, long long out[2], bool *demoted, char *err,
    size_t err_size)
{
    *demoted = false;
    struct script *sc = &s->scripts[which];
    char *full_key = xasprintf("%s{%s}", r->settings.redis_prefix ? r->settings.redis_prefix : "",
        key);
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        if (sc->sha[0] == '\0' && !load_script(s->ctx, sc, err, err_size))
            break;
        const char *argv[8] = {"EVALSHA", sc->sha, "1", full_key};
        for (int i = 0; i < nargs && i < 4; i++)
            argv[4 + i] = args[i];
        redisReply *reply = redisCommandArgv(s->ctx, 4 + nargs, argv, NULL);
        if (reply == NULL) {
            snprintf(err, err_size, "%s", s->ctx->errstr);
            break;
        }
        bool stop = false;
        if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            sc->sha[0] = '\0';          /* the server lost it: load it again and retry once */
            snprintf(err, err_size, "NOSCRIPT twice");
        } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
            && reply->element[0]->type == REDIS_REPLY_INTEGER
            && reply->element[1]->type == REDIS_REPLY_INTEGER) {
            out[0] = reply->element[0]->integer;
            out[1] = reply->element[1]->integer;
            ok = true;
        } else {
            snprintf(err, err_size, "unexpected reply: %s",
                reply->type == REDIS_REPLY_ERROR ? reply->str : "not {int, int}");
            *demoted = reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "READONLY", 8) == 0;
            stop = true;
        }
        freeReplyObject(reply);
        if (stop)
            break;
    }
    free(full_key);
    return ok;
}

/* One script call through the pool. A connection from before a failure is replaced; one that
 * the server closed since its last use, or that reaches a demoted master, is retried once on a
 * new connection. A failure starts the backoff; store.c logs it and applies the fail mode. */
static bool run_script(struct redis_store *r, int which, const char *key, const char *const *args,
    int nargs, long long out[2], char *err, size_t err_size)
{
    if (store_now_us() < __atomic_load_n(&r->fail_until_us, __ATOMIC_RELAXED)) {
        snprintf(err, err_size, "not retried yet after a failure");
        return false;
    }
    struct slot *s = slot_take(r);
    unsigned generation = __atomic_load_n(&r->generation, __ATOMIC_RELAXED);
    if (s->ctx != NULL && s->generation != generation)
        close_connection(s);
    bool ok = false, retry = true, demoted = false;
    if (s->ctx != NULL) {
        errno = 0;
        ok = eval_on_slot(r, s, which, key, args, nargs, out, &demoted, err, err_size);
        retry = !ok && (demoted || connection_went_stale(s->ctx, errno));
        if (!ok)
            close_connection(s);
    }
    if (!ok && retry) {
        s->generation = generation;
        ok = connect_slot(r, s, err, err_size)
            && eval_on_slot(r, s, which, key, args, nargs, out, &demoted, err, err_size);
    }
    if (!ok) {
        close_connection(s);
        start_backoff(r);
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static bool redis_gcra(void *impl, const char *key, const struct gcra_limit *limit, int64_t cost,
    int64_t now_us, struct gcra_result *out, char *err, size_t err_size)
{
    char t[24], burst[24], c[24];
    snprintf(t, sizeof t, "%lld", (long long)limit->emission_us);
    snprintf(burst, sizeof burst, "%lld", (long long)limit->burst);
    snprintf(c, sizeof c, "%lld", (long long)(cost < 1 ? 1 : cost));
    const char *args[] = {t, burst, c};
    long long reply[2];
    (void)now_us;              /* the server's clock decides */
    if (!run_script(impl, SCRIPT_GCRA, key, args, 3, reply, err, err_size))
        return false;
    out->allowed = reply[0] == 1;
    out->retry_after_us = reply[1];
    out->new_tat_us = 0;
    out->ttl_us = 0;
    return true;
}

static bool redis_greylist(void *impl, const char *key, const struct grey_params *p,
    int64_t now_us, struct grey_result *out, char *err, size_t err_size)
{
    char delay[24], window[24], remember[24];
    snprintf(delay, sizeof delay, "%lld", (long long)p->delay_us);
    snprintf(window, sizeof window, "%lld", (long long)p->retry_window_us);
    snprintf(remember, sizeof remember, "%lld", (long long)p->remember_us);
    const char *args[] = {delay, window, remember};
    long long reply[2];
    (void)now_us;
    if (!run_script(impl, SCRIPT_GREY, key, args, 3, reply, err, err_size))
        return false;
    out->state = reply[0] == 0 ? GREY_NEW : reply[0] == 1 ? GREY_EARLY : GREY_PASSED;
    out->wait_us = reply[1];
    return true;
}

const struct store_backend_ops store_redis_ops = {
    .name = "redis",
    .gcra = redis_gcra,
    .greylist = redis_greylist,
    .free = redis_free,
};
