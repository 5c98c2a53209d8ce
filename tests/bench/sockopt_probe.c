/* sockopt_probe.c - tells whether another process's TCP sockets have TCP_NODELAY set.
 * usage: sockopt-probe PID PORT
 * For every connected TCP socket of process PID whose local or peer port is PORT, prints
 * "fd N local A:P peer B:Q nodelay=0|1". It borrows each socket with pidfd_getfd(2) (Linux
 * 5.6; needs the right to ptrace PID, e.g. root) and asks getsockopt(TCP_NODELAY), so it
 * checks the option on the daemon's real accepted sockets, not a timing. Exit status: 0 when
 * at least one socket matched, 1 when none did, 2 on error. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return -1;
}

static void text_of(const struct sockaddr_storage *ss, char *out, size_t size)
{
    const void *a = ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                                             : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (inet_ntop(ss->ss_family, a, out, (socklen_t)size) == NULL)
        snprintf(out, size, "?");
}

/* Prints the socket if it matches; returns 1 when it did. */
static int probe(int fd, int target_fd, int port)
{
    struct sockaddr_storage local, peer;
    socklen_t llen = sizeof local, plen = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0
        || (local.ss_family != AF_INET && local.ss_family != AF_INET6)
        || getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
        return 0;
    if (port_of(&local) != port && port_of(&peer) != port)
        return 0;
    int nodelay = 0;
    socklen_t olen = sizeof nodelay;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &olen) != 0) {
        fprintf(stderr, "sockopt-probe: getsockopt on fd %d: %s\n", target_fd, strerror(errno));
        return 0;
    }
    char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN];
    text_of(&local, la, sizeof la);
    text_of(&peer, pa, sizeof pa);
    printf("fd %d local %s:%d peer %s:%d nodelay=%d\n", target_fd, la, port_of(&local), pa,
        port_of(&peer), nodelay ? 1 : 0);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sockopt-probe PID PORT\n");
        return 2;
    }
    int pid = atoi(argv[1]), port = atoi(argv[2]);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        fprintf(stderr, "sockopt-probe: pidfd_open(%d): %s\n", pid, strerror(errno));
        return 2;
    }
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "sockopt-probe: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    int matched = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char link[128], path[64 + sizeof de->d_name];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0)
            continue;
        link[n] = '\0';
        if (strncmp(link, "socket:", 7) != 0)
            continue;
        int target = atoi(de->d_name);
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);
        if (fd < 0) {
            fprintf(stderr, "sockopt-probe: pidfd_getfd(%d, %d): %s\n", pid, target, strerror(errno));
            closedir(d);
            return 2;
        }
        matched += probe(fd, target, port);
        close(fd);
    }
    closedir(d);
    close(pidfd);
    return matched > 0 ? 0 : 1;
}
