/* test_rules.c - the SpamAssassin-syntax rule loader and evaluator on rules written here and
 * messages built by hand: header rules and their modifiers, body/rawbody/uri/full, meta
 * arithmetic, tflags, scores, if/ifplugin, include, eval: and plugin rules skipped with their
 * reason, a regex PCRE2 cannot compile skipped with PCRE2's reason, hostile input bounded by
 * the match limit. Debian's stock SpamAssassin rules are in test_rules_stock.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "header_cache.h"
#include "message_view.h"
#include "rules.h"
#include "header.h"
#include "util.h"

struct hits {
    char names[64][64];
    double scores[64];
    unsigned counts[64];
    size_t n;
};

static void collect(const struct rules_hit *hit, void *arg)
{
    struct hits *h = arg;
    if (h->n < 64) {
        snprintf(h->names[h->n], sizeof h->names[0], "%s", hit->name);
        h->scores[h->n] = hit->score;
        h->counts[h->n] = hit->count;
        h->n++;
    }
}

static int hit_index(const struct hits *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

static bool hit(const struct hits *h, const char *name)
{
    return hit_index(h, name) >= 0;
}

static struct ruleset *load(const char *text)
{
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "test", text, strlen(text));
    ruleset_finish(rs);
    return rs;
}

/* A message: headers "Name: value" separated by \n; a view with text, rawtext and URIs. */
struct test_message {
    struct header_field headers[16];
    size_t header_count;
    struct message_view view;
    struct message_uri uris[8];
    const char *body;
};

static void add_header(struct test_message *m, const char *name, const char *value)
{
    m->headers[m->header_count].name = (char *)name;
    m->headers[m->header_count].value = (char *)value;
    m->header_count++;
}

static void set_text(struct test_message *m, const char *text, const char *rawtext)
{
    m->view.text = (char *)text;
    m->view.text_len = strlen(text);
    m->view.rawtext = (char *)rawtext;
    m->view.rawtext_len = strlen(rawtext);
    m->body = rawtext;
}

static void add_uri(struct test_message *m, const char *url)
{
    m->uris[m->view.uri_count].url = (char *)url;
    m->view.uri_count++;
    m->view.uris = m->uris;
}

static bool skipped_unknown;

static struct hits run(const struct ruleset *rs, const struct test_message *m,
    struct rules_eval_stats *stats)
{
    struct hits h = {0};
    struct rules_limits limits;
    rules_limits_default(&limits);
    limits.skipped_unknown = skipped_unknown;
    struct rules_message msg = {
        .headers = m->headers, .header_count = m->header_count, .view = &m->view,
        .body = m->body, .body_len = m->body ? strlen(m->body) : 0, .envelope_from = "bounce@list.example",
    };
    ruleset_eval(rs, &msg, &limits, collect, &h, stats);
    return h;
}

static void test_header_rules(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "header SUBJ_MONEY Subject =~ /free money/i\n"
        "header SUBJ_RAW_B64 Subject:raw =~ /=\\?utf-8\\?b\\?/i\n"
        "header NO_MAILER X-Mailer !~ /./\n"
        "header HAS_MAILER exists:X-Mailer\n"
        "header FROM_EVIL From:addr =~ /\\@evil\\.example$/\n"
        "header FROM_NAME_BANK From:name =~ /^Your Bank$/\n"
        "header TO_UNSET X-Foo =~ /^none$/ [if-unset: none]\n"
        "header ALL_RECEIVED ALL =~ /^Received: from relay\\.example/m\n"
        "header TOCC_BOTH ToCc =~ /carol\\@/\n"
        "header ENV_LIST EnvelopeFrom =~ /^bounce\\@list\\.example$/\n"
        "header MSGID_ODD MESSAGEID =~ /\\@localhost>/\n"
        "header SUBJ_CASE subject =~ /Free/\n");
    assert_int_equal(ruleset_skipped(rs), 0);
    assert_int_equal(ruleset_loaded(rs), 12);

    struct test_message m = {0};
    add_header(&m, "Received", "from relay.example by mx.example");
    add_header(&m, "Subject", "=?UTF-8?B?RnJlZSBNb25leSBpbnNpZGU=?=");   /* "Free Money inside" */
    add_header(&m, "From", "\"Your Bank\" <security@evil.example>");
    add_header(&m, "To", "alice@example.org");
    add_header(&m, "Cc", "carol@example.org");
    add_header(&m, "Message-ID", "<123@localhost>");
    set_text(&m, "hello", "hello");
    struct hits h = run(rs, &m, NULL);
    assert_true(hit(&h, "SUBJ_MONEY"));        /* decoded */
    assert_true(hit(&h, "SUBJ_RAW_B64"));      /* raw */
    assert_true(hit(&h, "NO_MAILER"));         /* absent header, !~ */
    assert_false(hit(&h, "HAS_MAILER"));
    assert_true(hit(&h, "FROM_EVIL"));
    assert_true(hit(&h, "FROM_NAME_BANK"));
    assert_true(hit(&h, "TO_UNSET"));
    assert_true(hit(&h, "ALL_RECEIVED"));
    assert_true(hit(&h, "TOCC_BOTH"));
    assert_true(hit(&h, "ENV_LIST"));
    assert_true(hit(&h, "MSGID_ODD"));
    assert_true(hit(&h, "SUBJ_CASE"));         /* header names are case-insensitive */

    /* the same rules must not hit a plain message */
    struct test_message clean = {0};
    add_header(&clean, "Subject", "Minutes of Tuesday's meeting");
    add_header(&clean, "From", "Bob Smith <bob@example.org>");
    add_header(&clean, "X-Mailer", "Thunderbird");
    add_header(&clean, "X-Foo", "set");
    add_header(&clean, "Message-ID", "<abc@mail.example.org>");
    set_text(&clean, "hello", "hello");
    h = run(rs, &clean, NULL);
    assert_false(hit(&h, "SUBJ_MONEY"));
    assert_false(hit(&h, "SUBJ_RAW_B64"));
    assert_false(hit(&h, "NO_MAILER"));
    assert_true(hit(&h, "HAS_MAILER"));
    assert_false(hit(&h, "FROM_EVIL"));
    assert_false(hit(&h, "FROM_NAME_BANK"));
    assert_false(hit(&h, "TO_UNSET"));
    assert_false(hit(&h, "ALL_RECEIVED"));
    assert_false(hit(&h, "TOCC_BOTH"));
    assert_false(hit(&h, "MSGID_ODD"));
    ruleset_free(rs);
}

static void test_body_rawbody_uri_full(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "body PILLS /\\bcheap (?:pills|meds)\\b/i\n"
        "body LINE_START /^Dear friend/\n"
        "rawbody RAW_FONT /<font color=\"?red/i\n"
        "body BODY_FONT /<font/i\n"
        "uri URI_SHORT m{^https?://bit\\.ly/}i\n"
        "uri URI_BARE m!^http://www\\.pills\\.example!\n"
        "full FULL_XMAILER /^X-Mailer: Spammer 1\\.0$/m\n"
        "body MULTI /cash/i\n"
        "tflags MULTI multiple maxhits=3\n"
        "body SEXY m(s(e)xy)x\n"
        "body DOTALL /begin.end/s\n");
    assert_int_equal(ruleset_skipped(rs), 0);
    struct test_message m = {0};
    add_header(&m, "X-Mailer", "Spammer 1.0");
    set_text(&m, "Subject line\nDear friend, buy cheap pills for cash cash cash cash now, so sexy\nbegin\nend",
        "<p>Dear friend, <font color=red>cheap pills</font></p>");
    add_uri(&m, "https://bit.ly/abc");
    add_uri(&m, "www.pills.example/buy");
    struct hits h = run(rs, &m, NULL);
    assert_true(hit(&h, "PILLS"));
    assert_true(hit(&h, "LINE_START"));        /* ^ at a line start inside the text */
    assert_true(hit(&h, "RAW_FONT"));
    assert_false(hit(&h, "BODY_FONT"));        /* body is rendered text, no HTML */
    assert_true(hit(&h, "URI_SHORT"));
    assert_true(hit(&h, "URI_BARE"));          /* a www. URI gets SpamAssassin's http:// form */
    assert_true(hit(&h, "FULL_XMAILER"));
    assert_true(hit(&h, "SEXY"));
    /* SpamAssassin matches body rules line by line: nothing matches across two lines */
    assert_false(hit(&h, "DOTALL"));
    int i = hit_index(&h, "MULTI");
    assert_true(i >= 0);
    assert_int_equal(h.counts[i], 3);          /* maxhits */

    struct test_message clean = {0};
    add_header(&clean, "X-Mailer", "Mutt");
    set_text(&clean, "Hi Bob, the pills from the pharmacy are ready. Dear friends, see you.",
        "<p>Hi Bob</p>");
    add_uri(&clean, "https://www.example.org/");
    h = run(rs, &clean, NULL);
    assert_int_equal(h.n, 0);
    ruleset_free(rs);
}

static void test_meta_and_scores(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "body __A /alpha/\n"
        "body __B /beta/\n"
        "body __C /gamma/\n"
        "body __CASH /cash/\n"
        "tflags __CASH multiple\n"
        "meta TWO_OF_THREE (__A + __B + __C) >= 2\n"
        "score TWO_OF_THREE 2.5 3.0 3.5 4.0\n"
        "meta A_NOT_B __A && !__B\n"
        "meta LOTS_OF_CASH __CASH > 3\n"
        "meta META_OF_META TWO_OF_THREE && LOTS_OF_CASH\n"
        "meta UNDEFINED_REF __A && !__NEVER_DEFINED\n"
        "meta LOOP1 LOOP2\n"
        "meta LOOP2 LOOP1\n"
        "body T_TESTING /alpha/\n"
        "body NICE_ONE /alpha/\n"
        "tflags NICE_ONE nice\n"
        "body ZERO /alpha/\n"
        "score ZERO 0\n"
        "meta READS_ZERO ZERO\n"
        "meta NOT_ZERO !ZERO && __A\n"
        "meta ZERO_META __A\n"
        "score ZERO_META 0\n"
        "meta READS_ZERO_META ZERO_META || __NEVER_DEFINED\n"
        "describe TWO_OF_THREE Two of three words\n");
    assert_int_equal(ruleset_skipped(rs), 2);
    assert_non_null(ruleset_skip_reason(rs, "LOOP1"));
    struct test_message m = {0};
    set_text(&m, "alpha gamma cash cash cash cash", "");
    struct hits h = run(rs, &m, NULL);
    int i = hit_index(&h, "TWO_OF_THREE");
    assert_true(i >= 0);
    assert_true(h.scores[i] == 2.5);           /* score set 0: no network tests, no Bayes */
    assert_true(hit(&h, "A_NOT_B"));
    assert_true(hit(&h, "LOTS_OF_CASH"));
    assert_true(hit(&h, "META_OF_META"));
    assert_true(hit(&h, "UNDEFINED_REF"));     /* an undefined name is 0, as in SpamAssassin */
    i = hit_index(&h, "T_TESTING");
    assert_true(i >= 0 && h.scores[i] == 0.01);
    i = hit_index(&h, "NICE_ONE");
    assert_true(i >= 0 && h.scores[i] == -1.0);
    /* scored 0: not run, as in SpamAssassin; metas read 0; a meta scored 0 is not run */
    assert_false(hit(&h, "ZERO"));
    assert_false(hit(&h, "READS_ZERO"));
    assert_true(hit(&h, "NOT_ZERO"));
    assert_false(hit(&h, "ZERO_META"));
    assert_false(hit(&h, "READS_ZERO_META"));
    assert_true(hit(&h, "__A"));               /* reported to the caller, flagged subrule */

    struct test_message m2 = {0};
    set_text(&m2, "alpha beta cash", "");
    h = run(rs, &m2, NULL);
    assert_true(hit(&h, "TWO_OF_THREE"));
    assert_false(hit(&h, "A_NOT_B"));
    assert_false(hit(&h, "LOTS_OF_CASH"));
    assert_false(hit(&h, "META_OF_META"));
    ruleset_free(rs);
}

static void append(const char *line, void *arg)
{
    char *report = arg;
    size_t used = strlen(report);
    snprintf(report + used, 8192 - used, "%s\n", line);
}

static void test_skipped_with_reasons(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "header EVAL_HDR eval:check_nothing_implements_this()\n"
        "body EVAL_BODY eval:check_nor_this('6')\n"
        "body __WORD /word/\n"
        "meta EVAL_OR __WORD || EVAL_BODY\n"
        "meta EVAL_AND_NOT __WORD && !EVAL_BODY\n"
        "body BAD_RE /(unclosed/\n"
        "body BAD_FLAG /x/e\n"
        "body NOT_RE just text\n"
        "header RELAYS X-Spam-Relays-External =~ /rdns= /\n"
        "header DKIM_PSEUDO X-Spam-DKIM-Result =~ /pass/\n"
        "header HOSTMOD From:host =~ /x/\n"
        "mimeheader MIME_T Content-Type =~ /x/\n"
        "askdns ASK _SENDERDOMAIN_ A /x/\n"
        "meta BAD_META __WORD &&\n"
        "body LEARN_IT /word/\n"
        "tflags LEARN_IT learn\n"
        "ifplugin Mail::SpamAssassin::Plugin::SpamCop\n"
        "  body IN_PLUGIN_BLOCK /word/\n"
        "else\n"
        "  body IN_ELSE /word/\n"
        "endif\n"
        "if can(Mail::SpamAssassin::Conf::feature_mailwarden_lacks)\n"
        "  body IN_CAN /word/\n"
        "endif\n"
        "if (version >= 3.004000)\n"
        "  body IN_VERSION /word/\n"
        "endif\n"
        "ifplugin Mail::SpamAssassin::Plugin::Check\n"
        "  body IN_CHECK /word/\n"
        "endif\n"
        "if !plugin(Mail::SpamAssassin::Plugin::FreeMail)\n"
        "  body NO_FREEMAIL /word/\n"
        "endif\n"
        "lang de describe IN_VERSION Deutsch\n"
        "loadplugin Mail::SpamAssassin::Plugin::Foo\n"
        "required_score 5\n");
    assert_string_equal(ruleset_skip_reason(rs, "EVAL_HDR"), "eval: tests mailwarden does not implement");
    assert_non_null(ruleset_skip_reason(rs, "EVAL_BODY"));
    const char *why = ruleset_skip_reason(rs, "BAD_RE");
    assert_non_null(why);
    assert_string_equal(why, "regex PCRE2 cannot compile");
    assert_non_null(ruleset_skip_reason(rs, "BAD_FLAG"));
    assert_non_null(ruleset_skip_reason(rs, "NOT_RE"));
    assert_true(ruleset_has_rule(rs, "RELAYS"));        /* the relay pseudo-headers are built */
    assert_non_null(ruleset_skip_reason(rs, "DKIM_PSEUDO"));
    assert_non_null(ruleset_skip_reason(rs, "HOSTMOD"));
    assert_true(ruleset_has_rule(rs, "MIME_T"));           /* MIMEHeader: native now */
    assert_true(ruleset_has_rule(rs, "ASK"));     /* AskDNS is ours (issue 11) */
    assert_non_null(ruleset_skip_reason(rs, "BAD_META"));
    /* tflags learn marks Bayes's eval rules; a body rule with it runs, as in SpamAssassin */
    assert_true(ruleset_has_rule(rs, "LEARN_IT"));
    assert_non_null(ruleset_skip_reason(rs, "IN_PLUGIN_BLOCK"));
    assert_non_null(ruleset_skip_reason(rs, "IN_CAN"));
    assert_true(ruleset_has_rule(rs, "IN_ELSE"));
    assert_true(ruleset_has_rule(rs, "IN_VERSION"));
    assert_true(ruleset_has_rule(rs, "IN_CHECK"));
    assert_false(ruleset_has_rule(rs, "NO_FREEMAIL"));      /* FreeMail is ours (issue 11) */
    assert_int_equal(ruleset_skipped_for(rs, "eval:"), 2);
    assert_int_equal(ruleset_skipped_for(rs, "regex PCRE2"), 1);

    struct test_message m = {0};
    set_text(&m, "a word", "");
    skipped_unknown = true;
    struct hits h = run(rs, &m, NULL);
    assert_true(hit(&h, "EVAL_OR"));           /* decided without the skipped rule */
    assert_false(hit(&h, "EVAL_AND_NOT"));     /* would depend on it: unknown, no hit */
    skipped_unknown = false;
    h = run(rs, &m, NULL);                     /* by default a skipped rule counts 0 */
    assert_true(hit(&h, "EVAL_OR"));
    assert_true(hit(&h, "EVAL_AND_NOT"));

    /* the report names the reasons and the PCRE2 message */
    char report[8192] = "";
    ruleset_report(rs, append, report);
    assert_non_null(strstr(report, "regex PCRE2 cannot compile"));
    assert_non_null(strstr(report, "BAD_RE (missing closing parenthesis"));
    assert_non_null(strstr(report, "eval: tests"));
    assert_non_null(strstr(report, "SpamCop"));
    assert_non_null(strstr(report, "loadplugin"));
    ruleset_free(rs);
}

/* Rules of plugins out of scope by design are counted apart from what we lack: network
 * services we do not run (Razor2, Pyzor, DCC) and plugins SpamAssassin does not load either. */
static void test_skip_categories_of_plugins(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "ifplugin Mail::SpamAssassin::Plugin::Razor2\n"
        "  full RAZOR2_CHECK eval:check_razor2()\n"
        "endif\n"
        "if plugin(Mail::SpamAssassin::Plugin::Pyzor)\n"
        "  full PYZOR_CHECK eval:check_pyzor()\n"
        "endif\n"
        "ifplugin Mail::SpamAssassin::Plugin::PDFInfo\n"
        "  body GMD_PDF eval:pdf_is_encrypted()\n"
        "endif\n"
        "ifplugin Mail::SpamAssassin::Plugin::NoSuchThing\n"
        "  body NOT_OURS /x/\n"
        "endif\n"
        "body MISSING eval:check_nothing_implements_this('a', \"b, c\", 3)\n");
    assert_string_equal(ruleset_skip_reason(rs, "RAZOR2_CHECK"),
        "plugins for a network service mailwarden does not run (Razor2, Pyzor, DCC)");
    assert_string_equal(ruleset_skip_reason(rs, "PYZOR_CHECK"),
        "plugins for a network service mailwarden does not run (Razor2, Pyzor, DCC)");
    assert_string_equal(ruleset_skip_reason(rs, "GMD_PDF"),
        "in blocks of plugins SpamAssassin does not load by default either");
    assert_string_equal(ruleset_skip_reason(rs, "NOT_OURS"),
        "in blocks of plugins SpamAssassin does not load by default either");
    assert_string_equal(ruleset_skip_reason(rs, "MISSING"), "eval: tests mailwarden does not implement");
    char report[8192] = "";
    ruleset_report(rs, append, report);
    assert_non_null(strstr(report, "MISSING (check_nothing_implements_this)"));
    assert_non_null(strstr(report, "RAZOR2_CHECK (Razor2)"));
    ruleset_free(rs);
}

static void test_redefinition_and_include(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw-rules-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char main_path[256], inc_path[256];
    snprintf(main_path, sizeof main_path, "%s/main.cf", dir);
    snprintf(inc_path, sizeof inc_path, "%s/inc.cf", dir);
    FILE *f = fopen(inc_path, "w");
    assert_non_null(f);
    fputs("body INCLUDED /included/   # a comment\nbody ESCAPED /a\\#b/\n", f);
    fclose(f);
    f = fopen(main_path, "w");
    assert_non_null(f);
    fputs("body REDEF /first/\nbody REDEF /second/\ninclude inc.cf\n", f);
    fclose(f);
    struct ruleset *rs = ruleset_new();
    char why[128];
    assert_true(ruleset_read_file(rs, main_path, why, sizeof why));
    assert_false(ruleset_read_file(rs, "/nonexistent/rules.cf", why, sizeof why));
    ruleset_finish(rs);
    struct test_message m = {0};
    set_text(&m, "first included a#b", "");
    struct hits h = run(rs, &m, NULL);
    assert_false(hit(&h, "REDEF"));            /* the later definition replaced it */
    assert_true(hit(&h, "INCLUDED"));
    assert_true(hit(&h, "ESCAPED"));
    set_text(&m, "second", "");
    h = run(rs, &m, NULL);
    assert_true(hit(&h, "REDEF"));
    ruleset_free(rs);
    unlink(inc_path);
    unlink(main_path);
    rmdir(dir);
}

static void test_replace_tags(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "ifplugin Mail::SpamAssassin::Plugin::ReplaceTags\n"
        "  replace_tag   C   (?:c|\\(|<)\n"
        "  replace_tag   A   (?:a|4|@)\n"
        "  replace_tag   SH  (?:<C>h)\n"
        "  replace_inter W1  \\W?\n"
        "  replace_post  P2  {1,2}\n"
        "  replace_rules FUZZY_CASH FUZZY_CASH_BODY\n"
        "endif\n"
        "if !plugin(Mail::SpamAssassin::Plugin::ReplaceTags)\n"
        "  meta FUZZY_CASH 0\n"
        "endif\n"
        "header FUZZY_CASH Subject =~ /<inter W1><post P2>\\b<C><A>s<SH>\\b/i\n"
        "body   FUZZY_CASH_BODY /<C><A>sh/\n"
        "body   NOT_LISTED /<C><A>sh/\n");
    assert_true(ruleset_has_rule(rs, "FUZZY_CASH"));
    struct test_message m = {0};
    add_header(&m, "Subject", "get c.44sch now");      /* tags, inter \\W?, post {1,2} */
    set_text(&m, "(@sh", "");
    struct hits h = run(rs, &m, NULL);
    assert_true(hit(&h, "FUZZY_CASH"));
    assert_true(hit(&h, "FUZZY_CASH_BODY"));
    assert_false(hit(&h, "NOT_LISTED"));       /* not in replace_rules: tags stay literal */
    struct test_message clean = {0};
    add_header(&clean, "Subject", "get coins now");
    set_text(&clean, "cosh", "");
    h = run(rs, &clean, NULL);
    assert_false(hit(&h, "FUZZY_CASH"));
    assert_false(hit(&h, "FUZZY_CASH_BODY"));
    ruleset_free(rs);
}

static void test_hostile_regex_bounded(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "body EVIL /(a+)+$/\n"
        "body EVIL2 /(x+x+)+y/\n"
        "body FINE /needle/\n");
    size_t len = 200000;
    char *text = xmalloc(len + 8);
    memset(text, 'a', len);
    memcpy(text + len / 2, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 30);
    strcpy(text + len, "!needle");
    struct test_message m = {0};
    set_text(&m, text, "");
    struct rules_eval_stats stats;
    uint64_t start = now_ms();
    struct hits h = run(rs, &m, &stats);
    uint64_t took = now_ms() - start;
    assert_true(hit(&h, "FINE"));
    assert_false(hit(&h, "EVIL"));
    assert_true(stats.limit_hits >= 1);        /* stopped by the match limit, not run out */
    assert_true(took < 10000);
    free(text);
    ruleset_free(rs);
}

static void test_hostile_files(void **state)
{
    (void)state;
    /* garbage, unbalanced blocks, NUL bytes, huge names: skipped, never fatal */
    static const char text[] =
        "endif\nelse\nbody\nbody X\nscore\nscore A notanumber\n"
        "meta M ((((((\nheader H Subject =~\nheader H2 =~ /x/\nuri U m{unclosed\n"
        "body 9BAD /x/\ntflags\ndescribe\nbody OK /ok/\nif (version >= 3)\nbody OPEN /x/\n"
        "endif\nif (\nifplugin\nbody INSIDE_BAD_IF /x/\n";
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "garbage", text, sizeof text - 1);
    char with_nul[] = "body N1 /a\0b/\nbody N2 /c/\n";
    ruleset_read_text(rs, "nul", with_nul, sizeof with_nul - 1);
    ruleset_finish(rs);
    assert_true(ruleset_has_rule(rs, "OK"));
    assert_true(ruleset_has_rule(rs, "OPEN"));
    assert_true(ruleset_has_rule(rs, "N2"));
    assert_false(ruleset_has_rule(rs, "N1"));
    assert_false(ruleset_has_rule(rs, "H"));
    assert_false(ruleset_has_rule(rs, "M"));
    assert_false(ruleset_has_rule(rs, "INSIDE_BAD_IF"));   /* an if that cannot be read is false */
    ruleset_free(rs);

    /* tags that expand each other eightfold at every level: bounded, then too large */
    rs = load(
        "replace_tag A <B><B><B><B><B><B><B><B>\n"
        "replace_tag B <C><C><C><C><C><C><C><C>\n"
        "replace_tag C <D><D><D><D><D><D><D><D>\n"
        "replace_tag D <E><E><E><E><E><E><E><E>\n"
        "replace_tag E <F><F><F><F><F><F><F><F>\n"
        "replace_tag F (?:abcdefgh)\n"
        "replace_rules BOMB\n"
        "body BOMB /<A><A><A><A>/\n");
    assert_false(ruleset_has_rule(rs, "BOMB"));
    assert_string_equal(ruleset_skip_reason(rs, "BOMB"), "ReplaceTags expansions over 256 KB");
    ruleset_free(rs);
}

/* Sixteen Subject fields of encoded words in a charset nobody knows, read by twenty rules and
 * the ALL pseudo-header, twice: each field is decoded once per message (the view's header
 * cache), not once per rule. */
static void test_each_header_field_decoded_once_per_message(void **state)
{
    (void)state;
    struct textbuf rules;
    textbuf_init(&rules);
    for (int i = 0; i < 20; i++)
        textbuf_printf(&rules, "header SUBJ_%d Subject =~ /word%d/\n", i, i);
    textbuf_puts(&rules, "header SUBJ_RAW Subject:raw =~ /x-nobody-knows/\n"
        "header ALL_SUBJ ALL =~ /^Subject: word1 /m\n"
        "header FROM_ADDR1 From:addr =~ /\\@evil\\.example$/\n"
        "header FROM_ADDR2 From:addr =~ /^security\\@/\n");
    struct ruleset *rs = load(rules.data);
    textbuf_free(&rules);
    assert_int_equal(ruleset_skipped(rs), 0);

    struct header_field headers[17];
    char *values[16];
    headers[0] = (struct header_field){ .name = (char *)"From", .value = (char *)"<security@evil.example>" };
    for (int i = 0; i < 16; i++) {
        struct textbuf v;
        textbuf_init(&v);
        textbuf_printf(&v, "=?x-nobody-knows?Q?word%d_", i);
        for (int j = 0; j < 200; j++)
            textbuf_puts(&v, "ab=C3=A9cd_");
        textbuf_puts(&v, "?=");
        values[i] = v.data;
        headers[1 + i] = (struct header_field){ .name = (char *)"Subject", .value = values[i] };
    }
    struct message_view view = { .text = (char *)"", .rawtext = (char *)"" };
    view.header_cache = header_cache_new(headers, 17);
    struct rules_message msg = { .headers = headers, .header_count = 17, .view = &view };
    struct rules_limits limits;
    rules_limits_default(&limits);
    for (int pass = 0; pass < 2; pass++) {
        struct hits h = {0};
        ruleset_eval(rs, &msg, &limits, collect, &h, NULL);
        for (int i = 0; i < 16; i++) {
            char name[16];
            snprintf(name, sizeof name, "SUBJ_%d", i);
            assert_true(hit(&h, name));       /* every instance, decoded */
        }
        assert_false(hit(&h, "SUBJ_16"));
        assert_true(hit(&h, "SUBJ_RAW"));
        assert_true(hit(&h, "ALL_SUBJ"));
        assert_true(hit(&h, "FROM_ADDR1"));
        assert_true(hit(&h, "FROM_ADDR2"));
        /* 21 rules and ALL read the 16 Subject fields: one decoding each, and one of From */
        assert_int_equal(header_cache_decodings(view.header_cache), 17);
    }
    header_cache_free(view.header_cache);
    for (int i = 0; i < 16; i++)
        free(values[i]);
    ruleset_free(rs);
}

/* A 300 KB Subject under a 4 KB cap: what is decoded is the first 4 KB, never the whole
 * field; the decoded start is matched, text past the cap is not. */
/* A header rule's :addr and :name read SpamAssassin's get() list joined by newlines: every
 * address (display name) of every instance, not the first one only. */
static void test_addr_and_name_list_every_address_of_every_instance(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "header FROM_ADDR_WS From:addr =~ /\\s/\n"
        "header TO_SECOND To:addr =~ /^bob\\@example\\.net$/m\n"
        "header TO_FIRST_ONLY To:addr =~ /^alice\\@example\\.org$/\n"
        "header TO_NAME_BOB To:name =~ /^Bob$/m\n");
    struct test_message m = {0};
    add_header(&m, "From", "<any@attack.example>");
    add_header(&m, "From", "<admin@legitimate.example>");
    add_header(&m, "To", "Alice <alice@example.org>, Bob <bob@example.net>");
    set_text(&m, "hello", "hello");
    struct hits h = run(rs, &m, NULL);
    assert_true(hit(&h, "FROM_ADDR_WS"));      /* "any@...\nadmin@..." */
    assert_true(hit(&h, "TO_SECOND"));
    assert_false(hit(&h, "TO_FIRST_ONLY"));    /* $ is not before the second line */
    assert_true(hit(&h, "TO_NAME_BOB"));
    struct test_message one = {0};
    add_header(&one, "From", "Alice <alice@example.org>");
    add_header(&one, "To", "alice@example.org");
    set_text(&one, "hello", "hello");
    h = run(rs, &one, NULL);
    assert_false(hit(&h, "FROM_ADDR_WS"));
    assert_true(hit(&h, "TO_FIRST_ONLY"));
    ruleset_free(rs);
}

static void test_header_cut_at_cap_before_decoding(void **state)
{
    (void)state;
    struct ruleset *rs = load(
        "header SUBJ_START Subject =~ /^Start \\xc3\\xa9t\\xc3\\xa9filler text/\n"
        "header SUBJ_FAR Subject =~ /far away/\n"
        "header SUBJ_ENCODED Subject =~ /=\\?utf-8\\?/i\n");
    struct textbuf v;
    textbuf_init(&v);
    textbuf_puts(&v, "=?utf-8?Q?Start_=C3=A9t=C3=A9?= ");
    while (v.len < 300 * 1024)
        textbuf_puts(&v, "=?utf-8?Q?filler_text?= ");
    textbuf_puts(&v, "far away");
    struct header_field headers[] = { { .name = (char *)"Subject", .value = v.data } };
    struct message_view view = { .text = (char *)"", .rawtext = (char *)"" };
    view.header_cache = header_cache_new(headers, 1);
    struct rules_message msg = { .headers = headers, .header_count = 1, .view = &view };
    struct rules_limits limits;
    rules_limits_default(&limits);
    limits.header_bytes = 4096;
    struct hits h = {0};
    ruleset_eval(rs, &msg, &limits, collect, &h, NULL);
    assert_true(hit(&h, "SUBJ_START"));
    assert_false(hit(&h, "SUBJ_FAR"));
    assert_false(hit(&h, "SUBJ_ENCODED"));      /* the words before the cap were decoded */
    assert_int_equal(header_cache_decodings(view.header_cache), 1);
    assert_true(header_cache_decoded_bytes(view.header_cache) <= 4096);
    header_cache_free(view.header_cache);
    textbuf_free(&v);
    ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_body_rawbody_uri_full),
        cmocka_unit_test(test_meta_and_scores),
        cmocka_unit_test(test_skipped_with_reasons),
        cmocka_unit_test(test_skip_categories_of_plugins),
        cmocka_unit_test(test_redefinition_and_include),
        cmocka_unit_test(test_replace_tags),
        cmocka_unit_test(test_hostile_regex_bounded),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_each_header_field_decoded_once_per_message),
        cmocka_unit_test(test_header_cut_at_cap_before_decoding),
        cmocka_unit_test(test_addr_and_name_list_every_address_of_every_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
