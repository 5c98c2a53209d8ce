/* report_smtp.c - one message to an SMTP server for mailwarden-report (report_smtp.h). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "report_smtp.h"
#include "util.h"

bool report_smtp_parse(const char *text, char *host, size_t host_size, char *port,
    size_t port_size)
{
    const char *colon = text != NULL ? strrchr(text, ':') : NULL;
    if (colon == NULL || colon == text || colon[1] == 0)
        return false;
    const char *h = text, *h_end = colon;
    if (text[0] == '[') {
        if (colon[-1] != ']')
            return false;
        h++;
        h_end--;
    }
    size_t hl = (size_t)(h_end - h), pl = strlen(colon + 1);
    if (hl == 0 || hl >= host_size || pl >= port_size || pl > 5)
        return false;
    for (const char *c = colon + 1; *c != 0; c++)
        if (*c < '0' || *c > '9')
            return false;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl + 1);
    return true;
}

struct conn {
    int fd;
    char buf[4096];
    size_t len;
};

/* One reply (all its lines); its code, and its last line in why. 0 on a socket failure. */
static int reply(struct conn *c, char *why, size_t why_size)
{
    for (;;) {
        char *nl;
        while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
            size_t line_len = (size_t)(nl - c->buf) + 1;
            bool last = line_len >= 4 && c->buf[3] != '-';
            int code = 0;
            if (line_len >= 4 && sscanf(c->buf, "%3d", &code) != 1)
                code = 0;
            if (last) {
                size_t show = line_len;
                while (show > 0 && (c->buf[show - 1] == '\n' || c->buf[show - 1] == '\r'))
                    show--;
                snprintf(why, why_size, "%.*s", (int)(show > 300 ? 300 : show), c->buf);
            }
            memmove(c->buf, c->buf + line_len, c->len - line_len);
            c->len -= line_len;
            if (last)
                return code;
        }
        if (c->len == sizeof c->buf)
            c->len = 0;                       /* an overlong line: keep reading its end */
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n <= 0) {
            snprintf(why, why_size, "%s", n == 0 ? "the server closed the connection"
                : strerror(errno));
            return 0;
        }
        c->len += (size_t)n;
    }
}

static bool send_all(struct conn *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Sends a command and wants a reply of the class of want (2 or 3). */
static bool command(struct conn *c, const char *line, int want, char *why, size_t why_size)
{
    if (line != NULL && !send_all(c, line, strlen(line))) {
        snprintf(why, why_size, "sending failed: %s", strerror(errno));
        return false;
    }
    int code = reply(c, why, why_size);
    return code / 100 == want;
}

/* The message as DATA: CRLF line ends, a leading '.' doubled, then ".". */
static bool send_data(struct conn *c, const char *m, size_t len)
{
    struct textbuf out;
    textbuf_init(&out);
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(m + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - m) : len;
        size_t stop = end > i && m[end - 1] == '\r' ? end - 1 : end;
        if (m[i] == '.')
            textbuf_append(&out, ".", 1);
        textbuf_append(&out, m + i, stop - i);
        textbuf_append(&out, "\r\n", 2);
        i = end + 1;
    }
    textbuf_append(&out, ".\r\n", 3);
    bool ok = send_all(c, out.data, out.len);
    textbuf_free(&out);
    return ok;
}

static int connect_to(const char *server, uint64_t timeout_ms, char *why, size_t why_size)
{
    char host[256], port[8];
    if (!report_smtp_parse(server, host, sizeof host, port, sizeof port)) {
        snprintf(why, why_size, "dmarc_reports.smtp \"%s\" is not HOST:PORT", server);
        return -1;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, why_size, "%s: %s", server, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = { .tv_sec = (time_t)(timeout_ms / 1000),
            .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            snprintf(why, why_size, "connect to %s: %s", server, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

bool report_smtp_send(const char *server, const char *helo, const char *from, const char *to,
    const char *message, size_t len, uint64_t timeout_ms, char *why, size_t why_size)
{
    struct conn c = { .fd = connect_to(server, timeout_ms, why, why_size) };
    if (c.fd < 0)
        return false;
    char line[600];
    bool ok = command(&c, NULL, 2, why, why_size);
    snprintf(line, sizeof line, "EHLO %s\r\n", helo);
    ok = ok && command(&c, line, 2, why, why_size);
    snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", from);
    ok = ok && command(&c, line, 2, why, why_size);
    snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", to);
    ok = ok && command(&c, line, 2, why, why_size);
    ok = ok && command(&c, "DATA\r\n", 3, why, why_size);
    if (ok && !send_data(&c, message, len)) {
        snprintf(why, why_size, "sending the message failed: %s", strerror(errno));
        ok = false;
    }
    ok = ok && command(&c, NULL, 2, why, why_size);
    char ignored[64];
    command(&c, "QUIT\r\n", 2, ignored, sizeof ignored);
    close(c.fd);
    return ok;
}
