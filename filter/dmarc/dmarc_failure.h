/* dmarc_failure.h - DMARC failure reports (RFC 9991): when one is wanted (the fo tag), the
 * keyed redaction of local parts (RFC 6590; dmarc_redact.h), the pending report as it travels
 * through the store (a
 * bounded text), and the ARF message (RFC 5965 with the auth-failure extension of RFC 6591)
 * that mailwarden-report sends. Pure and deterministic: the date and every part come from
 * the caller. Promises: no byte the sender wrote reaches a header or a line of the report
 * without being cleaned (control characters and newlines become spaces or '?'); with
 * redaction on, no local part of an address in the copied header, Original-Mail-From,
 * Original-Rcpt-To or DKIM-Identity survives (each becomes the address's keyed token, the
 * same for the same address); an encoded report never exceeds the size it is given:
 * the header copy is cut at a field boundary and the cut is marked. */
#ifndef MW_DMARC_FAILURE_H
#define MW_DMARC_FAILURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dmarc_record.h"
#include "dmarc_redact.h"
#include "util.h"

#define DMARC_FAILURE_DOMAIN_MAX 253
#define DMARC_FAILURE_AUTH_MAX 511      /* the Authentication-Results value kept */
#define DMARC_FAILURE_HEADERS_MAX 8192  /* the header copy built at end of message */
#define DMARC_FAILURE_FIELD_MAX 998     /* one copied field line, name included */
#define DMARC_FAILURE_MAX_RUF 4         /* ruf URIs kept per report */
#define DMARC_FAILURE_URI_MAX 320
#define DMARC_FAILURE_ADDRESS_MAX 320   /* an address kept (Original-Rcpt-To, DKIM-Identity) */
#define DMARC_FAILURE_MAX_RCPT 8        /* Original-Rcpt-To fields kept; the rest are counted */
#define DMARC_FAILURE_SPF_RECORD_MAX 1023 /* SPF-DNS: a longer record is left out */

/* RFC 9989's fo tag: whether this message asks for a failure report. fo bits DMARC_FO_*:
 * 0 (also when fo is 0): neither SPF nor DKIM gave an aligned pass; 1: one of them did not;
 * d: a DKIM signature failed to verify (aligned or not); s: SPF failed (aligned or not). */
bool dmarc_failure_wanted(unsigned fo, bool spf_aligned, bool dkim_aligned, bool spf_failed,
    bool dkim_failed);

/* Whether domain is aligned with the Author Domain author whose Organizational Domain is org
 * ("" when unknown): strict, the same name; relaxed, the same name or both under org (a
 * subdomain of org or org itself). Case-insensitive; a trailing dot is not accepted. Used for
 * Identity-Alignment, which names the mechanisms that failed for an aligned identity. */
bool dmarc_failure_domain_aligned(const char *domain, const char *author, const char *org,
    bool strict);

/* Copies text into out (size bytes, always terminated) with the local part of every
 * addr-spec (the dot-atom or quoted string before an '@' followed by a domain; in a dot-atom,
 * what follows its last '=', so that tag=value text keeps its tags) replaced by
 * its token under key (dmarc_redact_token: "redacted-" and 16 base32 characters), and every
 * control character by a space. Returns false when it had to cut. */
bool dmarc_failure_redact(const char *text, const struct dmarc_redact_key *key, char *out,
    size_t size);

enum dmarc_failure_delivery {
    DMARC_DELIVERY_DELIVERED,
    DMARC_DELIVERY_SPAM,
    DMARC_DELIVERY_POLICY,
    DMARC_DELIVERY_REJECT,
    DMARC_DELIVERY_OTHER,
};
/* "delivered", "spam", "policy", "reject", "other" (RFC 6591's Delivery-Result) */
const char *dmarc_failure_delivery_name(enum dmarc_failure_delivery d);

/* One pending failure report. */
struct dmarc_failure {
    char domain[DMARC_FAILURE_DOMAIN_MAX + 1];    /* Reported-Domain: the Author Domain */
    char policy_domain[DMARC_FAILURE_DOMAIN_MAX + 1]; /* where the DMARC record was found
                                   * (the external-destination check's domain) */
    char source_ip[46];
    char mail_from[320];          /* Original-Mail-From (redacted when asked); "" = null sender */
    int64_t arrival;              /* seconds since the epoch */
    char auth_results[DMARC_FAILURE_AUTH_MAX + 1];
    bool spf_aligned, dkim_aligned;   /* an aligned pass (what fo decides on) */
    bool spf_failed_aligned;      /* SPF failed for an identity aligned with the From domain */
    bool dkim_failed_aligned;     /* a signature whose d= is aligned failed to verify */
    enum dmarc_failure_delivery delivery;
    char dkim_domain[DMARC_FAILURE_DOMAIN_MAX + 1];  /* "" when no signature */
    char dkim_selector[64];
    char dkim_identity[DMARC_FAILURE_ADDRESS_MAX]; /* DKIM-Identity: i= ("@" d= without i=),
                                   * local part redacted when redacted; "" = none */
    char spf_domain[DMARC_FAILURE_DOMAIN_MAX + 1]; /* SPF-DNS: the domain SPF checked and its
                                   * own v=spf1 record; "" = not sent */
    char spf_record[DMARC_FAILURE_SPF_RECORD_MAX + 1];
    char envelope_id[64];         /* Original-Envelope-Id: the MTA's queue id; "" = unknown */
    char rcpt[DMARC_FAILURE_MAX_RCPT][DMARC_FAILURE_ADDRESS_MAX]; /* Original-Rcpt-To, local
                                   * parts redacted when redacted */
    size_t rcpt_count;
    size_t rcpt_left_out;         /* recipients not kept (over DMARC_FAILURE_MAX_RCPT, or over
                                   * the store's size bound) */
    char ruf[DMARC_FAILURE_MAX_RUF][DMARC_FAILURE_URI_MAX + 1];
    size_t ruf_count;
    bool redacted;                /* local parts were replaced */
    char headers[DMARC_FAILURE_HEADERS_MAX];  /* "Name: value\n" lines; "" = none copied */
    size_t headers_len;
    bool headers_cut;             /* fields were left out (size bound) */
    /* failure_include = "message": the whole message (the header copy, an empty line, the
     * body), owned (dmarc_failure_free_message); NULL otherwise. It travels through the
     * store in parts of its own (dmarc_failure_store.h), message_parts of them. */
    char *message;
    size_t message_len;
    bool message_cut;             /* lines or the end were left out (size bound) */
    bool message_lost;            /* the store no longer had every part: only fields go out */
    size_t message_parts;
};

/* Appends one header field (name and value cleaned to one line, cut at
 * DMARC_FAILURE_FIELD_MAX, local parts redacted under redact when it is not NULL) to
 * f->headers. A field that does not fit is left out and f->headers_cut set. Message-ID,
 * In-Reply-To and References are copied unredacted (they name messages, not people). */
void dmarc_failure_add_header(struct dmarc_failure *f, const char *name, const char *value,
    const struct dmarc_redact_key *redact);

#define DMARC_FAILURE_MESSAGE_MIN 1024
#define DMARC_FAILURE_MESSAGE_MAX (1024 * 1024)
#define DMARC_FAILURE_LINE_MAX 998    /* a body line longer than this is cut (and marked) */

/* Makes f->message from f's header copy (which moves into it: f->headers is emptied), an
 * empty line, and the body's body_len bytes line by line (LF or CRLF; CR dropped, control
 * characters made spaces (tab too when redacting), local parts redacted under redact when
 * it is not NULL,
 * lines cut at DMARC_FAILURE_LINE_MAX), at most max bytes (clamped to MESSAGE_MIN..MAX) and
 * cut at a line boundary. message_cut is set when anything was left out, also when
 * body_truncated says the daemon kept only the start of the body. Encoded parts (base64,
 * quoted-printable) are copied as they are: only addresses written plainly are redacted. */
void dmarc_failure_set_message(struct dmarc_failure *f, const char *body, size_t body_len,
    bool body_truncated, size_t max, const struct dmarc_redact_key *redact);
void dmarc_failure_free_message(struct dmarc_failure *f);

/* Adds one envelope recipient (Original-Rcpt-To), cleaned, its local part redacted under
 * redact when it is not NULL; past DMARC_FAILURE_MAX_RCPT (or one too long) it is only
 * counted in rcpt_left_out. */
void dmarc_failure_add_rcpt(struct dmarc_failure *f, const char *address,
    const struct dmarc_redact_key *redact);

/* The report as the store keeps it, into out (at most size bytes, terminated). The header
 * copy is cut at a field boundary to fit (headers_cut marks it); before it, SPF-DNS and then
 * recipients are left out when they do not fit (recipients counted in rcpt_left_out). false
 * when even the fields without these do not fit. *len gets the length. */
bool dmarc_failure_encode(const struct dmarc_failure *f, char *out, size_t size, size_t *len);
/* Reads what dmarc_failure_encode wrote; false on a damaged record (f is zeroed first). */
bool dmarc_failure_decode(const char *text, size_t len, struct dmarc_failure *f);

/* "DMARC Failure Report for DOMAIN from IP", the Subject value. */
void dmarc_failure_subject(const struct dmarc_failure *f, char *out, size_t size);

struct dmarc_failure_mail {
    const char *from;             /* the report's From: and envelope sender (an address) */
    const char *to;               /* one checked destination address */
    const char *submitter;        /* the reporting host's domain (User-Agent, Message-ID) */
    time_t date;
    const char *message_id;       /* without <>; unique per report and destination */
};

/* The whole ARF message (multipart/report; report-type=feedback-report: a text/plain part,
 * a message/feedback-report part with Feedback-Type: auth-failure and Auth-Failure: dmarc,
 * and text/rfc822-headers with the header copy when there is one, or message/rfc822 with
 * the whole message when f->message is set) into out (appended). The MIME boundary is one
 * that occurs nowhere in the copied text.
 * The feedback part carries RFC 5965's Original-Mail-From, Original-Rcpt-To (one per kept
 * recipient), Original-Envelope-Id, Arrival-Date, Reporting-MTA, Source-IP and
 * Reported-Domain, RFC 6591's Authentication-Results, Delivery-Result, DKIM-Domain,
 * DKIM-Identity, DKIM-Selector and SPF-DNS ("txt : domain : record", folded at spaces), and
 * RFC 9991's Identity-Alignment. false + why on an invalid part. */
bool dmarc_failure_message(const struct dmarc_failure *f, const struct dmarc_failure_mail *m,
    struct textbuf *out, char *why, size_t why_size);

#endif
