/* view_lines.c - SpamAssassin's line model of the message view. body: the Subject line, then
 * every rendered text part (a "\n" between parts) with each paragraph joined into one line
 * (a run of whitespace holding two or more line breaks ends a paragraph, any other run becomes
 * one space; Unicode whitespace counts), lines longer than 2048 bytes split after their last
 * space before that. rawbody: each text part decoded from its transfer encoding (not from
 * HTML) as one entry, or cut into pieces of 2048 to 4096 bytes at a line end, a '>' or a space.
 * Each part is first cut to SpamAssassin's per-part scan sizes (50 000 bytes of rendered text,
 * 500 000 of raw text) at a line end or space close after the limit. Promises: linear work,
 * lines that cover the text exactly, in order. */
#include "view_build.h"

#include <stdlib.h>
#include <string.h>

#define BODY_LINE_MAX 2048          /* SpamAssassin's MAX_BODY_LINE_LENGTH */

/* The length of the Unicode whitespace character at s (Perl's \s), 0 when none. */
size_t view_space_len(const char *s, size_t left)
{
    const unsigned char *u = (const unsigned char *)s;
    if (left == 0)
        return 0;
    if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
        return 1;
    if (left >= 2 && u[0] == 0xC2 && (u[1] == 0x85 || u[1] == 0xA0))
        return 2;
    if (left < 3)
        return 0;
    if (u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80)             /* U+1680 */
        return 3;
    if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] <= 0x8A || u[2] == 0xA8 || u[2] == 0xA9
            || u[2] == 0xAF))                                      /* U+2000-200A, 2028, 2029, 202F */
        return 3;
    if (u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F)             /* U+205F */
        return 3;
    if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)             /* U+3000 */
        return 3;
    return 0;
}

/* Where SpamAssassin cuts a part longer than limit: at the first "\n" (then, when allowed, '>'
 * and then ' ') no more than 1024 bytes after it, else at the limit. Returns the kept length. */
size_t view_part_cut(const char *s, size_t len, size_t limit, const char *stops)
{
    if (len <= limit)
        return len;
    for (const char *stop = stops; *stop != '\0'; stop++) {
        const char *hit = memchr(s + limit, *stop, len - limit);
        if (hit != NULL && (size_t)(hit - s) - limit <= 1024)
            return (size_t)(hit - s) + 1;
    }
    while (limit > 0 && ((unsigned char)s[limit] & 0xC0) == 0x80)
        limit--;                       /* not inside a UTF-8 character */
    return limit;
}

static void add_line(struct view_line **lines, size_t *count, size_t *alloc, size_t start,
    size_t len)
{
    if (*count == *alloc) {
        *alloc = *alloc ? 2 * *alloc : 64;
        *lines = xrealloc(*lines, *alloc * sizeof **lines);
    }
    (*lines)[(*count)++] = (struct view_line){ .start = start, .len = len };
}

/* Whether a whitespace character may start at byte c: the first byte of every one
 * view_space_len knows (a cheap test before the full one, for the scan over words). */
static bool may_start_space(unsigned char c)
{
    return c <= ' ' || c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3;
}

/* Joins paragraphs of in[0..len) into out: a whitespace run with two or more "\n" becomes
 * "\n" (a space kept on each side where the run had whitespace there), any other run " ". */
static void join_paragraphs(const char *in, size_t len, struct textbuf *out)
{
    size_t i = 0;
    while (i < len) {
        size_t n = view_space_len(in + i, len - i);
        if (n == 0) {
            size_t run = i + 1;
            while (run < len && (!may_start_space((unsigned char)in[run])
                       || view_space_len(in + run, len - run) == 0))
                run++;
            textbuf_append(out, in + i, run - i);
            i = run;
            continue;
        }
        size_t start = i, first_nl = SIZE_MAX, last_nl = SIZE_MAX;
        while (i < len && (n = view_space_len(in + i, len - i)) > 0) {
            if (in[i] == '\n') {
                if (first_nl == SIZE_MAX)
                    first_nl = i;
                last_nl = i;
            }
            i += n;
        }
        if (first_nl == SIZE_MAX || first_nl == last_nl) {
            textbuf_append(out, " ", 1);
            continue;
        }
        if (first_nl > start)
            textbuf_append(out, " ", 1);
        textbuf_append(out, "\n", 1);
        if (last_nl + 1 < i)
            textbuf_append(out, " ", 1);
    }
}

/* Adds one rendered part to the body under construction (a "\n" before every part but the
 * first, as SpamAssassin does). */
void view_body_add_part(struct view_builder *b, const char *text, size_t len,
    const char *visible, size_t visible_len)
{
    if (b->body_part_count > 0) {
        textbuf_puts(&b->body_parts, "\n");
        textbuf_puts(&b->visible_parts, "\n");
    }
    b->body_part_count++;
    size_t keep = view_part_cut(text, len, VIEW_BODY_PART_SCAN, "\n ");
    if (keep < len)
        b->view->truncated = true;
    textbuf_append(&b->body_parts, text, keep);
    keep = view_part_cut(visible, visible_len, VIEW_BODY_PART_SCAN, "\n ");
    textbuf_append(&b->visible_parts, visible, keep);
}

/* Builds view->text and view->lines: subject (without line breaks) and "\n", then the parts
 * with paragraphs joined, under the scan cap, split into lines. */
void view_body_finish(struct view_builder *b, const char *subject)
{
    struct textbuf joined;
    textbuf_init(&joined);
    if (subject != NULL) {
        for (const char *s = subject; *s; s++) {
            if (*s != '\r' && *s != '\n')
                textbuf_append(&joined, s, 1);
        }
    }
    textbuf_puts(&joined, "\n");
    size_t subject_len = joined.len;
    join_paragraphs(b->body_parts.data ? b->body_parts.data : "", b->body_parts.len, &joined);
    view_append_capped(b, &b->text, joined.data, joined.len);
    joined.len = subject_len;
    join_paragraphs(b->visible_parts.data ? b->visible_parts.data : "", b->visible_parts.len, &joined);
    size_t vlen = joined.len < b->cap ? joined.len : b->cap;
    while (vlen > 0 && vlen < joined.len && ((unsigned char)joined.data[vlen] & 0xC0) == 0x80)
        vlen--;
    b->view->visible_text = xstrndup(joined.data, vlen);
    b->view->visible_text_len = vlen;
    textbuf_free(&joined);

    struct message_view *view = b->view;
    size_t alloc = 0;
    const char *t = b->text.data ? b->text.data : "";
    size_t pos = 0, len = b->text.len;
    while (pos < len) {
        const char *nl = memchr(t + pos, '\n', len - pos);
        size_t line_end = nl ? (size_t)(nl - t) + 1 : len;
        while (line_end - pos > BODY_LINE_MAX) {
            size_t piece = 0;
            for (size_t k = BODY_LINE_MAX + 1; k-- > 0;) {
                if (t[pos + k] == ' ') {
                    piece = k + 1;
                    break;
                }
            }
            if (piece == 0)
                piece = BODY_LINE_MAX;
            add_line(&view->lines, &view->line_count, &alloc, pos, piece);
            pos += piece;
        }
        add_line(&view->lines, &view->line_count, &alloc, pos, line_end - pos);
        pos = line_end;
    }
}

/* Adds one part's transfer-decoded text to rawtext as rawbody entries. */
void view_raw_add_part(struct view_builder *b, const char *data, size_t len)
{
    struct message_view *view = b->view;
    size_t keep = view_part_cut(data, len, VIEW_RAWBODY_PART_SCAN, "\n> ");
    if (keep < len)
        view->truncated = true;
    size_t base = b->rawtext.len;
    view_append_capped(b, &b->rawtext, data, keep);
    size_t got = b->rawtext.len - base;
    const char *t = b->rawtext.data ? b->rawtext.data + base : "";
    if (got <= BODY_LINE_MAX) {
        add_line(&view->raw_lines, &view->raw_line_count, &b->raw_line_alloc, base, got);
        return;
    }
    size_t ofs = 0;
    while (got - ofs > 2 * BODY_LINE_MAX) {
        size_t j = SIZE_MAX;
        static const char stops[] = "\n> ";
        for (size_t s = 0; s < 3 && j == SIZE_MAX; s++) {
            const char *hit = memchr(t + ofs + BODY_LINE_MAX, stops[s], got - ofs - BODY_LINE_MAX);
            if (hit != NULL && (size_t)(hit - t) - ofs + 1 <= 2 * BODY_LINE_MAX)
                j = (size_t)(hit - t);
        }
        if (j == SIZE_MAX)
            j = ofs + BODY_LINE_MAX;
        add_line(&view->raw_lines, &view->raw_line_count, &b->raw_line_alloc, base + ofs,
            j - ofs + 1);
        ofs = j + 1;
    }
    if (ofs < got)
        add_line(&view->raw_lines, &view->raw_line_count, &b->raw_line_alloc, base + ofs, got - ofs);
}
