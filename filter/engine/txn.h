/* txn.h - one SMTP connection and the transaction in progress on it: connection facts, HELO,
 * envelope, SASL identity, queue id, headers, the body (buffered only up to a cap) and the
 * results the checks add. Owned by one thread at a time; nothing here is shared. */
#ifndef MW_TXN_H
#define MW_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "config.h"
#include "dns.h"
#include "header.h"
#include "verdict.h"

enum stage {
    STAGE_CONNECT,
    STAGE_HELO,
    STAGE_MAIL,
    STAGE_RCPT,
    STAGE_HEADERS,     /* end of headers: every header is known */
    STAGE_EOM,         /* end of message: the body is known */
    STAGE_COUNT
};

const char *stage_name(enum stage stage);

/* How the client is classified at connect (txn_set_client). */
#define CLIENT_INTERNAL  0x1u   /* networks.internal */
#define CLIENT_TRUSTED   0x2u   /* networks.trusted */
#define CLIENT_SKIP      0x4u   /* networks.skip */



#define TXN_CHECK_SLOTS 32        /* at least the number of entries in check_table */

/* How SpamAssassin 4.0's autolearn (_get_autolearn_points, AutoLearnThreshold.pm) counts a
 * result: a noautolearn/userconf rule not at all; a learner's own (tflags learn: the Bayes
 * rules) only as the learner's opinion (its score in the message's set, which vetoes a learn the
 * other way); autolearn_force waives the 3 header and 3 body points a spam needs. The points are a rule's score in its message's score
 * set without the Bayes bit, header_share and body_share of them the header and body points
 * (rules_hit in rules.h: header rules 1/0, body/rawbody/uri 0/1, a meta split by its
 * dependencies, full rules 0/0). A native check's result is header-only with its score: the
 * SpamAssassin rules our checks stand for (SPF, DKIM, DMARC, DNSBL, header checks) are header
 * tests. */
#define RESULT_LEARNER          0x1u
#define RESULT_NOAUTOLEARN      0x2u
#define RESULT_AUTOLEARN_FORCE  0x4u

struct result_learn {
    unsigned flags;            /* RESULT_* above */
    double score;              /* the points autolearn counts (a policy override replaces them) */
    double header_share;       /* of them, the shares that are header and body points */
    double body_share;
};

struct result {
    char *symbol;
    double score;
    enum action action;        /* forced action; ACTION_NONE = score only */
    struct reply reply;
    enum stage stage;
    bool shadow;               /* from a check or rule set in mode "shadow": logged, never
                                  scored or acted on (engine.c) */
    struct result_learn learn; /* how Bayes autolearn counts it (check_bayes_learn.c) */
};

struct dns_set;

struct txn {
    struct config *cfg;        /* referenced; refreshed at each MAIL FROM */

    struct dns_set *early_dns; /* the current stage's started queries (txn_dns_start) */
    uint64_t dns_budget_left_ms; /* of dns.message_budget: what the message's waits for DNS
                                    may still take (txn_dns_budget_start, txn_dns_charge) */

    /* connection */
    bool have_client_addr;
    struct ipaddr client_addr;
    char client_ip[64];        /* printable, "unknown" without an address */
    char *client_name;         /* the MTA's name for the client ("[1.2.3.4]" when unknown) */
    unsigned client_flags;
    char *helo;
    char *mta_hostname;        /* macro j */
    bool non_smtp;             /* local submission (Postfix non_smtpd_milters, sendmail -bs/-t) */
    unsigned txn_count;        /* transactions seen on this connection */

    /* transaction */
    bool in_txn;
    uint64_t started_ms;
    char *queue_id;
    char *sender;              /* without <>; "" is the null sender */
    bool sender_unknown;       /* mailwarden-check without --from: sender is "" but not known;
                                  the rules find it in the message as SpamAssassin does */
    char *sasl_user;
    char *sasl_method;
    char **rcpts;
    size_t rcpt_count;
    size_t rcpt_rejected;
    struct header_field *headers;
    size_t header_count;
    /* fields the checks read (txn_header_is_checked) count against their own byte budget,
     * limits.max_checked_header_bytes; the others against limits.max_headers and
     * limits.max_header_bytes. A field past its limit is not kept, and the flags say which
     * limit was passed (check_limits.c turns them into symbols). */
    size_t other_header_count;
    uint64_t header_bytes;         /* of the other fields kept */
    uint64_t checked_header_bytes; /* of the checked fields kept */
    bool header_count_passed;      /* limits.max_headers */
    bool header_bytes_passed;      /* limits.max_header_bytes or max_checked_header_bytes */
    char *body;                /* the first limits.max_body_buffer bytes */
    size_t body_len;
    uint64_t body_bytes;       /* all body bytes seen */
    bool body_truncated;
    /* the whole message as the MTA counts it (txn_message_size): every header field, kept or
     * not, as "Name: value" LF, the empty line, and the body with CRLF counted as LF */
    uint64_t all_header_bytes;
    uint64_t body_crlf_count;
    bool body_ended_in_cr;

    /* results: the first conn_result_count belong to the connection (connect, helo) and
     * carry over to every transaction on it */
    struct result *results;
    size_t result_count;
    size_t conn_result_count;
    bool shadow_now;           /* results added now are shadow (engine.c sets it per check;
                                  check_rules.c and check_ratelimit.c per rule set or limit) */
    bool allowed;              /* an ACCEPT was forced: no more checks, deliver */
    bool conn_allowed;         /* ... at connect or helo: for the whole connection */

    /* incoming Authentication-Results fields: how many, and the 1-based indexes of those that
     * carry our authserv-id (to delete at the end of the message) */
    unsigned authres_seen;
    unsigned *forged_authres;
    size_t forged_authres_count;

    /* Authentication-Results methods, "spf=pass smtp.mailfrom=example.com" */
    char **authres_methods;
    size_t authres_method_count;

    /* the decoded message the content checks share (message_view.h): built on first use at
     * end of message, freed when the transaction ends */
    struct message_view *view;

    /* each check's own state, indexed by its place in check_table (check.h) */
    void *check_txn_state[TXN_CHECK_SLOTS];
    void *check_conn_state[TXN_CHECK_SLOTS];

    /* the decision once made */
    struct verdict verdict;
    enum action pending;       /* quarantine or discard forced before the end of the message */
    struct reply pending_reply;
    const char *pending_by;
    enum action rcpt_refusal;  /* the last refusal of a recipient, for the summary */
    struct reply rcpt_refusal_reply;
    bool summary_logged;
};

struct txn *txn_new(struct config *cfg);
void txn_free(struct txn *t);
/* Ends the transaction (after EOM or abort) and keeps the connection facts. */
void txn_reset(struct txn *t);

/* Sets the client and classifies it by the policy's networks (client_flags), before any
 * check of the connect stage runs or starts a lookup. */
void txn_set_client(struct txn *t, const char *name, const struct ipaddr *addr);
void txn_set_helo(struct txn *t, const char *helo);
void txn_add_rcpt(struct txn *t, const char *rcpt);
/* Whether the checks read this field (From, To, Subject, Content-*, Received, ...; see
 * txn.c), or a loaded rule names it: such fields are kept whatever their position. */
bool txn_header_is_checked(const struct txn *t, const char *name);
/* Returns false when a limit (count or bytes) was reached; the header is then not kept and
 * the limit passed is recorded (header_count_passed, header_bytes_passed). */
bool txn_add_header(struct txn *t, const char *name, const char *value);
/* Whether some header field was not kept (either limit passed). */
bool txn_headers_truncated(const struct txn *t);
/* The message's size as Postfix logs it: header fields and body with LF line ends. */
uint64_t txn_message_size(const struct txn *t);
/* Records the exact bytes after the colon of the header just added (see raw_value). */
void txn_set_header_raw(struct txn *t, const char *raw_value);
void txn_add_body(struct txn *t, const unsigned char *data, size_t len);
/* DNS for checks. txn_dns_start sends a query now (a check's .prefetch does, check.h);
 * txn_dns_query answers from a query started this stage, waiting until timeout_ms
 * (0 = dns.timeout) after it was started, or asks the resolver; txn_dns_clear (the engine, after each stage)
 * cancels what no check took.
 * One DNS budget per message (dns.message_budget): every wait for DNS of the message's
 * checks, all stages together, takes at most what is left of it, and what it took is
 * charged to it. txn_dns_query does both; a check that waits for DNS another way caps its
 * wait with txn_dns_budget_left_ms and charges it with txn_dns_charge. Once the budget is
 * spent, txn_dns_start sends nothing and txn_dns_query answers DNS_TIMEOUT at once, so a
 * spent budget gives exactly what a query that timed out gives. txn_dns_budget_start (the
 * engine: at connect, and at MAIL FROM of the second and later messages of a connection)
 * gives the message the whole budget again. */
void txn_dns_start(struct txn *t, const char *name, int type);
void txn_dns_query(struct txn *t, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out);
void txn_dns_clear(struct txn *t);
void txn_dns_budget_start(struct txn *t);
uint64_t txn_dns_budget_left_ms(const struct txn *t);
/* Charges the time since since_ms (dns_now_ms) to the budget. */
void txn_dns_charge(struct txn *t, uint64_t since_ms);
/* Case-insensitive lookup of the n-th (0-based) header with this name; NULL when absent. */
const char *txn_header(const struct txn *t, const char *name, size_t n);

/* Adds a symbol. The policy's symbol overrides are applied here, so checks pass only their
 * defaults. reply may be NULL. A name is scored once: added again, it replaces the earlier
 * result of the transaction; and a name a loaded rule defines is the rule's (the rule, the
 * later definition, replaces the check's, as in SpamAssassin), so a check's symbol of that
 * name is not added, unless it carries an action: a check's decision (an SPF fail the policy
 * rejects, say) stands, and the rule's hit only rescores it. */
void txn_add_result(struct txn *t, const char *symbol, double score, enum action action,
    const struct reply *reply);
/* The same for a rule that hit (check_rules.c); a hit of score 0 the policy does not rescore
 * adds nothing (score 0 disables a rule, as in SpamAssassin); learn: how autolearn counts it
 * (struct result_learn above). */
void txn_add_rule_result(struct txn *t, const char *symbol, double score,
    const struct result_learn *learn);
/* The score: the sum of every result that is not shadow. */
double txn_score(const struct txn *t);
/* Outbound mail: from an internal network or a SASL-authenticated client. */
bool txn_is_outbound(const struct txn *t);
void txn_add_authres(struct txn *t, const char *method_result);

#endif
