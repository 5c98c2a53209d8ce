/* view_html_color.c - colours as SpamAssassin's HTML.pm reads them: name_to_rgb (the CSS
 * colour names, "#rgb" and "#rrggbb" as its "flex hex" cuts and pads them, rgb() in numbers or
 * percents; anything else "invalid") and the colour of a CSS background property
 * (parse_css_background: the first colour among the values of the last layer). Pure functions
 * of their arguments. */
#include "view_build.h"

#include <ctype.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct color_name {
    const char *name;
    unsigned rgb;
};

static const struct color_name color_names[] = {
    {"aliceblue", 0xf0f8ff},
    {"antiquewhite", 0xfaebd7},
    {"aqua", 0x00ffff},
    {"aquamarine", 0x7fffd4},
    {"azure", 0xf0ffff},
    {"beige", 0xf5f5dc},
    {"bisque", 0xffe4c4},
    {"black", 0x000000},
    {"blanchedalmond", 0xffebcd},
    {"blue", 0x0000ff},
    {"blueviolet", 0x8a2be2},
    {"brown", 0xa52a2a},
    {"burlywood", 0xdeb887},
    {"cadetblue", 0x5f9ea0},
    {"chartreuse", 0x7fff00},
    {"chocolate", 0xd2691e},
    {"coral", 0xff7f50},
    {"cornflowerblue", 0x6495ed},
    {"cornsilk", 0xfff8dc},
    {"crimson", 0xdc143c},
    {"cyan", 0x00ffff},
    {"darkblue", 0x00008b},
    {"darkcyan", 0x008b8b},
    {"darkgoldenrod", 0xb8860b},
    {"darkgray", 0xa9a9a9},
    {"darkgreen", 0x006400},
    {"darkgrey", 0xa9a9a9},
    {"darkkhaki", 0xbdb76b},
    {"darkmagenta", 0x8b008b},
    {"darkolivegreen", 0x556b2f},
    {"darkorange", 0xff8c00},
    {"darkorchid", 0x9932cc},
    {"darkred", 0x8b0000},
    {"darksalmon", 0xe9967a},
    {"darkseagreen", 0x8fbc8f},
    {"darkslateblue", 0x483d8b},
    {"darkslategray", 0x2f4f4f},
    {"darkslategrey", 0x2f4f4f},
    {"darkturquoise", 0x00ced1},
    {"darkviolet", 0x9400d3},
    {"deeppink", 0xff1493},
    {"deepskyblue", 0x00bfff},
    {"dimgray", 0x696969},
    {"dimgrey", 0x696969},
    {"dodgerblue", 0x1e90ff},
    {"firebrick", 0xb22222},
    {"floralwhite", 0xfffaf0},
    {"forestgreen", 0x228b22},
    {"fuchsia", 0xff00ff},
    {"gainsboro", 0xdcdcdc},
    {"ghostwhite", 0xf8f8ff},
    {"gold", 0xffd700},
    {"goldenrod", 0xdaa520},
    {"gray", 0x808080},
    {"green", 0x008000},
    {"greenyellow", 0xadff2f},
    {"grey", 0x808080},
    {"honeydew", 0xf0fff0},
    {"hotpink", 0xff69b4},
    {"indianred", 0xcd5c5c},
    {"indigo", 0x4b0082},
    {"ivory", 0xfffff0},
    {"khaki", 0xf0e68c},
    {"lavender", 0xe6e6fa},
    {"lavenderblush", 0xfff0f5},
    {"lawngreen", 0x7cfc00},
    {"lemonchiffon", 0xfffacd},
    {"lightblue", 0xadd8e6},
    {"lightcoral", 0xf08080},
    {"lightcyan", 0xe0ffff},
    {"lightgoldenrodyellow", 0xfafad2},
    {"lightgray", 0xd3d3d3},
    {"lightgreen", 0x90ee90},
    {"lightgrey", 0xd3d3d3},
    {"lightpink", 0xffb6c1},
    {"lightsalmon", 0xffa07a},
    {"lightseagreen", 0x20b2aa},
    {"lightskyblue", 0x87cefa},
    {"lightslategray", 0x778899},
    {"lightslategrey", 0x778899},
    {"lightsteelblue", 0xb0c4de},
    {"lightyellow", 0xffffe0},
    {"lime", 0x00ff00},
    {"limegreen", 0x32cd32},
    {"linen", 0xfaf0e6},
    {"magenta", 0xff00ff},
    {"maroon", 0x800000},
    {"mediumaquamarine", 0x66cdaa},
    {"mediumblue", 0x0000cd},
    {"mediumorchid", 0xba55d3},
    {"mediumpurple", 0x9370db},
    {"mediumseagreen", 0x3cb371},
    {"mediumslateblue", 0x7b68ee},
    {"mediumspringgreen", 0x00fa9a},
    {"mediumturquoise", 0x48d1cc},
    {"mediumvioletred", 0xc71585},
    {"midnightblue", 0x191970},
    {"mintcream", 0xf5fffa},
    {"mistyrose", 0xffe4e1},
    {"moccasin", 0xffe4b5},
    {"navajowhite", 0xffdead},
    {"navy", 0x000080},
    {"oldlace", 0xfdf5e6},
    {"olive", 0x808000},
    {"olivedrab", 0x6b8e23},
    {"orange", 0xffa500},
    {"orangered", 0xff4500},
    {"orchid", 0xda70d6},
    {"palegoldenrod", 0xeee8aa},
    {"palegreen", 0x98fb98},
    {"paleturquoise", 0xafeeee},
    {"palevioletred", 0xdb7093},
    {"papayawhip", 0xffefd5},
    {"peachpuff", 0xffdab9},
    {"peru", 0xcd853f},
    {"pink", 0xffc0cb},
    {"plum", 0xdda0dd},
    {"powderblue", 0xb0e0e6},
    {"purple", 0x800080},
    {"red", 0xff0000},
    {"rosybrown", 0xbc8f8f},
    {"royalblue", 0x4169e1},
    {"saddlebrown", 0x8b4513},
    {"salmon", 0xfa8072},
    {"sandybrown", 0xf4a460},
    {"seagreen", 0x2e8b57},
    {"seashell", 0xfff5ee},
    {"sienna", 0xa0522d},
    {"silver", 0xc0c0c0},
    {"skyblue", 0x87ceeb},
    {"slateblue", 0x6a5acd},
    {"slategray", 0x708090},
    {"slategrey", 0x708090},
    {"snow", 0xfffafa},
    {"springgreen", 0x00ff7f},
    {"steelblue", 0x4682b4},
    {"tan", 0xd2b48c},
    {"teal", 0x008080},
    {"thistle", 0xd8bfd8},
    {"tomato", 0xff6347},
    {"turquoise", 0x40e0d0},
    {"violet", 0xee82ee},
    {"wheat", 0xf5deb3},
    {"white", 0xffffff},
    {"whitesmoke", 0xf5f5f5},
    {"yellow", 0xffff00},
    {"yellowgreen", 0x9acd32},
};

static int compare_color(const void *key, const void *entry)
{
    return strcmp(key, *(const char *const *)entry);
}

/* name_to_rgb: "#rrggbb" (or a shorter "#..." as HTML.pm leaves it) or "invalid". */
void view_html_color(const char *in, char out[16])
{
    char c[64];
    size_t n = 0;
    while (*in && isspace((unsigned char)*in))
        in++;
    for (; *in && n + 1 < sizeof c; in++)
        c[n++] = (char)tolower((unsigned char)*in);
    while (n > 0 && isspace((unsigned char)c[n - 1]))
        n--;
    c[n] = '\0';
    const void *hit = bsearch(c, color_names, sizeof color_names / sizeof color_names[0],
        sizeof color_names[0], compare_color);
    if (hit != NULL) {
        snprintf(out, 16, "#%06x", ((const struct color_name *)hit)->rgb);
        return;
    }
    bool hexish = strspn(c, "#abcdef0123456789") == n;
    const char *rgb = strstr(c, "rgb(");
    if (!hexish && rgb == NULL) {
        strcpy(out, "invalid");
        return;
    }
    char work[64];
    snprintf(work, sizeof work, "%s", c);
    unsigned r, g, b;
    char pct[4];
    if (rgb != NULL && sscanf(rgb, "rgb(%u%%,%*[ \t]%u%%,%*[ \t]%u%%%1[ )]", &r, &g, &b, pct) == 4)
        snprintf(work, sizeof work, "#%02x%02x%02x", (unsigned)(r / 100.0 * 255),
            (unsigned)(g / 100.0 * 255), (unsigned)(b / 100.0 * 255));
    else if (rgb != NULL && (sscanf(rgb, "rgb(%u,%u,%u%1[ )]", &r, &g, &b, pct) == 4
            || sscanf(rgb, "rgb(%u, %u, %u%1[ )]", &r, &g, &b, pct) == 4))
        snprintf(work, sizeof work, "#%02x%02x%02x", r, g, b);
    if (work[0] != '#') {
        strcpy(out, "invalid");
        return;
    }
    char hex[64];
    size_t h = 0;
    for (const char *p = work; *p && h + 1 < sizeof hex; p++) {
        if (isxdigit((unsigned char)*p))
            hex[h++] = *p;
    }
    if (h > 6)
        h = 6;
    if (h > 3 && h < 6)
        h = 3;
    while (h % 3 != 0)
        hex[h++] = '0';
    hex[h] = '\0';
    if (h == 3)
        snprintf(out, 16, "#%c%c%c%c%c%c", hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]);
    else
    {
        out[0] = '#';
        memcpy(out + 1, hex, h);    /* h is 0 or 6 here */
        out[h + 1] = '\0';
    }
}

/* parse_css_background: the values of the last layer (layers split at top-level commas,
 * values at top-level spaces, parentheses and quotes kept whole); the first that is a
 * colour becomes bg. */
void view_html_css_background(const char *value, char bg[16])
{
    char *low = g_ascii_strdown(value, -1);
    char *tokens[64];
    size_t count = 0;
    struct textbuf tok;
    textbuf_init(&tok);
    int depth = 0;
    char quote = 0;
    for (const char *c = low;; c++) {
        bool end = *c == '\0';
        if (!end && quote != 0) {
            textbuf_append(&tok, c, 1);
            if (*c == quote)
                quote = 0;
            continue;
        }
        if (!end && (*c == '"' || *c == '\'')) {
            quote = *c;
            textbuf_append(&tok, c, 1);
            continue;
        }
        if (!end && depth > 0) {
            textbuf_append(&tok, c, 1);
            if (*c == ')')
                depth--;
            continue;
        }
        if (!end && *c == '(') {
            depth++;
            textbuf_append(&tok, c, 1);
            continue;
        }
        if (end || *c == ' ' || *c == ',') {
            if (tok.len > 0 && count < 64)
                tokens[count++] = xstrdup(tok.data);
            tok.len = 0;
            if (tok.data)
                tok.data[0] = '\0';
            if (!end && *c == ',') {
                for (size_t i = 0; i < count; i++)
                    free(tokens[i]);
                count = 0;             /* a new layer: only the last one counts */
            }
            if (end)
                break;
            continue;
        }
        textbuf_append(&tok, c, 1);
    }
    textbuf_free(&tok);
    for (size_t i = 0; i < count; i++) {
        char color[16];
        view_html_color(tokens[i], color);
        if (strcmp(color, "invalid") != 0) {
            strcpy(bg, color);
            break;
        }
    }
    for (size_t i = 0; i < count; i++)
        free(tokens[i]);
    g_free(low);
}

