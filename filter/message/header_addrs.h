/* header_addrs.h - every address of a header field, as SpamAssassin's "Name:addr" reads it:
 * all mailboxes of every instance of the field (groups expanded), in message order, through
 * GMime's address parser. For the rules' plugins (welcome lists, FreeMail, DKIM authors). */
#ifndef MW_HEADER_ADDRS_H
#define MW_HEADER_ADDRS_H

#include <stddef.h>

struct header_field;

/* A list of addresses, lower case, no repeats, each malloc'd. */
struct addr_list {
    char **addr;
    size_t count;
};

/* Appends the addresses of every `name` field (each read up to cap bytes) to out, skipping
 * ones already in it. */
void header_addresses(const struct header_field *fields, size_t count, const char *name,
    size_t cap, struct addr_list *out);
/* Appends one address (lower-cased) unless empty or present. */
void addr_list_add(struct addr_list *list, const char *addr);
void addr_list_free(struct addr_list *list);

#endif
