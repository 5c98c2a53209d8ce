/* view_build.h - what the files that build the message view share (not for checks: they use
 * message_view.h): the builder that collects text, rawtext and URIs under the scan cap, and
 * the pieces each file provides - text buffers (view_text.c), charsets and transfer-encoding
 * validity (view_charset.c), URIs (view_uri.c), HTML rendering (view_html.c). The MIME walk
 * that drives them is message_view.c. */
#ifndef MW_VIEW_BUILD_H
#define MW_VIEW_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "message_view.h"
#include "util.h"

#define VIEW_MAX_URIS 1000     /* URIs recorded per message */
#define VIEW_BODY_PART_SCAN 50000      /* SpamAssassin's body_part_scan_size */
#define VIEW_RAWBODY_PART_SCAN 500000  /* SpamAssassin's rawbody_part_scan_size */

struct view_builder {
    struct message_view *view;
    struct textbuf text;
    struct textbuf rawtext;
    size_t cap;                /* bytes of text / rawtext at most */
    size_t uri_alloc;
    struct textbuf body_parts; /* rendered parts, "\n" between, before paragraphs are joined */
    struct textbuf visible_parts;  /* the same with HTML's invisible text left out */
    size_t body_part_count;
    size_t raw_line_alloc;
};

/* view_text.c */
bool view_is_space(unsigned char c);
/* Appends at most what fits under b->cap, cut at a UTF-8 character boundary; sets truncated. */
void view_append_capped(struct view_builder *b, struct textbuf *buf, const char *data, size_t len);
/* Appends with whitespace runs collapsed: "\n" when the run held a line break, else " ";
 * U+00A0 counts as whitespace. */
void view_append_collapsed(struct view_builder *b, struct textbuf *buf, const char *s, size_t len);
/* Ends the current line of buf, if any. */
void view_end_block(struct view_builder *b, struct textbuf *buf);

/* view_lines.c */
/* The length of the Unicode whitespace character (Perl's \s) at s, 0 when none. */
size_t view_space_len(const char *s, size_t left);
/* The length SpamAssassin keeps of a part longer than limit: cut just after the first of
 * stops found no more than 1024 bytes past the limit, else at the limit. */
size_t view_part_cut(const char *s, size_t len, size_t limit, const char *stops);
/* One rendered text part for body (plain text as is, HTML as rendered). */
void view_body_add_part(struct view_builder *b, const char *text, size_t len,
    const char *visible, size_t visible_len);
/* Makes view->text and view->lines from the subject and the parts added. */
void view_body_finish(struct view_builder *b, const char *subject);
/* One transfer-decoded text part for rawbody (rawtext and raw_lines). */
void view_raw_add_part(struct view_builder *b, const char *data, size_t len);

/* view_charset.c */
/* Copies s as valid UTF-8 (invalid bytes to U+FFFD, NUL to a space); false when anything was
 * replaced. */
bool view_utf8_sanitize(const char *s, size_t len, struct textbuf *out);
/* len bytes in charset (NULL: UTF-8 / ASCII) to a new NUL-terminated UTF-8 string; sets *bad
 * on an unknown charset or an invalid sequence; never fails. */
char *view_to_utf8(const char *charset, const char *in, size_t len, size_t *out_len, bool *bad);
bool view_base64_valid(const unsigned char *s, size_t len);
bool view_qp_valid(const unsigned char *s, size_t len);

/* view_uri.c */
/* Records a URI (trimmed; one without link text already known only gains the type; at most
 * VIEW_MAX_URIS). link_text NULL for a bare URL. Returns the record or NULL. */
struct message_uri *view_add_uri_typed(struct view_builder *b, const char *url, size_t len,
    const char *link_text, unsigned type);
/* As view_add_uri_typed, the type VIEW_URI_A with link text, none without. */
void view_add_uri(struct view_builder *b, const char *url, size_t len, const char *link_text);
/* Finds the URIs and mail addresses in the body lines as SpamAssassin does. */
void view_scan_body_uris(struct view_builder *b);

/* view_html.c */
/* Renders HTML (UTF-8) as SpamAssassin does: all text to out, the visible text to visible
 * (may be NULL); records its links and a view->html_parts entry with its statistics. */
void view_render_html(struct view_builder *b, const char *html, size_t len, struct textbuf *out,
    struct textbuf *visible);
void view_html_part_free(struct view_html_part *p);
/* view_html_color.c: name_to_rgb ("#rrggbb" or "invalid"), a CSS background's colour (bg
 * unchanged when it has none) */
void view_html_color(const char *in, char out[16]);
void view_html_css_background(const char *value, char bg[16]);
/* view_html_target.c: rel resolved against base (malloc'd) */
char *view_html_target_uri(const char *base, const char *rel);

#endif
