/* milter_loop.c - the milter daemon's sockets: opens the listening socket (inet, inet6 or
 * unix, as libmilter's syntax names them), accepts MTA connections and runs one epoll loop that
 * notices which connection has bytes to read. The reading, the protocol and the engine work of
 * a connection then run on a pool thread (milter_pool.c) until the connection has nothing more
 * to read (a new connection goes to a pool thread at once: the MTA speaks first): at most one job per connection, so its packets are handled strictly in order, and
 * an idle connection holds no thread. The replies to one command go out in one write; after
 * a read of a TCP connection that ends with anything but a command we answer, TCP_QUICKACK is
 * set again, so the MTA's next small packet is not held by our delayed ACK
 * (docs/PERFORMANCE.md). A connection silent for milter.timeout is
 * closed. milter_shutdown stops listening, lets the transactions in flight finish up to the
 * grace, and then makes milter_run return. */
#include "milter.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include "log.h"
#include "milter_pool.h"
#include "milter_session.h"
#include "util.h"

#define READ_CHUNK (64 * 1024)

/* One MTA connection. Owned by the loop while idle (armed in epoll, busy false), by one pool
 * thread while busy; the switch happens under conns_lock. */
struct conn {
    int fd;
    bool tcp;
    bool busy;
    bool expire;             /* the job is to close it (timeout, shutdown) */
    uint64_t last_ms;        /* last bytes read or connection opened */
    struct milter_session *session;
    char *in;
    size_t in_len, in_cap;
    struct milter_out out;
    struct pool_job job;
    bool in_epoll;           /* added to the loop's epoll set (at its first rearm) */
    struct conn *prev, *next;
};

static int epoll_fd = -1;
static int wake_fd = -1;
static int listen_fd = -1;
static bool listen_tcp;
static char *unix_path;          /* a unix socket we bound, removed at exit if still ours */
static struct stat unix_stat;
static uint64_t timeout_ms;

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;
static unsigned conn_count;
static bool stop_requested;      /* guarded by conns_lock */
static uint64_t stop_deadline_ms;

/* --- the listening socket ---------------------------------------------------------------- */

static bool split_inet(const char *spec, char *port, size_t port_size, char *host,
    size_t host_size)
{
    const char *at = strchr(spec, '@');
    size_t n = at ? (size_t)(at - spec) : strlen(spec);
    if (n == 0 || n >= port_size)
        return false;
    memcpy(port, spec, n);
    port[n] = '\0';
    host[0] = '\0';
    if (at != NULL) {
        const char *h = at + 1;
        size_t hl = strlen(h);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {   /* inet6:PORT@[::1] */
            h++;
            hl -= 2;
        }
        if (hl >= host_size)
            return false;
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    return true;
}

static int open_inet(const char *spec, int family)
{
    char port[64], host[256];
    if (!split_inet(spec, port, sizeof port, host, sizeof host)) {
        log_err("milter.socket \"%s\": expected PORT@HOST", spec);
        return -1;
    }
    struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        log_err("milter.socket \"%s\": %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* accepted connections inherit it: no Nagle wait between our replies */
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
            log_warn("TCP_NODELAY could not be set on the listening socket %s: %s", spec,
                strerror(errno));
    }
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        log_err("cannot listen on %s: %s (is another mailwarden or milter running there?)",
            spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* daemon_claim_unix_socket removed a stale socket; whatever is there now is not ours to remove.
 * A unix socket gets its mode from the umask at bind: no chmod of a path later. */
static int open_unix(const char *path, mode_t mode)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (path[0] != '/' || strlen(path) >= sizeof sun.sun_path) {
        log_err("milter.socket \"%s\": a unix socket needs an absolute path shorter than %zu bytes",
            path, sizeof sun.sun_path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_err("socket: %s", strerror(errno));
        return -1;
    }
    mode_t old_umask = umask(~mode & 0777);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    int err = errno;
    umask(old_umask);
    if (rc != 0) {
        log_err("cannot listen on unix:%s: %s (is another mailwarden or milter running there?)",
            path, strerror(err));
        close(fd);
        return -1;
    }
    unix_path = xstrdup(path);
    if (lstat(path, &unix_stat) != 0)
        memset(&unix_stat, 0, sizeof unix_stat);
    return fd;
}

static int open_listener(const struct config *cfg)
{
    const char *spec = cfg->milter.socket;
    listen_tcp = false;
    if (strncmp(spec, "inet:", 5) == 0) {
        listen_tcp = true;
        return open_inet(spec + 5, AF_INET);
    }
    if (strncmp(spec, "inet6:", 6) == 0) {
        listen_tcp = true;
        return open_inet(spec + 6, AF_INET6);
    }
    if (strncmp(spec, "unix:", 5) == 0)
        return open_unix(spec + 5, cfg->milter.socket_mode);
    if (strncmp(spec, "local:", 6) == 0)
        return open_unix(spec + 6, cfg->milter.socket_mode);
    if (spec[0] == '/')
        return open_unix(spec, cfg->milter.socket_mode);
    log_err("milter.socket \"%s\": expected inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH", spec);
    return -1;
}

static void remove_unix_socket(void)
{
    struct stat now;
    if (unix_path != NULL && lstat(unix_path, &now) == 0 && S_ISSOCK(now.st_mode)
        && now.st_ino == unix_stat.st_ino && now.st_dev == unix_stat.st_dev)
        unlink(unix_path);
}

bool milter_setup(const struct config *cfg)
{
    milter_sessions_set_max_data(milter_session_max_data(cfg));
    timeout_ms = (uint64_t)cfg->milter.timeout_s * 1000;
    pool_set_limit(cfg->milter.max_connections + 1);
    listen_fd = open_listener(cfg);
    if (listen_fd < 0)
        return false;
    if (listen(listen_fd, cfg->milter.backlog) != 0) {
        log_err("cannot listen on %s: %s", cfg->milter.socket, strerror(errno));
        return false;
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd < 0 || wake_fd < 0) {
        log_err("epoll/eventfd: %s", strerror(errno));
        return false;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listen_fd };
    struct epoll_event wake = { .events = EPOLLIN, .data.ptr = &wake_fd };
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev) != 0
        || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0) {
        log_err("epoll_ctl: %s", strerror(errno));
        return false;
    }
    return true;
}

/* --- one connection's job ---------------------------------------------------------------- */

static void wake_loop(void)
{
    uint64_t one = 1;
    if (write(wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("cannot wake the milter loop: %s", strerror(errno));
}

/* Writes all of data; the socket is non-blocking, so a full send buffer waits for room, at most
 * milter.timeout. */
static bool write_all(struct conn *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = c->fd, .events = POLLOUT };
            int rc = poll(&p, 1, (int)(timeout_ms > 0 ? timeout_ms : 1000));
            if (rc > 0)
                continue;
            log_warn("milter: the MTA took no reply for %llu ms: closing the connection",
                (unsigned long long)timeout_ms);
            return false;
        }
        log_info("milter: cannot send the reply to the MTA: %s", strerror(errno));
        return false;
    }
    return true;
}

/* Whether the bytes read end with a whole packet the MTA waits for a reply to: then our reply
 * carries the ACK of what we read (after QUIT nothing follows, and our FIN carries it).
 * Otherwise (a command without a reply, such as the DATA macros or header fields under the
 * no-reply steps, or part of a packet) the MTA may be holding its next small write for that
 * ACK (Nagle's algorithm on its side), and the kernel would delay it by up to 40 ms:
 * TCP_QUICKACK sends it now. */
static bool ends_with_answered_packet(struct conn *c)
{
    size_t at = 0;
    char last = 0;
    for (;;) {
        struct milter_packet pkt;
        size_t used = 0;
        const char *why = NULL;
        enum milter_read r = milter_read_packet(c->in + at, c->in_len - at,
            milter_sessions_max_data(), &pkt, &used, &why);
        if (r != MILTER_READ_PACKET)
            return r == MILTER_READ_MORE && at == c->in_len && last != 0
                && (last == MILTER_CMD_QUIT || milter_session_answers(c->session, last));
        last = pkt.command;
        at += used;
    }
}

/* Reads what the MTA sent: >0 bytes read, 0 the MTA closed, -1 nothing yet, -2 an error.
 * With wait, the first byte is waited for up to the socket's receive timeout (LINGER_MS, set at
 * accept): one system call where a poll and a read would be two. */
static ssize_t read_some(struct conn *c, bool wait)
{
    if (c->in_cap - c->in_len < READ_CHUNK) {
        c->in_cap = c->in_len + READ_CHUNK;
        c->in = xrealloc(c->in, c->in_cap);
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len,
            wait ? 0 : MSG_DONTWAIT);
        if (n > 0) {
            c->in_len += (size_t)n;
            if (c->tcp && !ends_with_answered_packet(c)) {
                int one = 1;    /* Linux clears it as it goes: set it again when needed */
                setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
            }
            return n;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -1;
        log_info("milter: reading from the MTA: %s", strerror(errno));
        return -2;
    }
}

/* Handles every whole packet in the buffer; false when the connection is to be closed. */
static bool handle_packets(struct conn *c)
{
    size_t at = 0;
    bool open = true;
    while (open) {
        struct milter_packet pkt;
        size_t used = 0;
        const char *why = NULL;
        enum milter_read r = milter_read_packet(c->in + at, c->in_len - at,
            milter_sessions_max_data(), &pkt, &used, &why);
        if (r == MILTER_READ_MORE)
            break;
        if (r == MILTER_READ_ERROR) {
            log_warn("milter protocol error: %s (at most %zu bytes of data a packet): closing "
                     "the connection", why, milter_sessions_max_data());
            open = false;
            break;
        }
        milter_out_clear(&c->out);
        open = milter_session_handle(c->session, &pkt, &c->out);
        at += used;
        if (c->out.len > 0 && !write_all(c, c->out.data, c->out.len))
            open = false;
    }
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
    return open;
}

static void close_conn(struct conn *c)
{
    milter_session_end(c->session);
    pthread_mutex_lock(&conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    conn_count--;
    if (c->in_epoll)
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    pthread_mutex_unlock(&conns_lock);
    free(c->in);
    milter_out_free(&c->out);
    free(c);
    if (milter_sessions_stopping())
        wake_loop();           /* the draining loop counts what is left; otherwise it sleeps on */
}

/* Back to the loop: the connection waits in epoll for its next bytes. Under the lock, so that
 * the loop never sees it idle before it is armed. */
static void rearm(struct conn *c)
{
    if (c->in_len == 0) {      /* an idle connection keeps no read buffer */
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    pthread_mutex_lock(&conns_lock);
    c->busy = false;
    c->last_ms = now_ms();
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = c };
    bool ok = epoll_ctl(epoll_fd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == 0;
    if (ok)
        c->in_epoll = true;
    else
        c->busy = true;
    pthread_mutex_unlock(&conns_lock);
    if (!ok) {
        log_err("epoll_ctl: %s: closing a milter connection", strerror(errno));
        close_conn(c);
    }
}

/* How long a job waits on its connection for the MTA's next command before handing it back
 * to the loop (the receive timeout of every accepted socket). Through Postfix the next command
 * of a busy session comes within a few ms of our reply; waiting for it here saves two thread
 * wake-ups per command (the loop's, then a worker's), which on a loaded machine cost more than
 * the command itself. A connection that stays quiet longer goes back to the loop and holds no
 * thread. */
#define LINGER_MS 20

static void serve(void *arg)
{
    struct conn *c = arg;
    if (c->expire) {
        close_conn(c);
        return;
    }
    for (;;) {
        /* after a reply the MTA sends nothing until it has read it: the read waits (up to
         * LINGER_MS) instead of finding nothing; while stopping nothing waits */
        ssize_t n = read_some(c, !milter_sessions_stopping());
        if (n == -1) {
            rearm(c);
            return;
        }
        if (n <= 0 || !handle_packets(c))
            break;
    }
    close_conn(c);
}

/* --- the loop ---------------------------------------------------------------------------- */

/* Under conns_lock. A connection closed from the loop (expire) leaves epoll first, so that no
 * event of it can come after its job freed it. */
static void dispatch(struct conn *c, bool expire)
{
    if (expire && c->in_epoll)
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    c->busy = true;
    c->expire = expire;
    c->job.run = serve;
    c->job.arg = c;
    pool_submit(&c->job);
}

/* One thread per busy connection at most: milter.max_connections of the policy in force (a
 * reload may change it), and one for the connection that is refused over the limit. */
static void follow_connection_limit(void)
{
    struct config *cfg = config_current();
    if (cfg != NULL)
        pool_set_limit(cfg->milter.max_connections + 1);
    config_release(cfg);
}

/* One connection per wake-up of the loop: the listening socket is level-triggered in epoll, so
 * it is reported again while more connections wait, and no accept finds nothing after each. */
static void accept_connection(void)
{
    follow_connection_limit();
    for (;;) {
        /* blocking, with a receive timeout of LINGER_MS (read_some); replies are sent with
         * MSG_DONTWAIT (write_all) */
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_warn("milter: accept: %s", strerror(errno));
            return;
        }
        struct conn *c = xcalloc(1, sizeof *c);
        c->fd = fd;
        c->tcp = listen_tcp;     /* TCP_NODELAY comes from the listening socket */
        struct timeval linger = { .tv_sec = 0, .tv_usec = LINGER_MS * 1000 };
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &linger, sizeof linger) != 0)
            log_warn("milter: SO_RCVTIMEO: %s", strerror(errno));
        c->session = milter_session_new();
        c->last_ms = now_ms();
        pthread_mutex_lock(&conns_lock);
        c->next = conns;
        if (conns)
            conns->prev = c;
        conns = c;
        conn_count++;
        /* the MTA speaks first (option negotiation), at once: the job starts now and waits
         * for it, instead of the loop waking once more to see it; the connection joins the
         * epoll set when it first goes idle (rearm) */
        dispatch(c, false);
        pthread_mutex_unlock(&conns_lock);
        return;
    }
}

/* Closes connections silent for longer than milter.timeout (libmilter's meaning of it: the
 * longest wait for the MTA's next bytes). */
static void expire_silent(uint64_t now)
{
    if (timeout_ms == 0)
        return;
    pthread_mutex_lock(&conns_lock);
    for (struct conn *c = conns; c != NULL; c = c->next) {
        if (c->busy || now - c->last_ms <= timeout_ms)
            continue;
        log_warn("milter: no command from the MTA for %llu s: closing the connection%s",
            (unsigned long long)(timeout_ms / 1000),
            milter_session_in_transaction(c->session) ? " (its transaction is aborted)" : "");
        dispatch(c, true);
    }
    pthread_mutex_unlock(&conns_lock);
}

static void stop_listening(void)
{
    if (listen_fd < 0)
        return;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, NULL);
    close(listen_fd);
    listen_fd = -1;
    remove_unix_socket();
}

/* After the drain: close the connections left (idle ones; busy ones get until the deadline). */
static void close_all(uint64_t deadline)
{
    for (;;) {
        pthread_mutex_lock(&conns_lock);
        unsigned busy = 0;
        for (struct conn *c = conns; c != NULL; c = c->next) {
            if (c->busy) {
                busy++;
                continue;
            }
            dispatch(c, true);
            busy++;
        }
        pthread_mutex_unlock(&conns_lock);
        if (busy == 0 || now_ms() >= deadline)
            return;
        struct epoll_event evs[8];
        if (epoll_wait(epoll_fd, evs, 8, 50) > 0) {
            uint64_t count;
            if (read(wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
                return;
        }
    }
}

bool milter_run(void)
{
    bool draining = false;
    uint64_t last_scan = now_ms();
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(epoll_fd, evs, 64, draining ? 100 : 1000);
        if (n < 0 && errno != EINTR) {
            log_err("epoll_wait: %s", strerror(errno));
            return false;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &listen_fd) {
                accept_connection();
            } else if (p == &wake_fd) {
                uint64_t count;
                if (read(wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
                    log_warn("milter loop: eventfd: %s", strerror(errno));
            } else {
                struct conn *c = p;
                pthread_mutex_lock(&conns_lock);
                if (!c->busy)        /* armed only while idle: always true; never two jobs */
                    dispatch(c, false);
                pthread_mutex_unlock(&conns_lock);
            }
        }
        uint64_t now = now_ms();
        if (now - last_scan >= 1000) {
            expire_silent(now);
            last_scan = now;
        }
        pthread_mutex_lock(&conns_lock);
        bool stopping = stop_requested;
        uint64_t deadline = stop_deadline_ms;
        pthread_mutex_unlock(&conns_lock);
        if (!stopping)
            continue;
        if (!draining) {
            draining = true;
            stop_listening();
            log_info("no new connections; new transactions get 451 4.3.2 from now on; waiting "
                     "for %u in flight (at most %llu ms)", milter_sessions_in_flight(),
                (unsigned long long)(deadline > now ? deadline - now : 0));
        }
        unsigned left = milter_sessions_in_flight();
        if (left == 0 || now >= deadline) {
            if (left > 0)
                log_warn("%u transaction%s still in flight after milter.shutdown_grace; the MTA "
                         "keeps or retries them", left, left == 1 ? "" : "s");
            else
                log_info("no transaction in flight: stopping");
            close_all(deadline > now + 2000 ? deadline : now + 2000);
            return true;
        }
    }
}

void milter_shutdown(uint64_t grace_ms)
{
    milter_sessions_stop();
    pthread_mutex_lock(&conns_lock);
    bool already = stop_requested;
    if (!already) {
        stop_requested = true;
        stop_deadline_ms = now_ms() + grace_ms;
    }
    pthread_mutex_unlock(&conns_lock);
    if (!already && wake_fd >= 0)
        wake_loop();
}
