/* arc_canon.c - relaxed header canonicalization and the input of an ARC-Seal signature
 * (RFC 6376 3.4.2, 3.7; RFC 8617 5.1.1; see arc_canon.h). */
#include "arc_canon.h"

#include <stdlib.h>
#include <string.h>

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
    return is_wsp(c) || c == '\r' || c == '\n';
}

void arc_canon_relaxed_header(const char *name, const char *value, struct textbuf *out)
{
    size_t name_len = strlen(name);
    while (name_len > 0 && is_wsp(name[name_len - 1]))
        name_len--;
    for (size_t i = 0; i < name_len; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        textbuf_append(out, &c, 1);
    }
    textbuf_append(out, ":", 1);
    bool pending_space = false, started = false;
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        if (is_wsp(*p)) {
            pending_space = started;
            continue;
        }
        if (pending_space)
            textbuf_append(out, " ", 1);
        pending_space = false;
        started = true;
        textbuf_append(out, p, 1);
    }
    textbuf_append(out, "\r\n", 2);
}

char *arc_canon_without_b(const char *value)
{
    struct textbuf sb;
    textbuf_init(&sb);
    const char *p = value;
    bool done = false;
    while (*p != '\0') {
        const char *spec_end = strchr(p, ';');
        if (spec_end == NULL)
            spec_end = p + strlen(p);
        const char *name = p;
        while (name < spec_end && is_space(*name))
            name++;
        const char *after = name;
        if (!done && after < spec_end && *after == 'b') {
            after++;
            while (after < spec_end && is_space(*after))
                after++;
        }
        if (!done && after > name && after < spec_end && *after == '=') {
            textbuf_append(&sb, p, (size_t)(after + 1 - p));   /* up to and with the "=" */
            done = true;
        } else {
            textbuf_append(&sb, p, (size_t)(spec_end - p));
        }
        if (*spec_end == '\0')
            break;
        textbuf_append(&sb, ";", 1);
        p = spec_end + 1;
    }
    return sb.data;
}

size_t arc_canon_seal_fields(const struct arc_chain *chain, const struct header_field *fields,
    unsigned upto, const struct header_field **out)
{
    if (chain->state != ARC_CHAIN_READY || upto == 0 || upto > chain->count)
        return 0;
    size_t n = 0;
    for (unsigned i = 1; i <= upto; i++) {
        const struct arc_set *set = &chain->set[i - 1];
        out[n++] = &fields[set->aar_field];
        out[n++] = &fields[set->ams_field];
        out[n++] = &fields[set->seal_field];
    }
    return n;
}

bool arc_canon_seal_input(const struct arc_chain *chain, const struct header_field *fields,
    unsigned upto, struct textbuf *out)
{
    if (chain->state != ARC_CHAIN_READY || upto == 0 || upto > chain->count)
        return false;
    const struct header_field **list = xcalloc(3 * (size_t)upto, sizeof *list);
    size_t n = arc_canon_seal_fields(chain, fields, upto, list);
    for (size_t i = 0; i + 1 < n; i++)
        arc_canon_relaxed_header(list[i]->name, list[i]->value, out);
    char *seal = arc_canon_without_b(list[n - 1]->value);
    struct textbuf last;
    textbuf_init(&last);
    arc_canon_relaxed_header(list[n - 1]->name, seal, &last);
    textbuf_append(out, last.data, last.len - 2);      /* without its CRLF */
    textbuf_free(&last);
    free(seal);
    free(list);
    return true;
}
