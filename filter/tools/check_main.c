/* check_main.c - mailwarden-check: runs the daemon's engine offline on one message with the
 * envelope given as flags, and prints the verdict, the symbols with scores and the header
 * edits. Its exit status tells the action: 0 accept, 1 reject, 2 tempfail, 3 quarantine,
 * 4 discard; 64 a usage error, 66 an unreadable message, 78 a policy error. Given several
 * message files, it checks each in turn as its own transaction on the one loaded policy, each
 * verdict after a line "message: FILE"; the status is then 0, or 66 if a file was unreadable.
 * --rule-status reads rule names on standard input and says which the policy's rules run.
 * Without --client-ip the client is unknown (name "unknown", no address), as for SpamAssassin
 * checking a file: the checks that need the client's address are skipped and the relays come
 * from the Received lines alone.
 * --dns-lookup NAME/TYPE asks the configured resolver instead. DNS-based checks (SPF) run on
 * the resolver when the policy names dns.nameservers, or with --dns (/etc/resolv.conf), and
 * without either no query is sent;
 * --verbose also prints what they found (the SPF results and the DNS lookups they made; the
 * ARC chain instance by instance and where it fails; DMARC's names queried, the record found,
 * the Organizational Domain, alignment and the result). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_arc_report.h"
#include "config.h"
#include "bayes_result.h"
#include "config_load.h"
#include "dkim_result.h"
#include "dmarc_result.h"
#include "dns.h"
#include "engine.h"
#include "log.h"
#include "message_file.h"
#include "rules.h"
#include "spf.h"
#include "spf_result.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/mailwarden/mailwarden.conf"

struct options {
    const char *config_file;
    const char *client_ip;
    const char *client_name;
    const char *helo;
    const char *from;
    const char *sasl_user;
    const char *queue_id;
    const char *dns_lookup;
    char **message_files;      /* none: standard input */
    int message_count;
    const char **rcpts;
    size_t rcpt_count;
    bool verbose;
    bool use_dns;              /* --dns: start the resolver even without dns.nameservers */
    bool rule_status;          /* --rule-status: rule names on stdin, their state out */
};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: mailwarden-check [-c FILE] [--client-ip IP] [--client-name NAME] [--helo NAME]\n"
        "         [--from ADDR] [--rcpt ADDR]... [--sasl-user USER] [--queue-id ID] [--verbose]\n"
        "         [--dns]\n"
        "         [MESSAGE-FILE... | -]\n"
        "       mailwarden-check [-c FILE] --dns-lookup NAME/TYPE\n"
        "       mailwarden-check [-c FILE] --rule-status < RULE-NAMES\n"
        "exit status: 0 accept, 1 reject, 2 tempfail, 3 quarantine, 4 discard,\n"
        "             64 usage, 66 unreadable message, 78 policy error\n");
}

static int exit_status(enum action action)
{
    switch (action) {
    case ACTION_REJECT: return 1;
    case ACTION_TEMPFAIL: return 2;
    case ACTION_QUARANTINE: return 3;
    case ACTION_DISCARD: return 4;
    default: return 0;
    }
}

static void print_error_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "%s\n", line);
}

static struct config *load_policy(const struct options *o, bool explicit_file)
{
    if (!explicit_file && access(o->config_file, F_OK) != 0) {
        fprintf(stderr, "mailwarden-check: %s not found; using the built-in defaults\n",
            o->config_file);
        return config_defaults();
    }
    struct config_errors errs = {0};
    struct config *cfg = config_load(o->config_file, &errs);
    if (cfg == NULL) {
        config_errors_print(&errs, print_error_line, stderr);
        config_errors_free(&errs);
    }
    return cfg;
}

static int dns_lookup(struct config *cfg, const char *spec)
{
    const char *slash = strrchr(spec, '/');
    int type = slash ? dns_type_from_name(slash + 1) : -1;
    if (type < 0) {
        fprintf(stderr, "mailwarden-check: --dns-lookup takes NAME/TYPE, as example.com/TXT\n");
        return 64;
    }
    char *name = xstrndup(spec, (size_t)(slash - spec));
    struct config_errors errs = {0};
    if (!config_start(cfg, &errs) || config_resolver(cfg) == NULL) {
        fprintf(stderr, "mailwarden-check: cannot start the resolver: %s\n",
            errs.count > 0 ? errs.items[0].reason : "no resolver");
        config_errors_free(&errs);
        free(name);
        return 78;
    }
    struct dns_answer answer;
    dns_query(config_resolver(cfg), name, type, 0, &answer);
    printf("status=%s rcode=%d ttl=%d count=%zu secure=%s\n", dns_status_name(answer.status),
        answer.rcode, answer.ttl, answer.count, answer.secure ? "yes" : "no");
    for (size_t i = 0; i < answer.count; i++)
        printf("%s\n", answer.data[i]);
    int status = answer.status == DNS_OK ? 0 : 1;
    dns_answer_free(&answer);
    free(name);
    return status;
}

/* --- SPF (--verbose): each identity's result and the DNS lookups it made --- */
static void print_spf_outcome(const char *identity, const struct spf_outcome *o)
{
    if (!o->checked) {
        printf("  %s: not checked\n", identity);
        return;
    }
    printf("  %s: %s for %s (DNS lookups %u, void lookups %u, queries %u)\n", identity,
        spf_result_name(o->result), o->domain, o->dns_lookups, o->void_lookups, o->queries);
}

static void print_spf(struct txn *t)
{
    printf("spf:\n");
    print_spf_outcome("helo", spf_result_helo(t));
    print_spf_outcome("mailfrom", spf_result_mailfrom(t));
}
/* --- end SPF --- */

/* --- DMARC (--verbose): the From outcome, the names asked, each Author Domain's record and
 * Organizational Domain, the identities with their alignment, the result and disposition --- */
static const char *dns_type_text(int type)
{
    switch (type) {
    case 1: return "A";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    }
    return "?";
}

static void print_dmarc_record(const struct dmarc_domain_outcome *d)
{
    const struct dmarc_record *r = &d->record;
    printf("    record at %s: p=%s%s sp=%s np=%s adkim=%s aspf=%s t=%s psd=%s fo=%s%s%s%s",
        d->policy_domain, dmarc_policy_name(r->p), r->p_from_rua ? " (no usable p: rua)" : "",
        dmarc_policy_name(r->sp), dmarc_policy_name(r->np), r->adkim_strict ? "s" : "r",
        r->aspf_strict ? "s" : "r", r->testing ? "y" : "n",
        r->psd == DMARC_PSD_Y ? "y" : r->psd == DMARC_PSD_N ? "n" : "u",
        r->fo & DMARC_FO_1 ? "1" : "", r->fo & DMARC_FO_D ? "d" : "",
        r->fo & DMARC_FO_S ? "s" : "", r->fo & DMARC_FO_0 ? "0" : "");
    for (size_t i = 0; i < r->rua_count; i++)
        printf("%s%s", i == 0 ? " rua=" : ",", r->rua[i]);
    for (size_t i = 0; i < r->ruf_count; i++)
        printf("%s%s", i == 0 ? " ruf=" : ",", r->ruf[i]);
    printf("\n");
}

static void print_dmarc(struct txn *t)
{
    const struct dmarc_outcome *o = dmarc_result_get(t);
    printf("dmarc:\n");
    if (!o->evaluated) {
        printf("  not checked: %s\n", o->skipped ? o->skipped : "-");
        return;
    }
    printf("  from: %s%s%s\n", dmarc_from_outcome_name(o->from_outcome),
        o->from_problem[0] ? ": " : "", o->from_problem);
    for (size_t i = 0; i < o->query_count; i++) {
        const struct dmarc_query *q = &o->queries[i];
        printf("  lookup: %s %s: %s", q->name, dns_type_text(q->type), dns_status_name(q->status));
        if (q->status == DNS_OK)
            printf(", %zu record%s", q->answers, q->answers == 1 ? "" : "s");
        printf("\n");
    }
    if (o->queries_unlogged > 0)
        printf("  lookup: %zu more not shown\n", o->queries_unlogged);
    for (size_t i = 0; i < o->domain_count; i++) {
        const struct dmarc_domain_outcome *d = &o->domains[i];
        printf("  header.from %s: %s%s\n", d->header_from, dmarc_result_name(d->result),
            i == o->decisive && o->domain_count > 1 ? " (decisive: the strictest)" : "");
        if (d->has_record) {
            print_dmarc_record(d);
            printf("    policy: %s=%s%s\n", d->policy_tag, dmarc_policy_name(d->published),
                d->testing ? " (t=y: one step lower)" : "");
        } else {
            printf("    no policy record\n");
        }
        printf("    organizational domain: %s\n", d->org_domain[0] ? d->org_domain : "unknown");
        printf("    aligned: spf %s, dkim %s%s%s\n", d->spf_aligned ? "yes" : "no",
            d->dkim_aligned ? "yes" : "no", d->dkim_aligned ? " d=" : "",
            d->dkim_aligned ? d->dkim_aligned_domain : "");
        if (d->problem[0])
            printf("    why: %s\n", d->problem);
    }
    if (o->spf.present)
        printf("  spf identity: %s %s (%s)%s\n", o->spf.domain, spf_result_name(o->spf.result),
            o->spf.scope, o->spf.aligned ? " aligned" : "");
    else
        printf("  spf identity: none\n");
    for (size_t i = 0; i < o->dkim_count; i++)
        printf("  dkim signature: d=%s s=%s %s%s\n", o->dkim[i].domain, o->dkim[i].selector,
            dkim_verdict_name(o->dkim[i].result), o->dkim[i].aligned ? " aligned" : "");
    printf("  result: %s, disposition: %s", dmarc_result_name(o->result),
        dmarc_policy_name(o->disposition));
    if (o->override != DMARC_OVERRIDE_NONE)
        printf(" (override %s: %s)", dmarc_override_name(o->override), o->override_comment);
    printf("\n");
}
/* --- end DMARC --- */

/* --- Bayes (--verbose): the probability and what it rests on --- */
static void print_bayes(struct txn *t)
{
    const struct bayes_txn_state *b = bayes_result(t);
    if (b == NULL) {
        printf("bayes: not run\n");
        return;
    }
    const struct bayes_verdict *v = &b->verdict;
    if (v->scored)
        printf("bayes: probability %.4f", v->probability);
    else
        printf("bayes: no score");
    printf(" (database: %lld spam, %lld ham; tokens: %zu, %zu known, %zu used)\n",
        (long long)v->nspam, (long long)v->nham, v->tokens, v->learned, v->significant);
}
/* --- end Bayes --- */

static void print_verdict(struct txn *t, enum action action, const struct reply *reply,
    bool verbose)
{
    printf("action: %s\n", action_name(action));
    char text[320];
    reply_format(reply, text, sizeof text);
    if (action == ACTION_REJECT || action == ACTION_TEMPFAIL)
        printf("reply: %s\n", text);
    if (action == ACTION_QUARANTINE)
        printf("reason: %s\n", reply->text);
    if (t->verdict.decided_by != NULL)
        printf("decided-by: %s\n", t->verdict.decided_by);
    printf("score: %.1f\n", txn_score(t));
    printf("symbols:\n");
    for (size_t i = 0; i < t->result_count; i++) {
        const struct result *r = &t->results[i];
        printf("  %s %.1f%s%s (%s)\n", r->symbol, r->score, r->action ? " " : "",
            r->action ? action_name(r->action) : "", stage_name(r->stage));
    }
    printf("headers:\n");
    for (size_t i = 0; i < t->verdict.edit_count; i++) {
        const struct header_edit *e = &t->verdict.edits[i];
        if (e->op == HEADER_DELETE)
            printf("  delete %s #%d\n", e->name, e->index);
        else
            printf("  %s %s: %s\n", e->op == HEADER_INSERT ? "insert" : "add", e->name, e->value);
    }
    if (verbose) {
        print_spf(t);
        check_arc_report(stdout, t);
        print_dmarc(t);
        print_bayes(t);
    }
}

/* Drives the engine stage by stage, as milter.c does; returns the action. */
static enum action run(const struct options *o, struct txn *t, const struct message *msg)
{
    struct ipaddr addr;
    bool have_addr = o->client_ip != NULL && ipaddr_parse(o->client_ip, &addr);
    enum action action = engine_connect(t, o->client_name ? o->client_name : o->client_ip,
        have_addr ? &addr : NULL);
    if (action == ACTION_ACCEPT) {
        printf("action: accept\nnote: client in networks.skip: no checks, no headers\n");
        return ACTION_ACCEPT;
    }
    if (action == ACTION_NONE && o->helo != NULL)
        action = engine_helo(t, o->helo);
    if (action == ACTION_NONE) {
        action = engine_mail(t, config_current(), o->queue_id, o->from ? o->from : "", o->sasl_user,
            o->sasl_user ? "PLAIN" : NULL);
        t->sender_unknown = o->from == NULL;      /* the rules then read it from the message */
    }
    if (action != ACTION_NONE) {
        print_verdict(t, action, &t->verdict.reply, o->verbose);
        return action;
    }
    for (size_t i = 0; i < o->rcpt_count; i++) {
        enum action r = engine_rcpt(t, o->rcpts[i]);
        if (r == ACTION_REJECT || r == ACTION_TEMPFAIL) {
            char text[320];
            reply_format(&t->verdict.reply, text, sizeof text);
            printf("rcpt <%s> refused: %s\n", o->rcpts[i], text);
        }
    }
    if (o->rcpt_count > 0 && t->rcpt_count == 0) {
        engine_abort(t);
        printf("action: %s\nnote: every recipient was refused\n", action_name(t->rcpt_refusal));
        return t->rcpt_refusal;
    }
    for (size_t i = 0; i < msg->header_count; i++)
        engine_header(t, msg->headers[i].name, msg->headers[i].value);
    action = engine_eoh(t);
    if (action == ACTION_NONE) {
        engine_body(t, msg->body, msg->body_len);
        action = engine_eom(t);
    }
    print_verdict(t, action, &t->verdict.reply, o->verbose);
    return action;
}

/* --rule-status: for each rule name on standard input (one a line), whether the policy's rules
 * run it: "NAME loaded FILE:LINE", "NAME skipped REASON" or "NAME unknown". */
static int rule_status(const struct config *cfg)
{
    const struct ruleset *set = cfg->rules != NULL ? cfg->rules->set : NULL;
    char line[512];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, " \t\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        const char *origin = set != NULL ? ruleset_rule_origin(set, line) : NULL;
        const char *why = set != NULL ? ruleset_skip_reason(set, line) : NULL;
        if (origin != NULL)
            printf("%s loaded %s\n", line, origin);
        else if (why != NULL)
            printf("%s skipped %s\n", line, why);
        else
            printf("%s unknown\n", line);
    }
    return 0;
}

/* Checks one message file ("-": standard input) on the installed policy; returns the exit
 * status for it. named: print "message: FILE" first (several files in one run). */
static int check_file(const struct options *o, const char *path, bool named)
{
    if (named) {
        printf("message: %s\n", path);
        fflush(stdout);
    }
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct message msg;
    if (fp == NULL || message_read(fp, &msg) != 0) {
        fprintf(stderr, "mailwarden-check: cannot read %s: %s\n", path, strerror(errno));
        if (fp != NULL && fp != stdin)
            fclose(fp);
        if (named)
            printf("action: none\nnote: unreadable message\n");
        return 66;
    }
    if (fp != stdin)
        fclose(fp);
    struct txn *t = txn_new(config_current());
    enum action action = run(o, t, &msg);
    txn_free(t);
    message_free(&msg);
    fflush(stdout);
    return exit_status(action);
}

int main(int argc, char **argv)
{
    struct options o = {.config_file = DEFAULT_CONFIG};
    bool explicit_file = false;
    enum { OPT_CLIENT_IP = 256, OPT_CLIENT_NAME, OPT_HELO, OPT_FROM, OPT_RCPT, OPT_SASL,
           OPT_QID, OPT_DNS, OPT_USE_DNS, OPT_RULE_STATUS };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"client-ip", required_argument, NULL, OPT_CLIENT_IP},
        {"client-name", required_argument, NULL, OPT_CLIENT_NAME},
        {"helo", required_argument, NULL, OPT_HELO},
        {"from", required_argument, NULL, OPT_FROM},
        {"rcpt", required_argument, NULL, OPT_RCPT},
        {"sasl-user", required_argument, NULL, OPT_SASL},
        {"queue-id", required_argument, NULL, OPT_QID},
        {"dns-lookup", required_argument, NULL, OPT_DNS},
        {"dns", no_argument, NULL, OPT_USE_DNS},
        {"rule-status", no_argument, NULL, OPT_RULE_STATUS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o.rcpts = xcalloc((size_t)argc, sizeof *o.rcpts);
    int opt;
    while ((opt = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': o.config_file = optarg; explicit_file = true; break;
        case OPT_CLIENT_IP: o.client_ip = optarg; break;
        case OPT_CLIENT_NAME: o.client_name = optarg; break;
        case OPT_HELO: o.helo = optarg; break;
        case OPT_FROM: o.from = optarg; break;
        case OPT_RCPT: o.rcpts[o.rcpt_count++] = optarg; break;
        case OPT_SASL: o.sasl_user = optarg; break;
        case OPT_QID: o.queue_id = optarg; break;
        case OPT_DNS: o.dns_lookup = optarg; break;
        case OPT_USE_DNS: o.use_dns = true; break;
        case OPT_RULE_STATUS: o.rule_status = true; break;
        case 'v': o.verbose = true; break;
        case 'h': usage(stdout); free(o.rcpts); return 0;
        default: usage(stderr); free(o.rcpts); return 64;
        }
    }
    o.message_files = argv + optind;
    o.message_count = argc - optind;
    struct ipaddr probe;
    if (o.client_ip != NULL && !ipaddr_parse(o.client_ip, &probe)) {
        fprintf(stderr, "mailwarden-check: --client-ip %s is not an IP address\n", o.client_ip);
        free(o.rcpts);
        return 64;
    }
    log_open("mailwarden-check", LOG_MAIL, o.verbose, false);
    log_set_level(o.verbose ? LOG_DEBUG : LOG_WARNING);

    struct config *cfg = load_policy(&o, explicit_file);
    if (cfg == NULL) {
        free(o.rcpts);
        return 78;
    }
    if (o.rule_status) {
        int status = rule_status(cfg);
        config_free(cfg);
        free(o.rcpts);
        return status;
    }
    if (o.dns_lookup != NULL) {
        int status = dns_lookup(cfg, o.dns_lookup);
        config_free(cfg);
        free(o.rcpts);
        return status;
    }
    if (!o.verbose)
        cfg->log.summary = false;
    /* Checks that use DNS (SPF, DKIM keys, reverse DNS, DNS lists) ask the resolver only when
     * the policy names dns.nameservers or --dns asks for /etc/resolv.conf's: offline, a message
     * is checked without sending a single query (those checks are skipped). */
    if (cfg->dns.nameserver_count > 0 || o.use_dns) {
        struct config_errors errs = {0};
        if (!config_start(cfg, &errs) || config_resolver(cfg) == NULL)
            fprintf(stderr, "mailwarden-check: cannot start the resolver (%s): DNS lookups fail\n",
                errs.count > 0 ? errs.items[0].reason : "no resolver");
        config_errors_free(&errs);
    } else if (o.verbose) {
        fprintf(stderr, "mailwarden-check: no DNS: the policy names no dns.nameservers and --dns "
            "was not given, so the checks that use DNS are skipped\n");
    }
    config_install(cfg);
    int status;
    if (o.message_count <= 1) {
        status = check_file(&o, o.message_count == 1 ? o.message_files[0] : "-", false);
    } else {
        status = 0;
        for (int i = 0; i < o.message_count; i++) {
            if (check_file(&o, o.message_files[i], true) == 66)
                status = 66;
        }
    }
    config_install(NULL);
    rules_prefilter_stop();     /* a compile started by the 50th message must not outlive main */
    free(o.rcpts);
    return status;
}
