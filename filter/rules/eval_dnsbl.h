/* eval_dnsbl.h - what the DNS list plugins share (DNSEval, URIDNSBL, AskDNS): SpamAssassin's
 * subtests of a list's answer (Dns.pm check_subtest: a regex, a bit mask on a 127.x.y.z
 * address, or the exact answer), and a zone name as written ("zen.spamhaus.org." -> without
 * the dot). Private to filter/rules. */
#ifndef MW_EVAL_DNSBL_H
#define MW_EVAL_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules_evalfn.h"

struct dnsbl_subtest {
    enum { SUBTEST_ANY, SUBTEST_REGEX, SUBTEST_MASK, SUBTEST_EXACT } kind;
    pcre2_code *regex;
    uint32_t mask;
    char *exact;
};

/* Parses a subtest (NULL: any answer). False when a regex does not compile. */
bool dnsbl_subtest_parse(const char *text, struct dnsbl_subtest *out);
void dnsbl_subtest_free(struct dnsbl_subtest *st);
/* Whether one answer record passes it. */
bool dnsbl_subtest_match(struct eval_ctx *ctx, const struct dnsbl_subtest *st,
    const char *record);
/* Whether an A record is a list's answer (127.0.0.0/8), as SpamAssassin requires. */
bool dnsbl_a_listed(const char *record);
/* zone without its final dots, into out. */
void dnsbl_zone(const char *zone, char *out, size_t size);
/* Whether any record of the answer to (name, type) passes the subtest; answers of type A must
 * be in 127.0.0.0/8. */
bool dnsbl_answer_hits(struct eval_ctx *ctx, const char *name, int type,
    const struct dnsbl_subtest *st);

/* Whether the rule's tflags, as last written, include word (a plugin's own flag). */
bool rule_has_tflag(const struct ruleset *rs, const char *rule, const char *word);

#endif
