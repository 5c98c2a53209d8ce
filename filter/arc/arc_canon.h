/* arc_canon.h - what the ARC-Seal signature covers (RFC 8617 5.1.1): the fields of every ARC
 * set from instance 1 up to the seal's own, each set in the order ARC-Authentication-Results,
 * ARC-Message-Signature, ARC-Seal, in the "relaxed" header canonicalization of RFC 6376 3.4.2,
 * the seal itself last with its b= value removed and without its final CRLF. Pure: it builds
 * bytes from fields it is given; hashing and signatures are elsewhere. */
#ifndef MW_ARC_CANON_H
#define MW_ARC_CANON_H

#include <stddef.h>

#include "arc_set.h"
#include "header.h"
#include "util.h"

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
