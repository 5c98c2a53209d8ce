/* engine.h - runs the checks registered for each stage and turns their results into a verdict.
 * Decides as early as the facts allow: a forced reject or tempfail at connect, HELO, MAIL FROM
 * or RCPT TO is returned at that stage, before any body is read. Reentrant: one txn per thread;
 * knows no MTA protocol (milter_session.c and check_main.c both drive it). */
#ifndef MW_ENGINE_H
#define MW_ENGINE_H

#include "txn.h"

/* Each returns the action decided at this stage (ACTION_NONE: go on); the reply to give is
 * then in t->verdict.reply. */
enum action engine_connect(struct txn *t, const char *client_name, const struct ipaddr *addr);
enum action engine_helo(struct txn *t, const char *helo);
/* queue_id may be NULL: Postfix tells it only from DATA on. cfg is the configuration the new
 * transaction runs on (the caller's reference, handed over: the glue passes config_current(),
 * so a reload applies from the next MAIL FROM on); NULL keeps the connection's. */
enum action engine_mail(struct txn *t, struct config *cfg, const char *queue_id, const char *sender,
    const char *sasl_user, const char *sasl_method);
/* A REJECT or TEMPFAIL here refuses only this recipient. */
enum action engine_rcpt(struct txn *t, const char *rcpt);
/* Returns false when the header was not kept because a limit was reached. */
bool engine_header(struct txn *t, const char *name, const char *value);
enum action engine_eoh(struct txn *t);
void engine_body(struct txn *t, const unsigned char *data, size_t len);
/* The final verdict, with header edits, in t->verdict. */
enum action engine_eom(struct txn *t);
/* The MTA ended the transaction early (RSET, QUIT, a refusal); logs a transaction whose
 * recipients were all refused, and keeps the connection facts. */
void engine_abort(struct txn *t);
/* Writes the one summary line of a transaction that ended (EOM, early refusal or abort). */
void engine_log_summary(struct txn *t, const char *how);

/* For the MTA glue (engine_mta.c), which touches no txn field itself. Facts only the MTA
 * tells: its name (macro j) and whether this is a local (non-SMTP) submission; the queue id
 * whenever it first shows up (kept once set). */
void engine_connection_facts(struct txn *t, const char *mta_hostname, bool non_smtp);
void engine_queue_id_seen(struct txn *t, const char *queue_id);
/* The queue id, or "NOQUEUE". */
const char *engine_queue_id(const struct txn *t);
/* The reply of the action a stage returned; the verdict (with header edits) after eom. */
const struct reply *engine_reply(const struct txn *t);
const struct verdict *engine_verdict(const struct txn *t);
/* Whether a connection on this policy can get anything but "go on" at this stage (connect or
 * HELO): a check that can refuse there (check.h, may_refuse), or, at connect, the ACCEPT of a
 * networks.skip client. The milter glue lets the MTA skip waiting for the stage's reply when
 * not. */
bool engine_may_refuse_at(const struct config *cfg, enum stage stage);
/* actions.on_error of t's policy, or of the policy in force when t is NULL. */
enum action engine_error_action(const struct txn *t);
/* After engine_header returned false: the limit passed (option names) and its symbol. */
const char *engine_header_limit_passed(const struct txn *t, const char **symbol);
uint64_t engine_body_bytes(const struct txn *t);

#endif
