/* tests/fuzz/fuzz_spf.c - libFuzzer target for the SPF record parser, the macro expander and
 * check_host() (filter/spf*.c). The input is split at its first newline: the first part is the
 * record every name's TXT lookup returns, the second the text of a macro-string. A fake DNS
 * answers A/AAAA/MX/PTR from fixed data, so include/redirect chains, the lookup limits and the
 * explanation path all run on the fuzzed record. Promises under test: no crash, leak or hang;
 * an expansion is at most SPF_MACRO_MAX_OUTPUT bytes and a domain at most 253 characters; an
 * explanation is printable ASCII; the lookup limit holds (at most 10 counted terms + 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spf.h"
#include "util.h"

struct fake {
    const char *record;
    unsigned queries;
};

static void fake_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    (void)timeout_ms;
    struct fake *f = arg;
    f->queries++;
    memset(out, 0, sizeof *out);
    if (strlen(name) > 253) {
        out->status = DNS_ERROR;
        out->rcode = -1;
        return;
    }
    out->status = DNS_OK;
    out->data = xcalloc(3, sizeof *out->data);
    switch (type) {
    case 16:
        out->data[out->count++] = xstrdup(f->record);
        break;
    case 1:
        if (name[0] != 'n')
            out->data[out->count++] = xstrdup("192.0.2.1");
        break;
    case 28:
        out->data[out->count++] = xstrdup("2001:db8::1");
        break;
    case 15:
        out->data[out->count++] = xstrdup("10 mx.example.test");
        break;
    case 12:
        out->data[out->count++] = xstrdup("host.example.test");
        break;
    default:
        break;
    }
}

static void check_expansion(const char *text, enum spf_macro_mode mode)
{
    struct spf_macro_vars v = {
        .sender = "user@example.test", .local_part = "user", .sender_domain = "example.test",
        .domain = "example.test", .helo = "helo.example.test", .receiver = "mx.test",
    };
    ipaddr_parse("2001:db8::7", &v.client);
    char *out = NULL;
    char why[160];
    if (spf_macro_expand(text, mode, &v, &out, why, sizeof why)) {
        size_t len = strlen(out);
        if (len > SPF_MACRO_MAX_OUTPUT || (mode == SPF_MACRO_DOMAIN && len > 253))
            abort();
        free(out);
    } else if (out != NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static bool opened;
    if (!opened) {
        log_open("fuzz", LOG_MAIL, false, false);
        opened = true;
    }
    char *input = xstrndup((const char *)data, size);   /* stops at a NUL */
    char *macro = strchr(input, '\n');
    if (macro != NULL)
        *macro++ = '\0';
    else
        macro = input;

    struct spf_record rec;
    char why[200];
    if (spf_record_parse(input, &rec, why, sizeof why))
        spf_record_free(&rec);
    check_expansion(macro, SPF_MACRO_DOMAIN);
    check_expansion(macro, SPF_MACRO_EXPLAIN);

    struct fake f = {.record = input};
    struct spf_request req = {.sender = "user@example.test", .helo = "helo.example.test"};
    ipaddr_parse(size % 2 ? "192.0.2.1" : "2001:db8::1", &req.client);
    struct spf_limits lim;
    spf_limits_default(&lim);
    lim.budget_ms = 2000;
    struct spf_verdict v;
    spf_check(&req, &lim, fake_lookup, &f, &v);
    if (v.dns_terms > lim.max_dns_terms + 1)
        abort();
    if (v.explanation != NULL) {
        for (const char *p = v.explanation; *p; p++) {
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                abort();
        }
    }
    spf_verdict_free(&v);
    free(input);
    return 0;
}
