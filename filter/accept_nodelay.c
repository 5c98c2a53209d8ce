/* accept_nodelay.c - sets TCP_NODELAY on every TCP connection the milter accepts.
 *
 * libmilter answers a stage in several small writes (each reply and each modification of the
 * end of message is its own write). With Nagle's algorithm on, the second write waits until
 * the MTA acknowledges the first, and the MTA, waiting for the rest of the answer, delays
 * that ACK (about 40 ms on Linux): over TCP every message would take some 40 ms however
 * little work the filter does. libmilter offers no hook on its accepted sockets, so this file
 * defines accept() and accept4(): libmilter is a shared library that imports accept from libc,
 * and the dynamic linker binds that import to the executable's definition (the same technique
 * signals.c uses for sigwait). Ours calls libc's through dlsym(RTLD_NEXT) and then sets
 * TCP_NODELAY when the new socket is AF_INET or AF_INET6; unix sockets are left alone.
 * Every accepted connection is also registered for buffered reading (milter_readahead.c).
 * Promises: the return value and errno are exactly libc's; a failing setsockopt is ignored
 * (the connection still works, only slower). */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>

#include "milter_readahead.h"

typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

static accept_fn real_accept;
static accept4_fn real_accept4;
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static void look_up_libc(void)
{
    real_accept = (accept_fn)dlsym(RTLD_NEXT, "accept");
    real_accept4 = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
}

/* The socket's own family, not the caller's address buffer, decides: the caller may pass
 * no buffer at all. */
static void set_nodelay_if_tcp(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return;
    int one = 1;
    int saved = errno;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    errno = saved;
}

int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    pthread_once(&lookup_once, look_up_libc);
    if (real_accept == NULL) {
        errno = ENOSYS;
        return -1;
    }
    int conn = real_accept(fd, addr, addrlen);
    if (conn >= 0) {
        set_nodelay_if_tcp(conn);
        milter_readahead_register(conn);
    }
    return conn;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    pthread_once(&lookup_once, look_up_libc);
    if (real_accept4 == NULL) {
        errno = ENOSYS;
        return -1;
    }
    int conn = real_accept4(fd, addr, addrlen, flags);
    if (conn >= 0) {
        set_nodelay_if_tcp(conn);
        milter_readahead_register(conn);
    }
    return conn;
}
