/* arc_canon.c - DKIM canonicalization of header fields and body (RFC 6376 3.4) and the input
 * of an ARC-Seal signature (RFC 6376 3.7; RFC 8617 5.1.1; see arc_canon.h). The only copy
 * of canonicalization in mailwarden: DKIM's signer and verifier use it too. */
#include "arc_canon.h"

#include <stdlib.h>
#include <string.h>

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
    return is_wsp(c) || c == '\r' || c == '\n';
}

bool arc_canon_parse(const char *c, enum arc_canon_kind *header, enum arc_canon_kind *body)
{
    const char *slash = strchr(c, '/');
    size_t head_len = slash != NULL ? (size_t)(slash - c) : strlen(c);
    const char *tail = slash != NULL ? slash + 1 : "simple";
    enum arc_canon_kind h, b;
    if (head_len == 6 && strncmp(c, "simple", 6) == 0)
        h = ARC_CANON_SIMPLE;
    else if (head_len == 7 && strncmp(c, "relaxed", 7) == 0)
        h = ARC_CANON_RELAXED;
    else
        return false;
    if (strcmp(tail, "simple") == 0)
        b = ARC_CANON_SIMPLE;
    else if (strcmp(tail, "relaxed") == 0)
        b = ARC_CANON_RELAXED;
    else
        return false;
    *header = h;
    *body = b;
    return true;
}

/* Appends value with each bare LF made CRLF: Postfix hands a folded value with LF alone,
 * while the message on the wire, which simple canonicalization signs, has CRLF. */
static void append_crlf_lines(struct textbuf *out, const char *value)
{
    const char *start = value;
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r')) {
            textbuf_append(out, start, (size_t)(p - start));
            textbuf_append(out, "\r", 1);
            start = p;
        }
    }
    textbuf_append(out, start, strlen(start));
}

void arc_canon_simple_header(const char *name, const char *raw_value, struct textbuf *out)
{
    textbuf_append(out, name, strlen(name));
    textbuf_append(out, ":", 1);
    append_crlf_lines(out, raw_value);
    textbuf_append(out, "\r\n", 2);
}

void arc_canon_header_field(enum arc_canon_kind kind, const struct header_field *field,
    struct textbuf *out)
{
    const char *value = field->value != NULL ? field->value : "";
    if (kind == ARC_CANON_RELAXED) {
        arc_canon_relaxed_header(field->name, field->raw_value != NULL ? field->raw_value : value,
            out);
        return;
    }
    if (field->raw_value != NULL) {
        arc_canon_simple_header(field->name, field->raw_value, out);
        return;
    }
    textbuf_append(out, field->name, strlen(field->name));
    textbuf_append(out, ": ", 2);
    append_crlf_lines(out, value);
    textbuf_append(out, "\r\n", 2);
}

void arc_body_canon_init(struct arc_body_canon *bc, enum arc_canon_kind kind)
{
    memset(bc, 0, sizeof *bc);
    bc->kind = kind;
}

static void emit_held_lines(struct arc_body_canon *bc, arc_body_sink sink, void *arg)
{
    static const unsigned char crlf[2] = { '\r', '\n' };
    for (; bc->empty_lines > 0; bc->empty_lines--)
        sink(arg, crlf, 2);
}

/* One byte of line content (anything but a CRLF line end). */
static void body_content(struct arc_body_canon *bc, unsigned char c, arc_body_sink sink,
    void *arg)
{
    if (bc->kind == ARC_CANON_RELAXED && (c == ' ' || c == '\t')) {
        bc->pending_wsp = true;
        return;
    }
    emit_held_lines(bc, sink, arg);
    if (bc->pending_wsp) {
        static const unsigned char sp = ' ';
        sink(arg, &sp, 1);
        bc->pending_wsp = false;
    }
    sink(arg, &c, 1);
    bc->line_open = true;
    bc->any_output = true;
}

static void body_line_end(struct arc_body_canon *bc)
{
    bc->pending_wsp = false;            /* relaxed: white space at the end of a line goes */
    bc->empty_lines++;
    bc->line_open = false;
}

void arc_body_canon_update(struct arc_body_canon *bc, const unsigned char *chunk, size_t len,
    arc_body_sink sink, void *arg)
{
    size_t i = 0;
    if (bc->pending_cr && len > 0) {
        bc->pending_cr = false;
        if (chunk[0] == '\n') {
            body_line_end(bc);
            i = 1;
        } else {
            body_content(bc, '\r', sink, arg);
        }
    }
    for (; i < len; i++) {
        unsigned char c = chunk[i];
        if (c != '\r') {
            body_content(bc, c, sink, arg);
            continue;
        }
        if (i + 1 == len) {
            bc->pending_cr = true;
            break;
        }
        if (chunk[i + 1] == '\n') {
            body_line_end(bc);
            i++;
        } else {
            body_content(bc, c, sink, arg);
        }
    }
}

void arc_body_canon_final(struct arc_body_canon *bc, arc_body_sink sink, void *arg)
{
    static const unsigned char crlf[2] = { '\r', '\n' };
    if (bc->pending_cr) {
        bc->pending_cr = false;
        body_content(bc, '\r', sink, arg);
    }
    bc->empty_lines = 0;                /* empty lines at the end are ignored */
    bc->pending_wsp = false;
    if (bc->any_output || bc->kind == ARC_CANON_SIMPLE)
        sink(arg, crlf, 2);
}

void arc_canon_relaxed_header(const char *name, const char *value, struct textbuf *out)
{
    size_t name_len = strlen(name);
    while (name_len > 0 && is_wsp(name[name_len - 1]))
        name_len--;
    for (size_t i = 0; i < name_len; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        textbuf_append(out, &c, 1);
    }
    textbuf_append(out, ":", 1);
    bool pending_space = false, started = false;
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        if (is_wsp(*p)) {
            pending_space = started;
            continue;
        }
        if (pending_space)
            textbuf_append(out, " ", 1);
        pending_space = false;
        started = true;
        textbuf_append(out, p, 1);
    }
    textbuf_append(out, "\r\n", 2);
}

char *arc_canon_without_b(const char *value)
{
    struct textbuf sb;
    textbuf_init(&sb);
    const char *p = value;
    bool done = false;
    while (*p != '\0') {
        const char *spec_end = strchr(p, ';');
        if (spec_end == NULL)
            spec_end = p + strlen(p);
        const char *name = p;
        while (name < spec_end && is_space(*name))
            name++;
        const char *after = name;
        if (!done && after < spec_end && *after == 'b') {
            after++;
            while (after < spec_end && is_space(*after))
                after++;
        }
        if (!done && after > name && after < spec_end && *after == '=') {
            textbuf_append(&sb, p, (size_t)(after + 1 - p));   /* up to and with the "=" */
            done = true;
        } else {
            textbuf_append(&sb, p, (size_t)(spec_end - p));
        }
        if (*spec_end == '\0')
            break;
        textbuf_append(&sb, ";", 1);
        p = spec_end + 1;
    }
    return sb.data;
}

size_t arc_canon_seal_fields(const struct arc_chain *chain, const struct header_field *fields,
    unsigned upto, const struct header_field **out)
{
    if (chain->state != ARC_CHAIN_READY || upto == 0 || upto > chain->count)
        return 0;
    size_t n = 0;
    for (unsigned i = 1; i <= upto; i++) {
        const struct arc_set *set = &chain->set[i - 1];
        out[n++] = &fields[set->aar_field];
        out[n++] = &fields[set->ams_field];
        out[n++] = &fields[set->seal_field];
    }
    return n;
}

bool arc_canon_seal_input(const struct arc_chain *chain, const struct header_field *fields,
    unsigned upto, struct textbuf *out)
{
    if (chain->state != ARC_CHAIN_READY || upto == 0 || upto > chain->count)
        return false;
    const struct header_field **list = xcalloc(3 * (size_t)upto, sizeof *list);
    size_t n = arc_canon_seal_fields(chain, fields, upto, list);
    for (size_t i = 0; i + 1 < n; i++)
        arc_canon_relaxed_header(list[i]->name, list[i]->value, out);
    char *seal = arc_canon_without_b(list[n - 1]->value);
    struct textbuf last;
    textbuf_init(&last);
    arc_canon_relaxed_header(list[n - 1]->name, seal, &last);
    textbuf_append(out, last.data, last.len - 2);      /* without its CRLF */
    textbuf_free(&last);
    free(seal);
    free(list);
    return true;
}
