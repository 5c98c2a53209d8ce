/* engine_mta.c - what the MTA glue (milter_session.c) needs to know of a transaction, behind
 * calls: the facts only the MTA tells (its name, a local submission, the queue id whenever it
 * shows up), the reply and header edits of a decision, the action for an internal error, and
 * which header limit a message passed. The glue reads and writes no txn field itself. */
#include "engine.h"

#include "util.h"

void engine_connection_facts(struct txn *t, const char *mta_hostname, bool non_smtp)
{
    if (mta_hostname != NULL && t->mta_hostname == NULL)
        t->mta_hostname = xstrdup(mta_hostname);
    t->non_smtp = non_smtp;
}

void engine_queue_id_seen(struct txn *t, const char *queue_id)
{
    if (t->queue_id == NULL && queue_id != NULL && *queue_id != '\0')
        t->queue_id = xstrdup(queue_id);
}

const char *engine_queue_id(const struct txn *t)
{
    return t->queue_id != NULL ? t->queue_id : "NOQUEUE";
}

const struct reply *engine_reply(const struct txn *t)
{
    return &t->verdict.reply;
}

const struct verdict *engine_verdict(const struct txn *t)
{
    return &t->verdict;
}

enum action engine_error_action(const struct txn *t)
{
    if (t != NULL)
        return t->cfg->actions.on_error;
    struct config *cfg = config_current();
    enum action action = cfg ? cfg->actions.on_error : ACTION_TEMPFAIL;
    config_release(cfg);
    return action;
}

const char *engine_header_limit_passed(const struct txn *t, const char **symbol)
{
    *symbol = t->header_count_passed ? "HEADER_COUNT_LIMIT" : "HEADER_BYTES_LIMIT";
    return t->header_count_passed ? "limits.max_headers"
                                  : "limits.max_header_bytes or limits.max_checked_header_bytes";
}

uint64_t engine_body_bytes(const struct txn *t)
{
    return t->body_bytes;
}
