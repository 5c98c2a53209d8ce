/* rules_tags.c - SpamAssassin's ReplaceTags, which its stock rules rely on (money amounts,
 * obfuscated words): `replace_tag NAME regex` defines <NAME>; the rules named by
 * `replace_rules` have each <NAME> replaced by its regex, with the `replace_pre` / `replace_post`
 * regex a rule asks for by <pre X> / <post X> around every tag and its `replace_inter` regex
 * (<inter X>) between two adjacent tags. Tags inside a tag's regex are expanded too, to a
 * bounded depth and size. Only the default tag delimiters < and > are supported. Also two
 * other forms of an expansion: the shared one (each tag once, in a DEFINE group) for PCRE2
 * when the plain one is too large, and the widened one (a superset of each tag) for the
 * Hyperscan prefilter when the plain one is too long for it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "rules_regex_class.h"
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

static void superset_of(const char *value, struct textbuf *out);

/* Expands the tags of text into out; with superset, each top-level tag's regex is given as its
 * superset (superset_of: the prefilter's form of the rules too long for Hyperscan). */
static void expand(const struct ruleset *rs, const char *text, const char *pre, const char *post,
    const char *inter, int depth, bool superset, struct textbuf *out)
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
                if (superset) {
                    struct textbuf exact;
                    textbuf_init(&exact);
                    expand(rs, value, NULL, NULL, NULL, depth + 1, false, &exact);
                    superset_of(exact.data ? exact.data : "", out);
                    textbuf_free(&exact);
                } else {
                    expand(rs, value, NULL, NULL, NULL, depth + 1, false, out);
                }
                textbuf_puts(out, post ? post : "");
                p += nl + 2;
                last_tag_end = p;
                continue;
            }
        }
        textbuf_append(out, p++, 1);
    }
}

static char *replace_tags(const struct ruleset *rs, const char *text, bool superset)
{
    const char *pre = NULL, *post = NULL, *inter = NULL;
    char *bare = take_modifiers(rs, text, &pre, &post, &inter);
    struct textbuf out;
    textbuf_init(&out);
    expand(rs, bare, pre, post, inter, 0, superset, &out);
    free(bare);
    if (out.len >= MAX_EXPANDED_BYTES) {
        textbuf_free(&out);
        return NULL;
    }
    return out.data ? out.data : xstrdup("");
}

char *rules_replace_tags(const struct ruleset *rs, const char *text)
{
    return replace_tags(rs, text, false);
}

/* ---- the superset form, for the prefilter ---- */

/* A numeric entity branch &\#...; whose middle is digits, x, hex letters and regex syntax. */
static bool branch_entity(const char *b, size_t n)
{
    size_t skip = strncmp(b, "&\\#", 3) == 0 ? 3 : strncmp(b, "&#", 2) == 0 ? 2 : 0;
    if (skip == 0 || n < skip + 2 || b[n - 1] != ';')
        return false;
    for (size_t i = skip; i < n - 1; i++) {
        if (strchr("0123456789abcdefx()?:|[]-", b[i]) == NULL)
            return false;
    }
    return true;
}

/* A class [..] mixing ASCII and bytes >= 0x80, split: its ASCII members as a class, then
 * "|[\x80-\xff]+" unless *wide_high says that branch is written already (then set). false
 * when the branch is not one such class. */
static bool split_class(const char *b, size_t n, bool *wide_high, struct textbuf *out)
{
    const char *end = b[0] == '[' && b[1] != '^' ? regex_class_end(b) : NULL;
    if (end == NULL || end != b + n - 1)
        return false;
    struct textbuf ascii;
    textbuf_init(&ascii);
    bool high = false;
    for (const char *q = b + 1; q < end;) {
        size_t len;
        const char *member = q;
        int lo = regex_member_byte(q, &len), hi = lo;
        q += len;
        if (*q == '-' && q + 1 < end) {
            hi = regex_member_byte(q + 1, &len);
            q += 1 + len;
        }
        if (lo >= 0x80) {
            high = true;
            continue;
        }
        high = high || hi >= 0x80;
        textbuf_append(&ascii, member, (size_t)(q - member));   /* a range into 0x80+: kept */
    }
    if (high && ascii.len > 0) {
        /* a ^ now first would negate the class */
        textbuf_puts(out, ascii.data[0] == '^' ? "[\\" : "[");
        textbuf_append(out, ascii.data, ascii.len);
        textbuf_puts(out, *wide_high ? "]" : "]|[\\x80-\\xff]+");
    } else if (high) {
        textbuf_puts(out, *wide_high ? "[\\x80-\\xff]" : "[\\x80-\\xff]+");
    } else {
        textbuf_append(out, b, n);
    }
    *wide_high = *wide_high || high;
    textbuf_free(&ascii);
    return true;
}

/* The superset of one tag's expanded regex, as "(?:...)"; false (out unchanged) when a class
 * in it cannot be read. */
static bool widen(const char *value, struct textbuf *out);

static void superset_of(const char *value, struct textbuf *out)
{
    struct textbuf wide;
    textbuf_init(&wide);
    if (widen(value, &wide)) {
        textbuf_append(out, wide.data, wide.len);
    } else {
        textbuf_puts(out, "(?:");
        textbuf_puts(out, value);           /* as it is: the same matches */
        textbuf_puts(out, ")");
    }
    textbuf_free(&wide);
}

static bool widen(const char *value, struct textbuf *out)
{
    size_t n = strlen(value);
    const char *inner = value;
    if (strncmp(value, "(?:", 3) == 0 && n > 4 && value[n - 1] == ')') {
        /* its outer group, when that group spans the whole value */
        int depth = 0;
        size_t close = 0;
        for (size_t i = 0; i < n; i++) {
            if (value[i] == '\\') {
                i++;
                continue;
            }
            if (value[i] == '[') {
                const char *end = regex_class_end(value + i);
                if (end == NULL)
                    break;
                i = (size_t)(end - value);
                continue;
            }
            depth += value[i] == '(';
            depth -= value[i] == ')';
            if (depth == 0) {
                close = i;
                break;
            }
        }
        if (close == n - 1) {
            inner = value + 3;
            n -= 4;
        }
    }
    textbuf_puts(out, "(?:");
    bool wide_high = false, wide_entity = false, first = true;
    for (size_t start = 0;;) {
        size_t end;
        if (!regex_branch_end(inner, n, start, &end))
            return false;
        const char *b = inner + start;
        size_t len = end - start;
        if (regex_branch_high_only(b, len, false)) {
            if (!wide_high) {
                wide_high = true;
                textbuf_puts(out, first ? "" : "|");
                textbuf_puts(out, "[\\x80-\\xff]+");
            }
        } else if (branch_entity(b, len)) {
            if (!wide_entity) {
                wide_entity = true;
                textbuf_puts(out, first ? "" : "|");
                textbuf_puts(out, "&#[0-9a-fx]*;");
            }
        } else {
            textbuf_puts(out, first ? "" : "|");
            if (!split_class(b, len, &wide_high, out))
                textbuf_append(out, b, len);
        }
        first = false;
        if (end == n)
            break;
        start = end + 1;
    }
    textbuf_puts(out, ")");
    return true;
}

char *rules_replace_tags_superset(const struct ruleset *rs, const char *text)
{
    return replace_tags(rs, text, true);
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
            1, false, &groups);
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
