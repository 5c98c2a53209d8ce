/* rules_received.h - one Received line read as SpamAssassin 4.0's Received parser reads it
 * (Message/Metadata/Received.pm): the many MTA formats it knows, the handovers it ignores, and
 * the fields of a relay (ip, rdns, helo, by, ident, envfrom, id, auth). Also SpamAssassin's
 * address patterns (private, IPv4) the relay tests share. Thread-safe. */
#ifndef MW_RULES_RECEIVED_H
#define MW_RULES_RECEIVED_H

#include <stdbool.h>

enum received_kind {
    RECEIVED_UNPARSEABLE,      /* no relay could be read (counted as unparseable) */
    RECEIVED_IGNORED,          /* a handover SpamAssassin skips on purpose (local, BSMTP ...) */
    RECEIVED_FETCHER,          /* a POP3/IMAP fetcher's line: ignored, restarts the trust path */
    RECEIVED_RELAY             /* fields filled */
};

/* What one line gives; every string malloc'd ("" when absent; envfrom NULL when absent). */
struct received_fields {
    char *ip, *rdns, *helo, *by, *ident, *envfrom, *id, *auth;
    bool no_reverse_dns;       /* the MTA looked the address up and found no name */
    bool ip_private;
    char *qmail_scanner_envfrom;   /* an ignored qmail-scanner line's envelope sender, for the
                                      next relay (NULL when none) */
};

/* Reads one Received field value (folded or not). */
enum received_kind received_parse(const char *value, struct received_fields *out);
void received_fields_free(struct received_fields *f);

/* SpamAssassin's IP_PRIVATE (a prefix match, as its relay code uses it) and IS_IP_PRIVATE /
 * IS_IPV4_ADDRESS (the whole text). */
bool received_ip_private(const char *ip);
/* The first address (SpamAssassin's IP_ADDRESS) in text, malloc'd; NULL when none. */
char *received_first_ip(const char *text);
bool received_is_ip_private(const char *ip);
bool received_is_ipv4(const char *text);

/* A Perl regex of SpamAssassin's plugins, compiled on first use (once per process); "@IP@" in
 * the source stands for SpamAssassin's IP_ADDRESS. */
struct received_pattern {
    const char *source;
    bool caseless;
    void *code;                /* pcre2_code, made by received_pattern_match */
};

/* Whether p matches text; when groups is not NULL, group 1 of the match is put there
 * (malloc'd, NULL when it did not take part). Runs under a match limit: a text that exhausts
 * it does not match. */
bool received_pattern_match(struct received_pattern *p, const char *text, char **group1);
/* The same with groups 1..count in groups[0..count) (malloc'd or NULL) and where the whole
 * match starts and ends in text. */
bool received_pattern_groups(struct received_pattern *p, const char *text, char **groups,
    int count, size_t *start, size_t *end);

/* Frees a pattern made at run time (static ones live as long as the process). */
void received_pattern_free(struct received_pattern *p);

/* The relay as SpamAssassin writes it in its X-Spam-Relays-* pseudo-headers. */
char *received_relay_string(const char *ip, const char *rdns, const char *helo, const char *by,
    const char *ident, const char *envfrom, bool internal, const char *id, const char *auth,
    bool msa);

#endif
