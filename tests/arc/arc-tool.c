/* arc-tool.c - drives filter/arc's verifier and sealer on message files, for the ARC suite
 * runner (test-arc-suite.py), the interop test with python3-dkim (test-arc-interop.py) and by
 * hand. Keys come from a file of "NAME<TAB>RECORD" lines (a fake lookup) or from a DNS
 * server on loopback through the daemon's resolver (filter/dns).
 *
 *   arc-tool verify (--keys FILE | --dns PORT) [--chunk N] [--no-older] [--verbose] MSG...
 *       prints per message: FILE TAB status TAB fail-instance TAB field TAB reason TAB
 *       oldest-pass TAB lookups TAB detail (and with --verbose one "hop" line per instance)
 *   arc-tool sign --key PEM --domain D --selector S --srv-id ID --time T
 *       [--cv none|pass|fail | --keys FILE | --dns PORT] [--headers H] [--results R]
 *       [--layout suite] [--fold] MSG
 *       prints "ARC-Seal: ...", "ARC-Message-Signature: ...", "ARC-Authentication-Results:
 *       ..." (to prepend in that order), or nothing and exit 3 when the sealer refuses. With
 *       keys and no --cv, the message is verified first and cv is the verifier's. Without
 *       --results, the results are those of the message's Authentication-Results fields
 *       whose authserv-id is ID, merged into one list (as python3-dkim does). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_bodyhash.h"
#include "arc_seal.h"
#include "arc_verify.h"
#include "config.h"
#include "dkim_keys.h"
#include "dns.h"
#include "message_file.h"
#include "util.h"

struct fake_key {
    char *name;
    char *record;
};

struct fake_keys {
    struct fake_key *key;
    size_t count;
};

static struct fake_keys fake;
static struct dns_resolver *resolver;

static void usage(void)
{
    fprintf(stderr, "usage: arc-tool verify (--keys FILE | --dns PORT) [--chunk N] [--no-older]"
        " [--verbose] MSG...\n"
        "       arc-tool sign --key PEM --domain D --selector S --srv-id ID --time T [--cv CV |"
        " --keys FILE | --dns PORT] [--headers H] [--results R] [--layout suite] [--fold] MSG\n");
    exit(2);
}

static void load_fake_keys(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "arc-tool: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, fp)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *tab = strchr(line, '\t');
        if (tab == NULL)
            continue;
        *tab = '\0';
        fake.key = xrealloc(fake.key, (fake.count + 1) * sizeof *fake.key);
        fake.key[fake.count].name = xstrdup(line);
        fake.key[fake.count].record = xstrdup(tab + 1);
        fake.count++;
    }
    free(line);
    fclose(fp);
}

/* The fake lookup: every record listed for the name (final dot ignored); NXDOMAIN else. */
static void fake_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    (void)arg;
    (void)timeout_ms;
    memset(out, 0, sizeof *out);
    out->rcode = 0;
    size_t nlen = strlen(name);
    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    char **data = xcalloc(fake.count + 1, sizeof *data);
    size_t count = 0;
    bool exists = false;
    for (size_t i = 0; i < fake.count; i++) {
        const char *k = fake.key[i].name;
        size_t klen = strlen(k);
        if (klen > 0 && k[klen - 1] == '.')
            klen--;
        if (klen != nlen || strncasecmp(k, name, nlen) != 0)
            continue;
        exists = true;
        if (type == 16)
            data[count++] = xstrdup(fake.key[i].record);
    }
    if (!exists) {
        free(data);
        out->status = DNS_NXDOMAIN;
        out->rcode = 3;
        return;
    }
    out->status = DNS_OK;
    out->count = count;
    out->data = data;
}

static void start_resolver(const char *port)
{
    struct config *cfg = config_defaults();
    for (size_t i = 0; i < cfg->dns.nameserver_count; i++)
        free(cfg->dns.nameservers[i]);
    free(cfg->dns.nameservers);
    cfg->dns.nameservers = xcalloc(1, sizeof(char *));
    cfg->dns.nameservers[0] = xasprintf("127.0.0.1@%s", port);
    cfg->dns.nameserver_count = 1;
    cfg->dns.timeout_ms = 3000;
    free(cfg->dns.trust_anchor);
    cfg->dns.trust_anchor = NULL;
    cfg->dns.use_hosts = false;
    char why[256];
    resolver = dns_resolver_new(cfg, why, sizeof why);
    config_free(cfg);
    if (resolver == NULL) {
        fprintf(stderr, "arc-tool: the resolver did not start: %s\n", why);
        exit(2);
    }
}

struct loaded {
    struct message msg;
    struct header_field *fields;
};

static bool load_message(const char *path, struct loaded *m)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "arc-tool: %s: %s\n", path, strerror(errno));
        return false;
    }
    int rc = message_read(fp, &m->msg);
    fclose(fp);
    if (rc != 0) {
        fprintf(stderr, "arc-tool: %s: cannot read the message\n", path);
        return false;
    }
    m->fields = xcalloc(m->msg.header_count + 1, sizeof *m->fields);
    for (size_t i = 0; i < m->msg.header_count; i++) {
        m->fields[i].name = m->msg.headers[i].name;
        m->fields[i].value = m->msg.headers[i].value;
    }
    return true;
}

static void unload_message(struct loaded *m)
{
    free(m->fields);
    message_free(&m->msg);
}

static void verify_loaded(const struct loaded *m, size_t chunk, const struct arc_limits *lim,
    struct arc_result *res)
{
    struct arc_verify *v = arc_verify_begin(m->fields, m->msg.header_count, lim);
    if (arc_verify_needs_body(v)) {
        for (size_t off = 0; off < m->msg.body_len; off += chunk) {
            size_t len = m->msg.body_len - off < chunk ? m->msg.body_len - off : chunk;
            arc_verify_body(v, m->msg.body + off, len);
        }
    }
    if (resolver != NULL)
        arc_verify_finish(v, arc_lookup_resolver, resolver, res);
    else
        arc_verify_finish(v, fake_lookup, NULL, res);
    arc_verify_free(v);
}

static int cmd_verify(int argc, char **argv)
{
    size_t chunk = (size_t)-1;
    bool verbose = false;
    struct arc_limits lim;
    arc_limits_default(&lim);
    int i = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            load_fake_keys(argv[++i]);
        else if (strcmp(argv[i], "--dns") == 0 && i + 1 < argc)
            start_resolver(argv[++i]);
        else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc)
            chunk = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--no-older") == 0)
            lim.check_older_ams = false;
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else
            usage();
    }
    if (i == argc || chunk == 0)
        usage();
    int status = 0;
    for (; i < argc; i++) {
        struct loaded m;
        if (!load_message(argv[i], &m)) {
            status = 1;
            continue;
        }
        struct arc_result res;
        verify_loaded(&m, chunk, &lim, &res);
        printf("%s\t%s\t%u\t%s\t%s\t%u\t%u\t%s\n", argv[i], arc_status_name(res.status),
            res.fail_instance, arc_field_name(res.fail_field), arc_reason_name(res.reason),
            res.oldest_pass, res.lookups, res.detail);
        for (unsigned h = 0; verbose && h < res.hop_count; h++) {
            const struct arc_hop *hop = &res.hop[h];
            printf("hop\t%u\tseal %s/%s %s\tams %s/%s %s\taar %s\n", hop->instance,
                hop->seal_domain, hop->seal_selector,
                !hop->seal_checked ? "unchecked" : hop->seal_ok ? "ok" : "bad",
                hop->ams_domain, hop->ams_selector,
                !hop->ams_checked ? "unchecked" : hop->ams_ok ? "ok" : "bad", hop->aar_payload);
        }
        arc_result_free(&res);
        unload_message(&m);
    }
    return status;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "arc-tool: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    struct textbuf t;
    textbuf_init(&t);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        textbuf_append(&t, buf, n);
    fclose(fp);
    *len = t.len;
    return t.data;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The results of the Authentication-Results fields whose authserv-id is srv_id, each
 * result trimmed, joined with "; "; *arc gets the arc= result seen ("" when none). */
static char *merged_results(const struct loaded *m, const char *srv_id, char *arc, size_t arc_size)
{
    struct textbuf out;
    textbuf_init(&out);
    arc[0] = '\0';
    size_t id_len = strlen(srv_id);
    for (size_t i = 0; i < m->msg.header_count; i++) {
        if (!str_ieq(m->fields[i].name, "Authentication-Results"))
            continue;
        const char *v = m->fields[i].value;
        while (is_space(*v))
            v++;
        if (strncasecmp(v, srv_id, id_len) != 0)
            continue;
        const char *p = v + id_len;
        while (is_space(*p))
            p++;
        if (*p != ';')
            continue;
        char *copy = xstrdup(p + 1);
        for (char *save = NULL, *r = strtok_r(copy, ";", &save); r != NULL;
             r = strtok_r(NULL, ";", &save)) {
            while (is_space(*r))
                r++;
            size_t n = strlen(r);
            while (n > 0 && is_space(r[n - 1]))
                n--;
            if (n == 0)
                continue;
            /* unfold: CR/LF and runs of blanks become one space */
            struct textbuf one;
            textbuf_init(&one);
            bool blank = false;
            for (size_t k = 0; k < n; k++) {
                if (is_space(r[k])) {
                    blank = true;
                    continue;
                }
                if (blank)
                    textbuf_append(&one, " ", 1);
                blank = false;
                textbuf_append(&one, &r[k], 1);
            }
            if (strncmp(one.data, "arc=", 4) == 0) {
                size_t k = 0;
                while (one.data[4 + k] != '\0' && one.data[4 + k] != ' ' && k + 1 < arc_size) {
                    arc[k] = one.data[4 + k];
                    k++;
                }
                arc[k] = '\0';
            }
            if (out.len > 0)
                textbuf_append(&out, "; ", 2);
            textbuf_puts(&out, one.data);
            textbuf_free(&one);
        }
        free(copy);
    }
    return out.data != NULL ? out.data : xstrdup("");
}

static int cmd_sign(int argc, char **argv)
{
    const char *key_path = NULL, *domain = NULL, *selector = NULL, *srv_id = NULL;
    const char *headers = NULL, *results = NULL, *cv_text = NULL;
    uint64_t t = 0;
    bool have_time = false, fold = false, keys = false;
    enum arc_layout layout = ARC_LAYOUT_DEFAULT;
    int i = 0;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--fold") == 0) {
            fold = true;
            continue;
        }
        const char *v = argv[++i];
        if (strcmp(o, "--key") == 0)
            key_path = v;
        else if (strcmp(o, "--domain") == 0)
            domain = v;
        else if (strcmp(o, "--selector") == 0)
            selector = v;
        else if (strcmp(o, "--srv-id") == 0)
            srv_id = v;
        else if (strcmp(o, "--time") == 0) {
            t = strtoull(v, NULL, 10);
            have_time = true;
        } else if (strcmp(o, "--headers") == 0)
            headers = v;
        else if (strcmp(o, "--results") == 0)
            results = v;
        else if (strcmp(o, "--cv") == 0)
            cv_text = v;
        else if (strcmp(o, "--keys") == 0) {
            load_fake_keys(v);
            keys = true;
        } else if (strcmp(o, "--dns") == 0) {
            start_resolver(v);
            keys = true;
        } else if (strcmp(o, "--layout") == 0 && strcmp(v, "suite") == 0)
            layout = ARC_LAYOUT_SUITE;
        else
            usage();
    }
    if (i + 1 != argc || key_path == NULL || domain == NULL || selector == NULL
        || srv_id == NULL || !have_time || (cv_text == NULL && !keys))
        usage();
    struct loaded m;
    if (!load_message(argv[i], &m))
        return 1;
    size_t key_len;
    char *key_text = read_file(key_path, &key_len);
    char why[512], warn[256];
    struct dkim_key *key = dkim_key_from_text(key_text, key_len, key_path, why, sizeof why,
        warn, sizeof warn);
    free(key_text);
    if (key == NULL) {
        fprintf(stderr, "arc-tool: %s\n", why);
        return 2;
    }
    char arc_result_seen[32];
    char *merged = merged_results(&m, srv_id, arc_result_seen, sizeof arc_result_seen);
    enum arc_cv cv;
    if (cv_text != NULL) {
        cv = strcmp(cv_text, "pass") == 0 ? ARC_CV_PASS : strcmp(cv_text, "fail") == 0
            ? ARC_CV_FAIL : ARC_CV_NONE;
    } else {
        struct arc_result res;
        verify_loaded(&m, (size_t)-1, NULL, &res);
        cv = res.seal_cv;
        arc_result_free(&res);
    }
    struct arc_bodyhash *bh = arc_bodyhash_new(ARC_CANON_RELAXED, -1);
    arc_bodyhash_update(bh, m.msg.body, m.msg.body_len);
    unsigned char digest[ARC_BODYHASH_MAX];
    size_t digest_len = arc_bodyhash_final(bh, digest, NULL);
    arc_bodyhash_free(bh);
    struct arc_seal_request req = {
        .fields = m.fields, .field_count = m.msg.header_count, .cv = cv,
        .authserv_id = srv_id, .results = results != NULL ? results : merged,
        .sign_headers = headers, .body_hash = digest, .body_hash_len = digest_len,
        .timestamp = t, .layout = layout, .fold = fold ? "\r\n" : NULL,
    };
    struct arc_seal_key sk = { .pkey = key->pkey, .domain = domain, .selector = selector };
    struct arc_sealed out;
    int status = 0;
    if (arc_seal(&req, &sk, &out, why, sizeof why)) {
        printf("ARC-Seal: %s\r\nARC-Message-Signature: %s\r\nARC-Authentication-Results: %s\r\n",
            out.seal, out.ams, out.aar);
        arc_sealed_free(&out);
    } else {
        fprintf(stderr, "arc-tool: not sealed: %s\n", why);
        status = 3;
    }
    free(merged);
    dkim_key_free(key);
    unload_message(&m);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    int status;
    if (strcmp(argv[1], "verify") == 0)
        status = cmd_verify(argc - 2, argv + 2);
    else if (strcmp(argv[1], "sign") == 0)
        status = cmd_sign(argc - 2, argv + 2);
    else
        usage();
    if (resolver != NULL)
        dns_resolver_free(resolver);
    for (size_t k = 0; k < fake.count; k++) {
        free(fake.key[k].name);
        free(fake.key[k].record);
    }
    free(fake.key);
    return status;
}
