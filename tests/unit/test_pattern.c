/* test_pattern.c - the pattern language (pattern.c): every form against addresses, domains,
 * SASL users and client addresses; the two subdomain spellings meaning the same (the domain
 * itself excluded); negation where the first match decides; files of patterns (comments,
 * blank lines, a negated file, a file naming a file, a missing file, a bad line named by its
 * own line, overlong lines and NUL bytes); hostile values refused with the fix (empty, overlong values, labels and local
 * parts, non-ASCII domains, stray * and !). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

static char errors[4096];      /* every reported error, "file:line: reason\n" */

static void collect(void *ctx, const char *file, int line, const char *reason)
{
    (void)ctx;
    size_t n = strlen(errors);
    snprintf(errors + n, sizeof errors - n, "%s:%d: %s\n", file, line, reason);
}

/* Compiles the NULL-terminated values into LIST; false when any was refused. */
static bool compile(struct pattern_list *list, enum pattern_subject subject, ...)
{
    errors[0] = '\0';
    pattern_list_init(list, subject);
    va_list ap;
    va_start(ap, subject);
    bool ok = true;
    const char *text;
    while ((text = va_arg(ap, const char *)) != NULL)
        ok &= pattern_list_add(list, text, "policy.conf", 7, collect, NULL);
    va_end(ap);
    return ok;
}

/* The error for one refused value (the list is freed). */
static const char *refused(enum pattern_subject subject, const char *text)
{
    struct pattern_list list;
    assert_false(compile(&list, subject, text, NULL));
    assert_int_equal(list.count, 0);
    pattern_list_free(&list);
    assert_non_null(strstr(errors, "policy.conf:7: "));
    return errors;
}

static bool ip_matches(const struct pattern_list *list, const char *text)
{
    struct ipaddr a;
    assert_true(ipaddr_parse(text, &a));
    return pattern_match_ip(list, &a);
}

static void test_address_forms(void **state)
{
    (void)state;
    struct pattern_list l;
    assert_true(compile(&l, PATTERN_ADDRESSES, "Bob@Example.COM", NULL));
    assert_string_equal(l.items[0].text, "bob@example.com");
    assert_true(pattern_match_address(&l, "bob@example.com"));
    assert_true(pattern_match_address(&l, "BOB@EXAMPLE.com"));   /* no case, local part too */
    assert_false(pattern_match_address(&l, "bob@sub.example.com"));
    assert_false(pattern_match_address(&l, "rob@example.com"));
    assert_false(pattern_match_address(&l, ""));
    assert_false(pattern_match_address(&l, NULL));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_ADDRESSES, "postmaster@", NULL));
    assert_true(pattern_match_address(&l, "Postmaster@example.org"));
    assert_false(pattern_match_address(&l, "postmaster2@example.org"));
    assert_false(pattern_match_address(&l, "postmaster"));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_ADDRESSES, "@example.com", NULL));
    assert_true(pattern_match_address(&l, "anyone@example.com"));
    assert_false(pattern_match_address(&l, "anyone@sub.example.com"));
    assert_false(pattern_match_address(&l, "anyone@notexample.com"));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_ADDRESSES, "example.com", NULL));
    assert_true(pattern_match_address(&l, "anyone@EXAMPLE.com"));
    assert_false(pattern_match_address(&l, "anyone@sub.example.com"));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_ADDRESSES, "<>", NULL));
    assert_true(pattern_match_address(&l, ""));
    assert_false(pattern_match_address(&l, "a@example.com"));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_ADDRESSES, "*", NULL));
    assert_true(pattern_match_address(&l, ""));
    assert_true(pattern_match_address(&l, "a@example.com"));
    pattern_list_free(&l);
}

/* ".example.com" (access rules, spf.allow_*) and "*.example.com" (DKIM, actions.domains)
 * both mean the subdomains and never the domain itself, as each did before. */
static void test_both_subdomain_spellings_mean_the_subdomains_only(void **state)
{
    (void)state;
    const char *spellings[] = {".example.com", "*.example.com", "@.example.com"};
    for (size_t i = 0; i < 3; i++) {
        struct pattern_list l;
        assert_true(compile(&l, PATTERN_ADDRESSES, spellings[i], NULL));
        assert_int_equal(l.items[0].form, PATTERN_SUBDOMAINS);
        assert_true(pattern_match_address(&l, "a@mail.example.com"));
        assert_true(pattern_match_address(&l, "a@a.b.EXAMPLE.com"));
        assert_false(pattern_match_address(&l, "a@example.com"));
        assert_false(pattern_match_address(&l, "a@badexample.com"));
        assert_false(pattern_match_address(&l, "a@example.com.evil"));
        pattern_list_free(&l);

        assert_true(compile(&l, PATTERN_DOMAINS, spellings[i], NULL));
        assert_true(pattern_match_domain(&l, "mail.example.com"));
        assert_false(pattern_match_domain(&l, "example.com"));
        assert_false(pattern_match_domain(&l, "badexample.com"));
        assert_false(pattern_match_domain(&l, ""));
        pattern_list_free(&l);
    }
}

static void test_domain_forms(void **state)
{
    (void)state;
    struct pattern_list l;
    assert_true(compile(&l, PATTERN_DOMAINS, "example.org", "@example.net", "[192.0.2.1]",
        "xn--bcher-kva.example", NULL));
    assert_true(pattern_match_domain(&l, "EXAMPLE.org"));
    assert_true(pattern_match_domain(&l, "example.net"));
    assert_true(pattern_match_domain(&l, "[192.0.2.1]"));
    assert_true(pattern_match_domain(&l, "xn--bcher-kva.example"));
    assert_false(pattern_match_domain(&l, "sub.example.org"));
    assert_false(pattern_match_domain(&l, NULL));
    pattern_list_free(&l);

    /* a domain list refuses addresses and the null sender, saying what to write */
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "bob@example.org"), "this list holds domains"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "<>"), "this list holds domains"));
}

static void test_sasl_user_forms(void **state)
{
    (void)state;
    struct pattern_list l;
    assert_true(compile(&l, PATTERN_SASL_USERS, "Alice", NULL));
    assert_true(pattern_match_sasl_user(&l, "alice"));
    assert_true(pattern_match_sasl_user(&l, "ALICE@realm.example"));
    assert_false(pattern_match_sasl_user(&l, "alice2"));
    assert_false(pattern_match_sasl_user(&l, "bob@alice"));
    assert_false(pattern_match_sasl_user(&l, ""));
    assert_false(pattern_match_sasl_user(&l, NULL));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_SASL_USERS, "alice@realm.example", NULL));
    assert_true(pattern_match_sasl_user(&l, "alice@REALM.example"));
    assert_false(pattern_match_sasl_user(&l, "alice"));
    assert_false(pattern_match_sasl_user(&l, "alice@other.example"));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_SASL_USERS, "@realm.example", NULL));
    assert_true(pattern_match_sasl_user(&l, "carol@realm.example"));
    assert_false(pattern_match_sasl_user(&l, "carol"));
    pattern_list_free(&l);

    assert_non_null(strstr(refused(PATTERN_SASL_USERS, "alice@"), "without @ for every realm"));
    assert_non_null(strstr(refused(PATTERN_SASL_USERS, "@"), "name the realm"));
}

static void test_networks(void **state)
{
    (void)state;
    struct pattern_list l;
    assert_true(compile(&l, PATTERN_NETWORKS, "192.0.2.0/24", "2001:db8::/32", "198.51.100.7",
        NULL));
    assert_true(ip_matches(&l, "192.0.2.200"));
    assert_true(ip_matches(&l, "::ffff:192.0.2.1"));      /* the mapped form is IPv4 */
    assert_true(ip_matches(&l, "2001:db8:1::5"));
    assert_true(ip_matches(&l, "198.51.100.7"));
    assert_false(ip_matches(&l, "198.51.100.8"));
    assert_false(ip_matches(&l, "2001:db9::1"));
    assert_false(pattern_match_ip(&l, NULL));
    pattern_list_free(&l);

    assert_non_null(strstr(refused(PATTERN_NETWORKS, "300.1.1.1"), "not an IP address"));
    assert_non_null(strstr(refused(PATTERN_NETWORKS, "10.1.2.3/8"), "bits set beyond"));
    assert_non_null(strstr(refused(PATTERN_NETWORKS, "example.com"), "not an IP address"));
}

static void test_negation_first_match_decides(void **state)
{
    (void)state;
    struct pattern_list l;
    assert_true(compile(&l, PATTERN_ADDRESSES, "!ceo@example.com", "@example.com", NULL));
    assert_false(pattern_match_address(&l, "ceo@example.com"));
    assert_true(pattern_match_address(&l, "staff@example.com"));
    assert_false(pattern_match_address(&l, "staff@example.org"));
    pattern_list_free(&l);

    /* written the other way round, the broad pattern decides first */
    assert_true(compile(&l, PATTERN_ADDRESSES, "@example.com", "!ceo@example.com", NULL));
    assert_true(pattern_match_address(&l, "ceo@example.com"));
    assert_false(pattern_list_only_negations(&l));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_DOMAINS, "!.test.example", "*", NULL));
    assert_false(pattern_match_domain(&l, "a.test.example"));
    assert_true(pattern_match_domain(&l, "test.example"));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_NETWORKS, "!10.1.0.0/16", "10.0.0.0/8", NULL));
    assert_false(ip_matches(&l, "10.1.2.3"));
    assert_true(ip_matches(&l, "10.2.2.3"));
    pattern_list_free(&l);

    assert_true(compile(&l, PATTERN_SASL_USERS, "!root", "*", NULL));
    assert_false(pattern_match_sasl_user(&l, "root@realm"));
    assert_true(pattern_match_sasl_user(&l, "alice"));
    pattern_list_free(&l);

    /* only negations: nothing can match, which the loader refuses */
    assert_true(compile(&l, PATTERN_ADDRESSES, "!a@example.com", "!b@example.com", NULL));
    assert_true(pattern_list_only_negations(&l));
    assert_false(pattern_match_address(&l, "c@example.com"));
    pattern_list_free(&l);

    assert_non_null(strstr(refused(PATTERN_ADDRESSES, "!"), "write one ! before a pattern"));
    assert_non_null(strstr(refused(PATTERN_ADDRESSES, "!!a@example.com"), "write one !"));
}

static char *write_temp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/mw-test-pattern.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_files_of_patterns(void **state)
{
    (void)state;
    char path[64], spec[80];
    strcpy(path, write_temp("# partners\n\n  @partner.example   # all of them\n"
        "!bad@partner.example\n.sub.example\n"));
    snprintf(spec, sizeof spec, "file:%s", path);

    struct pattern_list l;
    assert_true(compile(&l, PATTERN_ADDRESSES, spec, NULL));
    assert_int_equal(l.count, 3);
    assert_true(pattern_match_address(&l, "x@partner.example"));
    assert_true(pattern_match_address(&l, "bad@partner.example"));   /* the line before wins */
    assert_true(pattern_match_address(&l, "x@a.sub.example"));
    assert_false(pattern_match_address(&l, "x@other.example"));
    pattern_list_free(&l);

    /* "!file:" turns the file around: its first matching line, negated, decides */
    char negated[90];
    snprintf(negated, sizeof negated, "!file:%s", path);
    assert_true(compile(&l, PATTERN_ADDRESSES, negated, "*", NULL));
    assert_false(pattern_match_address(&l, "x@partner.example"));
    assert_true(pattern_match_address(&l, "x@other.example"));
    pattern_list_free(&l);
    unlink(path);

    /* a bad line is named by the file's own path and line; the good ones are kept */
    strcpy(path, write_temp("ok@example.com\n\nnot an address\nfile:/etc/hosts\n"));
    snprintf(spec, sizeof spec, "file:%s", path);
    assert_false(compile(&l, PATTERN_ADDRESSES, spec, NULL));
    assert_int_equal(l.count, 1);
    char expected[200];
    snprintf(expected, sizeof expected, "%s:3: \"not an address\" is not an address: a value "
        "must be one word", path);
    assert_non_null(strstr(errors, expected));
    snprintf(expected, sizeof expected, "%s:4: \"file:/etc/hosts\": a pattern file cannot name "
        "another file", path);
    assert_non_null(strstr(errors, expected));
    pattern_list_free(&l);
    unlink(path);

    /* a missing file is named where the policy names it */
    assert_false(compile(&l, PATTERN_ADDRESSES, "file:/nonexistent/mw-patterns", NULL));
    assert_non_null(strstr(errors, "policy.conf:7: cannot read /nonexistent/mw-patterns"));
    pattern_list_free(&l);

    /* a line too long to be a pattern is refused, and reading goes on after it */
    char *text = malloc(2000);
    memset(text, 'a', 1500);
    strcpy(text + 1500, "@example.com\nok@example.com\n");
    strcpy(path, write_temp(text));
    free(text);
    snprintf(spec, sizeof spec, "file:%s", path);
    assert_false(compile(&l, PATTERN_ADDRESSES, spec, NULL));
    assert_non_null(strstr(errors, ":1: a line longer than 512 characters"));
    assert_int_equal(l.count, 1);
    assert_true(pattern_match_address(&l, "ok@example.com"));
    pattern_list_free(&l);
    unlink(path);

    /* a NUL byte cannot cut a line short into another pattern */
    strcpy(path, "/tmp/mw-test-pattern.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char nul_line[] = "ok@example.com\nbad\0@example.com\n";
    assert_int_equal(write(fd, nul_line, sizeof nul_line - 1), (ssize_t)(sizeof nul_line - 1));
    close(fd);
    snprintf(spec, sizeof spec, "file:%s", path);
    assert_false(compile(&l, PATTERN_ADDRESSES, spec, NULL));
    assert_non_null(strstr(errors, ":2: a NUL byte in the line"));
    assert_int_equal(l.count, 1);
    assert_false(pattern_match_address(&l, "x@bad"));
    pattern_list_free(&l);
    unlink(path);
}

static void test_hostile_values_refused_with_the_fix(void **state)
{
    (void)state;
    char label[80], domain[300], local[100], big[600];
    memset(label, 'a', 64);
    strcpy(label + 64, ".example");
    memset(domain, 0, sizeof domain);
    for (size_t i = 0; i < 254; i += 2)
        memcpy(domain + i, "a.", 2);
    strcpy(domain + 254, "com");
    memset(local, 'l', 65);
    strcpy(local + 65, "@example.com");
    memset(big, 'b', 520);
    big[520] = '\0';

    assert_non_null(strstr(refused(PATTERN_ADDRESSES, ""), "an empty value"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, label), "longer than 63 characters"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, domain), "longer than 253 characters"));
    assert_non_null(strstr(refused(PATTERN_ADDRESSES, local), "local part is longer than 64"));
    assert_non_null(strstr(refused(PATTERN_ADDRESSES, big), "longer than 512 characters"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "b\xc3\xbc" "cher.example"), "A-label"));
    assert_non_null(strstr(refused(PATTERN_ADDRESSES, "two words"), "must be one word"));
    assert_non_null(strstr(refused(PATTERN_ADDRESSES, "tab\there"), "must be one word"));
    assert_non_null(strstr(refused(PATTERN_ADDRESSES, "*@example.com"), "write @example.com"));
    assert_non_null(strstr(refused(PATTERN_ADDRESSES, "a*@example.com"), "not allowed"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "ex*ample.com"), "*.example.com"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "*.ex*.com"), "*.example.com"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "."), "empty"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "*."), "empty"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "a..example"), "empty label"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "example.com."), "without"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "exa$mple.com"), "letters, digits"));
    assert_non_null(strstr(refused(PATTERN_DOMAINS, "[192.0.2.1"), "address literal"));

    /* 63-character labels and a 253-character domain are fine */
    struct pattern_list l;
    label[63] = '\0';
    assert_true(compile(&l, PATTERN_DOMAINS, label, NULL));
    pattern_list_free(&l);
    domain[253] = '\0';
    domain[252] = 'm';
    assert_true(compile(&l, PATTERN_DOMAINS, domain, NULL));
    assert_true(pattern_match_domain(&l, domain));
    pattern_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_forms),
        cmocka_unit_test(test_both_subdomain_spellings_mean_the_subdomains_only),
        cmocka_unit_test(test_domain_forms),
        cmocka_unit_test(test_sasl_user_forms),
        cmocka_unit_test(test_networks),
        cmocka_unit_test(test_negation_first_match_decides),
        cmocka_unit_test(test_files_of_patterns),
        cmocka_unit_test(test_hostile_values_refused_with_the_fix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
