/* test_util.c - the value parsers every policy option shares (filter/util/util.c): sizes take
 * bytes, k/M/G with an optional B, and the binary spellings KiB/MiB/GiB that other mail
 * software writes (all powers of 1024), in any case and with blanks between number and unit;
 * durations take ms/s/m/h/d; anything else, overflow included, is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

static uint64_t size_of(const char *text)
{
    uint64_t value = 0;
    assert_true(parse_size(text, &value));
    return value;
}

static void test_size_units(void **state)
{
    (void)state;
    assert_int_equal(size_of("512"), 512);
    assert_int_equal(size_of("512b"), 512);
    assert_int_equal(size_of("64k"), 64 * 1024);
    assert_int_equal(size_of("64 KB"), 64 * 1024);
    assert_int_equal(size_of("64KiB"), 64 * 1024);
    assert_int_equal(size_of("1 MB"), 1024 * 1024);
    assert_int_equal(size_of("10MiB"), 10 * 1024 * 1024);
    assert_int_equal(size_of("10 mib"), 10 * 1024 * 1024);
    assert_int_equal(size_of("2GiB"), 2ull * 1024 * 1024 * 1024);
    assert_int_equal(size_of("2g"), 2ull * 1024 * 1024 * 1024);
}

static void test_size_refused(void **state)
{
    (void)state;
    uint64_t value;
    const char *bad[] = {"", "MB", "-1", "10 XB", "10 mbi", "1.5M", "10 Mi B",
        "99999999999999999999", "18446744073709551615G"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parse_size(bad[i], &value))
            fail_msg("\"%s\" was accepted as a size", bad[i]);
    }
}

static void test_duration_units(void **state)
{
    (void)state;
    uint64_t ms = 0;
    assert_true(parse_duration_ms("30s", &ms));
    assert_int_equal(ms, 30000);
    assert_true(parse_duration_ms("250ms", &ms));
    assert_int_equal(ms, 250);
    assert_true(parse_duration_ms("2 h", &ms));
    assert_int_equal(ms, 7200000);
    assert_false(parse_duration_ms("2 weeks", &ms));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_units),
        cmocka_unit_test(test_size_refused),
        cmocka_unit_test(test_duration_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
