/* rules_tags.c - SpamAssassin's ReplaceTags, which its stock rules rely on (money amounts,
 * obfuscated words): `replace_tag NAME regex` defines <NAME>; the rules named by
 * `replace_rules` have each <NAME> replaced by its regex, with the `replace_pre` / `replace_post`
 * regex a rule asks for by <pre X> / <post X> around every tag and its `replace_inter` regex
 * (<inter X>) between two adjacent tags. Tags inside a tag's regex are expanded too, to a
 * bounded depth and size. Only the default tag delimiters < and > are supported. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "util.h"

#define MAX_TAG_DEPTH 5
#define MAX_EXPANDED_BYTES (256 * 1024)   /* far beyond what PCRE2 compiles; stops blow-ups */

void ruleset_set_tag(struct ruleset *rs, char kind, const char *name, const char *value)
{
    for (size_t i = 0; i < rs->tag_count; i++) {
        struct replace_tag *t = &rs->tags[i];
        if (t->kind == kind && strcmp(t->name, name) == 0) {
            free(t->value);
            t->value = xstrdup(value);
            return;
        }
    }
    rs->tags = xrealloc(rs->tags, (rs->tag_count + 1) * sizeof *rs->tags);
    rs->tags[rs->tag_count++] = (struct replace_tag){ kind, xstrdup(name), xstrdup(value) };
}

static const char *tag_value(const struct ruleset *rs, char kind, const char *name, size_t len)
{
    for (size_t i = 0; i < rs->tag_count; i++) {
        const struct replace_tag *t = &rs->tags[i];
        if (t->kind == kind && strlen(t->name) == len && strncmp(t->name, name, len) == 0)
            return t->value;
    }
    return NULL;
}

/* Length of a tag name at p (letters, digits, _). */
static size_t name_length(const char *p)
{
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    return n;
}

/* Removes "<pre X>", "<post X>", "<inter X>" from text, returning the regexes they name. */
static char *take_modifiers(const struct ruleset *rs, const char *text, const char **pre,
    const char **post, const char **inter)
{
    static const struct { const char *word; char kind; } mods[] = {
        { "<pre ", 'p' }, { "<post ", 'o' }, { "<inter ", 'i' },
    };
    struct textbuf out;
    textbuf_init(&out);
    for (const char *p = text; *p;) {
        bool taken = false;
        for (size_t m = 0; m < 3 && !taken; m++) {
            size_t wl = strlen(mods[m].word);
            if (strncmp(p, mods[m].word, wl) != 0)
                continue;
            size_t nl = name_length(p + wl);
            if (nl == 0 || p[wl + nl] != '>')
                continue;
            const char *value = tag_value(rs, mods[m].kind, p + wl, nl);
            const char **slot = mods[m].kind == 'p' ? pre : mods[m].kind == 'o' ? post : inter;
            *slot = value ? value : "";
            p += wl + nl + 1;
            taken = true;
        }
        if (!taken)
            textbuf_append(&out, p++, 1);
    }
    return out.data ? out.data : xstrdup("");
}

static void expand(const struct ruleset *rs, const char *text, const char *pre, const char *post,
    const char *inter, int depth, struct textbuf *out)
{
    const char *last_tag_end = NULL;
    for (const char *p = text; *p && out->len < MAX_EXPANDED_BYTES;) {
        if (*p == '<' && depth < MAX_TAG_DEPTH) {
            size_t nl = name_length(p + 1);
            const char *value = nl && p[1 + nl] == '>' ? tag_value(rs, 't', p + 1, nl) : NULL;
            if (value != NULL) {
                if (inter != NULL && last_tag_end == p)
                    textbuf_puts(out, inter);
                textbuf_puts(out, pre ? pre : "");
                expand(rs, value, NULL, NULL, NULL, depth + 1, out);
                textbuf_puts(out, post ? post : "");
                p += nl + 2;
                last_tag_end = p;
                continue;
            }
        }
        textbuf_append(out, p++, 1);
    }
}

char *rules_replace_tags(const struct ruleset *rs, const char *text)
{
    const char *pre = NULL, *post = NULL, *inter = NULL;
    char *bare = take_modifiers(rs, text, &pre, &post, &inter);
    struct textbuf out;
    textbuf_init(&out);
    expand(rs, bare, pre, post, inter, 0, &out);
    free(bare);
    if (out.len >= MAX_EXPANDED_BYTES) {
        textbuf_free(&out);
        return NULL;
    }
    return out.data ? out.data : xstrdup("");
}

/* ---- the shared form: each tag's regex once, in a DEFINE group ---- */

struct shared_tags {
    const char *names[64];         /* tags used, in order of first use */
    size_t count;
};

static bool shared_index(struct shared_tags *used, const char *name, size_t *index)
{
    for (size_t i = 0; i < used->count; i++) {
        if (used->names[i] == name) {
            *index = i;
            return true;
        }
    }
    if (used->count == sizeof used->names / sizeof used->names[0])
        return false;
    used->names[used->count] = name;
    *index = used->count++;
    return true;
}

/* As expand() at depth 0, with each top-level tag a call "(?&mwtN)" of its shared group. */
static bool expand_shared(const struct ruleset *rs, const char *text, const char *pre,
    const char *post, const char *inter, struct shared_tags *used, struct textbuf *out)
{
    const char *last_tag_end = NULL;
    for (const char *p = text; *p && out->len < MAX_EXPANDED_BYTES;) {
        if (*p == '<') {
            size_t nl = name_length(p + 1);
            const struct replace_tag *tag = NULL;
            for (size_t i = 0; nl && p[1 + nl] == '>' && i < rs->tag_count && !tag; i++) {
                const struct replace_tag *t = &rs->tags[i];
                if (t->kind == 't' && strlen(t->name) == nl && strncmp(t->name, p + 1, nl) == 0)
                    tag = t;
            }
            if (tag != NULL) {
                size_t index;
                if (!shared_index(used, tag->name, &index))
                    return false;
                if (inter != NULL && last_tag_end == p)
                    textbuf_puts(out, inter);
                textbuf_puts(out, pre ? pre : "");
                textbuf_printf(out, "(?&mwt%zu)", index);
                textbuf_puts(out, post ? post : "");
                p += nl + 2;
                last_tag_end = p;
                continue;
            }
        }
        textbuf_append(out, p++, 1);
    }
    return out->len < MAX_EXPANDED_BYTES;
}

char *rules_replace_tags_shared(const struct ruleset *rs, const char *text, char **defines)
{
    const char *pre = NULL, *post = NULL, *inter = NULL;
    char *bare = take_modifiers(rs, text, &pre, &post, &inter);
    struct shared_tags used = { .count = 0 };
    struct textbuf out, groups;
    textbuf_init(&out);
    textbuf_init(&groups);
    bool ok = expand_shared(rs, bare, pre, post, inter, &used, &out);
    free(bare);
    textbuf_puts(&groups, "(?(DEFINE)");
    for (size_t i = 0; ok && i < used.count; i++) {
        textbuf_printf(&groups, "(?<mwt%zu>", i);
        expand(rs, tag_value(rs, 't', used.names[i], strlen(used.names[i])), NULL, NULL, NULL,
            1, &groups);
        textbuf_puts(&groups, ")");
        ok = groups.len < MAX_EXPANDED_BYTES;
    }
    textbuf_puts(&groups, ")");
    if (!ok) {
        textbuf_free(&out);
        textbuf_free(&groups);
        return NULL;
    }
    *defines = groups.data;
    return out.data ? out.data : xstrdup("");
}
