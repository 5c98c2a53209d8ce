/* rules_prefilter_cache.c - the prefilter's compiled Hyperscan databases on disk. Compiling
 * the stock rules takes tens of seconds of CPU; with this cache only the first start after a
 * rule change pays it. One file per database, named by the SHA-256 of everything its compile
 * read (Hyperscan's version, this CPU's platform, the mode, each pattern's id, flags and
 * expression): a changed rule changes the name, so a name never holds anything stale. A file
 * is written whole under a temporary name, then renamed. A file is used only when it and its
 * directory belong to this user or root and nobody else may write them, its own SHA-256
 * holds, and Hyperscan takes it back; otherwise the database is compiled again and the file
 * replaced. Nothing here can change which rules hit: a database from the cache is the one the
 * compile would make. */
#include "mw_build.h"

#ifdef HAVE_HYPERSCAN
#include "rules_prefilter_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util.h"

#define CACHE_MAGIC "MWHSDB1\n"
#define CACHE_MAGIC_LEN 8
#define CACHE_SUFFIX ".hsdb"
#define CACHE_TMP_PREFIX ".tmp-"
#define CACHE_TMP_MAX_AGE 3600          /* a writer that died left it */
#define CACHE_FILE_MAX ((size_t)1 << 30)
#define KEY_DOMAIN "mailwarden prefilter cache 1\n"

/* Belongs to this user or root, and nobody else may write it. */
static bool owned_safely(const struct stat *st, char *why, size_t why_size)
{
    if (st->st_uid != geteuid() && st->st_uid != 0) {
        snprintf(why, why_size, "owned by uid %u, neither this user (uid %u) nor root: "
            "chown it to the daemon's user", (unsigned)st->st_uid, (unsigned)geteuid());
        return false;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, why_size, "others may write it (mode %04o): chmod go-w it",
            (unsigned)(st->st_mode & 07777));
        return false;
    }
    return true;
}

bool prefilter_cache_open(const char *dir, char *why, size_t why_size)
{
    if (dir[0] != '/') {
        snprintf(why, why_size, "not an absolute path");
        return false;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(why, why_size, "cannot be made (%s)", strerror(errno));
        return false;
    }
    struct stat st;
    if (lstat(dir, &st) != 0) {
        snprintf(why, why_size, "cannot be read (%s)", strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, why_size, "not a directory");
        return false;
    }
    return owned_safely(&st, why, why_size);
}

static void digest_add(EVP_MD_CTX *ctx, const void *data, size_t len)
{
    EVP_DigestUpdate(ctx, data, len);
}

void prefilter_cache_key(const char *const *expressions, const unsigned *flags,
    const unsigned *ids, size_t count, unsigned char key[PREFILTER_CACHE_KEY_LEN])
{
    hs_platform_info_t platform;
    memset(&platform, 0, sizeof platform);
    hs_populate_platform(&platform);
    const char *version = hs_version();
    uint32_t mode = HS_MODE_BLOCK;
    uint64_t n = count;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        abort();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    digest_add(ctx, KEY_DOMAIN, strlen(KEY_DOMAIN));
    digest_add(ctx, version, strlen(version) + 1);
    digest_add(ctx, &platform, sizeof platform);
    digest_add(ctx, &mode, sizeof mode);
    digest_add(ctx, &n, sizeof n);
    for (size_t i = 0; i < count; i++) {
        uint32_t id = ids[i], f = flags[i];
        uint64_t len = strlen(expressions[i]);
        digest_add(ctx, &id, sizeof id);
        digest_add(ctx, &f, sizeof f);
        digest_add(ctx, &len, sizeof len);
        digest_add(ctx, expressions[i], len);
    }
    unsigned int out_len = 0;
    EVP_DigestFinal_ex(ctx, key, &out_len);
    EVP_MD_CTX_free(ctx);
}

static char *file_path(const char *dir, const unsigned char key[PREFILTER_CACHE_KEY_LEN])
{
    char hex[2 * PREFILTER_CACHE_KEY_LEN + 1];
    for (size_t i = 0; i < PREFILTER_CACHE_KEY_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    return xasprintf("%s/%s" CACHE_SUFFIX, dir, hex);
}

static bool sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int out_len = 0;
    return EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) == 1 && out_len == 32;
}

/* The whole file, when it is a regular file of a safe owner and a sane size. */
static unsigned char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char why[128];
    unsigned char *data = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && owned_safely(&st, why, sizeof why)
            && st.st_size > 0 && (size_t)st.st_size <= CACHE_FILE_MAX) {
        size_t size = (size_t)st.st_size, got = 0;
        data = xmalloc(size);
        while (got < size) {
            ssize_t n = read(fd, data + got, size - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got == size) {
            *len = size;
            futimens(fd, NULL);          /* used: pruning keeps it */
        } else {
            free(data);
            data = NULL;
        }
    }
    close(fd);
    return data;
}

/* Layout: magic, the SHA-256 of the rest, then the id count (u32), the ids (u32 each), the
 * database's length (u64) and the serialized database. Native byte order: one machine's. */
hs_database_t *prefilter_cache_load(const char *dir, const unsigned char key[PREFILTER_CACHE_KEY_LEN],
    unsigned *ids, size_t *count)
{
    char *path = file_path(dir, key);
    size_t len = 0;
    unsigned char *data = read_file(path, &len);
    free(path);
    if (data == NULL)
        return NULL;
    hs_database_t *db = NULL;
    size_t head = CACHE_MAGIC_LEN + 32;
    unsigned char digest[32];
    uint32_t n = 0;
    uint64_t db_len = 0;
    if (len < head + sizeof n || memcmp(data, CACHE_MAGIC, CACHE_MAGIC_LEN) != 0
            || !sha256(data + head, len - head, digest)
            || memcmp(digest, data + CACHE_MAGIC_LEN, 32) != 0)
        goto out;
    memcpy(&n, data + head, sizeof n);
    size_t at = head + sizeof n;
    if (n == 0 || n > *count || len - at < (size_t)n * sizeof(uint32_t) + sizeof db_len)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id;
        memcpy(&id, data + at + i * sizeof id, sizeof id);
        ids[i] = id;
    }
    at += (size_t)n * sizeof(uint32_t);
    memcpy(&db_len, data + at, sizeof db_len);
    at += sizeof db_len;
    if (db_len != len - at)
        goto out;
    if (hs_deserialize_database((const char *)data + at, (size_t)db_len, &db) != HS_SUCCESS)
        db = NULL;
    else
        *count = n;
out:
    free(data);
    return db;
}

static bool write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

void prefilter_cache_store(const char *dir, const unsigned char key[PREFILTER_CACHE_KEY_LEN],
    const hs_database_t *db, const unsigned *ids, size_t count)
{
    char *bytes = NULL;
    size_t bytes_len = 0;
    if (count == 0 || count > UINT32_MAX
            || hs_serialize_database(db, &bytes, &bytes_len) != HS_SUCCESS)
        return;
    size_t head = CACHE_MAGIC_LEN + 32;
    size_t len = head + sizeof(uint32_t) + count * sizeof(uint32_t) + sizeof(uint64_t) + bytes_len;
    unsigned char *data = xmalloc(len);
    memcpy(data, CACHE_MAGIC, CACHE_MAGIC_LEN);
    uint32_t n = (uint32_t)count;
    uint64_t db_len = bytes_len;
    size_t at = head;
    memcpy(data + at, &n, sizeof n);
    at += sizeof n;
    for (size_t i = 0; i < count; i++) {
        uint32_t id = ids[i];
        memcpy(data + at, &id, sizeof id);
        at += sizeof id;
    }
    memcpy(data + at, &db_len, sizeof db_len);
    at += sizeof db_len;
    memcpy(data + at, bytes, bytes_len);
    free(bytes);
    char *path = file_path(dir, key);
    char *tmp = xasprintf("%s/" CACHE_TMP_PREFIX "XXXXXX", dir);
    int fd = -1;
    if (sha256(data + head, len - head, data + CACHE_MAGIC_LEN))
        fd = mkstemp(tmp);
    if (fd >= 0) {
        bool ok = write_all(fd, data, len);
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0)
            unlink(tmp);
    }
    free(tmp);
    free(path);
    free(data);
}

void prefilter_cache_prune(const char *dir, time_t max_age)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        bool cache_file = len > strlen(CACHE_SUFFIX)
            && strcmp(e->d_name + len - strlen(CACHE_SUFFIX), CACHE_SUFFIX) == 0;
        bool tmp_file = strncmp(e->d_name, CACHE_TMP_PREFIX, strlen(CACHE_TMP_PREFIX)) == 0;
        struct stat st;
        if ((!cache_file && !tmp_file)
                || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
                || !S_ISREG(st.st_mode))
            continue;
        time_t limit = tmp_file ? CACHE_TMP_MAX_AGE : max_age;
        if (now - st.st_mtime > limit)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

#else
typedef int rules_prefilter_cache_unused;    /* ISO C: no empty file */
#endif
