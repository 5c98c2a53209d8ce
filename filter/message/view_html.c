/* view_html.c - HTML to text for the message view with libxml2's HTML parser (recovering,
 * HTML_PARSE_NONET, no external entities; never regexes over markup): text nodes outside
 * script / style / template, line breaks at block elements, links (<a>, <area>) with their
 * visible text, and the sources of images, frames and forms. The tree is walked without
 * recursion, so deep nesting costs no stack. */
#include "view_build.h"

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool name_is(const xmlNode *n, const char *name)
{
    return n->name != NULL && g_ascii_strcasecmp((const char *)n->name, name) == 0;
}

static bool is_block_element(const xmlNode *n)
{
    static const char *const blocks[] = {
        "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "hr", "title", "dd", "dt", "section", "article", "header",
        "footer", "form", NULL,
    };
    for (size_t i = 0; blocks[i] != NULL; i++) {
        if (name_is(n, blocks[i]))
            return true;
    }
    return false;
}

static void add_attribute_uri(struct view_builder *b, xmlNode *n, const char *attr)
{
    xmlChar *value = xmlGetProp(n, (const xmlChar *)attr);
    if (value != NULL) {
        view_add_uri(b, (const char *)value, strlen((const char *)value), NULL);
        xmlFree(value);
    }
}

/* Entering node n: text goes to out; returns whether to descend into its children. An <a>
 * or <area> with an href remembers where its text starts (in n->_private, offset + 1). */
static bool html_enter(struct view_builder *b, struct textbuf *out, xmlNode *n)
{
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content != NULL)
            textbuf_puts(out, (const char *)n->content);
        return false;
    }
    if (n->type != XML_ELEMENT_NODE)
        return false;
    if (name_is(n, "script") || name_is(n, "style") || name_is(n, "template"))
        return false;
    if (is_block_element(n))
        textbuf_puts(out, "\n");
    if ((name_is(n, "a") || name_is(n, "area")) && xmlHasProp(n, (const xmlChar *)"href"))
        n->_private = (void *)(uintptr_t)(out->len + 1);
    else if (name_is(n, "img") || name_is(n, "iframe") || name_is(n, "frame"))
        add_attribute_uri(b, n, "src");
    else if (name_is(n, "form"))
        add_attribute_uri(b, n, "action");
    return true;
}

/* Leaving node n (after its children): ends blocks and records links with their text. */
static void html_leave(struct view_builder *b, struct textbuf *out, xmlNode *n)
{
    if (n->type != XML_ELEMENT_NODE)
        return;
    if (is_block_element(n))
        textbuf_puts(out, "\n");
    if (n->_private == NULL)
        return;
    size_t start = (size_t)(uintptr_t)n->_private - 1;
    n->_private = NULL;
    if (start > out->len)
        start = out->len;
    struct view_builder scratch = {.view = b->view, .cap = SIZE_MAX};
    struct textbuf link;
    textbuf_init(&link);
    view_append_collapsed(&scratch, &link, out->data ? out->data + start : "", out->len - start);
    size_t from = 0, to = link.len;
    while (from < to && view_is_space((unsigned char)link.data[from]))
        from++;
    while (to > from && view_is_space((unsigned char)link.data[to - 1]))
        to--;
    char *text = xstrndup(link.data ? link.data + from : "", to - from);
    textbuf_free(&link);
    xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
    if (href != NULL) {
        view_add_uri(b, (const char *)href, strlen((const char *)href), text);
        xmlFree(href);
    }
    free(text);
}

/* Renders HTML (UTF-8) to text in out and records its links. The tree is walked without
 * recursion, so deep nesting costs no stack. */
void view_render_html(struct view_builder *b, const char *html, size_t len, struct textbuf *out)
{
    if (len > INT_MAX)
        len = INT_MAX;
    htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (doc == NULL)
        return;
    xmlNode *n = doc->children;
    while (n != NULL) {
        if (html_enter(b, out, n) && n->children != NULL) {
            n = n->children;
            continue;
        }
        html_leave(b, out, n);
        while (n != NULL && n->next == NULL) {
            n = n->parent;
            if (n == NULL || n == (xmlNode *)doc) {
                n = NULL;
                break;
            }
            html_leave(b, out, n);
        }
        if (n != NULL)
            n = n->next;
    }
    xmlFreeDoc(doc);
}
