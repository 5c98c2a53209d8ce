/* milter_client.h - the MTA side of the milter protocol, version 6, for the load generator.
 * One struct milter_client is one connection to a filter: option negotiation (with the
 * filter's setsymlist answer honoured when macros are sent), every stage command with its
 * macros, and every reply and modification action the filter may send, parsed and recorded.
 * Promises: refuses packets over MC_MAX_PACKET, and reports a protocol or socket failure as
 * MC_ERROR with a reason in mc->error. Replies are read the way an MTA reads them, as many
 * bytes as the socket holds at once (several reply packets in one recv when the filter sent
 * them together); what is read past a packet stays buffered for the next one. */
#ifndef MW_BENCH_MILTER_CLIENT_H
#define MW_BENCH_MILTER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_MAX_PACKET (1024 * 1024 + 64)
#define MC_MAX_MODS 64
#define MC_MACRO_STAGES 7 /* MILTER_STAGE_CONNECT .. MILTER_STAGE_EOH */

/* What a stage (or a whole message) ended with. */
enum mc_verdict {
    MC_CONTINUE,   /* 'c': go on (at end of message: deliver) */
    MC_ACCEPT,     /* 'a': accept, no further filtering */
    MC_REJECT,     /* 'r', or a 5xx 'y' reply */
    MC_TEMPFAIL,   /* 't', or a 4xx 'y' reply */
    MC_DISCARD,    /* 'd' */
    MC_SKIP,       /* 's': no more body chunks wanted */
    MC_CONNFAIL,   /* 'f' or '4': the filter wants the connection dropped */
    MC_ERROR,      /* socket error, timeout or a malformed packet */
    MC_VERDICTS
};

const char *mc_verdict_name(enum mc_verdict v);

/* One modification action from the end-of-message reply. */
struct mc_mod {
    char op;             /* the MILTER_REPLY_* letter */
    uint32_t index;      /* insheader/chgheader index */
    char name[128];      /* header name, recipient, sender, or quarantine reason */
    char value[512];     /* header value (truncated for display), ESMTP args */
    size_t length;       /* replbody: bytes in this chunk */
};

struct mc_result {
    enum mc_verdict verdict;
    char reply[256];     /* the 'y' reply text, if any */
    bool quarantined;
    unsigned progress;   /* 'p' packets seen */
    size_t mod_count;    /* all modifications, even past MC_MAX_MODS */
    struct mc_mod mods[MC_MAX_MODS];
};

/* A macro name and value the MTA defines; sent before the stage's command. */
struct mc_macro {
    const char *name;
    const char *value;
};

struct milter_client {
    int fd;
    uint32_t version, actions, protocol;      /* what the filter answered in negotiation */
    char *symlist[MC_MACRO_STAGES];           /* setsymlist per MILTER_STAGE_* stage, or NULL */
    unsigned setsymlist_count;
    char error[256];
    unsigned char *buf;                       /* the current packet (+ a terminating NUL) */
    size_t buf_cap;
    unsigned char *in;                        /* bytes received, not yet taken as packets */
    size_t in_start, in_end, in_cap;
    unsigned char *out;                       /* send buffer: macros + command in one write */
    size_t out_len, out_cap;
};

/* Connects to "unix:PATH", "local:PATH", "inet:PORT@HOST", "inet6:PORT@HOST" or a bare path.
 * timeout_ms bounds every read and write. */
bool mc_connect(struct milter_client *mc, const char *socket_spec, int timeout_ms);
void mc_close(struct milter_client *mc);

/* MILTER_CMD_OPTNEG: offers version 6, every action and every protocol step. */
bool mc_negotiate(struct milter_client *mc);

/* The stages. Each sends the stage's macros (filtered by the filter's setsymlist, as an MTA
 * does) and the command, then reads the reply unless the filter asked for none (MILTER_STEP_NR_*)
 * or for the stage to be skipped (MILTER_STEP_NO*), in which case the verdict is MC_CONTINUE. */
enum mc_verdict mc_connect_stage(struct milter_client *mc, const char *hostname, const char *addr,
    uint16_t port, const struct mc_macro *macros, size_t n, struct mc_result *r);
enum mc_verdict mc_helo(struct milter_client *mc, const char *helo, const struct mc_macro *macros,
    size_t n, struct mc_result *r);
enum mc_verdict mc_mail(struct milter_client *mc, const char *sender,
    const struct mc_macro *macros, size_t n, struct mc_result *r);
enum mc_verdict mc_rcpt(struct milter_client *mc, const char *rcpt,
    const struct mc_macro *macros, size_t n, struct mc_result *r);
enum mc_verdict mc_data(struct milter_client *mc, const struct mc_macro *macros, size_t n,
    struct mc_result *r);
enum mc_verdict mc_header(struct milter_client *mc, const char *name, const char *value,
    struct mc_result *r);
enum mc_verdict mc_eoh(struct milter_client *mc, const struct mc_macro *macros, size_t n,
    struct mc_result *r);
/* Sends one body chunk (at most 65535 bytes; the caller splits). */
enum mc_verdict mc_body(struct milter_client *mc, const unsigned char *data, size_t len,
    struct mc_result *r);
/* MILTER_CMD_BODYEOB: collects modifications until the final verdict. */
enum mc_verdict mc_eom(struct milter_client *mc, const struct mc_macro *macros, size_t n,
    struct mc_result *r);
/* MILTER_CMD_ABORT (no reply) ends a transaction that stopped before end of message. */
bool mc_abort(struct milter_client *mc);
bool mc_quit(struct milter_client *mc);

#endif
