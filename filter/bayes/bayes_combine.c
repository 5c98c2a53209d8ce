/* bayes_combine.c - token probabilities and their chi-square combination (bayes_combine.h),
 * the arithmetic of SpamAssassin's Plugin/Bayes.pm (_compute_prob_for_all_tokens) and
 * Bayes/CombineChi.pm, including its underflow guard (frexp below 1e-200). */
#include <math.h>
#include <stdlib.h>

#include "bayes_combine.h"

bool bayes_token_probability(int64_t spam, int64_t ham, int64_t nspam, int64_t nham, double *prob)
{
    if (nspam <= 0 || nham <= 0 || spam < 0 || ham < 0 || spam + ham < 1)
        return false;
    double s = (double)spam, n = (double)ham;
    double p = (s * (double)nham) / (n * (double)nspam + s * (double)nham);
    double robn = s + n;
    *prob = (BAYES_ROBINSON_S * BAYES_ROBINSON_X + robn * p) / (BAYES_ROBINSON_S + robn);
    return true;
}

double bayes_chi2q(double x2, size_t halfv)
{
    double m = x2 / 2.0;
    double term = exp(-m), sum = term;
    for (size_t i = 1; i < halfv; i++) {
        term *= m / (double)i;
        sum += term;
    }
    return sum < 1.0 ? sum : 1.0;
}

bool bayes_chi_combine(int64_t nspam, int64_t nham, const double *probs, size_t count,
    double *score)
{
    if (count == 0 || nspam + nham <= 0)
        return false;
    double total = (double)(nspam + nham);
    double S = (double)nspam / total, H = (double)nham / total;
    int s_exp = 0, h_exp = 0;
    for (size_t i = 0; i < count; i++) {
        S *= 1.0 - probs[i];
        H *= probs[i];
        if (S < 1e-200) {
            int e = 0;
            S = frexp(S, &e);
            s_exp += e;
        }
        if (H < 1e-200) {
            int e = 0;
            H = frexp(H, &e);
            h_exp += e;
        }
    }
    /* log(0) is -inf, as in Perl: chi2q(inf) is 0, so that side counts as certain */
    double ls = log(S) + s_exp * M_LN2;
    double lh = log(H) + h_exp * M_LN2;
    double cs = 1.0 - bayes_chi2q(-2.0 * ls, count);
    double ch = 1.0 - bayes_chi2q(-2.0 * lh, count);
    *score = ((cs - ch) + 1.0) / 2.0;
    return true;
}

struct ranked {
    double prob;
    size_t order;
};

static int by_strength(const void *a, const void *b)
{
    double sa = fabs(((const struct ranked *)a)->prob - 0.5);
    double sb = fabs(((const struct ranked *)b)->prob - 0.5);
    if (sa > sb)
        return -1;
    if (sa < sb)
        return 1;
    return 0;
}

size_t bayes_select_significant(double *probs, size_t *order, size_t count)
{
    if (count == 0)
        return 0;
    struct ranked *r = malloc(count * sizeof *r);
    if (r == NULL)
        abort();
    for (size_t i = 0; i < count; i++) {
        r[i].prob = probs[i];
        r[i].order = order != NULL ? order[i] : i;
    }
    qsort(r, count, sizeof *r, by_strength);
    size_t keep = 0;
    for (size_t i = 0; i < count && i < BAYES_SIGNIFICANT_TOKENS; i++) {
        if (fabs(r[i].prob - 0.5) < BAYES_MIN_PROB_STRENGTH)
            continue;
        probs[keep] = r[i].prob;
        if (order != NULL)
            order[keep] = r[i].order;
        keep++;
    }
    free(r);
    return keep;
}
