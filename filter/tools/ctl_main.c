/* ctl_main.c - mailwarden-ctl: sends one command to the daemon's control socket and prints the
 * answer (ctl_protocol.h; mailwarden-ctl(8)). Its exit status says how it went, so scripts and
 * `systemctl reload` can tell: 0 done, 1 the daemon said no (a refused reload, a key that does
 * not match), 2 the daemon did not understand the request, 64 usage, 69 no daemon answers on
 * the socket, 76 the answer broke off, 77 permission denied. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_config.h"
#include "ctl_protocol.h"
#include "util.h"
#include "mw_build.h"

enum {
    EXIT_DONE = 0,
    EXIT_REFUSED = 1,
    EXIT_NOT_UNDERSTOOD = 2,
    EXIT_USAGE = 64,
    EXIT_NO_DAEMON = 69,
    EXIT_BROKEN = 76,
    EXIT_DENIED = 77,
};

#define REPLY_TIMEOUT_S 120        /* a reload of large rule files takes a while */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: mailwarden-ctl [-s SOCKET] COMMAND [ARGUMENT]\n"
        "  -s SOCKET  the daemon's control socket (default " CONTROL_DEFAULT_SOCKET ")\n"
        "commands:\n"
        "  reload            read the policy again and install it; print what changed, or\n"
        "                    every error as file:line: option: reason (exit 1: refused)\n"
        "  status            version, uptime, policy in force, connections, store and DNS\n"
        "  stats             counters, one \"name value\" per line\n"
        "  test-key NAME     check dkim.keys entry NAME: its file, as the daemon reads it, and\n"
        "                    its DNS record (exit 1: it does not match)\n"
        "  flush-dns-cache   empty the daemon's DNS cache\n"
        "exit: 0 done, 1 refused, 2 not understood, 64 usage, 69 no daemon, 76 broken answer,\n"
        "      77 permission denied\n");
}

static int connect_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "mailwarden-ctl: %s: the path is too long for a unix socket\n", path);
        exit(EXIT_USAGE);
    }
    strlcpy_mw(sa.sun_path, path, sizeof sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int err = errno;
        fprintf(stderr, "mailwarden-ctl: %s: %s%s\n", path, strerror(err),
            err == EACCES || err == EPERM ? " (root and the daemon's group only)"
            : " (is mailwarden running, with control.socket set to this path?)");
        exit(err == EACCES || err == EPERM ? EXIT_DENIED : EXIT_NO_DAEMON);
    }
    struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Prints body lines, returns the exit status the final line means. */
static int read_reply(FILE *in)
{
    char line[4096];
    while (fgets(line, sizeof line, in) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "+ ", 2) == 0) {
            printf("%s\n", line + 2);
            continue;
        }
        if (strcmp(line, "OK") == 0)
            return EXIT_DONE;
        if (strcmp(line, "FAILED") == 0)
            return EXIT_REFUSED;
        if (strcmp(line, "DENIED") == 0) {
            fprintf(stderr, "mailwarden-ctl: permission denied: root and the daemon's control "
                "group only\n");
            return EXIT_DENIED;
        }
        if (strncmp(line, "ERROR ", 6) == 0) {
            fprintf(stderr, "mailwarden-ctl: %s\n", line + 6);
            return EXIT_NOT_UNDERSTOOD;
        }
        fprintf(stderr, "mailwarden-ctl: unexpected line from the daemon: %.200s\n", line);
        return EXIT_BROKEN;
    }
    fprintf(stderr, "mailwarden-ctl: the daemon closed the connection before it finished%s\n",
        ferror(in) ? " (no answer in time)" : "");
    return EXIT_BROKEN;
}

int main(int argc, char **argv)
{
    const char *path = CONTROL_DEFAULT_SOCKET;
    int opt;
    while ((opt = getopt(argc, argv, "+s:hV")) != -1) {
        switch (opt) {
        case 's': path = optarg; break;
        case 'h': usage(stdout); return EXIT_DONE;
        case 'V': printf("mailwarden-ctl %s\n", PACKAGE_VERSION); return EXIT_DONE;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    char request[CTL_REQUEST_MAX + 2];
    int n = snprintf(request, sizeof request, "%s%s%s\n", argv[optind],
        argc - optind == 2 ? " " : "", argc - optind == 2 ? argv[optind + 1] : "");
    struct ctl_request parsed;
    char why[256];
    if (n < 0 || (size_t)n >= sizeof request
        || !ctl_parse_request(request, (size_t)n, &parsed, why, sizeof why)) {
        fprintf(stderr, "mailwarden-ctl: %s\n", n < 0 || (size_t)n >= sizeof request
            ? "the request is too long" : why);
        usage(stderr);
        return EXIT_USAGE;
    }
    int fd = connect_socket(path);
    size_t sent = 0;
    while (sent < (size_t)n) {
        ssize_t w = send(fd, request + sent, (size_t)n - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;            /* the daemon closed early: its answer says why (DENIED) */
        sent += (size_t)w;
    }
    FILE *in = fdopen(fd, "r");
    if (in == NULL) {
        close(fd);
        return EXIT_BROKEN;
    }
    int status = read_reply(in);
    fclose(in);
    fflush(stdout);
    return status;
}
