/* view_html.c - HTML to text as SpamAssassin's HTML.pm renders it, for the message view: its
 * own tokenizer with HTML::Parser's events (start and end tags as written, text with entities
 * decoded, comments, declarations; script, style, xmp, plaintext, title and textarea content
 * taken literally), and HTML.pm's handlers on them: whitespace for block tags ("\n" for br and
 * div, " " for li, td, th, dt, dd, h1-h6, embed, "\n\n" for p, hr, blockquote, pre, title ...),
 * the text style stack (colours, font sizes, display:none, visibility:hidden) that marks text
 * invisible, links and other URIs with their anchor text, and the statistics the HTMLEval
 * plugin reads (struct view_html_part). Rendered text keeps invisible text (as SpamAssassin's
 * body does); the visible rendering leaves it out. Never regexes over markup; linear in the
 * input apart from the style stack, which is capped. */
#include "view_build.h"

#include <ctype.h>
#include <glib.h>
#include <libxml/HTMLparser.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STYLE_DEPTH 512        /* text style stack entries kept */
#define MAX_TAG_NAMES 256          /* distinct tag names counted per part */
#define MAX_LIST_ITEMS 1000        /* comments, scripts, titles, anchors kept per part */

/* --- the renderer's state ------------------------------------------------------------------ */

struct text_style {
    char tag[16];
    char fg[16], bg[16];
    int size;
    bool display_none, visibility_hidden;
};

struct piece {
    size_t start, len;
    bool whitespace, invisible;
};

struct html_render {
    struct view_builder *b;
    struct view_html_part *part;
    struct textbuf text;           /* every piece, in order */
    struct piece *pieces;
    size_t piece_count, piece_alloc;
    struct text_style *styles;
    size_t style_count;
    int basefont;
    unsigned tags, elements, tags_seen, elements_seen, closed_extra, obfuscation;
    GHashTable *backhair;
    char *anchor_last;             /* href of the last <a> */
    struct textbuf anchor;         /* its text so far, for the view's link record */
    struct textbuf part_anchor;    /* the text of the part's last anchor entry */
    struct textbuf part_title;     /* the text of the part's last title entry */
    struct textbuf link_visible;   /* the same without "<img>" marks */
    struct message_uri *anchor_uri;
    size_t anchor_uri_index;
    bool in_anchor_record;
    long title_index;
    char *base_href;
};

static const char *const known_elements[] = {
    "a", "abbr", "acronym", "address", "applet", "area", "b", "base", "basefont", "bdo", "big",
    "blockquote", "body", "br", "button", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "dfn", "dir", "div", "dl", "dt", "em", "fieldset", "font", "form",
    "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "html", "i",
    "iframe", "img", "input", "ins", "isindex", "kbd", "label", "legend", "li", "link", "map",
    "menu", "meta", "nobr", "noframes", "noscript", "object", "ol", "optgroup", "option", "p",
    "param", "pre", "q", "s", "samp", "script", "select", "small", "span", "strike", "strong",
    "style", "sub", "sup", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "title",
    "tr", "tt", "u", "ul", "var", "x-sigsep", "x-tab", NULL,
};
static const char *const trick_elements[] = {
    "bgsound", "embed", "listing", "plaintext", "xmp", NULL,
};
static const char *const style_elements[] = {
    "body", "font", "table", "tr", "th", "td", "big", "small", "basefont", "marquee", "span",
    "p", "div", "a", NULL,
};
static const char *const uri_elements[] = {
    "body", "table", "tr", "td", "a", "area", "link", "img", "frame", "iframe", "embed",
    "script", "form", "base", "bgsound", "meta", NULL,
};

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], name) == 0)
            return true;
    }
    return false;
}

static bool ok_attribute(const char *tag, const char *attr)
{
    static const struct {
        const char *tag;
        const char *attrs[6];
    } ok[] = {
        { "basefont", { "color", "face", "size" } },
        { "body", { "text", "bgcolor", "link", "alink", "vlink", "background" } },
        { "font", { "color", "face", "size" } },
        { "marquee", { "bgcolor", "background" } },
        { "table", { "bgcolor", "style" } },
        { "td", { "bgcolor", "style" } },
        { "th", { "bgcolor", "style" } },
        { "tr", { "bgcolor", "style" } },
        { "span", { "style" } },
        { "p", { "style" } },
        { "div", { "style" } },
        { "a", { "style" } },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (strcmp(ok[i].tag, tag) != 0)
            continue;
        for (size_t k = 0; k < 6 && ok[i].attrs[k] != NULL; k++) {
            if (strcmp(ok[i].attrs[k], attr) == 0)
                return true;
        }
    }
    return false;
}

struct attr {
    char *name;
    char *value;
};

static const char *attr_get(const struct attr *attrs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(attrs[i].name, name) == 0)
            return attrs[i].value;
    }
    return NULL;
}

static void list_push(char ***list, size_t *count, const char *s, size_t len)
{
    if (*count >= MAX_LIST_ITEMS)
        return;
    *list = xrealloc(*list, (*count + 1) * sizeof **list);
    (*list)[(*count)++] = xstrndup(s, len);
}

/* The last entry of a list takes the text gathered for it (anchors and titles grow while the
 * parser is inside them; gathering in a buffer keeps that linear). */
static void list_set_last(char **list, size_t count, struct textbuf *gathered)
{
    if (count == 0 || gathered->len == 0)
        return;
    free(list[count - 1]);
    list[count - 1] = xstrndup(gathered->data, gathered->len);
}

static struct view_html_tag_count *inside_find(struct view_html_part *part, const char *tag,
    bool create)
{
    for (size_t i = 0; i < part->inside_count; i++) {
        if (strcmp(part->inside[i].name, tag) == 0)
            return &part->inside[i];
    }
    if (!create || part->inside_count >= MAX_TAG_NAMES)
        return NULL;
    part->inside = xrealloc(part->inside, (part->inside_count + 1) * sizeof *part->inside);
    struct view_html_tag_count *t = &part->inside[part->inside_count++];
    t->name = xstrdup(tag);
    t->count = 0;
    return t;
}

static int inside_count(struct html_render *h, const char *tag)
{
    struct view_html_tag_count *t = inside_find(h->part, tag, false);
    return t ? t->count : 0;
}

/* --- display_text -------------------------------------------------------------------------- */

static bool is_html_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
}

static void display_text(struct html_render *h, const char *s, size_t len, bool whitespace,
    bool invisible)
{
    struct piece *last = h->piece_count ? &h->pieces[h->piece_count - 1] : NULL;
    struct textbuf piece;
    textbuf_init(&piece);
    if (whitespace) {
        if (last != NULL && !last->whitespace && !last->invisible && last->len > 0
            && h->text.data[last->start + last->len - 1] == ' ') {
            last->len--;
            h->text.len--;
            h->text.data[h->text.len] = '\0';
        }
        textbuf_append(&piece, s, len);
    } else {
        size_t i = 0;
        while (i < len) {                /* runs of [ \t\n\r\f\v] or one NBSP: one space */
            if (is_html_space((unsigned char)s[i])) {
                while (i < len && is_html_space((unsigned char)s[i]))
                    i++;
                textbuf_puts(&piece, " ");
            } else if (i + 1 < len && (unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0) {
                i += 2;
                textbuf_puts(&piece, " ");
            } else {
                textbuf_append(&piece, s + i, 1);
                i++;
            }
        }
        if (last != NULL && !invisible && last->whitespace && piece.len > 0 && piece.data[0] == ' ') {
            memmove(piece.data, piece.data + 1, piece.len);
            piece.len--;
        }
    }
    if (h->piece_count == h->piece_alloc) {
        h->piece_alloc = h->piece_alloc ? 2 * h->piece_alloc : 64;
        h->pieces = xrealloc(h->pieces, h->piece_alloc * sizeof *h->pieces);
    }
    h->pieces[h->piece_count++] = (struct piece){ .start = h->text.len, .len = piece.len,
        .whitespace = whitespace, .invisible = invisible };
    textbuf_append(&h->text, piece.data ? piece.data : "", piece.len);
    textbuf_free(&piece);
}

static void html_whitespace(struct html_render *h, const char *tag)
{
    if (strcmp(tag, "br") == 0 || strcmp(tag, "div") == 0) {
        display_text(h, "\n", 1, true, false);
    } else if (strcmp(tag, "li") == 0 || strcmp(tag, "th") == 0 || strcmp(tag, "td") == 0
        || strcmp(tag, "dt") == 0 || strcmp(tag, "dd") == 0 || strcmp(tag, "embed") == 0
        || (tag[0] == 'h' && isdigit((unsigned char)tag[1]) && tag[2] == '\0')) {
        display_text(h, " ", 1, true, false);
    } else if (strcmp(tag, "p") == 0 || strcmp(tag, "hr") == 0 || strcmp(tag, "blockquote") == 0
        || strcmp(tag, "pre") == 0 || strcmp(tag, "listing") == 0
        || strcmp(tag, "plaintext") == 0 || strcmp(tag, "xmp") == 0 || strcmp(tag, "title") == 0) {
        display_text(h, "\n\n", 2, true, false);
    }
}

/* --- text style ---------------------------------------------------------------------------- */

static struct text_style *style_top(struct html_render *h)
{
    return &h->styles[h->style_count - 1];
}

static void style_push(struct html_render *h, const struct text_style *s)
{
    if (h->style_count >= MAX_STYLE_DEPTH)
        return;
    h->styles = xrealloc(h->styles, (h->style_count + 1) * sizeof *h->styles);
    h->styles[h->style_count++] = *s;
}

static bool style_open(struct html_render *h, const char *tag)
{
    for (size_t i = 0; i < h->style_count; i++) {
        if (strcmp(h->styles[i].tag, tag) == 0)
            return true;
    }
    return false;
}

static void close_table_tag(struct html_render *h, const char *tag)
{
    if (!style_open(h, tag))
        return;
    while (h->style_count > 0) {
        const char *top = style_top(h)->tag;
        if (top[0] == '\0')
            break;
        bool pop = (strcmp(tag, "td") == 0 && (strcmp(top, "font") == 0 || strcmp(top, "td") == 0))
            || (strcmp(tag, "tr") == 0 && (strcmp(top, "font") == 0 || strcmp(top, "td") == 0
                || strcmp(top, "tr") == 0));
        if (!pop)
            break;
        h->style_count--;
    }
}

static void close_tag(struct html_render *h, const char *tag)
{
    if (!style_open(h, tag))
        return;
    while (h->style_count > 0) {
        bool last = strcmp(style_top(h)->tag, tag) == 0;
        h->style_count--;
        if (last)
            break;
    }
}

static void style_declaration(struct text_style *s, const struct text_style *parent,
    const char *style)
{
    char *copy = xstrdup(style);
    char *save = NULL;
    for (char *decl = strtok_r(copy, ";", &save); decl; decl = strtok_r(NULL, ";", &save)) {
        char *p = decl;
        while (isspace((unsigned char)*p))
            p++;
        char *colon = strchr(p, ':');
        if (colon == NULL)
            continue;
        size_t name_len = (size_t)(colon - p);
        char *value = colon + 1;
        while (isspace((unsigned char)*value))
            value++;
        size_t vlen = strlen(value);
        while (vlen > 0 && isspace((unsigned char)value[vlen - 1]))
            value[--vlen] = '\0';
        bool bg = name_len == 16 && g_ascii_strncasecmp(p, "background-color", 16) == 0;
        bool fg = name_len == 5 && g_ascii_strncasecmp(p, "color", 5) == 0;
        if ((bg || fg) && vlen > 0) {
            char *v = g_ascii_strdown(value, -1);
            char *imp = strchr(v, '!');
            if (imp != NULL && strcmp(g_strstrip(imp + 1), "important") == 0) {
                *imp = '\0';
                g_strchomp(v);
            }
            char *target = bg ? s->bg : s->fg;
            if (strstr(v, "rgb") != NULL) {
                int rgb[3] = {0, 0, 0}, k = 0;
                long cur = -1;
                for (const char *q = v;; q++) {
                    if (isdigit((unsigned char)*q)) {
                        cur = (cur < 0 ? 0 : cur) * 10 + (*q - '0');
                        if (cur > 100000)
                            cur = 100000;
                    } else if (*q == ',' || *q == '\0') {
                        if (k < 3)
                            rgb[k] = cur <= 0 ? 0 : cur > 255 ? 255 : (int)cur;
                        k++;
                        cur = -1;
                        if (*q == '\0')
                            break;
                    }
                }
                snprintf(target, 16, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
            } else if (strcmp(v, "inherit") == 0) {
                /* nothing */
            } else if (strcmp(v, "transparent") == 0) {
                strcpy(target, "transparent");
            } else {
                view_html_color(v, target);
            }
            g_free(v);
        } else if (name_len == 10 && strncmp(p, "background", 10) == 0 && vlen > 0) {
            view_html_css_background(value, s->bg);
        } else {
            while (name_len > 0 && isspace((unsigned char)p[name_len - 1]))
                name_len--;
            bool ident = name_len > 0;
            for (size_t i = 0; i < name_len; i++) {
                char c = p[i];
                if (!(isalpha((unsigned char)c) || c == '_' || c == '-'))
                    ident = false;
            }
            if (ident && vlen > 0) {
                if (name_len == 7 && g_ascii_strncasecmp(p, "display", 7) == 0)
                    s->display_none = g_ascii_strcasecmp(value, "none") == 0;
                else if (name_len == 10 && g_ascii_strncasecmp(p, "visibility", 10) == 0)
                    s->visibility_hidden = g_ascii_strcasecmp(value, "hidden") == 0;
            }
        }
    }
    free(copy);
    if (strcmp(s->bg, "transparent") == 0)
        strcpy(s->bg, parent->bg);
    if (strcmp(s->fg, "transparent") == 0)
        strcpy(s->fg, s->bg);
}

static void text_style(struct html_render *h, const char *tag_in, const struct attr *attrs,
    size_t n, bool start)
{
    const char *tag = strcmp(tag_in, "th") == 0 ? "td" : tag_in;
    if (!start) {
        if (strcmp(tag, "body") != 0)
            close_tag(h, tag);
        return;
    }
    const char *size = attr_get(attrs, n, "size");
    if (strcmp(tag, "basefont") == 0 && size != NULL) {
        const char *p = size;
        while (isspace((unsigned char)*p))
            p++;
        if (isdigit((unsigned char)*p)) {
            h->basefont = atoi(p);
            return;
        }
    }
    if (strcmp(tag, "td") == 0 || strcmp(tag, "tr") == 0)
        close_table_tag(h, tag);
    if (h->style_count == 0)
        return;
    struct text_style s = *style_top(h);
    const struct text_style parent = s;
    strlcpy_mw(s.tag, tag, sizeof s.tag);
    if (strcmp(tag, "big") == 0 || strcmp(tag, "small") == 0) {
        s.size += strcmp(tag, "big") == 0 ? 1 : -1;
        style_push(h, &s);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = attrs[i].name, *value = attrs[i].value;
        if (!ok_attribute(tag_in, name) && !ok_attribute(tag, name))
            continue;
        if (strcmp(name, "text") == 0 || strcmp(name, "color") == 0) {
            view_html_color(value, s.fg);
        } else if (strcmp(name, "size") == 0) {
            const char *p = value;
            while (isspace((unsigned char)*p))
                p++;
            if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]))
                s.size = h->basefont + atoi(p);
            else if (isdigit((unsigned char)*p))
                s.size = atoi(p);
        } else if (strcmp(name, "style") == 0) {
            style_declaration(&s, &parent, value);
        }
        if (s.size > h->part->max_size)
            h->part->max_size = s.size;
        else if (s.size < h->part->min_size)
            h->part->min_size = s.size;
    }
    style_push(h, &s);
}

/* html_font_invisible */
static bool font_invisible(struct html_render *h)
{
    if (h->style_count == 0)
        return false;
    const struct text_style *s = style_top(h);
    size_t fl = strlen(s->fg), bl = strlen(s->bg);
    const char *f6 = s->fg + (fl > 6 ? fl - 6 : 0), *b6 = s->bg + (bl > 6 ? bl - 6 : 0);
    if (strcmp(f6, b6) == 0) {
        h->part->font_low_contrast = true;
        return true;
    }
    unsigned r1, g1, b1, r2, g2, b2;
    if (strlen(s->fg) == 7 && strlen(s->bg) == 7 && strspn(s->fg + 1, "0123456789abcdef") == 6
        && strspn(s->bg + 1, "0123456789abcdef") == 6
        && sscanf(s->fg + 1, "%2x%2x%2x", &r1, &g1, &b1) == 3
        && sscanf(s->bg + 1, "%2x%2x%2x", &r2, &g2, &b2) == 3) {
        double r = (double)r1 - r2, g = (double)g1 - g2, b = (double)b1 - b2;
        double wr = 0.2126 * r, wg = 0.7152 * g, wb = 0.0722 * b;
        if (wr * wr + wg * wg + wb * wb < 144) {     /* the weighted distance under 12 */
            h->part->font_low_contrast = true;
            return true;
        }
    }
    if (strcmp(s->fg, "invalid") == 0 || strcmp(s->bg, "invalid") == 0) {
        h->part->font_invalid_color = true;
        return true;
    }
    if (s->size <= 1)
        return true;
    return s->display_none || s->visibility_hidden;
}

/* --- URIs (html_uri, push_uri, target_uri) ------------------------------------------------- */

/* canon_uri: surrounding whitespace (and NBSP) trimmed, cut at 8192 bytes. */
static char *canon_uri(const char *uri)
{
    const char *s = uri;
    for (;;) {
        if (is_html_space((unsigned char)*s))
            s++;
        else if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
            s += 2;
        else
            break;
    }
    size_t len = strlen(s);
    for (;;) {
        if (len > 0 && is_html_space((unsigned char)s[len - 1]))
            len--;
        else if (len > 1 && (unsigned char)s[len - 2] == 0xC2 && (unsigned char)s[len - 1] == 0xA0)
            len -= 2;
        else
            break;
    }
    return xstrndup(s, len);        /* view_add_uri_typed cuts at 8192 bytes */
}

static struct message_uri *push_uri(struct html_render *h, unsigned type, const char *raw)
{
    /* every link is a record of its own (its text matters); other URIs only once */
    const char *link = type == VIEW_URI_A ? "" : NULL;
    char *uri = canon_uri(raw);
    struct message_uri *u = NULL;
    if (uri[0] == '\0') {
        free(uri);
        return NULL;
    }
    static const char *const plain[] = {"data:", "mailto:", "file:", "cid:", "tel:", NULL};
    bool no_target = false;
    for (size_t i = 0; plain[i] != NULL; i++) {
        if (g_ascii_strncasecmp(uri, plain[i], strlen(plain[i])) == 0)
            no_target = true;
    }
    if (no_target) {
        u = view_add_uri_typed(h->b, uri, strlen(uri), link, type);
    } else {
        char *target = view_html_target_uri(h->base_href ? h->base_href : "", uri);
        if (target[0] != '\0')
            u = view_add_uri_typed(h->b, target, strlen(target), link, type);
        free(target);
    }
    free(uri);
    return u;
}

static void html_uri(struct html_render *h, const char *tag, struct attr *attrs, size_t n)
{
    const char *v;
    if (strcmp(tag, "body") == 0 || strcmp(tag, "table") == 0 || strcmp(tag, "tr") == 0
        || strcmp(tag, "td") == 0) {
        if ((v = attr_get(attrs, n, "background")) != NULL)
            push_uri(h, VIEW_URI_BACKGROUND, v);
    } else if (strcmp(tag, "a") == 0 || strcmp(tag, "area") == 0 || strcmp(tag, "link") == 0) {
        unsigned type = tag[0] == 'a' ? (tag[1] == '\0' ? VIEW_URI_A : VIEW_URI_AREA) : VIEW_URI_LINK;
        if ((v = attr_get(attrs, n, "href")) != NULL) {
            struct textbuf clean;        /* U+FEFF dropped */
            textbuf_init(&clean);
            for (const char *c = v; *c; c++) {
                if ((unsigned char)c[0] == 0xEF && (unsigned char)c[1] == 0xBB
                    && (unsigned char)c[2] == 0xBF) {
                    c += 2;
                    continue;
                }
                textbuf_append(&clean, c, 1);
            }
            struct message_uri *u = push_uri(h, type, clean.data ? clean.data : "");
            textbuf_free(&clean);
            if (type == VIEW_URI_A && u != NULL) {
                h->anchor_uri_index = (size_t)(u - h->b->view->uris);
                h->in_anchor_record = true;
            }
        }
        if ((v = attr_get(attrs, n, "data-saferedirecturl")) != NULL)
            push_uri(h, type, v);
    } else if (strcmp(tag, "img") == 0 || strcmp(tag, "frame") == 0 || strcmp(tag, "iframe") == 0
        || strcmp(tag, "embed") == 0 || strcmp(tag, "script") == 0 || strcmp(tag, "bgsound") == 0) {
        unsigned type = strcmp(tag, "img") == 0 ? VIEW_URI_IMG
            : strcmp(tag, "frame") == 0 ? VIEW_URI_FRAME
            : strcmp(tag, "iframe") == 0 ? VIEW_URI_IFRAME : VIEW_URI_SCRIPT;
        if ((v = attr_get(attrs, n, "src")) != NULL)
            push_uri(h, type, v);
    } else if (strcmp(tag, "form") == 0) {
        if ((v = attr_get(attrs, n, "action")) != NULL)
            push_uri(h, VIEW_URI_FORM, v);
    } else if (strcmp(tag, "base") == 0) {
        if ((v = attr_get(attrs, n, "href")) != NULL && v[0] != '\0') {
            char *uri = canon_uri(v);
            push_uri(h, VIEW_URI_BASE, uri);
            if (g_ascii_strncasecmp(uri, "http:", 5) == 0 || g_ascii_strncasecmp(uri, "https:", 6) == 0
                || g_ascii_strncasecmp(uri, "ftp:", 4) == 0) {
                /* drop a trailing file name ("x.html"), end in a slash */
                char *last = strrchr(uri, '/');
                const char *host_start = strstr(uri, ":");
                host_start = host_start ? host_start + 1 : uri;
                while (*host_start == '/')
                    host_start++;
                if (last != NULL && last > host_start) {
                    char *dot = strrchr(last + 1, '.');
                    size_t ext = dot ? strlen(dot + 1) : 0;
                    if (dot != NULL && dot > last + 1 && ext >= 2 && ext <= 4
                        && strcspn(dot + 1, "/.") == ext && strcspn(last + 1, ".") == (size_t)(dot - last - 1))
                        last[1] = '\0';
                }
                free(h->base_href);
                size_t len = strlen(uri);
                h->base_href = len > 0 && uri[len - 1] == '/' ? xstrdup(uri) : xasprintf("%s/", uri);
            }
            free(uri);
        }
    } else if (strcmp(tag, "meta") == 0) {
        const char *equiv = attr_get(attrs, n, "http-equiv");
        const char *content = attr_get(attrs, n, "content");
        if (equiv && content) {
            char *le = g_ascii_strdown(equiv, -1);
            char *lc = g_ascii_strdown(content, -1);
            const char *url = strstr(lc, "url");
            while (url != NULL && url > lc && (isalnum((unsigned char)url[-1]) || url[-1] == '_'))
                url = strstr(url + 1, "url");
            if (strstr(le, "refresh") != NULL && url != NULL) {
                const char *eq = url + 3;
                while (isspace((unsigned char)*eq))
                    eq++;
                if (*eq == '=') {
                    eq++;
                    while (isspace((unsigned char)*eq))
                        eq++;
                    const char *start = content + (eq - lc);
                    size_t len = strcspn(start, ";");
                    while (len > 0 && isspace((unsigned char)start[len - 1]))
                        len--;
                    char *target = xstrndup(start, len);
                    push_uri(h, VIEW_URI_META, target);
                    free(target);
                }
            }
            g_free(le);
            g_free(lc);
        }
    }
}

/* --- html_tests, html_text, html_tag -------------------------------------------------------- */

static pcre2_code *font_face_re;

static gpointer compile_font_face(gpointer unused)
{
    (void)unused;
    static const char pattern[] = "^\\s*[\"'.]?[a-z ][a-z -]*[a-z]\\d?[\"']?"
        "(?:,\\s*[\"']?[a-z][a-z -]*[a-z]\\d?[\"']?)*;?$";
    int err;
    PCRE2_SIZE off;
    font_face_re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS,
        &err, &off, NULL);
    return NULL;
}

static bool font_face_ok(const char *face)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, compile_font_face, NULL);
    if (font_face_re == NULL)
        return true;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(font_face_re, NULL);
    int rc = pcre2_match(font_face_re, (PCRE2_SPTR)face, strlen(face), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* Ends the view's record of the current <a>: its link text and anchor text. */
static void finish_anchor_record(struct html_render *h)
{
    if (!h->in_anchor_record)
        return;
    h->in_anchor_record = false;
    struct message_uri *u = &h->b->view->uris[h->anchor_uri_index];
    struct view_builder scratch = {.view = h->b->view, .cap = SIZE_MAX};
    struct textbuf link;
    textbuf_init(&link);
    view_append_collapsed(&scratch, &link, h->link_visible.data ? h->link_visible.data : "",
        h->link_visible.len);
    size_t from = 0, to = link.len;
    while (from < to && view_is_space((unsigned char)link.data[from]))
        from++;
    while (to > from && view_is_space((unsigned char)link.data[to - 1]))
        to--;
    free(u->link_text);
    u->link_text = xstrndup(link.data ? link.data + from : "", to - from);
    textbuf_free(&link);
    free(u->anchor_text);
    u->anchor_text = xstrndup(h->anchor.data ? h->anchor.data : "", h->anchor.len);
}

static void html_tests(struct html_render *h, const char *tag, struct attr *attrs, size_t n)
{
    struct view_html_part *part = h->part;
    const char *v;
    if (strcmp(tag, "font") == 0 && (v = attr_get(attrs, n, "face")) != NULL && !font_face_ok(v))
        part->font_face_bad = true;
    if (strcmp(tag, "img") == 0 && inside_count(h, "a") > 0) {
        textbuf_puts(&h->part_anchor, "<img>\n");
        textbuf_puts(&h->anchor, "<img>\n");
    }
    const char *w = attr_get(attrs, n, "width"), *ht = attr_get(attrs, n, "height");
    if (strcmp(tag, "img") == 0 && w != NULL && ht != NULL) {
        double width = 0, height = 0;
        char *end;
        if (isdigit((unsigned char)w[0])) {
            double x = strtod(w, &end);
            if (strspn(w, "0123456789") == (size_t)(end - w) && (*end == '\0' || (end[0] == '%' && end[1] == '\0')))
                width = *end == '%' ? x * 8 : x;
        }
        if (isdigit((unsigned char)ht[0])) {
            double x = strtod(ht, &end);
            if (strspn(ht, "0123456789") == (size_t)(end - ht) && (*end == '\0' || (end[0] == '%' && end[1] == '\0')))
                height = *end == '%' ? x * 6 : x;
        }
        if (width <= 0)
            width = 200;
        if (height <= 0)
            height = 200;
        part->image_area += width * height;
    }
    if (strcmp(tag, "form") == 0 && (v = attr_get(attrs, n, "action")) != NULL) {
        char *low = g_ascii_strdown(v, -1);
        if (strstr(low, "mailto:") != NULL)
            part->form_action_mailto = true;
        g_free(low);
    }
    if (strcmp(tag, "object") == 0 || strcmp(tag, "embed") == 0)
        part->embeds = true;
    if (strcmp(tag, "a") == 0) {
        free(h->anchor_last);
        h->anchor_last = canon_uri((v = attr_get(attrs, n, "href")) ? v : "");
        /* SpamAssassin keeps the anchor under the href as written: a URI of its own when
         * <base> made the link something else */
        if (h->anchor_last[0] != '\0')
            view_add_uri_typed(h->b, h->anchor_last, strlen(h->anchor_last), NULL, 0);
        list_set_last(part->anchors, part->anchor_count, &h->part_anchor);
        h->part_anchor.len = 0;
        list_push(&part->anchors, &part->anchor_count, "", 0);
    }
    if (strcmp(tag, "title") == 0) {
        h->title_index++;
        list_set_last(part->titles, part->title_count, &h->part_title);
        h->part_title.len = 0;
        list_push(&part->titles, &part->title_count, "", 0);
    }
    const char *equiv = attr_get(attrs, n, "http-equiv"), *content = attr_get(attrs, n, "content");
    if (strcmp(tag, "meta") == 0 && equiv != NULL && content != NULL
        && g_ascii_strcasecmp(equiv, "content-type") == 0) {
        char *low = g_ascii_strdown(content, -1);
        const char *cs = strstr(low, "charset");
        if (cs != NULL) {
            const char *p = cs + 7;
            while (isspace((unsigned char)*p))
                p++;
            if (*p == '=') {
                p++;
                while (isspace((unsigned char)*p))
                    p++;
                if (*p == '"' || *p == '\'')
                    p++;
                size_t len = strcspn(p, "\"'");
                if (len > 0) {
                    const char *orig = content + (p - low);
                    char *joined = part->charsets ? xasprintf("%s %.*s", part->charsets, (int)len, orig)
                                                  : xstrndup(orig, len);
                    free(part->charsets);
                    part->charsets = joined;
                }
            }
        }
        g_free(low);
    }
}

static bool is_word_char(unsigned char c)
{
    return c >= 0x80 || isalnum(c) || c == '_';
}

/* [^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]: a letter, digit or non-ASCII byte */
static bool is_plain_char(unsigned char c)
{
    return !(is_html_space(c) || (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40)
        || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e));
}

static void html_text(struct html_render *h, const char *text, size_t len)
{
    struct view_html_part *part = h->part;
    if (inside_count(h, "script") > 0) {
        list_push(&part->scripts, &part->script_count, text, len);
        return;
    }
    if (inside_count(h, "style") > 0)
        return;
    if (inside_count(h, "a") > 0) {
        textbuf_append(&h->part_anchor, text, len);
        textbuf_append(&h->anchor, text, len);
        textbuf_append(&h->link_visible, text, len);
    }
    if (inside_count(h, "title") > 0)
        textbuf_append(&h->part_title, text, len);
    bool visible_chars = false;
    for (size_t i = 0; i < len && !visible_chars; i++) {
        if (is_html_space((unsigned char)text[i]))
            continue;
        if (i + 1 < len && (unsigned char)text[i] == 0xC2 && (unsigned char)text[i + 1] == 0xA0) {
            i++;
            continue;
        }
        visible_chars = true;
    }
    bool invisible = visible_chars && font_invisible(h);
    if (h->piece_count > 0 && len > 0) {
        const struct piece *last = &h->pieces[h->piece_count - 1];
        const char *prev = h->text.data + last->start;
        if (is_plain_char((unsigned char)text[0]) && last->len > 0
            && is_plain_char((unsigned char)prev[last->len - 1]))
            part->obfuscation_ratio++;         /* counted here, made a ratio at the end */
        size_t tail = 0;
        while (tail < last->len && tail < 8 && is_plain_char((unsigned char)prev[last->len - 1 - tail]))
            tail++;
        bool boundary = tail < last->len ? !is_word_char((unsigned char)prev[last->len - 1 - tail])
                                         : true;
        if (tail >= 1 && tail <= 7 && boundary) {
            size_t head = 0;
            while (head < len && head < 8 && is_plain_char((unsigned char)text[head]))
                head++;
            bool head_boundary = head < len ? !is_word_char((unsigned char)text[head]) : true;
            if (head >= 1 && head <= 7 && head_boundary) {
                char key[32];
                snprintf(key, sizeof key, "%zu_%zu", tail, head);
                if (h->backhair == NULL)
                    h->backhair = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
                g_hash_table_add(h->backhair, g_strdup(key));
            }
        }
    }
    display_text(h, text, len, false, invisible);
}

static bool maybe_namespace(const char *tag)
{
    const char *p = tag;
    if (*p == 'o') {
        p++;
    } else if (p[0] == 's' && p[1] == 't' && isdigit((unsigned char)p[2])) {
        p += 3;
    } else {
        return false;
    }
    if (*p++ != ':')
        return false;
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-')
        n++;
    if (n == 0)
        return false;
    return p[n] == '\0' || (p[n] == '/' && p[n + 1] == '\0');
}

static void html_tag(struct html_render *h, const char *tag, struct attr *attrs, size_t n, int num)
{
    bool ns = maybe_namespace(tag);
    bool element = in_list(known_elements, tag) || in_list(trick_elements, tag);
    struct view_html_tag_count *in = inside_find(h->part, tag, false);
    bool seen = in != NULL;
    if (in_list(known_elements, tag) || ns) {
        h->elements++;
        if (!seen)
            h->elements_seen++;
    }
    h->tags++;
    if (!seen)
        h->tags_seen++;
    if (in == NULL)
        in = inside_find(h->part, tag, true);
    if (in != NULL) {
        in->count += num;
        if (in->count < 0) {
            in->count = 0;
            h->closed_extra++;
        }
    }
    if (ns || !element)
        return;
    if (in_list(style_elements, tag))
        text_style(h, tag, attrs, n, num > 0);
    html_whitespace(h, tag);
    if (num > 0) {
        if (strcmp(tag, "a") == 0) {
            finish_anchor_record(h);
            h->anchor.len = 0;
            h->link_visible.len = 0;
        }
        if (in_list(uri_elements, tag))
            html_uri(h, tag, attrs, n);
        html_tests(h, tag, attrs, n);
    }
}

/* --- the tokenizer (HTML::Parser's events) -------------------------------------------------- */

/* Appends s[0..len) to out with character references decoded: &#N; &#xH; and the named
 * entities of HTML 4 (libxml2's table), the ';' optional before a non-alphanumeric. */
static void decode_entities(const char *s, size_t len, struct textbuf *out)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] != '&') {
            size_t run = i;
            while (run < len && s[run] != '&')
                run++;
            textbuf_append(out, s + i, run - i);
            i = run;
            continue;
        }
        size_t j = i + 1;
        unsigned long cp = 0;
        bool ok = false;
        if (j < len && s[j] == '#') {
            j++;
            bool hex = j < len && (s[j] == 'x' || s[j] == 'X');
            if (hex)
                j++;
            size_t digits = 0;
            while (j < len && (hex ? isxdigit((unsigned char)s[j]) : isdigit((unsigned char)s[j]))
                && digits < 10) {
                cp = cp * (hex ? 16 : 10) + (unsigned long)g_ascii_xdigit_value(s[j]);
                j++;
                digits++;
            }
            ok = digits > 0 && cp > 0 && cp <= 0x10FFFF;
        } else {
            char name[33];
            size_t k = 0;
            while (j < len && isalnum((unsigned char)s[j]) && k < 32)
                name[k++] = s[j++];
            name[k] = '\0';
            const htmlEntityDesc *e = k > 0 ? htmlEntityLookup((const xmlChar *)name) : NULL;
            if (e != NULL) {
                cp = e->value;
                ok = true;
            }
        }
        if (!ok) {
            textbuf_append(out, "&", 1);
            i++;
            continue;
        }
        if (j < len && s[j] == ';')
            j++;
        char utf8[8];
        int n = g_unichar_to_utf8((gunichar)cp, utf8);
        textbuf_append(out, utf8, (size_t)n);
        i = j;
    }
}

static bool literal_element(const char *tag)
{
    return strcmp(tag, "script") == 0 || strcmp(tag, "style") == 0 || strcmp(tag, "xmp") == 0
        || strcmp(tag, "plaintext") == 0 || strcmp(tag, "title") == 0
        || strcmp(tag, "textarea") == 0;
}

static void emit_text(struct html_render *h, const char *s, size_t len, bool decode)
{
    if (len == 0)
        return;
    if (!decode) {
        html_text(h, s, len);
        return;
    }
    struct textbuf t;
    textbuf_init(&t);
    decode_entities(s, len, &t);
    html_text(h, t.data ? t.data : "", t.len);
    textbuf_free(&t);
}

/* Parses one tag starting at s[0] == '<' (s[1] a letter, or '/' and a letter); returns the
 * length used, 0 when there is no closing '>' (then it is text). */
static size_t parse_tag(struct html_render *h, const char *s, size_t len, char *literal,
    size_t literal_size)
{
    size_t i = 1;
    bool end = s[i] == '/';
    if (end)
        i++;
    size_t name_start = i;
    while (i < len && (isalnum((unsigned char)s[i]) || strchr("._:-", s[i]) != NULL))
        i++;
    char tag[64];
    size_t name_len = i - name_start < 63 ? i - name_start : 63;
    for (size_t k = 0; k < name_len; k++)
        tag[k] = (char)tolower((unsigned char)s[name_start + k]);
    tag[name_len] = '\0';
    struct attr attrs[64];
    size_t n = 0;
    for (;;) {
        while (i < len && (is_html_space((unsigned char)s[i]) || s[i] == '/'))
            i++;
        if (i >= len)
            goto incomplete;
        if (s[i] == '>')
            break;
        size_t an = i;
        while (i < len && !is_html_space((unsigned char)s[i]) && s[i] != '>' && s[i] != '='
            && !(s[i] == '/' && i > an))
            i++;
        size_t an_len = i - an;
        while (i < len && is_html_space((unsigned char)s[i]))
            i++;
        const char *val = NULL;
        size_t val_len = 0;
        if (i < len && s[i] == '=') {
            i++;
            while (i < len && is_html_space((unsigned char)s[i]))
                i++;
            if (i < len && (s[i] == '"' || s[i] == '\'')) {
                char q = s[i++];
                const char *close = memchr(s + i, q, len - i);
                if (close == NULL)
                    goto incomplete;
                val = s + i;
                val_len = (size_t)(close - val);
                i = (size_t)(close - s) + 1;
            } else {
                val = s + i;
                while (i < len && !is_html_space((unsigned char)s[i]) && s[i] != '>')
                    i++;
                val_len = (size_t)(s + i - val);
            }
        }
        if (an_len == 0) {
            i++;
            continue;
        }
        if (n < 64) {
            char *name = g_ascii_strdown(s + an, (gssize)an_len);
            if (attr_get(attrs, n, name) != NULL) {
                g_free(name);
                continue;
            }
            struct textbuf v;
            textbuf_init(&v);
            if (val != NULL)
                decode_entities(val, val_len, &v);
            else
                textbuf_puts(&v, name);
            if (v.data == NULL)
                textbuf_puts(&v, "");
            attrs[n].name = xstrdup(name);
            attrs[n].value = v.data;
            g_free(name);
            n++;
        }
    }
    html_tag(h, tag, attrs, n, end ? -1 : 1);
    if (!end && literal_element(tag))
        strlcpy_mw(literal, tag, literal_size);
    for (size_t k = 0; k < n; k++) {
        free(attrs[k].name);
        free(attrs[k].value);
    }
    return i + 1;
incomplete:
    for (size_t k = 0; k < n; k++) {
        free(attrs[k].name);
        free(attrs[k].value);
    }
    return 0;
}

/* Linear: a tag, comment or declaration that does not close before the end makes the rest of
 * the input text (HTML::Parser's end of document), so nothing is searched twice. */
static void tokenize(struct html_render *h, const char *s, size_t len)
{
    size_t i = 0, text_start = 0;
    char literal[16] = "";
    bool open_to_end = false;
    while (i < len) {
        if (literal[0] != '\0') {
            /* literal content up to </name */
            size_t tl = strlen(literal);
            size_t j = i;
            while (j < len) {
                const char *lt = memchr(s + j, '<', len - j);
                if (lt == NULL) {
                    j = len;
                    break;
                }
                j = (size_t)(lt - s);
                if (j + 2 + tl <= len && lt[1] == '/' && g_ascii_strncasecmp(lt + 2, literal, tl) == 0
                    && (j + 2 + tl == len || !isalnum((unsigned char)lt[2 + tl])))
                    break;
                j++;
            }
            bool decode = strcmp(literal, "title") == 0 || strcmp(literal, "textarea") == 0;
            emit_text(h, s + i, j - i, decode);
            literal[0] = '\0';
            i = text_start = j;
            if (j >= len)
                break;
        }
        const char *lt = memchr(s + i, '<', len - i);
        if (lt == NULL)
            break;
        i = (size_t)(lt - s);
        size_t used = 0;
        char next = i + 1 < len ? s[i + 1] : '\0';
        if (isalpha((unsigned char)next) || (next == '/' && i + 2 < len && isalpha((unsigned char)s[i + 2]))) {
            emit_text(h, s + text_start, i - text_start, true);
            text_start = i;
            used = parse_tag(h, s + i, len - i, literal, sizeof literal);
            open_to_end = used == 0;
        } else if (next == '!' && i + 3 < len && s[i + 2] == '-' && s[i + 3] == '-') {
            const char *close = g_strstr_len(s + i + 4, (gssize)(len - i - 4), "-->");
            open_to_end = close == NULL;
            if (close != NULL) {
                emit_text(h, s + text_start, i - text_start, true);
                used = (size_t)(close - (s + i)) + 3;
                list_push(&h->part->comments, &h->part->comment_count, s + i, used);
            }
        } else if (next == '!' || next == '?') {
            const char *close = memchr(s + i, '>', len - i);
            open_to_end = close == NULL;
            if (close != NULL) {
                emit_text(h, s + text_start, i - text_start, true);
                used = (size_t)(close - (s + i)) + 1;
                if (next == '!' && used >= 9 && g_ascii_strncasecmp(s + i, "<!doctype", 9) == 0) {
                    h->elements++;
                    h->tags++;
                    struct view_html_tag_count *t = inside_find(h->part, "!doctype", true);
                    if (t != NULL)
                        t->count = 0;
                }
            }
        } else if (next == '/' && i + 2 < len && s[i + 2] == '>') {
            used = 0;
        }
        if (used == 0 && open_to_end)
            break;                     /* an unclosed tag, comment or declaration: text */
        if (used == 0) {
            i++;
            continue;
        }
        i += used;
        text_start = i;
    }
    if (literal[0] == '\0')
        emit_text(h, s + text_start, len - text_start, true);
}

/* --- the entry point ----------------------------------------------------------------------- */

/* HTML.pm's pre-processing: &nbsp; to a space, <br/> to <br>, curly double quotes to '"'. */
static char *preprocess(const char *html, size_t len, size_t *out_len)
{
    struct textbuf out;
    textbuf_init(&out);
    size_t i = 0;
    while (i < len) {
        if (html[i] == '&' && i + 6 <= len && memcmp(html + i, "&nbsp;", 6) == 0) {
            textbuf_puts(&out, " ");
            i += 6;
        } else if ((unsigned char)html[i] == 0xE2 && i + 2 < len && (unsigned char)html[i + 1] == 0x80
            && ((unsigned char)html[i + 2] == 0x9C || (unsigned char)html[i + 2] == 0x9D)) {
            textbuf_puts(&out, "\"");
            i += 3;
        } else if (html[i] == '<' && i + 1 < len && is_word_char((unsigned char)html[i + 1])
            && (unsigned char)html[i + 1] < 0x80) {
            size_t j = i + 1;
            while (j < len && (unsigned char)html[j] < 0x80 && is_word_char((unsigned char)html[j]))
                j++;
            size_t k = j;
            while (k < len && (is_html_space((unsigned char)html[k])))
                k++;
            if (k + 1 < len && html[k] == '/' && html[k + 1] == '>') {
                textbuf_append(&out, html + i, j - i);
                textbuf_puts(&out, ">");
                i = k + 2;
            } else {
                textbuf_append(&out, html + i, j - i);
                i = j;
            }
        } else {
            textbuf_append(&out, html + i, 1);
            i++;
        }
    }
    if (out.data == NULL)
        textbuf_puts(&out, "");
    *out_len = out.len;
    return out.data;
}

static struct view_html_part *new_html_part(struct message_view *view)
{
    view->html_parts = xrealloc(view->html_parts, (view->html_part_count + 1) * sizeof *view->html_parts);
    struct view_html_part *p = &view->html_parts[view->html_part_count++];
    memset(p, 0, sizeof *p);
    return p;
}

/* Renders one HTML part (UTF-8): the whole rendering to out, the visible one to visible; its
 * links to the view, its statistics to a new view->html_parts entry. raw_len is the part's
 * length before charset conversion (HTML.pm's ratio). */
void view_render_html(struct view_builder *b, const char *html, size_t len, struct textbuf *out,
    struct textbuf *visible)
{
    struct html_render h = { .b = b, .basefont = 3, .title_index = -1 };
    h.part = new_html_part(b->view);
    h.part->min_size = h.part->max_size = 3;
    h.part->backhair_count = -1;
    textbuf_init(&h.text);
    textbuf_init(&h.anchor);
    textbuf_init(&h.part_anchor);
    textbuf_init(&h.part_title);
    textbuf_init(&h.link_visible);
    struct text_style base = { .tag = "default", .fg = "#000000", .bg = "#ffffff", .size = 3 };
    style_push(&h, &base);
    h.part->length = (size_t)g_utf8_strlen(html, (gssize)len);
    size_t pre_len;
    char *pre = preprocess(html, len, &pre_len);
    tokenize(&h, pre, pre_len);
    free(pre);
    finish_anchor_record(&h);
    list_set_last(h.part->anchors, h.part->anchor_count, &h.part_anchor);
    list_set_last(h.part->titles, h.part->title_count, &h.part_title);

    struct view_html_part *part = h.part;
    part->closed_extra_ratio = h.tags ? (double)h.closed_extra / h.tags : -1;
    part->bad_tag_ratio = h.elements && h.tags ? (double)(h.tags - h.elements) / h.tags : -1;
    part->non_element_ratio = h.elements_seen && h.tags_seen
        ? (double)(h.tags_seen - h.elements_seen) / h.tags_seen : -1;
    part->obfuscation_ratio = h.tags && part->obfuscation_ratio > 0
        ? part->obfuscation_ratio / h.tags : -1;
    if (h.backhair != NULL) {
        part->backhair_count = g_hash_table_size(h.backhair);
        g_hash_table_destroy(h.backhair);
    }
    for (size_t i = 0; i < h.piece_count; i++) {
        const struct piece *p = &h.pieces[i];
        textbuf_append(out, h.text.data + p->start, p->len);
        if (!p->invisible && visible != NULL)
            textbuf_append(visible, h.text.data + p->start, p->len);
    }
    const char *r = out->data ? out->data : "";
    part->html_length = (size_t)g_utf8_strlen(r, (gssize)out->len);
    size_t spaces = 0;
    for (size_t i = 0; i < out->len;) {
        size_t n = view_space_len(r + i, out->len - i);
        if (n > 0) {
            spaces++;
            i += n;
        } else {
            i++;
        }
    }
    part->non_space_len = part->html_length - spaces;
    textbuf_free(&h.text);
    textbuf_free(&h.anchor);
    textbuf_free(&h.part_anchor);
    textbuf_free(&h.part_title);
    textbuf_free(&h.link_visible);
    free(h.pieces);
    free(h.styles);
    free(h.anchor_last);
    free(h.base_href);
}

void view_html_part_free(struct view_html_part *p)
{
    for (size_t i = 0; i < p->inside_count; i++)
        free(p->inside[i].name);
    free(p->inside);
    char **lists[] = { p->comments, p->scripts, p->titles, p->anchors };
    size_t counts[] = { p->comment_count, p->script_count, p->title_count, p->anchor_count };
    for (size_t l = 0; l < 4; l++) {
        for (size_t i = 0; i < counts[l]; i++)
            free(lists[l][i]);
        free(lists[l]);
    }
    free(p->charsets);
}
