/* check_rdns.h - what check_rdns exposes for its tests: the dynamic-name classifier. Other
 * checks read the reverse name it found through rdns_result.h, never through this header. */
#ifndef MW_CHECK_RDNS_H
#define MW_CHECK_RDNS_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

/* Whether the name looks generic or dynamic for the address (exposed for tests). */
bool rdns_name_is_dynamic(const char *name, const struct ipaddr *addr, const char *const *keywords,
    size_t keyword_count);

#endif
