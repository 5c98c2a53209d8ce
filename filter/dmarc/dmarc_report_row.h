/* dmarc_report_row.h - a report row and a published policy as text, for the store: one
 * "name=value" line per field, every value cleaned (dmarc_report_clean_copy) so it holds no
 * newline or tab. The text of a row is its identity: two messages with the same text add to
 * one count. Promises: decode(encode(x)) == x; decode refuses (false + why) anything that is
 * not what encode writes, a field too long for its place included, so a damaged or foreign
 * value in a shared store cannot overflow or reach a report unchecked. */
#ifndef MW_DMARC_REPORT_ROW_H
#define MW_DMARC_REPORT_ROW_H

#include "dmarc_report.h"

void dmarc_report_row_encode(const struct dmarc_report_row *row, struct textbuf *out);
bool dmarc_report_row_decode(const char *text, size_t len, struct dmarc_report_row *out,
    char *why, size_t why_size);

void dmarc_report_policy_encode(const struct dmarc_report_policy *pol, struct textbuf *out);
bool dmarc_report_policy_decode(const char *text, size_t len, struct dmarc_report_policy *out,
    char *why, size_t why_size);

/* Keeps the DKIM results RFC 9990 prefers when there are more than the row holds: passing
 * and strictly aligned with header_from, passing and relaxed aligned (same registrable end),
 * other passes, then the rest; order kept within each group. */
void dmarc_report_row_add_dkim(struct dmarc_report_row *row, const char *domain,
    const char *selector, enum dmarc_report_auth result);

#endif
