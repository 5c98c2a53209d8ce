/* tests/fuzz/fuzz_milter_proto.c - libFuzzer target for the milter packet reader and decoders
 * (filter/milter/milter_proto.c). The input is read as the byte stream an MTA sends: packet after
 * packet until the reader asks for more or refuses, each packet decoded by what its command
 * carries, and a reply encoded from what was decoded. Promises under test: no crash, leak or
 * read out of bounds; a packet never extends past the input; every decoded string ends inside
 * its packet; an encoded reply's length field matches its bytes. */
#include <stdlib.h>
#include <string.h>

#include "milter_proto.h"

static void check_inside(const struct milter_packet *pkt, const char *s)
{
    if (s == NULL)
        return;
    if (s < pkt->data || s + strlen(s) >= pkt->data + pkt->len)
        abort();
}

static void check_reply(const struct milter_out *out)
{
    size_t at = 0;
    while (at < out->len) {
        if (out->len - at < 5)
            abort();
        const unsigned char *p = (const unsigned char *)out->data + at;
        size_t size = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
        if (size == 0 || size > out->len - at - 4)
            abort();
        at += 4 + size;
    }
}

static void decode(struct milter_packet *pkt, struct milter_out *out)
{
    const char *why = NULL, *s = NULL, *name = NULL, *value = NULL;
    struct milter_optneg o;
    struct milter_connect c;
    struct milter_macros m;
    char *argv[MILTER_ARGS_MAX];
    size_t argc = 0;
    switch (pkt->command) {
    case MILTER_CMD_OPTNEG:
        if (milter_decode_optneg(pkt, &o, &why)) {
            const char *macros[MILTER_STAGE_COUNT] = { "j _", NULL, "i", NULL, NULL, "i", NULL };
            milter_put_optneg(out, o.version, o.actions, o.steps, macros);
        }
        break;
    case MILTER_CMD_CONNECT:
        if (milter_decode_connect(pkt, &c, &why)) {
            check_inside(pkt, c.hostname);
            check_inside(pkt, c.address);
            milter_put_replycode(out, c.hostname);
        }
        break;
    case MILTER_CMD_MACRO:
        if (milter_decode_macros(pkt, &m, &why)) {
            for (size_t i = 0; i < 2 * m.count; i++)
                check_inside(pkt, m.pairs[i]);
            (void)milter_stage_of_command(m.command);
        }
        break;
    case MILTER_CMD_HELO:
    case MILTER_CMD_UNKNOWN:
        if (milter_decode_string(pkt, &s, &why)) {
            check_inside(pkt, s);
            milter_put_quarantine(out, s);
        }
        break;
    case MILTER_CMD_MAIL:
    case MILTER_CMD_RCPT:
        if (milter_decode_args(pkt, argv, &argc, &why)) {
            for (size_t i = 0; i < argc; i++)
                check_inside(pkt, argv[i]);
            milter_put_addrcpt_par(out, argv[0], argc > 1 ? argv[1] : NULL);
            milter_put_chgfrom(out, argv[0], NULL);
            milter_put_delrcpt(out, argv[0]);
        }
        break;
    case MILTER_CMD_HEADER:
        if (milter_decode_header(pkt, &name, &value, &why)) {
            check_inside(pkt, name);
            check_inside(pkt, value);
            milter_put_insheader(out, 1, name, value);
            milter_put_chgheader(out, 1, name, NULL);
            milter_put_addheader(out, name, value);
        }
        break;
    case MILTER_CMD_BODY:
    case MILTER_CMD_BODYEOB:
        milter_put_replbody(out, pkt->data, pkt->len);
        break;
    default:
        milter_put_simple(out, MILTER_REPLY_CONTINUE);
        break;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    struct milter_out out = {0};
    size_t at = 0;
    for (;;) {
        struct milter_packet pkt;
        size_t used = 0;
        const char *why = NULL;
        enum milter_read r = milter_read_packet(buf + at, size - at, 65536, &pkt, &used, &why);
        if (r == MILTER_READ_ERROR && why == NULL)
            abort();
        if (r != MILTER_READ_PACKET)
            break;
        if (used < 5 || used > size - at || pkt.data + pkt.len != buf + at + used)
            abort();
        decode(&pkt, &out);
        at += used;
    }
    check_reply(&out);
    milter_out_free(&out);
    free(buf);
    return 0;
}
