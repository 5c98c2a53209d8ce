/* eval_mime.h - the message's MIME tree as SpamAssassin's own parser builds it
 * (Message.pm, Message/Node.pm), for the plugins that look at parts: MIMEEval, MIMEHeader,
 * BodyEval, ImageInfo. SpamAssassin's parser differs from GMime's in ways its rules see
 * (text/anything is text/plain, a preamble without a boundary is a part, a multipart without
 * its own boundary takes its parent's, where parts begin and end, the flags it raises on
 * malformed structure), so the plugins read this tree, not the message view. Built once per
 * message from the header fields and the raw body (CRLF read as LF, as SpamAssassin reads a
 * file), within the body the rules were given; parts in find_parts() order: the message
 * first, then depth first. */
#ifndef MW_EVAL_MIME_H
#define MW_EVAL_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "rules_evalfn.h"

struct sa_mime_header {
    char *name;                /* as written */
    char *raw;                 /* the value as SpamAssassin keeps it: folding and final newline
                                  kept (the message's own fields: the blank after the colon
                                  kept too) */
    char *decoded;             /* unfolded, trimmed, RFC 2047-decoded (UTF-8) */
};

struct sa_mime_part {
    char *type;                /* Util::parse_content_type's type, lower case */
    char *boundary;            /* NULL when none */
    char *charset;             /* as written; NULL when none */
    char *name;                /* file name (Content-Disposition's, else Content-Type's) */
    struct sa_mime_header *headers;
    size_t header_count;
    char *raw;                 /* a leaf's body lines as SpamAssassin keeps them (raw()) */
    size_t raw_len;
    size_t parent;             /* index of the parent; SIZE_MAX for the message itself */
    bool leaf;                 /* no child parts */
};

struct sa_mime {
    struct sa_mime_part *parts;
    size_t count;
    /* Message.pm's parse flags (check_msg_parse_flags) */
    bool missing_head_body_separator;
    bool missing_mime_head_body_separator;
    bool missing_mime_headers;
    bool mime_epilogue_exists;
    bool mimepart_limit_exceeded;
    bool truncated_header;
    bool missing_boundary;     /* a multipart's closing boundary never came */
};

/* The tree of the message being evaluated, built on first use; never NULL. */
const struct sa_mime *eval_mime(struct eval_ctx *ctx);

/* The last instance of header `name` of a part (get_header in scalar context): its decoded or
 * raw form; NULL when the part has none. */
const char *sa_mime_header(const struct sa_mime_part *part, const char *name, bool raw);
/* Util::parse_content_type on a Content-Type value (NULL: none): the type (text/anything
 * but html, x-vcard and calendar read as text/plain), boundary, charset and file name (each
 * NULL when absent; free them all), and whether the type was missing. */
void sa_parse_content_type(const char *ct, char **type, char **boundary, char **charset,
    char **name, bool *missing);
/* Whether the part (or one of its ancestors up to `ancestor`) is below part index ancestor. */
bool sa_mime_is_below(const struct sa_mime *mime, size_t part, size_t ancestor);
/* The part's body decoded from its Content-Transfer-Encoding (base64, quoted-printable; as
 * is otherwise). Free it. */
char *sa_mime_decode(const struct sa_mime_part *part, size_t *len);

#endif
