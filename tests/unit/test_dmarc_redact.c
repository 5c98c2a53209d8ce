/* test_dmarc_redact.c - the redaction key file of DMARC failure reports
 * (filter/dmarc/dmarc_redact.c) in a temporary directory: made when absent (32 bytes, mode
 * 0600) and the same key read back; an existing key used as it is; refused, with the file
 * named and the key never in the error, when group or others may read it, when it is a
 * symbolic link, too short, or absent without leave to create it; the token's shape and its
 * dependence on the key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dmarc_redact.h"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/mw-redact-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void key_made_when_absent_with_mode_0600(void **state)
{
    (void)state;
    char path[128], why[512];
    path_of(path, sizeof path, "new.key");
    struct dmarc_redact_key a, b;
    bool created = false;
    assert_true(dmarc_redact_key_load(path, true, (uid_t)-1, (gid_t)-1, &a, &created, why,
        sizeof why));
    assert_true(created);
    assert_int_equal(a.len, DMARC_REDACT_KEY_NEW);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, DMARC_REDACT_KEY_NEW);
    /* read again: the same key, not a new one */
    assert_true(dmarc_redact_key_load(path, true, (uid_t)-1, (gid_t)-1, &b, &created, why,
        sizeof why));
    assert_false(created);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(a.bytes, b.bytes, a.len);
    /* no temporary file is left beside it */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | grep -c new.key) = 1", dir);
    assert_int_equal(system(cmd), 0);
}

static void existing_key_used_as_it_is(void **state)
{
    (void)state;
    char path[128], why[512];
    path_of(path, sizeof path, "given.key");
    write_file(path, "a-key-of-twenty-four-b\n", 0600);
    struct dmarc_redact_key k;
    bool created = true;
    assert_true(dmarc_redact_key_load(path, true, (uid_t)-1, (gid_t)-1, &k, &created, why,
        sizeof why));
    assert_false(created);
    assert_int_equal(k.len, 23);
    assert_memory_equal(k.bytes, "a-key-of-twenty-four-b\n", 23);
}

/* A refusal names the file and never carries the key's bytes */
static void expect_refused(const char *path, bool create, const char *reason)
{
    char why[512];
    struct dmarc_redact_key k;
    bool created;
    assert_false(dmarc_redact_key_load(path, create, (uid_t)-1, (gid_t)-1, &k, &created, why,
        sizeof why));
    if (strstr(why, path) == NULL || strstr(why, reason) == NULL)
        fail_msg("for %s the error is \"%s\" (want the path and \"%s\")", path, why, reason);
    assert_null(strstr(why, "SECRETSECRET"));
    assert_int_equal(k.len, 0);
}

static void unsafe_keys_refused_with_the_file_named(void **state)
{
    (void)state;
    char path[128], link_path[128];
    path_of(path, sizeof path, "open.key");
    write_file(path, "SECRETSECRETSECRETSECRET", 0640);
    expect_refused(path, true, "chmod 600");
    path_of(path, sizeof path, "short.key");
    write_file(path, "SECRETSECRET", 0600);
    expect_refused(path, true, "16 to 1024 bytes");
    path_of(path, sizeof path, "target.key");
    write_file(path, "SECRETSECRETSECRETSECRET", 0600);
    path_of(link_path, sizeof link_path, "link.key");
    assert_int_equal(symlink(path, link_path), 0);
    expect_refused(link_path, true, "symbolic link");
    path_of(path, sizeof path, "absent.key");
    expect_refused(path, false, "cannot read");
    expect_refused("relative.key", true, "absolute path");
    path_of(path, sizeof path, "no-such-dir/x.key");
    expect_refused(path, true, "create its directory");
}

static void token_shape_and_key_dependence(void **state)
{
    (void)state;
    struct dmarc_redact_key a = { "0123456789abcdef", 16 }, b = { "0123456789abcdeg", 16 };
    char ta[DMARC_REDACT_TOKEN_SIZE], ta2[DMARC_REDACT_TOKEN_SIZE], tb[DMARC_REDACT_TOKEN_SIZE];
    dmarc_redact_token(&a, "Alice", 5, "Example.COM", 11, ta);
    dmarc_redact_token(&a, "alice", 5, "example.com", 11, ta2);
    dmarc_redact_token(&b, "alice", 5, "example.com", 11, tb);
    assert_int_equal(strlen(ta), DMARC_REDACT_TOKEN_SIZE - 1);
    assert_memory_equal(ta, DMARC_REDACT_PREFIX, strlen(DMARC_REDACT_PREFIX));
    assert_string_equal(ta, ta2);
    assert_string_not_equal(ta, tb);
    assert_null(strstr(ta, "alice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_made_when_absent_with_mode_0600),
        cmocka_unit_test(existing_key_used_as_it_is),
        cmocka_unit_test(unsafe_keys_refused_with_the_file_named),
        cmocka_unit_test(token_shape_and_key_dependence),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
