/* daemon.h - process plumbing: the unix socket's mode and owner, dropping root, the pidfile,
 * detaching from the terminal. */
#ifndef MW_DAEMON_H
#define MW_DAEMON_H

#include <stdbool.h>

#include "config.h"

/* Before binding a unix: socket: refuses (logged, with the pid from milter.pidfile) when a
 * process answers on it, removes it when nothing does (a stale one); true for inet sockets. */
bool daemon_claim_unix_socket(const struct config *cfg);
/* Probes the unix socket at path without blocking: 1 when a process accepts connections on
 * it (or its backlog is full), 0 when nothing does (a stale socket), -1 when it cannot tell
 * (errno set). The control socket (ctl_server.c) is claimed the same way. */
int daemon_unix_socket_answers(const char *path);
/* Gives a unix: socket its configured owner (lchown; its mode came from the umask at bind) and
 * checks it is still a socket; true for inet sockets. */
bool daemon_socket_permissions(const struct config *cfg);
/* Drops root to milter.user/group; a no-op when not root or no user is set. */
bool daemon_drop_privileges(const struct config *cfg);
/* Writes our pid to milter.pidfile (if set): never through a link, never into anything but a
 * plain file of ours; a file it creates is given to the user we will run as. */
bool daemon_write_pidfile(const struct config *cfg);
void daemon_remove_pidfile(const struct config *cfg);
/* Forks into the background, detached from the terminal. */
bool daemon_detach(void);

#endif
