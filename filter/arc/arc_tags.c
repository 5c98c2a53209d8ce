/* arc_tags.c - the strict RFC 6376 3.2 tag=value list parser of filter/arc (see arc_tags.h).
 * Grammar: tag-list = tag-spec *( ";" tag-spec ) [ ";" ]; tag-spec = [FWS] tag-name [FWS] "="
 * [FWS] tag-value [FWS]; tag-name = ALPHA *ALNUMPUNC; tag-value = [ tval *( 1*(WSP / FWS) tval ) ];
 * VALCHAR = %x21-3A / %x3C-7E. Folding (CRLF or bare LF followed by WSP) counts as white space. */
#include "arc_tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

static bool is_valchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != ';';
}

static size_t skip_space(const char *text, size_t len, size_t pos)
{
    while (pos < len && is_space(text[pos]))
        pos++;
    return pos;
}

static bool fail(struct arc_tags *out, const char *reason, const char *name, size_t pos)
{
    arc_tags_free(out);
    if (name != NULL)
        snprintf(out->error, sizeof out->error, "%s \"%.40s\" at offset %zu", reason, name, pos);
    else
        snprintf(out->error, sizeof out->error, "%s at offset %zu", reason, pos);
    return false;
}

/* Parses one tag-spec starting at *pos (which is at its first non-space byte); leaves *pos
 * at the ";" that ends it or at len. */
static bool parse_spec(const char *text, size_t len, size_t *pos, struct arc_tags *out)
{
    size_t start = *pos, p = *pos;
    if (!is_alpha(text[p]))
        return fail(out, "bad tag name (it must start with a letter)", NULL, p);
    while (p < len && is_name_char(text[p]))
        p++;
    size_t name_end = p;
    p = skip_space(text, len, p);
    if (p >= len || text[p] != '=')
        return fail(out, "bad tag name or missing \"=\"", NULL, p);
    char *name = xstrndup(text + start, name_end - start);
    p = skip_space(text, len, p + 1);
    size_t value_start = p, value_end = p;
    while (p < len && text[p] != ';') {
        if (is_valchar((unsigned char)text[p]))
            value_end = p + 1;
        else if (!is_space(text[p])) {
            free(name);
            return fail(out, "bad character in a tag value", NULL, p);
        }
        p++;
    }
    if (arc_tags_get(out, name) != NULL) {
        bool r = fail(out, "duplicate tag", name, p);
        free(name);
        return r;
    }
    if (out->count == ARC_TAGS_MAX) {
        free(name);
        return fail(out, "more than 64 tags", NULL, p);
    }
    out->tag = xrealloc(out->tag, (out->count + 1) * sizeof *out->tag);
    out->tag[out->count].name = name;
    out->tag[out->count].value = xstrndup(text + value_start, value_end - value_start);
    out->count++;
    *pos = p;
    return true;
}

bool arc_tags_parse(const char *text, size_t len, struct arc_tags *out)
{
    memset(out, 0, sizeof *out);
    size_t pos = skip_space(text, len, 0);
    if (pos >= len)
        return fail(out, "empty tag list", NULL, pos);
    for (;;) {
        if (text[pos] == ';')
            return fail(out, "empty tag-spec (two semicolons)", NULL, pos);
        if (!parse_spec(text, len, &pos, out))
            return false;
        if (pos >= len)
            return true;
        pos = skip_space(text, len, pos + 1);   /* past the ";" */
        if (pos >= len)
            return true;                        /* the one trailing ";" */
    }
}

void arc_tags_free(struct arc_tags *tags)
{
    for (size_t i = 0; i < tags->count; i++) {
        free(tags->tag[i].name);
        free(tags->tag[i].value);
    }
    free(tags->tag);
    tags->tag = NULL;
    tags->count = 0;
}

const char *arc_tags_get(const struct arc_tags *tags, const char *name)
{
    for (size_t i = 0; i < tags->count; i++) {
        if (strcmp(tags->tag[i].name, name) == 0)
            return tags->tag[i].value;
    }
    return NULL;
}

char *arc_tags_strip_space(const char *value)
{
    char *copy = xstrdup(value);
    size_t n = 0;
    for (size_t i = 0; copy[i] != '\0'; i++) {
        if (!is_space(copy[i]))
            copy[n++] = copy[i];
    }
    copy[n] = '\0';
    return copy;
}
