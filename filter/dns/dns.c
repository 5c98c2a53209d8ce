/* SPDX-License-Identifier: BSD-2-Clause */
/* dns.c - the resolver behind dns.h: one libunbound context per resolver, shared by every
 * thread, plus one thread of ours that collects unbound's answers (ub_process) and hands each
 * one to the caller waiting for it.
 *
 * Promises: a caller never waits past its deadline; an answer that arrives after its caller
 * gave up is freed without touching anything of the caller's; once dns_resolver_free has
 * returned no callback runs.
 *
 * How a query meets its answer: the caller puts a waiter (on its own stack) on the resolver's
 * list under r->lock, with a fresh id, and unbound carries that id - not a pointer - to the
 * callback. The callback looks the id up under the same lock. A caller that times out unlinks
 * its waiter before it returns, so a late answer finds no waiter and is only freed: no pointer
 * to a waiter can outlive it, whatever the order in which timeout, ub_cancel and the answer
 * happen (ub_cancel cannot promise that the callback is not already running). The list is
 * searched linearly: it holds only the queries in flight.
 *
 * A lookup whose answer is in our own cache (dns_cache.c: answers kept for their TTL) is
 * answered by dns_start itself, on the caller's thread: no query goes to unbound's thread. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "dns.h"
#include "dns_cache.h"
#include "dns_health.h"
#include "log.h"
#include "stats.h"
#include "util.h"

#define DNS_DEFAULT_TIMEOUT_MS 5000
#define DNS_LONGEST_TIMEOUT_MS (24ULL * 3600 * 1000)
#define DNS_NAME_MAX 253             /* characters, without the final dot */
#define DNS_LABEL_MAX 63
#define DNS_WIRE_NAME_MAX 255        /* octets of a name in wire format */
#define DNS_NAME_TEXT_SIZE 1024      /* a wire name in text, each octet at most "\DDD" */
#define DNS_CLASS_IN 1
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_NXDOMAIN 3

enum {
    TYPE_A = 1, TYPE_NS = 2, TYPE_CNAME = 5, TYPE_SOA = 6, TYPE_PTR = 12, TYPE_MX = 15,
    TYPE_TXT = 16, TYPE_AAAA = 28, TYPE_SRV = 33, TYPE_SPF = 99,
};

/* One caller waiting for one answer. Lives on the caller's stack; linked on r->waiters
 * from before the query is sent until the answer is delivered or the caller gives up. */
struct dns_waiter {
    uintptr_t id;
    pthread_cond_t cond;         /* signalled when done is set */
    bool done;
    int err;                     /* unbound's error code for the query, 0 = result is set */
    struct ub_result *result;
    uint64_t asked_ns;           /* when the question left (stats: answers within 1 ms) */
    struct dns_waiter *prev;
    struct dns_waiter *next;
};

struct dns_resolver {
    struct ub_ctx *ctx;
    uint64_t timeout_ms;
    pthread_mutex_t lock;        /* guards waiters and next_id */
    pthread_condattr_t cond_attr;
    struct dns_waiter *waiters;
    uintptr_t next_id;
    pthread_t thread;
    bool thread_started;
    bool has_trust_anchor;
    char *trust_anchor;        /* for the start error only */
    int wakeup[2];               /* a byte on wakeup[1] stops the thread */
    struct dns_cache *cache;     /* answers kept for their TTL (dns_cache.h) */
};

/* The resolver whose answers this thread is processing: set once by resolver_thread, the only
 * thread that calls ub_process, so the callback (which gets only the query id) can find it. */
static _Thread_local struct dns_resolver *answering;

static const struct {
    const char *name;
    int type;
} type_names[] = {
    { "A", TYPE_A }, { "NS", TYPE_NS }, { "CNAME", TYPE_CNAME }, { "SOA", TYPE_SOA },
    { "PTR", TYPE_PTR }, { "MX", TYPE_MX }, { "TXT", TYPE_TXT }, { "AAAA", TYPE_AAAA },
    { "SRV", TYPE_SRV },
};

/* --- waiters (all under r->lock) --------------------------------------------------------- */

static void waiter_link(struct dns_resolver *r, struct dns_waiter *w)
{
    w->prev = NULL;
    w->next = r->waiters;
    if (r->waiters != NULL)
        r->waiters->prev = w;
    r->waiters = w;
}

static void waiter_unlink(struct dns_resolver *r, struct dns_waiter *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        r->waiters = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->prev = NULL;
    w->next = NULL;
}

static struct dns_waiter *waiter_find(struct dns_resolver *r, uintptr_t id)
{
    struct dns_waiter *w;

    for (w = r->waiters; w != NULL; w = w->next) {
        if (w->id == id)
            return w;
    }
    return NULL;
}

/* Called by unbound inside ub_process, on resolver_thread only. */
static void query_done(void *arg, int err, struct ub_result *result)
{
    struct dns_resolver *r = answering;
    struct dns_waiter *w;

    if (r == NULL) {
        ub_resolve_free(result);
        return;
    }
    pthread_mutex_lock(&r->lock);
    w = waiter_find(r, (uintptr_t)arg);
    if (w == NULL) {
        /* its caller has given up (or it was the start-up query): nobody wants it */
        pthread_mutex_unlock(&r->lock);
        ub_resolve_free(result);
        return;
    }
    waiter_unlink(r, w);
    if (stats_now_ns() - w->asked_ns <= 1000000)
        stats_dns_fast_answer();
    w->done = true;
    w->err = err;
    w->result = result;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&r->lock);
}

/* --- the thread that runs ub_process ----------------------------------------------------- */

static void *resolver_thread(void *arg)
{
    struct dns_resolver *r = arg;
    struct pollfd fds[2];
    int answers_fd = ub_fd(r->ctx);
    int rc;

    answering = r;
    for (;;) {
        fds[0].fd = r->wakeup[0];
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = answers_fd;       /* -1 once it has failed: poll then ignores it */
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("dns: poll: %s; no more DNS answers", strerror(errno));
            break;
        }
        if (fds[0].revents != 0)
            break;
        if (fds[1].revents & POLLIN) {
            rc = ub_process(r->ctx);
            if (rc != 0) {
                log_err("dns: ub_process: %s; no more DNS answers", ub_strerror(rc));
                answers_fd = -1;
            }
        } else if (fds[1].revents != 0) {
            log_err("dns: unbound's answer pipe failed; no more DNS answers");
            answers_fd = -1;
        }
    }
    answering = NULL;
    return NULL;
}

/* --- configuration ----------------------------------------------------------------------- */

static bool set_option(struct ub_ctx *ctx, const char *option, const char *value, char *why,
    size_t why_size)
{
    int rc = ub_ctx_set_option(ctx, option, value);

    if (rc != 0) {
        snprintf(why, why_size, "dns: unbound option %s %s: %s", option, value,
            ub_strerror(rc));
        return false;
    }
    return true;
}

/* For tuning that older libunbound versions may not know: a refusal is only logged. */
static void tune_option(struct ub_ctx *ctx, const char *option, const char *value)
{
    int rc = ub_ctx_set_option(ctx, option, value);

    if (rc != 0)
        log_debug("dns: unbound option %s %s not taken: %s", option, value, ub_strerror(rc));
}

static bool set_forwarders(struct ub_ctx *ctx, const struct config *cfg, char *why,
    size_t why_size)
{
    size_t i;
    int rc;

    if (cfg->dns.nameserver_count == 0) {
        rc = ub_ctx_resolvconf(ctx, NULL);
        if (rc != 0) {
            snprintf(why, why_size, "dns: cannot use the nameservers of /etc/resolv.conf: %s",
                ub_strerror(rc));
            return false;
        }
        return true;
    }
    for (i = 0; i < cfg->dns.nameserver_count; i++) {
        rc = ub_ctx_set_fwd(ctx, cfg->dns.nameservers[i]);
        if (rc != 0) {
            snprintf(why, why_size, "dns: nameserver \"%s\": %s (expected ip or ip@port)",
                cfg->dns.nameservers[i], ub_strerror(rc));
            return false;
        }
    }
    return true;
}

static bool set_cache(struct ub_ctx *ctx, const struct config *cfg, char *why, size_t why_size)
{
    char value[32];
    uint64_t rrset_size;

    if (cfg->dns.cache_size > 0) {
        /* unbound's advice: the rrset cache twice the size of the message cache */
        rrset_size = cfg->dns.cache_size > UINT64_MAX / 2 ? UINT64_MAX : cfg->dns.cache_size * 2;
        snprintf(value, sizeof(value), "%" PRIu64, cfg->dns.cache_size);
        if (!set_option(ctx, "msg-cache-size:", value, why, why_size))
            return false;
        snprintf(value, sizeof(value), "%" PRIu64, rrset_size);
        if (!set_option(ctx, "rrset-cache-size:", value, why, why_size))
            return false;
    }
    if (cfg->dns.cache_max_ttl > 0) {
        snprintf(value, sizeof(value), "%d", cfg->dns.cache_max_ttl);
        if (!set_option(ctx, "cache-max-ttl:", value, why, why_size))
            return false;
    }
    return true;
}

static bool has_trust_anchor(const struct config *cfg)
{
    return cfg->dns.trust_anchor != NULL && cfg->dns.trust_anchor[0] != '\0';
}

static bool set_validation(struct ub_ctx *ctx, const struct config *cfg, char *why,
    size_t why_size)
{
    int rc;

    if (!has_trust_anchor(cfg)) {
        /* no anchor, no validation: skip the validator module altogether */
        return set_option(ctx, "module-config:", "iterator", why, why_size);
    }
    rc = ub_ctx_add_ta_file(ctx, cfg->dns.trust_anchor);
    if (rc != 0) {
        snprintf(why, why_size, "dns: trust anchor %s: %s", cfg->dns.trust_anchor,
            ub_strerror(rc));
        return false;
    }
    return true;
}

static bool configure(struct ub_ctx *ctx, const struct config *cfg, char *why, size_t why_size)
{
    int rc;

    rc = ub_ctx_async(ctx, 1);
    if (rc != 0) {
        snprintf(why, why_size, "dns: unbound cannot use threads: %s", ub_strerror(rc));
        return false;
    }
    if (!set_forwarders(ctx, cfg, why, why_size))
        return false;
    /* We only ever forward, and forwarders on loopback (a local cache, the test server) are
     * normal; unbound refuses 127.0.0.1 and ::1 unless told. */
    if (!set_option(ctx, "do-not-query-localhost:", "no", why, why_size))
        return false;
    /* Unbound answers reverse lookups of the private ranges (RFC 1918 and the like) itself,
     * with NXDOMAIN, unless told; the site's resolver knows its own networks better. */
    if (!set_option(ctx, "unblock-lan-zones:", "yes", why, why_size)
        || !set_option(ctx, "insecure-lan-zones:", "yes", why, why_size))
        return false;
    /* Likewise .test and the documentation networks' reverse zones (RFC 6761, RFC 5737,
     * RFC 3849): sites and test beds serve them; forward them too ("transparent": unbound
     * 1.17 still answers a built-in zone marked "nodefault" itself). localhost, .invalid and
     * .onion stay answered by unbound itself. */
    static const char *const forwarded_special_zones[] = {
        "test. transparent", "2.0.192.in-addr.arpa. transparent",
        "100.51.198.in-addr.arpa. transparent", "113.0.203.in-addr.arpa. transparent",
        "8.b.d.0.1.0.0.2.ip6.arpa. transparent",
    };
    for (size_t i = 0; i < sizeof forwarded_special_zones / sizeof forwarded_special_zones[0]; i++) {
        if (!set_option(ctx, "local-zone:", forwarded_special_zones[i], why, why_size))
            return false;
    }
    if (cfg->dns.use_hosts) {
        rc = ub_ctx_hosts(ctx, NULL);
        if (rc != 0) {
            snprintf(why, why_size, "dns: cannot read /etc/hosts: %s", ub_strerror(rc));
            return false;
        }
    }
    if (!set_cache(ctx, cfg, why, why_size))
        return false;
    if (!set_validation(ctx, cfg, why, why_size))
        return false;
    /* A forwarder that timed out often is "down" to unbound, which otherwise stops asking it
     * for up to infra-host-ttl (15 minutes); with one forwarder that is every query.
     * Left alone on purpose: outbound-msg-retry (5 resends per forwarder, with exponential
     * backoff from a retransmit timeout as low as 50 ms, is what lets a forwarder that is
     * slow to recurse answer at all; lowering it makes unbound give up after ~350 ms) and
     * infra-cache-min/max-rtt (process-wide globals in libunbound, so setting them while
     * another context runs, as on a reload, is a data race). Unbound's work on a query we
     * cancelled is bounded by those retries and max-sent-count anyway. */
    tune_option(ctx, "infra-keep-probing:", "yes");
    return true;
}

/* Starts unbound's own worker thread now, with every signal blocked (threads inherit the
 * mask), so that it never takes the daemon's signals, and so that a setup unbound rejects
 * (a bad trust anchor file, say) fails here rather than on every query. The query it sends
 * is answered by unbound's built-in localhost zone; nobody waits for it (id 0 is never a
 * waiter's). */
static bool start_unbound(struct dns_resolver *r, char *why, size_t why_size)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = ub_resolve_async(r->ctx, "localhost.", TYPE_A, DNS_CLASS_IN, (void *)(uintptr_t)0,
        query_done, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(why, why_size, "dns: cannot start the resolver: %s%s%s", ub_strerror(rc),
            r->has_trust_anchor ? "; check the trust anchor " : "",
            r->has_trust_anchor ? r->trust_anchor : "");
        return false;
    }
    return true;
}

static bool start_thread(struct dns_resolver *r, char *why, size_t why_size)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&r->thread, NULL, resolver_thread, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(why, why_size, "dns: cannot start the resolver thread: %s", strerror(rc));
        return false;
    }
    r->thread_started = true;
    return true;
}

static bool make_wakeup_pipe(struct dns_resolver *r, char *why, size_t why_size)
{
    if (pipe(r->wakeup) != 0) {
        snprintf(why, why_size, "dns: pipe: %s", strerror(errno));
        r->wakeup[0] = -1;
        r->wakeup[1] = -1;
        return false;
    }
    (void)fcntl(r->wakeup[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(r->wakeup[1], F_SETFD, FD_CLOEXEC);
    return true;
}

struct dns_resolver *dns_resolver_prepare(const struct config *cfg, char *why, size_t why_size)
{
    struct dns_resolver *r = xcalloc(1, sizeof(*r));

    r->wakeup[0] = -1;
    r->wakeup[1] = -1;
    r->next_id = 1;
    r->timeout_ms = cfg->dns.timeout_ms > 0 ? cfg->dns.timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&r->cond_attr);
    pthread_condattr_setclock(&r->cond_attr, CLOCK_MONOTONIC);

    r->ctx = ub_ctx_create();
    if (r->ctx == NULL) {
        snprintf(why, why_size, "dns: cannot create the unbound context");
        dns_resolver_free(r);
        return NULL;
    }
    if (!configure(r->ctx, cfg, why, why_size) || !make_wakeup_pipe(r, why, why_size)) {
        dns_resolver_free(r);
        return NULL;
    }
    /* one answer of ours for each KB of unbound's message cache: 4096 by default */
    r->cache = dns_cache_new((size_t)(cfg->dns.cache_size / 1024), cfg->dns.cache_max_ttl);
    r->has_trust_anchor = has_trust_anchor(cfg);
    if (r->has_trust_anchor)
        r->trust_anchor = xstrdup(cfg->dns.trust_anchor);
    return r;
}

bool dns_resolver_start(struct dns_resolver *r, char *why, size_t why_size)
{
    return start_thread(r, why, why_size) && start_unbound(r, why, why_size);
}

struct dns_resolver *dns_resolver_new(const struct config *cfg, char *why, size_t why_size)
{
    struct dns_resolver *r = dns_resolver_prepare(cfg, why, why_size);
    if (r != NULL && !dns_resolver_start(r, why, why_size)) {
        dns_resolver_free(r);
        return NULL;
    }
    return r;
}

/* Safe on a resolver that dns_resolver_new only half built. No dns_query may be running. */
void dns_resolver_free(struct dns_resolver *r)
{
    ssize_t n;

    if (r == NULL)
        return;
    if (r->thread_started) {
        do {
            n = write(r->wakeup[1], "x", 1);
        } while (n < 0 && errno == EINTR);
        pthread_join(r->thread, NULL);
    }
    /* our thread is gone, so no callback can run from here on */
    if (r->ctx != NULL)
        ub_ctx_delete(r->ctx);
    free(r->trust_anchor);
    dns_cache_free(r->cache);
    if (r->wakeup[0] >= 0)
        close(r->wakeup[0]);
    if (r->wakeup[1] >= 0)
        close(r->wakeup[1]);
    pthread_condattr_destroy(&r->cond_attr);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* --- turning answers into text ----------------------------------------------------------- */

/* Appends n bytes to out (size bytes, *used so far) and keeps it terminated; false if full. */
static bool text_put(char *out, size_t size, size_t *used, const char *s, size_t n)
{
    if (n >= size - *used)
        return false;
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = '\0';
    return true;
}

/* Decodes the uncompressed wire-format name at p[0..len) into dotted text without the final
 * dot ("." for the root). Octets that are not printable, and '.' or '\' inside a label, are
 * written as RFC 1035 escapes (\DDD, \., \\), so the text always means the same name.
 * *consumed gets the name's length in octets. False when the name is malformed. */
static bool decode_name(const unsigned char *p, size_t len, size_t *consumed, char *out,
    size_t out_size)
{
    size_t pos = 0, used = 0, wire = 0, i;
    unsigned label_len;
    char esc[8];
    unsigned char c;

    out[0] = '\0';
    for (;;) {
        if (pos >= len)
            return false;
        label_len = p[pos++];
        if (label_len == 0)
            break;
        if (label_len > DNS_LABEL_MAX)     /* compression pointers and unknown label types */
            return false;
        if (label_len > len - pos)
            return false;
        wire += label_len + 1;
        if (wire + 1 > DNS_WIRE_NAME_MAX)
            return false;
        if (used > 0 && !text_put(out, out_size, &used, ".", 1))
            return false;
        for (i = 0; i < label_len; i++) {
            c = p[pos + i];
            if (c == '.' || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)c;
                if (!text_put(out, out_size, &used, esc, 2))
                    return false;
            } else if (c < 0x21 || c > 0x7e) {
                snprintf(esc, sizeof(esc), "\\%03u", (unsigned)c);
                if (!text_put(out, out_size, &used, esc, 4))
                    return false;
            } else if (!text_put(out, out_size, &used, (const char *)&c, 1)) {
                return false;
            }
        }
        pos += label_len;
    }
    if (used == 0 && !text_put(out, out_size, &used, ".", 1))
        return false;
    *consumed = pos;
    return true;
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A name that must fill the rdata exactly (PTR, CNAME, NS). */
static char *text_name(const unsigned char *p, size_t len)
{
    char name[DNS_NAME_TEXT_SIZE];
    size_t used;

    if (!decode_name(p, len, &used, name, sizeof(name)) || used != len)
        return NULL;
    return xstrdup(name);
}

static char *text_address(int family, const unsigned char *p, size_t len)
{
    char text[INET6_ADDRSTRLEN];

    if (len != (family == AF_INET ? 4u : 16u))
        return NULL;
    if (inet_ntop(family, p, text, sizeof(text)) == NULL)
        return NULL;
    return xstrdup(text);
}

static char *text_mx(const unsigned char *p, size_t len)
{
    char name[DNS_NAME_TEXT_SIZE];
    size_t used;

    if (len < 3 || !decode_name(p + 2, len - 2, &used, name, sizeof(name)) || used != len - 2)
        return NULL;
    return xasprintf("%u %s", (unsigned)get16(p), name);
}

static char *text_srv(const unsigned char *p, size_t len)
{
    char name[DNS_NAME_TEXT_SIZE];
    size_t used;

    if (len < 7 || !decode_name(p + 6, len - 6, &used, name, sizeof(name)) || used != len - 6)
        return NULL;
    return xasprintf("%u %u %u %s", (unsigned)get16(p), (unsigned)get16(p + 2),
        (unsigned)get16(p + 4), name);
}

static char *text_soa(const unsigned char *p, size_t len)
{
    char mname[DNS_NAME_TEXT_SIZE], rname[DNS_NAME_TEXT_SIZE];
    size_t used1, used2;

    if (!decode_name(p, len, &used1, mname, sizeof(mname)))
        return NULL;
    if (!decode_name(p + used1, len - used1, &used2, rname, sizeof(rname)))
        return NULL;
    if (len - used1 - used2 != 20)
        return NULL;
    p += used1 + used2;
    return xasprintf("%s %s %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32,
        mname, rname, get32(p), get32(p + 4), get32(p + 8), get32(p + 12), get32(p + 16));
}

/* The character-strings of one TXT record joined (RFC 7208 section 3.3). A NUL octet, which a
 * C string cannot hold, becomes DEL (0x7f): no SPF or DKIM syntax accepts either, so the
 * record stays present but unusable rather than silently cut short. */
static char *text_txt(const unsigned char *p, size_t len)
{
    char *text;
    size_t pos = 0, used = 0, n, i;

    if (len == 0)
        return NULL;
    text = xmalloc(len + 1);
    while (pos < len) {
        n = p[pos++];
        if (n > len - pos) {
            free(text);
            return NULL;
        }
        for (i = 0; i < n; i++)
            text[used++] = p[pos + i] == '\0' ? 0x7f : (char)p[pos + i];
        pos += n;
    }
    text[used] = '\0';
    return text;
}

/* Types we do not decode: RFC 3597's generic form, "\# length hex". */
static char *text_generic(const unsigned char *p, size_t len)
{
    struct textbuf sb;
    size_t i;

    textbuf_init(&sb);
    textbuf_printf(&sb, "\\# %zu", len);
    if (len > 0)
        textbuf_puts(&sb, " ");
    for (i = 0; i < len; i++)
        textbuf_printf(&sb, "%02x", (unsigned)p[i]);
    return sb.data;
}

/* One record's rdata as text, or NULL when it is malformed. */
static char *rdata_text(int type, const unsigned char *p, size_t len)
{
    switch (type) {
    case TYPE_A:
        return text_address(AF_INET, p, len);
    case TYPE_AAAA:
        return text_address(AF_INET6, p, len);
    case TYPE_MX:
        return text_mx(p, len);
    case TYPE_TXT:
    case TYPE_SPF:
        return text_txt(p, len);
    case TYPE_PTR:
    case TYPE_CNAME:
    case TYPE_NS:
        return text_name(p, len);
    case TYPE_SRV:
        return text_srv(p, len);
    case TYPE_SOA:
        return text_soa(p, len);
    default:
        return text_generic(p, len);
    }
}

static void fill_answer(const char *name, int type, const struct ub_result *res,
    struct dns_answer *out)
{
    size_t count = 0, i;
    char *text;

    out->rcode = res->rcode;
    out->ttl = res->ttl;
    out->secure = res->secure != 0;
    if (res->bogus) {
        out->status = DNS_SERVFAIL;
        out->secure = false;
        log_info("dns: %s type %d failed DNSSEC validation: %s", name, type,
            res->why_bogus != NULL ? res->why_bogus : "bogus");
        return;
    }
    if (res->rcode == DNS_RCODE_NXDOMAIN) {
        out->status = DNS_NXDOMAIN;
        return;
    }
    if (res->rcode != DNS_RCODE_NOERROR) {
        out->status = DNS_SERVFAIL;
        return;
    }
    out->status = DNS_OK;
    while (res->data != NULL && res->len != NULL && res->data[count] != NULL)
        count++;
    out->data = xcalloc(count + 1, sizeof(char *));
    for (i = 0; i < count; i++) {
        text = NULL;
        if (res->len[i] >= 0)
            text = rdata_text(type, (const unsigned char *)res->data[i], (size_t)res->len[i]);
        if (text == NULL) {
            log_debug("dns: %s type %d: malformed record skipped", name, type);
            continue;
        }
        out->data[out->count++] = text;
    }
}

/* --- queries ----------------------------------------------------------------------------- */

/* Checks the name (RFC 1035 lengths, no empty label) and writes it as unbound's text form
 * into buf: only '\' needs escaping there, every other octet is taken literally. */
static bool query_name(const char *name, char *buf, size_t buf_size)
{
    size_t len = strlen(name), label = 0, used = 0, i;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_MAX)
        return false;
    for (i = 0; i < len; i++) {
        if (name[i] == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > DNS_LABEL_MAX) {
            return false;
        }
        if (name[i] == '\\' && !text_put(buf, buf_size, &used, "\\", 1))
            return false;
        if (!text_put(buf, buf_size, &used, name + i, 1))
            return false;
    }
    return label > 0 && text_put(buf, buf_size, &used, ".", 1);
}

uint64_t dns_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static struct timespec timespec_of_ms(uint64_t ms)
{
    struct timespec t;

    t.tv_sec = (time_t)(ms / 1000);
    t.tv_nsec = (long)(ms % 1000) * 1000000L;
    return t;
}

/* A query started by dns_start: the waiter unbound's callback finds by id, and what
 * dns_finish needs to turn the answer into text. Owned by the caller until dns_finish or
 * dns_cancel; linked on r->waiters while it is in flight. */
struct dns_pending {
    struct dns_resolver *r;
    struct dns_waiter w;
    int async_id;
    int type;
    bool started;              /* false: it never left (bad name, unbound refused it, or
                                  the answer was in the cache) */
    bool cached;               /* answered from r->cache: in answer */
    struct dns_answer answer;
    char name[DNS_NAME_MAX + 2];
};

struct dns_pending *dns_start(struct dns_resolver *r, const char *name, int type)
{
    char qname[2 * DNS_NAME_MAX + 4];
    struct dns_pending *p = xcalloc(1, sizeof(*p));
    int rc;

    p->r = r;
    p->type = type;
    if (name != NULL)
        snprintf(p->name, sizeof(p->name), "%s", name);
    if (r == NULL || name == NULL || type < 1 || type > 65535)
        return p;
    if (!query_name(name, qname, sizeof(qname))) {
        log_debug("dns: not a valid name to look up: \"%.300s\"", name);
        return p;
    }
    if (dns_cache_get(r->cache, name, type, dns_now_ms(), &p->answer)) {
        p->cached = true;
        stats_dns_cache_hit();
        return p;
    }
    pthread_cond_init(&p->w.cond, &r->cond_attr);
    pthread_mutex_lock(&r->lock);
    p->w.id = r->next_id++;
    p->w.asked_ns = stats_now_ns();
    if (r->next_id == 0)
        r->next_id = 1;
    waiter_link(r, &p->w);
    pthread_mutex_unlock(&r->lock);

    rc = ub_resolve_async(r->ctx, qname, type, DNS_CLASS_IN, (void *)p->w.id, query_done,
        &p->async_id);
    if (rc != 0) {
        pthread_mutex_lock(&r->lock);
        waiter_unlink(r, &p->w);
        pthread_mutex_unlock(&r->lock);
        pthread_cond_destroy(&p->w.cond);
        log_warn("dns: cannot look up %s type %d: %s", name, type, ub_strerror(rc));
        return p;
    }
    p->started = true;
    stats_dns_query();
    return p;
}

bool dns_pending_done(struct dns_pending *p)
{
    bool done;

    if (p == NULL || !p->started)
        return true;
    pthread_mutex_lock(&p->r->lock);
    done = p->w.done;
    pthread_mutex_unlock(&p->r->lock);
    return done;
}

/* Waits until the answer is in or deadline_ms has come; afterwards no callback can reach p
 * (a late answer finds no waiter and is only freed). True when the answer came. */
static bool pending_wait(struct dns_pending *p, uint64_t deadline_ms)
{
    struct dns_resolver *r = p->r;
    struct timespec deadline = timespec_of_ms(deadline_ms);
    bool done;

    pthread_mutex_lock(&r->lock);
    while (!p->w.done) {
        if (pthread_cond_timedwait(&p->w.cond, &r->lock, &deadline) != 0)
            break;
    }
    done = p->w.done;
    if (!done)
        waiter_unlink(r, &p->w);      /* from now on a late answer finds nobody */
    pthread_mutex_unlock(&r->lock);
    pthread_cond_destroy(&p->w.cond);
    if (!done)
        (void)ub_cancel(r->ctx, p->async_id);
    return done;
}

void dns_finish(struct dns_pending *p, uint64_t deadline_ms, struct dns_answer *out)
{
    memset(out, 0, sizeof(*out));
    out->status = DNS_ERROR;
    out->rcode = -1;
    if (p == NULL)
        return;
    if (p->cached) {
        *out = p->answer;
        log_debug("dns: %s type %d: %s, %zu record(s), ttl %d%s (cached)", p->name, p->type,
            dns_status_name(out->status), out->count, out->ttl, out->secure ? ", secure" : "");
        free(p);
        return;
    }
    if (!p->started) {
        free(p);
        return;
    }
    if (!pending_wait(p, deadline_ms)) {
        out->status = DNS_TIMEOUT;
        stats_dns_timeout();
        log_debug("dns: %s type %d: no answer in time", p->name, p->type);
        dns_health_note(out->status, p->name, p->type);
        free(p);
        return;
    }
    if (p->w.err != 0 || p->w.result == NULL) {
        out->status = p->w.err == UB_SERVFAIL ? DNS_SERVFAIL : DNS_ERROR;
        stats_dns_servfail();
        log_warn("dns: %s type %d: %s", p->name, p->type, ub_strerror(p->w.err));
        dns_health_note(out->status, p->name, p->type);
        ub_resolve_free(p->w.result);
        free(p);
        return;
    }
    fill_answer(p->name, p->type, p->w.result, out);
    if (out->status == DNS_SERVFAIL)
        stats_dns_servfail();
    dns_cache_put(p->r->cache, p->name, p->type, dns_now_ms(), out);
    ub_resolve_free(p->w.result);
    dns_health_note(out->status, p->name, p->type);
    log_debug("dns: %s type %d: %s, %zu record(s), ttl %d%s", p->name, p->type,
        dns_status_name(out->status), out->count, out->ttl, out->secure ? ", secure" : "");
    free(p);
}

void dns_cancel(struct dns_pending *p)
{
    if (p == NULL)
        return;
    if (p->started) {
        (void)pending_wait(p, 0);
        ub_resolve_free(p->w.result);    /* NULL unless the answer had come */
    }
    if (p->cached)
        dns_answer_free(&p->answer);
    free(p);
}

uint64_t dns_deadline_after(struct dns_resolver *r, uint64_t timeout_ms)
{
    if (timeout_ms == 0)
        timeout_ms = r != NULL ? r->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
    if (timeout_ms > DNS_LONGEST_TIMEOUT_MS)
        timeout_ms = DNS_LONGEST_TIMEOUT_MS;
    return dns_now_ms() + timeout_ms;
}

void dns_query(struct dns_resolver *r, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    uint64_t deadline = dns_deadline_after(r, timeout_ms);

    dns_finish(dns_start(r, name, type), deadline, out);
}

void dns_answer_free(struct dns_answer *a)
{
    size_t i;

    if (a == NULL)
        return;
    for (i = 0; i < a->count; i++)
        free(a->data[i]);
    free(a->data);
    a->data = NULL;
    a->count = 0;
}

const char *dns_status_name(enum dns_status status)
{
    switch (status) {
    case DNS_OK:
        return "ok";
    case DNS_NXDOMAIN:
        return "nxdomain";
    case DNS_SERVFAIL:
        return "servfail";
    case DNS_TIMEOUT:
        return "timeout";
    case DNS_ERROR:
        return "error";
    }
    return "error";
}

int dns_type_from_name(const char *name)
{
    size_t i;

    if (name == NULL)
        return -1;
    for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (str_ieq(name, type_names[i].name))
            return type_names[i].type;
    }
    return -1;
}
