/* milter_readahead.c - reads the MTA's milter connections in blocks instead of in pieces.
 *
 * libmilter reads every command with poll(), read() of the 5-byte length and command, poll()
 * again and read() of the rest: four system calls per command, for each of the dozen or so
 * commands of a message (headers and body chunks included, even when they get no reply). On a
 * virtual machine a system call is expensive, and these were most of the daemon's CPU time
 * after the RSA signature. libmilter offers no hook on its sockets, so, like accept_nodelay.c
 * (which registers each accepted connection here), this file defines read(), poll() and
 * close(), which the dynamic linker binds libmilter's imports to. For a registered connection,
 * read() takes up to READAHEAD_BYTES from the socket at once and serves the following reads
 * from that buffer, and poll() reports such a socket readable at once while its buffer holds
 * bytes; close() drops the buffer. Every other descriptor goes straight to libc (one array
 * look-up more per call).
 *
 * Promises: the bytes libmilter reads are exactly the bytes the MTA sent, in order; a read
 * never waits longer than libc's would (it asks the kernel only when the buffer is empty,
 * and the kernel returns what it has); end of file, errors and errno are libc's; a read of at
 * least READAHEAD_BYTES with an empty buffer goes to the socket directly. Each connection is
 * read by one thread at a time (libmilter's model); registration and close may come from
 * other threads and are atomic. Descriptors from MAX_TRACKED_FD on are never buffered. */
#include "milter_readahead.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READAHEAD_BYTES 8192
#define MAX_TRACKED_FD 65536

struct readahead {
    size_t start, end;          /* unread bytes are data[start..end) */
    unsigned char data[READAHEAD_BYTES];
};

static _Atomic(struct readahead *) buffers[MAX_TRACKED_FD];

typedef ssize_t read_fn(int, void *, size_t);
typedef int poll_fn(struct pollfd *, nfds_t, int);
typedef int close_fn(int);

static read_fn *real_read;
static poll_fn *real_poll;
static close_fn *real_close;
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static void look_up_libc(void)
{
    void *r = dlsym(RTLD_NEXT, "read");
    void *p = dlsym(RTLD_NEXT, "poll");
    void *c = dlsym(RTLD_NEXT, "close");
    memcpy(&real_read, &r, sizeof r);
    memcpy(&real_poll, &p, sizeof p);
    memcpy(&real_close, &c, sizeof c);
    if (real_read == NULL || real_poll == NULL || real_close == NULL)
        abort();                /* libc is linked: the symbols exist */
}

static struct readahead *buffer_of(int fd)
{
    if (fd < 0 || fd >= MAX_TRACKED_FD)
        return NULL;
    return atomic_load_explicit(&buffers[fd], memory_order_acquire);
}

void milter_readahead_register(int fd)
{
    if (fd < 0 || fd >= MAX_TRACKED_FD)
        return;
    int saved = errno;
    struct readahead *b = calloc(1, sizeof *b);
    errno = saved;
    if (b == NULL)
        return;                 /* unbuffered: slower, still correct */
    free(atomic_exchange_explicit(&buffers[fd], b, memory_order_acq_rel));
}

ssize_t read(int fd, void *buf, size_t count)
{
    pthread_once(&lookup_once, look_up_libc);
    struct readahead *b = buffer_of(fd);
    if (b == NULL || count == 0)
        return real_read(fd, buf, count);
    if (b->start == b->end) {
        if (count >= READAHEAD_BYTES)
            return real_read(fd, buf, count);
        ssize_t got = real_read(fd, b->data, READAHEAD_BYTES);
        if (got <= 0)
            return got;
        b->start = 0;
        b->end = (size_t)got;
    }
    size_t n = b->end - b->start < count ? b->end - b->start : count;
    memcpy(buf, b->data + b->start, n);
    b->start += n;
    return (ssize_t)n;
}

static bool has_buffered(const struct pollfd *p)
{
    if (!(p->events & POLLIN))
        return false;
    const struct readahead *b = buffer_of(p->fd);
    return b != NULL && b->start < b->end;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    pthread_once(&lookup_once, look_up_libc);
    nfds_t buffered = 0;
    for (nfds_t i = 0; i < nfds; i++)
        buffered += has_buffered(&fds[i]);
    if (buffered == 0)
        return real_poll(fds, nfds, timeout);
    /* something is readable already: the others are only looked at, never waited for */
    if (buffered < nfds) {
        int saved = errno;
        if (real_poll(fds, nfds, 0) < 0) {
            for (nfds_t i = 0; i < nfds; i++)
                fds[i].revents = 0;
        }
        errno = saved;
    }
    int ready = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        if (has_buffered(&fds[i]))
            fds[i].revents = buffered == nfds ? POLLIN : (short)(fds[i].revents | POLLIN);
        ready += fds[i].revents != 0;
    }
    return ready;
}

int close(int fd)
{
    pthread_once(&lookup_once, look_up_libc);
    if (fd >= 0 && fd < MAX_TRACKED_FD)
        free(atomic_exchange_explicit(&buffers[fd], NULL, memory_order_acq_rel));
    return real_close(fd);
}
