/* milter_listener.h - TCP_NODELAY on the listening socket libmilter opened: see
 * milter_listener.c. */
#ifndef MW_MILTER_LISTENER_H
#define MW_MILTER_LISTENER_H

/* For a TCP milter socket ("inet:PORT@HOST", "inet6:PORT@HOST"): sets TCP_NODELAY on this
 * process's listening TCP sockets bound to PORT and returns how many it set (0: none found or
 * the option refused). For any other socket (unix:, local:) returns -1 and touches nothing. */
int milter_listener_nodelay(const char *socket_spec);

#endif
