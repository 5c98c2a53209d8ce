/* milter_client.c - the MTA side of the milter protocol, version 6 (see milter_client.h).
 * Packet format (filter/milter/milter_proto.h has the protocol's constants): a 32-bit length in network order counting the command
 * byte and the data, the command byte, the data. Macros and the command they belong to go out
 * in one write, as an MTA's buffered stream does, so the generator adds no Nagle delays of its
 * own; TCP_NODELAY is set on the client socket for the same reason. */
#include "milter_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter_proto.h"

static const char *verdict_names[MC_VERDICTS] = {
    "continue", "accept", "reject", "tempfail", "discard", "skip", "connfail", "error",
};

const char *mc_verdict_name(enum mc_verdict v)
{
    return v < MC_VERDICTS ? verdict_names[v] : "?";
}

static enum mc_verdict fail(struct milter_client *mc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mc->error, sizeof mc->error, fmt, ap);
    va_end(ap);
    return MC_ERROR;
}

/* The same for functions that answer true or false: records the reason, returns false. */
static bool refuse(struct milter_client *mc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mc->error, sizeof mc->error, fmt, ap);
    va_end(ap);
    return false;
}

/* --- sending --- */

static void out_reserve(struct milter_client *mc, size_t more)
{
    if (mc->out_len + more <= mc->out_cap)
        return;
    size_t cap = mc->out_cap ? mc->out_cap : 4096;
    while (cap < mc->out_len + more)
        cap *= 2;
    unsigned char *p = realloc(mc->out, cap);
    if (p == NULL) {
        perror("mwload: realloc");
        exit(2);
    }
    mc->out = p;
    mc->out_cap = cap;
}

/* Starts a packet; returns the offset of its length field, filled in by packet_end(). */
static size_t packet_begin(struct milter_client *mc, char cmd)
{
    out_reserve(mc, 5);
    size_t at = mc->out_len;
    mc->out_len += 4;
    mc->out[mc->out_len++] = (unsigned char)cmd;
    return at;
}

static void put_bytes(struct milter_client *mc, const void *data, size_t len)
{
    out_reserve(mc, len);
    if (len > 0)
        memcpy(mc->out + mc->out_len, data, len);
    mc->out_len += len;
}

static void put_string(struct milter_client *mc, const char *s)
{
    put_bytes(mc, s, strlen(s) + 1);
}

static void put_u32(struct milter_client *mc, uint32_t v)
{
    uint32_t n = htonl(v);
    put_bytes(mc, &n, 4);
}

static void packet_end(struct milter_client *mc, size_t at)
{
    uint32_t n = htonl((uint32_t)(mc->out_len - at - 4));
    memcpy(mc->out + at, &n, 4);
}

static bool flush_out(struct milter_client *mc)
{
    size_t done = 0;
    while (done < mc->out_len) {
        ssize_t w = send(mc->fd, mc->out + done, mc->out_len - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fail(mc, "write to the filter: %s", w < 0 ? strerror(errno) : "closed");
            mc->out_len = 0;
            return false;
        }
        done += (size_t)w;
    }
    mc->out_len = 0;
    return true;
}

/* --- receiving --- */

#define MC_IN_INITIAL 4096

/* Makes room for `need` bytes of input from in_start on (moving what is buffered to the
 * front, growing the buffer when a packet is larger than it). */
static bool in_reserve(struct milter_client *mc, size_t need)
{
    size_t have = mc->in_end - mc->in_start;
    if (mc->in_start > 0 && mc->in_start + need > mc->in_cap) {
        memmove(mc->in, mc->in + mc->in_start, have);
        mc->in_start = 0;
        mc->in_end = have;
    }
    if (need <= mc->in_cap)
        return true;
    size_t cap = mc->in_cap ? mc->in_cap : MC_IN_INITIAL;
    while (cap < need)
        cap *= 2;
    unsigned char *p = realloc(mc->in, cap);
    if (p == NULL) {
        fail(mc, "out of memory for a %zu-byte packet", need);
        return false;
    }
    mc->in = p;
    mc->in_cap = cap;
    return true;
}

/* Has at least len bytes buffered from in_start, receiving as much as the socket holds. */
static bool in_fill(struct milter_client *mc, size_t len)
{
    if (!in_reserve(mc, len))
        return false;
    while (mc->in_end - mc->in_start < len) {
        ssize_t r = recv(mc->fd, mc->in + mc->in_end, mc->in_cap - mc->in_end, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            fail(mc, "the filter closed the connection");
            return false;
        }
        if (r < 0) {
            fail(mc, "read from the filter: %s", errno == EAGAIN ? "timeout" : strerror(errno));
            return false;
        }
        mc->in_end += (size_t)r;
    }
    return true;
}

/* Reads one packet into mc->buf; *cmd gets the command, *len the data length after it. */
static bool read_packet(struct milter_client *mc, char *cmd, size_t *len)
{
    uint32_t n;
    if (!in_fill(mc, 4))
        return false;
    memcpy(&n, mc->in + mc->in_start, 4);
    n = ntohl(n);
    if (n < 1 || n > MC_MAX_PACKET) {
        fail(mc, "packet length %u out of range", n);
        return false;
    }
    if (!in_fill(mc, 4 + (size_t)n))
        return false;
    if (mc->buf_cap < (size_t)n + 1) {
        unsigned char *p = realloc(mc->buf, (size_t)n + 1);
        if (p == NULL) {
            fail(mc, "out of memory for a %u-byte packet", n);
            return false;
        }
        mc->buf = p;
        mc->buf_cap = (size_t)n + 1;
    }
    memcpy(mc->buf, mc->in + mc->in_start + 4, n);
    mc->in_start += 4 + (size_t)n;
    if (mc->in_start == mc->in_end)
        mc->in_start = mc->in_end = 0;
    *cmd = (char)mc->buf[0];
    *len = n - 1;
    mc->buf[n] = '\0'; /* buf has one spare byte: data is always terminated */
    return true;
}

/* The NUL-terminated string at *pos within data[0..len), advancing *pos; NULL if none. */
static const char *take_string(const unsigned char *data, size_t len, size_t *pos)
{
    if (*pos >= len)
        return NULL;
    const char *s = (const char *)data + *pos;
    const void *nul = memchr(s, '\0', len - *pos);
    if (nul == NULL)
        return NULL;
    *pos += (size_t)((const char *)nul - s) + 1;
    return s;
}

static bool take_u32(const unsigned char *data, size_t len, size_t *pos, uint32_t *out)
{
    if (*pos > len || len - *pos < 4)
        return false;
    uint32_t n;
    memcpy(&n, data + *pos, 4);
    *out = ntohl(n);
    *pos += 4;
    return true;
}

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* Records one modification action; false if it is malformed. */
static bool record_mod(struct milter_client *mc, char cmd, const unsigned char *data, size_t len,
    struct mc_result *r)
{
    struct mc_mod mod = { .op = cmd };
    size_t pos = 0;
    const char *a = NULL, *b = NULL;
    switch (cmd) {
    case MILTER_REPLY_INSHEADER:
    case MILTER_REPLY_CHGHEADER:
        if (!take_u32(data, len, &pos, &mod.index))
            return refuse(mc, "'%c' without an index", cmd);
        /* fall through */
    case MILTER_REPLY_ADDHEADER:
        a = take_string(data, len, &pos);
        b = take_string(data, len, &pos);
        if (a == NULL || b == NULL)
            return refuse(mc, "'%c' without name and value", cmd);
        break;
    case MILTER_REPLY_ADDRCPT:
    case MILTER_REPLY_DELRCPT:
    case MILTER_REPLY_QUARANTINE:
        a = take_string(data, len, &pos);
        if (a == NULL)
            return refuse(mc, "'%c' without its argument", cmd);
        if (cmd == MILTER_REPLY_QUARANTINE)
            r->quarantined = true;
        break;
    case MILTER_REPLY_ADDRCPT_PAR:
    case MILTER_REPLY_CHGFROM:
        a = take_string(data, len, &pos);
        b = take_string(data, len, &pos); /* ESMTP arguments are optional */
        if (a == NULL)
            return refuse(mc, "'%c' without an address", cmd);
        break;
    case MILTER_REPLY_REPLBODY:
        mod.length = len;
        break;
    default:
        return refuse(mc, "unknown modification '%c'", cmd);
    }
    /* with MILTER_STEP_HDR_LEADSPC the filter sends the space after the colon itself; keep the
     * value as it would be without, so reports look the same either way */
    bool header_op = cmd == MILTER_REPLY_ADDHEADER || cmd == MILTER_REPLY_INSHEADER || cmd == MILTER_REPLY_CHGHEADER;
    if (header_op && (mc->protocol & MILTER_STEP_HDR_LEADSPC) && b != NULL && *b == ' ')
        b++;
    copy_text(mod.name, sizeof mod.name, a);
    copy_text(mod.value, sizeof mod.value, b);
    if (r->mod_count < MC_MAX_MODS)
        r->mods[r->mod_count] = mod;
    r->mod_count++;
    return true;
}

static enum mc_verdict reply_code_verdict(struct milter_client *mc, const unsigned char *data,
    size_t len, struct mc_result *r)
{
    if (len == 0 || (data[0] != '4' && data[0] != '5'))
        return fail(mc, "reply code packet \"%.40s\" is not 4xx or 5xx", (const char *)data);
    copy_text(r->reply, sizeof r->reply, (const char *)data);
    return data[0] == '5' ? MC_REJECT : MC_TEMPFAIL;
}

/* Reads until a verdict; progress packets are counted, modifications recorded only when
 * allowed (end of message). */
static enum mc_verdict read_verdict(struct milter_client *mc, bool mods_allowed,
    struct mc_result *r)
{
    for (;;) {
        char cmd;
        size_t len;
        if (!read_packet(mc, &cmd, &len))
            return MC_ERROR;
        const unsigned char *data = mc->buf + 1;
        switch (cmd) {
        case MILTER_REPLY_CONTINUE: return MC_CONTINUE;
        case MILTER_REPLY_ACCEPT: return MC_ACCEPT;
        case MILTER_REPLY_REJECT: return MC_REJECT;
        case MILTER_REPLY_TEMPFAIL: return MC_TEMPFAIL;
        case MILTER_REPLY_DISCARD: return MC_DISCARD;
        case MILTER_REPLY_SKIP: return MC_SKIP;
        case MILTER_REPLY_CONN_FAIL:
        case MILTER_REPLY_SHUTDOWN: return MC_CONNFAIL;
        case MILTER_REPLY_REPLYCODE: return reply_code_verdict(mc, data, len, r);
        case MILTER_REPLY_PROGRESS:
            r->progress++;
            continue;
        default:
            if (!mods_allowed)
                return fail(mc, "reply '%c' outside end of message", cmd);
            if (!record_mod(mc, cmd, data, len, r))
                return MC_ERROR;
        }
    }
}

/* --- connection --- */

static int connect_unix(struct milter_client *mc, const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sun.sun_path) {
        fail(mc, "socket path too long: %s", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
        return fd;
    fail(mc, "connect to unix:%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* "PORT@HOST" with HOST a numeric IPv4 or IPv6 address (loopback in practice). */
static int connect_inet(struct milter_client *mc, const char *spec)
{
    char port_text[16];
    const char *at = strchr(spec, '@');
    size_t plen = at ? (size_t)(at - spec) : 0;
    if (at == NULL || plen == 0 || plen >= sizeof port_text) {
        fail(mc, "\"%s\": expected inet:PORT@ADDRESS", spec);
        return -1;
    }
    memcpy(port_text, spec, plen);
    port_text[plen] = '\0';
    const char *host = at + 1;
    char *end;
    unsigned long port = strtoul(port_text, &end, 10);
    if (*end != '\0' || port == 0 || port > 65535) {
        fail(mc, "\"%s\": the port must be 1..65535", spec);
        return -1;
    }
    struct sockaddr_storage ss = {0};
    socklen_t sslen;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sslen = sizeof *sin;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sslen = sizeof *sin6;
    } else {
        fail(mc, "\"%s\": not a numeric address", host);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, sslen) == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
    }
    fail(mc, "connect to inet:%s: %s", spec, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

bool mc_connect(struct milter_client *mc, const char *socket_spec, int timeout_ms)
{
    memset(mc, 0, sizeof *mc);
    mc->fd = -1;
    mc->buf_cap = 1024;
    mc->buf = malloc(mc->buf_cap);
    if (mc->buf == NULL)
        return refuse(mc, "out of memory");
    if (strncmp(socket_spec, "unix:", 5) == 0)
        mc->fd = connect_unix(mc, socket_spec + 5);
    else if (strncmp(socket_spec, "local:", 6) == 0)
        mc->fd = connect_unix(mc, socket_spec + 6);
    else if (strncmp(socket_spec, "inet:", 5) == 0)
        mc->fd = connect_inet(mc, socket_spec + 5);
    else if (strncmp(socket_spec, "inet6:", 6) == 0)
        mc->fd = connect_inet(mc, socket_spec + 6);
    else
        mc->fd = connect_unix(mc, socket_spec);
    if (mc->fd < 0)
        return false;
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    setsockopt(mc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(mc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return true;
}

void mc_close(struct milter_client *mc)
{
    if (mc->fd >= 0)
        close(mc->fd);
    mc->fd = -1;
    for (int i = 0; i < MC_MACRO_STAGES; i++) {
        free(mc->symlist[i]);
        mc->symlist[i] = NULL;
    }
    free(mc->buf);
    free(mc->in);
    free(mc->out);
    mc->buf = NULL;
    mc->in = NULL;
    mc->buf_cap = mc->in_cap = mc->in_start = mc->in_end = 0;
    mc->out = NULL;
    mc->out_len = mc->out_cap = 0;
}

bool mc_negotiate(struct milter_client *mc)
{
    size_t at = packet_begin(mc, MILTER_CMD_OPTNEG);
    put_u32(mc, MILTER_PROTO_VERSION);
    put_u32(mc, 0x1ffu);
    put_u32(mc, 0x1fffffu);
    packet_end(mc, at);
    if (!flush_out(mc))
        return false;
    char cmd;
    size_t len;
    if (!read_packet(mc, &cmd, &len))
        return false;
    const unsigned char *data = mc->buf + 1;
    size_t pos = 0;
    if (cmd != MILTER_CMD_OPTNEG || !take_u32(data, len, &pos, &mc->version)
        || !take_u32(data, len, &pos, &mc->actions) || !take_u32(data, len, &pos, &mc->protocol))
        return refuse(mc, "bad negotiation reply '%c' (%zu bytes)", cmd, len);
    if (mc->version < 2 || mc->version > MILTER_PROTO_VERSION)
        return refuse(mc, "filter speaks protocol version %u", mc->version);
    /* setsymlist: pairs of (stage, "macro names") */
    while (pos < len) {
        uint32_t stage;
        const char *list;
        if (!take_u32(data, len, &pos, &stage) || (list = take_string(data, len, &pos)) == NULL)
            return refuse(mc, "malformed macro list in negotiation");
        if (stage >= MC_MACRO_STAGES)
            return refuse(mc, "macro list for unknown stage %u", stage);
        free(mc->symlist[stage]);
        mc->symlist[stage] = strdup(list);
        mc->setsymlist_count++;
    }
    return true;
}

/* Whether a macro is in the filter's list for the stage ("{x}" and "x" are the same name). */
static bool macro_wanted(const char *list, const char *name)
{
    if (list == NULL)
        return true;
    size_t nlen = strlen(name);
    if (nlen > 2 && name[0] == '{') {
        name++;
        nlen -= 2;
    }
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != ',')
            p++;
        size_t tlen = (size_t)(p - start);
        if (tlen > 2 && start[0] == '{') {
            start++;
            tlen -= 2;
        }
        if (tlen == nlen && tlen > 0 && memcmp(start, name, nlen) == 0)
            return true;
    }
    return false;
}

static void put_macros(struct milter_client *mc, char cmd, int stage,
    const struct mc_macro *macros, size_t n)
{
    if (n == 0)
        return;
    const char *list = stage >= 0 ? mc->symlist[stage] : NULL;
    size_t at = packet_begin(mc, MILTER_CMD_MACRO);
    put_bytes(mc, &cmd, 1);
    for (size_t i = 0; i < n; i++) {
        if (macros[i].value == NULL || !macro_wanted(list, macros[i].name))
            continue;
        put_string(mc, macros[i].name);
        put_string(mc, macros[i].value);
    }
    packet_end(mc, at);
}

/* Sends what is buffered and reads the reply, unless the filter said it sends none. */
static enum mc_verdict exchange(struct milter_client *mc, uint32_t no_reply_flag,
    bool mods_allowed, struct mc_result *r)
{
    if (!flush_out(mc))
        return MC_ERROR;
    if (no_reply_flag != 0 && (mc->protocol & no_reply_flag))
        return MC_CONTINUE;
    return read_verdict(mc, mods_allowed, r);
}

enum mc_verdict mc_connect_stage(struct milter_client *mc, const char *hostname, const char *addr,
    uint16_t port, const struct mc_macro *macros, size_t n, struct mc_result *r)
{
    if (mc->protocol & MILTER_STEP_NOCONNECT)
        return MC_CONTINUE;
    put_macros(mc, MILTER_CMD_CONNECT, MILTER_STAGE_CONNECT, macros, n);
    size_t at = packet_begin(mc, MILTER_CMD_CONNECT);
    put_string(mc, hostname);
    struct in6_addr a6;
    char family = strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1 ? '6' : '4';
    put_bytes(mc, &family, 1);
    uint16_t p = htons(port);
    put_bytes(mc, &p, 2);
    put_string(mc, addr);
    packet_end(mc, at);
    return exchange(mc, MILTER_STEP_NR_CONN, false, r);
}

enum mc_verdict mc_helo(struct milter_client *mc, const char *helo, const struct mc_macro *macros,
    size_t n, struct mc_result *r)
{
    if (mc->protocol & MILTER_STEP_NOHELO)
        return MC_CONTINUE;
    put_macros(mc, MILTER_CMD_HELO, MILTER_STAGE_HELO, macros, n);
    size_t at = packet_begin(mc, MILTER_CMD_HELO);
    put_string(mc, helo);
    packet_end(mc, at);
    return exchange(mc, MILTER_STEP_NR_HELO, false, r);
}

static enum mc_verdict address_stage(struct milter_client *mc, char cmd, int stage,
    uint32_t skip_flag, uint32_t nr_flag, const char *address, const struct mc_macro *macros,
    size_t n, struct mc_result *r)
{
    if (mc->protocol & skip_flag)
        return MC_CONTINUE;
    put_macros(mc, cmd, stage, macros, n);
    size_t at = packet_begin(mc, cmd);
    char bracketed[600];
    snprintf(bracketed, sizeof bracketed, "<%s>", address);
    put_string(mc, bracketed);
    packet_end(mc, at);
    return exchange(mc, nr_flag, false, r);
}

enum mc_verdict mc_mail(struct milter_client *mc, const char *sender,
    const struct mc_macro *macros, size_t n, struct mc_result *r)
{
    return address_stage(mc, MILTER_CMD_MAIL, MILTER_STAGE_MAIL, MILTER_STEP_NOMAIL, MILTER_STEP_NR_MAIL, sender,
        macros, n, r);
}

enum mc_verdict mc_rcpt(struct milter_client *mc, const char *rcpt,
    const struct mc_macro *macros, size_t n, struct mc_result *r)
{
    return address_stage(mc, MILTER_CMD_RCPT, MILTER_STAGE_RCPT, MILTER_STEP_NORCPT, MILTER_STEP_NR_RCPT, rcpt,
        macros, n, r);
}

enum mc_verdict mc_data(struct milter_client *mc, const struct mc_macro *macros, size_t n,
    struct mc_result *r)
{
    if (mc->protocol & MILTER_STEP_NODATA)
        return MC_CONTINUE;
    put_macros(mc, MILTER_CMD_DATA, MILTER_STAGE_DATA, macros, n);
    size_t at = packet_begin(mc, MILTER_CMD_DATA);
    packet_end(mc, at);
    return exchange(mc, MILTER_STEP_NR_DATA, false, r);
}

enum mc_verdict mc_header(struct milter_client *mc, const char *name, const char *value,
    struct mc_result *r)
{
    if (mc->protocol & MILTER_STEP_NOHDRS)
        return MC_CONTINUE;
    size_t at = packet_begin(mc, MILTER_CMD_HEADER);
    put_string(mc, name);
    /* without MILTER_STEP_HDR_LEADSPC the MTA drops the space after the colon */
    if (!(mc->protocol & MILTER_STEP_HDR_LEADSPC) && *value == ' ')
        value++;
    put_string(mc, value);
    packet_end(mc, at);
    return exchange(mc, MILTER_STEP_NR_HDR, false, r);
}

enum mc_verdict mc_eoh(struct milter_client *mc, const struct mc_macro *macros, size_t n,
    struct mc_result *r)
{
    if (mc->protocol & MILTER_STEP_NOEOH)
        return MC_CONTINUE;
    put_macros(mc, MILTER_CMD_EOH, MILTER_STAGE_EOH, macros, n);
    size_t at = packet_begin(mc, MILTER_CMD_EOH);
    packet_end(mc, at);
    return exchange(mc, MILTER_STEP_NR_EOH, false, r);
}

enum mc_verdict mc_body(struct milter_client *mc, const unsigned char *data, size_t len,
    struct mc_result *r)
{
    if (mc->protocol & MILTER_STEP_NOBODY)
        return MC_CONTINUE;
    size_t at = packet_begin(mc, MILTER_CMD_BODY);
    put_bytes(mc, data, len);
    packet_end(mc, at);
    return exchange(mc, MILTER_STEP_NR_BODY, false, r);
}

enum mc_verdict mc_eom(struct milter_client *mc, const struct mc_macro *macros, size_t n,
    struct mc_result *r)
{
    put_macros(mc, MILTER_CMD_BODYEOB, MILTER_STAGE_EOM, macros, n);
    size_t at = packet_begin(mc, MILTER_CMD_BODYEOB);
    packet_end(mc, at);
    return exchange(mc, 0, true, r);
}

bool mc_abort(struct milter_client *mc)
{
    size_t at = packet_begin(mc, MILTER_CMD_ABORT);
    packet_end(mc, at);
    return flush_out(mc);
}

bool mc_quit(struct milter_client *mc)
{
    size_t at = packet_begin(mc, MILTER_CMD_QUIT);
    packet_end(mc, at);
    return flush_out(mc);
}
