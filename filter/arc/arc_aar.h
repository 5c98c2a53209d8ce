/* arc_aar.h - what one ARC-Authentication-Results field says (RFC 8617 4.1.1, RFC 8601 2.2):
 * the authserv-id of the hop that wrote it and each method's result with the identity it
 * judged (header.d for dkim, the domain of smtp.mailfrom or smtp.helo for spf, header.from
 * for dmarc). Read leniently, as RFC 8601 asks of a reader: comments are skipped, quoted
 * values unquoted, unknown properties ignored; a payload without an authserv-id is refused.
 * Pure: no I/O, no globals, no allocation. */
#ifndef MW_ARC_AAR_H
#define MW_ARC_AAR_H

#include <stdbool.h>
#include <stddef.h>

#define ARC_AAR_MAX_RESULTS 16    /* methods kept per field; the rest are counted only */

struct arc_aar_result {
    char method[32];              /* "spf", "dkim", "dmarc", "arc", ... lower case */
    char result[32];              /* "pass", "fail", ... lower case */
    char domain[256];             /* the identity's domain, lower case; "" when none given */
};

struct arc_aar {
    char authserv_id[256];
    size_t count;                 /* results kept in result[] */
    size_t dropped;               /* results past ARC_AAR_MAX_RESULTS, or unreadable */
    struct arc_aar_result result[ARC_AAR_MAX_RESULTS];
};

/* Reads the payload of an ARC-Authentication-Results field: its value after "i=N;" (see
 * arc_aar_instance in arc_set.h). False when there is no authserv-id; *out is filled either
 * way (empty on failure). */
bool arc_aar_parse(const char *payload, struct arc_aar *out);

/* Whether the field records `method` (e.g. "spf") with result "pass". */
bool arc_aar_passed(const struct arc_aar *aar, const char *method);

#endif
