/* message_view.h - the message as the content checks see it: MIME-decoded (GMime), text parts
 * in UTF-8, HTML rendered to text with its links (libxml2's HTML parser), the parts and the
 * URIs found. Built once per transaction, on the first call at end of message, from what
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

struct message_uri {
    char *url;                 /* as found, trimmed */
    char *host;                /* lower case, NULL when none (mailto:, relative) */
    char *link_text;           /* the visible text of an <a href>, NULL for a bare URL */
    bool host_is_ip;           /* an IP literal, including decimal/hex forms */
};

struct message_view {
    /* SpamAssassin "body": Subject, then every text part decoded to UTF-8, HTML rendered to
     * text, whitespace runs collapsed. NUL-terminated. */
    char *text;
    size_t text_len;
    /* SpamAssassin "rawbody": text parts decoded to UTF-8 but HTML not rendered. */
    char *rawtext;
    size_t rawtext_len;
    struct message_part *parts;
    size_t part_count;
    struct message_uri *uris;
    size_t uri_count;
    /* the header fields' decoded forms and the header rules' texts, made on first use, each
     * once per message (header_cache.h) */
    struct header_cache *header_cache;
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

#endif
