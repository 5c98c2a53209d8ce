/* test_cidr.c - addresses and networks (filter/util/cidr.c): IPv4 and IPv6 parsing and formatting,
 * the bracketed "[...]" and "IPv6:" forms, IPv4-mapped IPv6 addresses matching IPv4 networks,
 * prefixes /0, /32, /128 and odd ones (/23, /61), networks with host bits set rejected with a
 * reason, garbage rejected, lists of networks, and the one reverse-DNS name builder (PTR names
 * and DNS-list names) refusing a buffer too small instead of writing past it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"

/* Parses text, which must be an address, and returns it. */
static struct ipaddr addr(const char *text)
{
    struct ipaddr a;
    assert_true(ipaddr_parse(text, &a));
    return a;
}

/* Parses text, which must be a network, and returns it. */
static struct cidr net(const char *text)
{
    struct cidr n;
    const char *why = NULL;
    if (!cidr_parse(text, &n, &why))
        fail_msg("cidr_parse(\"%s\") failed: %s", text, why);
    return n;
}

/* cidr_parse must refuse text with a reason containing `reason`. */
static void assert_cidr_refused(const char *text, const char *reason)
{
    struct cidr n;
    const char *why = NULL;
    if (cidr_parse(text, &n, &why))
        fail_msg("cidr_parse(\"%s\") accepted", text);
    assert_non_null(why);
    if (strstr(why, reason) == NULL)
        fail_msg("cidr_parse(\"%s\"): reason \"%s\" does not mention \"%s\"", text, why, reason);
}

static void assert_formats_as(const char *text, const char *expected)
{
    struct ipaddr a = addr(text);
    char buf[64];
    ipaddr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, expected);
}

static bool contains(const char *network, const char *address)
{
    struct cidr n = net(network);
    struct ipaddr a = addr(address);
    return cidr_contains(&n, &a);
}

static void test_ipv4_parse_and_format(void **state)
{
    (void)state;
    struct ipaddr a = addr("192.0.2.1");
    assert_int_equal(a.family, AF_INET);
    const uint8_t expected[4] = {192, 0, 2, 1};
    assert_memory_equal(a.bytes, expected, 4);
    assert_formats_as("192.0.2.1", "192.0.2.1");
    assert_formats_as("0.0.0.0", "0.0.0.0");
    assert_formats_as("255.255.255.255", "255.255.255.255");
}

static void test_ipv6_parse_and_format(void **state)
{
    (void)state;
    struct ipaddr a = addr("2001:db8::1");
    assert_int_equal(a.family, AF_INET6);
    const uint8_t expected[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_memory_equal(a.bytes, expected, 16);
    assert_formats_as("2001:db8::1", "2001:db8::1");
    assert_formats_as("2001:DB8:0:0:0:0:0:1", "2001:db8::1");   /* canonical form */
    assert_formats_as("::1", "::1");
    assert_formats_as("::", "::");
}

static void test_ipv4_mapped_is_ipv4(void **state)
{
    (void)state;
    struct ipaddr mapped = addr("::ffff:192.0.2.1");
    struct ipaddr plain = addr("192.0.2.1");
    assert_int_equal(mapped.family, AF_INET);
    assert_memory_equal(mapped.bytes, plain.bytes, 4);
    assert_formats_as("::ffff:192.0.2.1", "192.0.2.1");
    assert_formats_as("::ffff:c000:201", "192.0.2.1");        /* hex form of the same */
    assert_formats_as("[::ffff:192.0.2.1]", "192.0.2.1");
    /* ::192.0.2.1 (deprecated IPv4-compatible) is not mapped: it stays IPv6 */
    assert_int_equal(addr("::192.0.2.1").family, AF_INET6);
}

static void test_bracketed_and_ipv6_tag_forms(void **state)
{
    (void)state;
    struct ipaddr plain = addr("2001:db8::1");
    const char *forms[] = {"[2001:db8::1]", "IPv6:2001:db8::1", "ipv6:2001:db8::1",
        "IPv6:[2001:db8::1]"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct ipaddr a = addr(forms[i]);
        assert_int_equal(a.family, AF_INET6);
        assert_memory_equal(a.bytes, plain.bytes, 16);
    }
    assert_formats_as("[192.0.2.1]", "192.0.2.1");
}

static void test_garbage_addresses_rejected(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "[]", "IPv6:", "hello", "1.2.3", "256.0.0.1", "1.2.3.4.5", "192.0.2.1/24",
        " 192.0.2.1", "192.0.2.1 ", "2001:db8::1::2", "2001:db8::g", "[2001:db8::1",
        "2001:db8::1]", "12345::", ":::",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ipaddr a;
        if (ipaddr_parse(bad[i], &a))
            fail_msg("ipaddr_parse(\"%s\") accepted", bad[i]);
    }
}

static void test_format_small_buffer(void **state)
{
    (void)state;
    struct ipaddr a = addr("2001:db8:1234:5678:9abc:def0:1234:5678");
    char buf[8];
    ipaddr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "unknown");
}

static void test_cidr_prefixes(void **state)
{
    (void)state;
    assert_int_equal(net("192.0.2.0/24").prefix, 24);
    assert_int_equal(net("192.0.2.1").prefix, 32);          /* bare address: host route */
    assert_int_equal(net("192.0.2.1/32").prefix, 32);
    assert_int_equal(net("2001:db8::1").prefix, 128);
    assert_int_equal(net("2001:db8::1/128").prefix, 128);
    assert_int_equal(net("2001:db8::/32").prefix, 32);
    assert_int_equal(net("0.0.0.0/0").prefix, 0);
    assert_int_equal(net("::/0").prefix, 0);
    assert_int_equal(net("[2001:db8::]/32").prefix, 32);
    assert_int_equal(net("10.0.0.0/024").prefix, 24);
}

static void test_cidr_slash_zero(void **state)
{
    (void)state;
    assert_true(contains("0.0.0.0/0", "0.0.0.0"));
    assert_true(contains("0.0.0.0/0", "255.255.255.255"));
    assert_true(contains("0.0.0.0/0", "::ffff:198.51.100.7"));
    assert_false(contains("0.0.0.0/0", "2001:db8::1"));
    assert_true(contains("::/0", "2001:db8::1"));
    assert_true(contains("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(contains("::/0", "192.0.2.1"));
}

static void test_cidr_host_routes(void **state)
{
    (void)state;
    assert_true(contains("192.0.2.1/32", "192.0.2.1"));
    assert_false(contains("192.0.2.1/32", "192.0.2.0"));
    assert_false(contains("192.0.2.1/32", "192.0.2.2"));
    assert_true(contains("2001:db8::1/128", "2001:db8::1"));
    assert_false(contains("2001:db8::1/128", "2001:db8::2"));
    assert_false(contains("2001:db8::1/128", "2001:db8::"));
}

static void test_cidr_odd_prefixes(void **state)
{
    (void)state;
    /* 192.0.2.0/23 is 192.0.2.0 - 192.0.3.255 */
    assert_true(contains("192.0.2.0/23", "192.0.2.0"));
    assert_true(contains("192.0.2.0/23", "192.0.3.255"));
    assert_false(contains("192.0.2.0/23", "192.0.1.255"));
    assert_false(contains("192.0.2.0/23", "192.0.4.0"));
    /* 2001:db8:0:8::/61 is 2001:db8:0:8:: - 2001:db8:0:f:ffff:ffff:ffff:ffff */
    assert_true(contains("2001:db8:0:8::/61", "2001:db8:0:8::"));
    assert_true(contains("2001:db8:0:8::/61", "2001:db8:0:f:ffff:ffff:ffff:ffff"));
    assert_false(contains("2001:db8:0:8::/61", "2001:db8:0:7:ffff:ffff:ffff:ffff"));
    assert_false(contains("2001:db8:0:8::/61", "2001:db8:0:10::"));
    /* a family never matches the other */
    assert_false(contains("192.0.2.0/24", "2001:db8::1"));
    assert_false(contains("2001:db8::/32", "192.0.2.1"));
}

static void test_mapped_address_matches_ipv4_network(void **state)
{
    (void)state;
    assert_true(contains("192.0.2.0/24", "::ffff:192.0.2.77"));
    assert_true(contains("10.0.0.0/8", "[::ffff:10.20.30.40]"));
    assert_false(contains("192.0.2.0/24", "::ffff:192.0.3.1"));
    /* a network written in the mapped form is the IPv4 network */
    struct cidr n = net("::ffff:192.0.2.0/120");
    assert_int_equal(n.addr.family, AF_INET);
    assert_int_equal(n.prefix, 24);
    assert_true(contains("::ffff:192.0.2.0/120", "192.0.2.200"));
    assert_false(contains("::ffff:192.0.2.0/120", "192.0.3.1"));
    assert_int_equal(net("::ffff:192.0.2.1").prefix, 32);
    assert_cidr_refused("::ffff:192.0.2.0/24", "96 to 128");
}

static void test_host_bits_rejected(void **state)
{
    (void)state;
    assert_cidr_refused("10.1.2.3/8", "bits set beyond the prefix");
    assert_cidr_refused("192.0.3.0/23", "bits set beyond the prefix");
    assert_cidr_refused("1.2.3.4/0", "bits set beyond the prefix");
    assert_cidr_refused("2001:db8::1/64", "bits set beyond the prefix");
    assert_cidr_refused("2001:db8:0:c::/61", "bits set beyond the prefix");
    assert_cidr_refused("::1/0", "bits set beyond the prefix");
}

static void test_bad_prefixes_rejected(void **state)
{
    (void)state;
    assert_cidr_refused("192.0.2.0/33", "at most 32");
    assert_cidr_refused("2001:db8::/129", "at most 128");
    assert_cidr_refused("192.0.2.0/", "must be a number");
    assert_cidr_refused("192.0.2.0/abc", "must be a number");
    assert_cidr_refused("192.0.2.0/-1", "must be a number");
    assert_cidr_refused("192.0.2.0/24x", "must be a number");
    assert_cidr_refused("192.0.2.0/+8", "must be a number");
    assert_cidr_refused("192.0.2.0/8/8", "must be a number");
    assert_cidr_refused("192.0.2.0/99999999999999999999", "must be a number");
}

static void test_garbage_networks_rejected(void **state)
{
    (void)state;
    const char *bad[] = {"", "/24", "hello/24", "192.0.2/24", "example.com", "192.0.2.0 /24",
        "[192.0.2.0/24]", "2001:db8::/32 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cidr n;
        const char *why = NULL;
        if (cidr_parse(bad[i], &n, &why))
            fail_msg("cidr_parse(\"%s\") accepted", bad[i]);
        assert_non_null(why);
        assert_true(strlen(why) > 0);
    }
}

static void test_list_contains(void **state)
{
    (void)state;
    struct cidr_list list = {0};
    struct ipaddr a = addr("10.0.0.1");
    assert_false(cidr_list_contains(&list, &a));     /* empty list */

    const char *nets[] = {"10.0.0.0/8", "2001:db8::/32", "192.0.2.1"};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        struct cidr n = net(nets[i]);
        cidr_list_add(&list, &n);
    }
    assert_int_equal(list.count, 3);

    const char *inside[] = {"10.0.0.0", "10.255.255.255", "::ffff:10.1.1.1", "2001:db8::1",
        "2001:db8:ffff:ffff::", "192.0.2.1"};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        a = addr(inside[i]);
        if (!cidr_list_contains(&list, &a))
            fail_msg("%s should be in the list", inside[i]);
    }
    const char *outside[] = {"11.0.0.0", "9.255.255.255", "192.0.2.2", "2001:db9::1", "::1",
        "::ffff:192.0.2.2"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        a = addr(outside[i]);
        if (cidr_list_contains(&list, &a))
            fail_msg("%s should not be in the list", outside[i]);
    }

    cidr_list_free(&list);
    assert_null(list.items);
    assert_int_equal(list.count, 0);
    a = addr("10.0.0.1");
    assert_false(cidr_list_contains(&list, &a));
}

static void test_reverse_names(void **state)
{
    (void)state;
    struct ipaddr a;
    char name[128];
    assert_true(ipaddr_parse("192.0.2.1", &a));
    assert_true(ipaddr_ptr_name(&a, name, sizeof name));
    assert_string_equal(name, "1.2.0.192.in-addr.arpa");
    assert_true(ipaddr_reverse_name(&a, NULL, name, sizeof name));
    assert_string_equal(name, "1.2.0.192");
    assert_true(ipaddr_reverse_name(&a, "zen.example", name, sizeof name));
    assert_string_equal(name, "1.2.0.192.zen.example");

    assert_true(ipaddr_parse("2001:db8::567:89ab", &a));
    assert_true(ipaddr_ptr_name(&a, name, sizeof name));
    assert_string_equal(name,
        "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_true(ipaddr_reverse_name(&a, NULL, name, sizeof name));
    assert_int_equal(strlen(name), 63);
}

/* A buffer too small gets an empty name and false, never a write past its end (ASan). */
static void test_reverse_name_small_buffer(void **state)
{
    (void)state;
    struct ipaddr a;
    assert_true(ipaddr_parse("2001:db8::1", &a));
    for (size_t size = 1; size < 72; size++) {
        char *name = malloc(size);
        assert_false(ipaddr_ptr_name(&a, name, size));
        assert_string_equal(name, "");
        free(name);
    }
    char exact[73];
    assert_true(ipaddr_ptr_name(&a, exact, sizeof exact));
    assert_int_equal(strlen(exact), 72);
    assert_false(ipaddr_ptr_name(&a, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_parse_and_format),
        cmocka_unit_test(test_reverse_names),
        cmocka_unit_test(test_reverse_name_small_buffer),
        cmocka_unit_test(test_ipv6_parse_and_format),
        cmocka_unit_test(test_ipv4_mapped_is_ipv4),
        cmocka_unit_test(test_bracketed_and_ipv6_tag_forms),
        cmocka_unit_test(test_garbage_addresses_rejected),
        cmocka_unit_test(test_format_small_buffer),
        cmocka_unit_test(test_cidr_prefixes),
        cmocka_unit_test(test_cidr_slash_zero),
        cmocka_unit_test(test_cidr_host_routes),
        cmocka_unit_test(test_cidr_odd_prefixes),
        cmocka_unit_test(test_mapped_address_matches_ipv4_network),
        cmocka_unit_test(test_host_bits_rejected),
        cmocka_unit_test(test_bad_prefixes_rejected),
        cmocka_unit_test(test_garbage_networks_rejected),
        cmocka_unit_test(test_list_contains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
