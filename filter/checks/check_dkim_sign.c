/* check_dkim_sign.c - DKIM-signs outbound mail (RFC 6376, RFC 8463) with libopendkim.
 * At the end of the headers it decides whether the message is signed and with which keys:
 * outbound clients (SASL-authenticated and networks.internal unless dkim.sign says
 * otherwise, plus dkim.sign.networks), the first dkim.signing rule matching the From: domain
 * (or the envelope sender), else dkim.sign.default_key; an authenticated user only for the
 * domains dkim.users allows them. It then streams the headers and body into one libopendkim
 * signing handle per key and, at the end of the message, inserts the DKIM-Signature fields.
 * Runs even after an allow-list ACCEPT. Mail that must be signed but cannot be gets
 * DKIM_SIGN_FAILED with dkim.sign.on_error (tempfail by default) and a log line saying why.
 * Keys are parsed at policy load (dkim_keys.c); nothing here reads a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "check.h"
#include "dkim_arena.h"
#include "dkim_policy.h"
#include "dkim_util.h"
#include "log.h"
#include "pattern.h"
#include "util.h"

extern const struct check check_dkim_sign;

struct sign_state {
    struct dkim_arena arenas[8];   /* the memory of each handle (dkim_arena.h) */
    DKIM *handles[8];
    size_t keys[8];            /* key-table index of each handle */
    size_t count;
    bool failed;               /* a handle refused data: report at the end */
    char why[256];
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
    for (size_t i = 0; i < 8; i++) {
        if (i < s->count)
            dkim_free(s->handles[i]);
        dkim_arena_destroy(&s->arenas[i]);
    }
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

static DKIM *start_handle(struct txn *t, const struct dkim_policy *p,
    const struct dkim_key_entry *e, struct dkim_arena *arena, char *why, size_t why_size)
{
    DKIM_STAT status;
    int alg = e->key->type == DKIM_KEY_ED25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
    DKIM *d = dkim_sign(p->sign_lib, (const unsigned char *)qid(t), arena,
        (dkim_sigkey_t)e->key->pem, (const unsigned char *)e->selector,
        (const unsigned char *)e->domain, p->sign.header_canon, p->sign.body_canon, alg, -1,
        &status);
    if (d == NULL) {
        snprintf(why, why_size, "key \"%s\": dkim_sign: %s", e->name, dkim_getresultstr(status));
        return NULL;
    }
    /* libopendkim 2.11 folds an ed25519 signature field differently when it hashes it than
     * when it prints it (it reserves room for b= only for RSA): with simple header
     * canonicalization the field must then stay on one line to verify. */
    if (e->key->type == DKIM_KEY_ED25519 && p->sign.header_canon == DKIM_CANON_SIMPLE)
        (void)dkim_set_margin(d, 0);
    return d;
}

static bool feed_headers(struct txn *t, DKIM *d, char *why, size_t why_size)
{
    struct textbuf line;
    textbuf_init(&line);
    bool ok = true;
    for (size_t i = 0; i < t->header_count && ok; i++) {
        dkim_header_text(&t->headers[i], &line);
        DKIM_STAT status = dkim_header(d, (unsigned char *)line.data, line.len);
        if (status != DKIM_STAT_OK) {
            snprintf(why, why_size, "header %s refused: %s", t->headers[i].name,
                dkim_geterror(d) ? dkim_geterror(d) : dkim_getresultstr(status));
            ok = false;
        }
    }
    textbuf_free(&line);
    if (ok && dkim_eoh(d) != DKIM_STAT_OK) {
        snprintf(why, why_size, "end of headers: %s", dkim_geterror(d) ? dkim_geterror(d) : "?");
        ok = false;
    }
    return ok;
}

static void sign_headers(struct txn *t)
{
    const struct dkim_policy *p = t->cfg->dkim;
    if (p == NULL || !p->sign.enabled || p->sign_lib == NULL || !client_signed(t, p))
        return;
    const char *from_value = txn_header(t, "From", 0);
    char from[512];
    bool have_from = from_value != NULL && dkim_from_address(from_value, from, sizeof from);
    size_t keys[8];
    size_t count = choose_keys(t, p, have_from ? from : NULL, keys, 8);
    if (count == 0)
        return;
    char why[256];
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
        DKIM *d = start_handle(t, p, &p->keys[keys[i]], &s->arenas[s->count], why, sizeof why);
        if (d == NULL || !feed_headers(t, d, why, sizeof why)) {
            if (d != NULL)
                dkim_free(d);
            dkim_arena_release(&s->arenas[s->count]);
            sign_failed(t, why);
            return;
        }
        s->handles[s->count] = d;
        s->keys[s->count++] = keys[i];
    }
}

static void sign_body(struct txn *t, const unsigned char *data, size_t len)
{
    struct sign_state *s = *txn_check_state(t, &check_dkim_sign);
    if (s == NULL || s->failed)
        return;
    for (size_t i = 0; i < s->count; i++) {
        if (dkim_body(s->handles[i], (unsigned char *)data, len) != DKIM_STAT_OK) {
            s->failed = true;
            snprintf(s->why, sizeof s->why, "body refused: %s",
                dkim_geterror(s->handles[i]) ? dkim_geterror(s->handles[i]) : "?");
        }
    }
}

static void sign_eom(struct txn *t)
{
    struct sign_state *s = *txn_check_state(t, &check_dkim_sign);
    if (s == NULL || s->count == 0)
        return;
    if (s->failed) {
        sign_failed(t, s->why);
        return;
    }
    const struct dkim_policy *p = t->cfg->dkim;
    /* insert in reverse so the fields appear in key order at the top */
    for (size_t i = s->count; i > 0; i--) {
        DKIM *d = s->handles[i - 1];
        const struct dkim_key_entry *e = &p->keys[s->keys[i - 1]];
        unsigned char *header;
        size_t len;
        if (dkim_eom(d, NULL) != DKIM_STAT_OK
            || dkim_getsighdr_d(d, sizeof "DKIM-Signature: " - 1, &header, &len) != DKIM_STAT_OK) {
            char why[320];
            snprintf(why, sizeof why, "key \"%s\": %s", e->name,
                dkim_geterror(d) ? dkim_geterror(d) : "libopendkim failed");
            sign_failed(t, why);
            return;
        }
        verdict_add_edit(&t->verdict, HEADER_INSERT, 0, "DKIM-Signature", (const char *)header);
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
