/* header_cache.c - the decoded header fields of one message, each made once (header_cache.h):
 * unfolding and cutting at the cap in one pass that stops at the cap, GMime's RFC 2047
 * decoder and address parser on what is left, and a small table of texts by key. */
#include "header_cache.h"

#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_init.h"
#include "header.h"
#include "util.h"

struct cached_field {
    char *flat;                /* NULL until made */
    char *decoded;             /* NULL until made */
    bool mailbox_made;
    char *address;             /* first mailbox; NULL when none */
    char *name;
};

struct cached_text {
    char *key;
    uint32_t key_hash;         /* compared first: hundreds of texts, one lookup each */
    char *text;
    size_t len;
    bool present;
};

struct header_cache {
    const struct header_field *fields;
    size_t count;
    size_t cap;                /* what everything below was made for */
    struct cached_field *entries;
    struct cached_text *texts;
    size_t text_count, text_alloc;
    size_t decodings, decoded_bytes;
};

struct header_cache *header_cache_new(const struct header_field *fields, size_t count)
{
    struct header_cache *cache = xcalloc(1, sizeof *cache);
    cache->fields = fields;
    cache->count = count;
    cache->entries = count ? xcalloc(count, sizeof *cache->entries) : NULL;
    return cache;
}

static void forget_all(struct header_cache *cache)
{
    for (size_t i = 0; i < cache->count; i++) {
        struct cached_field *e = &cache->entries[i];
        free(e->flat);
        free(e->decoded);
        free(e->address);
        free(e->name);
        memset(e, 0, sizeof *e);
    }
    for (size_t i = 0; i < cache->text_count; i++) {
        free(cache->texts[i].key);
        free(cache->texts[i].text);
    }
    cache->text_count = 0;
}

void header_cache_free(struct header_cache *cache)
{
    if (cache == NULL)
        return;
    forget_all(cache);
    free(cache->entries);
    free(cache->texts);
    free(cache);
}

const struct header_field *header_cache_fields(const struct header_cache *cache)
{
    return cache->fields;
}

static void use_cap(struct header_cache *cache, size_t cap)
{
    if (cache->cap != cap) {
        forget_all(cache);
        cache->cap = cap;
    }
}

char *header_value_cut(const char *value, size_t cap)
{
    const char *p = value ? value : "";
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    /* what is kept is at most the first cap bytes (CR and LF only make it shorter) */
    char *out = xmalloc(strnlen(p, cap) + 1), *o = out;
    size_t n = 0;
    for (; *p != '\0' && n < cap; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        *o++ = *p;
        n++;
    }
    *o = '\0';
    while (*p == '\r' || *p == '\n')
        p++;
    if (*p != '\0') {
        /* cut: drop the word cut in two (an encoded word would stay undecoded) */
        char *blank = strrchr(out, ' '), *tab = strrchr(out, '\t');
        if (tab != NULL && (blank == NULL || tab > blank))
            blank = tab;
        if (blank != NULL)
            *blank = '\0';
    }
    return out;
}

const char *header_cache_flat(struct header_cache *cache, size_t i, size_t cap)
{
    use_cap(cache, cap);
    struct cached_field *e = &cache->entries[i];
    if (e->flat == NULL)
        e->flat = header_value_cut(cache->fields[i].value, cap);
    return e->flat;
}

const char *header_cache_decoded(struct header_cache *cache, size_t i, size_t cap)
{
    const char *flat = header_cache_flat(cache, i, cap);
    struct cached_field *e = &cache->entries[i];
    if (e->decoded == NULL) {
        mime_libraries_init();
        char *decoded = g_mime_utils_header_decode_text(NULL, flat);
        e->decoded = xstrdup(decoded ? decoded : flat);
        g_free(decoded);
        cache->decodings++;
        cache->decoded_bytes += strlen(flat);
    }
    return e->decoded;
}

/* The first address of the list; for a group, its first member. */
static void first_mailbox(const char *flat, char **address, char **name)
{
    mime_libraries_init();
    InternetAddressList *list = internet_address_list_parse(NULL, flat);
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
        const char *display = internet_address_get_name(ia);
        const char *addr = INTERNET_ADDRESS_IS_MAILBOX(ia)
            ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)) : NULL;
        *name = display ? xstrdup(display) : NULL;
        *address = addr ? xstrdup(addr) : NULL;
    }
    g_object_unref(list);
}

void header_cache_mailbox(struct header_cache *cache, size_t i, size_t cap, const char **address,
    const char **name)
{
    const char *flat = header_cache_flat(cache, i, cap);
    struct cached_field *e = &cache->entries[i];
    if (!e->mailbox_made) {
        first_mailbox(flat, &e->address, &e->name);
        e->mailbox_made = true;
    }
    *address = e->address;
    *name = e->name;
}

/* FNV-1a of a text key. */
static uint32_t key_hash(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

bool header_cache_text(struct header_cache *cache, const char *key, size_t cap, const char **text,
    size_t *len, bool *present)
{
    use_cap(cache, cap);
    uint32_t hash = key_hash(key);
    for (size_t i = 0; i < cache->text_count; i++) {
        const struct cached_text *c = &cache->texts[i];
        if (c->key_hash == hash && strcmp(c->key, key) == 0) {
            *text = c->text;
            *len = c->len;
            *present = c->present;
            return true;
        }
    }
    return false;
}

void header_cache_store_text(struct header_cache *cache, const char *key, size_t cap,
    const char *text, size_t len, bool present)
{
    use_cap(cache, cap);
    if (cache->text_count == cache->text_alloc) {
        cache->text_alloc = cache->text_alloc ? cache->text_alloc * 2 : 32;
        cache->texts = xrealloc(cache->texts, cache->text_alloc * sizeof *cache->texts);
    }
    struct cached_text *c = &cache->texts[cache->text_count++];
    c->key = xstrdup(key);
    c->key_hash = key_hash(key);
    c->text = xmalloc(len + 1);
    memcpy(c->text, text, len);
    c->text[len] = '\0';
    c->len = len;
    c->present = present;
}

size_t header_cache_decodings(const struct header_cache *cache)
{
    return cache->decodings;
}

size_t header_cache_decoded_bytes(const struct header_cache *cache)
{
    return cache->decoded_bytes;
}
