/* bayes_view.h - a message's Bayes tokens from its message view (message_view.h), what
 * SpamAssassin tokenizes: the rendered body text, the URIs, and the header fields with the
 * values decoded as SpamAssassin decodes them (RFC 2047 except Received, Message-ID, Date,
 * MIME-Version, References, In-Reply-To and List-*). */
#ifndef MW_BAYES_VIEW_H
#define MW_BAYES_VIEW_H

#include <stddef.h>

#include "bayes_tokens.h"

struct message_view;
struct header_field;

/* header_cap: the cap the view's header cache is used with (the rules' header_bytes), so the
 * rules and Bayes share the decoded fields. relays: the relay metadata (NULL: none). */
void bayes_tokenize_view(const struct message_view *view, const struct header_field *headers,
    size_t header_count, size_t header_cap, const struct bayes_relays *relays,
    struct bayes_tokens *set);

#endif
