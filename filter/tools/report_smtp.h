/* report_smtp.h - hands one message to an SMTP server (the local MTA, dmarc_reports.smtp) for
 * mailwarden-report: EHLO, MAIL FROM, RCPT TO, DATA, QUIT, each answer read whole (multi-line
 * replies included), every command waiting at most timeout_ms. The message's lines may end in
 * "\n" or "\r\n": they are sent as CRLF with dot-stuffing. Promises: true only after the server
 * answered 250 to the end of DATA (the hand-off RFC 5321 defines); otherwise false with why
 * holding the server's reply or the socket error. No TLS, no AUTH: for an MTA on this host. */
#ifndef MW_REPORT_SMTP_H
#define MW_REPORT_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "HOST:PORT" or "[V6]:PORT" into host and port; false when it is not one. */
bool report_smtp_parse(const char *text, char *host, size_t host_size, char *port,
    size_t port_size);

bool report_smtp_send(const char *server, const char *helo, const char *from, const char *to,
    const char *message, size_t len, uint64_t timeout_ms, char *why, size_t why_size);

#endif
