/* rules_helpers.c - the helpers of rules_helpers.h: loading rules from text, collecting hits,
 * splitting a message written as text into header fields and body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_helpers.h"
#include "util.h"

struct ruleset *rules_helper_load(const char *text)
{
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "test", text, strlen(text));
    ruleset_finish(rs);
    return rs;
}

void rules_helper_collect(const struct rules_hit *hit, void *arg)
{
    struct rules_helper_hits *h = arg;
    if (h->n >= RULES_HELPER_HITS_MAX)
        return;
    snprintf(h->names[h->n], sizeof h->names[0], "%s", hit->name);
    h->scores[h->n] = hit->score;
    h->n++;
}

bool rules_helper_has(const struct rules_helper_hits *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->names[i], name) == 0)
            return true;
    }
    return false;
}

double rules_helper_score_of(const struct rules_helper_hits *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->names[i], name) == 0)
            return h->scores[i];
    }
    fail_msg("%s did not hit", name);
    return 0;
}

void message_text_split(struct message_text *m, const char *text, size_t len)
{
    memset(m, 0, sizeof *m);
    m->copy = xmalloc(len + 1);
    memcpy(m->copy, text, len);
    m->copy[len] = '\0';
    char *p = m->copy, *end = m->copy + len;
    size_t alloc = 0;
    while (p < end && *p != '\n') {
        char *line_end = memchr(p, '\n', (size_t)(end - p));
        if (line_end == NULL)
            line_end = end;
        /* folded continuation lines belong to this field */
        while (line_end + 1 < end && (line_end[1] == ' ' || line_end[1] == '\t')) {
            char *next = memchr(line_end + 1, '\n', (size_t)(end - line_end - 1));
            line_end = next != NULL ? next : end;
        }
        char *next_line = line_end < end ? line_end + 1 : end;
        *line_end = '\0';
        char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon == NULL) {
            m->lines_without_colon++;
        } else {
            *colon = '\0';
            if (m->count == alloc) {
                alloc = alloc ? alloc * 2 : 16;
                m->fields = xrealloc(m->fields, alloc * sizeof *m->fields);
            }
            m->fields[m->count++] = (struct header_field){ .name = p, .value = colon + 1 };
        }
        p = next_line;
    }
    if (p < end)
        p++;                                            /* the empty line */
    m->body = p;
    m->body_len = (size_t)(end - p);
}

void message_text_free(struct message_text *m)
{
    free(m->fields);
    free(m->copy);
    memset(m, 0, sizeof *m);
}
