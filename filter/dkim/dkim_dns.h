/* dkim_dns.h - libopendkim's key lookups through the daemon's resolver (dns.h): the DNS
 * service hooks of a verifying library handle call dns_query on the resolver of the policy
 * the handle belongs to, and hand libopendkim the answer as the DNS reply it expects. */
#ifndef MW_DKIM_DNS_H
#define MW_DKIM_DNS_H

#include <stddef.h>

#include <opendkim/dkim.h>

#include "dns.h"

struct dkim_policy;

/* Makes lib look keys up through p->owner->resolver (set by whoever installs the policy). */
void dkim_dns_attach(DKIM_LIB *lib, struct dkim_policy *p);

struct dkim_prefetch;

/* Until called again with NULL, key lookups on this thread are answered from f (the keys
 * prefetched for the message being verified, dkim_prefetch.h) and any other lookup gets only
 * what is left of f's budget: nothing, an expired query, once it is spent. */
void dkim_dns_use_prefetch(struct dkim_prefetch *f);

/* Writes a DNS reply message for `name`/`type` carrying answer a into buf. Returns its length,
 * 0 when buf is too small for even the question. */
size_t dkim_dns_reply(const char *name, int type, const struct dns_answer *a,
    unsigned char *buf, size_t size);

#endif
