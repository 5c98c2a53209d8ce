/* dns_set.h - DNS queries started ahead of the code that reads their answers: a stage's
 * checks start what they will need (check.h .prefetch), so that the lookups of all checks of
 * one stage are in flight together, and each check then takes its answer from the set.
 *
 * Promises: a query is sent when started; dns_set_query answers from a started query of the
 * same name (ASCII case ignored) and type, waiting for it until timeout_ms after it was sent
 * (so that queries started together also time out together), and otherwise asks the
 * resolver as dns_query does; never waits past not_after_ms (on dns_now_ms's clock; 0 = no
 * such limit), and once that has passed a query not yet sent is not sent: it is a timeout at
 * once (DNS_TIMEOUT, rcode -1), as a query that was never answered; each started query is answered
 * once (a second dns_set_query of the same name asks again); dns_set_clear cancels what
 * nobody took. At most DNS_SET_MAX queries; more are simply not started. One thread at a
 * time. */
#ifndef MW_DNS_SET_H
#define MW_DNS_SET_H

#include <stdint.h>

#include "dns.h"

#define DNS_SET_MAX 32

struct dns_set;

struct dns_set *dns_set_new(void);
void dns_set_start(struct dns_set *s, struct dns_resolver *r, const char *name, int type);
void dns_set_query(struct dns_set *s, struct dns_resolver *r, const char *name, int type,
    uint64_t timeout_ms, uint64_t not_after_ms, struct dns_answer *out);
/* Queries started and not yet taken. */
size_t dns_set_count(const struct dns_set *s);
void dns_set_clear(struct dns_set *s);
/* NULL is fine. */
void dns_set_free(struct dns_set *s);

#endif
