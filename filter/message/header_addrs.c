/* header_addrs.c - every mailbox of a header field through GMime's address parser (never a
 * hand-written one); see header_addrs.h. Each field value is cut at the caller's cap before
 * parsing, so a huge field costs no more than the cap. */
#include "header_addrs.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "header_cache.h"
#include "mime_init.h"
#include "util.h"

void addr_list_add(struct addr_list *list, const char *addr)
{
    if (addr == NULL || *addr == '\0')
        return;
    char *lower = xstrdup(addr);
    str_lower(lower);
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->addr[i], lower) == 0) {
            free(lower);
            return;
        }
    }
    list->addr = xrealloc(list->addr, (list->count + 1) * sizeof *list->addr);
    list->addr[list->count++] = lower;
}

void addr_list_free(struct addr_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->addr[i]);
    free(list->addr);
    list->addr = NULL;
    list->count = 0;
}

static void add_mailboxes(InternetAddressList *list, struct addr_list *out, int depth)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            addr_list_add(out, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
        else if (INTERNET_ADDRESS_IS_GROUP(a) && depth < 4)
            add_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), out,
                depth + 1);
    }
}

void header_addresses(const struct header_field *fields, size_t count, const char *name,
    size_t cap, struct addr_list *out)
{
    const char *value;
    for (size_t i = 0; (value = header_find(fields, count, name, i)) != NULL; i++) {
        mime_libraries_init();
        char *cut = header_value_cut(value, cap);
        InternetAddressList *list = internet_address_list_parse(NULL, cut);
        free(cut);
        add_mailboxes(list, out, 0);
        if (list != NULL)
            g_object_unref(list);
    }
}
