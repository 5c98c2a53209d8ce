#!/bin/bash
# Postfix + mailwarden over TCP: no write on the milter connection waits for a delayed ACK.
# 55 messages go through one SMTP session (smtp-source -d) while tcpdump captures the milter
# port on lo. A stall is a data segment that the sending kernel held back (Nagle) until the
# peer's delayed ACK came: the peer sends a pure ACK at least 35 ms after the last data it
# got, sent no data itself in between, and the held segment follows that ACK within 2 ms.
# The kernel sends the held segment when the ACK arrives, so the pattern does not depend on
# how busy the machine is; a slow filter makes the MTA wait for its reply, which is data,
# never a held segment. Nothing is timed against the wall clock.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-stall

name="postfix-stall: 55 messages over one SMTP session (50 of 2 KB, 5 of 40 KB), no milter write waits for a delayed ACK"
NF="postfix-stall: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
command -v tcpdump >/dev/null || { skip "$name" "tcpdump is not installed"; exit 0; }

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" </dev/null
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# tcpdump_stalls CAPTURE: prints one line per stall found in the capture (see the top).
tcpdump_stalls() {
    tcpdump -r "$1" -tt -nn 2>/dev/null | awk '
        function peer_of(x) { return x == a[conn] ? b[conn] : a[conn] }
        $2 == "IP" && $4 == ">" && $(NF - 1) == "length" {
            t = $1 + 0; src = $3; dst = $5; sub(/:$/, "", dst); len = $NF + 0
            conn = src < dst ? src " " dst : dst " " src
            a[conn] = src; b[conn] = dst
            if (len > 0) {
                data_segments++
                if ((conn, src) in late_ack && t - late_ack[conn, src] <= 0.002)
                    printf "stall: %s -> %s %d bytes at %.6f, released by the ACK at %.6f sent %.1f ms after the data it acknowledged\n",
                        src, dst, len, t, late_ack[conn, src], ack_gap[conn, src] * 1000
                delete late_ack[conn, src]
                delete late_ack[conn, dst]
                last_data[conn, src] = t
            } else if ($7 == "[.],") {
                # a pure ACK from src for what dst sent: late, with no data from src since?
                if ((conn, dst) in last_data && t - last_data[conn, dst] >= 0.035 \
                    && (!((conn, src) in last_data) || last_data[conn, src] < last_data[conn, dst])) {
                    late_ack[conn, dst] = t
                    ack_gap[conn, dst] = t - last_data[conn, dst]
                }
            }
        }
        END { printf "segments: %d\n", data_segments }'
}

tcpdump -i lo -U --immediate-mode -n -s 256 -w "$MW_WORK/milter.pcap" "tcp port $MW_PORT" >"$MW_WORK/tcpdump.log" 2>&1 &
TD_PID=$!
mw_on_exit "mw_kill_wait $TD_PID 5 INT"
mw_wait_until 10 grep -q 'listening on' "$MW_WORK/tcpdump.log" || die "tcpdump did not start: $(cat "$MW_WORK/tcpdump.log")"

smtp-source -d -s 1 -m 50 -l 2048 -f alice@example.test -t bob@remote.test -M client.test \
    "127.0.0.1:$PF_PORT" >"$MW_WORK/smtp-source.out" 2>&1
rc=$?
# and messages whose body Postfix writes in several pieces
smtp-source -d -s 1 -m 5 -l 40000 -f alice@example.test -t bob@remote.test -M client.test \
    "127.0.0.1:$PF_PORT" >>"$MW_WORK/smtp-source.out" 2>&1 || rc=$?
mw_wait_until 60 test "$(sink_count)" -ge 55
delivered=$(sink_count)
# libpcap hands tcpdump its packets in blocks: --immediate-mode has each written at once, and
# the capture is given time to hold the last segments (the end of the last message's reply)
# before tcpdump is stopped, which drops what it has not written
pcap_segments() { tcpdump -r "$MW_WORK/milter.pcap" -nn 2>/dev/null | grep -c 'length [1-9]'; }
mw_wait_until 10 test "$(pcap_segments)" -ge 110
mw_kill_wait "$TD_PID" 5 INT
tcpdump_stalls "$MW_WORK/milter.pcap" >"$MW_WORK/stalls.out"
# for reading: every segment with the milter packets it carries (in the test's logs)
"$MW_PY" "$MW_HELPERS/milter-trace.py" "$MW_WORK/milter.pcap" "$MW_PORT" >"$MW_WORK/milter-trace.out" 2>&1
stalls=$(grep -c '^stall:' "$MW_WORK/stalls.out")
segments=$(sed -n 's/^segments: //p' "$MW_WORK/stalls.out")
note "$segments data segments on the milter connection, $stalls stalls"
if [ "$rc" != 0 ] || grep -q . "$MW_WORK/smtp-source.out"; then
    fail "$name" "smtp-source: exit $rc: $(head -c 300 "$MW_WORK/smtp-source.out")"
elif [ "$delivered" != 55 ]; then
    fail "$name" "$delivered of 55 messages delivered"
elif [ "${segments:-0}" -lt 110 ]; then
    fail "$name" "the capture holds only ${segments:-0} data segments (tcpdump saw no milter traffic?)"
elif [ "$stalls" != 0 ]; then
    fail "$name" "$stalls writes waited for a delayed ACK, e.g. $(grep -m1 '^stall:' "$MW_WORK/stalls.out")"
else
    pass "$name"
fi

mw_finish "$NF"
