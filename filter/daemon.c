/* daemon.c - process plumbing. Every failure is logged with the path or name involved. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

bool daemon_socket_permissions(const struct config *cfg)
{
    const char *path = unix_socket_path(cfg);
    if (path == NULL)
        return true;
    if (chmod(path, cfg->milter.socket_mode) != 0) {
        log_err("cannot set mode %04o on %s: %s", cfg->milter.socket_mode, path, strerror(errno));
        return false;
    }
    if (cfg->milter.socket_owner == NULL)
        return true;
    uid_t uid;
    gid_t gid;
    if (!owner_ids(cfg->milter.socket_owner, &uid, &gid))
        return false;
    if (chown(path, uid, gid) != 0) {
        log_err("cannot give %s to %s: %s", path, cfg->milter.socket_owner, strerror(errno));
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

bool daemon_write_pidfile(const struct config *cfg)
{
    if (cfg->milter.pidfile == NULL)
        return true;
    int fd = open(cfg->milter.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_err("cannot write the pidfile %s: %s", cfg->milter.pidfile, strerror(errno));
        return false;
    }
    char text[32];
    int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    bool ok = write(fd, text, (size_t)len) == len;
    if (geteuid() == 0 && cfg->milter.user != NULL) {
        struct passwd *pw = getpwnam(cfg->milter.user);
        if (pw != NULL && fchown(fd, pw->pw_uid, pw->pw_gid) != 0)
            log_warn("cannot give the pidfile to %s: %s", cfg->milter.user, strerror(errno));
    }
    close(fd);
    if (!ok)
        log_err("cannot write the pidfile %s", cfg->milter.pidfile);
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
