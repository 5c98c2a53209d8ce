/* rules_envfrom.c - the envelope sender of a message whose caller does not know it
 * (rules_message.envelope_from NULL: mailwarden-check without --from), found in the message as
 * SpamAssassin's PerMsgStatus::get_envelope_from finds it without envelope_sender_header:
 *   1. the envfrom of the last untrusted relay (the first trusted one when all are trusted),
 *      when it holds an @ after its first character or is empty (the null sender);
 *   2. none at all when an X-Sender address comes with a fetchmail Received line;
 *   3. the first X-Envelope-From address, none when a Received field precedes an
 *      X-Envelope-From field (a list may have changed the sender since);
 *   4. the first Envelope-Sender, then the first Return-Path address, each skipped when a
 *      Received field precedes one of its fields;
 *   5. none.
 * The daemon always knows the sender (MAIL FROM) and never comes here. */
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "header_cache.h"
#include "rules_evalfn.h"
#include "rules_relays.h"
#include "util.h"

/* The first address of the first field `name`; NULL when there is no such field or it holds
 * no address (SpamAssassin's get("Name:first:addr") undefined). */
static const char *first_address(struct eval_ctx *ctx, const char *name)
{
    const struct rules_message *msg = ctx->msg;
    for (size_t i = 0; i < msg->header_count; i++) {
        if (!str_ieq(msg->headers[i].name, name) || msg->headers[i].value == NULL)
            continue;
        const char *address = NULL, *display = NULL;
        header_cache_mailbox(ctx->headers, i, (size_t)ctx->limits->header_bytes, &address,
            &display);
        return address != NULL && address[0] != '\0' ? address : NULL;
    }
    return NULL;
}

/* SpamAssassin's get("ALL") =~ /^Received:.*?^Name:/smi: a Received field before a `name` one. */
static bool received_before(const struct rules_message *msg, const char *name)
{
    bool seen_received = false;
    for (size_t i = 0; i < msg->header_count; i++) {
        if (str_ieq(msg->headers[i].name, "Received"))
            seen_received = true;
        else if (seen_received && str_ieq(msg->headers[i].name, name))
            return true;
    }
    return false;
}

static bool fetchmail_received(const struct rules_message *msg)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        const struct header_field *h = &msg->headers[i];
        if (str_ieq(h->name, "Received") && h->value != NULL && strstr(h->value, "(fetchmail"))
            return true;
    }
    return false;
}

/* Step 1: the relay SpamAssassin reads; NULL when the message has no relays. */
static const struct rules_relay *last_hop(const struct rules_relays *relays)
{
    if (relays->count > relays->trusted_count)
        return &relays->relay[relays->trusted_count];         /* the last untrusted */
    if (relays->trusted_count > 0)
        return &relays->relay[relays->trusted_count - 1];     /* the first trusted */
    return NULL;
}

static const char *find_sender(struct eval_ctx *ctx)
{
    const struct rules_relay *hop = last_hop(eval_relays(ctx));
    if (hop != NULL && hop->envfrom != NULL) {
        const char *at = strchr(hop->envfrom, '@');
        if ((at != NULL && at != hop->envfrom) || hop->envfrom[0] == '\0')
            return hop->envfrom;
    }
    const char *x_sender = first_address(ctx, "X-Sender");
    if (x_sender != NULL && strchr(x_sender, '@') != NULL && fetchmail_received(ctx->msg))
        return NULL;
    const char *found = first_address(ctx, "X-Envelope-From");
    if (found != NULL)
        return received_before(ctx->msg, "X-Envelope-From") ? NULL : found;
    static const char *const later[] = { "Envelope-Sender", "Return-Path" };
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        found = first_address(ctx, later[i]);
        if (found != NULL && !received_before(ctx->msg, later[i]))
            return found;
    }
    return NULL;
}

char *rules_envelope_from_find(struct eval_ctx *ctx, struct rules_message *copy)
{
    if (ctx->msg->envelope_from != NULL)
        return NULL;
    const char *found = find_sender(ctx);
    char *sender = found != NULL ? xstrdup(found) : NULL;
    *copy = *ctx->msg;
    copy->envelope_from = sender;
    ctx->msg = copy;
    return sender;
}
