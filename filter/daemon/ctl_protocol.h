/* ctl_protocol.h - the line protocol of the control socket, shared by the daemon (ctl_server.c)
 * and mailwarden-ctl (ctl_main.c); mailwarden-ctl(8) documents it.
 *
 * The client sends one request line, "COMMAND [ARGUMENT]" and LF (CR LF is accepted), at most
 * CTL_REQUEST_MAX bytes of printable ASCII. The daemon answers with any number of body lines,
 * each "+ " and text, and ends with one status line: "OK", "FAILED" (the command ran and says
 * no: a refused reload, a key that does not match), "ERROR reason" (a request it does not
 * understand) or "DENIED" (the peer may not use the socket). Then it closes the connection. */
#ifndef MW_CTL_PROTOCOL_H
#define MW_CTL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_REQUEST_MAX 512        /* bytes of a request line, LF included */
#define CTL_ARGUMENT_MAX 64        /* bytes of an argument (a key name) */

enum ctl_command {
    CTL_RELOAD,
    CTL_STATUS,
    CTL_STATS,
    CTL_TEST_KEY,
    CTL_FLUSH_DNS_CACHE,
};

struct ctl_request {
    enum ctl_command command;
    char argument[CTL_ARGUMENT_MAX + 1];   /* "" for commands without one */
};

/* Parses one request line (with or without its line end). False + why (for an "ERROR" line)
 * when it is not a request: an unknown command, a missing or extra argument, a control
 * character, too long. */
bool ctl_parse_request(const char *line, size_t len, struct ctl_request *out, char *why,
    size_t why_size);

/* The command's name as the client writes it ("flush-dns-cache"). */
const char *ctl_command_name(enum ctl_command command);

/* A body line for the wire: "+ " and text with every control character replaced by '?', and
 * LF; truncated to fit size. */
void ctl_format_body_line(const char *text, char *buf, size_t size);

#endif
