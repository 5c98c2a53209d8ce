/* check_arc_report.c - see check_arc_report.h. */
#include "check_arc_report.h"

#include "arc_result.h"

static const char *cv_name(enum arc_cv cv)
{
    return cv == ARC_CV_PASS ? "pass" : cv == ARC_CV_FAIL ? "fail" : "none";
}

static const char *checked_name(bool checked, bool ok)
{
    return !checked ? "not checked" : ok ? "ok" : "FAILED";
}

static void print_aar(FILE *out, const struct arc_hop_aar *a)
{
    if (a == NULL || !a->read) {
        fprintf(out, "      aar: unreadable (no authserv-id)\n");
        return;
    }
    fprintf(out, "      aar: %s:", a->aar.authserv_id);
    if (a->aar.count == 0)
        fprintf(out, " none");
    for (size_t i = 0; i < a->aar.count; i++) {
        const struct arc_aar_result *r = &a->aar.result[i];
        fprintf(out, " %s=%s%s%s", r->method, r->result, r->domain[0] ? "/" : "", r->domain);
    }
    if (a->aar.dropped > 0)
        fprintf(out, " (+%zu not read)", a->aar.dropped);
    fprintf(out, "\n");
}

void check_arc_report(FILE *out, struct txn *t)
{
    const struct arc_outcome *o = arc_result_get(t);
    fprintf(out, "arc:\n");
    if (!o->checked) {
        fprintf(out, "  not checked\n");
        return;
    }
    const struct arc_result *v = &o->verdict;
    fprintf(out, "  result: %s (%s), %u set%s, %u key lookup%s\n", arc_status_name(v->status),
        arc_result_symbol(o), v->count, v->count == 1 ? "" : "s", v->lookups,
        v->lookups == 1 ? "" : "s");
    for (unsigned i = 0; i < v->hop_count; i++) {
        const struct arc_hop *h = &v->hop[i];
        fprintf(out, "  i=%u cv=%s seal d=%s s=%s: %s; message signature d=%s s=%s: %s\n",
            h->instance, cv_name(h->cv), h->seal_domain, h->seal_selector,
            checked_name(h->seal_checked, h->seal_ok), h->ams_domain, h->ams_selector,
            checked_name(h->ams_checked, h->ams_ok));
        print_aar(out, o->aar != NULL ? &o->aar[i] : NULL);
        if (v->status == ARC_STATUS_FAIL && v->fail_instance == h->instance)
            fprintf(out, "      fails here: %s: %s: %s\n", arc_field_name(v->fail_field),
                arc_reason_name(v->reason), v->detail);
    }
    if (v->status == ARC_STATUS_FAIL && (v->fail_instance == 0 || v->fail_instance > v->hop_count)) {
        if (v->fail_instance > 0)
            fprintf(out, "  fails at i=%u: %s: %s: %s\n", v->fail_instance,
                arc_field_name(v->fail_field), arc_reason_name(v->reason), v->detail);
        else
            fprintf(out, "  fails%s: %s: %s\n", o->header_limit ? " (a header limit)" : "",
                arc_reason_name(v->reason), v->detail);
    }
    if (v->status == ARC_STATUS_PASS)
        fprintf(out, "  oldest-pass: %u\n", v->oldest_pass);
}
