/* SPDX-License-Identifier: BSD-2-Clause */
/* dkim_prefetch.c - one message's DKIM key lookups in flight together (dkim_prefetch.h):
 * each key is a dns_start at add time and a dns_finish against the shared deadline at
 * collect time. */
#include "dkim_prefetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_keys.h"
#include "util.h"

#define KEY_NAME_SIZE 512

struct prefetch_key {
    char *name;                  /* selector._domainkey.domain, without the final dot */
    struct dns_pending *query;   /* NULL once collected */
    struct dns_answer answer;
};

struct dkim_prefetch {
    struct dns_resolver *resolver;
    uint64_t deadline_ms;        /* the budget's end */
    uint64_t query_deadline_ms;  /* the lookups' end: the budget's, or dns.timeout's if sooner */
    bool collected;
    struct prefetch_key keys[DKIM_PREFETCH_MAX];
    size_t count;
};

struct dns_resolver *dkim_prefetch_resolver(const struct dkim_prefetch *f)
{
    return f->resolver;
}

struct dkim_prefetch *dkim_prefetch_new(struct dns_resolver *r, uint64_t budget_ms)
{
    struct dkim_prefetch *f = xcalloc(1, sizeof *f);
    f->resolver = r;
    f->deadline_ms = dns_now_ms() + budget_ms;
    f->query_deadline_ms = dns_deadline_after(r, 0);
    if (f->query_deadline_ms > f->deadline_ms)
        f->query_deadline_ms = f->deadline_ms;
    return f;
}

/* name without its final dot, compared without regard to case */
static bool same_name(const char *key, const char *name)
{
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    return strlen(key) == len && strncasecmp(key, name, len) == 0;
}

static struct prefetch_key *find(const struct dkim_prefetch *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++) {
        if (same_name(f->keys[i].name, name))
            return (struct prefetch_key *)&f->keys[i];
    }
    return NULL;
}

void dkim_prefetch_add(struct dkim_prefetch *f, const char *selector, const char *domain)
{
    char name[KEY_NAME_SIZE];
    if (f->collected || f->count >= DKIM_PREFETCH_MAX || selector == NULL || domain == NULL
        || *selector == '\0' || *domain == '\0' || dkim_prefetch_remaining_ms(f) == 0)
        return;              /* with the budget spent, the lookup times out */
    int n = snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain);
    if (n < 0 || (size_t)n >= sizeof name)
        return;              /* too long for DNS anyway: the verifier's own lookup fails it */
    size_t len = (size_t)n;
    if (name[len - 1] == '.')
        name[len - 1] = '\0';
    if (find(f, name) != NULL)
        return;
    struct prefetch_key *k = &f->keys[f->count++];
    k->name = xstrdup(name);
    k->query = dns_start(f->resolver, name, 16);
}

bool dkim_signature_tag(const char *list, const char *tag, char *out, size_t size)
{
    char *value = dkim_tag_value(list, tag);
    bool fits = value != NULL && strlen(value) < size;
    if (fits)
        memcpy(out, value, strlen(value) + 1);
    free(value);
    return fits;
}

void dkim_prefetch_add_signature(struct dkim_prefetch *f, const char *signature)
{
    char selector[KEY_NAME_SIZE], domain[KEY_NAME_SIZE];
    if (signature != NULL && dkim_signature_tag(signature, "s", selector, sizeof selector)
        && dkim_signature_tag(signature, "d", domain, sizeof domain))
        dkim_prefetch_add(f, selector, domain);
}

void dkim_prefetch_collect(struct dkim_prefetch *f)
{
    if (f->collected)
        return;
    for (size_t i = 0; i < f->count; i++) {
        dns_finish(f->keys[i].query, f->query_deadline_ms, &f->keys[i].answer);
        f->keys[i].query = NULL;
    }
    f->collected = true;
}

const struct dns_answer *dkim_prefetch_answer(const struct dkim_prefetch *f, const char *name)
{
    if (f == NULL || !f->collected || name == NULL)
        return NULL;
    const struct prefetch_key *k = find(f, name);
    return k != NULL ? &k->answer : NULL;
}

uint64_t dkim_prefetch_remaining_ms(const struct dkim_prefetch *f)
{
    uint64_t now = dns_now_ms();
    return now < f->deadline_ms ? f->deadline_ms - now : 0;
}

size_t dkim_prefetch_count(const struct dkim_prefetch *f)
{
    return f->count;
}

void dkim_prefetch_free(struct dkim_prefetch *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->count; i++) {
        dns_cancel(f->keys[i].query);
        dns_answer_free(&f->keys[i].answer);
        free(f->keys[i].name);
    }
    free(f);
}
