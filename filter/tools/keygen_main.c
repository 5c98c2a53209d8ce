/* keygen_main.c - mailwarden-keygen: makes a DKIM private key (RSA, 2048 bits by default, or
 * ed25519) in a new file of mode 0600, and prints the DNS TXT record to publish (as strings
 * of at most 255 bytes) and the dkim.keys and dkim.signing lines to paste into the policy,
 * always with the key's absolute path (the daemon runs with cwd /). Run as root, the key goes
 * into SYSCONFDIR/mailwarden/keys (made 0750 if missing) and is given to the daemon's user
 * (-u, else the policy's milter.user, else "mailwarden" when that account exists), who must
 * read it again on every reload.
 * With --test NAME it looks up the published record of key-table entry NAME of the policy
 * through the configured resolver and says whether it matches the private key.
 * Exit status: 0 done / the record matches, 1 the record does not match or cannot be
 * fetched, 64 usage, 73 the key file cannot be made, 78 policy error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config.h"
#include "config_load.h"
#include "dkim_keys.h"
#include "dkim_keytest.h"
#include "dkim_policy.h"
#include "dns.h"
#include "log.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/mailwarden/mailwarden.conf"
#define DEFAULT_KEYS_DIR SYSCONFDIR "/mailwarden/keys"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: mailwarden-keygen -d DOMAIN -s SELECTOR [-t rsa|ed25519] [-b BITS] [-o FILE]\n"
        "                         [-D DIR] [-u USER] [-n NAME] [-c POLICY]\n"
        "       mailwarden-keygen [-c POLICY] --test NAME\n"
        "Makes a DKIM key (RSA 2048 by default) in FILE (default DIR/DOMAIN.SELECTOR.key, mode\n"
        "0600; DIR is " DEFAULT_KEYS_DIR " as root, else the current directory), owned\n"
        "as root by USER (default: the policy's milter.user), and prints its DNS TXT record and\n"
        "the policy lines; --test checks a published record.\n");
}

static EVP_PKEY *generate(bool ed25519, int bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA, NULL);
    EVP_PKEY *pkey = NULL;
    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1
        && (ed25519 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1))
        EVP_PKEY_keygen(ctx, &pkey);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Writes the key into a new file of mode 0600, given to PW (when not NULL) through the
 * descriptor just created, never by path. */
static bool write_key(const char *path, EVP_PKEY *pkey, const struct passwd *pw)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "mailwarden-keygen: cannot create %s: %s%s\n", path, strerror(errno),
            errno == EEXIST ? " (it is not overwritten: remove it or pick another -o)" : "");
        return false;
    }
    if (pw != NULL && fchown(fd, pw->pw_uid, pw->pw_gid) != 0) {
        fprintf(stderr, "mailwarden-keygen: cannot give %s to %s: %s\n", path, pw->pw_name,
            strerror(errno));
        close(fd);
        unlink(path);
        return false;
    }
    FILE *fp = fdopen(fd, "w");
    bool ok = fp != NULL && PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL) == 1;
    if (fp != NULL)
        ok = fclose(fp) == 0 && ok;
    else
        close(fd);
    if (!ok)
        fprintf(stderr, "mailwarden-keygen: cannot write %s\n", path);
    return ok;
}

/* Prints the record as zone-file strings, each at most 255 bytes. */
static void print_record(const char *selector, const char *domain, const char *record)
{
    printf("%s._domainkey.%s. IN TXT (", selector, domain);
    size_t len = strlen(record);
    for (size_t off = 0; off < len; off += 255) {
        size_t chunk = len - off > 255 ? 255 : len - off;
        printf("\n    \"%.*s\"", (int)chunk, record + off);
    }
    printf(" )\n");
}

/* The account the daemon runs as: -u USER, else the policy's milter.user, else "mailwarden"
 * when that account exists. NULL (with a note on stderr) when none is known. */
static const struct passwd *daemon_user(const char *user, const char *config_file)
{
    if (user != NULL) {
        const struct passwd *pw = getpwnam(user);
        if (pw == NULL)
            fprintf(stderr, "mailwarden-keygen: -u %s: no such user\n", user);
        return pw;
    }
    struct config_errors errs = {0};
    struct config *cfg = access(config_file, R_OK) == 0 ? config_load(config_file, &errs) : NULL;
    config_errors_free(&errs);
    const struct passwd *pw = NULL;
    if (cfg != NULL && cfg->milter.user != NULL)
        pw = getpwnam(cfg->milter.user);
    else
        pw = getpwnam("mailwarden");
    config_free(cfg);
    if (pw == NULL)
        fprintf(stderr, "mailwarden-keygen: note: the key stays owned by root; the daemon's "
            "user (milter.user) must be able to read it: chown it, or give -u USER\n");
    return pw;
}

/* Makes DIR (0750, group of the daemon's user) when it is missing. */
static bool make_keys_dir(const char *dir, const struct passwd *pw)
{
    if (mkdir(dir, 0750) != 0) {
        if (errno == EEXIST)
            return true;
        fprintf(stderr, "mailwarden-keygen: cannot create %s: %s\n", dir, strerror(errno));
        return false;
    }
    if (pw != NULL && chown(dir, 0, pw->pw_gid) != 0) {
        fprintf(stderr, "mailwarden-keygen: cannot give %s to group %u: %s\n", dir,
            (unsigned)pw->pw_gid, strerror(errno));
        return false;
    }
    return true;
}

/* The key file's path: FILE as given, else DIR/DOMAIN.SELECTOR.key. */
static char *key_path(const char *out, const char *dir, const char *domain,
    const char *selector, const struct passwd *pw)
{
    if (out != NULL)
        return xstrdup(out);
    if (dir == NULL)
        dir = geteuid() == 0 ? DEFAULT_KEYS_DIR : ".";
    if (geteuid() == 0 && !make_keys_dir(dir, pw))
        return NULL;
    return xasprintf("%s/%s.%s.key", dir, domain, selector);
}

static int make_key(const char *domain, const char *selector, const char *type, int bits,
    const char *out, const char *dir, const char *name, const char *user,
    const char *config_file)
{
    bool ed25519 = strcmp(type, "ed25519") == 0;
    if (!ed25519 && strcmp(type, "rsa") != 0) {
        fprintf(stderr, "mailwarden-keygen: -t takes rsa or ed25519\n");
        return 64;
    }
    if (!ed25519 && (bits < 1024 || bits > 8192)) {
        fprintf(stderr, "mailwarden-keygen: -b %d: RSA keys are 1024..8192 bits (RFC 8301: "
            "at least 1024; 2048 recommended)\n", bits);
        return 64;
    }
    const struct passwd *pw = geteuid() == 0 ? daemon_user(user, config_file) : NULL;
    if (geteuid() == 0 && user != NULL && pw == NULL)
        return 64;
    char *path = key_path(out, dir, domain, selector, pw);
    if (path == NULL)
        return 73;
    EVP_PKEY *pkey = generate(ed25519, bits);
    if (pkey == NULL || !write_key(path, pkey, pw)) {
        EVP_PKEY_free(pkey);
        free(path);
        return 73;
    }
    EVP_PKEY_free(pkey);
    char absolute[PATH_MAX];
    if (realpath(path, absolute) != NULL) {
        free(path);
        path = xstrdup(absolute);
    }
    char why[512], warn[512];
    struct dkim_key *key = dkim_key_load_file(path, why, sizeof why, warn, sizeof warn);
    if (key == NULL) {
        fprintf(stderr, "mailwarden-keygen: %s\n", why);
        free(path);
        return 73;
    }
    char *record = xasprintf("v=DKIM1; k=%s; p=%s", dkim_key_k_tag(key), key->public_b64);
    const char *key_name = name != NULL ? name : ed25519 ? "ed25519" : "rsa";
    printf("# private key (%s, %u bits): %s (mode 0600, owner %s)\n", dkim_key_k_tag(key),
        key->bits, path, pw != NULL ? pw->pw_name : "you");
    printf("# the daemon's user (milter.user) must be able to read it; check the published\n"
        "# record with: mailwarden-keygen --test %s\n", name != NULL ? name : ed25519 ? "ed25519" : "rsa");
    printf("# DNS TXT record to publish:\n");
    print_record(selector, domain, record);
    printf("# dkim.keys entry:\n");
    printf("    { name = \"%s\"; domain = \"%s\"; selector = \"%s\"; file = \"%s\" }\n",
        key_name, domain, selector, path);
    printf("# dkim.signing entry:\n");
    printf("    { from = \"%s\"; keys = [ \"%s\" ] }\n", domain, key_name);
    free(record);
    dkim_key_free(key);
    free(path);
    return 0;
}

static void print_error_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "%s\n", line);
}

static void print_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "%s\n", line);
}

static int test_key(const char *config_file, const char *name)
{
    struct config_errors errs = {0};
    struct config *cfg = config_load(config_file, &errs);
    if (cfg == NULL) {
        config_errors_print(&errs, print_error_line, stderr);
        config_errors_free(&errs);
        return 78;
    }
    struct config_errors start_errs = {0};
    if (!config_start(cfg, &start_errs) || config_resolver(cfg) == NULL) {
        fprintf(stderr, "mailwarden-keygen: cannot start the resolver: %s\n",
            start_errs.count > 0 ? start_errs.items[0].reason : "no resolver");
        config_errors_free(&start_errs);
        config_free(cfg);
        return 78;
    }
    /* the same test as `mailwarden-ctl test-key` (dkim_keytest.c) */
    enum dkim_keytest_result result = dkim_keytest(cfg, config_resolver(cfg), name, print_line,
        stdout);
    config_free(cfg);
    return result == DKIM_KEYTEST_MATCHES ? 0 : result == DKIM_KEYTEST_NO_SUCH_KEY ? 78 : 1;
}

int main(int argc, char **argv)
{
    const char *domain = NULL, *selector = NULL, *type = "rsa", *out = NULL, *name = NULL;
    const char *dir = NULL, *user = NULL;
    const char *config_file = DEFAULT_CONFIG, *test = NULL;
    int bits = 2048;
    static const struct option longopts[] = {
        {"domain", required_argument, NULL, 'd'},
        {"selector", required_argument, NULL, 's'},
        {"type", required_argument, NULL, 't'},
        {"bits", required_argument, NULL, 'b'},
        {"output", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, 'n'},
        {"directory", required_argument, NULL, 'D'},
        {"user", required_argument, NULL, 'u'},
        {"config", required_argument, NULL, 'c'},
        {"test", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "d:s:t:b:o:n:D:u:c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'd': domain = optarg; break;
        case 's': selector = optarg; break;
        case 't': type = optarg; break;
        case 'b': bits = atoi(optarg); break;
        case 'o': out = optarg; break;
        case 'n': name = optarg; break;
        case 'D': dir = optarg; break;
        case 'u': user = optarg; break;
        case 'c': config_file = optarg; break;
        case 'T': test = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 64;
    }
    log_open("mailwarden-keygen", LOG_MAIL, true, false);
    log_set_level(LOG_WARNING);
    if (test != NULL)
        return test_key(config_file, test);
    if (domain == NULL || selector == NULL) {
        usage(stderr);
        return 64;
    }
    return make_key(domain, selector, type, bits, out, dir, name, user, config_file);
}
