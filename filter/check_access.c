/* check_access.c - the admin's access lists. At each stage the rules whose key is known by
 * then are tried in the order they were written; the first that matches adds its symbol
 * (ACCESS_<NAME>) with its action, score and reply, and ends the check for that stage. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
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

/* "example.com" or "@example.com" match the domain; ".example.com" its subdomains. */
static bool domain_matches(const char *pattern, const char *domain)
{
    if (pattern[0] == '@')
        pattern++;
    if (pattern[0] == '.')
        return str_iendswith(domain, pattern) && strlen(domain) > strlen(pattern);
    return str_ieq(pattern, domain);
}

/* "<>" the null sender; "user@domain" exact; "user@" the local part; domains as above. */
static bool address_matches(const char *pattern, const char *addr)
{
    if (strcmp(pattern, "<>") == 0)
        return addr[0] == '\0';
    if (addr[0] == '\0')
        return false;
    const char *at = strrchr(pattern, '@');
    if (at == NULL || at == pattern)
        return domain_matches(pattern, addr_domain(addr));
    if (at[1] == '\0') {
        size_t len = (size_t)(at - pattern) + 1;
        return strncasecmp(pattern, addr, len) == 0;
    }
    return str_ieq(pattern, addr);
}

/* "alice" matches "alice" and "alice@realm"; "alice@realm" only itself. */
static bool sasl_matches(const char *pattern, const char *user)
{
    if (str_ieq(pattern, user))
        return true;
    if (strchr(pattern, '@') != NULL)
        return false;
    const char *at = strchr(user, '@');
    return at != NULL && strlen(pattern) == (size_t)(at - user)
        && strncasecmp(pattern, user, (size_t)(at - user)) == 0;
}

static bool helo_matches(const char *pattern, const char *helo)
{
    if (pattern[0] == '.')
        return str_iendswith(helo, pattern) && strlen(helo) > strlen(pattern);
    return str_ieq(pattern, helo);
}

static bool rule_matches(const struct access_rule *rule, const struct txn *t)
{
    const char *subject = NULL;
    bool (*match)(const char *, const char *) = NULL;
    switch (rule->key) {
    case ACCESS_CLIENT:
        return t->have_client_addr && cidr_list_contains(&rule->nets, &t->client_addr);
    case ACCESS_HELO:
        subject = t->helo;
        match = helo_matches;
        break;
    case ACCESS_SENDER:
        subject = t->sender;
        match = address_matches;
        break;
    case ACCESS_SENDER_DOMAIN:
        subject = t->sender ? addr_domain(t->sender) : NULL;
        match = domain_matches;
        break;
    case ACCESS_SASL_USER:
        subject = t->sasl_user;
        match = sasl_matches;
        break;
    case ACCESS_RECIPIENT:
        subject = t->rcpt_count ? t->rcpts[t->rcpt_count - 1] : NULL;
        match = address_matches;
        break;
    case ACCESS_RECIPIENT_DOMAIN:
        subject = t->rcpt_count ? addr_domain(t->rcpts[t->rcpt_count - 1]) : NULL;
        match = domain_matches;
        break;
    }
    if (subject == NULL || (subject[0] == '\0' && rule->key != ACCESS_SENDER))
        return false;
    for (size_t i = 0; i < rule->pattern_count; i++) {
        if (match(rule->patterns[i], subject))
            return true;
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

const struct check check_access = {
    .name = "access",
    .stages = STAGE_BIT(STAGE_CONNECT) | STAGE_BIT(STAGE_HELO) | STAGE_BIT(STAGE_MAIL)
        | STAGE_BIT(STAGE_RCPT),
    .run = access_run,
};
