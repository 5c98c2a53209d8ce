/* arc_canon.h - DKIM canonicalization (RFC 6376 3.4), written once for ARC's signatures:
 * header fields simple and relaxed, the body simple and relaxed as a stream, and what the
 * ARC-Seal signature covers (RFC 8617 5.1.1): the fields of every ARC set from instance 1 up
 * to the seal's own, each set in the order ARC-Authentication-Results, ARC-Message-Signature,
 * ARC-Seal, relaxed, the seal itself last with its b= value removed and without its final
 * CRLF. Pure: it builds bytes from what it is given; hashing and signatures are elsewhere. */
#ifndef MW_ARC_CANON_H
#define MW_ARC_CANON_H

#include <stddef.h>

#include "arc_set.h"
#include "header.h"
#include "util.h"

enum arc_canon_kind {
    ARC_CANON_SIMPLE,
    ARC_CANON_RELAXED,
};

/* Parses a c= value ("relaxed/simple", "simple", ...; RFC 6376 3.5: a missing body part is
 * simple). False for anything else. */
bool arc_canon_parse(const char *c, enum arc_canon_kind *header, enum arc_canon_kind *body);

/* Appends "name:value\r\n" in simple canonicalization: name and value unchanged, the value
 * being what followed the colon (with its leading white space and folding), but for a bare
 * LF in the folding, which becomes CRLF (the MTA may hand folded values with LF alone). */
void arc_canon_simple_header(const char *name, const char *raw_value, struct textbuf *out);

/* The value of a header field as canonicalization needs it: raw_value when the MTA gave it,
 * else value (whose leading white space was dropped) with one SP put back in front for
 * simple (the usual "Name: value"); relaxed does not care. Appends in `kind`. */
void arc_canon_header_field(enum arc_canon_kind kind, const struct header_field *field,
    struct textbuf *out);

/* Body canonicalization as a stream: feed chunks of any size, get canonical bytes through
 * the sink as soon as they are known (trailing empty lines and white space are held back
 * until more text shows they are not at the end). */
typedef void (*arc_body_sink)(void *arg, const unsigned char *data, size_t len);

struct arc_body_canon {
    enum arc_canon_kind kind;
    size_t empty_lines;        /* CRLFs held back (possibly trailing empty lines) */
    bool pending_wsp;          /* relaxed: white space held back inside a line */
    bool pending_cr;           /* a CR was the last byte of the previous chunk */
    bool line_open;            /* bytes were written on the current line */
    bool any_output;           /* something was written at all */
};
void arc_body_canon_init(struct arc_body_canon *bc, enum arc_canon_kind kind);
void arc_body_canon_update(struct arc_body_canon *bc, const unsigned char *chunk, size_t len,
    arc_body_sink sink, void *arg);
/* Ends the body: the final CRLF (simple: a body of nothing becomes one CRLF; relaxed: an
 * empty body stays empty). */
void arc_body_canon_final(struct arc_body_canon *bc, arc_body_sink sink, void *arg);

/* Appends "name:value\r\n" in relaxed canonicalization: the name in lower case, the value
 * unfolded (CR and LF removed), runs of SP/HTAB made one SP, white space at both ends removed. */
void arc_canon_relaxed_header(const char *name, const char *value, struct textbuf *out);

/* A copy of a DKIM-style tag list with the value of its b= tag (and the white space around
 * that value) removed, everything else kept byte for byte (RFC 6376 3.7); a copy unchanged
 * when there is no b= tag. The tag name must be exactly "b" (bh= is kept). */
char *arc_canon_without_b(const char *value);

/* The fields the ARC-Seal of instance `upto` covers, in order: out[3*(i-1)+0..2] = AAR, AMS
 * and AS of instance i, for i = 1..upto. The chain must be READY with upto in 1..count; out
 * has room for 3*upto pointers into `fields`. Returns the number written (0 when upto is out
 * of range or the chain is not READY). */
size_t arc_canon_seal_fields(const struct arc_chain *chain, const struct header_field *fields,
    unsigned upto, const struct header_field **out);

/* Appends the bytes the ARC-Seal of instance `upto` signs: the fields of
 * arc_canon_seal_fields() relaxed-canonicalized, the last (that seal) with b= emptied and no
 * final CRLF. False (nothing appended) when upto is out of range or the chain is not READY. */
bool arc_canon_seal_input(const struct arc_chain *chain, const struct header_field *fields,
    unsigned upto, struct textbuf *out);

#endif
