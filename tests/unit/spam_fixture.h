/* spam_fixture.h - what the spam check tests share: policies written to a temporary directory
 * and installed, an optional real DNS server (tests/tools/dnsserver.py on loopback) the
 * policy's resolver forwards to, and one call that drives the engine through a whole SMTP
 * transaction the way milter.c does. */
#ifndef MW_SPAM_FIXTURE_H
#define MW_SPAM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "txn.h"

struct smtp_session {
    const char *client_ip;     /* default 203.0.113.5 */
    const char *client_name;   /* default "[client_ip]" */
    const char *helo;          /* default "mail.sender.test" */
    const char *mta_hostname;  /* macro j; default "mx.our.test" */
    const char *sender;        /* default "alice@sender.test" */
    const char *rcpts[8];      /* default { "bob@our.test" } */
    const char *message;       /* headers, blank line, body; "\n" line ends */
};

/* Makes the temporary directory; false on failure. */
bool fixture_init(void);
/* Starts the DNS server on a zone (dnsserver.py format). False when Debian's python3-dnslib
 * is missing (the caller skips). */
bool fixture_dns_start(const char *zone);
/* Loads `text` (plus a dns section pointing at the server, when one runs), makes its resolver
 * and installs it. Fails the test on any error. */
void fixture_policy(const char *text);
/* Runs connect .. eom on a new connection (freeing the last). Returns the EOM action, or the
 * action that ended the transaction earlier (at the end of the headers, say). */
enum action fixture_run(const struct smtp_session *s);
/* The transaction of the last run. */
struct txn *fixture_txn(void);
bool fixture_has(const char *symbol);
double fixture_score_of(const char *symbol);
const char *fixture_header_edit(const char *name);
/* A complete, clean message with Date (now), Message-ID, From, To, Subject and a text body;
 * extra_headers and body may be NULL. Freed by the next call. */
const char *fixture_clean_message(const char *extra_headers, const char *body);
void fixture_cleanup(void);

#endif
