/* test_bayes_tokens.c - the Bayes tokenizer makes SpamAssassin's tokens: lines of body, URI
 * and header text, and a message's header fields, against the tokens SpamAssassin 4.0.1's
 * Plugin/Bayes.pm made of the same input (derived once with tests/bayes/sa-tokens.pl, kept
 * here so the test runs without Perl); the token key is SHA-1's last 5 bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bayes_tokens.h"
#include "util.h"

struct line_case {
    int region;
    const char *text;
    const char *tokens[64];
};

static const struct line_case line_cases[] = {
    { 1, "Hello World. This is a Test of the e-mail foo@mail.Example.com http://www.example.com/path\077x=1 ... word...word a--b verylongtokenwithmanychars \303\234n\303\257c\303\266d\303\251 \303\213\303\253XXXXXXXXXXXXXXXXXXXXXXX", {
        "hello",
        "test",
        "Test",
        "email",
        "e-mail",
        "U*foo",
        "D*mail.Example.com",
        "D*Example.com",
        "D*com",
        "sk:foomai",
        "sk:foo@mai",
        "UD:www.example.com",
        "UD:example.com",
        "UD:com",
        "wwwexamplecom",
        "www.example.com",
        "path",
        "word",
        "word",
        "sk:verylon",
        "ncd",
        "\303\234n\303\257c\303\266d\303\251",
        "sk:XXXXX",
        "sk:\303\213\303\253xxxxx",
        "sk:xxxxx",
        "sk:\303\213\303\253XXXXX",
        NULL } },
    { 1, "FREE!!! Viagra, CHEAP... Click here.  Now.   Buy NOW!!! $$$ 100% guaranteed", {
        "FREE",
        "free!!!",
        "free",
        "FREE!!!",
        "viagra",
        "Viagra",
        "cheap",
        "CHEAP",
        "click",
        "here",
        "buy",
        "NOW",
        "now!!!",
        "now",
        "NOW!!!",
        "",
        "$$$",
        "100",
        "guaranteed",
        NULL } },
    { 1, "Dear Friend,  I am Mr. John Smith from the Bank of Africa. Transfer US$10,000,000.00 to your account.", {
        "dear",
        "friend",
        "Friend",
        "john",
        "smith",
        "Smith",
        "bank",
        "Bank",
        "africa",
        "Africa",
        "transfer",
        "sk:US100",
        "sk:us$10,0",
        "sk:us100",
        "sk:US$10,0",
        "account",
        NULL } },
    { 1, "\346\227\245\346\234\254\350\252\236\343\201\256\343\203\206\343\202\255\343\202\271\343\203\210\343\201\247\343\201\231\343\200\202\343\201\223\343\202\214\343\201\257\351\225\267\343\201\204\343\203\210\343\203\274\343\202\257\343\203\263\343\201\253\343\201\252\343\202\212\343\201\276\343\201\231", {
        "u8:\346\227\245",
        "u8:\346\234\254",
        "u8:\350\252\236",
        "u8:\343\201\256",
        "u8:\343\203\206",
        "u8:\343\202\255",
        "u8:\343\202\271",
        "u8:\343\203\210",
        "u8:\343\201\247",
        "u8:\343\201\231",
        "u8:\343\200\202",
        "u8:\343\201\223",
        "u8:\343\202\214",
        "u8:\343\201\257",
        "u8:\351\225\267",
        "u8:\343\201\204",
        "u8:\343\203\210",
        "u8:\343\203\274",
        "u8:\343\202\257",
        "u8:\343\203\263",
        "u8:\343\201\253",
        "u8:\343\201\252",
        "u8:\343\202\212",
        "u8:\343\201\276",
        "u8:\343\201\231",
        NULL } },
    { 1, "a.b.c.d@x.y \042quoted\042 'single' ---dash--- ....dots.... x.....y z------w q-------r", {
        "U*a.b.c.d",
        "D*x.y",
        "D*y",
        "abcdxy",
        "a.b.c.d@x.y",
        "quoted",
        "single",
        "dash",
        "dots",
        "qr",
        "q-------r",
        NULL } },
    { 2, "http://Www.Example.COM/Some/Path/That-Is-Quite-Long/index.html\077Query=Value&x=yyyyyyyyyyyyyyyyyy", {
        "UD:Www.Example.COM",
        "UD:Example.COM",
        "UD:COM",
        "WwwExampleCOM",
        "www.example.com",
        "wwwexamplecom",
        "Www.Example.COM",
        "some",
        "Some",
        "path",
        "Path",
        "ThatIsQuiteLong",
        "that-is-quite-long",
        "thatisquitelong",
        "That-Is-Quite-Long",
        "UD:index.html",
        "UD:html",
        "indexhtml",
        "index.html",
        "query",
        "Query",
        "value",
        "Value",
        "yyyyyyyyyyyyyyyyyy",
        NULL } },
    { 0, "N*Super N*Deals U*deals D*promo.example.net D*example.net D*net averyveryverylongheaderword", {
        "N*Super",
        "N*Deals",
        "U*deals",
        "D*promo.example.net",
        "D*example.net",
        "D*net",
        "sk:averyve",
        NULL } },
    { 1, "Ab. Cd. E. FgHi. jk. Lm no Pq", {
        "fghi",
        "FgHi",
        NULL } },
};
static const char *const header_tokens[] = {
    "H*Ad:D*com",
    "H*Ad:D*com",
    "H*Ad:D*com",
    "H*Ad:D*example.com",
    "H*Ad:D*example.com",
    "H*Ad:D*example.com",
    "H*Ad:D*example.net",
    "H*Ad:D*net",
    "H*Ad:D*promo.example.net",
    "H*Ad:N*Bob",
    "H*Ad:N*C",
    "H*Ad:N*Carol",
    "H*Ad:N*Deals",
    "H*Ad:N*Jones",
    "H*Ad:N*Super",
    "H*Ad:U*bob",
    "H*Ad:U*carol",
    "H*Ad:U*deals",
    "H*Ad:U*user",
    "H*F:D*example.net",
    "H*F:D*net",
    "H*F:D*promo.example.net",
    "H*F:N*Deals",
    "H*F:N*Super",
    "H*F:U*deals",
    "H*M:example",
    "H*M:org",
    "H*MI:example",
    "H*MI:org",
    "H*MI:sk:abc.def",
    "H*MI:sk:abc.def",
    "H*MI:sk:zzz@hos",
    "H*R:D*example",
    "H*R:D*lottery.example",
    "H*R:U*winner",
    "H*UA:1.5.21",
    "H*UA:2010-09-15",
    "H*UA:6.0",
    "H*UA:Mutt",
    "H*UA:PHPMailer",
    "H*UA:PHPMailer",
    "H*UA:github.com",
    "H*UA:https",
    "H*ct:HHHH",
    "H*ct:HHHH",
    "H*ct:HHHHHH",
    "H*ct:PHrt",
    "H*ct:alternative",
    "H*ct:multipart",
    "H*f:sk:abc.def",
    "H*f:sk:zzz@hos",
    "H*i:sk:abc.def",
    "H*p:D*example.net",
    "H*p:D*mailer.example.net",
    "H*p:D*net",
    "H*p:U*bounce-123",
    "H*r:10.1.2",
    "H*r:192.0.2",
    "H*r:Postfix",
    "H*r:ip*10.1.2.3",
    "H*r:ip*192.0.2.10",
    "H*r:localhost",
    "H*r:mx.example.org",
    "H*r:mx.example.org",
    "H*r:mx.example.org",
    "H*r:sk:mail.ex",
    "H*r:sk:user@ex",
    "H*r:sk:user@ex",
    "H*r:unknown",
    "H*u:1.5.21",
    "H*u:2010-09-15",
    "H*u:Mutt",
    "H*x:6.0",
    "H*x:PHPMailer",
    "H*x:PHPMailer",
    "H*x:github.com",
    "H*x:https",
    "HCc:D*com",
    "HCc:D*example.com",
    "HCc:N*C",
    "HCc:N*Carol",
    "HCc:U*carol",
    "HTo:D*com",
    "HTo:D*com",
    "HTo:D*example.com",
    "HTo:D*example.com",
    "HTo:N*Bob",
    "HTo:N*Jones",
    "HTo:U*bob",
    "HTo:U*user",
    NULL,
};

struct token_list {
    char *items[4096];
    size_t count;
};

static void collect(void *arg, const char *token, size_t len)
{
    struct token_list *l = arg;
    assert_true(l->count < 4096);
    l->items[l->count] = xmalloc(len + 1);
    memcpy(l->items[l->count], token, len);
    l->items[l->count][len] = '\0';
    l->count++;
}

static void list_free(struct token_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    l->count = 0;
}

/* Every line gives SpamAssassin's tokens, in SpamAssassin's order. */
static void test_lines_tokenize_as_spamassassin(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof line_cases / sizeof line_cases[0]; c++) {
        struct token_list got = { .count = 0 };
        const struct line_case *lc = &line_cases[c];
        bayes_tokenize_line(lc->text, strlen(lc->text), "", (enum bayes_region)lc->region,
            collect, &got);
        size_t want = 0;
        while (lc->tokens[want] != NULL)
            want++;
        for (size_t i = 0; i < got.count && i < want; i++) {
            if (strcmp(got.items[i], lc->tokens[i]) != 0)
                fail_msg("case %zu token %zu: got \"%s\", SpamAssassin \"%s\"", c, i,
                    got.items[i], lc->tokens[i]);
        }
        if (got.count != want)
            fail_msg("case %zu: %zu tokens, SpamAssassin %zu", c, got.count, want);
        list_free(&got);
    }
}

/* A message's header fields as SpamAssassin's get_all_headers() gives them (unfolded). */
static size_t read_headers(const char *path, char *buf, size_t size, struct bayes_header *h,
    size_t max)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    size_t count = 0;
    char *p = buf;
    while (*p != '\0' && *p != '\n' && count < max) {
        char *colon = strchr(p, ':');
        assert_non_null(colon);
        *colon = '\0';
        h[count].name = p;
        char *v = colon + 1, *e = v;
        for (;;) {
            char *nl = strchr(e, '\n');
            assert_non_null(nl);
            if (nl[1] == ' ' || nl[1] == '\t') {
                *nl = ' ';
                e = nl + 1;
                continue;
            }
            *nl = '\0';
            p = nl + 1;
            break;
        }
        while (*v == ' ' || *v == '\t')
            v++;
        char *w = v;
        for (char *r = v; *r != '\0'; r++) {       /* "\n[ \t]+" became " " */
            if ((*r == ' ' || *r == '\t') && w > v && w[-1] == ' ')
                continue;
            *w++ = *r;
        }
        *w = '\0';
        h[count++].value = v;
    }
    return count;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The header fields of a message give SpamAssassin's header tokens (ignored fields, the two
 * oldest Received, pre-chewed ids and addresses, grouped and shortened names). */
static void test_headers_tokenize_as_spamassassin(void **state)
{
    (void)state;
    static char buf[65536];
    struct bayes_header h[64];
    size_t count = read_headers(SRCDIR "/tests/bayes/headers-1.eml", buf, sizeof buf, h, 64);
    struct token_list got = { .count = 0 };
    bayes_tokenize_headers(h, count, collect, &got);
    qsort(got.items, got.count, sizeof got.items[0], by_text);
    size_t want = 0;
    while (header_tokens[want] != NULL)
        want++;
    for (size_t i = 0; i < got.count && i < want; i++) {
        if (strcmp(got.items[i], header_tokens[i]) != 0)
            fail_msg("token %zu: got \"%s\", SpamAssassin \"%s\"", i, got.items[i],
                header_tokens[i]);
    }
    assert_int_equal(got.count, want);
    list_free(&got);
}

/* The key is the last 5 bytes of SHA-1, as SpamAssassin stores tokens. */
static void test_token_key_is_sha1_tail(void **state)
{
    (void)state;
    unsigned char key[BAYES_KEY_LEN];
    bayes_token_key("hello", 5, key);
    const unsigned char want[] = { 0xd9, 0xae, 0xa9, 0x43, 0x4d };
    assert_memory_equal(key, want, BAYES_KEY_LEN);
    bayes_token_key("H*F:D*example.com", 17, key);
    const unsigned char want2[] = { 0xd2, 0xe2, 0xf2, 0x23, 0x15 };
    assert_memory_equal(key, want2, BAYES_KEY_LEN);
}

/* A message's set holds each token once: body, URI and header tokens together. */
static void test_message_set_dedups_all_sources(void **state)
{
    (void)state;
    const char *body = "Cheap pills here\ncheap pills again\n";
    const char *uris[] = { "http://pills.example.com/buy" };
    struct bayes_header h[] = { { "From", "Pill Shop <shop@pills.example.com>" },
        { "Subject", "ignored subject words" } };
    struct bayes_message msg = { body, strlen(body), uris, 1, h, 2, NULL };
    struct bayes_tokens set = { 0 };
    bayes_tokenize_message(&msg, &set);
    assert_true(bayes_tokens_contains(&set, "cheap"));
    assert_false(bayes_tokens_contains(&set, "Cheap"));   /* title case: lower-cased */
    assert_true(bayes_tokens_contains(&set, "pills"));
    assert_true(bayes_tokens_contains(&set, "UD:pills.example.com"));
    assert_true(bayes_tokens_contains(&set, "HFrom:U*shop") == false);
    assert_true(bayes_tokens_contains(&set, "H*F:U*shop"));
    assert_true(bayes_tokens_contains(&set, "H*Ad:D*pills.example.com"));
    assert_false(bayes_tokens_contains(&set, "HSubject:ignored"));
    size_t pills = 0;
    for (size_t i = 0; i < set.count; i++)
        pills += strcmp(set.items[i].text, "pills") == 0;
    assert_int_equal(pills, 1);
    bayes_tokens_free(&set);
}

/* The relay metadata as Bayes.pm tokenizes it: " name=" words dropped, trusted as H*RT:,
 * untrusted as H*RU:, internal and external under their own lower-case names. */
static void test_relay_metadata_tokens(void **state)
{
    (void)state;
    struct bayes_relays r = {
        .trusted = "[ ip=192.0.2.1 rdns=relay.example helo=relay.example by=mx.example ident= "
            "envfrom= intl=1 id=ABC123 auth= msa=0 ]",
        .untrusted = "[ ip=198.51.100.7 rdns= helo=mail.sender.test by=relay.example ident= "
            "envfrom= intl=0 id= auth= msa=0 ]",
        .internal = "", .external = NULL,
    };
    struct bayes_tokens set = { 0 };
    struct bayes_message msg = { .relays = &r };
    bayes_tokenize_message(&msg, &set);
    assert_true(bayes_tokens_contains(&set, "H*RT:192.0.2.1"));
    assert_true(bayes_tokens_contains(&set, "H*RT:ABC123"));
    assert_true(bayes_tokens_contains(&set, "H*RU:198.51.100.7"));
    assert_false(bayes_tokens_contains(&set, "H*RT:ip=192.0.2.1"));
    assert_false(bayes_tokens_contains(&set, "H*RU:rdns"));
    assert_false(bayes_tokens_contains(&set, "H*RU:helo"));
    bayes_tokens_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_metadata_tokens),
        cmocka_unit_test(test_lines_tokenize_as_spamassassin),
        cmocka_unit_test(test_headers_tokenize_as_spamassassin),
        cmocka_unit_test(test_token_key_is_sha1_tail),
        cmocka_unit_test(test_message_set_dedups_all_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
