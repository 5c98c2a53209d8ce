/* dmarc_report_xml.c - an aggregate report as the XML of RFC 9990 (namespace
 * urn:ietf:params:xml:ns:dmarc-2.0, version 1.0), built with libxml2's tree API so every
 * text is escaped by the library; every string is cleaned first (dmarc_report_clean_copy) so
 * no control character or broken UTF-8 reaches the document. Elements come in the order the
 * schema's sequences require. Promises: see dmarc_report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "dmarc_report.h"
#include "dmarc_report_row.h"

#define DMARC_NAMESPACE "urn:ietf:params:xml:ns:dmarc-2.0"

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
    char clean[1024];
    dmarc_report_clean_copy(clean, sizeof clean, text);
    return xmlNewTextChild(parent, parent->ns, (const xmlChar *)name,
        text != NULL ? (const xmlChar *)clean : NULL);
}

static xmlNodePtr child_int(xmlNodePtr parent, const char *name, long long value)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    return child(parent, name, num);
}

static void add_metadata(xmlNodePtr root, const struct dmarc_report_meta *m)
{
    xmlNodePtr md = child(root, "report_metadata", NULL);
    child(md, "org_name", m->org_name);
    child(md, "email", m->email);
    if (m->extra_contact_info != NULL)
        child(md, "extra_contact_info", m->extra_contact_info);
    child(md, "report_id", m->report_id);
    xmlNodePtr range = child(md, "date_range", NULL);
    child_int(range, "begin", (long long)m->begin);
    child_int(range, "end", (long long)m->end);
    if (m->error != NULL)
        child(md, "error", m->error);
    if (m->generator != NULL)
        child(md, "generator", m->generator);
}

static void add_policy(xmlNodePtr root, const struct dmarc_report_policy *p)
{
    xmlNodePtr pp = child(root, "policy_published", NULL);
    child(pp, "domain", p->domain);
    child(pp, "discovery_method", "treewalk");
    child(pp, "p", dmarc_policy_name(p->p));
    child(pp, "sp", dmarc_policy_name(p->sp != DMARC_POLICY_UNSET ? p->sp : p->p));
    if (p->np != DMARC_POLICY_UNSET)
        child(pp, "np", dmarc_policy_name(p->np));
    char fo[8] = "";
    const char *names[] = { "0", "1", "d", "s" };
    for (unsigned bit = 0; bit < 4; bit++) {
        if ((p->fo & (1u << bit)) == 0)
            continue;
        if (fo[0] != 0)
            strcat(fo, ":");
        strcat(fo, names[bit]);
    }
    child(pp, "fo", fo[0] != 0 ? fo : "0");
    child(pp, "adkim", p->adkim_strict ? "s" : "r");
    child(pp, "aspf", p->aspf_strict ? "s" : "r");
    child(pp, "testing", p->testing ? "y" : "n");
}

static void add_record(xmlNodePtr root, const struct dmarc_report_row *r)
{
    xmlNodePtr rec = child(root, "record", NULL);
    xmlNodePtr row = child(rec, "row", NULL);
    child(row, "source_ip", r->source_ip);
    child_int(row, "count", (long long)r->count);
    xmlNodePtr pe = child(row, "policy_evaluated", NULL);
    child(pe, "disposition", dmarc_report_disposition_name(r->disposition));
    child(pe, "dkim", r->dkim_aligned ? "pass" : "fail");
    child(pe, "spf", r->spf_aligned ? "pass" : "fail");
    if (r->reason != DMARC_REASON_NONE) {
        xmlNodePtr reason = child(pe, "reason", NULL);
        child(reason, "type", dmarc_report_override_name(r->reason));
        if (r->reason_comment[0] != 0)
            child(reason, "comment", r->reason_comment);
    }
    xmlNodePtr ids = child(rec, "identifiers", NULL);
    child(ids, "header_from", r->header_from);
    if (r->has_envelope_from)
        child(ids, "envelope_from", r->envelope_from);
    if (r->envelope_to[0] != 0)
        child(ids, "envelope_to", r->envelope_to);
    xmlNodePtr auth = child(rec, "auth_results", NULL);
    for (size_t i = 0; i < r->dkim_count && i < DMARC_REPORT_MAX_DKIM; i++) {
        xmlNodePtr d = child(auth, "dkim", NULL);
        child(d, "domain", r->dkim[i].domain);
        child(d, "selector", r->dkim[i].selector);
        enum dmarc_report_auth res = r->dkim[i].result;
        child(d, "result", dmarc_report_auth_name(res == DMARC_AUTH_SOFTFAIL ? DMARC_AUTH_FAIL : res));
    }
    if (r->has_spf) {
        xmlNodePtr s = child(auth, "spf", NULL);
        child(s, "domain", r->spf_domain);
        child(s, "scope", "mfrom");
        child(s, "result", dmarc_report_auth_name(r->spf_result));
    }
}

struct sorted_row {
    const struct dmarc_report_row *row;
    char *text;
};

static int by_text(const void *a, const void *b)
{
    const struct sorted_row *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    if (c != 0)
        return c;
    return x->row->count < y->row->count ? -1 : x->row->count > y->row->count;
}

bool dmarc_report_xml(const struct dmarc_report_meta *meta, const struct dmarc_report_policy *pol,
    const struct dmarc_report_row *rows, size_t row_count, struct textbuf *out, char *why,
    size_t why_size)
{
    if (row_count == 0) {
        snprintf(why, why_size, "a report needs at least one record");
        return false;
    }
    if (pol->domain[0] == 0 || pol->p == DMARC_POLICY_UNSET) {
        snprintf(why, why_size, "the published policy has no domain or no p");
        return false;
    }
    struct sorted_row *sorted = xcalloc(row_count, sizeof *sorted);
    for (size_t i = 0; i < row_count; i++) {
        struct textbuf t;
        textbuf_init(&t);
        dmarc_report_row_encode(&rows[i], &t);
        sorted[i].row = &rows[i];
        sorted[i].text = t.data;
    }
    qsort(sorted, row_count, sizeof *sorted, by_text);

    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"feedback");
    xmlNsPtr ns = xmlNewNs(root, (const xmlChar *)DMARC_NAMESPACE, NULL);
    xmlSetNs(root, ns);
    xmlDocSetRootElement(doc, root);
    child(root, "version", "1.0");
    add_metadata(root, meta);
    add_policy(root, pol);
    for (size_t i = 0; i < row_count; i++) {
        add_record(root, sorted[i].row);
        free(sorted[i].text);
    }
    free(sorted);

    xmlChar *mem = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
    xmlFreeDoc(doc);
    if (mem == NULL || len <= 0) {
        snprintf(why, why_size, "libxml2 could not write the document");
        xmlFree(mem);
        return false;
    }
    textbuf_append(out, (const char *)mem, (size_t)len);
    xmlFree(mem);
    return true;
}
