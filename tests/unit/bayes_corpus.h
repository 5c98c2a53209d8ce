/* bayes_corpus.h - crafted spam and ham for the Bayes tests: each message is made from a
 * seed by a small deterministic generator (topics, phrasings, senders, links, headers), so a
 * training set and a disjoint test set are two seed ranges. No real mail is used. */
#ifndef MW_BAYES_CORPUS_H
#define MW_BAYES_CORPUS_H

#include <stdbool.h>

#include "bayes_tokens.h"

struct corpus_message {
    char body[8192];
    char uri[256];
    const char *uris[1];
    char from[160], to[160], subject[200], message_id[160], received[400], mailer[80];
    struct bayes_header headers[6];
    struct bayes_message msg;
};

/* Fills m with message number seed of the class; the same seed gives the same message. */
void corpus_make(struct corpus_message *m, bool spam, unsigned seed);
/* The message as RFC 5322 text (for the tools and the integration test): returns length. */
int corpus_format(const struct corpus_message *m, char *out, int size);

#endif
