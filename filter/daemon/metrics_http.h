/* metrics_http.h - the optional Prometheus listener (GET /metrics) of the daemon. */
#ifndef MW_METRICS_HTTP_H
#define MW_METRICS_HTTP_H

#include <stdbool.h>

#include "config.h"

/* Starts the listener when cfg's `metrics` section turns it on (call after root is dropped);
 * true when it runs or is off, false (logged) when it cannot listen. */
bool metrics_http_start(const struct config *cfg);
/* Stops it, if it runs. */
void metrics_http_stop(void);

#endif
