/* dmarc_reports_config.h - the `dmarc_reports` section: DMARC aggregate reports (RFC 9990).
 * The daemon adds one row per evaluated message to the store named here (check_dmarc_report.c);
 * mailwarden-report(8) reads the finished periods from the same store and mails the reports.
 *     dmarc_reports: { enabled = true; store = "disk"; submitter = "mx.example.org";
 *                      org_name = "Example Org"; email = "postmaster@example.org"; }
 * Off unless the section is written. The store must be one another process can read (lmdb or
 * redis), since mailwarden-report is another process. */
#ifndef MW_DMARC_REPORTS_CONFIG_H
#define MW_DMARC_REPORTS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "dmarc_redact.h"
#include "pattern.h"
#include "store_config.h"

#define DMARC_REPORTS_DEFAULT_SENDMAIL "/usr/sbin/sendmail -t -oi"
#define DMARC_REPORTS_DEFAULT_REDACT_KEY "/var/lib/mailwarden/dmarc-redact.key"

struct dmarc_reports_settings {
    bool enabled;                 /* the daemon records rows (a written section turns it on) */
    struct store_use store_use;   /* store = "NAME" (default "default") */
    struct store *store;          /* opened by finish() */
    uint64_t interval_ms;         /* the reporting period: divides a day, 1 minute to 1 day */
    uint64_t keep_ms;             /* rows a report run never took expire after this (7 days) */
    char *submitter;              /* the reporting host's domain (default: this host's name) */
    char *org_name;               /* the Reporting Organization (default: submitter) */
    char *email;                  /* its contact (default: postmaster@submitter) */
    char *from;                   /* the reports' sender (default: the email) */
    char *extra_contact_info;     /* NULL: none */
    char *unique_id;              /* NULL: none; letters and digits, in the file name */
    char *sendmail;               /* the submission command (default above); -f FROM added */
    char *smtp;                   /* "HOST:PORT" of an SMTP server (the local MTA) to use
                                   * instead of sendmail; NULL: sendmail */
    struct pattern_list suppress; /* domains never reported on nor sent to */
    struct pattern_list own_domains;  /* ours: not reported on nor sent to ... */
    bool report_own_domains;          /* ... unless this is set */
    /* failure reports (RFC 9991; dmarc_failure.h): off by default */
    bool failure_reports;         /* record one per failing message whose policy has ruf */
    unsigned failure_rate;        /* at most this many per Author Domain per hour (default 5) */
    bool failure_redact;          /* local parts replaced by keyed tokens (default true) */
    char *failure_redact_key;     /* the key's file (DMARC_REPORTS_DEFAULT_REDACT_KEY) */
    struct dmarc_redact_key *redact_key;  /* read (or made) by finish() when failure_reports
                                   * and failure_redact are on; NULL otherwise */
    bool failure_headers;         /* failure_include = "headers" (default) copies the header;
                                   * "none": no copy of the message at all */
    bool failure_message;         /* failure_include = "message": the whole message, bounded */
    uint64_t failure_message_max; /* its bound in bytes (default 64 KiB, 1 KiB to 1 MiB) */
    char *failure_include;        /* as written */
};

#endif
