/* bayes_view.c - the bridge from a message view to the tokenizer (bayes_view.h). */
#include <stdlib.h>
#include <strings.h>

#include "bayes_view.h"
#include "header.h"
#include "header_cache.h"
#include "message_view.h"
#include "util.h"

/* Fields SpamAssassin does not RFC 2047-decode (Message/Node.pm, bug 6945). */
static bool kept_encoded(const char *name)
{
    static const char *const names[] = { "Received", "Message-ID", "Resent-Message-ID", "Date",
        "Resent-Date", "MIME-Version", "References", "In-Reply-To", NULL };
    if (strncasecmp(name, "List-", 5) == 0)
        return true;
    for (size_t i = 0; names[i] != NULL; i++) {
        if (strcasecmp(name, names[i]) == 0)
            return true;
    }
    return false;
}

void bayes_tokenize_view(const struct message_view *view, const struct header_field *headers,
    size_t header_count, size_t header_cap, const struct bayes_relays *relays,
    struct bayes_tokens *set)
{
    struct bayes_header *h = xcalloc(header_count + 1, sizeof *h);
    size_t n = 0;
    for (size_t i = 0; i < header_count; i++) {
        if (headers[i].name == NULL)
            continue;
        const char *value = NULL;
        if (view->header_cache != NULL)
            value = kept_encoded(headers[i].name)
                ? header_cache_flat(view->header_cache, i, header_cap)
                : header_cache_decoded(view->header_cache, i, header_cap);
        h[n].name = headers[i].name;
        h[n].value = value != NULL ? value : (headers[i].value != NULL ? headers[i].value : "");
        n++;
    }
    const char **uris = xcalloc(view->uri_count + 1, sizeof *uris);
    for (size_t i = 0; i < view->uri_count; i++)
        uris[i] = view->uris[i].url;
    struct bayes_message msg = {
        .body = view->text, .body_len = view->text_len,
        .uris = uris, .uri_count = view->uri_count,
        .headers = h, .header_count = n, .relays = relays,
    };
    bayes_tokenize_message(&msg, set);
    free(uris);
    free(h);
}
