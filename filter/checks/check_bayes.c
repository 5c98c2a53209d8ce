/* check_bayes.c - the Bayes classifier at the end of the message, before the rules: the
 * message's tokens (bayes_view.h) against the database of the `bayes` section (the global one,
 * or the first recipient's with database = "per_user"), kept in this check's slot for the
 * rules' check_bayes and for autolearn (bayes_result.h). It adds the BAYES_xx symbol of the
 * probability with SpamAssassin's scores (score set 3, Bayes and network tests on), unless the
 * loaded rules define that name (then the rule is the one that scores, as for any symbol).
 * A database that cannot be read adds nothing and is logged: Bayes is advice, never a reason
 * to defer mail. Outbound and locally submitted mail is not classified. */
#include <stdlib.h>
#include <string.h>

#include "bayes_db.h"
#include "bayes_policy.h"
#include "bayes_relays.h"
#include "bayes_result.h"
#include "bayes_view.h"
#include "check.h"
#include "log.h"
#include "message_view.h"
#include "rules.h"
#include "util.h"

extern const struct check check_bayes;

/* 50_scores.cf, fourth column (score set 3). */
static double bayes_default_score(const char *name)
{
    static const struct {
        const char *name;
        double score;
    } scores[] = {
        { "BAYES_00", -1.9 }, { "BAYES_05", -0.5 }, { "BAYES_20", -0.001 },
        { "BAYES_40", -0.001 }, { "BAYES_50", 0.8 }, { "BAYES_60", 1.5 }, { "BAYES_80", 2.0 },
        { "BAYES_95", 3.0 }, { "BAYES_99", 3.5 }, { "BAYES_999", 0.2 },
    };
    for (size_t i = 0; i < sizeof scores / sizeof scores[0]; i++) {
        if (strcmp(scores[i].name, name) == 0)
            return scores[i].score;
    }
    return 0;
}

static const char *database_name(const struct txn *t, const struct bayes_policy *p)
{
    if (p->per_user && t->rcpt_count > 0 && t->rcpts[0] != NULL && t->rcpts[0][0] != '\0')
        return t->rcpts[0];
    return BAYES_GLOBAL_DB;
}

static void bayes_run(struct txn *t, enum stage stage)
{
    (void)stage;
    const struct bayes_policy *p = t->cfg->bayes;
    if (p == NULL || !p->enabled || p->store == NULL || txn_is_outbound(t) || t->non_smtp)
        return;
    struct bayes_txn_state *s = xcalloc(1, sizeof *s);
    *txn_check_state(t, &check_bayes) = s;
    struct rules_limits limits;
    rules_limits_default(&limits);
    size_t cap = t->cfg->rules != NULL ? t->cfg->rules->limits.header_bytes : limits.header_bytes;
    const struct message_view *view = message_view_get(t);
    struct bayes_relay_info relays;
    bayes_relays_of_txn(t, &relays);
    bayes_tokenize_view(view, t->headers, t->header_count, cap, &relays.meta, &s->tokens);
    bayes_relays_free(&relays);
    s->classified = true;
    struct bayes_db db;
    const char *name = database_name(t, p);
    if (!bayes_db_init(&db, p->store, name, p->token_ttl_ms, p->seen_ttl_ms)) {
        log_warn("bayes: no database for recipient \"%s\" (empty, too long or a control "
            "character); not classified", name);
        return;
    }
    if (bayes_classify(&db, &s->tokens, p->min_spam, p->min_ham, &s->verdict) != STORE_OK) {
        log_warn("bayes: the store %s did not answer; message %s not classified",
            store_describe(p->store), t->queue_id != NULL ? t->queue_id : "(no queue id)");
        s->verdict.scored = false;
        return;
    }
    /* SpamAssassin's is_scan_available: the database has learnt enough, whatever this message
     * gives; the rules then score with a Bayes score set (rules.h) */
    s->scan_available = s->verdict.nspam >= p->min_spam && s->verdict.nham >= p->min_ham
        && s->verdict.nspam > 0 && s->verdict.nham > 0;
    if (!s->verdict.scored)
        return;
    const char *names[2];
    size_t n = bayes_rule_names(s->verdict.probability, names);
    for (size_t i = 0; i < n; i++)
        txn_add_result(t, names[i], bayes_default_score(names[i]), ACTION_NONE, NULL);
}

static void bayes_txn_end(struct txn *t, void *state)
{
    (void)t;
    struct bayes_txn_state *s = state;
    bayes_tokens_free(&s->tokens);
    free(s);
}

const struct check check_bayes = {
    .name = "bayes",
    .stages = STAGE_BIT(STAGE_EOM),
    .run = bayes_run,
    .txn_end = bayes_txn_end,
};
