/* message_file.c - splits a message into header fields and a CRLF body, as milter.c receives
 * them from the MTA, for mailwarden-check and the tests. A leading mbox "From " line (a file
 * saved from a mailbox) is no header field and is skipped, as SpamAssassin skips it. */
#include "message_file.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static unsigned char *read_all(FILE *fp, size_t *len)
{
    size_t cap = 65536, n = 0;
    unsigned char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    if (ferror(fp)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Length of the line at p (without its LF or CRLF) and where the next starts. */
static size_t line_at(const unsigned char *p, const unsigned char *end, const unsigned char **next)
{
    const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
    const unsigned char *stop = lf ? lf : end;
    *next = lf ? lf + 1 : end;
    size_t len = (size_t)(stop - p);
    if (len > 0 && p[len - 1] == '\r')
        len--;
    return len;
}

/* Whether the line starts a header field: a name of printable characters, then a colon, or
 * blanks and a colon (RFC 5322's obsolete syntax, which Postfix and SpamAssassin both read as
 * a field: "From  : a@b"). *name_len is the name's length, *colon where the colon is. */
static bool is_field_name(const unsigned char *p, size_t len, size_t *name_len, size_t *colon)
{
    size_t i = 0;
    while (i < len && p[i] > 32 && p[i] < 127 && p[i] != ':')
        i++;
    *name_len = i;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    *colon = i;
    return *name_len > 0 && i < len && p[i] == ':';
}

/* Adds the field starting at line (name of name_len bytes, value after the colon) and its
 * continuation lines, which begin at *p; advances *p past them. The value is built once, in
 * one buffer: linear in its size. */
static void add_field(struct message *msg, size_t *alloc, const unsigned char *line, size_t len,
    size_t name_len, size_t colon, const unsigned char **p, const unsigned char *end)
{
    if (msg->header_count == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 32;
        msg->headers = xrealloc(msg->headers, *alloc * sizeof *msg->headers);
    }
    struct message_header *h = &msg->headers[msg->header_count++];
    h->name = xstrndup((const char *)line, name_len);
    size_t start = colon + 1;
    if (start < len && line[start] == ' ')
        start++;
    struct textbuf value;
    textbuf_init(&value);
    textbuf_append(&value, (const char *)line + start, len - start);
    while (*p < end && (**p == ' ' || **p == '\t')) {
        const unsigned char *next;
        size_t cont_len = line_at(*p, end, &next);
        textbuf_append(&value, "\r\n", 2);
        textbuf_append(&value, (const char *)*p, cont_len);
        *p = next;
    }
    h->value = value.data ? value.data : xstrdup("");
}

int message_read(FILE *fp, struct message *msg)
{
    memset(msg, 0, sizeof *msg);
    size_t len;
    unsigned char *data = read_all(fp, &len);
    if (data == NULL)
        return -1;
    const unsigned char *p = data, *end = data + len, *next;
    size_t alloc = 0;
    if (len >= 5 && memcmp(p, "From ", 5) == 0)
        line_at(p, end, &p);      /* the mbox separator: not part of the message */
    while (p < end) {
        size_t line_len = line_at(p, end, &next);
        size_t name_len, colon;
        if (line_len == 0) {
            p = next;     /* the blank line ends the header */
            break;
        }
        if (!is_field_name(p, line_len, &name_len, &colon))
            break;        /* not a header field: the body starts here */
        add_field(msg, &alloc, p, line_len, name_len, colon, &next, end);
        p = next;
    }
    /* the body, with every line ending in CRLF as the MTA sends it */
    size_t cap = (size_t)(end - p) * 2 + 1, n = 0;
    msg->body = xmalloc(cap);
    for (; p < end; p++) {
        if (*p == '\n' && (n == 0 || msg->body[n - 1] != '\r'))
            msg->body[n++] = '\r';
        msg->body[n++] = *p;
    }
    msg->body_len = n;
    free(data);
    return 0;
}

void message_free(struct message *msg)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        free(msg->headers[i].name);
        free(msg->headers[i].value);
    }
    free(msg->headers);
    free(msg->body);
    memset(msg, 0, sizeof *msg);
}
