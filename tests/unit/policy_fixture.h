/* policy_fixture.h - a policy in a temporary directory, loaded and driven through the engine:
 * what every test of the engine, its checks and their policy sections shares. Policies are
 * written to the directory and loaded (to read their errors) or installed; an optional real
 * DNS server (tests/tools/dnsserver.py on loopback) the policy's resolver forwards to; the
 * fixture's connection (a txn on the installed policy); and one call that drives the engine
 * through a whole SMTP transaction the way milter.c does. */
#ifndef MW_POLICY_FIXTURE_H
#define MW_POLICY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
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
    const char *sasl_user;     /* default NULL: not authenticated */
};

/* Makes the temporary directory; false on failure. */
bool fixture_init(void);
/* The same as cmocka setup and teardown functions (fixture_init, fixture_cleanup), and one
 * that starts a test afresh: no connection, no policy installed, every store closed (so rate
 * limits and greylisting start from an empty embedded store). */
int fixture_setup(void **state);
int fixture_teardown(void **state);
int fixture_fresh(void **state);
/* Starts the DNS server on a zone (dnsserver.py format). False when Debian's python3-dnslib
 * is missing (the caller skips). */
bool fixture_dns_start(const char *zone);
/* Writes `text` as a new policy file in the directory and loads it, exactly as written (no dns
 * section added): the policy, or NULL with its errors in *errs. Not installed. */
struct config *fixture_load(const char *text, struct config_errors *errs);
/* The same for a policy that must load: fails the test (printing the errors) when it does not. */
struct config *fixture_load_ok(const char *text);
/* Loads `text` (plus a dns section pointing at the server, when one runs), makes its resolver
 * and installs it, ending the fixture's connection (which holds the old policy). Fails the
 * test on any error. */
void fixture_policy(const char *text);
/* The same, with more settings of the dns section ("message_budget = \"1s\""; a setting the
 * fixture makes, as timeout, may not be repeated: dns.timeout is 3 s). */
void fixture_policy_dns(const char *dns_settings, const char *text);
/* A new connection on the policy in force, as mw_connect makes it (the last one is freed):
 * the fixture's connection from now on (fixture_txn). */
struct txn *fixture_connection(void);
/* Runs connect .. eom on a new connection (freeing the last). Returns the EOM action, or the
 * action that ended the transaction earlier (the end of the headers' decision, say). */
enum action fixture_run(const struct smtp_session *s);
/* The fixture's connection: that of the last run or fixture_connection. */
struct txn *fixture_txn(void);
bool fixture_has(const char *symbol);
double fixture_score_of(const char *symbol);
const char *fixture_header_edit(const char *name);
/* A complete, clean message with Date (now), Message-ID, From, To, Subject and a text body;
 * extra_headers and body may be NULL. Freed by the next call. */
const char *fixture_clean_message(const char *extra_headers, const char *body);
/* Frees the connection, uninstalls the policy, closes the stores, stops the DNS server and
 * removes the directory. */
void fixture_cleanup(void);

#endif
