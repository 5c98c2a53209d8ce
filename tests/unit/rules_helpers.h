/* rules_helpers.h - what the rules and message unit tests share: a ruleset loaded from text,
 * a collector of the rules that hit (name and score), and a message written as text split
 * into its header fields and body. Test code only; failures are cmocka failures. */
#ifndef MW_RULES_HELPERS_H
#define MW_RULES_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "header.h"
#include "rules.h"

/* Reads text as the rule file "test" and finishes the set. */
struct ruleset *rules_helper_load(const char *text);

/* The rules that hit, in order: the first RULES_HELPER_HITS_MAX kept (enough for any test). */
#define RULES_HELPER_HITS_MAX 64
struct rules_helper_hits {
    char names[RULES_HELPER_HITS_MAX][64];
    double scores[RULES_HELPER_HITS_MAX];
    size_t n;
};
/* A rules_hit_fn: arg is a struct rules_helper_hits. */
void rules_helper_collect(const struct rules_hit *hit, void *arg);
bool rules_helper_has(const struct rules_helper_hits *h, const char *name);
/* The score rule `name` hit with; fails the test when it did not hit. */
double rules_helper_score_of(const struct rules_helper_hits *h, const char *name);

/* A message given as text ("\n" line ends, len bytes, NULs allowed): the header fields up to
 * the first empty line, folding kept, each value as it follows "Name:" (blanks not removed:
 * callers trim as they need), and the body after the empty line. Lines with no colon are not
 * fields (counted in lines_without_colon). */
struct message_text {
    struct header_field *fields;
    size_t count;
    size_t lines_without_colon;
    const char *body;
    size_t body_len;
    char *copy;                /* fields and body point into it */
};
void message_text_split(struct message_text *m, const char *text, size_t len);
void message_text_free(struct message_text *m);

#endif
