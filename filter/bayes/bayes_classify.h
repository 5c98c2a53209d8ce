/* bayes_classify.h - a message's spam probability from a database: SpamAssassin's scan()
 * (Plugin/Bayes.pm): nothing until the database holds min_spam spam and min_ham ham, then
 * each token's probability, the strongest 150, chi-square combined; the tokens used have
 * their age renewed. */
#ifndef MW_BAYES_CLASSIFY_H
#define MW_BAYES_CLASSIFY_H

#include "bayes_db.h"
#include "bayes_tokens.h"

struct bayes_verdict {
    bool scored;             /* false: too few messages learnt, or no token known */
    double probability;      /* 0..1 when scored */
    int64_t nspam, nham;
    size_t tokens;           /* in the message */
    size_t learned;          /* of them known to the database */
    size_t significant;      /* used in the combination */
};

enum store_status bayes_classify(const struct bayes_db *db, const struct bayes_tokens *tokens,
    int64_t min_spam, int64_t min_ham, struct bayes_verdict *out);

/* The BAYES_xx rule of a probability, as 23_bayes.cf's check_bayes ranges: (lo, hi], with
 * lo = 0 inclusive. Writes up to two names (BAYES_99 and BAYES_999 both hit above 0.999);
 * returns how many. */
size_t bayes_rule_names(double probability, const char *names[2]);

/* check_bayes(lo, hi) of SpamAssassin: whether the probability is in (lo, hi] (lo = 0: [0, hi]). */
bool bayes_in_range(double probability, double lo, double hi);

#endif
