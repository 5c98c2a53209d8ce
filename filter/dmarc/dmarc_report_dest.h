/* dmarc_report_dest.h - where an aggregate report may go: the rua URIs of the DMARC Policy
 * Record made into mailboxes, the external-destination authorisation of RFC 9990 ("Verifying
 * External Destinations": <policy-domain>._report._dmarc.<destination-host> TXT beginning
 * with v=DMARC1), and the admin's suppression list and own domains.
 * Pure but for the DNS, which goes through an injected lookup (dmarc_eval.h's
 * dmarc_lookup_fn): the resolver in mailwarden-report, a fake table in the tests.
 * Promises: only mailto: URIs naming exactly one plain address are used (percent-decoded;
 * the obsolete "!size" suffix, which RFC 9989 says to ignore, is removed); a destination
 * outside the policy domain's Organizational Domain gets a report only when its TXT record
 * says so, and an override rua in that record only when it names the same host; a DNS
 * failure is a temporary refusal (retried on the next run), never an authorisation. */
#ifndef MW_DMARC_REPORT_DEST_H
#define MW_DMARC_REPORT_DEST_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc_eval.h"
#include "pattern.h"

struct dmarc_report_dest {
    char address[255];         /* the mailbox, domain in lower case */
    char host[254];            /* its domain */
};

enum dmarc_uri_status {
    DMARC_URI_OK,
    DMARC_URI_UNSUPPORTED,     /* a valid URI of another scheme (https:): not ours to send */
    DMARC_URI_BAD,             /* malformed: ignored, as RFC 9990 says */
};

/* One rua URI into out; why says what was wrong. */
enum dmarc_uri_status dmarc_report_parse_uri(const char *uri, struct dmarc_report_dest *out,
    char *why, size_t why_size);

enum dmarc_dest_verdict {
    DMARC_DEST_ALLOWED,        /* send to dest (possibly replaced by the consumer's override) */
    DMARC_DEST_DENIED,         /* never to this destination for this domain */
    DMARC_DEST_TEMPFAIL,       /* DNS failed: try again on the next run */
};

/* The external-destination check for one destination of policy_domain's record; may
 * replace *dest with the override the Report Consumer published. why says the reason. */
enum dmarc_dest_verdict dmarc_report_authorize(const char *policy_domain,
    struct dmarc_report_dest *dest, const struct dmarc_limits *lim, dmarc_lookup_fn lookup,
    void *lookup_arg, char *why, size_t why_size);

/* The admin's filters: suppress (domains; NULL = none) are never reported on nor sent to;
 * our own domains neither, unless report_own_domains: those own_domains matches (NULL = none)
 * and own_names (NULL entries skipped: the domains of the reports' sender and contact), each
 * with its subdomains. */
#define DMARC_REPORT_OWN_NAMES 3
struct dmarc_report_filter {
    const struct pattern_list *suppress;
    const struct pattern_list *own_domains;
    bool report_own_domains;
    const char *own_names[DMARC_REPORT_OWN_NAMES];
};

/* Whether a report about policy_domain to dest_host (NULL: the domain alone) must not be
 * sent; why names the list that matched. */
bool dmarc_report_suppressed(const struct dmarc_report_filter *f, const char *policy_domain,
    const char *dest_host, char *why, size_t why_size);

#endif
