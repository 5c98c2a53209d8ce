/* header_util.c - header parsing for the checks through GMime's address, RFC 2047 and date
 * parsers, never hand-written. Values come from a header list
 * (header.h); nothing is kept. */
#include "header_util.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "header_cache.h"
#include "mime_init.h"
#include "header.h"
#include "util.h"

static char *lower_copy(const char *s)
{
    char *out = xstrdup(s);
    str_lower(out);
    return out;
}

/* The first mailbox of a list, descending into groups. */
static InternetAddressMailbox *first_mailbox(InternetAddressList *list)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            return INTERNET_ADDRESS_MAILBOX(a);
        if (INTERNET_ADDRESS_IS_GROUP(a)) {
            InternetAddressMailbox *m = first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
            if (m != NULL)
                return m;
        }
    }
    return NULL;
}

static size_t count_mailboxes(InternetAddressList *list)
{
    size_t count = 0;
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            count++;
        else if (INTERNET_ADDRESS_IS_GROUP(a))
            count += count_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
    }
    return count;
}

bool header_mailbox(const struct header_field *fields, size_t count, const char *header,
    char **address, char **name)
{
    *address = *name = NULL;
    const char *value = header_find(fields, count, header, 0);
    if (value == NULL)
        return false;
    mime_libraries_init();
    char *cut = header_value_cut(value, HEADER_TEXT_MAX);
    InternetAddressList *list = internet_address_list_parse(NULL, cut);
    free(cut);
    InternetAddressMailbox *m = first_mailbox(list);
    if (m != NULL) {
        const char *addr = internet_address_mailbox_get_addr(m);
        const char *display = internet_address_get_name(INTERNET_ADDRESS(m));
        if (addr != NULL && *addr != '\0')
            *address = lower_copy(addr);
        if (display != NULL && *display != '\0')
            *name = xstrdup(display);
    }
    if (list != NULL)
        g_object_unref(list);
    return *address != NULL;
}

char *header_from_address(const struct header_field *fields, size_t count)
{
    char *address, *name;
    header_mailbox(fields, count, "From", &address, &name);
    free(name);
    return address;
}

size_t header_address_count(const struct header_field *fields, size_t count,
    const char *header)
{
    mime_libraries_init();
    size_t mailboxes = 0;
    const char *value;
    for (size_t i = 0; (value = header_find(fields, count, header, i)) != NULL; i++) {
        InternetAddressList *list = internet_address_list_parse(NULL, value);
        mailboxes += count_mailboxes(list);
        if (list != NULL)
            g_object_unref(list);
    }
    return mailboxes;
}

char *header_text(const struct header_field *fields, size_t count, const char *header)
{
    const char *value = header_find(fields, count, header, 0);
    if (value == NULL)
        return NULL;
    mime_libraries_init();
    char *cut = header_value_cut(value, HEADER_TEXT_MAX);
    char *decoded = g_mime_utils_header_decode_text(NULL, cut);
    char *out = xstrdup(decoded ? decoded : cut);
    g_free(decoded);
    free(cut);
    return out;
}

bool header_date(const char *value, time_t *out)
{
    mime_libraries_init();
    GDateTime *date = g_mime_utils_header_decode_date(value);
    if (date == NULL)
        return false;
    *out = (time_t)g_date_time_to_unix(date);
    g_date_time_unref(date);
    return true;
}
