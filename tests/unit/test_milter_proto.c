/* test_milter_proto.c - the milter packet codec (filter/milter/milter_proto.c) against hand-written
 * packets: every command an MTA sends is read and decoded, every reply and modification is
 * encoded byte for byte as the protocol lays it out, and broken input (a short or zero length,
 * a packet over the bound, an unknown command, strings without their NUL, a connect cut short)
 * is refused with a reason instead of being read past its end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "milter_proto.h"

/* A packet as the MTA writes it: length, command, data (data may hold NULs: len says). */
static size_t packet(char *buf, char cmd, const char *data, size_t len)
{
    uint32_t size = (uint32_t)len + 1;
    buf[0] = (char)(size >> 24);
    buf[1] = (char)(size >> 16);
    buf[2] = (char)(size >> 8);
    buf[3] = (char)size;
    buf[4] = cmd;
    memcpy(buf + 5, data, len);
    return len + 5;
}

static struct milter_packet read_one(char *buf, size_t len)
{
    struct milter_packet pkt;
    size_t used = 0;
    const char *why = NULL;
    assert_int_equal(milter_read_packet(buf, len, 0, &pkt, &used, &why), MILTER_READ_PACKET);
    assert_int_equal(used, len);
    return pkt;
}

static const char *read_error(char *buf, size_t len, size_t max)
{
    struct milter_packet pkt;
    size_t used = 0;
    const char *why = NULL;
    assert_int_equal(milter_read_packet(buf, len, max, &pkt, &used, &why), MILTER_READ_ERROR);
    assert_non_null(why);
    return why;
}

static void test_optneg_read(void **state)
{
    (void)state;
    char buf[64];
    const char data[12] = { 0, 0, 0, 6, 0, 0, 1, (char)0xff, 0, 0x1f, (char)0xff, (char)0xff };
    size_t n = packet(buf, 'O', data, sizeof data);
    struct milter_packet pkt = read_one(buf, n);
    assert_int_equal(pkt.command, MILTER_CMD_OPTNEG);
    struct milter_optneg o;
    const char *why = NULL;
    assert_true(milter_decode_optneg(&pkt, &o, &why));
    assert_int_equal(o.version, 6);
    assert_int_equal(o.actions, 0x1ff);
    assert_int_equal(o.steps, 0x1fffff);
    pkt.len = 11;
    assert_false(milter_decode_optneg(&pkt, &o, &why));
}

static void test_connect_inet(void **state)
{
    (void)state;
    char buf[128];
    static const char data[] = "mx.example\0" "4\x00\x19" "192.0.2.1";
    struct milter_packet pkt = read_one(buf, packet(buf, 'C', data, sizeof data));
    struct milter_connect c;
    const char *why = NULL;
    assert_true(milter_decode_connect(&pkt, &c, &why));
    assert_string_equal(c.hostname, "mx.example");
    assert_int_equal(c.family, '4');
    assert_int_equal(c.port, 25);
    assert_string_equal(c.address, "192.0.2.1");
}

static void test_connect_inet6_unix_unknown(void **state)
{
    (void)state;
    char buf[128];
    static const char six[] = "h\0" "6\x01\x00" "2001:db8::1";
    struct milter_packet pkt = read_one(buf, packet(buf, 'C', six, sizeof six));
    struct milter_connect c;
    const char *why = NULL;
    assert_true(milter_decode_connect(&pkt, &c, &why));
    assert_int_equal(c.family, '6');
    assert_int_equal(c.port, 256);
    assert_string_equal(c.address, "2001:db8::1");
    static const char local[] = "localhost\0" "L\0\0" "/run/x.sock";
    pkt = read_one(buf, packet(buf, 'C', local, sizeof local));
    assert_true(milter_decode_connect(&pkt, &c, &why));
    assert_int_equal(c.family, 'L');
    assert_string_equal(c.address, "/run/x.sock");
    static const char unknown[] = "localhost\0" "U";
    pkt = read_one(buf, packet(buf, 'C', unknown, sizeof unknown - 1));
    assert_true(milter_decode_connect(&pkt, &c, &why));
    assert_int_equal(c.family, 'U');
    assert_null(c.address);
}

static void test_connect_broken(void **state)
{
    (void)state;
    char buf[128];
    struct milter_connect c;
    const char *why = NULL;
    static const char no_nul[] = "host-without-nul";
    struct milter_packet pkt = read_one(buf, packet(buf, 'C', no_nul, sizeof no_nul - 1));
    assert_false(milter_decode_connect(&pkt, &c, &why));
    static const char no_family[] = "host";
    pkt = read_one(buf, packet(buf, 'C', no_family, sizeof no_family));
    assert_false(milter_decode_connect(&pkt, &c, &why));
    static const char bad_family[] = "host\0" "X\0\0" "1.2.3.4";
    pkt = read_one(buf, packet(buf, 'C', bad_family, sizeof bad_family));
    assert_false(milter_decode_connect(&pkt, &c, &why));
    static const char no_port[] = "host\0" "4\0";
    pkt = read_one(buf, packet(buf, 'C', no_port, sizeof no_port - 1));
    assert_false(milter_decode_connect(&pkt, &c, &why));
    static const char addr_no_nul[] = "host\0" "4\0\x19" "1.2.3.4";
    pkt = read_one(buf, packet(buf, 'C', addr_no_nul, sizeof addr_no_nul - 1));
    assert_false(milter_decode_connect(&pkt, &c, &why));
    assert_non_null(strstr(why, "address"));
}

static void test_macros(void **state)
{
    (void)state;
    char buf[256];
    static const char data[] = "C" "j\0mx.test\0" "{client_addr}\0" "192.0.2.1";
    struct milter_packet pkt = read_one(buf, packet(buf, 'D', data, sizeof data));
    struct milter_macros m;
    const char *why = NULL;
    assert_true(milter_decode_macros(&pkt, &m, &why));
    assert_int_equal(m.command, 'C');
    assert_int_equal(m.count, 2);
    assert_string_equal(m.pairs[0], "j");
    assert_string_equal(m.pairs[1], "mx.test");
    assert_string_equal(m.pairs[2], "{client_addr}");
    assert_string_equal(m.pairs[3], "192.0.2.1");
    static const char odd[] = "M" "i\0ABC\0{auth_type}";
    pkt = read_one(buf, packet(buf, 'D', odd, sizeof odd));
    assert_false(milter_decode_macros(&pkt, &m, &why));
    pkt = read_one(buf, packet(buf, 'D', "", 0));
    assert_false(milter_decode_macros(&pkt, &m, &why));
    assert_int_equal(milter_stage_of_command('C'), MILTER_STAGE_CONNECT);
    assert_int_equal(milter_stage_of_command('H'), MILTER_STAGE_HELO);
    assert_int_equal(milter_stage_of_command('M'), MILTER_STAGE_MAIL);
    assert_int_equal(milter_stage_of_command('R'), MILTER_STAGE_RCPT);
    assert_int_equal(milter_stage_of_command('T'), MILTER_STAGE_DATA);
    assert_int_equal(milter_stage_of_command('N'), MILTER_STAGE_EOH);
    assert_int_equal(milter_stage_of_command('E'), MILTER_STAGE_EOM);
    assert_int_equal(milter_stage_of_command('L'), -1);
}

static void test_helo_mail_rcpt_header(void **state)
{
    (void)state;
    char buf[256];
    const char *why = NULL, *s = NULL, *name = NULL, *value = NULL;
    struct milter_packet pkt = read_one(buf, packet(buf, 'H', "client.test", 12));
    assert_true(milter_decode_string(&pkt, &s, &why));
    assert_string_equal(s, "client.test");
    static const char mail[] = "<a@b.test>\0SIZE=100\0BODY=8BITMIME";
    pkt = read_one(buf, packet(buf, 'M', mail, sizeof mail));
    char *argv[MILTER_ARGS_MAX];
    size_t argc = 0;
    assert_true(milter_decode_args(&pkt, argv, &argc, &why));
    assert_int_equal(argc, 3);
    assert_string_equal(argv[0], "<a@b.test>");
    assert_string_equal(argv[2], "BODY=8BITMIME");
    pkt = read_one(buf, packet(buf, 'R', "<c@d.test>", 11));
    assert_true(milter_decode_args(&pkt, argv, &argc, &why));
    assert_int_equal(argc, 1);
    pkt = read_one(buf, packet(buf, 'R', "", 0));
    assert_false(milter_decode_args(&pkt, argv, &argc, &why));
    static const char hdr[] = "Subject\0 hello";
    pkt = read_one(buf, packet(buf, 'L', hdr, sizeof hdr));
    assert_true(milter_decode_header(&pkt, &name, &value, &why));
    assert_string_equal(name, "Subject");
    assert_string_equal(value, " hello");
    static const char hdr_cut[] = "Subject\0 hello";
    pkt = read_one(buf, packet(buf, 'L', hdr_cut, sizeof hdr_cut - 1));
    assert_false(milter_decode_header(&pkt, &name, &value, &why));
    assert_non_null(strstr(why, "NUL"));
    pkt = read_one(buf, packet(buf, 'L', "Subject", 8));
    assert_false(milter_decode_header(&pkt, &name, &value, &why));
    pkt = read_one(buf, packet(buf, 'U', "XFOO bar", 9));
    assert_true(milter_decode_string(&pkt, &s, &why));
    assert_string_equal(s, "XFOO bar");
}

/* The commands without data and the body ones: read as they are, in a row from one buffer. */
static void test_stream_of_commands(void **state)
{
    (void)state;
    char buf[512];
    size_t n = 0;
    n += packet(buf + n, 'T', "", 0);
    n += packet(buf + n, 'N', "", 0);
    n += packet(buf + n, 'B', "body\0bytes", 10);
    n += packet(buf + n, 'E', "", 0);
    n += packet(buf + n, 'A', "", 0);
    n += packet(buf + n, 'K', "", 0);
    n += packet(buf + n, 'Q', "", 0);
    const char expected[] = "TNBEAKQ";
    size_t at = 0;
    for (size_t i = 0; i < 7; i++) {
        struct milter_packet pkt;
        size_t used = 0;
        const char *why = NULL;
        assert_int_equal(milter_read_packet(buf + at, n - at, 0, &pkt, &used, &why),
            MILTER_READ_PACKET);
        assert_int_equal(pkt.command, expected[i]);
        if (pkt.command == 'B') {
            assert_int_equal(pkt.len, 10);
            assert_memory_equal(pkt.data, "body\0bytes", 10);
        }
        at += used;
    }
    assert_int_equal(at, n);
}

/* Every prefix of a packet is "read more", never a packet or an error. */
static void test_partial_packets(void **state)
{
    (void)state;
    char buf[64];
    size_t n = packet(buf, 'H', "client.test", 12);
    for (size_t len = 0; len < n; len++) {
        struct milter_packet pkt;
        size_t used = 0;
        const char *why = NULL;
        assert_int_equal(milter_read_packet(buf, len, 0, &pkt, &used, &why), MILTER_READ_MORE);
    }
}

static void test_malformed_stream(void **state)
{
    (void)state;
    char zero[8] = { 0, 0, 0, 0, 'Q' };
    assert_non_null(strstr(read_error(zero, 5, 0), "length 0"));
    char big[8] = { 0, 0x10, 0, 2, 'L' };    /* 1 MB + 2: over the hard bound */
    assert_non_null(strstr(read_error(big, 5, 0), "longer"));
    assert_non_null(strstr(read_error(big, 4, 0), "longer"));  /* refused from its length alone */
    char over_max[64];
    size_t n = packet(over_max, 'B', "0123456789", 10);
    read_error(over_max, n, 9);
    struct milter_packet pkt;
    size_t used;
    const char *why;
    assert_int_equal(milter_read_packet(over_max, n, 10, &pkt, &used, &why), MILTER_READ_PACKET);
    char bad[16];
    n = packet(bad, 'Z', "", 0);
    assert_non_null(strstr(read_error(bad, n, 0), "unknown command"));
    n = packet(bad, '\0', "", 0);
    read_error(bad, n, 0);
    n = packet(bad, 'h', "", 0);   /* a reply byte is not a command */
    read_error(bad, n, 0);
}

static void test_split_strings_bounds(void **state)
{
    (void)state;
    char data[] = "a\0b\0c";
    char *out[2];
    size_t count;
    const char *why = NULL;
    assert_false(milter_split_strings(data, sizeof data, out, 2, &count, &why));
    assert_non_null(strstr(why, "more string fields"));
    assert_true(milter_split_strings(data, 0, out, 2, &count, &why));
    assert_int_equal(count, 0);
}

/* Compares what was encoded with the expected packet bytes, and clears for the next one. */
static void expect(struct milter_out *out, const char *bytes, size_t len)
{
    assert_int_equal(out->len, len);
    assert_memory_equal(out->data, bytes, len);
    milter_out_clear(out);
}

#define EXPECT(out, lit) expect(out, lit, sizeof lit - 1)

static void test_simple_replies(void **state)
{
    (void)state;
    struct milter_out out = {0};
    const char replies[] = "cartdpsf4";
    for (size_t i = 0; replies[i]; i++) {
        milter_put_simple(&out, replies[i]);
        char want[5] = { 0, 0, 0, 1, replies[i] };
        expect(&out, want, 5);
    }
    milter_out_free(&out);
}

static void test_replies_with_data(void **state)
{
    (void)state;
    struct milter_out out = {0};
    milter_put_replycode(&out, "550 5.7.1 no");
    EXPECT(&out, "\0\0\0\x0e" "y550 5.7.1 no\0");
    milter_put_addheader(&out, "X-A", "b");
    EXPECT(&out, "\0\0\0\x07" "hX-A\0b\0");
    milter_put_insheader(&out, 1, "X-A", " b");
    EXPECT(&out, "\0\0\0\x0c" "i\0\0\0\x01X-A\0 b\0");
    milter_put_chgheader(&out, 2, "X-A", NULL);
    EXPECT(&out, "\0\0\0\x0a" "m\0\0\0\x02X-A\0\0");
    milter_put_chgheader(&out, 258, "X-A", "v");
    EXPECT(&out, "\0\0\0\x0b" "m\0\0\x01\x02X-A\0v\0");
    milter_put_quarantine(&out, "spam");
    EXPECT(&out, "\0\0\0\x06" "qspam\0");
    milter_put_addrcpt(&out, "<a@b>");
    EXPECT(&out, "\0\0\0\x07" "+<a@b>\0");
    milter_put_addrcpt_par(&out, "<a@b>", "NOTIFY=NEVER");
    EXPECT(&out, "\0\0\0\x14" "2<a@b>\0NOTIFY=NEVER\0");
    milter_put_delrcpt(&out, "<a@b>");
    EXPECT(&out, "\0\0\0\x07" "-<a@b>\0");
    milter_put_chgfrom(&out, "<s@b>", NULL);
    EXPECT(&out, "\0\0\0\x07" "e<s@b>\0");
    milter_put_chgfrom(&out, "<s@b>", "SIZE=1");
    EXPECT(&out, "\0\0\0\x0e" "e<s@b>\0SIZE=1\0");
    milter_put_replbody(&out, "a\0b", 3);
    EXPECT(&out, "\0\0\0\x04" "ba\0b");
    milter_out_free(&out);
}

static void test_optneg_reply(void **state)
{
    (void)state;
    struct milter_out out = {0};
    milter_put_optneg(&out, 6, 0x31, 0x1c0180, NULL);
    EXPECT(&out, "\0\0\0\x0d" "O\0\0\0\x06\0\0\0\x31\0\x1c\x01\x80");
    const char *macros[MILTER_STAGE_COUNT] = {0};
    macros[MILTER_STAGE_CONNECT] = "j _";
    macros[MILTER_STAGE_EOH] = "i";
    milter_put_optneg(&out, 6, 0x131, 0, macros);
    EXPECT(&out, "\0\0\0\x1b" "O\0\0\0\x06\0\0\x01\x31\0\0\0\0"
                 "\0\0\0\0j _\0" "\0\0\0\x06i\0");
    milter_out_free(&out);
}

/* Several replies in one buffer: one write sends them all, in order. */
static void test_replies_gather(void **state)
{
    (void)state;
    struct milter_out out = {0};
    milter_put_insheader(&out, 0, "A", "1");
    milter_put_quarantine(&out, "q");
    milter_put_simple(&out, MILTER_REPLY_CONTINUE);
    EXPECT(&out, "\0\0\0\x09" "i\0\0\0\0A\0" "1\0" "\0\0\0\x03" "qq\0" "\0\0\0\x01" "c");
    milter_out_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optneg_read),
        cmocka_unit_test(test_connect_inet),
        cmocka_unit_test(test_connect_inet6_unix_unknown),
        cmocka_unit_test(test_connect_broken),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_helo_mail_rcpt_header),
        cmocka_unit_test(test_stream_of_commands),
        cmocka_unit_test(test_partial_packets),
        cmocka_unit_test(test_malformed_stream),
        cmocka_unit_test(test_split_strings_bounds),
        cmocka_unit_test(test_simple_replies),
        cmocka_unit_test(test_replies_with_data),
        cmocka_unit_test(test_optneg_reply),
        cmocka_unit_test(test_replies_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
