/* bayes_tokens.c - a message's token set: the body lines, the URIs and the header fields
 * tokenized (bayes_line.c, bayes_headers.c) under SpamAssassin's caps, each token keyed by the
 * last 5 bytes of its SHA-1 and kept once. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_tokens.h"
#include "util.h"

enum { BODY_TOKEN_CAP = 50000, URI_TOKEN_CAP = 10000, HEADER_TOKEN_CAP = 10000 };

void bayes_token_key(const char *token, size_t len, unsigned char key[BAYES_KEY_LEN])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(token, len, digest, &digest_len, EVP_sha1(), NULL) != 1 || digest_len != 20)
        abort();
    memcpy(key, digest + 20 - BAYES_KEY_LEN, BAYES_KEY_LEN);
}

void bayes_tokens_add(struct bayes_tokens *set, const char *token, size_t len)
{
    if (len == 0)
        return;
    if (set->count == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 256;
        set->items = xrealloc(set->items, set->cap * sizeof *set->items);
    }
    struct bayes_token *t = &set->items[set->count++];
    bayes_token_key(token, len, t->key);
    t->text = xmalloc(len + 1);
    memcpy(t->text, token, len);
    t->text[len] = '\0';
}

static int by_key(const void *a, const void *b)
{
    return memcmp(((const struct bayes_token *)a)->key, ((const struct bayes_token *)b)->key,
        BAYES_KEY_LEN);
}

void bayes_tokens_finish(struct bayes_tokens *set)
{
    if (set->count == 0)
        return;
    qsort(set->items, set->count, sizeof *set->items, by_key);
    size_t kept = 1;
    for (size_t i = 1; i < set->count; i++) {
        if (memcmp(set->items[i].key, set->items[kept - 1].key, BAYES_KEY_LEN) == 0) {
            free(set->items[i].text);
            continue;
        }
        set->items[kept++] = set->items[i];
    }
    set->count = kept;
}

bool bayes_tokens_contains(const struct bayes_tokens *set, const char *token)
{
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->items[i].text, token) == 0)
            return true;
    }
    return false;
}

void bayes_tokens_clear(struct bayes_tokens *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->items[i].text);
    set->count = 0;
    set->body_count = set->uri_count = set->header_count = 0;
}

void bayes_tokens_free(struct bayes_tokens *set)
{
    bayes_tokens_clear(set);
    free(set->items);
    set->items = NULL;
    set->cap = 0;
}

struct capped {
    struct bayes_tokens *set;
    size_t *counter;
    size_t cap;
};

static void add_capped(void *arg, const char *token, size_t len)
{
    struct capped *c = arg;
    if (*c->counter >= c->cap)
        return;
    (*c->counter)++;
    bayes_tokens_add(c->set, token, len);
}

void bayes_tokenize_message(const struct bayes_message *msg, struct bayes_tokens *set)
{
    bayes_tokens_clear(set);
    struct capped body = { set, &set->body_count, BODY_TOKEN_CAP };
    const char *p = msg->body, *end = msg->body != NULL ? msg->body + msg->body_len : NULL;
    while (p != NULL && p < end && set->body_count < BODY_TOKEN_CAP) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        bayes_tokenize_line(p, (size_t)(line_end - p), "", BAYES_REGION_BODY, add_capped, &body);
        p = nl != NULL ? nl + 1 : end;
    }
    struct capped uris = { set, &set->uri_count, URI_TOKEN_CAP };
    for (size_t i = 0; i < msg->uri_count && set->uri_count < URI_TOKEN_CAP; i++) {
        if (msg->uris[i] != NULL)
            bayes_tokenize_line(msg->uris[i], strlen(msg->uris[i]), "", BAYES_REGION_URI,
                add_capped, &uris);
    }
    struct capped headers = { set, &set->header_count, HEADER_TOKEN_CAP };
    bayes_tokenize_headers(msg->headers, msg->header_count, add_capped, &headers);
    bayes_tokenize_relays(msg->relays, add_capped, &headers);
    bayes_tokens_finish(set);
}
