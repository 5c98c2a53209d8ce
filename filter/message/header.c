/* header.c - see header.h. */
#include "header.h"

#include "util.h"

const char *header_find(const struct header_field *fields, size_t count, const char *name,
    size_t n)
{
    for (size_t i = 0; i < count; i++) {
        if (str_ieq(fields[i].name, name) && n-- == 0)
            return fields[i].value;
    }
    return NULL;
}
