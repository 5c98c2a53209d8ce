/* null_milter.c - a milter that does nothing, as cheaply as it can: the floor of what any
 * milter costs an MTA (tests/bench/postfix-e2e.sh, setups null, null-edit, null-late and
 * null-like). One thread, one epoll loop, non-blocking sockets; it speaks milter protocol
 * version 6 with the codec of the daemon (filter/milter/milter_proto.c) and negotiates what
 * mailwarden negotiates under the default policy (header changes; connect, HELO, DATA, header
 * fields, end of headers and body chunks without a reply, as far as the MTA offers them), so
 * that the MTA does the same work for it: it still sends the whole message. Every command the
 * MTA waits on gets "continue". With -a the end of the message also adds one header field, as a
 * signer would (the MTA then rewrites the queue file as it does for a DKIM-Signature); with -r
 * MAIL and RCPT get no reply either (a milter that decides only at the end of the message: one
 * round trip for the message instead of three); with -m it also asks for what on_optneg in
 * filter/milter/milter_session.c asks for (its macro lists, quarantine, header values with
 * their leading space: a copy, to keep in step with it). Promises nothing else: it checks
 * nothing and keeps no state but the bytes of a packet not yet whole.
 *
 * usage: null-milter [-a] [-m] [-r] inet:PORT@127.0.0.1 | unix:/path */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter/milter_proto.h"

struct conn {
    int fd;
    char *in;
    size_t len, cap;
    uint32_t noreply;
};

static bool add_header;
static uint32_t envelope_noreply;     /* -r: MAIL and RCPT without a reply */
static bool like_mailwarden;          /* -m: mailwarden's actions, steps and macro lists too */

static int usage(void)
{
    fprintf(stderr, "usage: null-milter [-a] [-m] [-r] inet:PORT@127.0.0.1|unix:/path\n");
    return 2;
}

static int listen_on(const char *spec)
{
    int fd;
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        if (strlen(spec + 5) >= sizeof sun.sun_path)
            return -1;
        strcpy(sun.sun_path, spec + 5);
        unlink(sun.sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
            return -1;
        chmod(sun.sun_path, 0666);
    } else if (strncmp(spec, "inet:", 5) == 0) {
        struct sockaddr_in sin = { .sin_family = AF_INET };
        const char *at = strchr(spec, '@');
        sin.sin_port = htons((uint16_t)atoi(spec + 5));
        if (at == NULL || inet_pton(AF_INET, at + 1, &sin.sin_addr) != 1)
            return -1;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0)
            return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
            return -1;
    } else {
        return -1;
    }
    return listen(fd, 256) == 0 ? fd : -1;
}

/* The answer to one packet, appended to out; false to close. */
static bool answer(struct conn *c, const struct milter_packet *pkt, struct milter_out *out)
{
    struct milter_optneg o;
    const char *why = NULL;
    uint32_t nr = 0;
    switch (pkt->command) {
    case 'O':
        if (!milter_decode_optneg(pkt, &o, &why))
            return false;
        c->noreply = o.steps & (MILTER_STEP_NR_CONN | MILTER_STEP_NR_HELO | MILTER_STEP_NR_DATA
            | MILTER_STEP_NR_HDR | MILTER_STEP_NR_EOH | MILTER_STEP_NR_BODY | envelope_noreply);
        if (like_mailwarden) {
            const char *lists[MILTER_STAGE_COUNT] = {0};
            uint32_t actions = MILTER_ACT_ADDHDRS | MILTER_ACT_CHGHDRS
                | (o.actions & (MILTER_ACT_QUARANTINE | MILTER_ACT_SETSYMLIST));
            if (actions & MILTER_ACT_SETSYMLIST) {     /* as on_optneg: only when granted */
                lists[MILTER_STAGE_CONNECT] = "j {daemon_name} {client_addr} {client_name} _";
                lists[MILTER_STAGE_MAIL] = "i {auth_type} {auth_authen} {mail_addr}";
                lists[MILTER_STAGE_RCPT] = "i {rcpt_addr}";
                lists[MILTER_STAGE_EOH] = "i";
                lists[MILTER_STAGE_EOM] = "i";
            }
            milter_put_optneg(out, 6, actions,
                c->noreply | (o.steps & (MILTER_STEP_NOUNKNOWN | MILTER_STEP_HDR_LEADSPC)), lists);
            return true;
        }
        milter_put_optneg(out, 6, MILTER_ACT_ADDHDRS | MILTER_ACT_CHGHDRS,
            c->noreply | (o.steps & MILTER_STEP_NOUNKNOWN), (const char *[MILTER_STAGE_COUNT]){0});
        return true;
    case 'D': case 'A': case 'K':
        return true;
    case 'Q':
        return false;
    case 'C': nr = MILTER_STEP_NR_CONN; break;
    case 'H': nr = MILTER_STEP_NR_HELO; break;
    case 'M': nr = MILTER_STEP_NR_MAIL; break;
    case 'R': nr = MILTER_STEP_NR_RCPT; break;
    case 'T': nr = MILTER_STEP_NR_DATA; break;
    case 'L': nr = MILTER_STEP_NR_HDR; break;
    case 'N': nr = MILTER_STEP_NR_EOH; break;
    case 'B': nr = MILTER_STEP_NR_BODY; break;
    case 'E':
        if (add_header)
            milter_put_addheader(out, "X-Null-Milter", like_mailwarden ? " passed" : "passed");
        break;
    default:
        break;
    }
    if (nr == 0 || !(c->noreply & nr))
        milter_put_simple(out, MILTER_REPLY_CONTINUE);
    return true;
}

/* Reads what there is and answers every whole packet in one write; false to close. */
static bool serve(struct conn *c, struct milter_out *out)
{
    for (;;) {
        if (c->cap - c->len < 65536) {
            c->cap = c->len + 65536;
            c->in = realloc(c->in, c->cap);
            if (c->in == NULL)
                return false;
        }
        ssize_t n = recv(c->fd, c->in + c->len, c->cap - c->len, 0);
        if (n == 0)
            return false;
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        c->len += (size_t)n;
        size_t at = 0;
        bool open = true;
        milter_out_clear(out);
        while (open) {
            struct milter_packet pkt;
            size_t used = 0;
            const char *why = NULL;
            enum milter_read r = milter_read_packet(c->in + at, c->len - at, MILTER_PACKET_LIMIT,
                &pkt, &used, &why);
            if (r == MILTER_READ_MORE)
                break;
            if (r == MILTER_READ_ERROR)
                return false;
            open = answer(c, &pkt, out);
            at += used;
        }
        if (out->len > 0 && send(c->fd, out->data, out->len, MSG_NOSIGNAL) != (ssize_t)out->len)
            return false;
        if (!open)
            return false;
        memmove(c->in, c->in + at, c->len - at);
        c->len -= at;
        if (out->len == 0) {      /* read without an answer: do not hold the MTA's next write */
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        }
    }
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "amr")) != -1) {
        if (opt == 'm') {
            like_mailwarden = true;
        } else if (opt == 'a') {
            add_header = true;
        } else if (opt == 'r') {
            envelope_noreply = MILTER_STEP_NR_MAIL | MILTER_STEP_NR_RCPT;
        } else {
            return usage();
        }
    }
    if (optind != argc - 1)
        return usage();
    signal(SIGPIPE, SIG_IGN);
    int lfd = listen_on(argv[optind]);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (lfd < 0 || ep < 0) {
        fprintf(stderr, "null-milter: cannot listen on %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct milter_out out = {0};
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    continue;
                c = calloc(1, sizeof *c);
                if (c == NULL) {
                    close(fd);
                    continue;
                }
                c->fd = fd;
                struct epoll_event cev = { .events = EPOLLIN, .data.ptr = c };
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
            }
            if (!serve(c, &out)) {
                close(c->fd);     /* leaves the epoll set with it */
                free(c->in);
                free(c);
            }
        }
    }
}
