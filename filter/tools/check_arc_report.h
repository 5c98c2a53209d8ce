/* check_arc_report.h - mailwarden-check --verbose: the ARC chain of the message, instance by
 * instance (sealer, cv=, whether its seal and message signature verified, what its
 * ARC-Authentication-Results says) and where and why it fails, from arc_result.h. */
#ifndef MW_CHECK_ARC_REPORT_H
#define MW_CHECK_ARC_REPORT_H

#include <stdio.h>

struct txn;

void check_arc_report(FILE *out, struct txn *t);

#endif
