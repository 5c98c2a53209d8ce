/* txn_view.c - the transaction's message view (message_view_get in message_view.h): built once,
 * on first use, from the header fields and body the txn buffered, with the policy's scan cap;
 * txn_reset frees it. The one place that joins the txn to message_view.c, which knows only
 * header fields and bytes. */
#include "message_view.h"

#include "spam_config.h"
#include "txn.h"

const struct message_view *message_view_get(struct txn *t)
{
    if (t->view != NULL)
        return t->view;
    struct message_source src = {
        .headers = t->headers,
        .header_count = t->header_count,
        .body = t->body,
        .body_len = t->body_len,
        .truncated = t->body_truncated || txn_headers_truncated(t),
        .max_scan_bytes = t->cfg->spam != NULL ? t->cfg->spam->max_scan_bytes
            : SPAM_DEFAULT_MAX_SCAN_BYTES,
    };
    t->view = message_view_build(&src);
    return t->view;
}
