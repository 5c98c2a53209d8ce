/* rules_capture.c - SpamAssassin 4.0's capture rules (Conf.pm "CAPTURING TAGS USING REGEX
 * NAMED CAPTURE GROUPS"). A rule whose regex has named groups (?<NAME>...) (NAME in capitals,
 * digits and single underscores) is a capture rule: it runs before every other rule, and when
 * it matches, the non-empty texts its groups captured, without repeats, become the values of
 * the tag NAME (replacing what an earlier rule set). A rule whose regex names a tag as
 * %{NAME} (not after a backslash) is a template rule: on each message each template becomes
 * (?:v1|v2|...), the tag's values quoted (Perl's quotemeta), and the regex is compiled for
 * that message; while a tag it names has no value the rule does not run (no hit, even for !~).
 * What it promises on hostile input: at most CAPTURE_VALUES_MAX values of at most
 * CAPTURE_VALUE_MAX bytes per tag. A tag past either limit is not dropped (that would make the
 * message look cleaner): its templates match any non-empty text instead, so the rule can only
 * hit more, never less. The same any-text form, compiled once per ruleset, checks the regex at
 * load time and stands in when the message's regex cannot be compiled. Template rules are
 * never in the Hyperscan prefilter (rules_prefilter.c): their regex changes per message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "util.h"

#define CAPTURE_VALUE_MAX 1024     /* bytes of one captured value */
#define CAPTURE_VALUES_MAX 16      /* distinct values of one tag */
#define ANY_TEXT "(?s:.+?)"        /* what a template of a tag past a limit matches */

struct capture_tag {
    char *name;
    char **values;
    size_t *lengths;
    size_t count;
    bool overflow;             /* a value past a limit was seen: the tag matches any text */
};

struct capture_tags {
    struct capture_tag *tags;
    size_t count;
};

/* SpamAssassin's tag names: [A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*. */
static size_t tag_name_length(const char *p)
{
    if (!(*p >= 'A' && *p <= 'Z'))
        return 0;
    size_t n = 1;
    for (;;) {
        while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9'))
            n++;
        bool more = p[n] == '_' && ((p[n + 1] >= 'A' && p[n + 1] <= 'Z')
            || (p[n + 1] >= '0' && p[n + 1] <= '9'));
        if (!more)
            return n;
        n++;
    }
}

bool capture_tag_name_valid(const char *name)
{
    size_t n = tag_name_length(name);
    return n > 0 && name[n] == '\0';
}

/* A template at p ("%{NAME}" or "%{NAME(args)}"): its length, and the name's in *name_len;
 * 0 when p starts none. The caller checks the character before p is no backslash. */
static size_t template_at(const char *p, size_t *name_len)
{
    if (p[0] != '%' || p[1] != '{')
        return 0;
    size_t n = tag_name_length(p + 2);
    if (n == 0)
        return 0;
    size_t end = 2 + n;
    if (p[end] == '(') {
        end++;
        while (p[end] != '\0' && p[end] != ')' && p[end] != '}')
            end++;
        if (p[end] != ')')
            return 0;
        end++;
    }
    if (p[end] != '}')
        return 0;
    *name_len = n;
    return end + 1;
}

/* The pattern with each template replaced: by the tag's values quoted when tags is given,
 * else by ANY_TEXT. NULL when a tag has no value (the rule does not run). */
static void quote_value(struct textbuf *out, const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
            textbuf_append(out, v + i, 1);
        } else if (c > 0x20 && c < 0x7f) {
            textbuf_puts(out, "\\");
            textbuf_append(out, v + i, 1);
        } else {
            textbuf_printf(out, "\\x%02x", c);
        }
    }
}

static const struct capture_tag *find_tag(const struct capture_tags *tags, const char *name,
    size_t len)
{
    for (size_t i = 0; tags != NULL && i < tags->count; i++) {
        if (strlen(tags->tags[i].name) == len && memcmp(tags->tags[i].name, name, len) == 0)
            return &tags->tags[i];
    }
    return NULL;
}

static char *expand(const char *pattern, const struct capture_tags *tags, bool any_text)
{
    struct textbuf out;
    textbuf_init(&out);
    for (const char *p = pattern; *p != '\0';) {
        size_t name_len, n = 0;
        if (p == pattern || p[-1] != '\\')
            n = template_at(p, &name_len);
        if (n == 0) {
            textbuf_append(&out, p++, 1);
            continue;
        }
        const struct capture_tag *tag = any_text ? NULL : find_tag(tags, p + 2, name_len);
        if (tag == NULL || tag->overflow) {     /* (never NULL here but for the any-text form) */
            textbuf_puts(&out, ANY_TEXT);
        } else {
            textbuf_puts(&out, "(?:");
            for (size_t i = 0; i < tag->count; i++) {
                if (i > 0)
                    textbuf_puts(&out, "|");
                quote_value(&out, tag->values[i], tag->lengths[i]);
            }
            textbuf_puts(&out, ")");
        }
        p += n;
    }
    return out.data != NULL ? out.data : xstrdup("");
}

static pcre2_code *compile_pattern(const char *pattern, uint32_t options, char **detail)
{
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_BAD_ESCAPE_IS_LITERAL);
    int error;
    PCRE2_SIZE offset;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options,
        &error, &offset, cctx);
    pcre2_compile_context_free(cctx);
    if (code == NULL && detail != NULL) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        *detail = xasprintf("%s at offset %zu", (const char *)message, (size_t)offset);
    }
    return code;
}

static void add_name(char ***names, size_t *count, const char *name, size_t len)
{
    for (size_t i = 0; i < *count; i++) {
        if (strlen((*names)[i]) == len && memcmp((*names)[i], name, len) == 0)
            return;
    }
    *names = xrealloc(*names, (*count + 1) * sizeof **names);
    (*names)[(*count)++] = xstrndup(name, len);
}

bool capture_compile_rule(struct rule *r)
{
    if (r->regex == NULL || r->pattern == NULL)
        return true;
    /* named groups with tag names: a capture rule */
    uint32_t name_count = 0, entry_size = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(r->regex, PCRE2_INFO_NAMECOUNT, &name_count);
    pcre2_pattern_info(r->regex, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(r->regex, PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < name_count; i++) {
        const char *name = (const char *)table + (size_t)i * entry_size + 2;
        if (capture_tag_name_valid(name))
            add_name(&r->capture_names, &r->capture_count, name, strlen(name));
    }
    /* templates */
    for (const char *p = r->pattern; *p != '\0'; p++) {
        size_t name_len;
        if ((p == r->pattern || p[-1] != '\\') && template_at(p, &name_len) > 0)
            add_name(&r->templates, &r->template_count, p + 2, name_len);
    }
    if (r->template_count == 0)
        return true;
    char *any = expand(r->pattern, NULL, true);
    char *detail = NULL;
    pcre2_code *code = compile_pattern(any, r->pattern_options, &detail);
    free(any);
    if (code == NULL) {
        rule_skip(r, "regex PCRE2 cannot compile", detail);
        free(detail);
        return false;
    }
    pcre2_code_free(r->regex);
    r->regex = code;
    return true;
}

void capture_free_rule(struct rule *r)
{
    for (size_t i = 0; i < r->capture_count; i++)
        free(r->capture_names[i]);
    for (size_t i = 0; i < r->template_count; i++)
        free(r->templates[i]);
    free(r->capture_names);
    free(r->templates);
    r->capture_names = r->templates = NULL;
    r->capture_count = r->template_count = 0;
}

/* ---- per message ---- */

struct capture_tags *capture_tags_new(void)
{
    return xcalloc(1, sizeof(struct capture_tags));
}

static void clear_tag(struct capture_tag *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->values[i]);
    free(t->values);
    free(t->lengths);
    t->values = NULL;
    t->lengths = NULL;
    t->count = 0;
    t->overflow = false;
}

void capture_tags_free(struct capture_tags *tags)
{
    if (tags == NULL)
        return;
    for (size_t i = 0; i < tags->count; i++) {
        clear_tag(&tags->tags[i]);
        free(tags->tags[i].name);
    }
    free(tags->tags);
    free(tags);
}

static struct capture_tag *tag_for(struct capture_tags *tags, const char *name)
{
    struct capture_tag *t = (struct capture_tag *)find_tag(tags, name, strlen(name));
    if (t != NULL)
        return t;
    tags->tags = xrealloc(tags->tags, (tags->count + 1) * sizeof *tags->tags);
    t = &tags->tags[tags->count++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    return t;
}

static void add_value(struct capture_tag *t, const char *v, size_t len)
{
    if (len == 0 || t->overflow)
        return;
    for (size_t i = 0; i < t->count; i++) {
        if (t->lengths[i] == len && memcmp(t->values[i], v, len) == 0)
            return;
    }
    if (len > CAPTURE_VALUE_MAX || t->count >= CAPTURE_VALUES_MAX) {
        clear_tag(t);
        t->overflow = true;
        return;
    }
    t->values = xrealloc(t->values, (t->count + 1) * sizeof *t->values);
    t->lengths = xrealloc(t->lengths, (t->count + 1) * sizeof *t->lengths);
    t->values[t->count] = xstrndup(v, len);
    t->lengths[t->count++] = len;
}

void capture_collect(struct capture_tags *pending, const pcre2_code *code, const char *subject,
    pcre2_match_data *md)
{
    uint32_t name_count = 0, entry_size = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &name_count);
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    for (uint32_t i = 0; i < name_count; i++) {
        const unsigned char *entry = table + (size_t)i * entry_size;
        uint32_t group = ((uint32_t)entry[0] << 8) | entry[1];
        const char *name = (const char *)entry + 2;
        if (!capture_tag_name_valid(name))
            continue;
        struct capture_tag *t = tag_for(pending, name);   /* named even when empty, as %- */
        if (group >= pairs || ov[2 * group] == PCRE2_UNSET)
            continue;
        add_value(t, subject + ov[2 * group], ov[2 * group + 1] - ov[2 * group]);
    }
}

void capture_tags_put(struct capture_tags *tags, const char *name, const char *const *values,
    size_t count)
{
    struct capture_tag *t = tag_for(tags, name);
    clear_tag(t);
    for (size_t i = 0; i < count; i++)
        add_value(t, values[i], strlen(values[i]));
}

void capture_tags_commit(struct capture_tags *tags, struct capture_tags *pending)
{
    for (size_t i = 0; i < pending->count; i++) {
        struct capture_tag *from = &pending->tags[i];
        if (template_tag_fixed(from->name)) {      /* get_tag_raw reads common_tags first */
            clear_tag(from);
            free(from->name);
            continue;
        }
        struct capture_tag *to = tag_for(tags, from->name);
        clear_tag(to);
        to->values = from->values;
        to->lengths = from->lengths;
        to->count = from->count;
        to->overflow = from->overflow;
        from->values = NULL;
        from->lengths = NULL;
        from->count = 0;
        free(from->name);
    }
    free(pending->tags);
    pending->tags = NULL;
    pending->count = 0;
}

const pcre2_code *capture_rule_regex(const struct rule *r, const struct capture_tags *tags,
    pcre2_code **owned)
{
    *owned = NULL;
    if (r->template_count == 0)
        return r->regex;
    for (size_t i = 0; i < r->template_count; i++) {
        const struct capture_tag *t = find_tag(tags, r->templates[i], strlen(r->templates[i]));
        if (t == NULL || (t->count == 0 && !t->overflow))
            return NULL;
    }
    char *pattern = expand(r->pattern, tags, false);
    *owned = compile_pattern(pattern, r->pattern_options, NULL);
    free(pattern);
    return *owned != NULL ? *owned : r->regex;     /* too large: the any-text form */
}
