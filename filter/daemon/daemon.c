/* daemon.c - process plumbing. Every failure is logged with the path or name involved. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const char *unix_socket_path(const struct config *cfg)
{
    const char *sock = cfg->milter.socket;
    if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
        return strchr(sock, ':') + 1;
    return NULL;
}

/* "user" or "user:group" -> ids; -1 leaves one unchanged. */
static bool owner_ids(const char *owner, uid_t *uid, gid_t *gid)
{
    char *copy = xstrdup(owner);
    char *colon = strchr(copy, ':');
    if (colon != NULL)
        *colon++ = '\0';
    bool ok = true;
    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (copy[0] != '\0') {
        struct passwd *pw = getpwnam(copy);
        if (pw == NULL) {
            log_err("milter.socket_owner: no such user \"%s\"", copy);
            ok = false;
        } else {
            *uid = pw->pw_uid;
        }
    }
    if (ok && colon != NULL && *colon != '\0') {
        struct group *gr = getgrnam(colon);
        if (gr == NULL) {
            log_err("milter.socket_owner: no such group \"%s\"", colon);
            ok = false;
        } else {
            *gid = gr->gr_gid;
        }
    }
    free(copy);
    return ok;
}

/* The socket was created with its mode (milter_setup sets the umask for it): only the owner is
 * left, set with lchown so that a link planted in its place is never followed. */
bool daemon_socket_permissions(const struct config *cfg)
{
    const char *path = unix_socket_path(cfg);
    if (path == NULL)
        return true;
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        log_err("%s is no longer the socket we created: refusing to run", path);
        return false;
    }
    if ((st.st_mode & 0777) != (cfg->milter.socket_mode & 0777))
        log_warn("%s has mode %04o instead of %04o", path, (unsigned)(st.st_mode & 0777),
            cfg->milter.socket_mode);
    if (cfg->milter.socket_owner == NULL)
        return true;
    uid_t uid;
    gid_t gid;
    if (!owner_ids(cfg->milter.socket_owner, &uid, &gid))
        return false;
    if (lchown(path, uid, gid) != 0) {
        log_err("cannot give %s to %s: %s", path, cfg->milter.socket_owner, strerror(errno));
        return false;
    }
    return true;
}

/* The pid in the pidfile, or 0; read without following a link or blocking. */
static long pidfile_pid(const char *pidfile)
{
    int fd = open(pidfile, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char text[32];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    char *end;
    long pid = strtol(text, &end, 10);
    return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

int daemon_unix_socket_answers(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int answers = -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 || errno == EAGAIN
            || errno == EINPROGRESS)
        answers = 1;
    else if (errno == ECONNREFUSED || errno == ENOENT)
        answers = 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return answers;
}

bool daemon_claim_unix_socket(const struct config *cfg)
{
    const char *path = unix_socket_path(cfg);
    struct stat st;
    if (path == NULL || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return true;      /* nothing there, or not a socket: binding will say so */
    int answers = daemon_unix_socket_answers(path);
    if (answers < 0) {
        log_err("milter.socket %s: cannot tell whether a process answers on it (%s); not "
            "starting: remove it if no instance runs", path, strerror(errno));
        return false;
    }
    if (answers > 0) {
        const char *pidfile = cfg->milter.pidfile;
        long pid = pidfile != NULL ? pidfile_pid(pidfile) : 0;
        if (pid > 0)
            log_err("milter.socket %s is in use: process %ld (pidfile %s) answers on it; not "
                "starting: stop that instance first, or give this one another socket", path,
                pid, pidfile);
        else
            log_err("milter.socket %s is in use: another process answers on it (pidfile %s "
                "names none); not starting: stop it first, or give this one another socket",
                path, pidfile != NULL ? pidfile : "not set");
        return false;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        log_err("cannot remove the stale socket %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool daemon_drop_privileges(const struct config *cfg)
{
    if (cfg->milter.user == NULL)
        return true;
    struct passwd *pw = getpwnam(cfg->milter.user);
    if (pw == NULL) {
        log_err("milter.user: no such user \"%s\"", cfg->milter.user);
        return false;
    }
    if (geteuid() != 0) {
        if (geteuid() != pw->pw_uid)
            log_warn("not started as root: staying uid %d instead of milter.user %s",
                (int)geteuid(), cfg->milter.user);
        return true;
    }
    gid_t gid = pw->pw_gid;
    if (cfg->milter.group != NULL) {
        struct group *gr = getgrnam(cfg->milter.group);
        if (gr == NULL) {
            log_err("milter.group: no such group \"%s\"", cfg->milter.group);
            return false;
        }
        gid = gr->gr_gid;
    }
    if (initgroups(pw->pw_name, gid) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
        log_err("cannot become user %s: %s", pw->pw_name, strerror(errno));
        return false;
    }
    if (setuid(0) == 0) {
        log_err("dropped to %s but could become root again: refusing to run", pw->pw_name);
        return false;
    }
    log_info("running as user %s", pw->pw_name);
    return true;
}

/* Opens the pidfile for writing as root in a directory milter.user may own: never through a
 * symbolic link (O_NOFOLLOW), never a FIFO or device (O_NONBLOCK, then fstat), never a file with
 * other hard links, and an existing file only when it is root's or milter.user's. Only a file
 * created here (O_EXCL) is given to milter.user. */
static int open_pidfile(const struct config *cfg, uid_t user_uid, gid_t user_gid)
{
    const char *path = cfg->milter.pidfile;
    const int flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    bool created = true;
    int fd = open(path, flags | O_CREAT | O_EXCL, 0644);
    if (fd < 0 && errno == EEXIST) {
        created = false;
        fd = open(path, flags);
    }
    if (fd < 0) {
        if (errno == ELOOP)
            log_err("milter.pidfile %s is a symbolic link: refusing to write through it "
                "(remove it; the pidfile is always a plain file)", path);
        else
            log_err("cannot write the pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *bad = NULL;
    if (fstat(fd, &st) != 0)
        bad = "cannot be examined";
    else if (!S_ISREG(st.st_mode))
        bad = "is not a regular file";
    else if (st.st_nlink != 1)
        bad = "has other hard links";
    else if (!created && st.st_uid != geteuid() && st.st_uid != user_uid)
        bad = "belongs to another user";
    if (bad != NULL) {
        log_err("milter.pidfile %s %s: refusing to write it (remove it)", path, bad);
        close(fd);
        return -1;
    }
    if (created && geteuid() == 0 && user_uid != (uid_t)-1
            && fchown(fd, user_uid, user_gid) != 0)
        log_warn("cannot give the pidfile to %s: %s", cfg->milter.user, strerror(errno));
    return fd;
}

bool daemon_write_pidfile(const struct config *cfg)
{
    if (cfg->milter.pidfile == NULL)
        return true;
    uid_t user_uid = (uid_t)-1;
    gid_t user_gid = (gid_t)-1;
    struct passwd *pw = cfg->milter.user != NULL ? getpwnam(cfg->milter.user) : NULL;
    if (pw != NULL) {
        user_uid = pw->pw_uid;
        user_gid = pw->pw_gid;
    }
    int fd = open_pidfile(cfg, user_uid, user_gid);
    if (fd < 0)
        return false;
    char text[32];
    int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    bool ok = ftruncate(fd, 0) == 0 && write(fd, text, (size_t)len) == len;
    close(fd);
    if (!ok)
        log_err("cannot write the pidfile %s: %s", cfg->milter.pidfile, strerror(errno));
    return ok;
}

void daemon_remove_pidfile(const struct config *cfg)
{
    if (cfg->milter.pidfile != NULL && unlink(cfg->milter.pidfile) != 0 && errno != ENOENT)
        log_debug("cannot remove the pidfile %s: %s", cfg->milter.pidfile, strerror(errno));
}

bool daemon_detach(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_err("fork: %s", strerror(errno));
        return false;
    }
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return false;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return chdir("/") == 0;
}
