/* ctl_server.c - the control socket and its thread (ctl_server.h). The thread waits in poll()
 * on the listening socket and on a pipe that ctl_server_stop() writes to; it serves one client
 * at a time: checks the peer (SO_PEERCRED), reads one request line (with a timeout, so a
 * silent client cannot hold the socket), runs it and writes the reply (ctl_protocol.h). */
#include "ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_commands.h"
#include "control_config.h"
#include "ctl_protocol.h"
#include "daemon.h"
#include "log.h"
#include "util.h"

#define CLIENT_TIMEOUT_S 10

static int listen_fd = -1;
static int wake_pipe[2] = {-1, -1};
static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static gid_t control_gid;             /* members may connect, besides root and our user */
static char *reload_file;
static pthread_t thread;
static bool thread_running;

/* The group that may connect: control.group, else milter.group, else milter.user's primary
 * group, else ours. */
static bool resolve_group(const struct config *cfg, gid_t *gid)
{
    const char *name = cfg->control->group != NULL ? cfg->control->group : cfg->milter.group;
    if (name != NULL) {
        struct group *gr = getgrnam(name);
        if (gr == NULL) {
            log_err("control.group: no such group \"%s\"", name);
            return false;
        }
        *gid = gr->gr_gid;
        return true;
    }
    struct passwd *pw = cfg->milter.user != NULL ? getpwnam(cfg->milter.user) : NULL;
    *gid = pw != NULL ? pw->pw_gid : getegid();
    return true;
}

/* Whether something answers on path (a running daemon); removes a stale socket. False with
 * *why when the path must not be used. */
static bool claim_path(const char *path, const char **why)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT || (*why = strerror(errno), false);
    if (!S_ISSOCK(st.st_mode)) {
        *why = "a file that is not a socket is in the way";
        return false;
    }
    int answers = daemon_unix_socket_answers(path);
    if (answers != 0) {
        *why = answers > 0 ? "another process answers on it (is another mailwarden running?)"
            : strerror(errno);
        return false;
    }
    if (unlink(path) != 0) {
        *why = strerror(errno);
        return false;
    }
    return true;
}

static bool open_socket(const struct config *cfg, const char *path, const char **why)
{
    if (strlen(path) >= sizeof socket_path) {
        *why = "the path is too long for a unix socket";
        return false;
    }
    if (!claim_path(path, why))
        return false;
    if (!resolve_group(cfg, &control_gid)) {
        *why = "no such group";
        return false;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return false;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strlcpy_mw(sa.sun_path, path, sizeof sa.sun_path);
    mode_t old_mask = umask(0177);            /* nobody else between bind and chmod */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old_mask);
    struct passwd *pw = cfg->milter.user != NULL && geteuid() == 0
        ? getpwnam(cfg->milter.user) : NULL;
    uid_t owner = pw != NULL ? pw->pw_uid : (uid_t)-1;
    if (rc != 0 || listen(fd, 8) != 0
        || lchown(path, owner, geteuid() == 0 ? control_gid : (gid_t)-1) != 0
        || chmod(path, cfg->control->mode) != 0) {
        *why = strerror(errno);
        close(fd);
        if (rc == 0)
            unlink(path);
        return false;
    }
    listen_fd = fd;
    strlcpy_mw(socket_path, path, sizeof socket_path);
    return true;
}

bool ctl_server_open(const struct config *cfg)
{
    const struct control_policy *p = cfg->control;
    if (p->socket == NULL) {
        log_info("control socket off (control.socket = \"\")");
        return true;
    }
    const char *why = "";
    if (open_socket(cfg, p->socket, &why)) {
        log_info("control socket %s (mode %04o)", p->socket, p->mode);
        return true;
    }
    if (p->socket_is_default) {
        log_warn("control socket %s: %s; mailwarden-ctl will not work (set control.socket, or "
            "\"\" to turn it off)", p->socket, why);
        return true;
    }
    log_err("control.socket %s: %s", p->socket, why);
    return false;
}

/* Root, our own user, and members of the control group (primary or supplementary). */
static bool peer_allowed(int fd, struct ucred *cred)
{
    socklen_t len = sizeof *cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) != 0)
        return false;
    if (cred->uid == 0 || cred->uid == geteuid() || cred->gid == control_gid)
        return true;
    char buf[4096];
    struct passwd pw, *found = NULL;
    if (getpwuid_r(cred->uid, &pw, buf, sizeof buf, &found) != 0 || found == NULL)
        return false;
    gid_t groups[256];
    int n = (int)(sizeof groups / sizeof groups[0]);
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
        return false;
    for (int i = 0; i < n; i++) {
        if (groups[i] == control_gid)
            return true;
    }
    return false;
}

static void write_all(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;                /* the client went away or stalled: nothing more to do */
        text += n;
        len -= (size_t)n;
    }
}

static void send_body_line(const char *text, void *arg)
{
    char line[2100];
    ctl_format_body_line(text, line, sizeof line);
    write_all(*(int *)arg, line);
}

/* Reads up to LF; false when the client sent none in time or too much. */
static bool read_request(int fd, char *buf, size_t size, size_t *len)
{
    *len = 0;
    while (*len + 1 < size) {
        ssize_t n = recv(fd, buf + *len, size - 1 - *len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        *len += (size_t)n;
        if (memchr(buf, '\n', *len) != NULL) {
            *len = (size_t)((char *)memchr(buf, '\n', *len) - buf) + 1;
            return true;
        }
    }
    return false;
}

static void serve(int fd)
{
    struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char buf[CTL_REQUEST_MAX + 1];
    size_t len;
    bool have_request = read_request(fd, buf, sizeof buf, &len);
    /* the request is read (and ignored) first, so the client sees DENIED, not a reset */
    struct ucred cred = {0};
    if (!peer_allowed(fd, &cred)) {
        log_warn("control: refused a client (uid %d, gid %d): not root and not in the control "
            "group", (int)cred.uid, (int)cred.gid);
        write_all(fd, "DENIED\n");
        return;
    }
    if (!have_request) {
        write_all(fd, "ERROR no request line (at most 511 bytes and LF) within 10 seconds\n");
        return;
    }
    struct ctl_request req;
    char why[256];
    if (!ctl_parse_request(buf, len, &req, why, sizeof why)) {
        char line[300];
        snprintf(line, sizeof line, "ERROR %s\n", why);
        write_all(fd, line);
        return;
    }
    log_info("control: %s%s%s from uid %d", ctl_command_name(req.command),
        req.argument[0] ? " " : "", req.argument, (int)cred.uid);
    struct ctl_output out = { send_body_line, &fd };
    bool ok = ctl_command_run(&req, reload_file, &out);
    write_all(fd, ok ? "OK\n" : "FAILED\n");
}

static void *server_thread(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd fds[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = wake_pipe[0], .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("control: poll: %s; the control socket stops", strerror(errno));
            return NULL;
        }
        if (fds[1].revents != 0)
            return NULL;
        if (!(fds[0].revents & POLLIN))
            continue;
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve(fd);
        close(fd);
    }
}

void ctl_server_start(const char *config_file)
{
    if (listen_fd < 0)
        return;
    reload_file = xstrdup(config_file);
    if (pipe2(wake_pipe, O_CLOEXEC) != 0) {
        log_err("control: pipe: %s; no control socket", strerror(errno));
        return;
    }
    if (pthread_create(&thread, NULL, server_thread, NULL) != 0) {
        log_err("control: cannot start the thread; no control socket");
        return;
    }
    thread_running = true;
}

void ctl_server_stop(void)
{
    if (thread_running) {
        char byte = 1;
        while (write(wake_pipe[1], &byte, 1) < 0 && errno == EINTR)
            ;
        pthread_join(thread, NULL);
        thread_running = false;
    }
    for (int i = 0; i < 2; i++) {
        if (wake_pipe[i] >= 0)
            close(wake_pipe[i]);
        wake_pipe[i] = -1;
    }
    if (listen_fd >= 0) {
        close(listen_fd);
        listen_fd = -1;
        if (unlink(socket_path) != 0 && errno != ENOENT)
            log_warn("control: cannot remove %s: %s", socket_path, strerror(errno));
    }
    free(reload_file);
    reload_file = NULL;
}
