/* eval_imageinfo.c - SpamAssassin's ImageInfo plugin, natively, with its 4.0.1 semantics:
 * base64 GIF, PNG and JPEG parts (SpamAssassin's view of the MIME tree, eval_mime.h) counted
 * by type, their dimensions read from the image headers (GIF's logical screen, PNG's IHDR,
 * JPEG's start-of-frame), the pixels they cover, the ratio of text to pixels, their names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval_mime.h"
#include "message_view.h"
#include "rules_evalfn.h"
#include "util.h"

enum image_type { IMG_GIF, IMG_PNG, IMG_JPEG, IMG_TYPES };

static const char *const type_names[IMG_TYPES] = { "gif", "png", "jpeg" };

struct dimension {
    unsigned long height, width;
    enum image_type type;
};

struct images {
    double pixels[IMG_TYPES];
    unsigned count[IMG_TYPES];
    struct dimension *dims;
    size_t dim_count;
    char **names;
    size_t name_count;
};

static const char *arg(const struct eval_call *call, size_t i)
{
    return i < call->argc ? call->args[i] : NULL;
}

static unsigned long be16(const unsigned char *p)
{
    return ((unsigned long)p[0] << 8) | p[1];
}

static unsigned long be32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
}

/* Height and width from the image's own header; 0 when unreadable. */
static void dimensions(enum image_type type, const unsigned char *d, size_t len,
    unsigned long *height, unsigned long *width)
{
    *height = *width = 0;
    if (type == IMG_GIF) {
        if (len >= 10 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) {
            *width = d[6] | ((unsigned long)d[7] << 8);
            *height = d[8] | ((unsigned long)d[9] << 8);
        }
    } else if (type == IMG_PNG) {
        if (len < 8 || memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0)
            return;
        /* ImageInfo.pm reads chunk headers every 8 bytes until IHDR (or IEND) */
        for (size_t pos = 8; pos < len; pos += 8) {
            if (pos + 8 > len)
                return;
            unsigned long clen = be32(d + pos);
            if (memcmp(d + pos + 4, "IEND", 4) == 0)
                return;
            if (memcmp(d + pos + 4, "IHDR", 4) == 0 && clen == 13) {
                if (pos + 16 <= len) {
                    *width = be32(d + pos + 8);
                    *height = be32(d + pos + 12);
                }
                return;
            }
        }
    } else {
        if (len < 2 || d[0] != 0xFF || d[1] != 0xD8)
            return;
        size_t pos = 2;
        while (pos + 4 <= len) {
            unsigned mark = d[pos + 1];
            unsigned long blen = be16(d + pos + 2);
            if (d[pos] != 0xFF || mark == 0xDA || mark == 0xD9 || blen < 2)
                return;
            pos += 4;
            if ((mark >= 0xC0 && mark <= 0xC3) || (mark >= 0xC5 && mark <= 0xC7)
                || (mark >= 0xC9 && mark <= 0xCB) || (mark >= 0xCD && mark <= 0xCF)) {
                if (pos + 5 <= len) {
                    *height = be16(d + pos + 1);
                    *width = be16(d + pos + 3);
                }
                return;
            }
            pos += blen - 2;
        }
    }
}

static void *make_images(struct eval_ctx *ctx)
{
    struct images *im = xcalloc(1, sizeof *im);
    const struct sa_mime *m = eval_mime(ctx);
    for (size_t i = 0; i < m->count; i++) {
        const struct sa_mime_part *p = &m->parts[i];
        if (!p->leaf)
            continue;
        enum image_type type;
        if (strcmp(p->type, "image/gif") == 0)
            type = IMG_GIF;
        else if (strcmp(p->type, "image/png") == 0)
            type = IMG_PNG;
        else if (strcmp(p->type, "image/jpeg") == 0 || strcmp(p->type, "image/jpg") == 0)
            type = IMG_JPEG;
        else
            continue;
        const char *cte = sa_mime_header(p, "Content-Transfer-Encoding", false);
        if (cte == NULL || strcasecmp(cte, "base64") != 0)
            continue;
        size_t len;
        char *data = sa_mime_decode(p, &len);
        unsigned long h, w;
        dimensions(type, (const unsigned char *)data, len, &h, &w);
        free(data);
        im->count[type]++;
        if (h == 0 || w == 0)
            continue;
        im->pixels[type] += (double)h * (double)w;
        im->dims = xrealloc(im->dims, (im->dim_count + 1) * sizeof *im->dims);
        im->dims[im->dim_count++] = (struct dimension){ h, w, type };
        if (p->name != NULL && *p->name != '\0') {
            im->names = xrealloc(im->names, (im->name_count + 1) * sizeof *im->names);
            im->names[im->name_count++] = xstrdup(p->name);
        }
    }
    return im;
}

static void free_images(void *data)
{
    struct images *im = data;
    free(im->dims);
    for (size_t i = 0; i < im->name_count; i++)
        free(im->names[i]);
    free(im->names);
    free(im);
}

static const struct images *images_of(struct eval_ctx *ctx)
{
    return eval_plugin_data(ctx, EVAL_IMAGEINFO, make_images, free_images);
}

/* The type argument: an image type, or "all"; -1 for all, -2 unknown. */
static int type_of(const char *name)
{
    if (name == NULL)
        return -2;
    if (strcmp(name, "all") == 0)
        return -1;
    for (int t = 0; t < IMG_TYPES; t++) {
        if (strcmp(name, type_names[t]) == 0)
            return t;
    }
    return -2;
}

static double pixels(const struct images *im, int type)
{
    if (type >= 0)
        return im->pixels[type];
    return im->pixels[IMG_GIF] + im->pixels[IMG_PNG] + im->pixels[IMG_JPEG];
}

/* ImageInfo's result_check: min <= value <= max (max optional; with no_max_equal, < max). */
static bool in_range(const struct eval_call *call, size_t min_at, double value, bool no_max_equal)
{
    double min, max;
    if (!eval_arg_number(arg(call, min_at), &min) || value < min)
        return false;
    if (!eval_arg_number(arg(call, min_at + 1), &max))
        return !(no_max_equal && value == 0);     /* Perl compares with undef: 0 */
    return value <= max && !(no_max_equal && value == max);
}

/* image_count(type, min[, max]) */
static unsigned run_image_count(struct eval_ctx *ctx, const struct eval_call *call)
{
    int type = type_of(arg(call, 0));
    if (type == -2)
        return 0;
    const struct images *im = images_of(ctx);
    unsigned n = type >= 0 ? im->count[type]
        : im->count[IMG_GIF] + im->count[IMG_PNG] + im->count[IMG_JPEG];
    return in_range(call, 1, n, false);
}

/* pixel_coverage(type, min[, max]) */
static unsigned run_pixel_coverage(struct eval_ctx *ctx, const struct eval_call *call)
{
    int type = type_of(arg(call, 0));
    if (type == -2)
        return 0;
    return in_range(call, 1, pixels(images_of(ctx), type), false);
}

/* image_to_text_ratio(type, min, max): the text's length (the rule's own text: body or
 * rawbody, lines joined) per pixel. */
static unsigned run_image_to_text_ratio(struct eval_ctx *ctx, const struct eval_call *call)
{
    int type = type_of(arg(call, 0));
    if (type == -2 || arg(call, 2) == NULL)
        return 0;
    double px = pixels(images_of(ctx), type);
    const struct message_view *view = ctx->msg->view;
    if (px <= 0 || view == NULL)
        return 0;
    size_t textlen;
    if (call->rule->type == RULE_RAWBODY) {
        textlen = view->rawtext_len;
    } else {
        textlen = 0;
        for (size_t i = 0; i < view->text_len; i++)
            textlen += view->text[i] != '\n';
    }
    if (textlen == 0)
        return 0;
    return in_range(call, 1, (double)textlen / px, true);
}

/* image_size_exact(type, height, width) */
static unsigned run_image_size_exact(struct eval_ctx *ctx, const struct eval_call *call)
{
    int type = type_of(arg(call, 0));
    double h, w;
    if (type == -2 || !eval_arg_number(arg(call, 1), &h) || !eval_arg_number(arg(call, 2), &w))
        return 0;
    const struct images *im = images_of(ctx);
    for (size_t i = 0; i < im->dim_count; i++) {
        if ((type < 0 || im->dims[i].type == (enum image_type)type)
            && (double)im->dims[i].height == h && (double)im->dims[i].width == w)
            return 1;
    }
    return 0;
}

/* image_size_range(type, minh, minw[, maxh, maxw]) */
static unsigned run_image_size_range(struct eval_ctx *ctx, const struct eval_call *call)
{
    int type = type_of(arg(call, 0));
    double minh, minw, maxh, maxw;
    if (type == -2 || !eval_arg_number(arg(call, 1), &minh) || !eval_arg_number(arg(call, 2), &minw))
        return 0;
    bool has_maxh = eval_arg_number(arg(call, 3), &maxh);
    bool has_maxw = eval_arg_number(arg(call, 4), &maxw);
    const struct images *im = images_of(ctx);
    for (size_t i = 0; i < im->dim_count; i++) {
        const struct dimension *d = &im->dims[i];
        if (type >= 0 && d->type != (enum image_type)type)
            continue;
        if ((double)d->height < minh || (double)d->width < minw)
            continue;
        if ((has_maxh && (double)d->height > maxh) || (has_maxw && (double)d->width > maxw))
            continue;
        return 1;
    }
    return 0;
}

/* image_named(name) */
static unsigned run_image_named(struct eval_ctx *ctx, const struct eval_call *call)
{
    const char *name = arg(call, 0);
    if (name == NULL)
        return 0;
    const struct images *im = images_of(ctx);
    for (size_t i = 0; i < im->name_count; i++) {
        if (strcmp(im->names[i], name) == 0)
            return 1;
    }
    return 0;
}

static const struct eval_function functions[] = {
    { "image_count", NULL, NULL, run_image_count },
    { "pixel_coverage", NULL, NULL, run_pixel_coverage },
    { "image_to_text_ratio", NULL, NULL, run_image_to_text_ratio },
    { "image_size_exact", NULL, NULL, run_image_size_exact },
    { "image_size_range", NULL, NULL, run_image_size_range },
    { "image_named", NULL, NULL, run_image_named },
    { NULL, NULL, NULL, NULL },
};

const struct eval_plugin eval_plugin_imageinfo = {
    .id = EVAL_IMAGEINFO,
    .name = "Mail::SpamAssassin::Plugin::ImageInfo",
    .available = true,
    .functions = functions,
};
