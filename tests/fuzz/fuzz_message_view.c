/* tests/fuzz/fuzz_message_view.c - libFuzzer target: any bytes, read as a message, turned into
 * the decoded message view (GMime MIME decoding, charset conversion, HTML rendering, the
 * body lines, the URI scanner) with a small scan cap. Promises under test: the view is always built, its
 * text and rawtext are NUL-terminated at their lengths and valid UTF-8, never longer than the
 * cap, the parts and URIs stay within their limits; no crash, leak or out-of-bounds read. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "message_file.h"
#include "message_view.h"
#include "spam_config.h"
#include "txn.h"

#define SCAN_CAP 8192

static struct config *policy;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (policy == NULL) {
        log_open("fuzz", LOG_MAIL, false, false);
        log_set_level(LOG_ERR);
        policy = config_defaults();
        policy->spam->max_scan_bytes = SCAN_CAP;
        policy->limits.max_body_buffer = 4 * SCAN_CAP;
    }
    FILE *fp = fmemopen((void *)data, size ? size : 1, "rb");
    if (fp == NULL)
        return 0;
    if (size == 0)
        fgetc(fp);
    struct message msg;
    int rc = message_read(fp, &msg);
    fclose(fp);
    if (rc != 0)
        return 0;
    policy->refs++;                       /* the txn releases one reference */
    struct txn *t = txn_new(policy);
    for (size_t i = 0; i < msg.header_count; i++)
        txn_add_header(t, msg.headers[i].name, msg.headers[i].value);
    txn_add_body(t, msg.body, msg.body_len);
    const struct message_view *v = message_view_get(t);
    if (v == NULL || strlen(v->text) != v->text_len || strlen(v->rawtext) != v->rawtext_len)
        abort();
    if (v->text_len > SCAN_CAP || v->rawtext_len > SCAN_CAP)
        abort();
    if (!g_utf8_validate(v->text, (gssize)v->text_len, NULL)
        || !g_utf8_validate(v->rawtext, (gssize)v->rawtext_len, NULL))
        abort();
    for (size_t i = 0; i < v->uri_count; i++) {
        if (v->uris[i].url == NULL || v->uris[i].url[0] == '\0')
            abort();
    }
    /* the body lines cover the text exactly, in order; the visible text is valid UTF-8 */
    size_t covered = 0;
    for (size_t i = 0; i < v->line_count; i++) {
        if (v->lines[i].start != covered)
            abort();
        covered += v->lines[i].len;
    }
    if (covered != v->text_len)
        abort();
    if (v->visible_text == NULL || !g_utf8_validate(v->visible_text, (gssize)v->visible_text_len, NULL))
        abort();
    txn_free(t);
    message_free(&msg);
    return 0;
}
