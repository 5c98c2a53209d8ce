/* check_access.c - the admin's access lists. At each stage the rules whose key is known by
 * then are tried in the order they were written; the first that matches adds its symbol
 * (ACCESS_<NAME>) with its action, score and reply, and ends the check for that stage. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pattern.h"
#include "util.h"

static enum stage stage_of_key(enum access_key key)
{
    switch (key) {
    case ACCESS_CLIENT: return STAGE_CONNECT;
    case ACCESS_HELO: return STAGE_HELO;
    case ACCESS_SENDER: case ACCESS_SENDER_DOMAIN: case ACCESS_SASL_USER: return STAGE_MAIL;
    case ACCESS_RECIPIENT: case ACCESS_RECIPIENT_DOMAIN: return STAGE_RCPT;
    }
    return STAGE_COUNT;
}

/* The rule's patterns (pattern.h) against the value of its key known at this stage. */
static bool rule_matches(const struct access_rule *rule, const struct txn *t)
{
    const char *rcpt = t->rcpt_count ? t->rcpts[t->rcpt_count - 1] : NULL;
    switch (rule->key) {
    case ACCESS_CLIENT:
        return t->have_client_addr && pattern_match_ip(&rule->patterns, &t->client_addr);
    case ACCESS_HELO:
        return pattern_match_domain(&rule->patterns, t->helo);
    case ACCESS_SENDER:
        return pattern_match_address(&rule->patterns, t->sender);
    case ACCESS_SENDER_DOMAIN:
        return t->sender != NULL && pattern_match_domain(&rule->patterns, addr_domain(t->sender));
    case ACCESS_SASL_USER:
        return pattern_match_sasl_user(&rule->patterns, t->sasl_user);
    case ACCESS_RECIPIENT:
        return rcpt != NULL && rcpt[0] != '\0' && pattern_match_address(&rule->patterns, rcpt);
    case ACCESS_RECIPIENT_DOMAIN:
        return rcpt != NULL && pattern_match_domain(&rule->patterns, addr_domain(rcpt));
    }
    return false;
}

static void symbol_for_rule(const struct access_rule *rule, char *buf, size_t size)
{
    int n = snprintf(buf, size, "ACCESS_%s", rule->name);
    for (int i = 7; i < n && (size_t)i < size; i++)
        buf[i] = buf[i] == '-' ? '_' : (char)toupper((unsigned char)buf[i]);
}

static void access_run(struct txn *t, enum stage stage)
{
    const struct config *cfg = t->cfg;
    for (size_t i = 0; i < cfg->access_count; i++) {
        const struct access_rule *rule = &cfg->access[i];
        if (stage_of_key(rule->key) != stage || !rule_matches(rule, t))
            continue;
        char symbol[96];
        symbol_for_rule(rule, symbol, sizeof symbol);
        txn_add_result(t, symbol, rule->score, rule->action, &rule->reply);
        return;
    }
}

/* Only a rule of this stage that rejects or tempfails refuses (accept allow-lists, quarantine
 * and discard wait for the end of the message). */
static bool access_may_refuse(const struct config *cfg, enum stage stage)
{
    for (size_t i = 0; i < cfg->access_count; i++) {
        const struct access_rule *rule = &cfg->access[i];
        if (stage_of_key(rule->key) == stage
            && (rule->action == ACTION_REJECT || rule->action == ACTION_TEMPFAIL))
            return true;
    }
    return false;
}

const struct check check_access = {
    .name = "access",
    .stages = STAGE_BIT(STAGE_CONNECT) | STAGE_BIT(STAGE_HELO) | STAGE_BIT(STAGE_MAIL)
        | STAGE_BIT(STAGE_RCPT),
    .run = access_run,
    .may_refuse = access_may_refuse,
};
