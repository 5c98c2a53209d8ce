/* tests/fuzz/fuzz_dmarc.c - libFuzzer target for DMARC (filter/dmarc/): the From parser, the
 * record parser and the evaluation on a fake DNS. The input is split at its first newline:
 * the first part holds the From field values (separated by 0x01 bytes), the second is the
 * text every _dmarc TXT lookup returns. Promises under test: no crash, leak or hang; every
 * From outcome is one of the enum; DMARC_FROM_ONE has a lower-case domain of at most 253
 * characters and no other outcome has one; at most DMARC_FROM_MAX_DOMAINS domains; the
 * evaluation sends at most its query limit and the policy is none unless the result is fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_eval.h"
#include "dmarc_from.h"
#include "dmarc_record.h"
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
    /* names with an 'x' do not exist; the others have the record */
    if (strchr(name, 'x') != NULL) {
        out->status = DNS_NXDOMAIN;
        out->rcode = 3;
        return;
    }
    out->status = DNS_OK;
    out->data = xcalloc(2, sizeof *out->data);
    if (type == 16)
        out->data[out->count++] = xstrdup(f->record);
}

static void check_from(const struct dmarc_from *r)
{
    if ((unsigned)r->outcome > DMARC_FROM_UNPARSEABLE)
        abort();
    if (r->domain_count > DMARC_FROM_MAX_DOMAINS)
        abort();
    size_t len = strlen(r->domain);
    if ((r->outcome == DMARC_FROM_ONE) != (len > 0) || len > DMARC_DOMAIN_MAX)
        abort();
    for (size_t i = 0; i < len; i++)
        if (r->domain[i] >= 'A' && r->domain[i] <= 'Z')
            abort();
    if (r->outcome != DMARC_FROM_ONE && r->problem[0] == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    char *record = strchr(text, '\n');
    if (record != NULL)
        *record++ = 0;
    else
        record = "v=DMARC1; p=reject";

    const char *values[8];
    size_t count = 0;
    for (char *field = text; field != NULL && count < 8; ) {
        values[count++] = field;
        field = strchr(field, 1);
        if (field != NULL)
            *field++ = 0;
    }
    struct dmarc_from from;
    dmarc_from_parse(values, count, &from);
    check_from(&from);

    struct dmarc_record rec;
    char why[128];
    enum dmarc_record_status st = dmarc_record_parse(record, &rec, why, sizeof why);
    if (st == DMARC_RECORD_OK && rec.p == DMARC_POLICY_UNSET)
        abort();
    if (rec.rua_count > DMARC_MAX_URIS || rec.ruf_count > DMARC_MAX_URIS)
        abort();
    dmarc_record_free(&rec);

    struct fake f = { .record = record };
    const char *dkim[2] = { from.domain_count > 0 ? from.domains[0] : "d.example",
        from.domain_count > 1 ? from.domains[1] : "e.d.example" };
    struct dmarc_request req = {
        .from_domain = from.outcome == DMARC_FROM_ONE ? from.domain : "a.b.c.d.e.f.g.h.i.example",
        .spf_domain = from.domain_count > 0 ? from.domains[from.domain_count - 1] : NULL,
        .spf_pass = size % 2 == 0, .dkim_domains = dkim, .dkim_count = 2 };
    struct dmarc_limits lim;
    dmarc_limits_default(&lim);
    lim.budget_ms = 5000;
    struct dmarc_verdict v;
    dmarc_evaluate(&req, &lim, fake_lookup, &f, &v);
    if (f.queries > lim.max_queries || v.queries != f.queries)
        abort();
    if (v.result != DMARC_RESULT_FAIL && v.policy != DMARC_POLICY_NONE)
        abort();
    dmarc_verdict_free(&v);
    free(text);
    return 0;
}
