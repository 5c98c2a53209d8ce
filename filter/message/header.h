/* header.h - a message's header fields as the MTA sent them, in order: the vocabulary the
 * libraries that read headers share (message view, rules, header decoding), so they need not
 * know the transaction (txn.h). A list is an array and a count; nothing here allocates. */
#ifndef MW_HEADER_H
#define MW_HEADER_H

#include <stddef.h>

struct header_field {
    char *name;
    char *value;
    char *raw_value;           /* DKIM: the value exactly as it followed the colon, when the MTA
                                  sent it so (SMFIP_HDR_LEADSPC); NULL otherwise */
};

/* The value of the n-th (0-based) field with this name, compared case-insensitively; NULL
 * when there are fewer. */
const char *header_find(const struct header_field *fields, size_t count, const char *name,
    size_t n);

#endif
