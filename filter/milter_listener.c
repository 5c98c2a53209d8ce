/* milter_listener.c - sets TCP_NODELAY on the TCP socket libmilter listens on.
 *
 * libmilter answers the end of a message in several writes (each header change, then the
 * final reply). With Nagle's algorithm on, the second write waits until the MTA acknowledges
 * the first, and the MTA, waiting for the rest of the answer, delays that ACK (about 40 ms on
 * Linux). On Linux a connection accepted from a listening TCP socket inherits TCP_NODELAY
 * from it, so setting the option once on the listening socket covers every connection
 * (tests/bench/test-mwload.sh reads it on an accepted socket of the daemon). libmilter hands
 * out no descriptor, so after smfi_opensocket() this file looks through the process's
 * descriptors (/proc/self/fd) for listening TCP sockets bound to the configured port.
 * Promises: only listening (SO_ACCEPTCONN) AF_INET/AF_INET6 stream sockets bound to that port
 * are touched; unix sockets and every other descriptor are left as they are; nothing is
 * intercepted or replaced. */
#include "milter_listener.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The port of "inet:PORT@HOST" / "inet6:PORT@HOST" (PORT a number or a service name), or -1. */
static int port_of_spec(const char *spec)
{
    const char *p;
    if (strncmp(spec, "inet:", 5) == 0)
        p = spec + 5;
    else if (strncmp(spec, "inet6:", 6) == 0)
        p = spec + 6;
    else
        return -1;
    char name[64];
    size_t n = strcspn(p, "@");
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    char *end;
    unsigned long port = strtoul(name, &end, 10);
    if (*end == '\0')
        return port > 0 && port < 65536 ? (int)port : -1;
    struct servent *se = getservbyname(name, "tcp");
    return se ? ntohs((unsigned short)se->s_port) : -1;
}

static bool is_tcp_listener_on(int fd, int port)
{
    int value;
    socklen_t len = sizeof value;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) != 0 || !value)
        return false;
    len = sizeof value;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0 || value != SOCK_STREAM)
        return false;
    struct sockaddr_storage ss;
    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    if (ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)&ss)->sin_port) == port;
    if (ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)&ss)->sin6_port) == port;
    return false;
}

int milter_listener_nodelay(const char *socket_spec)
{
    int port = port_of_spec(socket_spec);
    if (port < 0)
        return -1;
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return 0;
    int set = 0;
    const struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end != '\0' || end == e->d_name || fd == dirfd(dir))
            continue;
        if (!is_tcp_listener_on((int)fd, port))
            continue;
        int one = 1;
        if (setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
            set++;
    }
    closedir(dir);
    return set;
}
