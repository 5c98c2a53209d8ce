/* pattern.h - the one pattern language of every list an admin writes (access rules, the DKIM
 * signing table and dkim.users, actions.domains, rate-limit exemptions, spf.allow_*), compiled
 * once at policy load and matched per message. mailwarden.conf(5), PATTERNS, is the reference:
 *
 *   user@example.com    that address (local part and domain compared without ASCII case)
 *   user@               that local part at any domain
 *   @example.com        any address at that domain exactly
 *   example.com         the domain exactly
 *   .example.com        the subdomains of example.com, not example.com itself
 *   *.example.com       the same as .example.com
 *   *                   every value, the null sender included
 *   <>                  the null sender
 *   192.0.2.0/24        a network (lists of clients only; cidr.c parses and matches)
 *   alice               in a list of SASL users: alice, and alice@ any realm
 *   !pattern            not: the first pattern that matches decides, so !x before *
 *   file:/path          the patterns of a file, one a line, # comments, read at load
 *
 * Pure: no transaction, no configuration; files are opened with policy_file.c. A compiled
 * list is immutable and may be read by every thread. */
#ifndef MW_PATTERN_H
#define MW_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

/* What a list's values are: it decides which forms the list accepts. */
enum pattern_subject {
    PATTERN_ADDRESSES,         /* envelope or header addresses; "" is the null sender */
    PATTERN_DOMAINS,           /* domains and host names (HELO) */
    PATTERN_SASL_USERS,        /* login names, "alice" or "alice@realm" */
    PATTERN_NETWORKS,          /* client addresses */
};

enum pattern_form {
    PATTERN_ANY,               /* "*" */
    PATTERN_NULL_SENDER,       /* "<>" */
    PATTERN_ADDRESS,           /* "user@example.com"; a SASL list's "alice@realm" */
    PATTERN_LOCAL_PART,        /* "user@" */
    PATTERN_DOMAIN,            /* "example.com", "@example.com"; a SASL list's "@realm" */
    PATTERN_SUBDOMAINS,        /* ".example.com", "*.example.com" */
    PATTERN_USER,              /* a SASL list's "alice" */
    PATTERN_NETWORK,           /* "192.0.2.0/24", "2001:db8::/32", "192.0.2.1" */
};

struct pattern {
    enum pattern_form form;
    bool negated;
    char *text;                /* as written, lower case (a network as written) */
    const char *value;         /* into text: what is compared ("example.com", ".example.com") */
    struct cidr net;           /* PATTERN_NETWORK */
};

struct pattern_list {
    enum pattern_subject subject;
    struct pattern *items;
    size_t count;
};

/* Where compile errors go: FILE and LINE of the bad value (a pattern file's own line for a
 * value read from one), REASON says what is wrong and how to write it. */
typedef void pattern_report_fn(void *ctx, const char *file, int line, const char *reason);

void pattern_list_init(struct pattern_list *list, enum pattern_subject subject);
void pattern_list_free(struct pattern_list *list);

/* Compiles one value written at FILE:LINE and appends it ("file:/path" appends the file's
 * patterns). Returns false after reporting each bad value; good values are kept. */
bool pattern_list_add(struct pattern_list *list, const char *text, const char *file, int line,
    pattern_report_fn *report, void *ctx);
/* Appends the patterns of the file at PATH (one a line, blank lines and # comments skipped),
 * named at FILE:LINE; NEGATED turns each of them around (as "!file:PATH"). */
bool pattern_list_add_file(struct pattern_list *list, const char *path, bool negated,
    const char *file, int line, pattern_report_fn *report, void *ctx);
/* A non-empty list of negations only matches nothing: almost certainly a mistake. */
bool pattern_list_only_negations(const struct pattern_list *list);

/* Whether the list matches the value: the first pattern that matches decides (a negated one
 * says no); none matching says no. NULL never matches. */
bool pattern_match_address(const struct pattern_list *list, const char *address);
bool pattern_match_domain(const struct pattern_list *list, const char *domain);
bool pattern_match_sasl_user(const struct pattern_list *list, const char *user);
bool pattern_match_ip(const struct pattern_list *list, const struct ipaddr *addr);

#endif
