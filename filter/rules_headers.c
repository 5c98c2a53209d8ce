/* rules_headers.c - the text a header rule matches, as SpamAssassin builds it: every instance of
 * the header, each ending in a newline; unfolded and RFC 2047-decoded (GMime) unless :raw;
 * :addr and :name the first address and display name (GMime's address parser); the pseudo
 * headers ALL, ToCc, MESSAGEID and EnvelopeFrom. Absent headers give "" (or [if-unset:]).
 * The text is capped at limits.header_bytes. */
#include <gmime/gmime.h>
#include <string.h>

#include "mime_init.h"
#include "rules_internal.h"
#include "txn.h"
#include "util.h"

static char *unfold(const char *value)
{
    size_t n = strlen(value);
    char *out = xmalloc(n + 1), *o = out;
    for (const char *p = value; *p; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

static void append_decoded(struct textbuf *out, const char *value)
{
    char *flat = unfold(value);
    const char *start = flat + strspn(flat, " \t");
    char *decoded = g_mime_utils_header_decode_text(NULL, start);
    textbuf_puts(out, decoded ? decoded : start);
    g_free(decoded);
    free(flat);
}

/* The first mailbox of an address list header: its address or its display name. */
static void append_address_part(struct textbuf *out, const char *value, bool want_name)
{
    char *flat = unfold(value);
    InternetAddressList *list = internet_address_list_parse(NULL, flat);
    free(flat);
    if (list == NULL)
        return;
    InternetAddress *ia = internet_address_list_length(list) > 0
        ? internet_address_list_get_address(list, 0) : NULL;
    if (ia != NULL && INTERNET_ADDRESS_IS_GROUP(ia)) {
        InternetAddressList *members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
        ia = members && internet_address_list_length(members) > 0
            ? internet_address_list_get_address(members, 0) : NULL;
    }
    if (ia != NULL) {
        const char *text = want_name ? internet_address_get_name(ia)
            : INTERNET_ADDRESS_IS_MAILBOX(ia)
                ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)) : NULL;
        if (text != NULL)
            textbuf_puts(out, text);
    }
    g_object_unref(list);
}

/* Appends every instance of header `name`; returns how many there were. */
static size_t append_named(struct textbuf *out, const struct rules_message *msg, const char *name,
    enum header_part part)
{
    size_t found = 0;
    for (size_t i = 0; i < msg->header_count; i++) {
        const struct header_field *h = &msg->headers[i];
        if (!str_ieq(h->name, name) || h->value == NULL)
            continue;
        found++;
        switch (part) {
        case HPART_RAW:
            textbuf_puts(out, h->value);
            textbuf_puts(out, "\n");
            break;
        case HPART_VALUE:
            append_decoded(out, h->value);
            textbuf_puts(out, "\n");
            break;
        case HPART_ADDR:
        case HPART_NAME:
            if (found == 1)
                append_address_part(out, h->value, part == HPART_NAME);
            break;
        }
    }
    return found;
}

static size_t append_all(struct textbuf *out, const struct rules_message *msg, bool raw)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        const struct header_field *h = &msg->headers[i];
        textbuf_puts(out, h->name);
        textbuf_puts(out, ": ");
        if (raw)
            textbuf_puts(out, h->value ? h->value : "");
        else
            append_decoded(out, h->value ? h->value : "");
        textbuf_puts(out, "\n");
    }
    return msg->header_count;
}

bool rules_header_text(const struct rule *r, const struct rules_message *msg,
    struct textbuf *out)
{
    mime_libraries_init();
    size_t found = 0;
    switch (r->hsrc) {
    case HSRC_NAMED:
        found = append_named(out, msg, r->header, r->hpart);
        break;
    case HSRC_ALL:
        found = append_all(out, msg, r->hpart == HPART_RAW);
        break;
    case HSRC_TOCC:
        found = append_named(out, msg, "To", r->hpart);
        found += append_named(out, msg, "Cc", r->hpart);
        break;
    case HSRC_MESSAGEID:
        found = append_named(out, msg, "Message-Id", r->hpart);
        found += append_named(out, msg, "Resent-Message-Id", r->hpart);
        found += append_named(out, msg, "X-Message-Id", r->hpart);
        break;
    case HSRC_ENVFROM:
        if (msg->envelope_from != NULL && msg->envelope_from[0] != '\0') {
            textbuf_puts(out, msg->envelope_from);
            textbuf_puts(out, "\n");
            found = 1;
        }
        break;
    }
    return found > 0;
}
