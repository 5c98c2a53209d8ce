/* check_rules.c - runs the admin's rules (rules.h; SpamAssassin syntax) at the end of the
 * message on inbound mail: every rule that hits adds its name as a symbol with the rule file's
 * score in the message's score set (rules.h), which `symbols { NAME: { score = ... } }` overrides as for any check. __subrules and
 * rules scored 0 in the message's score set do not run at all, as in SpamAssassin (meta rules read
 * them as 0), unless `symbols {}` gives them a score. A rule named like a native
 * check's symbol (MISSING_DATE) replaces it: the name is scored once (txn.h). Outbound and locally
 * submitted (non-SMTP) mail is not checked. */
#include <fnmatch.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "arc_result.h"
#include "bayes_result.h"
#include "check.h"
#include "dkim_result.h"
#include "dmarc_result.h"
#include "dns.h"
#include "message_view.h"
#include "rdns_result.h"
#include "relay_trust.h"
#include "rules.h"
#include "spf_result.h"
#include "util.h"

/* Whether a rule is in mode "shadow": rules.mode, or its file is in rules.shadow_files. */
static bool rule_shadowed(const struct rules_policy *p, const char *name)
{
    if (p->shadow)
        return true;
    if (p->shadow_file_count == 0)
        return false;
    const char *origin = ruleset_rule_origin(p->set, name);      /* "file:line" */
    if (origin == NULL)
        return false;
    char file[1024];
    strlcpy_mw(file, origin, sizeof file);
    char *colon = strrchr(file, ':');
    if (colon != NULL)
        *colon = '\0';
    for (size_t i = 0; i < p->shadow_file_count; i++) {
        if (fnmatch(p->shadow_files[i], file, 0) == 0)
            return true;
    }
    return false;
}

struct hit_sink {
    struct txn *t;
};

static void add_hit(const struct rules_hit *hit, void *arg)
{
    struct txn *t = ((struct hit_sink *)arg)->t;
    if (hit->subrule)
        return;
    bool was = t->shadow_now;
    t->shadow_now = was || rule_shadowed(t->cfg->rules, hit->name);
    struct result_learn learn = {
        .flags = (hit->learn ? RESULT_LEARNER : 0) | (hit->noautolearn ? RESULT_NOAUTOLEARN : 0)
            | (hit->autolearn_force ? RESULT_AUTOLEARN_FORCE : 0),
        .score = hit->autolearn_score,
        .header_share = hit->autolearn_header_share,
        .body_share = hit->autolearn_body_share,
    };
    txn_add_rule_result(t, hit->name, hit->score, &learn);
    t->shadow_now = was;
}

/* What the MTA told us about the client, for the plugins' tests (rules.h). */
static void fill_envelope(struct txn *t, struct rules_envelope *env)
{
    *env = (struct rules_envelope){
        .client_ip = t->have_client_addr ? t->client_ip : NULL,
        .client_rdns = rdns_confirmed_name(t),
        .helo = t->helo,
        .sasl_user = t->sasl_user,
        .rcpts = (const char *const *)t->rcpts,
        .rcpt_count = t->rcpt_count,
        .client_internal = (t->client_flags & CLIENT_INTERNAL) != 0,
        .client_trusted = (t->client_flags & (CLIENT_INTERNAL | CLIENT_TRUSTED)) != 0,
    };
    relay_trust_set(t->cfg, env);   /* unset: SpamAssassin infers trust from Received lines */
}

static const char *spf_name(const struct spf_outcome *o)
{
    return o->checked ? spf_result_name(o->result) : NULL;
}

/* Our SPF, DKIM, DMARC and ARC results for the plugins' rules. Without a resolver (mailwarden-check
 * without --dns) every result is a DNS failure of ours, not the sender's: they are left
 * unknown, so those rules behave as SpamAssassin's with -L. sigs is sized by the caller. */
static void fill_auth_results(struct txn *t, struct rules_envelope *env,
    struct rules_dkim_sig *sigs)
{
    if (config_resolver(t->cfg) == NULL)
        return;
    env->spf_mailfrom = spf_name(spf_result_mailfrom(t));
    env->spf_helo = spf_name(spf_result_helo(t));
    if (dkim_result_verified(t)) {
        size_t n = dkim_result_count(t);
        for (size_t i = 0; i < n; i++) {
            const struct dkim_sig_result *r = dkim_result_get(t, i);
            sigs[i] = (struct rules_dkim_sig){
                .domain = r->domain,
                .identity = r->identity,
                .selector = r->selector,
                .algorithm = r->algorithm,
                .pass = r->result == DKIM_RESULT_PASS,
                .key_bits = r->key_bits,
            };
        }
        env->dkim_verified = true;
        env->dkim_dependable = !t->body_truncated && !txn_headers_truncated(t);
        env->dkim_sigs = sigs;
        env->dkim_sig_count = n;
    }
    const struct dmarc_outcome *o = dmarc_result_get(t);
    const struct dmarc_domain_outcome *d = dmarc_result_decisive(o);
    if (o->evaluated && d != NULL) {
        env->dmarc_result = dmarc_result_name(d->result);
        env->dmarc_policy = d->has_record ? dmarc_policy_name(d->published) : NULL;
    }
    env->arc_verified = arc_result_signatures(arc_result_get(t), &env->arc_signed,
        &env->arc_valid);
}

/* ---- DNS for the network rules (DNSEval, URIDNSBL, AskDNS) ----
 * At the end of the message the prefetch asks the ruleset which lookups its network rules
 * need (ruleset_dns_queries) and starts them all with the other checks' lookups of the stage;
 * the run collects the answers through the message's DNS budget (txn_dns_query), asks a
 * second and third round where an answer leads to another name (a URI's name servers, then
 * their addresses), and hands the evaluation a table of answers. Without a resolver, past
 * the budget, for a failed lookup or past MAX_RULES_QUERIES, the answer is unknown and no
 * network rule hits: what a timeout gives, never read as "listed" or "not listed". */

#define MAX_RULES_QUERIES 256
#define MAX_RULES_ROUNDS 3

struct rules_query {
    char *name;
    int type;
    bool answered;
    struct dns_answer answer;
};

struct rules_dns_state {
    struct rules_query *q;
    size_t count;
    size_t started;            /* q[0 .. started) were sent */
};

extern const struct check check_rules;

static void free_dns_state(struct rules_dns_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->count; i++) {
        free(st->q[i].name);
        if (st->q[i].answered)
            dns_answer_free(&st->q[i].answer);
    }
    free(st->q);
    free(st);
}

static void note_query(const char *name, int type, void *arg)
{
    struct rules_dns_state *st = arg;
    if (st->count >= MAX_RULES_QUERIES)
        return;
    for (size_t i = 0; i < st->count; i++) {
        if (st->q[i].type == type && strcasecmp(st->q[i].name, name) == 0)
            return;
    }
    st->q = xrealloc(st->q, (st->count + 1) * sizeof *st->q);
    st->q[st->count++] = (struct rules_query){ .name = xstrdup(name), .type = type };
}

static enum rules_dns_status lookup_answer(void *arg, const char *name, int type,
    const char *const **records, size_t *count)
{
    const struct rules_dns_state *st = arg;
    for (size_t i = 0; i < st->count; i++) {
        const struct rules_query *q = &st->q[i];
        if (q->type != type || !q->answered || strcasecmp(q->name, name) != 0)
            continue;
        if (q->answer.status == DNS_NXDOMAIN)
            return RULES_DNS_NXDOMAIN;
        if (q->answer.status != DNS_OK)
            return RULES_DNS_UNKNOWN;
        *records = (const char *const *)q->answer.data;
        *count = q->answer.count;
        return RULES_DNS_ANSWER;
    }
    return RULES_DNS_UNKNOWN;
}

static bool rules_apply(struct txn *t)
{
    const struct rules_policy *p = t->cfg->rules;
    return p != NULL && p->set != NULL && !txn_is_outbound(t) && !t->non_smtp;
}

static void start_new_queries(struct txn *t, struct rules_dns_state *st)
{
    for (; st->started < st->count; st->started++)
        txn_dns_start(t, st->q[st->started].name, st->q[st->started].type);
}

static void rules_prefetch(struct txn *t, enum stage stage)
{
    if (stage != STAGE_EOM || !rules_apply(t) || config_resolver(t->cfg) == NULL)
        return;
    const struct rules_policy *p = t->cfg->rules;
    struct rules_dns_state **slot = (struct rules_dns_state **)txn_check_state(t, &check_rules);
    free_dns_state(*slot);
    *slot = xcalloc(1, sizeof **slot);
    struct rules_message msg = {
        .headers = t->headers,
        .header_count = t->header_count,
        .view = message_view_get(t),
        .body = t->body,
        .body_len = t->body_len,
        .envelope_from = t->sender_unknown ? NULL : t->sender,
    };
    ruleset_dns_queries(p->set, &msg, &p->limits, note_query, *slot);
    start_new_queries(t, *slot);
}

/* Collects the answers of the queries sent, asking further rounds as answers lead to new
 * names; msg->dns is set to the table. */
static void collect_answers(struct txn *t, struct rules_dns_state *st,
    struct rules_message *msg, struct rules_dns *dns)
{
    const struct rules_policy *p = t->cfg->rules;
    *dns = (struct rules_dns){ .lookup = lookup_answer, .arg = st };
    msg->dns = dns;
    for (int round = 0; round < MAX_RULES_ROUNDS; round++) {
        for (size_t i = 0; i < st->count; i++) {
            if (!st->q[i].answered) {
                txn_dns_query(t, st->q[i].name, st->q[i].type, 0, &st->q[i].answer);
                st->q[i].answered = true;
            }
        }
        size_t before = st->count;
        ruleset_dns_queries(p->set, msg, &p->limits, note_query, st);
        if (st->count == before)
            break;
        start_new_queries(t, st);
    }
}

static void rules_txn_end(struct txn *t, void *state)
{
    (void)t;
    free_dns_state(state);
}

static void rules_run(struct txn *t, enum stage stage)
{
    (void)stage;
    const struct rules_policy *p = t->cfg->rules;
    if (p == NULL || p->set == NULL || txn_is_outbound(t) || t->non_smtp)
        return;
    struct rules_envelope env;
    fill_envelope(t, &env);
    size_t sig_count = dkim_result_verified(t) ? dkim_result_count(t) : 0;
    struct rules_dkim_sig *sigs = xcalloc(sig_count + 1, sizeof *sigs);
    fill_auth_results(t, &env, sigs);
    struct rules_message msg = {
        .headers = t->headers,
        .header_count = t->header_count,
        .view = message_view_get(t),
        .body = t->body,
        .body_len = t->body_len,
        .envelope_from = t->sender_unknown ? NULL : t->sender,
        .envelope = &env,
    };
    const struct bayes_txn_state *bayes = bayes_result(t);
    env.bayes_available = bayes != NULL && bayes->scan_available;
    if (bayes != NULL && bayes->verdict.scored) {
        env.bayes_scored = true;
        env.bayes_probability = bayes->verdict.probability;
    }
    struct rules_dns_state *dns_state = *(struct rules_dns_state **)txn_check_state(t,
        &check_rules);
    struct rules_dns dns;
    if (dns_state != NULL)
        collect_answers(t, dns_state, &msg, &dns);
    struct hit_sink sink = { t };
    ruleset_eval(p->set, &msg, &p->limits, add_hit, &sink, NULL);
    free(sigs);
}

const struct check check_rules = {
    .name = "rules",
    .stages = STAGE_BIT(STAGE_EOM),
    .run = rules_run,
    .prefetch = rules_prefetch,
    .txn_end = rules_txn_end,
};
