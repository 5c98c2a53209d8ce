/* daemon.h - process plumbing: the unix socket's mode and owner, dropping root, the pidfile,
 * detaching from the terminal. */
#ifndef MW_DAEMON_H
#define MW_DAEMON_H

#include <stdbool.h>

#include "config.h"

/* Sets mode and owner of a unix: socket as configured; true for inet sockets. */
bool daemon_socket_permissions(const struct config *cfg);
/* Drops root to milter.user/group; a no-op when not root or no user is set. */
bool daemon_drop_privileges(const struct config *cfg);
/* Writes our pid to milter.pidfile (if set), owned by the user we will run as. */
bool daemon_write_pidfile(const struct config *cfg);
void daemon_remove_pidfile(const struct config *cfg);
/* Forks into the background, detached from the terminal. */
bool daemon_detach(void);

#endif
