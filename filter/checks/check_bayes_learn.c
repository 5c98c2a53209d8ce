/* check_bayes_learn.c - Bayes autolearn at the end of the message, after every check that
 * scores: SpamAssassin 4.0's AutoLearnThreshold with PerMsgStatus's _get_autolearn_points.
 * The points that count are, for each scored result but noautolearn/userconf rules and the
 * learner's own (tflags learn, BAYES_xx), its points in the score set without the Bayes bit
 * (txn.h struct result_learn: a rule's set & ~2 score; a check's score), the total rounded to
 * thousandths; each result's header and body shares of them (a meta's split rounded to
 * thousandths) make the header and body points. A message at or above
 * bayes.autolearn_threshold_spam is learnt as spam only with at least 3 header and 3 body
 * points (a rule with tflags autolearn_force waives both) and unless Bayes itself said ham
 * (the learner's points, in the message's own set, below -1); one below
 * bayes.autolearn_threshold_ham is learnt as ham unless Bayes said spam (above +1). The
 * tokens are the ones check_bayes classified (bayes_result.h); they go into the same database
 * (per_user: every recipient's). SpamAssassin's is_spam() (the whole score at or above its
 * required_score) is mailwarden's "acted on as spam": the message's score at or above the
 * lowest score threshold in force for its recipients (actions or actions.domains: add_header,
 * quarantine, tempfail, reject; 5 to add headers in the shipped policy, SpamAssassin's
 * required_score); a spam is learnt only when it is, a ham only when it is not. With
 * bayes.autolearn_on_error (bayes_auto_learn_on_error) a spam that already got BAYES_99 and a
 * ham that already got BAYES_00 are not learnt again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_db.h"
#include "bayes_policy.h"
#include "bayes_result.h"
#include "check.h"
#include "config.h"
#include "log.h"

/* SpamAssassin's minimum header and body points for a spam autolearn (AutoLearnThreshold.pm) */
#define AUTOLEARN_MIN_HEADER_POINTS 3.0
#define AUTOLEARN_MIN_BODY_POINTS 3.0
/* Bayes's own opinion that vetoes an autolearn the other way */
#define LEARNER_SAID_HAM_POINTS -1.0
#define LEARNER_SAID_SPAM_POINTS 1.0

/* A learner's result: a rule with tflags learn, or check_bayes's own BAYES_xx. */
static bool is_learner(const struct result *r)
{
    return (r->learn.flags & RESULT_LEARNER) != 0 || strncmp(r->symbol, "BAYES_", 6) == 0;
}

struct autolearn_points {
    double points;             /* without the learner's and noautolearn results */
    double header_points;      /* of those, the header points */
    double body_points;        /* ... and the body points */
    double learned_points;     /* the learner's own */
    bool forced;               /* a rule with tflags autolearn_force hit */
};

/* Perl's sprintf "%0.3f" read back as a number, as SpamAssassin rounds. */
static double thousandths(double x)
{
    char text[64];
    snprintf(text, sizeof text, "%.3f", x);
    return strtod(text, NULL);
}

/* A result's header or body points: all or nothing, or a meta's share rounded. */
static double share_of(double points, double share)
{
    if (share <= 0)
        return 0;
    if (share >= 1)
        return points;
    return thousandths(points * share);
}

/* SpamAssassin's _get_autolearn_points over the results that are scored. */
static void autolearn_points(const struct txn *t, struct autolearn_points *out)
{
    *out = (struct autolearn_points){ 0 };
    for (size_t i = 0; i < t->result_count; i++) {
        const struct result *r = &t->results[i];
        if (r->shadow || (r->learn.flags & RESULT_NOAUTOLEARN))
            continue;
        if (is_learner(r)) {
            out->learned_points += r->score;      /* the message's own set */
            continue;
        }
        if (r->learn.flags & RESULT_AUTOLEARN_FORCE)
            out->forced = true;
        double points = r->learn.score;
        if (points == 0)
            continue;                             /* 0 in the set without Bayes */
        out->points += points;
        out->header_points += share_of(points, r->learn.header_share);
        out->body_points += share_of(points, r->learn.body_share);
    }
    out->points = thousandths(out->points);
}

/* SpamAssassin's is_spam(): the message's whole score (Bayes included) reaches the lowest
 * score threshold in force for it; with none set nothing is spam. */
static bool scored_as_spam(const struct txn *t)
{
    struct score_thresholds th;
    config_thresholds(t->cfg, t->rcpts, t->rcpt_count, &th);
    const double each[] = {th.add_header, th.quarantine, th.tempfail, th.reject};
    double lowest = 0;
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
        if (each[i] > 0 && (lowest == 0 || each[i] < lowest))
            lowest = each[i];
    }
    return lowest > 0 && txn_score(t) >= lowest;
}

static bool has_result(const struct txn *t, const char *symbol)
{
    for (size_t i = 0; i < t->result_count; i++) {
        if (strcmp(t->results[i].symbol, symbol) == 0)
            return true;
    }
    return false;
}

/* AutoLearnThreshold's decision: 1 spam, 0 ham, -1 nothing to learn. */
static int autolearn_decision(const struct bayes_policy *p, const struct autolearn_points *a,
    const struct txn *t)
{
    bool spam;
    if (a->points < p->autolearn_ham) {
        if (a->learned_points > LEARNER_SAID_SPAM_POINTS || scored_as_spam(t))
            return -1;
        spam = false;
    } else if (a->points >= p->autolearn_spam) {
        if (!a->forced && (a->body_points < AUTOLEARN_MIN_BODY_POINTS
                || a->header_points < AUTOLEARN_MIN_HEADER_POINTS))
            return -1;
        if (a->learned_points < LEARNER_SAID_HAM_POINTS || !scored_as_spam(t))
            return -1;
        spam = true;
    } else {
        return -1;
    }
    if (p->autolearn_on_error && has_result(t, spam ? "BAYES_99" : "BAYES_00"))
        return -1;
    return spam ? 1 : 0;
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
    struct autolearn_points a;
    autolearn_points(t, &a);
    int decision = autolearn_decision(p, &a, t);
    if (decision < 0)
        return;
    bool spam = decision == 1;
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
