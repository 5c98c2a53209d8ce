/* check_dkim_sign.c - DKIM-signs outbound mail (RFC 6376, RFC 8463) with dkim_signer.c.
 * At the end of the headers it decides whether the message is signed and with which keys:
 * outbound clients (SASL-authenticated and networks.internal unless dkim.sign says
 * otherwise, plus dkim.sign.networks), the first dkim.signing rule matching the From: domain
 * (or the envelope sender), else dkim.sign.default_key; an authenticated user only for the
 * domains dkim.users allows them. It then streams the body into one signer per key and, at
 * the end of the message, signs the header as it stands and inserts the DKIM-Signature
 * fields.
 * Runs even after an allow-list ACCEPT. Mail that must be signed but cannot be gets
 * DKIM_SIGN_FAILED with dkim.sign.on_error (tempfail by default) and a log line saying why.
 * Keys are parsed at policy load (dkim_keys.c); nothing here reads a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "dkim_policy.h"
#include "dkim_signer.h"
#include "dkim_util.h"
#include "log.h"
#include "pattern.h"
#include "util.h"

extern const struct check check_dkim_sign;

struct sign_state {
    struct dkim_signer *signers[8];
    size_t keys[8];            /* key-table index of each signer */
    size_t count;
};

static const char *qid(const struct txn *t)
{
    return t->queue_id != NULL ? t->queue_id : "NOQUEUE";
}

static bool client_signed(const struct txn *t, const struct dkim_policy *p)
{
    if (p->sign.authenticated && t->sasl_user != NULL)
        return true;
    if (p->sign.internal && (t->client_flags & CLIENT_INTERNAL))
        return true;
    return t->have_client_addr && cidr_list_contains(&p->sign.networks, &t->client_addr);
}

/* Whether the authenticated user may be signed for this domain. */
static bool user_may_sign(const struct dkim_policy *p, const char *user, const char *domain)
{
    bool listed = false;
    for (size_t i = 0; i < p->user_count; i++) {
        if (!pattern_match_sasl_user(&p->users[i].who, user))
            continue;
        listed = true;
        if (pattern_match_domain(&p->users[i].domains, domain))
            return true;
    }
    const char *at = strrchr(user, '@');
    return !listed && at != NULL && str_ieq(at + 1, domain);
}

static void sign_failed(struct txn *t, const char *why)
{
    const struct dkim_policy *p = t->cfg->dkim;
    log_warn("%s: DKIM signing failed: %s; dkim.sign.on_error: %s", qid(t), why,
        action_name(p->sign.on_error));
    enum action action = p->sign.on_error == ACTION_TEMPFAIL ? ACTION_TEMPFAIL : ACTION_NONE;
    struct reply reply = {0};
    const char *err;
    reply_parse("451 4.7.0 Message could not be DKIM-signed, try again later", &reply, &err);
    txn_add_result(t, "DKIM_SIGN_FAILED", 0, action, action == ACTION_NONE ? NULL : &reply);
}

static void free_state(struct sign_state *s)
{
    for (size_t i = 0; i < s->count; i++)
        dkim_signer_free(s->signers[i]);
    free(s);
}

/* The key-table indexes to sign with (up to max); 0 when the message is not signed. */
static size_t choose_keys(struct txn *t, const struct dkim_policy *p, const char *from,
    size_t *keys, size_t max)
{
    const struct dkim_sign_rule *rule = NULL;
    const char *subject = NULL;
    for (size_t i = 0; i < p->rule_count && rule == NULL; i++) {
        const char *candidate = p->rules[i].on == DKIM_MATCH_FROM ? from : t->sender;
        if (candidate != NULL && *candidate != '\0' && pattern_match_address(&p->rules[i].match, candidate)) {
            rule = &p->rules[i];
            subject = candidate;
        }
    }
    if (rule == NULL && p->sign.default_key == NULL)
        return 0;
    if (t->sasl_user != NULL) {
        const char *domains[2] = {from != NULL ? addr_domain(from) : NULL,
            subject != NULL && subject != from ? addr_domain(subject) : NULL};
        for (size_t i = 0; i < 2; i++) {
            if (domains[i] != NULL && !user_may_sign(p, t->sasl_user, domains[i])) {
                log_info("%s: not DKIM-signed: user %s may not be signed for %s (dkim.users)",
                    qid(t), t->sasl_user, domains[i]);
                txn_add_result(t, "DKIM_SIGN_NOT_ALLOWED", 0, ACTION_NONE, NULL);
                return 0;
            }
        }
    }
    if (rule == NULL) {
        keys[0] = p->default_key;
        return 1;
    }
    size_t n = rule->key_count < max ? rule->key_count : max;
    memcpy(keys, rule->keys, n * sizeof *keys);
    return n;
}

static struct dkim_signer *start_signer(const struct dkim_policy *p,
    const struct dkim_key_entry *e)
{
    struct dkim_sign_params params = {
        .key = e->key->pkey,
        .domain = e->domain,
        .selector = e->selector,
        .header_canon = (enum arc_canon_kind)p->sign.header_canon,
        .body_canon = (enum arc_canon_kind)p->sign.body_canon,
        .sign_headers = p->sign.headers,
        .oversign = p->sign.oversign,
        .timestamp = (uint64_t)time(NULL),
        .expire_s = p->sign.expire_s > 0 ? (uint64_t)p->sign.expire_s : 0,
    };
    return dkim_signer_new(&params);
}

static void sign_headers(struct txn *t)
{
    const struct dkim_policy *p = t->cfg->dkim;
    if (p == NULL || !p->sign.enabled || !client_signed(t, p))
        return;
    const char *from_value = txn_header(t, "From", 0);
    char from[512];
    bool have_from = from_value != NULL && dkim_from_address(from_value, from, sizeof from);
    size_t keys[8];
    size_t count = choose_keys(t, p, have_from ? from : NULL, keys, 8);
    if (count == 0)
        return;
    if (txn_headers_truncated(t)) {
        sign_failed(t, "the header block exceeds limits.max_headers or limits.max_header_bytes");
        return;
    }
    if (!have_from) {
        sign_failed(t, "the message has no usable From: address (RFC 6376 5.4 signs From:)");
        return;
    }
    struct sign_state *s = xcalloc(1, sizeof *s);
    *txn_check_state(t, &check_dkim_sign) = s;
    for (size_t i = 0; i < count; i++) {
        s->signers[s->count] = start_signer(p, &p->keys[keys[i]]);
        s->keys[s->count++] = keys[i];
    }
}

static void sign_body(struct txn *t, const unsigned char *data, size_t len)
{
    struct sign_state *s = *txn_check_state(t, &check_dkim_sign);
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        dkim_signer_body(s->signers[i], data, len);
}

static void sign_eom(struct txn *t)
{
    struct sign_state *s = *txn_check_state(t, &check_dkim_sign);
    if (s == NULL || s->count == 0)
        return;
    const struct dkim_policy *p = t->cfg->dkim;
    char *values[8] = { NULL };
    for (size_t i = 0; i < s->count; i++) {
        const struct dkim_key_entry *e = &p->keys[s->keys[i]];
        char why[256];
        values[i] = dkim_signer_finish(s->signers[i], t->headers, t->header_count, true, why,
            sizeof why);
        if (values[i] == NULL) {
            char text[320];
            snprintf(text, sizeof text, "key \"%s\": %s", e->name, why);
            sign_failed(t, text);
            for (size_t k = 0; k < i; k++)
                free(values[k]);
            return;
        }
    }
    /* insert in reverse so the fields appear in key order at the top */
    for (size_t i = s->count; i > 0; i--) {
        verdict_add_edit(&t->verdict, HEADER_INSERT, 0, "DKIM-Signature", values[i - 1]);
        free(values[i - 1]);
    }
    txn_add_result(t, "DKIM_SIGNED", 0, ACTION_NONE, NULL);
}

static void sign_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_HEADERS)
        sign_headers(t);
    else if (stage == STAGE_EOM)
        sign_eom(t);
}

static void sign_txn_end(struct txn *t, void *state)
{
    (void)t;
    free_state(state);
}

const struct check check_dkim_sign = {
    .name = "dkim_sign",
    .stages = STAGE_BIT(STAGE_HEADERS) | STAGE_BIT(STAGE_EOM),
    .run = sign_run,
    .flags = CHECK_EVEN_WHEN_ALLOWED,
    .body = sign_body,
    .txn_end = sign_txn_end,
};
