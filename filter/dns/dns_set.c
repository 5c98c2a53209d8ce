/* SPDX-License-Identifier: BSD-2-Clause */
/* dns_set.c - started DNS queries waiting for the check that reads them (dns_set.h): a small
 * array searched linearly; an entry leaves it when its answer is taken or it is cancelled. */
#include "dns_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define NAME_SIZE 256

struct started_query {
    char name[NAME_SIZE];
    int type;
    uint64_t started_ms;         /* dns_now_ms() when sent: its timeout counts from there */
    struct dns_pending *query;
};

struct dns_set {
    struct started_query queries[DNS_SET_MAX];
    size_t count;
};

struct dns_set *dns_set_new(void)
{
    return xcalloc(1, sizeof(struct dns_set));
}

static struct started_query *find(struct dns_set *s, const char *name, int type)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->queries[i].type == type && strcasecmp(s->queries[i].name, name) == 0)
            return &s->queries[i];
    }
    return NULL;
}

static void take_out(struct dns_set *s, struct started_query *q)
{
    *q = s->queries[--s->count];
}

void dns_set_start(struct dns_set *s, struct dns_resolver *r, const char *name, int type)
{
    if (s->count >= DNS_SET_MAX || r == NULL || name == NULL || find(s, name, type) != NULL)
        return;
    struct started_query *q = &s->queries[s->count];
    int n = snprintf(q->name, sizeof q->name, "%s", name);
    if (n < 0 || (size_t)n >= sizeof q->name)
        return;                  /* no valid DNS name: dns_set_query reports it */
    q->type = type;
    q->started_ms = dns_now_ms();
    q->query = dns_start(r, name, type);
    s->count++;
}

static uint64_t earlier(uint64_t deadline_ms, uint64_t not_after_ms)
{
    return not_after_ms != 0 && not_after_ms < deadline_ms ? not_after_ms : deadline_ms;
}

static void spent_as_timeout(struct dns_answer *out)
{
    memset(out, 0, sizeof *out);
    out->status = DNS_TIMEOUT;
    out->rcode = -1;
}

void dns_set_query(struct dns_set *s, struct dns_resolver *r, const char *name, int type,
    uint64_t timeout_ms, uint64_t not_after_ms, struct dns_answer *out)
{
    struct started_query *q = s != NULL && name != NULL ? find(s, name, type) : NULL;
    if (q == NULL) {
        uint64_t deadline = earlier(dns_deadline_after(r, timeout_ms), not_after_ms);
        if (r != NULL && deadline <= dns_now_ms()) {
            spent_as_timeout(out);
            return;
        }
        dns_finish(dns_start(r, name, type), deadline, out);
        return;
    }
    struct dns_pending *query = q->query;
    uint64_t deadline = dns_deadline_after(r, timeout_ms) - (dns_now_ms() - q->started_ms);
    take_out(s, q);
    dns_finish(query, earlier(deadline, not_after_ms), out);
}

size_t dns_set_count(const struct dns_set *s)
{
    return s != NULL ? s->count : 0;
}

void dns_set_clear(struct dns_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        dns_cancel(s->queries[i].query);
    s->count = 0;
}

void dns_set_free(struct dns_set *s)
{
    dns_set_clear(s);
    free(s);
}
