/* dmarc_report_mail.h - how an aggregate report is mailed (RFC 9990 section "Email"): its
 * Report-ID, its attachment's file name, its Subject, and the whole MIME message (a text/plain
 * part and the application/gzip attachment, base64). Pure and deterministic: the date and
 * every part come from the caller. Promises: a domain or an address that would not be valid
 * in a file name or a header (anything but letters, digits, '-' and '.' in a domain; anything but a plain
 * dot-atom address) is refused, never written; lines end with "\n" (the
 * submitter turns them into CRLF for SMTP). */
#ifndef MW_DMARC_REPORT_MAIL_H
#define MW_DMARC_REPORT_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util.h"

/* A domain name as RFC 1035 host names write it: labels of 1-63 letters, digits and '-'
 * (not first or last), separated by '.', 253 characters at most, no trailing dot. */
bool dmarc_report_domain_ok(const char *domain);
/* An address safe to write in To: and give to sendmail or RCPT TO: a local part of letters,
 * digits and !#$%&'*+-/=?^_`{|}~ in dot-separated atoms (no quoted form), '@', and a domain
 * dmarc_report_domain_ok accepts; 254 characters at most. */
bool dmarc_report_address_ok(const char *address);
/* A unique-id of the file name: 1-32 letters and digits. */
bool dmarc_report_unique_id_ok(const char *id);

/* "<policy-domain>.<begin>.<end>[.<unique-id>]@<submitter>": the same for a re-sent report,
 * different for another domain, period or reporting host. false when a part is invalid. */
bool dmarc_report_id(const char *policy_domain, int64_t begin, int64_t end,
    const char *unique_id, const char *submitter, char *out, size_t out_size);

/* "<receiver>!<policy-domain>!<begin>!<end>[!<unique-id>].xml.gz" (unique_id NULL or ""
 * for none). false when a part is invalid. */
bool dmarc_report_filename(const char *receiver, const char *policy_domain, int64_t begin,
    int64_t end, const char *unique_id, char *out, size_t out_size);

/* "Report Domain: <policy-domain> Submitter: <submitter> Report-ID: <<id>>", the value of
 * the Subject field (unfolded). */
bool dmarc_report_subject(const char *policy_domain, const char *submitter,
    const char *report_id, char *out, size_t out_size);

struct dmarc_report_mail {
    const char *from;            /* the report's From: and envelope sender (an address) */
    const char *to;              /* one checked destination address */
    const char *policy_domain;
    const char *submitter;       /* the reporting host's domain */
    const char *org_name;        /* for the text part */
    const char *report_id;
    int64_t begin, end;
    time_t date;                 /* the Date: field */
    const char *filename;        /* dmarc_report_filename() */
    const void *attachment;      /* the gzip file */
    size_t attachment_len;
};

/* The whole message into out (appended). false + why on an invalid part. */
bool dmarc_report_message(const struct dmarc_report_mail *m, struct textbuf *out, char *why,
    size_t why_size);

#endif
