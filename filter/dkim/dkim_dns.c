/* dkim_dns.c - libopendkim's DNS service hooks over dns_query. libopendkim asks for a key
 * record with query_start and collects it with query_waitreply; here the query runs at once
 * on the daemon's resolver (it has its own deadline), and the answer is written back as a DNS
 * reply message: NXDOMAIN and NODATA as such, a server failure as a DNS error and a timeout
 * as an expired query, so libopendkim reports them as a missing key (permerror) or a key
 * retrieval failure (temperror). Positive answers are kept, as the finished reply, in the
 * policy's key record cache (dkim_keyrecord_cache.h) for their TTL: a repeated lookup of the
 * same key is answered from it without the resolver's thread hop. Errors, NXDOMAIN and
 * NODATA are not cached here (libunbound's own cache still holds them for their TTL). While
 * a message's keys were prefetched (dkim_dns_use_prefetch), its lookups are answered from
 * those answers, and any other lookup gets only what is left of the message's budget. */
#include "dkim_dns.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dkim_keyrecord_cache.h"
#include "dkim_policy.h"
#include "dkim_prefetch.h"
#include "util.h"

#define DNS_HEADER_LEN 12
#define TYPE_CLASS_LEN 4
#define RR_FIXED_LEN 12          /* name pointer, type, class, ttl, rdlength */

struct dkim_dns_query {
    size_t reply_len;
    int status;                  /* DKIM_DNS_* */
};

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, unsigned long v)
{
    put16(p, (unsigned)(v >> 16));
    put16(p + 2, (unsigned)(v & 0xffff));
}

/* The question name in wire form; returns its length or 0 when it does not fit or is bad. */
static size_t put_name(const char *name, unsigned char *out, size_t size)
{
    size_t n = 0;
    const char *p = name;
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t label = dot ? (size_t)(dot - p) : strlen(p);
        if (label == 0 || label > 63 || n + label + 2 > size)
            return 0;
        out[n++] = (unsigned char)label;
        memcpy(out + n, p, label);
        n += label;
        p += label;
        if (*p == '.')
            p++;
    }
    if (n + 1 > size)
        return 0;
    out[n++] = 0;
    return n;
}

/* One TXT record: the text cut into character-strings of at most 255 octets. */
static size_t txt_rdata_len(size_t text_len)
{
    return text_len + (text_len + 254) / 255 + (text_len == 0);
}

static void put_txt(const char *text, unsigned char *out)
{
    size_t len = strlen(text);
    size_t n = 0;
    do {
        size_t chunk = len > 255 ? 255 : len;
        out[n++] = (unsigned char)chunk;
        memcpy(out + n, text, chunk);
        n += chunk;
        text += chunk;
        len -= chunk;
    } while (len > 0);
}

size_t dkim_dns_reply(const char *name, int type, const struct dns_answer *a,
    unsigned char *buf, size_t size)
{
    if (size < DNS_HEADER_LEN + TYPE_CLASS_LEN)
        return 0;
    memset(buf, 0, DNS_HEADER_LEN);
    size_t name_len = put_name(name, buf + DNS_HEADER_LEN, size - DNS_HEADER_LEN - TYPE_CLASS_LEN);
    if (name_len == 0)
        return 0;
    size_t n = DNS_HEADER_LEN + name_len;
    put16(buf + n, (unsigned)type);
    put16(buf + n + 2, 1);
    n += TYPE_CLASS_LEN;
    unsigned rcode = a->status == DNS_NXDOMAIN ? 3 : 0;
    put16(buf + 2, 0x8180 | rcode);          /* QR, RD, RA */
    put16(buf + 4, 1);
    unsigned count = 0;
    for (size_t i = 0; a->status == DNS_OK && type == 16 && i < a->count; i++) {
        size_t rdlen = txt_rdata_len(strlen(a->data[i]));
        if (rdlen > 65535 || n + RR_FIXED_LEN + rdlen > size)
            break;
        put16(buf + n, 0xc000 | DNS_HEADER_LEN);
        put16(buf + n + 2, 16);
        put16(buf + n + 4, 1);
        put32(buf + n + 6, a->ttl > 0 ? (unsigned long)a->ttl : 0);
        put16(buf + n + 10, (unsigned)rdlen);
        put_txt(a->data[i], buf + n + RR_FIXED_LEN);
        n += RR_FIXED_LEN + rdlen;
        count++;
    }
    put16(buf + 6, count);
    return n;
}

/* The key lookups prefetched for the message this thread is verifying (set around
 * dkim_eom by check_dkim_verify.c): libopendkim's DNS hooks are per library, not per
 * message, so this is how a lookup finds its message's answers and budget. */
static _Thread_local struct dkim_prefetch *prefetch;

/* Hands libopendkim answer a as its reply in buf; positive answers also go to the cache. */
static void answer_to_reply(struct dkim_policy *p, const char *query, int type,
    const struct dns_answer *a, unsigned char *buf, size_t size, struct dkim_dns_query *q)
{
    switch (a->status) {
    case DNS_OK:
    case DNS_NXDOMAIN:
        q->reply_len = dkim_dns_reply(query, type, a, buf, size);
        q->status = q->reply_len > 0 ? DKIM_DNS_SUCCESS : DKIM_DNS_ERROR;
        if (q->reply_len > 0 && a->status == DNS_OK && a->count > 0 && p->key_records != NULL)
            keyrecord_cache_put(p->key_records, query, type, buf, q->reply_len, a->ttl);
        break;
    case DNS_TIMEOUT:
        q->status = DKIM_DNS_EXPIRED;
        break;
    case DNS_SERVFAIL:
    case DNS_ERROR:
        q->status = DKIM_DNS_ERROR;
        break;
    }
}

static int query_start(void *service, int type, unsigned char *query, unsigned char *buf,
    size_t size, void **handle)
{
    struct dkim_policy *p = service;
    struct dkim_dns_query *q = xcalloc(1, sizeof *q);
    *handle = q;
    /* the message's resolver: the verifier made the prefetch with config_resolver(t->cfg) */
    struct dns_resolver *resolver = prefetch != NULL ? dkim_prefetch_resolver(prefetch) : NULL;
    if (resolver == NULL) {
        q->status = DKIM_DNS_ERROR;
        return 0;
    }
    if (p->key_records != NULL) {
        q->reply_len = keyrecord_cache_get(p->key_records, (const char *)query, type, buf, size);
        if (q->reply_len > 0) {
            q->status = DKIM_DNS_SUCCESS;
            return 0;
        }
    }
    const struct dns_answer *prefetched = dkim_prefetch_answer(prefetch, (const char *)query);
    if (prefetched != NULL && type == 16) {
        answer_to_reply(p, (const char *)query, type, prefetched, buf, size, q);
        return 0;
    }
    struct dns_answer answer;
    if (prefetch != NULL && dkim_prefetch_remaining_ms(prefetch) == 0) {
        q->status = DKIM_DNS_EXPIRED;          /* the message's budget is spent */
        return 0;
    }
    uint64_t timeout_ms = prefetch != NULL ? dkim_prefetch_remaining_ms(prefetch) : 0;
    dns_query(resolver, (const char *)query, type, timeout_ms, &answer);
    answer_to_reply(p, (const char *)query, type, &answer, buf, size, q);
    dns_answer_free(&answer);
    return 0;
}

void dkim_dns_use_prefetch(struct dkim_prefetch *f)
{
    prefetch = f;
}


static int query_cancel(void *service, void *handle)
{
    (void)service;
    free(handle);
    return 0;
}

static int query_waitreply(void *service, void *handle, struct timeval *timeout, size_t *bytes,
    int *error, int *dnssec)
{
    (void)service;
    (void)timeout;
    const struct dkim_dns_query *q = handle;
    if (bytes != NULL)
        *bytes = q->reply_len;
    if (error != NULL)
        *error = 0;
    if (dnssec != NULL)
        *dnssec = DKIM_DNSSEC_UNKNOWN;
    return q->status;
}

/* The service is the policy: nothing to close (the resolver belongs to the configuration). */
static void service_close(void *service)
{
    (void)service;
}

void dkim_dns_attach(DKIM_LIB *lib, struct dkim_policy *p)
{
    dkim_dns_set_query_service(lib, p);
    dkim_dns_set_query_start(lib, query_start);
    dkim_dns_set_query_cancel(lib, query_cancel);
    dkim_dns_set_query_waitreply(lib, query_waitreply);
    dkim_dns_set_close(lib, service_close);
}
