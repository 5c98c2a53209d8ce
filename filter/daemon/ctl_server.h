/* ctl_server.h - the daemon's control socket (mailwarden-ctl(8)): a unix socket, mode 0660 by
 * default, that only root, the daemon's own user and members of the control group may use
 * (the file mode, then SO_PEERCRED on every connection). One thread of its own accepts one
 * client at a time and runs its command (ctl_commands.c). */
#ifndef MW_CTL_SERVER_H
#define MW_CTL_SERVER_H

#include <stdbool.h>

#include "config.h"

/* Makes the socket of control.socket, as root before privileges are dropped: refuses a path
 * where a live process answers, replaces a stale socket, sets its mode, owner (milter.user) and
 * group. The socket in the default place that cannot be made only warns; a configured one
 * fails the start. True when off. */
bool ctl_server_open(const struct config *cfg);
/* Starts the thread that serves the socket; reloads read config_file. */
void ctl_server_start(const char *config_file);
/* Stops the thread (a command running is finished first), closes and removes the socket. */
void ctl_server_stop(void);

#endif
