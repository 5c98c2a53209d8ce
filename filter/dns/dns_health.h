/* dns_health.h - what the resolver has lately failed at, for `mailwarden-ctl status`: how many
 * answers were SERVFAIL, timeouts or local errors since start, and the last of them (when, the
 * name and the type). dns.c notes each finished query; any thread may read. */
#ifndef MW_DNS_HEALTH_H
#define MW_DNS_HEALTH_H

#include <stdint.h>
#include <time.h>

#include "dns.h"

struct dns_health {
    uint64_t answered;             /* queries with an answer (NOERROR, NODATA, NXDOMAIN) */
    uint64_t servfail;
    uint64_t timeout;
    uint64_t error;
    time_t last_failure_at;        /* 0 = none yet */
    enum dns_status last_failure;
    char last_failure_name[256];
    int last_failure_type;
};

void dns_health_note(enum dns_status status, const char *name, int type);
void dns_health_get(struct dns_health *out);

#endif
