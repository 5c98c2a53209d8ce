/* dmarc_report.h - the data of a DMARC aggregate report (RFC 9990): one row per distinct
 * (source IP, identifiers, results) seen in a reporting period with its message count, the
 * policy published by the DMARC Policy Domain, and the report's metadata; and the pure
 * builders that turn them into what is sent: the XML document (dmarc_report_xml.c), its gzip
 * form (dmarc_report_gzip.c), the file name, Subject and MIME message (dmarc_report_mail.c).
 * Rows travel through the store as a line-oriented text (dmarc_report_row.c).
 * Promises: every builder is deterministic (the same input gives the same bytes), never
 * writes a byte it was given without escaping or replacing it (header_from, selectors and
 * the rest come from the sender), and produces what RFC 9990's schema accepts
 * (tests/dmarc/dmarc-xml-0.2.xsd). */
#ifndef MW_DMARC_REPORT_H
#define MW_DMARC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmarc_record.h"
#include "util.h"

#define DMARC_REPORT_DOMAIN_MAX 253
#define DMARC_REPORT_SELECTOR_MAX 63
#define DMARC_REPORT_COMMENT_MAX 127
#define DMARC_REPORT_URI_MAX 320
#define DMARC_REPORT_MAX_DKIM 8        /* signatures kept per row, in RFC 9990's order of
                                        * preference (it allows up to 100) */

/* policy_evaluated/disposition */
enum dmarc_report_disposition {
    DMARC_DISPOSITION_NONE,
    DMARC_DISPOSITION_PASS,
    DMARC_DISPOSITION_QUARANTINE,
    DMARC_DISPOSITION_REJECT,
};

/* policy_evaluated/reason/type; NONE: no reason element */
enum dmarc_report_override {
    DMARC_REASON_NONE,
    DMARC_REASON_LOCAL_POLICY,
    DMARC_REASON_MAILING_LIST,
    DMARC_REASON_OTHER,
    DMARC_REASON_POLICY_TEST_MODE,
    DMARC_REASON_TRUSTED_FORWARDER,
};

/* RFC 8601 results: DKIM uses every value but softfail. */
enum dmarc_report_auth {
    DMARC_AUTH_NONE,
    DMARC_AUTH_PASS,
    DMARC_AUTH_FAIL,
    DMARC_AUTH_SOFTFAIL,
    DMARC_AUTH_POLICY,
    DMARC_AUTH_NEUTRAL,
    DMARC_AUTH_TEMPERROR,
    DMARC_AUTH_PERMERROR,
};

struct dmarc_report_dkim {
    char domain[DMARC_REPORT_DOMAIN_MAX + 1];      /* d= */
    char selector[DMARC_REPORT_SELECTOR_MAX + 1];  /* s= */
    enum dmarc_report_auth result;                 /* never SOFTFAIL */
};

struct dmarc_report_row {
    char source_ip[46];                            /* text form of the client address */
    uint64_t count;                                /* messages (not part of the row's identity) */
    enum dmarc_report_disposition disposition;
    bool dkim_aligned;                             /* policy_evaluated/dkim pass */
    bool spf_aligned;                              /* policy_evaluated/spf pass */
    enum dmarc_report_override reason;
    char reason_comment[DMARC_REPORT_COMMENT_MAX + 1];
    char header_from[DMARC_REPORT_DOMAIN_MAX + 1];
    bool has_envelope_from;                        /* false: no MAIL FROM seen (absent element);
                                                    * true and "": the null reverse-path */
    char envelope_from[DMARC_REPORT_DOMAIN_MAX + 1];
    char envelope_to[DMARC_REPORT_DOMAIN_MAX + 1]; /* "": absent */
    struct dmarc_report_dkim dkim[DMARC_REPORT_MAX_DKIM];
    size_t dkim_count;
    bool has_spf;                                  /* an SPF result for MAIL FROM */
    char spf_domain[DMARC_REPORT_DOMAIN_MAX + 1];
    enum dmarc_report_auth spf_result;
};

/* The DMARC Policy Record in force for the Policy Domain (the last one seen in the period). */
struct dmarc_report_policy {
    char domain[DMARC_REPORT_DOMAIN_MAX + 1];      /* where the record was found */
    enum dmarc_policy p;                           /* NONE, QUARANTINE or REJECT */
    enum dmarc_policy sp;                          /* UNSET: not published (as p) */
    enum dmarc_policy np;                          /* UNSET: not published */
    bool adkim_strict;
    bool aspf_strict;
    bool testing;                                  /* t=y */
    unsigned fo;                                   /* DMARC_FO_* bits */
    char rua[DMARC_MAX_URIS][DMARC_REPORT_URI_MAX + 1];  /* as published */
    size_t rua_count;
};

struct dmarc_report_meta {
    const char *org_name;                          /* the Reporting Organization */
    const char *email;                             /* its contact address */
    const char *extra_contact_info;                /* NULL: none */
    const char *report_id;                         /* see dmarc_report_id() */
    int64_t begin;                                 /* the reporting period, seconds since */
    int64_t end;                                   /* the epoch, UTC */
    const char *error;                             /* NULL: none */
    const char *generator;                         /* NULL: none */
};

const char *dmarc_report_disposition_name(enum dmarc_report_disposition d);
const char *dmarc_report_override_name(enum dmarc_report_override o);   /* "" for NONE */
const char *dmarc_report_auth_name(enum dmarc_report_auth a);

/* Copies text into a field of size bytes, cut at a character boundary, with every byte that
 * is not printable ASCII or part of valid UTF-8 (control characters, newlines, DEL, broken
 * sequences) replaced by '?': what the sender wrote can never break a line, a header or the
 * XML. Returns false when it had to cut or replace. */
bool dmarc_report_clean_copy(char *dst, size_t size, const char *text);

/* The report as an XML document (UTF-8, the RFC 9990 namespace, version 1.0) into out
 * (appended). The records are written in a fixed order (rows sorted by their encoded text),
 * so the same input gives the same document. false + why when the input cannot make a valid
 * report (no row, an empty domain, a policy p of UNSET). */
bool dmarc_report_xml(const struct dmarc_report_meta *meta, const struct dmarc_report_policy *pol,
    const struct dmarc_report_row *rows, size_t row_count, struct textbuf *out, char *why,
    size_t why_size);

/* data as a gzip member (RFC 1952; no name, time 0: deterministic) into out (appended). */
bool dmarc_report_gzip(const void *data, size_t len, struct textbuf *out, char *why,
    size_t why_size);

#endif
