/* policy_file.c - opens the files a policy names. Promises: open() never blocks (O_NONBLOCK,
 * cleared on the descriptor returned), only regular files are returned (after symbolic links),
 * a permission error names the user the daemon reads as, and no reason text echoes the path. */
#include "policy_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    return "not a regular file";
}

static void permission_reason(char *why, size_t why_size)
{
    uid_t uid = geteuid();
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != NULL)
        snprintf(why, why_size, "user %s (uid %ld) may not read it: %s", found->pw_name,
            (long)uid, strerror(EACCES));
    else
        snprintf(why, why_size, "uid %ld may not read it: %s", (long)uid, strerror(EACCES));
}

int policy_file_open(const char *path, char *why, size_t why_size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EACCES)
            permission_reason(why, why_size);
        else
            snprintf(why, why_size, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, why_size, "cannot stat it: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "%s, not a regular file: name a file here",
            file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        snprintf(why, why_size, "fcntl: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

FILE *policy_file_fopen(const char *path, char *why, size_t why_size)
{
    int fd = policy_file_open(path, why, why_size);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "r");
    if (fp == NULL) {
        snprintf(why, why_size, "fdopen: %s", strerror(errno));
        close(fd);
    }
    return fp;
}

bool policy_file_check(const char *path, char *why, size_t why_size)
{
    int fd = policy_file_open(path, why, why_size);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* Key text is PEM armour, line breaks and base64; a path that names nothing yet is shown only
 * when it has a character base64 never has (a dot, a dash, an underscore...). */
bool policy_path_showable(const char *value)
{
    if (strstr(value, "-----") != NULL)
        return false;
    for (const char *p = value; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    }
    struct stat st;
    if (lstat(value, &st) == 0)
        return true;
    static const char base64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    return value[strspn(value, base64)] != '\0';
}
