/* check_helo.c - the HELO/EHLO name, once per connection: a bare IP address instead of a name
 * or an [address] literal (HELO_BARE_IP), an address literal that is not the client's
 * (HELO_LITERAL_MISMATCH), a name that is not fully qualified (HELO_NOT_FQDN), a claim to be us
 * - the MTA's own name (macro j), spam.local_names or an address in spam.local_addresses
 * (HELO_CLAIMS_OURS) - and a name outside the registrable domain of the client's confirmed
 * reverse name, or of the MTA's name for the client when reverse DNS is off
 * (HELO_RDNS_MISMATCH). */
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rdns_result.h"
#include "registrable.h"
#include "spam_check.h"
#include "spam_config.h"
#include "util.h"

extern const struct check check_helo;

static bool claims_our_name(const struct txn *t, const char *helo)
{
    if (t->mta_hostname != NULL && str_ieq(t->mta_hostname, helo))
        return true;
    const struct string_list *names = &t->cfg->spam->local_names;
    for (size_t i = 0; i < names->count; i++) {
        if (str_ieq(names->items[i], helo))
            return true;
    }
    return false;
}

static bool claims_our_address(const struct txn *t, const struct ipaddr *addr)
{
    return cidr_list_contains(&t->cfg->spam->local_addresses, addr);
}

static bool same_address(const struct ipaddr *a, const struct ipaddr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]": the address inside, when it is one. */
static bool address_literal(const char *helo, struct ipaddr *out)
{
    size_t len = strlen(helo);
    if (len < 3 || helo[0] != '[' || helo[len - 1] != ']')
        return false;
    return ipaddr_parse(helo, out);
}

/* The client's reverse name: ours when check_rdns looked it up, else the name the MTA gave
 * (Postfix and Sendmail give "[address]" or "unknown" when they have none; mailwarden-check
 * the bare address). */
static const char *reverse_name(struct txn *t)
{
    if (rdns_looked_up(t))
        return rdns_confirmed_name(t);
    const char *name = t->client_name;
    struct ipaddr addr;
    if (name == NULL || name[0] == '[' || str_ieq(name, "unknown") || strchr(name, '.') == NULL
        || ipaddr_parse(name, &addr))
        return NULL;
    return name;
}

static void check_name(struct txn *t, const char *helo)
{
    struct ipaddr addr;
    if (address_literal(helo, &addr)) {
        if (claims_our_address(t, &addr) && !(t->have_client_addr && same_address(&addr, &t->client_addr)))
            txn_add_result(t, "HELO_CLAIMS_OURS", 3.0, ACTION_NONE, NULL);
        else if (t->have_client_addr && !same_address(&addr, &t->client_addr))
            txn_add_result(t, "HELO_LITERAL_MISMATCH", 1.0, ACTION_NONE, NULL);
        return;
    }
    if (ipaddr_parse(helo, &addr)) {
        txn_add_result(t, "HELO_BARE_IP", 1.5, ACTION_NONE, NULL);
        if (claims_our_address(t, &addr))
            txn_add_result(t, "HELO_CLAIMS_OURS", 3.0, ACTION_NONE, NULL);
        return;
    }
    if (claims_our_name(t, helo)) {
        txn_add_result(t, "HELO_CLAIMS_OURS", 3.0, ACTION_NONE, NULL);
        return;
    }
    const char *dot = strchr(helo, '.');
    if (dot == NULL || dot == helo || helo[strlen(helo) - 1] == '.') {
        txn_add_result(t, "HELO_NOT_FQDN", 1.0, ACTION_NONE, NULL);
        return;
    }
    const char *rdns = reverse_name(t);
    if (rdns != NULL && !same_registrable_domain(rdns, helo))
        txn_add_result(t, "HELO_RDNS_MISMATCH", 0.5, ACTION_NONE, NULL);
}

static void run(struct txn *t, enum stage stage)
{
    (void)stage;
    void **done = txn_conn_state(t, &check_helo);
    if (!spam_checks_apply(t) || *done != NULL || t->helo == NULL)
        return;
    *done = xstrdup(t->helo);           /* once per connection: not again after STARTTLS */
    if (t->helo[0] == '\0') {
        txn_add_result(t, "HELO_NOT_FQDN", 1.0, ACTION_NONE, NULL);
        return;
    }
    check_name(t, t->helo);
}

static void conn_end(struct txn *t, void *state)
{
    (void)t;
    free(state);
}

const struct check check_helo = {
    .name = "helo",
    .stages = STAGE_BIT(STAGE_HELO),
    .run = run,
    .conn_end = conn_end,
    .shadowed = spam_shadowed,
    .may_refuse = check_never_refuses,    /* symbols only */
};
