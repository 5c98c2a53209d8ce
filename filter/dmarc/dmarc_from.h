/* dmarc_from.h - the RFC5322.From domain for DMARC (RFC 9989 section 4.4), taken from the
 * message's From header fields as an attacker wrote them. Promises: every input ends in one
 * defined outcome (never a silent skip, never a guess): exactly one field with exactly one
 * address is DMARC_FROM_ONE with its domain lower-cased, a U-label as its A-label (RFC 9989
 * section 5.3.1); several fields, several addresses,
 * a group, no address, a domain we cannot evaluate and anything unparseable each have their
 * own outcome. Linear in the input, no allocation, bounded nesting of comments. An encoded
 * word (RFC 2047) is display text and never an address. */
#ifndef MW_DMARC_FROM_H
#define MW_DMARC_FROM_H

#include <stdbool.h>
#include <stddef.h>

enum dmarc_from_outcome {
    DMARC_FROM_ONE,               /* one field, one mailbox: domain is the Author Domain */
    DMARC_FROM_NO_FIELD,          /* the message has no From field */
    DMARC_FROM_SEVERAL_FIELDS,    /* more than one From field (domains: all of them) */
    DMARC_FROM_SEVERAL_ADDRESSES, /* one field, more than one mailbox (domains: all) */
    DMARC_FROM_GROUP,             /* a group ("name: a@b;"), even an empty one (domains: its members) */
    DMARC_FROM_NO_ADDRESS,        /* no mailbox: empty, a display name alone, "<>" */
    DMARC_FROM_BAD_DOMAIN,        /* one mailbox whose domain is a literal ([192.0.2.1]) or
                                   * not a domain name (empty label, over 253 characters,
                                   * bad UTF-8, an A-label over 63) */
    DMARC_FROM_UNPARSEABLE,       /* not RFC 5322 (nor its obs- syntax): a stray '>', an
                                   * unterminated quote, comment or angle address, a control
                                   * character, comments nested too deep */
};

#define DMARC_FROM_MAX_DOMAINS 16 /* domains kept for the several/group outcomes */
#define DMARC_DOMAIN_MAX 253

struct dmarc_from {
    enum dmarc_from_outcome outcome;
    char domain[DMARC_DOMAIN_MAX + 1];  /* DMARC_FROM_ONE: the domain, lower case; else "" */
    /* Every well-formed mailbox's domain (lower case) in the order found, for the several and
     * group outcomes (a policy may evaluate each and apply the strictest); at most
     * DMARC_FROM_MAX_DOMAINS, mailbox_count counts them all. */
    char domains[DMARC_FROM_MAX_DOMAINS][DMARC_DOMAIN_MAX + 1];
    size_t domain_count;
    size_t mailbox_count;
    size_t field_count;
    char problem[160];            /* every outcome but DMARC_FROM_ONE: why, for the log */
};

/* values: the raw values of the message's From fields (folding CRLFs allowed), count of
 * them. Fills out completely. */
void dmarc_from_parse(const char *const *values, size_t count, struct dmarc_from *out);

/* "one", "no-field", "several-fields", "several-addresses", "group", "no-address",
 * "bad-domain", "unparseable" */
const char *dmarc_from_outcome_name(enum dmarc_from_outcome outcome);

#endif
