/* arc_tags.h - the tag=value list of RFC 6376 section 3.2 as ARC's ARC-Seal and
 * ARC-Message-Signature use it (RFC 8617 sections 4.1.2, 4.1.3), parsed strictly: a tag name
 * that is not ALPHA *(ALPHA / DIGIT / "_"), a spec without "=", a value with a character
 * outside VALCHAR, an empty spec between two semicolons and a tag given twice are errors with
 * a reason. Names are case-sensitive; a value keeps its inner white space (folding unfolded
 * to the white space itself) and loses the white space around it. Pure: no I/O, no globals. */
#ifndef MW_ARC_TAGS_H
#define MW_ARC_TAGS_H

#include <stdbool.h>
#include <stddef.h>

/* More tags than this in one field is an error (no ARC field needs half as many). */
#define ARC_TAGS_MAX 64

struct arc_tag {
    char *name;
    char *value;               /* white space around it removed, inner white space kept */
};

struct arc_tags {
    size_t count;
    struct arc_tag *tag;
    char error[160];           /* why parsing failed; empty after success */
};

/* Parses the field value `text` (len bytes, no NUL needed) into *out. Returns true, or false
 * with out->error set (out holds no tags then). Call arc_tags_free() either way. */
bool arc_tags_parse(const char *text, size_t len, struct arc_tags *out);
void arc_tags_free(struct arc_tags *tags);

/* The value of tag `name` (exact, case-sensitive), or NULL when absent. */
const char *arc_tags_get(const struct arc_tags *tags, const char *name);

/* A copy of `value` without any white space (CR, LF, SP, HTAB), for b=, bh= and h=, whose
 * white space is folding and carries no meaning (RFC 6376 3.5). */
char *arc_tags_strip_space(const char *value);

#endif
