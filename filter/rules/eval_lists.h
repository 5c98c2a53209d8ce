/* eval_lists.h - what the list plugins share (WLBLEval, SPF, DKIM, FreeMail,
 * WelcomeListSubject): address lists built from the directives SpamAssassin keeps in its Conf
 * (welcomelist_from, def_welcomelist_auth, enlist_addrlist (NAME) ..., with the old
 * whitelist_* names as aliases and the un* directives removing entries, in file order), their
 * glob patterns (* and ?, case-insensitive, anchored), and the addresses of a message they are
 * matched against (SpamAssassin's all_from_addrs / all_to_addrs). Private to filter/rules. */
#ifndef MW_EVAL_LISTS_H
#define MW_EVAL_LISTS_H

#include <stdbool.h>
#include <stddef.h>

#include "header_addrs.h"
#include "rules_evalfn.h"

/* One entry: an address pattern (lower case) and, for the *_rcvd and *_dkim lists, the
 * domains (or [ip/len]) it is paired with ("" for a *_dkim entry without a domain). */
struct list_entry {
    char *pattern;
    char **domains;
    size_t domain_count;
};

struct addr_patterns {
    struct list_entry *entry;
    size_t count;
};

/* The list `name` ("welcomelist_from", "def_welcomelist_auth", "welcomelist_from_rcvd",
 * "BANKS" for enlist_addrlist (BANKS) ...) as the ruleset's directives leave it. */
void list_build(const struct ruleset *rs, const char *name, struct addr_patterns *out);
void list_free(struct addr_patterns *list);

/* SpamAssassin's glob: * any run, ? one character, the rest literal; case-insensitive, whole
 * text. */
bool glob_match(const char *pattern, const char *text);
/* The first entry of list whose pattern matches addr; NULL when none. */
const struct list_entry *list_match(const struct addr_patterns *list, const char *addr);

/* The message's sender addresses: Resent-From's first field if any, else From,
 * Envelope-Sender, Resent-Sender, X-Envelope-From and the envelope sender; lower case, no
 * repeats. Free out with addr_list_free. */
void eval_from_addrs(struct eval_ctx *ctx, struct addr_list *out);
/* The recipient addresses SpamAssassin's all_to_addrs reads. */
void eval_to_addrs(struct eval_ctx *ctx, struct addr_list *out);
/* The addresses of every `name` field (lower case), or of the envelope sender for
 * "EnvelopeFrom"; out must be freed with addr_list_free. */
void eval_header_addrs(struct eval_ctx *ctx, const char *name, struct addr_list *out);

#endif
