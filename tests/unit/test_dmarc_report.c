/* test_dmarc_report.c - DMARC aggregate reports (filter/dmarc/dmarc_report_*.c): the XML is
 * valid against RFC 9990's schema (tests/dmarc/dmarc-xml-0.2.xsd, checked with libxml2 on every
 * document built here), deterministic, and escapes what the sender wrote; gzip round trips;
 * rows survive the store's text form and bad text is refused; the file name, Subject,
 * Report-ID and MIME message are as RFC 9990 says and refuse header injection; rua URIs,
 * the external-destination authorisation on a fake DNS, and the suppression lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <zlib.h>

#include "dmarc_report.h"
#include "dmarc_report_dest.h"
#include "dmarc_report_mail.h"
#include "dmarc_report_row.h"
#include "dmarc_report_store.h"
#include "config.h"
#include "config_load.h"
#include "dmarc_reports_config.h"

static const char *schema_path = SRCDIR "/tests/dmarc/dmarc-xml-0.2.xsd";

/* 0 when xml is valid against RFC 9990's schema; the parsed document in *doc_out if asked. */
static int schema_errors(const char *xml, size_t len, xmlDocPtr *doc_out)
{
    xmlSchemaParserCtxtPtr pctx = xmlSchemaNewParserCtxt(schema_path);
    assert_non_null(pctx);
    xmlSchemaPtr schema = xmlSchemaParse(pctx);
    assert_non_null(schema);
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "report.xml", NULL, XML_PARSE_NONET);
    int rc = -1;
    if (doc != NULL) {
        xmlSchemaValidCtxtPtr vctx = xmlSchemaNewValidCtxt(schema);
        rc = xmlSchemaValidateDoc(vctx, doc);
        xmlSchemaFreeValidCtxt(vctx);
    }
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pctx);
    if (doc_out != NULL)
        *doc_out = doc;
    else if (doc != NULL)
        xmlFreeDoc(doc);
    return rc;
}

/* The text of the first node the XPath (prefix d: for the DMARC namespace) selects. */
static char *xpath_text(xmlDocPtr doc, const char *path)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, (const xmlChar *)"d", (const xmlChar *)"urn:ietf:params:xml:ns:dmarc-2.0");
    xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)path, ctx);
    char *text = NULL;
    if (obj != NULL && obj->nodesetval != NULL && obj->nodesetval->nodeNr > 0) {
        xmlChar *c = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
        text = xstrdup((const char *)c);
        xmlFree(c);
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    return text;
}

static void assert_xpath(xmlDocPtr doc, const char *path, const char *want)
{
    char *got = xpath_text(doc, path);
    if (got == NULL)
        fail_msg("%s selects nothing", path);
    assert_string_equal(got, want);
    free(got);
}

static const struct dmarc_report_meta meta = {
    .org_name = "Example Receiver", .email = "postmaster@mx.receiver.example",
    .report_id = "example.com.1764720000.1764806400@mx.receiver.example",
    .begin = 1764720000, .end = 1764806400, .generator = "mailwarden 0.1.0",
};

static void policy_example(struct dmarc_report_policy *p)
{
    memset(p, 0, sizeof *p);
    strcpy(p->domain, "example.com");
    p->p = DMARC_POLICY_REJECT;
    p->np = DMARC_POLICY_QUARANTINE;
    p->testing = true;
    p->fo = DMARC_FO_1 | DMARC_FO_D;
    strcpy(p->rua[0], "mailto:dmarc@example.com");
    p->rua_count = 1;
}

static void row_pass(struct dmarc_report_row *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->source_ip, "192.0.2.10");
    r->count = 3;
    r->disposition = DMARC_DISPOSITION_PASS;
    r->dkim_aligned = true;
    strcpy(r->header_from, "example.com");
    r->has_envelope_from = true;
    strcpy(r->envelope_from, "example.com");
    strcpy(r->envelope_to, "receiver.example");
    dmarc_report_row_add_dkim(r, "example.com", "s1", DMARC_AUTH_PASS);
    r->has_spf = true;
    strcpy(r->spf_domain, "example.com");
    r->spf_result = DMARC_AUTH_SOFTFAIL;
}

static void row_fail(struct dmarc_report_row *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->source_ip, "2001:db8::25");
    r->count = 7;
    r->disposition = DMARC_DISPOSITION_QUARANTINE;
    r->reason = DMARC_REASON_POLICY_TEST_MODE;
    strcpy(r->reason_comment, "t=y");
    strcpy(r->header_from, "sub.example.com");
    r->has_envelope_from = true;            /* the null reverse-path */
    r->has_spf = true;
    strcpy(r->spf_domain, "helo.sender.example");
    r->spf_result = DMARC_AUTH_NONE;
}

static void test_report_is_valid_against_the_rfc9990_schema(void **state)
{
    (void)state;
    struct dmarc_report_policy pol;
    struct dmarc_report_row rows[2];
    policy_example(&pol);
    row_pass(&rows[0]);
    row_fail(&rows[1]);
    struct textbuf xml;
    textbuf_init(&xml);
    char why[128] = "";
    assert_true(dmarc_report_xml(&meta, &pol, rows, 2, &xml, why, sizeof why));
    xmlDocPtr doc = NULL;
    assert_int_equal(schema_errors(xml.data, xml.len, &doc), 0);
    assert_xpath(doc, "/d:feedback/d:version", "1.0");
    assert_xpath(doc, "/d:feedback/d:report_metadata/d:report_id", meta.report_id);
    assert_xpath(doc, "/d:feedback/d:report_metadata/d:date_range/d:begin", "1764720000");
    assert_xpath(doc, "/d:feedback/d:policy_published/d:p", "reject");
    assert_xpath(doc, "/d:feedback/d:policy_published/d:sp", "reject");
    assert_xpath(doc, "/d:feedback/d:policy_published/d:np", "quarantine");
    assert_xpath(doc, "/d:feedback/d:policy_published/d:testing", "y");
    assert_xpath(doc, "/d:feedback/d:policy_published/d:fo", "1:d");
    assert_xpath(doc, "/d:feedback/d:policy_published/d:discovery_method", "treewalk");
    assert_xpath(doc, "//d:record[d:row/d:source_ip='192.0.2.10']/d:row/d:count", "3");
    assert_xpath(doc, "//d:record[d:row/d:source_ip='192.0.2.10']/d:auth_results/d:dkim/d:selector", "s1");
    assert_xpath(doc, "//d:record[d:row/d:source_ip='192.0.2.10']/d:auth_results/d:spf/d:result", "softfail");
    assert_xpath(doc, "//d:record[d:row/d:source_ip='2001:db8::25']/d:row/d:count", "7");
    assert_xpath(doc, "//d:record[d:row/d:source_ip='2001:db8::25']/d:row/d:policy_evaluated/d:reason/d:type",
        "policy_test_mode");
    assert_xpath(doc, "//d:record[d:row/d:source_ip='2001:db8::25']/d:identifiers/d:envelope_from", "");
    xmlFreeDoc(doc);
    textbuf_free(&xml);
}

/* What the sender wrote (From domain, selector, envelope) is escaped or replaced, never
 * markup: the document stays valid and the text reads back as the cleaned string. */
static void test_sender_strings_are_escaped_not_markup(void **state)
{
    (void)state;
    struct dmarc_report_policy pol;
    struct dmarc_report_row row;
    policy_example(&pol);
    row_pass(&row);
    strcpy(row.header_from, "<x>&amp;\"]]></header_from><evil/>");
    strcpy(row.envelope_from, "bad\x01\x1b\xff\xfe.example");
    row.dkim_count = 0;
    dmarc_report_row_add_dkim(&row, "example.com", "s<1>&\n\r\tz", DMARC_AUTH_FAIL);
    struct textbuf xml;
    textbuf_init(&xml);
    char why[128] = "";
    assert_true(dmarc_report_xml(&meta, &pol, &row, 1, &xml, why, sizeof why));
    assert_null(strstr(xml.data, "<evil/>"));
    assert_null(strstr(xml.data, "<x>"));
    xmlDocPtr doc = NULL;
    assert_int_equal(schema_errors(xml.data, xml.len, &doc), 0);
    assert_xpath(doc, "//d:identifiers/d:header_from", "<x>&amp;\"]]></header_from><evil/>");
    assert_xpath(doc, "//d:identifiers/d:envelope_from", "bad????.example");
    assert_xpath(doc, "//d:auth_results/d:dkim/d:selector", "s<1>&???z");
    xmlFreeDoc(doc);
    textbuf_free(&xml);
}

static void test_same_rows_in_another_order_give_the_same_bytes(void **state)
{
    (void)state;
    struct dmarc_report_policy pol;
    struct dmarc_report_row a[2], b[2];
    policy_example(&pol);
    row_pass(&a[0]);
    row_fail(&a[1]);
    b[0] = a[1];
    b[1] = a[0];
    struct textbuf x, y;
    textbuf_init(&x);
    textbuf_init(&y);
    char why[128];
    assert_true(dmarc_report_xml(&meta, &pol, a, 2, &x, why, sizeof why));
    assert_true(dmarc_report_xml(&meta, &pol, b, 2, &y, why, sizeof why));
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    textbuf_free(&x);
    textbuf_free(&y);
}

static void test_a_report_without_rows_or_policy_is_refused(void **state)
{
    (void)state;
    struct dmarc_report_policy pol;
    struct dmarc_report_row row;
    policy_example(&pol);
    row_pass(&row);
    struct textbuf x;
    textbuf_init(&x);
    char why[128] = "";
    assert_false(dmarc_report_xml(&meta, &pol, &row, 0, &x, why, sizeof why));
    assert_non_null(strstr(why, "record"));
    pol.p = DMARC_POLICY_UNSET;
    assert_false(dmarc_report_xml(&meta, &pol, &row, 1, &x, why, sizeof why));
    textbuf_free(&x);
}

static void test_gzip_round_trips_and_is_deterministic(void **state)
{
    (void)state;
    const char *text = "<feedback>hello hello hello hello</feedback>\n";
    struct textbuf z1, z2;
    textbuf_init(&z1);
    textbuf_init(&z2);
    char why[128];
    assert_true(dmarc_report_gzip(text, strlen(text), &z1, why, sizeof why));
    assert_true(dmarc_report_gzip(text, strlen(text), &z2, why, sizeof why));
    assert_int_equal(z1.len, z2.len);
    assert_memory_equal(z1.data, z2.data, z1.len);
    assert_int_equal((unsigned char)z1.data[0], 0x1f);
    assert_int_equal((unsigned char)z1.data[1], 0x8b);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    char out[256];
    z.next_in = (Bytef *)z1.data;
    z.avail_in = (uInt)z1.len;
    z.next_out = (Bytef *)out;
    z.avail_out = sizeof out;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, strlen(text));
    assert_memory_equal(out, text, strlen(text));
    inflateEnd(&z);
    textbuf_free(&z1);
    textbuf_free(&z2);
}

static void test_rows_and_policies_survive_their_text_form(void **state)
{
    (void)state;
    struct dmarc_report_row rows[2], back;
    row_pass(&rows[0]);
    row_fail(&rows[1]);
    char why[128];
    for (size_t i = 0; i < 2; i++) {
        struct textbuf t;
        textbuf_init(&t);
        dmarc_report_row_encode(&rows[i], &t);
        assert_true(dmarc_report_row_decode(t.data, t.len, &back, why, sizeof why));
        back.count = rows[i].count;
        assert_memory_equal(&back, &rows[i], sizeof back);
        textbuf_free(&t);
    }
    struct dmarc_report_policy pol, pol_back;
    policy_example(&pol);
    struct textbuf t;
    textbuf_init(&t);
    dmarc_report_policy_encode(&pol, &t);
    assert_true(dmarc_report_policy_decode(t.data, t.len, &pol_back, why, sizeof why));
    assert_memory_equal(&pol_back, &pol, sizeof pol);
    textbuf_free(&t);
}

static void test_damaged_row_text_is_refused(void **state)
{
    (void)state;
    struct dmarc_report_row r;
    char why[128];
    char big[600];
    const char *bad[] = {
        "ip=192.0.2.1\n",                                      /* no header_from */
        "header_from=example.com\n",                           /* no ip */
        "ip=192.0.2.1\nheader_from=example.com\nfoo=bar\n",    /* unknown field */
        "ip=192.0.2.1\nheader_from=example.com",               /* no final newline */
        "ip=192.0.2.1\nheader_from=example.com\ndisposition=maybe\n",
        "ip=192.0.2.1\nheader_from=example.com\ndkim=softfail\td\ts\n",
        "ip=192.0.2.1\nheader_from=example.com\ndkim=pass\td\n",
        "ip=192.0.2.1\nheader_from=example.com\nspf=pass\td\n spf=pass\td\n",
        "ip=192.0.2.1111111111111111111111111111111111111111111111\nheader_from=x\n",
        big,
    };
    snprintf(big, sizeof big, "ip=192.0.2.1\nheader_from=%0500d\n", 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        if (dmarc_report_row_decode(bad[i], strlen(bad[i]), &r, why, sizeof why))
            fail_msg("accepted: %s", bad[i]);
        assert_true(why[0] != 0);
    }
    char nine[1024] = "ip=192.0.2.1\nheader_from=x\n";
    for (int i = 0; i < 9; i++)
        strcat(nine, "dkim=pass\td\ts\n");
    assert_false(dmarc_report_row_decode(nine, strlen(nine), &r, why, sizeof why));
    struct dmarc_report_policy p;
    const char *pbad = "domain=example.com\np=unset\n";
    assert_false(dmarc_report_policy_decode(pbad, strlen(pbad), &p, why, sizeof why));
}

/* More signatures than a row keeps: RFC 9990's preference decides which stay. */
static void test_dkim_results_kept_in_rfc9990_preference(void **state)
{
    (void)state;
    struct dmarc_report_row r;
    memset(&r, 0, sizeof r);
    strcpy(r.header_from, "example.com");
    for (int i = 0; i < 10; i++)
        dmarc_report_row_add_dkim(&r, "fail.example", "f", DMARC_AUTH_FAIL);
    dmarc_report_row_add_dkim(&r, "other.example", "o", DMARC_AUTH_PASS);
    dmarc_report_row_add_dkim(&r, "mail.example.com", "r", DMARC_AUTH_PASS);
    dmarc_report_row_add_dkim(&r, "EXAMPLE.com", "s", DMARC_AUTH_PASS);
    assert_int_equal(r.dkim_count, DMARC_REPORT_MAX_DKIM);
    assert_string_equal(r.dkim[0].selector, "s");
    assert_string_equal(r.dkim[1].selector, "r");
    assert_string_equal(r.dkim[2].selector, "o");
    assert_string_equal(r.dkim[3].selector, "f");
    assert_int_equal(r.dkim[7].result, DMARC_AUTH_FAIL);
}

static void test_file_name_subject_and_report_id(void **state)
{
    (void)state;
    char out[700];
    assert_true(dmarc_report_filename("mx.receiver.example", "example.com", 1013662812,
        1013749130, NULL, out, sizeof out));
    assert_string_equal(out, "mx.receiver.example!example.com!1013662812!1013749130.xml.gz");
    assert_true(dmarc_report_filename("mx.receiver.example", "example.com", 1, 2, "mx2", out,
        sizeof out));
    assert_string_equal(out, "mx.receiver.example!example.com!1!2!mx2.xml.gz");
    assert_false(dmarc_report_filename("mx.receiver.example", "exa\nmple.com", 1, 2, NULL, out, sizeof out));
    assert_false(dmarc_report_filename("mx.receiver.example", "a..b", 1, 2, NULL, out, sizeof out));
    assert_false(dmarc_report_filename("mx.receiver.example", "a/b", 1, 2, NULL, out, sizeof out));
    assert_false(dmarc_report_filename("mx.receiver.example", "x.example", 1, 2, "a-b", out, sizeof out));
    assert_true(dmarc_report_id("example.com", 1, 2, NULL, "mx.receiver.example", out, sizeof out));
    assert_string_equal(out, "example.com.1.2@mx.receiver.example");
    char subject[700];
    assert_true(dmarc_report_subject("example.com", "mx.receiver.example", out, subject,
        sizeof subject));
    assert_string_equal(subject,
        "Report Domain: example.com Submitter: mx.receiver.example Report-ID: <example.com.1.2@mx.receiver.example>");
    assert_false(dmarc_report_subject("example.com", "mx.receiver.example", "a>b@x", subject,
        sizeof subject));
}

static size_t base64_decode(const char *in, unsigned char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *c = in; *c != 0 && *c != '-'; c++) {
        const char *p = strchr(alphabet, *c);
        if (*c == '=' || p == NULL)
            continue;
        acc = (acc << 6) | (uint32_t)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static void test_message_has_the_rfc9990_layout(void **state)
{
    (void)state;
    unsigned char gz[300];
    for (size_t i = 0; i < sizeof gz; i++)
        gz[i] = (unsigned char)(i * 7);
    struct dmarc_report_mail m = {
        .from = "dmarc-noreply@receiver.example", .to = "dmarc@example.com",
        .policy_domain = "example.com", .submitter = "mx.receiver.example",
        .org_name = "Example\nReceiver", .report_id = "example.com.1.2@mx.receiver.example",
        .begin = 1, .end = 2, .date = 1764806400,
        .filename = "mx.receiver.example!example.com!1!2.xml.gz",
        .attachment = gz, .attachment_len = sizeof gz,
    };
    struct textbuf t;
    textbuf_init(&t);
    char why[128];
    assert_true(dmarc_report_message(&m, &t, why, sizeof why));
    assert_non_null(strstr(t.data, "From: dmarc-noreply@receiver.example\n"));
    assert_non_null(strstr(t.data, "To: dmarc@example.com\n"));
    assert_non_null(strstr(t.data, "Subject: Report Domain: example.com\n Submitter: mx.receiver.example\n"
        " Report-ID: <example.com.1.2@mx.receiver.example>\n"));
    assert_non_null(strstr(t.data, "Date: Thu, 04 Dec 2025 00:00:00 +0000\n"));
    assert_non_null(strstr(t.data, "Message-ID: <example.com.1.2@mx.receiver.example>\n"));
    assert_non_null(strstr(t.data, "Content-Type: multipart/mixed; boundary="));
    assert_non_null(strstr(t.data, "Content-Type: application/gzip; name=\"mx.receiver.example!example.com!1!2.xml.gz\"\n"));
    assert_non_null(strstr(t.data, "Content-Disposition: attachment; filename=\"mx.receiver.example!example.com!1!2.xml.gz\"\n"));
    assert_null(strstr(t.data, "Example\nReceiver"));
    const char *body = strstr(t.data, "Content-Disposition: attachment");
    body = strstr(body, "\n\n") + 2;
    unsigned char back[400];
    assert_int_equal(base64_decode(body, back), sizeof gz);
    assert_memory_equal(back, gz, sizeof gz);
    /* no line longer than RFC 5322 allows */
    for (const char *line = t.data; *line != 0;) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(nl - line <= 998);
        line = nl + 1;
    }
    /* a destination that would add a header is refused */
    textbuf_free(&t);
    textbuf_init(&t);
    m.to = "dmarc@example.com\nBcc: victim@example.net";
    assert_false(dmarc_report_message(&m, &t, why, sizeof why));
    m.to = "dmarc@example.com";
    m.policy_domain = "example.com\r\nX: y";
    assert_false(dmarc_report_message(&m, &t, why, sizeof why));
    assert_int_equal(t.len, 0);
    textbuf_free(&t);
}

static void test_rua_uris_become_plain_mailboxes(void **state)
{
    (void)state;
    struct dmarc_report_dest d;
    char why[128];
    assert_int_equal(dmarc_report_parse_uri("mailto:dmarc@example.com", &d, why, sizeof why), DMARC_URI_OK);
    assert_string_equal(d.address, "dmarc@example.com");
    assert_string_equal(d.host, "example.com");
    assert_int_equal(dmarc_report_parse_uri("MAILTO:Dmarc@Example.COM", &d, why, sizeof why), DMARC_URI_OK);
    assert_string_equal(d.address, "Dmarc@example.com");
    /* the obsolete size suffix is removed (RFC 9989: ignore it) */
    assert_int_equal(dmarc_report_parse_uri("mailto:r@example.com!10m", &d, why, sizeof why), DMARC_URI_OK);
    assert_string_equal(d.address, "r@example.com");
    assert_int_equal(dmarc_report_parse_uri("mailto:r@example.com!50", &d, why, sizeof why), DMARC_URI_OK);
    assert_int_equal(dmarc_report_parse_uri("mailto:r@example.com?subject=x", &d, why, sizeof why), DMARC_URI_OK);
    assert_string_equal(d.address, "r@example.com");
    assert_int_equal(dmarc_report_parse_uri("mailto:r%2Bdmarc@example.com", &d, why, sizeof why), DMARC_URI_OK);
    assert_string_equal(d.address, "r+dmarc@example.com");
    assert_int_equal(dmarc_report_parse_uri("https://example.com/r", &d, why, sizeof why), DMARC_URI_UNSUPPORTED);
    const char *bad[] = {
        "mailto:r@example.com!x", "mailto:r@example.com!", "mailto:r@example.com!10q",
        "mailto:", "mailto:r", "mailto:r@", "mailto:@example.com",
        "mailto:r@example.com%0d%0aBcc:v@example.net", "mailto:r@example.com%2Cv@example.net",
        "mailto:a%40b@example.com", "mailto:%zz@example.com", "mailto:r@example.com%",
        "mailto:\"q\"@example.com", "mailto:r@exa_mple.com", "mailto:r@example.com%00x",
        "mailto:r..s@example.com", "nocolon",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dmarc_report_parse_uri(bad[i], &d, why, sizeof why) != DMARC_URI_BAD)
            fail_msg("accepted %s", bad[i]);
}

/* ---- a fake DNS for the authorisation check ---- */

struct fake_rr {
    const char *name;
    const char *txt;          /* "SERVFAIL": the server fails for this name */
};

struct fake_dns {
    const struct fake_rr *rrs;
    size_t count;
    char log[2048];
};

static void fake_lookup(void *arg, const char *name, int type, uint64_t timeout_ms,
    struct dns_answer *out)
{
    (void)timeout_ms;
    struct fake_dns *f = arg;
    size_t used = strlen(f->log);
    snprintf(f->log + used, sizeof f->log - used, "%s/%d ", name, type);
    memset(out, 0, sizeof *out);
    out->data = xcalloc(f->count + 1, sizeof *out->data);
    bool exists = false;
    for (size_t i = 0; i < f->count; i++) {
        if (strcasecmp(f->rrs[i].name, name) != 0)
            continue;
        exists = true;
        if (strcmp(f->rrs[i].txt, "SERVFAIL") == 0) {
            dns_answer_free(out);
            memset(out, 0, sizeof *out);
            out->status = DNS_SERVFAIL;
            return;
        }
        if (type == 16)
            out->data[out->count++] = xstrdup(f->rrs[i].txt);
    }
    out->status = exists ? DNS_OK : DNS_NXDOMAIN;
    if (!exists) {
        free(out->data);
        out->data = NULL;
    }
}

static const struct fake_rr zone[] = {
    { "_dmarc.example.com", "v=DMARC1; p=reject; rua=mailto:d@example.com" },
    { "example.com._report._dmarc.consumer.example", "v=DMARC1" },
    { "example.com._report._dmarc.override.example", "v=DMARC1; rua=mailto:other@override.example" },
    { "example.com._report._dmarc.elsewhere.example", "v=DMARC1; rua=mailto:x@victim.example" },
    { "example.com._report._dmarc.notdmarc.example", "v=spf1 -all" },
    { "example.com._report._dmarc.broken.example", "SERVFAIL" },
    { "*", "" },
};

static enum dmarc_dest_verdict authorize(struct fake_dns *f, const char *uri,
    struct dmarc_report_dest *d, char *why)
{
    struct dmarc_limits lim;
    dmarc_limits_default(&lim);
    assert_int_equal(dmarc_report_parse_uri(uri, d, why, 128), DMARC_URI_OK);
    f->log[0] = 0;
    return dmarc_report_authorize("example.com", d, &lim, fake_lookup, f, why, 256);
}

static void test_external_destinations_need_their_consent(void **state)
{
    (void)state;
    struct fake_dns f = { zone, sizeof zone / sizeof zone[0] - 1, "" };
    struct dmarc_report_dest d;
    char why[256];
    /* inside the Organizational Domain: no _report query */
    assert_int_equal(authorize(&f, "mailto:d@example.com", &d, why), DMARC_DEST_ALLOWED);
    assert_null(strstr(f.log, "_report"));
    assert_int_equal(authorize(&f, "mailto:d@reports.example.com", &d, why), DMARC_DEST_ALLOWED);
    assert_null(strstr(f.log, "_report"));
    /* outside: the consumer's TXT decides */
    assert_int_equal(authorize(&f, "mailto:r@consumer.example", &d, why), DMARC_DEST_ALLOWED);
    assert_non_null(strstr(f.log, "example.com._report._dmarc.consumer.example/16"));
    assert_string_equal(d.address, "r@consumer.example");
    assert_int_equal(authorize(&f, "mailto:r@stranger.example", &d, why), DMARC_DEST_DENIED);
    assert_non_null(strstr(why, "does not authorise"));
    assert_int_equal(authorize(&f, "mailto:r@notdmarc.example", &d, why), DMARC_DEST_DENIED);
    /* the consumer's override: same host only */
    assert_int_equal(authorize(&f, "mailto:r@override.example", &d, why), DMARC_DEST_ALLOWED);
    assert_string_equal(d.address, "other@override.example");
    assert_int_equal(authorize(&f, "mailto:r@elsewhere.example", &d, why), DMARC_DEST_DENIED);
    assert_non_null(strstr(why, "another host"));
    /* a DNS failure is no authorisation: retried */
    assert_int_equal(authorize(&f, "mailto:r@broken.example", &d, why), DMARC_DEST_TEMPFAIL);
    /* a name longer than DNS allows */
    char uri[300];
    snprintf(uri, sizeof uri, "mailto:r@%s.%s.%s.%s.example",
        "a123456789012345678901234567890123456789012345678901234567890",
        "b123456789012345678901234567890123456789012345678901234567890",
        "c123456789012345678901234567890123456789012345678901234567890",
        "d12345678901234567890123456789012345678901234");
    assert_int_equal(authorize(&f, uri, &d, why), DMARC_DEST_DENIED);
    if (strstr(why, "longer") == NULL)
        fail_msg("%s", why);
}

static void noop_report(void *ctx, const char *file, int line, const char *reason)
{
    (void)ctx;
    (void)file;
    (void)line;
    fail_msg("pattern error: %s", reason);
}

static void test_suppression_list_and_own_domains(void **state)
{
    (void)state;
    struct pattern_list suppress, own;
    pattern_list_init(&suppress, PATTERN_DOMAINS);
    pattern_list_init(&own, PATTERN_DOMAINS);
    assert_true(pattern_list_add(&suppress, ".noisy.example", "t", 1, noop_report, NULL));
    assert_true(pattern_list_add(&own, "ours.example", "t", 2, noop_report, NULL));
    struct dmarc_report_filter f = { &suppress, &own, false, { "receiver.example", NULL, NULL } };
    char why[128];
    assert_false(dmarc_report_suppressed(&f, "example.com", "example.com", why, sizeof why));
    assert_true(dmarc_report_suppressed(&f, "a.noisy.example", "example.com", why, sizeof why));
    assert_non_null(strstr(why, "suppression"));
    assert_true(dmarc_report_suppressed(&f, "example.com", "b.noisy.example", why, sizeof why));
    assert_true(dmarc_report_suppressed(&f, "ours.example", NULL, why, sizeof why));
    assert_non_null(strstr(why, "report_own_domains"));
    assert_true(dmarc_report_suppressed(&f, "example.com", "ours.example", why, sizeof why));
    /* the implicit own names (the reports' sender and contact domains) and their subdomains */
    assert_true(dmarc_report_suppressed(&f, "receiver.example", NULL, why, sizeof why));
    assert_true(dmarc_report_suppressed(&f, "example.com", "mx.receiver.example", why, sizeof why));
    assert_false(dmarc_report_suppressed(&f, "xreceiver.example", NULL, why, sizeof why));
    f.report_own_domains = true;
    assert_false(dmarc_report_suppressed(&f, "ours.example", "ours.example", why, sizeof why));
    assert_false(dmarc_report_suppressed(&f, "receiver.example", NULL, why, sizeof why));
    assert_true(dmarc_report_suppressed(&f, "x.noisy.example", NULL, why, sizeof why));
    pattern_list_free(&suppress);
    pattern_list_free(&own);
}

static void test_clean_copy_keeps_utf8_and_replaces_the_rest(void **state)
{
    (void)state;
    char out[16];
    assert_true(dmarc_report_clean_copy(out, sizeof out, "b\xc3\xbc" "cher.de"));
    assert_string_equal(out, "b\xc3\xbc" "cher.de");
    assert_false(dmarc_report_clean_copy(out, sizeof out, "a\nb\x7f\xc3(\xed\xa0\x80"));
    assert_string_equal(out, "a?b?" "?(???");
    /* cut at a character boundary */
    assert_false(dmarc_report_clean_copy(out, 5, "abc\xc3\xbc"));
    assert_string_equal(out, "abc");
}

static struct store *memory_store(void)
{
    return store_wrap(&store_memory_ops, store_memory_new(100000), "memory", STORE_FAIL_TEMPFAIL);
}

static void test_period_is_aligned_on_utc_days(void **state)
{
    (void)state;
    int64_t b, e;
    dmarc_report_period(1764806399, 86400, &b, &e);
    assert_int_equal(b, 1764720000);
    assert_int_equal(e, 1764806399);
    dmarc_report_period(1764806400, 86400, &b, &e);
    assert_int_equal(b, 1764806400);
    dmarc_report_period(1764806461, 60, &b, &e);
    assert_int_equal(b, 1764806460);
    assert_int_equal(e, 1764806519);
}

/* Messages add to one count per distinct row; collect sees only finished periods; clear
 * takes what was reported, and a second collect finds nothing to send again. */
static void test_store_counts_collects_and_clears_once(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct dmarc_report_policy pol;
    struct dmarc_report_row a, b;
    policy_example(&pol);
    row_pass(&a);
    row_fail(&b);
    for (int i = 0; i < 3; i++)
        assert_int_equal(dmarc_report_store_add(s, &pol, &a, 1000, 1999, 60000), STORE_OK);
    assert_int_equal(dmarc_report_store_add(s, &pol, &b, 1000, 1999, 60000), STORE_OK);
    assert_int_equal(dmarc_report_store_add(s, &pol, &b, 2000, 2999, 60000), STORE_OK);
    struct dmarc_report_policy other = pol;
    strcpy(other.domain, "other.example");
    assert_int_equal(dmarc_report_store_add(s, &other, &a, 1000, 1999, 60000), STORE_OK);
    strcpy(other.domain, "bad domain\n");
    assert_int_equal(dmarc_report_store_add(s, &other, &a, 1000, 1999, 60000), STORE_INVALID);

    struct dmarc_report_batch *batches;
    size_t n;
    char why[256];
    assert_true(dmarc_report_store_collect(s, 2000, &batches, &n, why, sizeof why));
    assert_int_equal(n, 2);                         /* example.com and other.example, 1000-1999 */
    assert_string_equal(batches[0].domain, "example.com");
    assert_true(batches[0].has_policy);
    assert_int_equal(batches[0].policy.p, DMARC_POLICY_REJECT);
    assert_int_equal(batches[0].count, 2);
    uint64_t total = batches[0].rows[0].count + batches[0].rows[1].count;
    assert_int_equal(total, 4);
    assert_false(dmarc_report_store_was_sent(s, &batches[0], "dmarc@example.com"));
    assert_int_equal(dmarc_report_store_mark_sent(s, &batches[0], "dmarc@example.com", 60000), STORE_OK);
    assert_true(dmarc_report_store_was_sent(s, &batches[0], "dmarc@example.com"));
    assert_true(dmarc_report_store_clear(s, &batches[0], why, sizeof why));
    dmarc_report_batches_free(batches, n);

    assert_true(dmarc_report_store_collect(s, 2000, &batches, &n, why, sizeof why));
    assert_int_equal(n, 1);
    assert_string_equal(batches[0].domain, "other.example");
    dmarc_report_batches_free(batches, n);
    /* the later period, once finished, is still there */
    assert_true(dmarc_report_store_collect(s, 3000, &batches, &n, why, sizeof why));
    assert_int_equal(n, 2);
    assert_int_equal(batches[0].begin, 2000);
    assert_int_equal(batches[0].rows[0].count, 1);
    dmarc_report_batches_free(batches, n);
    store_free(s);
}

/* A message added between collect and clear is not lost: the next run reports it. */
static void test_row_added_after_collect_is_reported_next_time(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct dmarc_report_policy pol;
    struct dmarc_report_row a;
    policy_example(&pol);
    row_pass(&a);
    assert_int_equal(dmarc_report_store_add(s, &pol, &a, 1000, 1999, 60000), STORE_OK);
    struct dmarc_report_batch *batches;
    size_t n;
    char why[256];
    assert_true(dmarc_report_store_collect(s, 2000, &batches, &n, why, sizeof why));
    assert_int_equal(n, 1);
    assert_int_equal(dmarc_report_store_add(s, &pol, &a, 1000, 1999, 60000), STORE_OK);
    assert_true(dmarc_report_store_clear(s, &batches[0], why, sizeof why));
    dmarc_report_batches_free(batches, n);
    assert_true(dmarc_report_store_collect(s, 2000, &batches, &n, why, sizeof why));
    assert_int_equal(n, 1);
    assert_int_equal(batches[0].rows[0].count, 1);
    assert_true(batches[0].has_policy);
    dmarc_report_batches_free(batches, n);
    store_free(s);
}

/* An empty store (or no finished period) is no batch: a second run has nothing to sort. */
static void test_collect_with_nothing_to_report_returns_no_batch(void **state)
{
    (void)state;
    struct store *s = memory_store();
    struct dmarc_report_batch *batches = NULL;
    size_t n = 1;
    char why[256];
    assert_true(dmarc_report_store_collect(s, 2000, &batches, &n, why, sizeof why));
    assert_int_equal(n, 0);
    dmarc_report_batches_free(batches, n);
    store_free(s);
}

/* ---- the dmarc_reports section ---- */

static struct config *load_text(const char *text, struct config_errors *errs, char *dir)
{
    strcpy(dir, "/tmp/mw-test-dmarc-reports.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/p.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "store: { disk: { backend = \"lmdb\"; path = \"%s/store\"; } }\n%s", dir, text);
    fclose(f);
    memset(errs, 0, sizeof *errs);
    return config_load(path, errs);
}

static void remove_dir(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static bool has_error(const struct config_errors *errs, const char *option, const char *text)
{
    for (size_t i = 0; i < errs->count; i++)
        if (strcmp(errs->items[i].option, option) == 0 && strstr(errs->items[i].reason, text) != NULL)
            return true;
    return false;
}

/* interval and keep take the durations the manual gives ("1h", "2d"), not only the default. */
static void test_section_takes_interval_and_keep(void **state)
{
    (void)state;
    char dir[64];
    struct config_errors errs;
    struct config *cfg = load_text("dmarc_reports: { store = \"disk\"; submitter = \"mx.example.org\";"
        " interval = \"1h\"; keep = \"2d\"; smtp = \"127.0.0.1:25\"; }\n", &errs, dir);
    if (cfg == NULL)
        fail_msg("refused: %s: %s", errs.items[0].option, errs.items[0].reason);
    assert_true(cfg->dmarc_reports->enabled);
    assert_int_equal(cfg->dmarc_reports->interval_ms, 3600000);
    assert_int_equal(cfg->dmarc_reports->keep_ms, 2 * 86400000ull);
    assert_string_equal(cfg->dmarc_reports->email, "postmaster@mx.example.org");
    assert_string_equal(cfg->dmarc_reports->from, "postmaster@mx.example.org");
    config_free(cfg);
    config_errors_free(&errs);
    remove_dir(dir);
}

static void test_section_errors_name_the_fix(void **state)
{
    (void)state;
    char dir[64];
    struct config_errors errs;
    struct config *cfg = load_text("dmarc_reports: { store = \"disk\"; submitter = \"bad name\";"
        " interval = \"7h\"; smtp = \"localhost\"; from = \"a@b@c\"; }\n", &errs, dir);
    assert_null(cfg);
    assert_true(has_error(&errs, "dmarc_reports.interval", "divide a day"));
    assert_true(has_error(&errs, "dmarc_reports.submitter", "not a domain name"));
    assert_true(has_error(&errs, "dmarc_reports.smtp", "HOST:PORT"));
    assert_true(has_error(&errs, "dmarc_reports.from", "plain address"));
    config_errors_free(&errs);
    remove_dir(dir);
    /* the memory store cannot be read by mailwarden-report */
    cfg = load_text("dmarc_reports: { submitter = \"mx.example.org\"; }\n", &errs, dir);
    assert_null(cfg);
    assert_true(has_error(&errs, "dmarc_reports.store", "backend = \"lmdb\""));
    config_errors_free(&errs);
    remove_dir(dir);
}

/* failure reports: off by default, redaction on, headers only, rate 5; bad values refused */
static void test_failure_report_settings_default_off_and_checked(void **state)
{
    (void)state;
    char dir[64];
    struct config_errors errs;
    struct config *cfg = load_text("dmarc_reports: { store = \"disk\"; submitter = "
        "\"mx.example.org\"; }\n", &errs, dir);
    assert_non_null(cfg);
    assert_false(cfg->dmarc_reports->failure_reports);
    assert_true(cfg->dmarc_reports->failure_redact);
    assert_true(cfg->dmarc_reports->failure_headers);
    assert_int_equal(cfg->dmarc_reports->failure_rate, 5);
    config_free(cfg);
    config_errors_free(&errs);
    remove_dir(dir);
    cfg = load_text("dmarc_reports: { store = \"disk\"; submitter = \"mx.example.org\"; "
        "failure_reports = true; failure_rate = 2; failure_redact = false; "
        "failure_include = \"none\"; }\n", &errs, dir);
    assert_non_null(cfg);
    assert_true(cfg->dmarc_reports->failure_reports);
    assert_false(cfg->dmarc_reports->failure_redact);
    assert_false(cfg->dmarc_reports->failure_headers);
    assert_int_equal(cfg->dmarc_reports->failure_rate, 2);
    config_free(cfg);
    config_errors_free(&errs);
    remove_dir(dir);
    cfg = load_text("dmarc_reports: { store = \"disk\"; submitter = \"mx.example.org\"; "
        "failure_include = \"body\"; }\n", &errs, dir);
    assert_null(cfg);
    assert_true(has_error(&errs, "dmarc_reports.failure_include", "\"headers\""));
    config_errors_free(&errs);
    remove_dir(dir);
}

/* failure_include = "message" with its bound; the redaction key made (0600) when absent and
 * refused, with the option named, once others may read it */
static void test_failure_message_and_redact_key_settings(void **state)
{
    (void)state;
    char dir[64], keydir[64], text[600], key[128];
    struct config_errors errs;
    strcpy(keydir, "/tmp/mw-test-redact-key.XXXXXX");
    assert_non_null(mkdtemp(keydir));
    snprintf(key, sizeof key, "%s/redact.key", keydir);
    snprintf(text, sizeof text, "dmarc_reports: { store = \"disk\"; submitter = "
        "\"mx.example.org\"; failure_reports = true; failure_include = \"message\"; "
        "failure_message_max = \"8k\"; failure_redact_key = \"%s\"; }\n", key);
    struct config *cfg = load_text(text, &errs, dir);
    assert_non_null(cfg);
    assert_true(cfg->dmarc_reports->failure_message);
    assert_true(cfg->dmarc_reports->failure_headers);
    assert_int_equal(cfg->dmarc_reports->failure_message_max, 8192);
    assert_non_null(cfg->dmarc_reports->redact_key);
    assert_int_equal(cfg->dmarc_reports->redact_key->len, DMARC_REDACT_KEY_NEW);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    config_free(cfg);
    config_errors_free(&errs);
    remove_dir(dir);
    assert_int_equal(chmod(key, 0644), 0);
    cfg = load_text(text, &errs, dir);
    assert_null(cfg);
    assert_true(has_error(&errs, "dmarc_reports.failure_redact_key", "chmod 600"));
    config_errors_free(&errs);
    remove_dir(dir);
    /* off by default: no message copy, a 64 KiB bound, and no key read without reports */
    cfg = load_text("dmarc_reports: { store = \"disk\"; submitter = \"mx.example.org\"; }\n",
        &errs, dir);
    assert_non_null(cfg);
    assert_false(cfg->dmarc_reports->failure_message);
    assert_int_equal(cfg->dmarc_reports->failure_message_max, 65536);
    assert_null(cfg->dmarc_reports->redact_key);
    config_free(cfg);
    config_errors_free(&errs);
    remove_dir(dir);
    cfg = load_text("dmarc_reports: { store = \"disk\"; submitter = \"mx.example.org\"; "
        "failure_message_max = 100; }\n", &errs, dir);
    assert_null(cfg);
    assert_true(has_error(&errs, "dmarc_reports.failure_message_max", ""));
    config_errors_free(&errs);
    remove_dir(dir);
    remove_dir(keydir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_is_valid_against_the_rfc9990_schema),
        cmocka_unit_test(test_sender_strings_are_escaped_not_markup),
        cmocka_unit_test(test_same_rows_in_another_order_give_the_same_bytes),
        cmocka_unit_test(test_a_report_without_rows_or_policy_is_refused),
        cmocka_unit_test(test_gzip_round_trips_and_is_deterministic),
        cmocka_unit_test(test_rows_and_policies_survive_their_text_form),
        cmocka_unit_test(test_damaged_row_text_is_refused),
        cmocka_unit_test(test_dkim_results_kept_in_rfc9990_preference),
        cmocka_unit_test(test_file_name_subject_and_report_id),
        cmocka_unit_test(test_message_has_the_rfc9990_layout),
        cmocka_unit_test(test_rua_uris_become_plain_mailboxes),
        cmocka_unit_test(test_external_destinations_need_their_consent),
        cmocka_unit_test(test_suppression_list_and_own_domains),
        cmocka_unit_test(test_clean_copy_keeps_utf8_and_replaces_the_rest),
        cmocka_unit_test(test_period_is_aligned_on_utc_days),
        cmocka_unit_test(test_store_counts_collects_and_clears_once),
        cmocka_unit_test(test_row_added_after_collect_is_reported_next_time),
        cmocka_unit_test(test_collect_with_nothing_to_report_returns_no_batch),
        cmocka_unit_test(test_section_takes_interval_and_keep),
        cmocka_unit_test(test_section_errors_name_the_fix),
        cmocka_unit_test(test_failure_report_settings_default_off_and_checked),
        cmocka_unit_test(test_failure_message_and_redact_key_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
