/* milter_proto.h - the milter protocol (version 6) as bytes: the packet reader for what an MTA
 * sends and the encoders for every reply and modification a filter may send back. Pure: no
 * socket, no engine, no global state; every function works on buffers the caller owns.
 *
 * A packet is a 4-byte length in network order (counting the command byte and the data), one
 * command byte, then the data. Strings in the data end in NUL. The constants below are the
 * protocol's (Sendmail's mfdef.h names them SMFIC_*, SMFIR_*, SMFIF_*, SMFIP_*, SMFIM_*; the
 * names here say the same with our prefix). */
#ifndef MW_MILTER_PROTO_H
#define MW_MILTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MILTER_PROTO_VERSION 6   /* the version we speak; we accept MTAs offering 2 to 6 */
#define MILTER_PROTO_OLDEST 2

/* Commands, MTA to filter (SMFIC_*). */
#define MILTER_CMD_ABORT 'A'
#define MILTER_CMD_BODY 'B'
#define MILTER_CMD_CONNECT 'C'
#define MILTER_CMD_MACRO 'D'
#define MILTER_CMD_BODYEOB 'E'
#define MILTER_CMD_HELO 'H'
#define MILTER_CMD_QUIT_NC 'K'
#define MILTER_CMD_HEADER 'L'
#define MILTER_CMD_MAIL 'M'
#define MILTER_CMD_EOH 'N'
#define MILTER_CMD_OPTNEG 'O'
#define MILTER_CMD_QUIT 'Q'
#define MILTER_CMD_RCPT 'R'
#define MILTER_CMD_DATA 'T'
#define MILTER_CMD_UNKNOWN 'U'

/* Replies and modifications, filter to MTA (SMFIR_*). */
#define MILTER_REPLY_ADDRCPT '+'
#define MILTER_REPLY_DELRCPT '-'
#define MILTER_REPLY_ADDRCPT_PAR '2'
#define MILTER_REPLY_SHUTDOWN '4'
#define MILTER_REPLY_ACCEPT 'a'
#define MILTER_REPLY_REPLBODY 'b'
#define MILTER_REPLY_CONTINUE 'c'
#define MILTER_REPLY_DISCARD 'd'
#define MILTER_REPLY_CHGFROM 'e'
#define MILTER_REPLY_CONN_FAIL 'f'
#define MILTER_REPLY_ADDHEADER 'h'
#define MILTER_REPLY_INSHEADER 'i'
#define MILTER_REPLY_SETSYMLIST 'l'
#define MILTER_REPLY_CHGHEADER 'm'
#define MILTER_REPLY_PROGRESS 'p'
#define MILTER_REPLY_QUARANTINE 'q'
#define MILTER_REPLY_REJECT 'r'
#define MILTER_REPLY_SKIP 's'
#define MILTER_REPLY_TEMPFAIL 't'
#define MILTER_REPLY_REPLYCODE 'y'
#define MILTER_REPLY_OPTNEG 'O'

/* Actions a filter may take (SMFIF_*), offered by the MTA and asked for by the filter. */
#define MILTER_ACT_ADDHDRS 0x001u
#define MILTER_ACT_CHGBODY 0x002u
#define MILTER_ACT_ADDRCPT 0x004u
#define MILTER_ACT_DELRCPT 0x008u
#define MILTER_ACT_CHGHDRS 0x010u
#define MILTER_ACT_QUARANTINE 0x020u
#define MILTER_ACT_CHGFROM 0x040u
#define MILTER_ACT_ADDRCPT_PAR 0x080u
#define MILTER_ACT_SETSYMLIST 0x100u

/* Protocol steps (SMFIP_*): stages the filter does not want (NO*), stages it will not reply
 * to (NR_*), and the header-value leading-space flag. */
#define MILTER_STEP_NOCONNECT 0x000001u
#define MILTER_STEP_NOHELO 0x000002u
#define MILTER_STEP_NOMAIL 0x000004u
#define MILTER_STEP_NORCPT 0x000008u
#define MILTER_STEP_NOBODY 0x000010u
#define MILTER_STEP_NOHDRS 0x000020u
#define MILTER_STEP_NOEOH 0x000040u
#define MILTER_STEP_NR_HDR 0x000080u
#define MILTER_STEP_NOUNKNOWN 0x000100u
#define MILTER_STEP_NODATA 0x000200u
#define MILTER_STEP_SKIP 0x000400u
#define MILTER_STEP_RCPT_REJ 0x000800u
#define MILTER_STEP_NR_CONN 0x001000u
#define MILTER_STEP_NR_HELO 0x002000u
#define MILTER_STEP_NR_MAIL 0x004000u
#define MILTER_STEP_NR_RCPT 0x008000u
#define MILTER_STEP_NR_DATA 0x010000u
#define MILTER_STEP_NR_UNKN 0x020000u
#define MILTER_STEP_NR_EOH 0x040000u
#define MILTER_STEP_NR_BODY 0x080000u
#define MILTER_STEP_HDR_LEADSPC 0x100000u

/* Macro stages of a symbol list (SMFIM_*), in the order of the option negotiation reply. */
enum milter_stage {
    MILTER_STAGE_CONNECT = 0,
    MILTER_STAGE_HELO = 1,
    MILTER_STAGE_MAIL = 2,
    MILTER_STAGE_RCPT = 3,
    MILTER_STAGE_DATA = 4,
    MILTER_STAGE_EOM = 5,
    MILTER_STAGE_EOH = 6,
    MILTER_STAGE_COUNT = 7
};

/* The largest packet we ever accept, whatever the caller asks: 1 MB of data. */
#define MILTER_PACKET_LIMIT ((size_t)1024 * 1024)

/* One packet inside the caller's buffer: data points just after the command byte. */
struct milter_packet {
    char command;
    char *data;
    size_t len;
};

enum milter_read {
    MILTER_READ_PACKET,    /* *pkt is a whole packet; *used bytes of the buffer were consumed */
    MILTER_READ_MORE,      /* the buffer holds part of a packet: read more */
    MILTER_READ_ERROR      /* the stream is broken: *why says how; close the connection */
};

/* Reads the first packet of buf[0..len). A packet whose data is longer than max_data (or
 * MILTER_PACKET_LIMIT), a zero length, or an unknown command byte is an error. */
enum milter_read milter_read_packet(char *buf, size_t len, size_t max_data,
    struct milter_packet *pkt, size_t *used, const char **why);

/* Splits data into its NUL-terminated strings: false (with *why) when the data does not end
 * in NUL or holds more than max strings. An empty data gives 0 strings. */
bool milter_split_strings(char *data, size_t len, char **out, size_t max, size_t *count,
    const char **why);

/* The fields of each command that carries any. Each returns false with *why on bad data. */
struct milter_optneg {
    uint32_t version, actions, steps;
};
bool milter_decode_optneg(const struct milter_packet *pkt, struct milter_optneg *out,
    const char **why);

/* family: '4' (port and address follow), '6' (the same), 'L' (a unix socket: port and path),
 * 'U' (unknown: nothing follows). */
struct milter_connect {
    const char *hostname;
    char family;
    uint16_t port;          /* host order */
    const char *address;    /* NULL for 'U' */
};
bool milter_decode_connect(const struct milter_packet *pkt, struct milter_connect *out,
    const char **why);

/* D: the command the macros are for, and name/value pairs (pairs[2*i], pairs[2*i+1]). */
#define MILTER_MACROS_MAX 64
struct milter_macros {
    char command;
    char *pairs[2 * MILTER_MACROS_MAX];
    size_t count;           /* pairs */
};
bool milter_decode_macros(const struct milter_packet *pkt, struct milter_macros *out,
    const char **why);

/* H, U: one string. */
bool milter_decode_string(const struct milter_packet *pkt, const char **out, const char **why);
/* M, R: the address and its ESMTP arguments (at least the address). */
#define MILTER_ARGS_MAX 32
bool milter_decode_args(const struct milter_packet *pkt, char **argv, size_t *argc,
    const char **why);
/* L: a header field's name and value. */
bool milter_decode_header(const struct milter_packet *pkt, const char **name,
    const char **value, const char **why);

/* Which macro stage a D packet's command byte belongs to; -1 for none. */
int milter_stage_of_command(char command);

/* The bytes to send: encoders append whole packets to it. */
struct milter_out {
    char *data;
    size_t len, cap;
};
void milter_out_free(struct milter_out *out);
void milter_out_clear(struct milter_out *out);
/* Appends the whole packets of another buffer. */
void milter_out_append(struct milter_out *out, const struct milter_out *from);

/* c, a, r, t, d, p, s, f, 4: a reply without data. */
void milter_put_simple(struct milter_out *out, char reply);
/* y: "CODE X.Y.Z text", sent as given (the caller escapes % and removes CR and LF). */
void milter_put_replycode(struct milter_out *out, const char *text);
void milter_put_addheader(struct milter_out *out, const char *name, const char *value);
void milter_put_insheader(struct milter_out *out, uint32_t index, const char *name,
    const char *value);
/* value NULL or "" deletes the index-th field of that name (1-based). */
void milter_put_chgheader(struct milter_out *out, uint32_t index, const char *name,
    const char *value);
void milter_put_quarantine(struct milter_out *out, const char *reason);
void milter_put_addrcpt(struct milter_out *out, const char *rcpt);
/* args may be NULL. */
void milter_put_addrcpt_par(struct milter_out *out, const char *rcpt, const char *args);
void milter_put_delrcpt(struct milter_out *out, const char *rcpt);
void milter_put_chgfrom(struct milter_out *out, const char *sender, const char *args);
void milter_put_replbody(struct milter_out *out, const void *data, size_t len);
/* O: our version, actions and steps, then each stage's macro list that is not NULL. */
void milter_put_optneg(struct milter_out *out, uint32_t version, uint32_t actions,
    uint32_t steps, const char *const macros[MILTER_STAGE_COUNT]);

#endif
