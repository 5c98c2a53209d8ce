/* bayes_classify.c - scan a message's tokens against a database (bayes_classify.h). */
#include <stdlib.h>
#include <string.h>

#include "bayes_classify.h"
#include "bayes_combine.h"
#include "util.h"

enum store_status bayes_classify(const struct bayes_db *db, const struct bayes_tokens *tokens,
    int64_t min_spam, int64_t min_ham, struct bayes_verdict *out)
{
    *out = (struct bayes_verdict){ .tokens = tokens->count };
    int64_t (*counts)[2] = xcalloc(tokens->count + 1, sizeof *counts);
    enum store_status st = bayes_db_read(db, tokens, &out->nspam, &out->nham, counts);
    if (st != STORE_OK || out->nspam < min_spam || out->nham < min_ham
        || out->nspam <= 0 || out->nham <= 0 || tokens->count == 0) {
        free(counts);
        return st;
    }
    double *probs = xmalloc(tokens->count * sizeof *probs);
    size_t *order = xmalloc(tokens->count * sizeof *order);
    size_t known = 0;
    for (size_t i = 0; i < tokens->count; i++) {
        double p;
        if (!bayes_token_probability(counts[i][0], counts[i][1], out->nspam, out->nham, &p))
            continue;
        probs[known] = p;
        order[known] = i;
        known++;
    }
    free(counts);
    if (st == STORE_OK) {
        out->learned = known;
        size_t keep = bayes_select_significant(probs, order, known);
        out->significant = keep;
        double score;
        if (keep > 0 && bayes_chi_combine(out->nspam, out->nham, probs, keep, &score)) {
            out->scored = true;
            out->probability = score;
            unsigned char (*keys)[BAYES_KEY_LEN] = xmalloc(keep * sizeof *keys);
            for (size_t i = 0; i < keep; i++)
                memcpy(keys[i], tokens->items[order[i]].key, BAYES_KEY_LEN);
            (void)bayes_db_touch(db, (const unsigned char (*)[BAYES_KEY_LEN])keys, keep);
            free(keys);
        }
    }
    free(order);
    free(probs);
    return st;
}

bool bayes_in_range(double probability, double lo, double hi)
{
    return (lo == 0 || probability > lo) && probability <= hi;
}

size_t bayes_rule_names(double p, const char *names[2])
{
    static const struct {
        const char *name;
        double lo, hi;
    } ranges[] = {
        { "BAYES_00", 0.00, 0.01 }, { "BAYES_05", 0.01, 0.05 }, { "BAYES_20", 0.05, 0.20 },
        { "BAYES_40", 0.20, 0.40 }, { "BAYES_50", 0.40, 0.60 }, { "BAYES_60", 0.60, 0.80 },
        { "BAYES_80", 0.80, 0.95 }, { "BAYES_95", 0.95, 0.99 }, { "BAYES_99", 0.99, 1.00 },
        { "BAYES_999", 0.999, 1.00 },
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0] && n < 2; i++) {
        if (bayes_in_range(p, ranges[i].lo, ranges[i].hi))
            names[n++] = ranges[i].name;
    }
    return n;
}
