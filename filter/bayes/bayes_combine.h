/* bayes_combine.h - from token counts to a spam probability, as SpamAssassin's Bayes:
 * Robinson's f(w) per token (s = 0.030, x = 0.538), the 150 strongest tokens at least 0.346
 * away from 0.5, combined with Fisher's chi-square (Bayes/CombineChi.pm). Pure arithmetic. */
#ifndef MW_BAYES_COMBINE_H
#define MW_BAYES_COMBINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { BAYES_SIGNIFICANT_TOKENS = 150 };
#define BAYES_MIN_PROB_STRENGTH 0.346
#define BAYES_ROBINSON_S 0.030
#define BAYES_ROBINSON_X 0.538

/* A token's probability from its spam and ham counts and the database's nspam, nham; false
 * when it has none (never seen, or nspam/nham is 0). */
bool bayes_token_probability(int64_t spam, int64_t ham, int64_t nspam, int64_t nham, double *prob);

/* Fisher's chi-square combining of probs (already chosen), SpamAssassin's combine(); false
 * when count or nspam + nham is 0. */
bool bayes_chi_combine(int64_t nspam, int64_t nham, const double *probs, size_t count,
    double *score);

/* SpamAssassin's chi2q(x2, halfv): the chi-square upper tail. */
double bayes_chi2q(double x2, size_t halfv);

/* Keeps the probabilities that count (at most BAYES_SIGNIFICANT_TOKENS, strongest first, each
 * at least BAYES_MIN_PROB_STRENGTH from 0.5); sorts probs in place and returns how many stay
 * at its front. order (may be NULL) is permuted alongside. */
size_t bayes_select_significant(double *probs, size_t *order, size_t count);

#endif
