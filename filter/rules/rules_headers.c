/* rules_headers.c - the text a header rule matches, as SpamAssassin builds it: every instance of
 * the header, each ending in a newline; unfolded and RFC 2047-decoded (GMime) unless :raw;
 * :addr and :name every address and display name of every instance, one a line (GMime's
 * address parser; SpamAssassin's get() list joined as its header rules join it); the pseudo
 * headers ALL, ToCc, MESSAGEID and EnvelopeFrom. Absent headers give "" (or [if-unset:]).
 * The text is capped at limits.header_bytes, and so is each field before it is decoded.
 * Each text is built once per message and kept in the message's header cache
 * (header_cache.h), where every field is decoded at most once: rules reading the same header
 * share both. */
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "header_cache.h"
#include "mime_init.h"
#include "rules_internal.h"
#include "header.h"
#include "util.h"

/* Appends at most what keeps out under cap bytes (the rest is never matched). */
static void append_capped(struct textbuf *out, const char *s, size_t cap)
{
    if (out->len >= cap)
        return;
    textbuf_append(out, s, strnlen(s, cap - out->len));
}

static void append_field(struct textbuf *out, struct header_cache *cache, size_t i,
    const char *value, bool raw, size_t cap)
{
    if (raw)
        append_capped(out, value ? value : "", cap);
    else
        append_capped(out, header_cache_decoded(cache, i, cap), cap);
}

/* A header rule's :addr and :name (HPART_ADDRS, HPART_NAMES): every address (or display name)
 * of the field, groups' members included, each on its own line after what out holds already:
 * SpamAssassin's get() gives a list of them, which its header rules join with newlines.
 * Returns how many were appended. */
static size_t append_each_mailbox(struct textbuf *out, InternetAddressList *list, bool names,
    size_t cap)
{
    size_t appended = 0;
    int n = list != NULL ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(a)) {
            appended += append_each_mailbox(out,
                internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), names, cap);
            continue;
        }
        const char *text = names ? internet_address_get_name(a)
            : internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
        if (text == NULL || (!names && text[0] == '\0'))
            continue;
        if (out->len > 0)
            append_capped(out, "\n", cap);
        append_capped(out, text, cap);
        appended++;
    }
    return appended;
}

static size_t append_mailboxes(struct textbuf *out, struct header_cache *cache, size_t i,
    bool names, size_t cap)
{
    mime_libraries_init();
    InternetAddressList *list = internet_address_list_parse(NULL, header_cache_flat(cache, i, cap));
    size_t appended = append_each_mailbox(out, list, names, cap);
    if (list != NULL)
        g_object_unref(list);
    return appended;
}

/* Appends every instance of header `name`; returns how many there were (for :addr and :name
 * lists, how many addresses or names). Fields past the cap are counted, never decoded. */
static size_t append_named(struct textbuf *out, const struct rules_message *msg,
    struct header_cache *cache, const char *name, enum header_part part, size_t cap)
{
    size_t found = 0;
    for (size_t i = 0; i < msg->header_count; i++) {
        const struct header_field *h = &msg->headers[i];
        if (!str_ieq(h->name, name) || h->value == NULL)
            continue;
        if (part == HPART_ADDRS || part == HPART_NAMES) {
            if (out->len < cap)
                found += append_mailboxes(out, cache, i, part == HPART_NAMES, cap);
            continue;
        }
        found++;
        if (out->len >= cap)
            continue;
        switch (part) {
        case HPART_RAW:
        case HPART_VALUE:
            append_field(out, cache, i, h->value, part == HPART_RAW, cap);
            append_capped(out, "\n", cap);
            break;
        case HPART_ADDR:
        case HPART_NAME:
            if (found == 1) {
                const char *address, *display;
                header_cache_mailbox(cache, i, cap, &address, &display);
                const char *text = part == HPART_NAME ? display : address;
                if (text != NULL)
                    append_capped(out, text, cap);
            }
            break;
        case HPART_ADDRS:
        case HPART_NAMES:
            break;             /* above */
        }
    }
    return found;
}

static size_t append_all(struct textbuf *out, const struct rules_message *msg,
    struct header_cache *cache, bool raw, size_t cap)
{
    for (size_t i = 0; i < msg->header_count && out->len < cap; i++) {
        const struct header_field *h = &msg->headers[i];
        append_capped(out, h->name, cap);
        append_capped(out, ": ", cap);
        append_field(out, cache, i, h->value, raw, cap);
        append_capped(out, "\n", cap);
    }
    return msg->header_count;
}

static size_t build_text(const struct rule *r, const struct rules_message *msg,
    struct header_cache *cache, size_t cap, struct textbuf *out)
{
    size_t found = 0;
    switch (r->hsrc) {
    case HSRC_NAMED:
        found = append_named(out, msg, cache, r->header, r->hpart, cap);
        break;
    case HSRC_ALL:
        found = append_all(out, msg, cache, r->hpart == HPART_RAW, cap);
        break;
    case HSRC_TOCC:
        found = append_named(out, msg, cache, "To", r->hpart, cap);
        found += append_named(out, msg, cache, "Cc", r->hpart, cap);
        break;
    case HSRC_MESSAGEID:
        found = append_named(out, msg, cache, "Message-Id", r->hpart, cap);
        found += append_named(out, msg, cache, "Resent-Message-Id", r->hpart, cap);
        found += append_named(out, msg, cache, "X-Message-Id", r->hpart, cap);
        break;
    case HSRC_ENVFROM:
        if (msg->envelope_from != NULL && msg->envelope_from[0] != '\0') {
            append_capped(out, msg->envelope_from, cap);
            append_capped(out, "\n", cap);
            found = 1;
        }
        break;
    case HSRC_RELAYS_TRUSTED:
    case HSRC_RELAYS_UNTRUSTED:
    case HSRC_RELAYS_INTERNAL:
    case HSRC_RELAYS_EXTERNAL:
    case HSRC_ALL_TRUSTED:
    case HSRC_ALL_INTERNAL:
    case HSRC_ALL_UNTRUSTED:
    case HSRC_ALL_EXTERNAL:
        break;         /* need the relays: rules_eval.c, rules_header_range_text */
    }
    return found;
}

char *rules_header_text_key(const struct rule *r)
{
    char *key = xasprintf("%d %d %s", (int)r->hsrc, (int)r->hpart,
        r->hsrc == HSRC_NAMED && r->header ? r->header : "");
    str_lower(key);
    return key;
}

bool rules_header_text(const struct rule *r, const struct rules_message *msg,
    struct header_cache *cache, size_t cap, const char **text, size_t *len)
{
    char *made = r->text_key == NULL ? rules_header_text_key(r) : NULL;
    const char *key = made != NULL ? made : r->text_key;
    bool present;
    if (!header_cache_text(cache, key, cap, text, len, &present)) {
        struct textbuf out;
        textbuf_init(&out);
        present = build_text(r, msg, cache, cap, &out) > 0;
        header_cache_store_text(cache, key, cap, out.data ? out.data : "", out.len, present);
        textbuf_free(&out);
        header_cache_text(cache, key, cap, text, len, &present);
    }
    free(made);
    return present;
}

/* get_all_hdrs_in_rcvd_index_range(from, upto+...) with its inclusive ends. */
static void append_range(struct textbuf *out, const struct rules_message *msg,
    struct header_cache *cache, bool raw, size_t cap, long from, long upto)
{
    long received = -1;
    for (size_t i = 0; i < msg->header_count && out->len < cap; i++) {
        const struct header_field *h = &msg->headers[i];
        if (str_ieq(h->name, "Received"))
            received++;
        bool in = (from < 0 || received >= from) && (upto < 0 || received < upto);
        bool last = upto >= 0 && received == upto;
        if (!in && !last)
            continue;
        append_capped(out, h->name, cap);
        append_capped(out, ": ", cap);
        append_field(out, cache, i, h->value, raw, cap);
        append_capped(out, "\n", cap);
        if (last)
            break;
    }
}

bool rules_header_range_text(const struct rule *r, const struct rules_message *msg,
    struct header_cache *cache, size_t cap, long from, long upto, const char **text,
    size_t *len)
{
    char *made = r->text_key == NULL ? rules_header_text_key(r) : NULL;
    const char *key = made != NULL ? made : r->text_key;
    bool present;
    if (!header_cache_text(cache, key, cap, text, len, &present)) {
        struct textbuf out;
        textbuf_init(&out);
        append_range(&out, msg, cache, r->hpart == HPART_RAW, cap, from, upto);
        present = out.len > 0;
        header_cache_store_text(cache, key, cap, out.data ? out.data : "", out.len, present);
        textbuf_free(&out);
        header_cache_text(cache, key, cap, text, len, &present);
    }
    free(made);
    return present;
}
