/* stats.c - lock-free counters, gauges and fixed-bucket histograms for the daemon, and their
 * Prometheus text (exposition format 0.0.4). Updates are relaxed C11 atomics: a scrape may see
 * one counter a step ahead of another, never a torn or lost update. Symbol names are claimed
 * in a fixed open-addressing table with compare-and-swap; a name, once in, stays for the life
 * of the process (Prometheus counters never go away), so the table's size bounds the label
 * set. See stats.h for what each function counts. */
#include "stats.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mw_build.h"

typedef atomic_uint_fast64_t counter;

static const char *const action_labels[] = {
    [ACTION_NONE] = "none", [ACTION_ACCEPT] = "accept", [ACTION_QUARANTINE] = "quarantine",
    [ACTION_DISCARD] = "discard", [ACTION_TEMPFAIL] = "tempfail", [ACTION_REJECT] = "reject",
};
#define ACTION_LABELS (sizeof action_labels / sizeof action_labels[0])
static counter messages[ACTION_LABELS][2];       /* [action][outbound] */

struct symbol_slot {
    _Atomic(char *) name;
    counter hits;
    counter shadow_hits;
};
static struct symbol_slot symbols[STATS_MAX_SYMBOLS];
static counter symbol_hits_dropped;

/* Upper bounds in nanoseconds, and the same as Prometheus prints them (le="..."). */
static const uint64_t bucket_ns[STATS_HISTOGRAM_BUCKETS] = {
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
    100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};
static const char *const bucket_le[STATS_HISTOGRAM_BUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

struct histogram {
    _Atomic(const char *) name;
    counter buckets[STATS_HISTOGRAM_BUCKETS + 1];   /* not cumulative; the last is +Inf */
    counter sum_ns;
};
static struct histogram checks[STATS_MAX_CHECKS];

static counter dns_queries, dns_timeouts, dns_servfails, dns_fast_answers, dns_cache_hits;

static const char *const store_op_labels[] = {
    [STATS_STORE_GCRA] = "gcra", [STATS_STORE_GREYLIST] = "greylist",
};
struct backend_slot {
    _Atomic(const char *) name;
    counter ops[2];
    counter errors;
};
/* the two backends store.h knows are there from the start, so their series exist at zero */
static struct backend_slot backends[STATS_MAX_BACKENDS] = { { .name = "memory" }, { .name = "redis" } };

static const char *const ratelimit_labels[] = {
    [STATS_RATELIMIT_ALLOWED] = "allowed", [STATS_RATELIMIT_LIMITED] = "limited",
    [STATS_RATELIMIT_WOULD_LIMIT] = "would_limit", [STATS_RATELIMIT_STORE_DOWN] = "store_down",
};
static counter ratelimit[4];
static const char *const greylist_labels[] = {
    [STATS_GREYLIST_NEW] = "new", [STATS_GREYLIST_EARLY] = "early",
    [STATS_GREYLIST_PASSED] = "passed", [STATS_GREYLIST_STORE_DOWN] = "store_down",
};
static counter greylist[4];

static counter reloads_ok, reloads_failed;
static counter connections_total, protocol_errors;
static atomic_int_fast64_t connections_open, transactions_in_flight;
static atomic_int_fast64_t start_time_s;

static void bump(counter *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t read_counter(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

uint64_t stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void stats_message(enum action action, bool outbound)
{
    if ((size_t)action < ACTION_LABELS)
        bump(&messages[action][outbound ? 1 : 0]);
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603u;          /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot of a symbol, claimed on first sight; NULL when the table is full. */
static struct symbol_slot *symbol_slot(const char *name)
{
    size_t start = hash_name(name) % STATS_MAX_SYMBOLS;
    char *mine = NULL;
    for (size_t i = 0; i < STATS_MAX_SYMBOLS; i++) {
        struct symbol_slot *s = &symbols[(start + i) % STATS_MAX_SYMBOLS];
        char *there = atomic_load_explicit(&s->name, memory_order_acquire);
        if (there == NULL) {
            if (mine == NULL)
                mine = xstrdup(name);
            char *expected = NULL;
            if (atomic_compare_exchange_strong_explicit(&s->name, &expected, mine,
                    memory_order_acq_rel, memory_order_acquire))
                return s;
            there = expected;                    /* another thread took it first */
        }
        if (strcmp(there, name) == 0) {
            free(mine);
            return s;
        }
    }
    free(mine);
    return NULL;
}

void stats_symbol_hit(const char *symbol, bool shadow)
{
    if (symbol == NULL || symbol[0] == '\0')
        return;
    struct symbol_slot *s = symbol_slot(symbol);
    if (s == NULL)
        bump(&symbol_hits_dropped);
    else
        bump(shadow ? &s->shadow_hits : &s->hits);
}

void stats_check_time(size_t index, const char *name, uint64_t ns)
{
    if (index >= STATS_MAX_CHECKS || name == NULL)
        return;
    struct histogram *h = &checks[index];
    if (atomic_load_explicit(&h->name, memory_order_acquire) == NULL) {
        const char *expected = NULL;
        atomic_compare_exchange_strong_explicit(&h->name, &expected, name,
            memory_order_acq_rel, memory_order_acquire);
    }
    size_t b = 0;
    while (b < STATS_HISTOGRAM_BUCKETS && ns > bucket_ns[b])
        b++;
    bump(&h->buckets[b]);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void stats_dns_query(void) { bump(&dns_queries); }
void stats_dns_timeout(void) { bump(&dns_timeouts); }
void stats_dns_servfail(void) { bump(&dns_servfails); }
void stats_dns_fast_answer(void) { bump(&dns_fast_answers); }
void stats_dns_cache_hit(void) { bump(&dns_cache_hits); }

static struct backend_slot *backend_slot(const char *name)
{
    for (size_t i = 0; i < STATS_MAX_BACKENDS; i++) {
        struct backend_slot *s = &backends[i];
        const char *there = atomic_load_explicit(&s->name, memory_order_acquire);
        if (there == NULL) {
            const char *expected = NULL;
            if (atomic_compare_exchange_strong_explicit(&s->name, &expected, name,
                    memory_order_acq_rel, memory_order_acquire))
                return s;
            there = expected;
        }
        if (strcmp(there, name) == 0)
            return s;
    }
    return NULL;
}

void stats_store_op(const char *backend, enum stats_store_op op, bool ok)
{
    struct backend_slot *s = backend != NULL ? backend_slot(backend) : NULL;
    if (s == NULL || (size_t)op >= 2)
        return;
    bump(&s->ops[op]);
    if (!ok)
        bump(&s->errors);
}

void stats_ratelimit(enum stats_ratelimit decision)
{
    if ((size_t)decision < 4)
        bump(&ratelimit[decision]);
}

void stats_greylist(enum stats_greylist decision)
{
    if ((size_t)decision < 4)
        bump(&greylist[decision]);
}

void stats_reload(bool ok) { bump(ok ? &reloads_ok : &reloads_failed); }
void stats_open_counts(unsigned *connections, unsigned *transactions)
{
    long long c = (long long)atomic_load(&connections_open);
    long long t = (long long)atomic_load(&transactions_in_flight);
    *connections = c > 0 ? (unsigned)c : 0;
    *transactions = t > 0 ? (unsigned)t : 0;
}

void stats_protocol_error(void) { bump(&protocol_errors); }

void stats_connection_open(void)
{
    bump(&connections_total);
    atomic_fetch_add_explicit(&connections_open, 1, memory_order_relaxed);
}

void stats_connection_close(void)
{
    atomic_fetch_sub_explicit(&connections_open, 1, memory_order_relaxed);
}

void stats_transactions_add(int delta)
{
    atomic_fetch_add_explicit(&transactions_in_flight, delta, memory_order_relaxed);
}

void stats_mark_start(void)
{
    int_fast64_t expected = 0;
    atomic_compare_exchange_strong(&start_time_s, &expected, (int_fast64_t)time(NULL));
}

/* --- the text ---------------------------------------------------------------------------- */

void stats_escape_label(struct textbuf *out, const char *value)
{
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\')
            textbuf_puts(out, "\\\\");
        else if (*p == '"')
            textbuf_puts(out, "\\\"");
        else if (*p == '\n')
            textbuf_puts(out, "\\n");
        else
            textbuf_append(out, p, 1);
    }
}

static void header(struct textbuf *out, const char *name, const char *type, const char *help)
{
    textbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct textbuf *out, const char *name, uint64_t value)
{
    textbuf_printf(out, "%s %llu\n", name, (unsigned long long)value);
}

/* name{label="value"} n */
static void labelled(struct textbuf *out, const char *name, const char *label, const char *value,
    uint64_t n)
{
    textbuf_printf(out, "%s{%s=\"", name, label);
    stats_escape_label(out, value);
    textbuf_printf(out, "\"} %llu\n", (unsigned long long)n);
}

static void format_messages(struct textbuf *out)
{
    header(out, "mailwarden_messages_total", "counter",
        "Messages (transactions) by the action decided and their direction.");
    for (size_t a = 1; a < ACTION_LABELS; a++) {
        for (int o = 0; o < 2; o++)
            textbuf_printf(out, "mailwarden_messages_total{action=\"%s\",direction=\"%s\"} %llu\n",
                action_labels[a], o ? "outbound" : "inbound",
                (unsigned long long)read_counter(&messages[a][o]));
    }
}

static int by_symbol_name(const void *a, const void *b)
{
    const struct symbol_slot *x = *(const struct symbol_slot *const *)a;
    const struct symbol_slot *y = *(const struct symbol_slot *const *)b;
    return strcmp(atomic_load(&x->name), atomic_load(&y->name));
}

static void format_symbols(struct textbuf *out)
{
    struct symbol_slot **seen = xcalloc(STATS_MAX_SYMBOLS, sizeof *seen);
    size_t n = 0;
    for (size_t i = 0; i < STATS_MAX_SYMBOLS; i++) {
        if (atomic_load_explicit(&symbols[i].name, memory_order_acquire) != NULL)
            seen[n++] = &symbols[i];
    }
    qsort(seen, n, sizeof *seen, by_symbol_name);
    header(out, "mailwarden_symbol_hits_total", "counter", "Messages that got each symbol.");
    for (size_t i = 0; i < n; i++)
        labelled(out, "mailwarden_symbol_hits_total", "symbol", atomic_load(&seen[i]->name),
            read_counter(&seen[i]->hits));
    header(out, "mailwarden_shadow_symbol_hits_total", "counter",
        "Messages that would have got each symbol from a check in shadow mode.");
    for (size_t i = 0; i < n; i++)
        labelled(out, "mailwarden_shadow_symbol_hits_total", "symbol",
            atomic_load(&seen[i]->name), read_counter(&seen[i]->shadow_hits));
    header(out, "mailwarden_symbol_hits_dropped_total", "counter",
        "Symbol hits not counted by name: more than 2048 distinct symbol names seen.");
    sample(out, "mailwarden_symbol_hits_dropped_total", read_counter(&symbol_hits_dropped));
    free(seen);
}

static void format_histogram(struct textbuf *out, const char *name, struct histogram *h)
{
    const char *label = atomic_load(&h->name);
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= STATS_HISTOGRAM_BUCKETS; b++) {
        cumulative += read_counter(&h->buckets[b]);
        textbuf_printf(out, "%s_bucket{check=\"", name);
        stats_escape_label(out, label);
        textbuf_printf(out, "\",le=\"%s\"} %llu\n",
            b < STATS_HISTOGRAM_BUCKETS ? bucket_le[b] : "+Inf", (unsigned long long)cumulative);
    }
    uint64_t sum = read_counter(&h->sum_ns);
    textbuf_printf(out, "%s_sum{check=\"", name);
    stats_escape_label(out, label);
    textbuf_printf(out, "\"} %llu.%09llu\n", (unsigned long long)(sum / 1000000000u),
        (unsigned long long)(sum % 1000000000u));
    textbuf_printf(out, "%s_count{check=\"", name);
    stats_escape_label(out, label);
    textbuf_printf(out, "\"} %llu\n", (unsigned long long)cumulative);
}

static void format_checks(struct textbuf *out)
{
    header(out, "mailwarden_check_duration_seconds", "histogram",
        "Time of each check's call at a stage.");
    for (size_t i = 0; i < STATS_MAX_CHECKS; i++) {
        if (atomic_load(&checks[i].name) != NULL)
            format_histogram(out, "mailwarden_check_duration_seconds", &checks[i]);
    }
}

static void format_dns(struct textbuf *out)
{
    header(out, "mailwarden_dns_queries_total", "counter", "DNS queries started.");
    sample(out, "mailwarden_dns_queries_total", read_counter(&dns_queries));
    header(out, "mailwarden_dns_timeouts_total", "counter",
        "DNS queries without an answer by their deadline.");
    sample(out, "mailwarden_dns_timeouts_total", read_counter(&dns_timeouts));
    header(out, "mailwarden_dns_servfail_total", "counter",
        "DNS queries answered SERVFAIL (or failed in the resolver).");
    sample(out, "mailwarden_dns_servfail_total", read_counter(&dns_servfails));
    header(out, "mailwarden_dns_answers_within_1ms_total", "counter",
        "DNS answers within 1 ms of the question (libunbound does not report cache hits; "
        "these are mostly its cache).");
    sample(out, "mailwarden_dns_answers_within_1ms_total", read_counter(&dns_fast_answers));
    header(out, "mailwarden_dns_cache_hits_total", "counter",
        "Lookups answered from mailwarden's own answer cache, without a query to libunbound "
        "(not in mailwarden_dns_queries_total).");
    sample(out, "mailwarden_dns_cache_hits_total", read_counter(&dns_cache_hits));
}

static void format_stores(struct textbuf *out)
{
    header(out, "mailwarden_store_operations_total", "counter",
        "Rate-limit and greylisting store operations by backend.");
    for (size_t i = 0; i < STATS_MAX_BACKENDS; i++) {
        const char *name = atomic_load(&backends[i].name);
        for (size_t op = 0; name != NULL && op < 2; op++)
            textbuf_printf(out, "mailwarden_store_operations_total{backend=\"%s\",op=\"%s\"} %llu\n",
                name, store_op_labels[op], (unsigned long long)read_counter(&backends[i].ops[op]));
    }
    header(out, "mailwarden_store_errors_total", "counter", "Store operations that failed.");
    for (size_t i = 0; i < STATS_MAX_BACKENDS; i++) {
        const char *name = atomic_load(&backends[i].name);
        if (name != NULL)
            labelled(out, "mailwarden_store_errors_total", "backend", name,
                read_counter(&backends[i].errors));
    }
}

static void format_decisions(struct textbuf *out)
{
    header(out, "mailwarden_ratelimit_decisions_total", "counter",
        "Rate-limit decisions, one per limit evaluated.");
    for (size_t i = 0; i < 4; i++)
        labelled(out, "mailwarden_ratelimit_decisions_total", "decision", ratelimit_labels[i],
            read_counter(&ratelimit[i]));
    header(out, "mailwarden_greylist_decisions_total", "counter",
        "Greylisting decisions, one per triplet.");
    for (size_t i = 0; i < 4; i++)
        labelled(out, "mailwarden_greylist_decisions_total", "decision", greylist_labels[i],
            read_counter(&greylist[i]));
}

static void format_process(struct textbuf *out)
{
    header(out, "mailwarden_reloads_total", "counter", "Policy reloads by outcome.");
    labelled(out, "mailwarden_reloads_total", "outcome", "success", read_counter(&reloads_ok));
    labelled(out, "mailwarden_reloads_total", "outcome", "failure", read_counter(&reloads_failed));
    header(out, "mailwarden_connections_total", "counter", "MTA connections served.");
    sample(out, "mailwarden_connections_total", read_counter(&connections_total));
    header(out, "mailwarden_connections_open", "gauge", "MTA connections open now.");
    textbuf_printf(out, "mailwarden_connections_open %lld\n",
        (long long)atomic_load(&connections_open));
    header(out, "mailwarden_transactions_in_flight", "gauge", "Transactions in flight now.");
    textbuf_printf(out, "mailwarden_transactions_in_flight %lld\n",
        (long long)atomic_load(&transactions_in_flight));
    header(out, "mailwarden_protocol_errors_total", "counter",
        "Milter sessions that failed on the protocol (those the milter glue sees).");
    sample(out, "mailwarden_protocol_errors_total", read_counter(&protocol_errors));
    header(out, "mailwarden_build_info", "gauge", "The version running; always 1.");
    textbuf_puts(out, "mailwarden_build_info{version=\"");
    stats_escape_label(out, PACKAGE_VERSION);
    textbuf_puts(out, "\"} 1\n");
    stats_mark_start();
    header(out, "process_start_time_seconds", "gauge",
        "Start time of the process since the Unix epoch, in seconds.");
    textbuf_printf(out, "process_start_time_seconds %lld\n", (long long)atomic_load(&start_time_s));
}

void stats_format(struct textbuf *out)
{
    format_messages(out);
    format_symbols(out);
    format_checks(out);
    format_dns(out);
    format_stores(out);
    format_decisions(out);
    format_process(out);
}

void stats_reset_for_tests(void)
{
    for (size_t i = 0; i < STATS_MAX_SYMBOLS; i++)
        free(atomic_exchange(&symbols[i].name, NULL));
    memset(messages, 0, sizeof messages);
    memset(symbols, 0, sizeof symbols);
    memset(checks, 0, sizeof checks);
    memset(backends, 0, sizeof backends);
    atomic_store(&backends[0].name, "memory");
    atomic_store(&backends[1].name, "redis");
    memset(ratelimit, 0, sizeof ratelimit);
    memset(greylist, 0, sizeof greylist);
    atomic_store(&symbol_hits_dropped, 0);
    atomic_store(&dns_queries, 0);
    atomic_store(&dns_timeouts, 0);
    atomic_store(&dns_servfails, 0);
    atomic_store(&dns_fast_answers, 0);
    atomic_store(&dns_cache_hits, 0);
    atomic_store(&reloads_ok, 0);
    atomic_store(&reloads_failed, 0);
    atomic_store(&connections_total, 0);
    atomic_store(&protocol_errors, 0);
    atomic_store(&connections_open, 0);
    atomic_store(&transactions_in_flight, 0);
}
