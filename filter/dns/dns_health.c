/* dns_health.c - counts of how the resolver's queries ended and the last failure
 * (dns_health.h). One mutex; a note costs a lock and a few stores. */
#include "dns_health.h"

#include <pthread.h>

#include "util.h"

static pthread_mutex_t health_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_health health;

void dns_health_note(enum dns_status status, const char *name, int type)
{
    pthread_mutex_lock(&health_lock);
    switch (status) {
    case DNS_OK:
    case DNS_NXDOMAIN:
        health.answered++;
        break;
    case DNS_SERVFAIL:
    case DNS_TIMEOUT:
    case DNS_ERROR:
        if (status == DNS_SERVFAIL)
            health.servfail++;
        else if (status == DNS_TIMEOUT)
            health.timeout++;
        else
            health.error++;
        health.last_failure_at = time(NULL);
        health.last_failure = status;
        strlcpy_mw(health.last_failure_name, name != NULL ? name : "-",
            sizeof health.last_failure_name);
        health.last_failure_type = type;
        break;
    }
    pthread_mutex_unlock(&health_lock);
}

void dns_health_get(struct dns_health *out)
{
    pthread_mutex_lock(&health_lock);
    *out = health;
    pthread_mutex_unlock(&health_lock);
}
