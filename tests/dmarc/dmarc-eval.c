/* dmarc-eval.c - one DMARC evaluation with the real code (filter/dmarc: dmarc_from_parse, then
 * dmarc_evaluate) on the daemon's resolver pointed at a given nameserver, printed as
 * "key<TAB>value" lines: from (the From parser's outcome), author, result, policy_tag,
 * published, policy, testing, policy_domain, org_domain, author_exists, spf_aligned,
 * dkim_aligned, rua_count, queries, problem. run-suite.py runs it for every case of
 * dmarc-suite.yml against tests/tools/dnsserver.py on loopback. When the From fields do not
 * give exactly one Author Domain nothing is evaluated and result is "-".
 *
 *   dmarc-eval --nameserver 127.0.0.1@PORT [--from VALUE]... [--spf-domain NAME
 *              --spf-result pass|fail|...] [--dkim D]... [--timeout-ms N] [--budget-ms N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dmarc_eval.h"
#include "dmarc_from.h"
#include "dns.h"

#define MAX_ARGS 32

/* Every value given after name, in order. */
static size_t arg_values(int argc, char **argv, const char *name, const char **out)
{
    size_t n = 0;
    for (int i = 1; i + 1 < argc && n < MAX_ARGS; i++) {
        if (strcmp(argv[i], name) == 0)
            out[n++] = argv[++i];
    }
    return n;
}

static const char *arg_value(int argc, char **argv, const char *name, const char *fallback)
{
    const char *v[MAX_ARGS];
    return arg_values(argc, argv, name, v) > 0 ? v[0] : fallback;
}

static struct dns_resolver *resolver_for(const char *ns, uint64_t timeout_ms)
{
    struct config *cfg = config_defaults();
    for (size_t i = 0; i < cfg->dns.nameserver_count; i++)
        free(cfg->dns.nameservers[i]);
    free(cfg->dns.nameservers);
    cfg->dns.nameservers = calloc(1, sizeof(char *));
    cfg->dns.nameservers[0] = strdup(ns);
    cfg->dns.nameserver_count = 1;
    cfg->dns.timeout_ms = timeout_ms;
    free(cfg->dns.trust_anchor);
    cfg->dns.trust_anchor = NULL;
    cfg->dns.use_hosts = false;
    char why[256] = "";
    struct dns_resolver *r = dns_resolver_new(cfg, why, sizeof why);
    if (r == NULL)
        fprintf(stderr, "dmarc-eval: %s\n", why);
    config_free(cfg);
    return r;
}

static void print_verdict(const struct dmarc_verdict *v)
{
    printf("result\t%s\n", dmarc_result_name(v->result));
    printf("policy_tag\t%s\n", v->policy_tag);
    printf("published\t%s\n", dmarc_policy_name(v->published));
    printf("policy\t%s\n", dmarc_policy_name(v->policy));
    printf("testing\t%s\n", v->testing ? "y" : "n");
    printf("policy_domain\t%s\n", v->policy_domain);
    printf("org_domain\t%s\n", v->org_domain);
    printf("author_exists\t%s\n", v->author_exists ? "y" : "n");
    printf("spf_aligned\t%s\n", v->spf_aligned ? "y" : "n");
    printf("dkim_aligned\t%s\n", v->dkim_aligned ? "y" : "n");
    printf("rua_count\t%zu\n", v->has_record ? v->record.rua_count : 0);
    printf("queries\t%u\n", v->queries);
    printf("problem\t%s\n", v->problem);
}

int main(int argc, char **argv)
{
    const char *ns = arg_value(argc, argv, "--nameserver", NULL);
    if (ns == NULL) {
        fprintf(stderr, "usage: dmarc-eval --nameserver IP@PORT [--from VALUE]..."
            " [--spf-domain NAME --spf-result RESULT] [--dkim D]... [--timeout-ms N]"
            " [--budget-ms N]\n");
        return 2;
    }
    const char *from_values[MAX_ARGS];
    size_t from_count = arg_values(argc, argv, "--from", from_values);
    struct dmarc_from from;
    dmarc_from_parse(from_values, from_count, &from);
    printf("from\t%s\n", dmarc_from_outcome_name(from.outcome));
    printf("author\t%s\n", from.domain);
    if (from.outcome != DMARC_FROM_ONE) {
        printf("result\t-\nproblem\t%s\n", from.problem);
        return 0;
    }

    struct dmarc_limits lim;
    dmarc_limits_default(&lim);
    lim.query_timeout_ms = strtoull(arg_value(argc, argv, "--timeout-ms", "800"), NULL, 10);
    lim.budget_ms = strtoull(arg_value(argc, argv, "--budget-ms", "8000"), NULL, 10);
    const char *dkim[MAX_ARGS];
    struct dmarc_request req = {
        .from_domain = from.domain,
        .spf_domain = arg_value(argc, argv, "--spf-domain", NULL),
        .spf_pass = strcmp(arg_value(argc, argv, "--spf-result", "none"), "pass") == 0,
        .dkim_domains = dkim,
        .dkim_count = arg_values(argc, argv, "--dkim", dkim),
    };
    struct dns_resolver *resolver = resolver_for(ns, lim.query_timeout_ms);
    if (resolver == NULL)
        return 2;
    struct dmarc_verdict v;
    dmarc_evaluate(&req, &lim, dmarc_lookup_resolver, resolver, &v);
    print_verdict(&v);
    dmarc_verdict_free(&v);
    dns_resolver_free(resolver);
    return 0;
}
