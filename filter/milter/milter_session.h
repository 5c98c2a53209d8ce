/* milter_session.h - one MTA connection speaking the milter protocol: option negotiation,
 * macros per stage, every command, several transactions, aborts. Turns each packet into an
 * engine call and the engine's answer into reply packets. Knows no socket: milter_loop.c reads
 * the packets and writes what this appends. */
#ifndef MW_MILTER_SESSION_H
#define MW_MILTER_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "milter_proto.h"

struct milter_session;

struct milter_session *milter_session_new(void);
/* Handles one packet and appends its reply packets (none for a command without a reply) to
 * out. Returns false when the connection is to be closed: the MTA said QUIT, or the packet is
 * one we refuse (bad fields, a negotiation we cannot accept); the reason is logged. */
bool milter_session_handle(struct milter_session *s, struct milter_packet *pkt,
    struct milter_out *out);
/* The connection ended (QUIT, lost, a protocol error, a timeout, shutdown): a message in its
 * data is logged as unfinished, the transaction aborted, the session freed. */
void milter_session_end(struct milter_session *s);
/* Whether the MTA waits for a reply to this command on this connection (the no-reply steps
 * negotiated): macros, aborts and quits never get one. milter_loop.c asks, to leave the ACK of
 * a command that gets no reply to the kernel at once. */
bool milter_session_answers(const struct milter_session *s, char command);
/* True while a transaction (MAIL seen, no end yet) is open on this connection. */
bool milter_session_in_transaction(const struct milter_session *s);

/* The largest packet data we read: 256 KB, or 1 MB when a header limit allows more. */
size_t milter_session_max_data(const struct config *cfg);
void milter_sessions_set_max_data(size_t bytes);
size_t milter_sessions_max_data(void);

/* Shutdown: from now on new connections and transactions get 451 4.3.2. */
void milter_sessions_stop(void);
bool milter_sessions_stopping(void);
/* Transactions open across all connections. */
unsigned milter_sessions_in_flight(void);

#endif
