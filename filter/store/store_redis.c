/* store_redis.c - the shared store: Redis through hiredis, for a fleet of MTAs enforcing one
 * limit. Each decision is ONE Lua script run atomically by the server (EVALSHA; loaded again
 * when the server answers NOSCRIPT, as after a restart), on ONE key with a TTL, using the
 * server's clock (TIME) so every mailwarden of the fleet shares one clock. Keys are
 * PREFIX{KEY}: the braces are a Redis Cluster hash tag, so a decision lives on one slot.
 * With Sentinel, the master's address is asked of the sentinels at each (re)connection and
 * checked with ROLE; a failover shows as a failure (READONLY, a closed connection), after which
 * the next connection finds the new master.
 * Redis Cluster is detected by itself: the configured server is the seed, and a -MOVED reply
 * adds the node it names (up to MAX_NODES) and records slot -> node, so the next decision on
 * that slot goes straight there (the key's slot is computed as the servers do, see
 * store_redis_cluster.c), and reads the whole map with CLUSTER SLOTS (at most once a
 * second); -ASK (a slot being migrated) retries once on the node named, after
 * ASKING, without recording it. At most MAX_REDIRECTS redirections per decision, then it is a
 * failure. Each node has its own scripts (NOSCRIPT loads them there).
 * Connections: per node, a small pool shared by the worker threads (milter_pool.c runs up to
 * one per busy connection), each with a connect timeout and a command timeout. A failure drops the
 * connections and makes calls fail fast for retry_interval; the next call after it reconnects,
 * so the store recovers by itself. store.c applies the fail mode and logs the outage. */
#include "store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "store_redis_cluster.h"
#include "util.h"

enum { MAX_NODES = 64, MAX_REDIRECTS = 5, HOST_SIZE = 256 };

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

/* Generic records live at PREFIX g:{KEY}, apart from the decisions' PREFIX{KEY}, so a scan
 * never meets a rate-limit or greylisting record. A counter is an integer string (INCRBY); a
 * value is "v" and its bytes, so the two kinds cannot be mistaken. Replies are {status, 0}
 * or {status, 0, text}: status -1 is a key of the other kind, -2 an overflow, -3 (made from
 * the server's CROSSSLOT) a batch over several cluster slots (any other
 * error of INCRBY, READONLY for one, is passed on as the failure it is). Counters come
 * back as text (GET after INCRBY): Lua numbers are doubles and would round beyond 2^53. */
static const char counter_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and string.sub(v, 1, 1) == 'v' then return {-1, 0} end\n"
    "local r = redis.pcall('INCRBY', KEYS[1], ARGV[1])\n"
    "if type(r) == 'table' and r.err then\n"
    "  if string.find(r.err, 'overflow') or string.find(r.err, 'not an integer') then\n"
    "    return {-2, 0}\n"
    "  end\n"
    "  return r\n"
    "end\n"
    "if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "return {0, 0, redis.call('GET', KEYS[1])}\n";

/* A batch: every INCRBY, undone (old value and TTL restored, or the key deleted) when one
 * fails; the value after each add (a key twice: its sum so far) comes back in one text,
 * separated by spaces. */
static const char counter_many_script[] =
    "local done = {}\n"
    "local values = {}\n"
    "local function undo()\n"
    "  for j = #done, 1, -1 do\n"
    "    if done[j][2] then redis.call('SET', done[j][1], done[j][2], 'KEEPTTL')\n"
    "    else redis.call('DEL', done[j][1]) end\n"
    "  end\n"
    "end\n"
    "local n = #KEYS\n"
    "for i = 1, n do\n"
    "  local before = redis.call('GET', KEYS[i])\n"
    "  if before and string.sub(before, 1, 1) == 'v' then undo() return {-1, i} end\n"
    "  local r = redis.pcall('INCRBY', KEYS[i], ARGV[i])\n"
    "  if type(r) == 'table' and r.err then\n"
    "    undo()\n"
    "    if string.find(r.err, 'overflow') or string.find(r.err, 'not an integer') then\n"
    "      return {-2, i}\n"
    "    end\n"
    "    return r\n"
    "  end\n"
    "  done[#done + 1] = {KEYS[i], before}\n"
    "  values[i] = redis.call('GET', KEYS[i])\n"
    "end\n"
    "for i = 1, n do\n"
    "  if tonumber(ARGV[n + 1]) > 0 then redis.call('PEXPIRE', KEYS[i], ARGV[n + 1]) end\n"
    "end\n"
    "return {0, 0, table.concat(values, ' ')}\n";

static const char value_set_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and string.sub(v, 1, 1) ~= 'v' then return {-1, 0} end\n"
    "if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], 'v' .. ARGV[1], 'PX', ARGV[2])\n"
    "else redis.call('SET', KEYS[1], 'v' .. ARGV[1]) end\n"
    "return {0, 0}\n";

static const char get_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return {0, 0} end\n"
    "return {1, 0, v}\n";

static const char delete_script[] =
    "redis.call('DEL', KEYS[1])\n"
    "return {0, 0}\n";

enum { SCRIPT_GCRA, SCRIPT_GREY, SCRIPT_COUNTER, SCRIPT_COUNTER_MANY, SCRIPT_VALUE_SET,
    SCRIPT_GET, SCRIPT_DELETE, SCRIPT_COUNT };

static const char *const script_sources[SCRIPT_COUNT] = {
    [SCRIPT_GCRA] = gcra_script, [SCRIPT_GREY] = grey_script,
    [SCRIPT_COUNTER] = counter_script, [SCRIPT_COUNTER_MANY] = counter_many_script,
    [SCRIPT_VALUE_SET] = value_set_script, [SCRIPT_GET] = get_script,
    [SCRIPT_DELETE] = delete_script,
};

/* One script call: its keys (full, with the prefix) and arguments (binary-safe), and what
 * the server answered: two integers and, for some scripts, a text (malloc'ed). */
struct script_call {
    int which;
    const char *const *keys;
    int nkeys;
    const char *const *args;
    const size_t *arg_lens;        /* NULL: each is a C string */
    int nargs;
    long long out[2];
    char *text;
    size_t text_len;
};

struct script {
    const char *source;
    char sha[64];              /* "" until loaded; guarded by the connection's lock */
};

struct conn {
    pthread_mutex_t lock;
    redisContext *ctx;
    struct script scripts[SCRIPT_COUNT]; /* per connection: reloads what its server lacks */
    unsigned generation;       /* r->generation when connected */
};

/* A server: node 0 is the configured one (host:port, socket or sentinels); the others are
 * cluster nodes learnt from redirections, never removed (at most MAX_NODES). */
struct node {
    char host[HOST_SIZE];      /* "" for node 0 unless it is a plain host:port */
    int port;
    struct conn *conns;
    unsigned conn_count;
    unsigned next;             /* round robin start, atomic */
};

struct redis_store {
    struct store_settings settings;
    pthread_mutex_t nodes_lock;                 /* adding a node */
    struct node *nodes[MAX_NODES];
    unsigned node_count;                        /* atomic (release when a node is added) */
    unsigned char slot_node[REDIS_CLUSTER_SLOTS]; /* atomic bytes: node index + 1; 0 = seed */
    int64_t fail_until_us;     /* atomic: fail fast until then */
    unsigned generation;       /* atomic: bumped by each failure */
    int64_t map_read_us;       /* atomic: when CLUSTER SLOTS was last asked */
};

/* What one try on one node gave. */
enum outcome { OUTCOME_DONE, OUTCOME_FAILED, OUTCOME_REDIRECTED };

static struct node *node_new(const char *host, int port, unsigned conn_count)
{
    struct node *n = xcalloc(1, sizeof *n);
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    n->conn_count = conn_count;
    n->conns = xcalloc(conn_count, sizeof *n->conns);
    for (unsigned i = 0; i < conn_count; i++) {
        pthread_mutex_init(&n->conns[i].lock, NULL);
        for (int k = 0; k < SCRIPT_COUNT; k++)
            n->conns[i].scripts[k].source = script_sources[k];
    }
    return n;
}

static unsigned pool_size(const struct redis_store *r)
{
    return r->settings.pool_size > 0 ? r->settings.pool_size : 4;
}

void *store_redis_new(const struct store_settings *settings)
{
    struct redis_store *r = xcalloc(1, sizeof *r);
    store_settings_copy(&r->settings, settings);
    pthread_mutex_init(&r->nodes_lock, NULL);
    bool plain_tcp = settings->sentinels == NULL && settings->redis_socket == NULL
        && settings->redis_host != NULL;
    r->nodes[0] = node_new(plain_tcp ? settings->redis_host : "", plain_tcp ? settings->redis_port
        : 0, pool_size(r));
    r->node_count = 1;
    return r;
}

static void close_connection(struct conn *s)
{
    if (s->ctx != NULL)
        redisFree(s->ctx);
    s->ctx = NULL;
    for (int i = 0; i < SCRIPT_COUNT; i++)
        s->scripts[i].sha[0] = '\0';
}

static void redis_free(void *impl)
{
    struct redis_store *r = impl;
    if (r == NULL)
        return;
    for (unsigned n = 0; n < r->node_count; n++) {
        struct node *node = r->nodes[n];
        for (unsigned i = 0; i < node->conn_count; i++) {
            close_connection(&node->conns[i]);
            pthread_mutex_destroy(&node->conns[i].lock);
        }
        free(node->conns);
        free(node);
    }
    pthread_mutex_destroy(&r->nodes_lock);
    store_settings_free(&r->settings);
    free(r);
}

/* A free connection of the node if there is one, else wait for one (the pool is small and
 * calls are short). */
static struct conn *conn_take(struct node *n)
{
    unsigned start = __atomic_fetch_add(&n->next, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < n->conn_count; i++) {
        struct conn *s = &n->conns[(start + i) % n->conn_count];
        if (pthread_mutex_trylock(&s->lock) == 0)
            return s;
    }
    struct conn *s = &n->conns[start % n->conn_count];
    pthread_mutex_lock(&s->lock);
    return s;
}

/* The node for host:port, added when new; -1 when MAX_NODES are known already. */
static int node_find_or_add(struct redis_store *r, const char *host, int port)
{
    pthread_mutex_lock(&r->nodes_lock);
    int found = -1;
    for (unsigned i = 0; i < r->node_count && found < 0; i++)
        if (r->nodes[i]->port == port && strcmp(r->nodes[i]->host, host) == 0)
            found = (int)i;
    if (found < 0 && r->node_count < MAX_NODES) {
        r->nodes[r->node_count] = node_new(host, port, pool_size(r));
        found = (int)r->node_count;
        __atomic_store_n(&r->node_count, r->node_count + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&r->nodes_lock);
    return found;
}

/* The node that served this cluster slot last (the seed when none is known yet). */
static unsigned slot_node_get(struct redis_store *r, unsigned slot)
{
    unsigned char v = __atomic_load_n(&r->slot_node[slot], __ATOMIC_RELAXED);
    unsigned count = __atomic_load_n(&r->node_count, __ATOMIC_ACQUIRE);
    return v > 0 && v <= count ? v - 1u : 0;
}

static void slot_node_set(struct redis_store *r, unsigned slot, unsigned node)
{
    __atomic_store_n(&r->slot_node[slot], (unsigned char)(node + 1), __ATOMIC_RELAXED);
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

/* Connects s to its node: a cluster node learnt from a redirection by its address, node 0 as
 * configured. */
static bool connect_conn(struct redis_store *r, const struct node *n, bool seed, struct conn *s,
    char *err, size_t err_size)
{
    const struct store_settings *st = &r->settings;
    struct timeval ctv = ms_to_tv(st->connect_timeout_ms);
    char master[256];
    int master_port = 0;
    if (!seed) {
        s->ctx = redisConnectWithTimeout(n->host, n->port, ctv);
    } else if (st->sentinels != NULL) {
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
    if (seed && st->sentinels != NULL && !is_master(s->ctx, err, err_size))
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

/* One entry of CLUSTER SLOTS: {start, end, {host, port, ...}, replicas...}; false when it is
 * not one. An empty host is the server asked (asked_host). */
static bool read_slot_range(const redisReply *e, const char *asked_host, long long *start,
    long long *end, const char **host, int *port)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
        || e->element[0]->type != REDIS_REPLY_INTEGER || e->element[1]->type != REDIS_REPLY_INTEGER
        || e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2)
        return false;
    const redisReply *master = e->element[2];
    if (master->element[0]->type != REDIS_REPLY_STRING
        || master->element[1]->type != REDIS_REPLY_INTEGER)
        return false;
    *start = e->element[0]->integer;
    *end = e->element[1]->integer;
    *host = master->element[0]->len > 0 ? master->element[0]->str : asked_host;
    long long p = master->element[1]->integer;
    *port = (int)p;
    return *start >= 0 && *start <= *end && *end < REDIS_CLUSTER_SLOTS && p >= 1 && p <= 65535
        && (*host)[0] != '\0' && strcmp(*host, "?") != 0
        && strlen(*host) < HOST_SIZE;
}

/* After a MOVED (the map changed, or was never read): the whole slot map from CLUSTER SLOTS
 * on the connection that answered, so later decisions reach the right node at the first try.
 * At most once a second per store; its failure is not the decision's (MOVED still works). */
static void read_slot_map(struct redis_store *r, redisContext *ctx, const char *asked_host)
{
    int64_t now = store_now_us();
    int64_t last = __atomic_load_n(&r->map_read_us, __ATOMIC_RELAXED);
    if (last != 0 && now - last < 1000000)
        return;
    if (!__atomic_compare_exchange_n(&r->map_read_us, &last, now, false, __ATOMIC_RELAXED,
            __ATOMIC_RELAXED))
        return;
    const char *argv[] = {"CLUSTER", "SLOTS"};
    redisReply *reply = redisCommandArgv(ctx, 2, argv, NULL);
    for (size_t i = 0; reply != NULL && reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
         i++) {
        long long start, end;
        const char *host;
        int port;
        if (!read_slot_range(reply->element[i], asked_host, &start, &end, &host, &port))
            continue;
        int node = node_find_or_add(r, host, port);
        for (long long slot = start; node >= 0 && slot <= end; slot++)
            slot_node_set(r, (unsigned)slot, (unsigned)node);
    }
    freeReplyObject(reply);
}

/* EVALSHA on a connected connection (after ASKING when asking), loading the script when the
 * server lacks it (NOSCRIPT). A -MOVED or -ASK reply is OUTCOME_REDIRECTED with *redirect.
 * *demoted says the server answered READONLY: it is a replica now (a Sentinel failover). */
static enum outcome eval_on_conn(struct conn *s, struct script_call *call, bool asking,
    struct redis_redirect *redirect, bool *demoted, char *err, size_t err_size)
{
    *demoted = false;
    struct script *sc = &s->scripts[call->which];
    int argc = 3 + call->nkeys + call->nargs;
    const char **argv = xcalloc((size_t)argc, sizeof *argv);
    size_t *argvlen = xcalloc((size_t)argc, sizeof *argvlen);
    char nkeys[16];
    snprintf(nkeys, sizeof nkeys, "%d", call->nkeys);
    enum outcome result = OUTCOME_FAILED;
    for (int attempt = 0; attempt < 2 && result == OUTCOME_FAILED; attempt++) {
        if (sc->sha[0] == '\0' && !load_script(s->ctx, sc, err, err_size))
            break;
        const char *asking_argv[] = {"ASKING"};
        if (asking && !simple_command(s->ctx, err, err_size, "ASKING", 1, asking_argv))
            break;
        argv[0] = "EVALSHA";
        argv[1] = sc->sha;
        argv[2] = nkeys;
        for (int i = 0; i < call->nkeys; i++)
            argv[3 + i] = call->keys[i];
        for (int i = 0; i < call->nargs; i++)
            argv[3 + call->nkeys + i] = call->args[i];
        for (int i = 0; i < argc; i++)
            argvlen[i] = i >= 3 + call->nkeys && call->arg_lens != NULL
                ? call->arg_lens[i - 3 - call->nkeys] : strlen(argv[i]);
        redisReply *reply = redisCommandArgv(s->ctx, argc, argv, argvlen);
        if (reply == NULL) {
            snprintf(err, err_size, "%s", s->ctx->errstr);
            break;
        }
        bool stop = false;
        if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            sc->sha[0] = '\0';          /* the server lost it: load it again and retry once */
            snprintf(err, err_size, "NOSCRIPT twice");
        } else if (reply->type == REDIS_REPLY_ARRAY
            && (reply->elements == 2 || (reply->elements == 3
                && reply->element[2]->type == REDIS_REPLY_STRING))
            && reply->element[0]->type == REDIS_REPLY_INTEGER
            && reply->element[1]->type == REDIS_REPLY_INTEGER) {
            call->out[0] = reply->element[0]->integer;
            call->out[1] = reply->element[1]->integer;
            free(call->text);
            call->text = NULL;
            call->text_len = 0;
            if (reply->elements == 3) {
                call->text_len = reply->element[2]->len;
                call->text = xmalloc(call->text_len + 1);
                memcpy(call->text, reply->element[2]->str, call->text_len);
                call->text[call->text_len] = '\0';
            }
            result = OUTCOME_DONE;
        } else if (reply->type == REDIS_REPLY_ERROR && redis_parse_redirect(reply->str, redirect)) {
            result = OUTCOME_REDIRECTED;
        } else if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "CROSSSLOT", 9) == 0) {
            call->out[0] = -3;          /* a batch over several slots: the caller's op, not an outage */
            call->out[1] = 0;
            result = OUTCOME_DONE;
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
    free(argv);
    free(argvlen);
    return result;
}

/* One try on one node through its pool. A connection from before a failure is replaced; one
 * that the server closed since its last use, or that reaches a demoted master, is retried
 * once on a new connection. */
static enum outcome run_on_node(struct redis_store *r, unsigned node_index,
    struct script_call *call, bool asking, struct redis_redirect *redirect, char *err,
    size_t err_size)
{
    struct node *n = r->nodes[node_index];
    struct conn *s = conn_take(n);
    unsigned generation = __atomic_load_n(&r->generation, __ATOMIC_RELAXED);
    if (s->ctx != NULL && s->generation != generation)
        close_connection(s);
    enum outcome result = OUTCOME_FAILED;
    bool retry = true, demoted = false;
    if (s->ctx != NULL) {
        errno = 0;
        result = eval_on_conn(s, call, asking, redirect, &demoted, err, err_size);
        retry = result == OUTCOME_FAILED && (demoted || connection_went_stale(s->ctx, errno));
        if (result == OUTCOME_FAILED)
            close_connection(s);
    }
    if (result == OUTCOME_FAILED && retry) {
        s->generation = generation;
        if (connect_conn(r, n, node_index == 0, s, err, err_size))
            result = eval_on_conn(s, call, asking, redirect, &demoted, err, err_size);
    }
    if (result == OUTCOME_FAILED)
        close_connection(s);
    if (result == OUTCOME_REDIRECTED && redirect->kind == REDIS_REDIRECT_MOVED)
        read_slot_map(r, s->ctx, n->host);
    pthread_mutex_unlock(&s->lock);
    return result;
}

/* One script call: first on the node that served the key's slot last, then where MOVED or
 * ASK redirect it (a few times at most). A failure starts the backoff; store.c logs it and
 * applies the fail mode. */
static bool run_call(struct redis_store *r, struct script_call *call, char *err, size_t err_size)
{
    if (store_now_us() < __atomic_load_n(&r->fail_until_us, __ATOMIC_RELAXED)) {
        snprintf(err, err_size, "not retried yet after a failure");
        return false;
    }
    const char *first_key = call->keys[0];
    unsigned node = slot_node_get(r, redis_key_slot(first_key, strlen(first_key)));
    bool asking = false, ok = false;
    for (int hop = 0;; hop++) {
        struct redis_redirect redirect;
        enum outcome result = run_on_node(r, node, call, asking, &redirect, err, err_size);
        if (result != OUTCOME_REDIRECTED) {
            ok = result == OUTCOME_DONE;
            break;
        }
        const char *host = redirect.host[0] != '\0' ? redirect.host : r->nodes[node]->host;
        if (hop == MAX_REDIRECTS) {
            snprintf(err, err_size, "more than %d cluster redirections (the last to %s:%d): "
                "is the cluster resharding without end?", MAX_REDIRECTS, host, redirect.port);
            break;
        }
        int target = node_find_or_add(r, host, redirect.port);
        if (target < 0) {
            snprintf(err, err_size, "redirected to a cluster node beyond the %d known "
                "(%s:%d)", MAX_NODES, host, redirect.port);
            break;
        }
        if (redirect.kind == REDIS_REDIRECT_MOVED)
            slot_node_set(r, redirect.slot, (unsigned)target);
        asking = redirect.kind == REDIS_REDIRECT_ASK;
        node = (unsigned)target;
    }
    if (!ok)
        start_backoff(r);
    return ok;
}

static const char *key_prefix(const struct redis_store *r)
{
    return r->settings.redis_prefix ? r->settings.redis_prefix : "";
}

/* A decision's script on PREFIX{KEY}: its two integers. */
static bool run_script(struct redis_store *r, int which, const char *key, const char *const *args,
    int nargs, long long out[2], char *err, size_t err_size)
{
    char *full_key = xasprintf("%s{%s}", key_prefix(r), key);
    const char *keys[] = {full_key};
    struct script_call call = {.which = which, .keys = keys, .nkeys = 1, .args = args,
        .nargs = nargs};
    bool ok = run_call(r, &call, err, err_size);
    out[0] = call.out[0];
    out[1] = call.out[1];
    free(call.text);
    free(full_key);
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

/* Generic records (store.h), at PREFIX g:{KEY}. */

static char *generic_key(const struct redis_store *r, const char *key)
{
    return xasprintf("%sg:{%s}", key_prefix(r), key);
}

/* The script's status: -1 a key of the other kind, -2 an overflow (the caller's mistakes). */
static bool status_ok(long long status, char *err, size_t err_size)
{
    if (status == -1)
        snprintf(err, err_size, "invalid: an op on a key of the other kind");
    else if (status == -2)
        snprintf(err, err_size, "invalid: the counter would overflow (or holds no integer)");
    else if (status == -3)
        snprintf(err, err_size, "invalid: a batch of counter adds needs one Redis server, not a "
            "cluster (its keys are on several slots)");
    return status >= 0;
}

static bool parse_counter(const char *text, int64_t *value, char *err, size_t err_size)
{
    char *end;
    errno = 0;
    long long v = text != NULL ? strtoll(text, &end, 10) : 0;
    if (text == NULL || errno != 0 || end == text || (*end != '\0' && *end != ' ')) {
        snprintf(err, err_size, "unexpected reply: a counter that is not an integer");
        return false;
    }
    *value = v;
    return true;
}

static bool redis_counter_add(void *impl, const char *key, int64_t delta, uint64_t ttl_ms,
    int64_t now_us, int64_t *value, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    char *full_key = generic_key(r, key);
    char d[24], ttl[24];
    snprintf(d, sizeof d, "%lld", (long long)delta);
    snprintf(ttl, sizeof ttl, "%llu", (unsigned long long)ttl_ms);
    const char *keys[] = {full_key};
    const char *args[] = {d, ttl};
    struct script_call call = {.which = SCRIPT_COUNTER, .keys = keys, .nkeys = 1, .args = args,
        .nargs = 2};
    (void)now_us;
    bool ok = run_call(r, &call, err, err_size) && status_ok(call.out[0], err, err_size)
        && parse_counter(call.text, value, err, err_size);
    free(call.text);
    free(full_key);
    return ok;
}

static bool redis_counter_add_many(void *impl, struct store_counter_change *changes,
    size_t count, uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    char **keys = xcalloc(count, sizeof *keys);
    char **args = xcalloc(count + 1, sizeof *args);
    for (size_t i = 0; i < count; i++) {
        keys[i] = generic_key(r, changes[i].key);
        args[i] = xasprintf("%lld", (long long)changes[i].delta);
    }
    args[count] = xasprintf("%llu", (unsigned long long)ttl_ms);
    struct script_call call = {.which = SCRIPT_COUNTER_MANY, .keys = (const char *const *)keys,
        .nkeys = (int)count, .args = (const char *const *)args, .nargs = (int)count + 1};
    (void)now_us;
    bool ok = run_call(r, &call, err, err_size) && status_ok(call.out[0], err, err_size);
    const char *p = call.text;
    for (size_t i = 0; i < count && ok; i++) {
        ok = parse_counter(p, &changes[i].value, err, err_size);
        p = ok ? strchr(p, ' ') : NULL;
        p = p != NULL ? p + 1 : NULL;
    }
    for (size_t i = 0; i < count; i++)
        free(keys[i]);
    for (size_t i = 0; i <= count; i++)
        free(args[i]);
    free(keys);
    free(args);
    free(call.text);
    return ok;
}

static bool redis_value_set(void *impl, const char *key, const void *value, size_t len,
    uint64_t ttl_ms, int64_t now_us, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    char *full_key = generic_key(r, key);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%llu", (unsigned long long)ttl_ms);
    const char *keys[] = {full_key};
    const char *args[] = {len > 0 ? value : "", ttl};
    size_t lens[] = {len, strlen(ttl)};
    struct script_call call = {.which = SCRIPT_VALUE_SET, .keys = keys, .nkeys = 1, .args = args,
        .arg_lens = lens, .nargs = 2};
    (void)now_us;
    bool ok = run_call(r, &call, err, err_size) && status_ok(call.out[0], err, err_size);
    free(call.text);
    free(full_key);
    return ok;
}

/* What a stored text is: "v" and a value's bytes, or a counter. */
static bool item_from_text(const char *text, size_t len, struct store_item *out, char *err,
    size_t err_size)
{
    if (len > 0 && text[0] == 'v') {
        if (len - 1 > STORE_VALUE_MAX) {
            snprintf(err, err_size, "unexpected reply: a value longer than STORE_VALUE_MAX");
            return false;
        }
        out->kind = STORE_ITEM_VALUE;
        out->counter = 0;
        out->value_len = len - 1;
        memcpy(out->value, text + 1, len - 1);
        return true;
    }
    out->kind = STORE_ITEM_COUNTER;
    out->value_len = 0;
    return parse_counter(text, &out->counter, err, err_size);
}

/* GET of a full key (as the scan found it, or made from the key). */
static bool get_full_key(struct redis_store *r, const char *full_key, struct store_item *out,
    bool *found, char *err, size_t err_size)
{
    const char *keys[] = {full_key};
    struct script_call call = {.which = SCRIPT_GET, .keys = keys, .nkeys = 1};
    bool ok = run_call(r, &call, err, err_size);
    *found = ok && call.out[0] == 1 && call.text != NULL;
    if (*found)
        ok = item_from_text(call.text, call.text_len, out, err, err_size);
    free(call.text);
    return ok;
}

static bool redis_get(void *impl, const char *key, int64_t now_us, struct store_item *out,
    bool *found, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    char *full_key = generic_key(r, key);
    (void)now_us;
    bool ok = get_full_key(r, full_key, out, found, err, err_size);
    free(full_key);
    return ok;
}

static bool redis_remove(void *impl, const char *key, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    char *full_key = generic_key(r, key);
    const char *keys[] = {full_key};
    struct script_call call = {.which = SCRIPT_DELETE, .keys = keys, .nkeys = 1};
    bool ok = run_call(r, &call, err, err_size);
    free(call.text);
    free(full_key);
    return ok;
}

/* The keys a scan found, full, sorted then made unique (SCAN may return a key twice). */
struct key_list {
    char **keys;
    size_t count, cap;
};

static void key_list_add(struct key_list *l, const char *key, size_t len)
{
    if (l->count == l->cap) {
        l->cap = l->cap > 0 ? 2 * l->cap : 256;
        l->keys = xrealloc(l->keys, l->cap * sizeof *l->keys);
    }
    char *copy = xmalloc(len + 1);
    memcpy(copy, key, len);
    copy[len] = '\0';
    l->keys[l->count++] = copy;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void key_list_free(struct key_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->keys[i]);
    free(l->keys);
}

/* The SCAN MATCH pattern of a prefix: PREFIX g:{ then the prefix with the glob characters
 * escaped, then *. */
static char *scan_pattern(const struct redis_store *r, const char *prefix)
{
    size_t len = strlen(prefix);
    char *escaped = xmalloc(2 * len + 1), *p = escaped;
    for (size_t i = 0; i < len; i++) {
        if (strchr("*?[]\\", prefix[i]) != NULL)
            *p++ = '\\';
        *p++ = prefix[i];
    }
    *p = '\0';
    char *pattern = xasprintf("%sg:{%s*", key_prefix(r), escaped);
    free(escaped);
    return pattern;
}

/* SCAN MATCH over one node to the end of its cursor, adding what it finds. */
static bool scan_node(struct redis_store *r, unsigned node_index, const char *pattern,
    struct key_list *found, char *err, size_t err_size)
{
    struct node *n = r->nodes[node_index];
    struct conn *s = conn_take(n);
    unsigned generation = __atomic_load_n(&r->generation, __ATOMIC_RELAXED);
    if (s->ctx != NULL && s->generation != generation)
        close_connection(s);
    bool ok = true;
    if (s->ctx == NULL) {
        s->generation = generation;
        ok = connect_conn(r, n, node_index == 0, s, err, err_size);
    }
    if (ok && node_index == 0)
        read_slot_map(r, s->ctx, n->host);            /* a cluster: learn its masters first */
    char cursor[32] = "0";
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "500"};
        redisReply *reply = ok ? redisCommandArgv(s->ctx, 6, argv, NULL) : NULL;
        ok = reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
            && reply->element[0]->type == REDIS_REPLY_STRING
            && reply->element[1]->type == REDIS_REPLY_ARRAY
            && reply->element[0]->len < sizeof cursor;
        if (ok) {
            memcpy(cursor, reply->element[0]->str, reply->element[0]->len + 1);
            const redisReply *keys = reply->element[1];
            for (size_t i = 0; i < keys->elements; i++)
                if (keys->element[i]->type == REDIS_REPLY_STRING)
                    key_list_add(found, keys->element[i]->str, keys->element[i]->len);
        } else if (s->ctx != NULL && err[0] == '\0') {
            snprintf(err, err_size, "SCAN: %s", reply == NULL ? s->ctx->errstr
                : reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        }
        freeReplyObject(reply);
    } while (ok && strcmp(cursor, "0") != 0);
    if (!ok)
        close_connection(s);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* SCAN on every node known (a cluster's masters once the slot map is read), then a GET per
 * key found, outside any connection's lock, so fn may call the store. */
static bool redis_scan(void *impl, const char *prefix, int64_t now_us, store_scan_fn fn,
    void *arg, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    (void)now_us;
    if (store_now_us() < __atomic_load_n(&r->fail_until_us, __ATOMIC_RELAXED)) {
        snprintf(err, err_size, "not retried yet after a failure");
        return false;
    }
    err[0] = '\0';
    char *pattern = scan_pattern(r, prefix);
    struct key_list found = {0};
    bool ok = true;
    for (unsigned i = 0; i < __atomic_load_n(&r->node_count, __ATOMIC_ACQUIRE) && ok; i++)
        ok = scan_node(r, i, pattern, &found, err, err_size);
    free(pattern);
    if (found.count > 0)
        qsort(found.keys, found.count, sizeof *found.keys, compare_keys);
    size_t head = strlen(key_prefix(r)) + 3;          /* PREFIX g:{ */
    struct store_item *item = xmalloc(sizeof *item);
    bool go_on = true;
    for (size_t i = 0; i < found.count && ok && go_on; i++) {
        if (i > 0 && strcmp(found.keys[i], found.keys[i - 1]) == 0)
            continue;
        size_t len = strlen(found.keys[i]);
        bool item_found = false;
        if (len < head + 1 || found.keys[i][len - 1] != '}')
            continue;
        ok = get_full_key(r, found.keys[i], item, &item_found, err, err_size);
        if (!ok || !item_found)
            continue;                                 /* deleted or expired since */
        found.keys[i][len - 1] = '\0';
        go_on = fn(arg, found.keys[i] + head, item);
    }
    free(item);
    key_list_free(&found);
    if (!ok)
        start_backoff(r);
    return ok;
}

/* ---- Batches without a script: one MGET, one pipelined MULTI/EXEC ----
 * A batch goes to the node that served its first key's slot last, on one connection of the
 * pool, as one round trip (hiredis's pipelining: redisAppendCommandArgv, then redisGetReply
 * for each reply). No redirection is followed: a batch over several cluster slots is the
 * caller's mistake (CROSSSLOT; one server for Bayes, store.h). */

typedef bool (*pipeline_fn)(redisContext *ctx, void *arg, char *err, size_t err_size);

/* fn on a connection of the first key's node; once more on a new connection when the one it
 * took had gone stale (the server closed it since its last use: nothing reached the server).
 * A failure starts the backoff, as run_call. */
static bool run_pipeline(struct redis_store *r, const char *first_key, pipeline_fn fn,
    void *arg, char *err, size_t err_size)
{
    if (store_now_us() < __atomic_load_n(&r->fail_until_us, __ATOMIC_RELAXED)) {
        snprintf(err, err_size, "not retried yet after a failure");
        return false;
    }
    unsigned node_index = slot_node_get(r, redis_key_slot(first_key, strlen(first_key)));
    struct node *n = r->nodes[node_index];
    struct conn *s = conn_take(n);
    unsigned generation = __atomic_load_n(&r->generation, __ATOMIC_RELAXED);
    if (s->ctx != NULL && s->generation != generation)
        close_connection(s);
    bool ok = false, retry = true;
    if (s->ctx != NULL) {
        errno = 0;
        ok = fn(s->ctx, arg, err, err_size);
        retry = !ok && s->ctx->err != 0 && connection_went_stale(s->ctx, errno);
        if (!ok && s->ctx->err != 0)
            close_connection(s);
    }
    if (!ok && retry && s->ctx == NULL) {
        s->generation = generation;
        if (connect_conn(r, n, node_index == 0, s, err, err_size))
            ok = fn(s->ctx, arg, err, err_size);
        if (!ok && s->ctx != NULL && s->ctx->err != 0)
            close_connection(s);
    }
    pthread_mutex_unlock(&s->lock);
    if (!ok && strncmp(err, "invalid: ", 9) != 0)
        start_backoff(r);
    return ok;
}

/* Reads the reply of a command appended to the pipeline; NULL + err when the connection
 * failed. */
static redisReply *pipeline_reply(redisContext *ctx, char *err, size_t err_size)
{
    void *reply = NULL;
    if (redisGetReply(ctx, &reply) != REDIS_OK || reply == NULL) {
        snprintf(err, err_size, "%s", ctx->errstr[0] != '\0' ? ctx->errstr : "no reply");
        return NULL;
    }
    return reply;
}

/* The error a reply is, as err: CROSSSLOT (keys on several cluster slots) is the caller's. */
static void reply_error(const redisReply *reply, const char *what, char *err, size_t err_size)
{
    if (strstr(reply->str, "CROSSSLOT") != NULL)
        snprintf(err, err_size, "invalid: a batch needs one Redis server, not a cluster (its "
            "keys are on several slots)");
    else
        snprintf(err, err_size, "%s: %s", what, reply->str);
}

struct mget_call {
    char **keys;               /* full keys */
    size_t count;
    int64_t *values;
};

static bool mget_on_conn(redisContext *ctx, void *arg, char *err, size_t err_size)
{
    struct mget_call *c = arg;
    const char **argv = xcalloc(c->count + 1, sizeof *argv);
    argv[0] = "MGET";
    for (size_t i = 0; i < c->count; i++)
        argv[i + 1] = c->keys[i];
    redisReply *reply = redisCommandArgv(ctx, (int)c->count + 1, argv, NULL);
    free(argv);
    if (reply == NULL) {
        snprintf(err, err_size, "%s", ctx->errstr);
        return false;
    }
    bool ok = false;
    if (reply->type == REDIS_REPLY_ERROR) {
        reply_error(reply, "MGET", err, err_size);
    } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != c->count) {
        snprintf(err, err_size, "unexpected reply to MGET: not an array of %zu", c->count);
    } else {
        ok = true;
        for (size_t i = 0; i < c->count && ok; i++) {
            const redisReply *e = reply->element[i];
            c->values[i] = 0;
            if (e->type == REDIS_REPLY_NIL)
                continue;
            if (e->type != REDIS_REPLY_STRING) {
                snprintf(err, err_size, "unexpected reply to MGET: an element not a string");
                ok = false;
            } else if (e->len > 0 && e->str[0] == 'v') {
                snprintf(err, err_size, "invalid: a counter op on a key that holds a value");
                ok = false;
            } else {
                ok = parse_counter(e->str, &c->values[i], err, err_size);
            }
        }
    }
    freeReplyObject(reply);
    return ok;
}

static bool redis_counter_get_many(void *impl, const char *const *keys, size_t count,
    int64_t now_us, int64_t *values, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    struct mget_call c = {.keys = xcalloc(count, sizeof *c.keys), .count = count,
        .values = values};
    for (size_t i = 0; i < count; i++)
        c.keys[i] = generic_key(r, keys[i]);
    (void)now_us;
    bool ok = run_pipeline(r, c.keys[0], mget_on_conn, &c, err, err_size);
    for (size_t i = 0; i < count; i++)
        free(c.keys[i]);
    free(c.keys);
    return ok;
}

struct exec_call {
    struct redis_store *r;
    const struct store_write *writes;
    size_t count;
};

/* Appends one write (one or two commands) to the pipeline; the number of commands. */
static int append_write(redisContext *ctx, const char *key, const struct store_write *w)
{
    char number[24], ttl[24];
    snprintf(ttl, sizeof ttl, "%llu", (unsigned long long)w->ttl_ms);
    if (w->kind == STORE_WRITE_COUNTER_ADD) {
        snprintf(number, sizeof number, "%lld", (long long)w->delta);
        const char *argv[] = {"INCRBY", key, number};
        redisAppendCommandArgv(ctx, 3, argv, NULL);
        if (w->ttl_ms == 0)
            return 1;
        const char *expire_argv[] = {"PEXPIRE", key, ttl};
        redisAppendCommandArgv(ctx, 3, expire_argv, NULL);
        return 2;
    }
    if (w->kind == STORE_WRITE_DELETE) {
        const char *argv[] = {"DEL", key};
        redisAppendCommandArgv(ctx, 2, argv, NULL);
        return 1;
    }
    char *value = xmalloc(w->len + 1);
    value[0] = 'v';
    if (w->len > 0)
        memcpy(value + 1, w->value, w->len);
    const char *argv[] = {"SET", key, value, "PX", ttl};
    size_t lens[] = {3, strlen(key), w->len + 1, 2, strlen(ttl)};
    redisAppendCommandArgv(ctx, w->ttl_ms > 0 ? 5 : 3, argv, lens);
    free(value);
    return 1;
}

/* MULTI, every write, EXEC: written in one go, then the replies read. A command the server
 * refuses while queueing (CROSSSLOT, an ACL, a dropped connection before EXEC) makes EXEC
 * fail and nothing is applied. */
static bool exec_on_conn(redisContext *ctx, void *arg, char *err, size_t err_size)
{
    struct exec_call *c = arg;
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    redisAppendCommandArgv(ctx, 1, multi, NULL);
    size_t commands = 0;
    for (size_t i = 0; i < c->count; i++) {
        char *key = generic_key(c->r, c->writes[i].key);
        commands += (size_t)append_write(ctx, key, &c->writes[i]);
        free(key);
    }
    redisAppendCommandArgv(ctx, 1, exec, NULL);
    bool ok = true;
    char queue_err[256] = "";
    for (size_t i = 0; i < commands + 1; i++) {          /* MULTI's +OK, then +QUEUED each */
        redisReply *reply = pipeline_reply(ctx, err, err_size);
        if (reply == NULL)
            return false;
        if (reply->type == REDIS_REPLY_ERROR && queue_err[0] == '\0')
            reply_error(reply, "MULTI", queue_err, sizeof queue_err);
        freeReplyObject(reply);
    }
    redisReply *reply = pipeline_reply(ctx, err, err_size);
    if (reply == NULL)
        return false;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (queue_err[0] != '\0')
            snprintf(err, err_size, "%s", queue_err);
        else
            reply_error(reply, "EXEC", err, err_size);
        ok = false;
    } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != commands) {
        snprintf(err, err_size, "unexpected reply to EXEC: not an array of %zu", commands);
        ok = false;
    } else {
        for (size_t i = 0; i < reply->elements && ok; i++) {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                /* applied but for this one: Redis does not roll back (store.h) */
                snprintf(err, err_size, "invalid: a write of the transaction failed: %s",
                    reply->element[i]->str);
                ok = false;
            }
        }
    }
    freeReplyObject(reply);
    return ok;
}

static bool redis_update_many(void *impl, const struct store_write *writes, size_t count,
    int64_t now_us, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    struct exec_call c = {.r = r, .writes = writes, .count = count};
    char *first = generic_key(r, writes[0].key);
    (void)now_us;
    bool ok = run_pipeline(r, first, exec_on_conn, &c, err, err_size);
    free(first);
    return ok;
}

/* PING on the first node (the master, or the first seed of a cluster), on a connection of the
 * pool, made when it has none. */
static bool redis_ping(void *impl, char *err, size_t err_size)
{
    struct redis_store *r = impl;
    struct node *n = r->nodes[0];
    struct conn *s = conn_take(n);
    unsigned generation = __atomic_load_n(&r->generation, __ATOMIC_RELAXED);
    if (s->ctx != NULL && s->generation != generation)
        close_connection(s);
    const char *argv[] = {"PING"};
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        if (s->ctx == NULL) {
            s->generation = generation;
            if (!connect_conn(r, n, true, s, err, err_size))
                break;
        }
        ok = simple_command(s->ctx, err, err_size, "PING", 1, argv);
        if (!ok)
            close_connection(s);      /* a stale connection: try once on a new one */
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

const struct store_backend_ops store_redis_ops = {
    .name = "redis",
    .gcra = redis_gcra,
    .greylist = redis_greylist,
    .counter_add = redis_counter_add,
    .counter_add_many = redis_counter_add_many,
    .counter_get_many = redis_counter_get_many,
    .update_many = redis_update_many,
    .value_set = redis_value_set,
    .get = redis_get,
    .remove = redis_remove,
    .scan = redis_scan,
    .free = redis_free,
    .ping = redis_ping,
};
