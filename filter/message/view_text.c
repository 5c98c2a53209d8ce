/* view_text.c - the message view's text buffers: appending under the scan cap without cutting
 * a UTF-8 character, and collapsing whitespace runs the way SpamAssassin's "body" does. */
#include "view_build.h"

#include <string.h>

bool view_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

void view_append_capped(struct view_builder *b, struct textbuf *buf, const char *data, size_t len)
{
    if (buf->len >= b->cap) {
        b->view->truncated = b->view->truncated || len > 0;
        return;
    }
    if (buf->len + len > b->cap) {
        len = b->cap - buf->len;
        while (len > 0 && ((unsigned char)data[len] & 0xC0) == 0x80)
            len--;
        b->view->truncated = true;
    }
    textbuf_append(buf, data, len);
}

/* Appends text with every whitespace run collapsed: to "\n" when it held a line break, else
 * to one space. A no-break space (U+00A0) counts as whitespace. */
void view_append_collapsed(struct view_builder *b, struct textbuf *buf, const char *s, size_t len)
{
    struct textbuf out;
    textbuf_init(&out);
    size_t i = 0;
    while (i < len) {
        bool newline = false;
        size_t start = i;
        for (;;) {
            if (i < len && view_is_space((unsigned char)s[i])) {
                newline = newline || s[i] == '\n';
                i++;
            } else if (i + 1 < len && (unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0) {
                i += 2;
            } else {
                break;
            }
        }
        if (i > start) {
            char last = out.len > 0 ? out.data[out.len - 1] : (buf->len > 0 ? buf->data[buf->len - 1] : '\n');
            if (newline && last == ' ' && out.len > 0) {
                out.data[--out.len] = '\0';
                last = out.len > 0 ? out.data[out.len - 1]
                                   : (buf->len > 0 ? buf->data[buf->len - 1] : '\n');
            }
            if (newline && last != '\n')
                textbuf_puts(&out, "\n");
            else if (!newline && last != ' ' && last != '\n')
                textbuf_puts(&out, " ");
            continue;
        }
        size_t run = i;
        while (run < len && !view_is_space((unsigned char)s[run])
            && !(run + 1 < len && (unsigned char)s[run] == 0xC2 && (unsigned char)s[run + 1] == 0xA0))
            run++;
        textbuf_append(&out, s + i, run - i);
        i = run;
    }
    view_append_capped(b, buf, out.data ? out.data : "", out.len);
    textbuf_free(&out);
}

void view_end_block(struct view_builder *b, struct textbuf *buf)
{
    if (buf->len > 0 && buf->data[buf->len - 1] != '\n')
        view_append_capped(b, buf, "\n", 1);
}
