/* message_view.h - the message as the content checks see it: MIME-decoded (GMime), text parts
 * in UTF-8, HTML rendered to text with its links as SpamAssassin renders it, the body as
 * SpamAssassin's lines, the parts and the URIs found. Built once per transaction, on the first call at end of message, from what
 * the txn buffered (headers, and up to limits.max_body_buffer of body), within a cap on bytes
 * scanned; freed when the transaction ends. Malformed input never fails the build: it is
 * decoded as far as it goes and flagged. (Implementation: message_view.c.) */
#ifndef MW_MESSAGE_VIEW_H
#define MW_MESSAGE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct txn;
struct header_cache;
struct header_field;

struct message_part {
    char *content_type;        /* "text/html", lower case */
    char *filename;            /* attachment name, NULL when none */
    char *charset;             /* declared charset, NULL when none */
    size_t decoded_size;
    bool is_attachment;        /* Content-Disposition attachment, or a named non-text part */
    bool bad_encoding;         /* broken base64 / quoted-printable, unknown charset, bad UTF-8 */
};

/* Where a URI was found (message_uri.types), SpamAssassin's uri_detail "types". */
#define VIEW_URI_PARSED     0x1u   /* in the body text */
#define VIEW_URI_A          0x2u   /* <a href> */
#define VIEW_URI_AREA       0x4u
#define VIEW_URI_LINK       0x8u
#define VIEW_URI_IMG        0x10u
#define VIEW_URI_FRAME      0x20u  /* <frame> or <iframe> */
#define VIEW_URI_FORM       0x40u
#define VIEW_URI_BASE       0x80u
#define VIEW_URI_META       0x100u /* <meta http-equiv=refresh> */
#define VIEW_URI_BACKGROUND 0x200u /* body, table, tr, td background */
#define VIEW_URI_SCRIPT     0x400u /* <script src>, <embed>, <bgsound> */
#define VIEW_URI_IFRAME     0x800u /* <iframe src> */

struct message_uri {
    char *url;                 /* as found, trimmed; found in text: with the scheme
                                  SpamAssassin adds (http://, ftp://, mailto:) */
    char *host;                /* lower case, NULL when none (mailto:, relative) */
    char *link_text;           /* the visible text of an <a href>, NULL for a bare URL */
    char *anchor_text;         /* an <a href>'s text as SpamAssassin records it (whitespace
                                  as written, "<img>\n" for each image), NULL otherwise */
    bool host_is_ip;           /* an IP literal, including decimal/hex forms */
    unsigned types;            /* VIEW_URI_* where it was found */
    bool schemeless;           /* found in text without a scheme (www.x, a@b.c, x.com) */
    bool unlinked;             /* schemeless and not www./ftp./mail: MUAs do not link it */
};

/* One "line" of SpamAssassin's body or rawbody arrays: text[start .. start + len). */
struct view_line {
    size_t start;
    size_t len;
};

/* What SpamAssassin's HTML.pm records of one text/html part (its get_results), for the
 * HTMLEval plugin: gathered while the part is rendered. Ratios are negative when SpamAssassin
 * leaves them undefined. */
struct view_html_tag_count {
    char *name;                /* lower case */
    int count;                 /* opened minus closed, never below 0 */
};

struct view_html_part {
    struct view_html_tag_count *inside;   /* every tag seen ("exists $html->{inside}{tag}") */
    size_t inside_count;
    size_t length;             /* characters of the HTML source */
    size_t html_length;        /* characters of the rendered text */
    size_t non_space_len;      /* of them, not whitespace */
    double image_area;
    int min_size, max_size;
    double closed_extra_ratio, bad_tag_ratio, non_element_ratio, obfuscation_ratio;
    double backhair_count;     /* -1: none */
    bool font_low_contrast, font_invalid_color, font_face_bad, form_action_mailto, embeds;
    char **comments, **scripts, **titles, **anchors;
    size_t comment_count, script_count, title_count, anchor_count;
    char *charsets;            /* from <meta http-equiv=Content-Type>, NULL when none */
};

struct message_view {
    /* SpamAssassin "body": the Subject line, then every text/plain and text/html part
     * (attachments too) decoded to UTF-8, HTML rendered to text, each paragraph joined into
     * one line and whitespace runs collapsed to one space. NUL-terminated. lines are the
     * entries body rules match one by one (long lines split as SpamAssassin does); each but
     * possibly the last ends with its "\n". */
    char *text;
    size_t text_len;
    struct view_line *lines;
    size_t line_count;
    /* SpamAssassin "rawbody": the text/ and message/ parts (not text/calendar) decoded from
     * their transfer encoding to UTF-8, HTML not rendered, one after the other; raw_lines are
     * the entries rawbody rules match: a part, or pieces of 2048-4096 bytes of a longer one. */
    char *rawtext;
    size_t rawtext_len;
    struct view_line *raw_lines;
    size_t raw_line_count;
    struct message_part *parts;
    size_t part_count;
    struct message_uri *uris;
    size_t uri_count;
    struct view_html_part *html_parts;     /* one per text/html part rendered */
    size_t html_part_count;
    /* the body as above but without the HTML text SpamAssassin finds invisible (its
     * visible_rendered: what Bayes reads); lines split the same way */
    char *visible_text;
    size_t visible_text_len;
    /* the header fields' decoded forms and the header rules' texts, made on first use, each
     * once per message (header_cache.h) */
    struct header_cache *header_cache;
    bool uris_truncated;       /* more than VIEW_MAX_URIS URIs */
    bool uri_truncated;        /* a URI longer than 8192 bytes was cut (SpamAssassin's
                                  uri_truncated) */
    bool truncated;            /* the scan cap was reached, or the body buffer was */
    bool mime_error;           /* the MIME structure itself was malformed */
};

/* What a view is built from: the header fields kept (header.h), the buffered body, whether
 * either was cut before, and the cap on body bytes scanned (spam.max_scan_bytes). */
struct message_source {
    const struct header_field *headers;
    size_t header_count;
    const char *body;          /* may be NULL */
    size_t body_len;
    bool truncated;
    uint64_t max_scan_bytes;
};

/* Builds the view (message_view.c); never NULL. It refers to src->headers (header_cache), so
 * it must be freed before they are. */
struct message_view *message_view_build(const struct message_source *src);
/* The view of t's message, built on first use from what t buffered (txn_view.c); never NULL.
 * Valid until the transaction ends (txn_reset). */
const struct message_view *message_view_get(struct txn *t);
void message_view_free(struct message_view *view);
/* One HTML part (UTF-8) rendered to text as view->text renders it, on its own: no view kept,
 * its links and statistics dropped. Malloc'd, NUL-terminated, never NULL; *out_len its length. */
char *message_view_render_html(const char *html, size_t len, size_t *out_len);

/* SpamAssassin's Util::url_encode, which decodes: %XX escapes of 0x21-0x7E undone, other
 * escapes kept; control, space, non-ASCII bytes and " % < > escaped. Malloc'd (view_uri.c). */
char *view_url_decode(const char *s);

#endif
