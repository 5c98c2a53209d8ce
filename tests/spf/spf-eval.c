/* spf-eval.c - evaluates one SPF check with the real evaluator (filter/spf*.c) and the
 * daemon's resolver pointed at a given nameserver, and prints what it found as
 * "key<TAB>value" lines (result, identity, explanation, explanation_source, mechanism, problem, dns_terms, void_lookups,
 * queries). The conformance and oracle drivers (run-suite.py, oracle.py) run it for every
 * test against tests/tools/dnsserver.py on loopback.
 *
 *   spf-eval --nameserver 127.0.0.1@PORT --ip IP --sender ADDR --helo NAME
 *            [--check-helo] [--timeout-ms N] [--budget-ms N] [--receiver NAME] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dns.h"
#include "spf.h"

static const char *arg_value(int argc, char **argv, const char *name, const char *fallback)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    return fallback;
}

static bool has_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return true;
    }
    return false;
}

static void print_field(const char *key, const char *value)
{
    if (value != NULL)
        printf("%s\t%s\n", key, value);
}

int main(int argc, char **argv)
{
    const char *ns = arg_value(argc, argv, "--nameserver", NULL);
    const char *ip = arg_value(argc, argv, "--ip", NULL);
    if (ns == NULL || ip == NULL) {
        fprintf(stderr, "usage: spf-eval --nameserver IP@PORT --ip IP --sender ADDR --helo NAME"
            " [--check-helo] [--timeout-ms N] [--budget-ms N]\n");
        return 2;
    }
    struct spf_request req = {
        .sender = arg_value(argc, argv, "--sender", ""),
        .helo = arg_value(argc, argv, "--helo", NULL),
        .receiver = arg_value(argc, argv, "--receiver", NULL),
        .check_helo = has_flag(argc, argv, "--check-helo"),
    };
    if (!ipaddr_parse(ip, &req.client)) {
        fprintf(stderr, "spf-eval: --ip %s: not an IP address\n", ip);
        return 2;
    }
    struct spf_limits lim;
    spf_limits_default(&lim);
    lim.query_timeout_ms = strtoull(arg_value(argc, argv, "--timeout-ms", "1000"), NULL, 10);
    lim.budget_ms = strtoull(arg_value(argc, argv, "--budget-ms", "8000"), NULL, 10);

    struct config *cfg = config_defaults();
    for (size_t i = 0; i < cfg->dns.nameserver_count; i++)
        free(cfg->dns.nameservers[i]);
    free(cfg->dns.nameservers);
    cfg->dns.nameservers = calloc(1, sizeof(char *));
    cfg->dns.nameservers[0] = strdup(ns);
    cfg->dns.nameserver_count = 1;
    cfg->dns.timeout_ms = lim.query_timeout_ms;
    free(cfg->dns.trust_anchor);
    cfg->dns.trust_anchor = NULL;
    cfg->dns.use_hosts = false;
    char why[256] = "";
    struct dns_resolver *resolver = dns_resolver_new(cfg, why, sizeof why);
    if (resolver == NULL) {
        fprintf(stderr, "spf-eval: %s\n", why);
        config_free(cfg);
        return 2;
    }

    struct spf_verdict v;
    spf_check(&req, &lim, spf_lookup_resolver, resolver, &v);
    print_field("result", spf_result_name(v.result));
    print_field("identity", v.identity);
    print_field("explanation", v.explanation);
    if (v.explanation != NULL)
        print_field("explanation_source", v.explanation_from_domain ? "domain" : "default");
    print_field("mechanism", v.mechanism);
    print_field("problem", v.problem);
    printf("dns_terms\t%u\nvoid_lookups\t%u\nqueries\t%u\nelapsed_ms\t%llu\n", v.dns_terms,
        v.void_lookups, v.queries, (unsigned long long)v.elapsed_ms);
    spf_verdict_free(&v);
    dns_resolver_free(resolver);
    config_free(cfg);
    return 0;
}
