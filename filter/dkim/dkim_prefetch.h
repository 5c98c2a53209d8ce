/* dkim_prefetch.h - the key lookups of one message's DKIM signatures, all started at once
 * and collected against one deadline (dkim.verify.budget), so that N signatures cost one
 * lookup's time, not N.
 *
 * Promises: every lookup is sent when it is added; dkim_prefetch_collect waits no later than
 * the deadline fixed by dkim_prefetch_new (the budget, or the resolver's timeout when that
 * ends sooner), whatever the number of keys; a key not answered by
 * then is a DNS_TIMEOUT; the same key name is looked up once (names compare without regard to
 * ASCII case); at most DKIM_PREFETCH_MAX keys. Not shared between threads. */
#ifndef MW_DKIM_PREFETCH_H
#define MW_DKIM_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define DKIM_PREFETCH_MAX 64

struct dkim_prefetch;

/* The budget starts now. r may be NULL (every lookup then finishes with DNS_ERROR). */
struct dkim_prefetch *dkim_prefetch_new(struct dns_resolver *r, uint64_t budget_ms);
/* The resolver f was made with (NULL: none), for a lookup the verifier makes beyond it. */
struct dns_resolver *dkim_prefetch_resolver(const struct dkim_prefetch *f);
/* Starts the TXT lookup of selector._domainkey.domain (nothing when either is empty or the
 * key is already there). */
void dkim_prefetch_add(struct dkim_prefetch *f, const char *selector, const char *domain);
/* Starts the key lookup named by the s= and d= tags of one DKIM-Signature field's value
 * (RFC 6376 3.2 tag list; folding white space ignored); nothing when either tag is missing. */
void dkim_prefetch_add_signature(struct dkim_prefetch *f, const char *signature);
/* Copies the value of `tag` in the tag list `list` into out, white space removed; false when
 * the tag is absent or its value does not fit. */
bool dkim_signature_tag(const char *list, const char *tag, char *out, size_t size);
/* Waits for every answer until the deadline. Once collected, later calls return at once. */
void dkim_prefetch_collect(struct dkim_prefetch *f);
/* The collected answer for name (a key record name, final dot or not), or NULL when name was
 * not prefetched or dkim_prefetch_collect has not run. */
const struct dns_answer *dkim_prefetch_answer(const struct dkim_prefetch *f, const char *name);
/* Milliseconds left of the budget (0 when spent). */
uint64_t dkim_prefetch_remaining_ms(const struct dkim_prefetch *f);
size_t dkim_prefetch_count(const struct dkim_prefetch *f);
/* Cancels what is still in flight. NULL is fine. */
void dkim_prefetch_free(struct dkim_prefetch *f);

#endif
