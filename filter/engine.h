/* engine.h - runs the checks registered for each stage and turns their results into a verdict.
 * Decides as early as the facts allow: a forced reject or tempfail at connect, HELO, MAIL FROM
 * or RCPT TO is returned at that stage, before any body is read. Reentrant: one txn per thread;
 * never includes libmilter (milter.c and check_main.c both drive it). */
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

#endif
