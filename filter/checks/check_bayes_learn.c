/* check_bayes_learn.c - Bayes autolearn at the end of the message, after every check that
 * scores: SpamAssassin's AutoLearnThreshold. The points that count are the message's score
 * without the BAYES_xx symbols (tflags learn); a message at or above
 * bayes.autolearn_threshold_spam is learnt as spam, below bayes.autolearn_threshold_ham as
 * ham, unless Bayes itself disagreed (its own points below -1 for spam, above +1 for ham), as
 * SpamAssassin does. The tokens are the ones check_bayes classified (bayes_result.h); they go
 * into the same database (per_user: every recipient's). SpamAssassin's further demand of 3
 * header and 3 body points for spam is not applied (results carry no rule type). */
#include <stdio.h>
#include <string.h>

#include "bayes_db.h"
#include "bayes_policy.h"
#include "bayes_result.h"
#include "check.h"
#include "log.h"

static bool is_bayes_symbol(const char *symbol)
{
    return strncmp(symbol, "BAYES_", 6) == 0;
}

static void learn_into(struct txn *t, const struct bayes_policy *p, const char *name,
    const struct bayes_tokens *tokens, bool spam)
{
    struct bayes_db db;
    if (!bayes_db_init(&db, p->store, name, p->token_ttl_ms, p->seen_ttl_ms))
        return;
    enum bayes_learn_outcome outcome;
    if (bayes_db_learn(&db, tokens, spam, &outcome) != STORE_OK) {
        log_warn("bayes: autolearn of %s as %s failed: the store %s did not answer",
            t->queue_id != NULL ? t->queue_id : "(no queue id)", spam ? "spam" : "ham",
            store_describe(p->store));
        return;
    }
    log_info("bayes: autolearn %s as %s into \"%s\"%s",
        t->queue_id != NULL ? t->queue_id : "(no queue id)", spam ? "spam" : "ham", name,
        outcome == BAYES_ALREADY_LEARNT ? " (already learnt)" : "");
    if (p->max_tokens > 0 && p->expire_interval_ms > 0) {
        /* size expiry at most once per interval per database: a marker with that TTL */
        char key[STORE_KEY_MAX + 1];
        int64_t runs = 0;
        snprintf(key, sizeof key, "%sexpiry", db.prefix);
        if (store_counter_add(p->store, key, 1, 0, &runs, NULL) == STORE_OK && runs == 1) {
            (void)store_counter_add(p->store, key, 0, p->expire_interval_ms, NULL, NULL);
            uint64_t kept = 0, removed = 0;
            if (bayes_db_expire(&db, p->max_tokens, &kept, &removed) == STORE_OK && removed > 0)
                log_info("bayes: expiry of \"%s\": %llu tokens removed, %llu kept", name,
                    (unsigned long long)removed, (unsigned long long)kept);
        }
    }
}

static void bayes_learn_run(struct txn *t, enum stage stage)
{
    (void)stage;
    const struct bayes_policy *p = t->cfg->bayes;
    if (p == NULL || !p->enabled || !p->autolearn || p->store == NULL)
        return;
    const struct bayes_txn_state *s = bayes_result(t);
    if (s == NULL || s->tokens.count == 0)
        return;
    double points = 0, learned_points = 0;
    for (size_t i = 0; i < t->result_count; i++) {
        const struct result *r = &t->results[i];
        if (r->shadow)
            continue;
        if (is_bayes_symbol(r->symbol))
            learned_points += r->score;
        else
            points += r->score;
    }
    bool spam;
    if (points >= p->autolearn_spam && learned_points >= -1.0)
        spam = true;
    else if (points < p->autolearn_ham && learned_points <= 1.0)
        spam = false;
    else
        return;
    if (!p->per_user || t->rcpt_count == 0) {
        learn_into(t, p, BAYES_GLOBAL_DB, &s->tokens, spam);
        return;
    }
    for (size_t i = 0; i < t->rcpt_count; i++)
        learn_into(t, p, t->rcpts[i], &s->tokens, spam);
}

const struct check check_bayes_learn = {
    .name = "bayes_learn",
    .stages = STAGE_BIT(STAGE_EOM),
    .run = bayes_learn_run,
    .flags = CHECK_EVEN_WHEN_ALLOWED,
};
