/* milter_proto.c - reads milter packets from a byte buffer and writes replies into one.
 * Promises: never reads past the length it is given, never trusts a length field beyond the
 * bound, never hands out a string that is not NUL-terminated inside its packet; an encoder
 * always appends one whole packet. Knows nothing of sockets or of the engine. */
#include "milter_proto.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint32_t get_u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) | ((uint32_t)u[2] << 8) | u[3];
}

static bool is_known_command(char c)
{
    return c != '\0' && strchr("ABCDEHKLMNOQRTU", c) != NULL;
}

enum milter_read milter_read_packet(char *buf, size_t len, size_t max_data,
    struct milter_packet *pkt, size_t *used, const char **why)
{
    if (len < 4)
        return MILTER_READ_MORE;
    uint32_t size = get_u32(buf);
    if (max_data == 0 || max_data > MILTER_PACKET_LIMIT)
        max_data = MILTER_PACKET_LIMIT;
    if (size == 0) {
        *why = "a packet of length 0 (no command byte)";
        return MILTER_READ_ERROR;
    }
    if (size - 1 > max_data) {
        *why = "a packet longer than the largest we accept";
        return MILTER_READ_ERROR;
    }
    if (len < 5)
        return MILTER_READ_MORE;
    if (!is_known_command(buf[4])) {
        *why = "an unknown command byte";
        return MILTER_READ_ERROR;
    }
    if (len - 4 < size)
        return MILTER_READ_MORE;
    pkt->command = buf[4];
    pkt->data = buf + 5;
    pkt->len = size - 1;
    *used = 4 + (size_t)size;
    return MILTER_READ_PACKET;
}

bool milter_split_strings(char *data, size_t len, char **out, size_t max, size_t *count,
    const char **why)
{
    *count = 0;
    if (len == 0)
        return true;
    if (data[len - 1] != '\0') {
        *why = "a string field without its terminating NUL";
        return false;
    }
    size_t at = 0;
    while (at < len) {
        if (*count == max) {
            *why = "more string fields than a command may carry";
            return false;
        }
        out[(*count)++] = data + at;
        at += strlen(data + at) + 1;
    }
    return true;
}

bool milter_decode_optneg(const struct milter_packet *pkt, struct milter_optneg *out,
    const char **why)
{
    if (pkt->len < 12) {
        *why = "an option negotiation shorter than 12 bytes";
        return false;
    }
    out->version = get_u32(pkt->data);
    out->actions = get_u32(pkt->data + 4);
    out->steps = get_u32(pkt->data + 8);
    return true;
}

/* The length of the NUL-terminated string at data[0..len), or -1 without a NUL. */
static long string_at(const char *data, size_t len)
{
    const char *nul = memchr(data, '\0', len);
    return nul == NULL ? -1 : (long)(nul - data);
}

bool milter_decode_connect(const struct milter_packet *pkt, struct milter_connect *out,
    const char **why)
{
    long host_len = string_at(pkt->data, pkt->len);
    if (host_len < 0) {
        *why = "a connect without a NUL-terminated host name";
        return false;
    }
    size_t at = (size_t)host_len + 1;
    out->hostname = pkt->data;
    out->port = 0;
    out->address = NULL;
    if (at >= pkt->len) {
        *why = "a connect without an address family";
        return false;
    }
    out->family = pkt->data[at++];
    if (out->family == 'U')
        return true;
    if (out->family != '4' && out->family != '6' && out->family != 'L') {
        *why = "a connect with an unknown address family";
        return false;
    }
    if (pkt->len - at < 2) {
        *why = "a connect without a port";
        return false;
    }
    out->port = (uint16_t)(((unsigned char)pkt->data[at] << 8) | (unsigned char)pkt->data[at + 1]);
    at += 2;
    long addr_len = string_at(pkt->data + at, pkt->len - at);
    if (addr_len < 0 || at + (size_t)addr_len + 1 != pkt->len) {
        *why = "a connect whose address is not one NUL-terminated string";
        return false;
    }
    out->address = pkt->data + at;
    return true;
}

bool milter_decode_macros(const struct milter_packet *pkt, struct milter_macros *out,
    const char **why)
{
    if (pkt->len < 1) {
        *why = "a macro packet without the command it is for";
        return false;
    }
    out->command = pkt->data[0];
    if (!milter_split_strings(pkt->data + 1, pkt->len - 1, out->pairs, 2 * MILTER_MACROS_MAX,
            &out->count, why))
        return false;
    if (out->count % 2 != 0) {
        *why = "a macro name without a value";
        return false;
    }
    out->count /= 2;
    return true;
}

bool milter_decode_string(const struct milter_packet *pkt, const char **out, const char **why)
{
    char *one[1];
    size_t n;
    if (!milter_split_strings(pkt->data, pkt->len, one, 1, &n, why))
        return false;
    if (n != 1) {
        *why = "a command without its string";
        return false;
    }
    *out = one[0];
    return true;
}

bool milter_decode_args(const struct milter_packet *pkt, char **argv, size_t *argc,
    const char **why)
{
    if (!milter_split_strings(pkt->data, pkt->len, argv, MILTER_ARGS_MAX, argc, why))
        return false;
    if (*argc == 0) {
        *why = "an envelope command without an address";
        return false;
    }
    return true;
}

bool milter_decode_header(const struct milter_packet *pkt, const char **name,
    const char **value, const char **why)
{
    char *two[2];
    size_t n;
    if (!milter_split_strings(pkt->data, pkt->len, two, 2, &n, why))
        return false;
    if (n != 2) {
        *why = "a header field that is not a name and a value";
        return false;
    }
    *name = two[0];
    *value = two[1];
    return true;
}

int milter_stage_of_command(char command)
{
    switch (command) {
    case MILTER_CMD_CONNECT: return MILTER_STAGE_CONNECT;
    case MILTER_CMD_HELO: return MILTER_STAGE_HELO;
    case MILTER_CMD_MAIL: return MILTER_STAGE_MAIL;
    case MILTER_CMD_RCPT: return MILTER_STAGE_RCPT;
    case MILTER_CMD_DATA: return MILTER_STAGE_DATA;
    case MILTER_CMD_BODYEOB: return MILTER_STAGE_EOM;
    case MILTER_CMD_EOH: return MILTER_STAGE_EOH;
    default: return -1;
    }
}

void milter_out_free(struct milter_out *out)
{
    free(out->data);
    memset(out, 0, sizeof *out);
}

void milter_out_clear(struct milter_out *out)
{
    out->len = 0;
}

static void reserve(struct milter_out *out, size_t more)
{
    if (out->cap - out->len >= more)
        return;
    size_t cap = out->cap ? out->cap : 256;
    while (cap - out->len < more)
        cap *= 2;
    out->data = xrealloc(out->data, cap);
    out->cap = cap;
}

static void append(struct milter_out *out, const void *data, size_t len)
{
    reserve(out, len);
    if (len > 0)
        memcpy(out->data + out->len, data, len);
    out->len += len;
}

void milter_out_append(struct milter_out *out, const struct milter_out *from)
{
    if (from->len > 0)
        append(out, from->data, from->len);
}

static void append_u32(struct milter_out *out, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
        (unsigned char)(v >> 8), (unsigned char)v };
    append(out, b, 4);
}

static void append_string(struct milter_out *out, const char *s)
{
    append(out, s, strlen(s) + 1);
}

/* Starts a packet: a length to be filled in by end_packet, and the command byte. */
static size_t begin_packet(struct milter_out *out, char reply)
{
    size_t at = out->len;
    append_u32(out, 0);
    append(out, &reply, 1);
    return at;
}

static void end_packet(struct milter_out *out, size_t at)
{
    uint32_t size = (uint32_t)(out->len - at - 4);
    unsigned char *p = (unsigned char *)out->data + at;
    p[0] = (unsigned char)(size >> 24);
    p[1] = (unsigned char)(size >> 16);
    p[2] = (unsigned char)(size >> 8);
    p[3] = (unsigned char)size;
}

void milter_put_simple(struct milter_out *out, char reply)
{
    end_packet(out, begin_packet(out, reply));
}

static void put_strings(struct milter_out *out, char reply, const char *a, const char *b)
{
    size_t at = begin_packet(out, reply);
    append_string(out, a);
    if (b != NULL)
        append_string(out, b);
    end_packet(out, at);
}

void milter_put_replycode(struct milter_out *out, const char *text)
{
    put_strings(out, MILTER_REPLY_REPLYCODE, text, NULL);
}

void milter_put_addheader(struct milter_out *out, const char *name, const char *value)
{
    put_strings(out, MILTER_REPLY_ADDHEADER, name, value);
}

static void put_indexed_header(struct milter_out *out, char reply, uint32_t index,
    const char *name, const char *value)
{
    size_t at = begin_packet(out, reply);
    append_u32(out, index);
    append_string(out, name);
    append_string(out, value != NULL ? value : "");
    end_packet(out, at);
}

void milter_put_insheader(struct milter_out *out, uint32_t index, const char *name,
    const char *value)
{
    put_indexed_header(out, MILTER_REPLY_INSHEADER, index, name, value);
}

void milter_put_chgheader(struct milter_out *out, uint32_t index, const char *name,
    const char *value)
{
    put_indexed_header(out, MILTER_REPLY_CHGHEADER, index, name, value);
}

void milter_put_quarantine(struct milter_out *out, const char *reason)
{
    put_strings(out, MILTER_REPLY_QUARANTINE, reason, NULL);
}

void milter_put_addrcpt(struct milter_out *out, const char *rcpt)
{
    put_strings(out, MILTER_REPLY_ADDRCPT, rcpt, NULL);
}

void milter_put_addrcpt_par(struct milter_out *out, const char *rcpt, const char *args)
{
    put_strings(out, MILTER_REPLY_ADDRCPT_PAR, rcpt, args);
}

void milter_put_delrcpt(struct milter_out *out, const char *rcpt)
{
    put_strings(out, MILTER_REPLY_DELRCPT, rcpt, NULL);
}

void milter_put_chgfrom(struct milter_out *out, const char *sender, const char *args)
{
    put_strings(out, MILTER_REPLY_CHGFROM, sender, args);
}

void milter_put_replbody(struct milter_out *out, const void *data, size_t len)
{
    size_t at = begin_packet(out, MILTER_REPLY_REPLBODY);
    append(out, data, len);
    end_packet(out, at);
}

void milter_put_optneg(struct milter_out *out, uint32_t version, uint32_t actions,
    uint32_t steps, const char *const macros[MILTER_STAGE_COUNT])
{
    size_t at = begin_packet(out, MILTER_REPLY_OPTNEG);
    append_u32(out, version);
    append_u32(out, actions);
    append_u32(out, steps);
    for (uint32_t i = 0; macros != NULL && i < MILTER_STAGE_COUNT; i++) {
        if (macros[i] == NULL)
            continue;
        append_u32(out, i);
        append_string(out, macros[i]);
    }
    end_packet(out, at);
}
