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

struct view_builder {
    struct message_view *view;
    struct textbuf text;
    struct textbuf rawtext;
    size_t cap;                /* bytes of text / rawtext at most */
    size_t uri_alloc;
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
/* Records a URI (trimmed; a bare URL already known is not added again; at most
 * VIEW_MAX_URIS). link_text NULL for a bare URL. */
void view_add_uri(struct view_builder *b, const char *url, size_t len, const char *link_text);
/* Finds bare URLs (http://, https://, ftp://, www.) in plain text; linear in len. */
void view_scan_bare_urls(struct view_builder *b, const char *s, size_t len);

/* view_html.c */
/* Renders HTML (UTF-8) to text in out and records its links with their visible text. */
void view_render_html(struct view_builder *b, const char *html, size_t len, struct textbuf *out);

#endif
