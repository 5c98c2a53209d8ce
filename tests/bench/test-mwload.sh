#!/bin/bash
# tests/bench/test-mwload.sh - smoke test of the load generator against a real mailwarden, on a
# unix socket and on TCP loopback, with a small workload: every message gets an answer, the
# verdict counts are the policy's (accepted mail; a blocked sender rejected), the header edits
# are parsed (Authentication-Results inserted at index 0, X-Spam-* added for inbound mail only,
# the SASL user from {auth_authen} in Authentication-Results), and mailwarden's accepted TCP
# sockets carry TCP_NODELAY (inherited from the listening socket, filter/milter/milter_loop.c), read from the daemon's own socket with
# tests/bench/sockopt-probe. Every other reply and modification action comes from
# tests/bench/every-action-milter.py, a filter that sends them all. One bound is asserted, with
# a wide margin: a message with 8 DKIM signatures whose key server never answers
# (tests/spam/messages/dkim-8-late-keys.eml) gets dkim=temperror within one DNS timeout (2 s,
# asserted < 6 s; one lookup after another took 16 s).
# Run by `make check` (MW_BUILDDIR, MW_SRCDIR); TAP lines "ok - " / "not ok - ".
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
mw="$build/filter/mailwarden"
mwload="$build/tests/bench/mwload"
probe="$build/tests/bench/sockopt-probe"
py=/usr/bin/python3
work=$(mktemp -d)
mw_pid="" dns_pid=""
passed=0 failed=0

stop_daemon() {
    if [ -n "$mw_pid" ]; then
        kill "$mw_pid" 2>/dev/null
        wait "$mw_pid" 2>/dev/null
        mw_pid=""
    fi
}
cleanup() {
    stop_daemon
    [ -n "${fake_pid:-}" ] && kill "$fake_pid" 2>/dev/null
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }
# expect NAME FILE PATTERN... : every pattern must match a line of FILE
expect() {
    local name=$1 file=$2
    shift 2
    for pattern in "$@"; do
        if ! grep -qE -- "$pattern" "$file"; then
            not_ok "$name" "no line matches /$pattern/ in: $(tr '\n' '|' <"$file" | head -c 900)"
            return
        fi
    done
    ok "$name"
}

for f in "$mw" "$mwload" "$probe"; do
    [ -x "$f" ] || { echo "not ok - $f is not built"; exit 1; }
done
free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# a real DNS server on loopback with an empty zone, so any lookup a check makes ends at once
# the key servers of tests/spam/messages/dkim-8-late-keys.eml never answer
for i in 1 2 3 4 5 6 7 8; do echo "late$i._domainkey.example.com TIMEOUT"; done >"$work/zone"
"$py" "$src/tests/tools/dnsserver.py" --zone "$work/zone" --port 0 --port-file "$work/dns.port" \
    >"$work/dns.log" 2>&1 &
dns_pid=$!
for _ in $(seq 50); do [ -s "$work/dns.port" ] && break; sleep 0.1; done
[ -s "$work/dns.port" ] || { echo "not ok - the DNS server did not start: $(cat "$work/dns.log")"; exit 1; }

dkim_section() {
    cat <<EOF
dkim: {
  sign: { enabled = true; authenticated = true; internal = true; canonicalization = "relaxed/relaxed" }
  keys = ( { name = "bench"; domain = "example.com"; selector = "bench"; file = "$work/bench.key" } )
  signing = ( { from = "example.com"; keys = [ "bench" ] } )
  users = ( { user = "alice"; domains = [ "example.com" ] } )
}
EOF
}

write_policy() { # SOCKET [WITH-DKIM]
    {
    cat <<EOF
milter: { socket = "$1"; timeout = "30s" }
log: { level = "warning"; summary = false }
authres: { authserv_id = "mw.bench" }
networks: { internal = [ "10.0.0.0/8" ] }
dns: { nameservers = [ "127.0.0.1@$(cat "$work/dns.port")" ]; use_hosts = false; timeout = "2s" }
access = (
  { name = "blocked-senders"; match = "sender"; values = [ "@spam.example" ];
    action = "reject"; reply = "550 5.7.1 Sender blocked by local policy" }
)
symbols: { SUBJECT_SHOUTING: { action = "reject"; reply = "550 5.7.1 No shouting here" } }
EOF
    [ "${2:-0}" = 1 ] && dkim_section
    } >"$work/mw.conf"
}

start_daemon() { # SOCKET READY-TEST...   (with_dkim=1 in the environment: a dkim section)
    local socket=$1
    shift
    write_policy "$socket" "${with_dkim:-0}"
    case $socket in unix:*) rm -f "${socket#unix:}" ;; esac   # a socket left by the last daemon
    "$mw" -f -c "$work/mw.conf" >>"$work/mw.log" 2>&1 &
    mw_pid=$!
    for _ in $(seq 100); do
        "$@" && return 0
        kill -0 "$mw_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "not ok - mailwarden did not listen on $socket: $(tail -5 "$work/mw.log")"
    exit 1
}

# run_load NAME SOCKET ARGS... : output in $work/NAME.out
run_load() {
    local name=$1 socket=$2
    shift 2
    "$mwload" -s "$socket" -T 20 "$@" >"$work/$name.out" 2>&1
    echo "exit=$?" >>"$work/$name.out"
}

workload() { # PREFIX SOCKET
    local p=$1 s=$2
    run_load "$p-accept" "$s" -c 4 -m 5 -n 40 -a 198.51.100.0/28 -R a@example.net -R b@example.net -D
    expect "$p: 40 inbound messages, 4 connections x 5: all answered, all delivered" "$work/$p-accept.out" \
        '^exit=0$' ' msgs=40 ' ' continue=40 ' ' reject=0 ' ' error=0 '
    expect "$p: Authentication-Results inserted at index 0, X-Spam-* added, on every message" "$work/$p-accept.out" \
        '^  insheader 0 Authentication-Results: mw\.bench;' 'hdr:Authentication-Results=40 ' \
        'hdr:X-Spam-Score=40 ' 'hdr:X-Spam-Status=40 ' 'modifications: addheader 80 insheader 40 '
    expect "$p: mailwarden asks for no reply to DATA, header fields, end of headers and body chunks, and to connect and HELO where its policy cannot refuse (one round trip fewer each)" \
        "$work/$p-accept.out" '^negotiated: version 6 .*; no reply for: connect helo data header eoh body$'
    # a decision at the end of headers, which gets no reply of its own (SMFIP_NR_EOH): it is
    # answered at the end of the message, with its reply text, and no header is added
    run_load "$p-eoh-reject" "$s" -c 2 -m 3 -n 12 -a 198.51.100.0/28 -f "$work/shouting.eml" -D
    expect "$p: a reject decided at the end of headers is answered at the end of the message" \
        "$work/$p-eoh-reject.out" '^exit=0$' ' msgs=12 ' ' reject=12 ' ' continue=0 ' ' error=0 ' \
        '^first message .*: reject "550 5\.7\.1 No shouting here"$' 'modifications: addheader 0 insheader 0 '
    run_load "$p-reject" "$s" -c 2 -m 3 -n 12 -F spammer@spam.example
    expect "$p: a blocked sender is rejected at MAIL, every time" "$work/$p-reject.out" \
        '^exit=0$' ' msgs=12 ' ' reject=12 ' ' continue=0 '
    run_load "$p-sasl" "$s" -n 6 -m 3 -u alice -a 10.1.2.3 -D
    expect "$p: {auth_authen} reaches the filter; internal mail gets no X-Spam headers" "$work/$p-sasl.out" \
        '^exit=0$' ' continue=6 ' 'Authentication-Results: mw\.bench;.*smtp\.auth=alice' \
        'hdr:Authentication-Results=6 ' 'connections with a setsymlist answer: 2$'
    if grep -q 'hdr:X-Spam' "$work/$p-sasl.out"; then
        not_ok "$p: internal mail carries no X-Spam headers" "$(tail -2 "$work/$p-sasl.out")"
    else
        ok "$p: internal mail carries no X-Spam headers"
    fi
}

# --- unix socket ---
printf 'From: Loud <loud@example.org>\r\nTo: you@example.net\r\nSubject: BUY NOW THIS IS A GREAT OFFER\r\nDate: Sun, 22 Nov 2026 07:00:00 +0000\r\nMessage-ID: <shout@example.org>\r\n\r\nHello.\r\n' >"$work/shouting.eml"
start_daemon "unix:$work/mw.sock" test -S "$work/mw.sock"
workload unix "unix:$work/mw.sock"

# 8 DKIM signatures whose keys never come: the lookups wait together (dns.timeout, 2 s, within
# dkim.verify.budget), not one after another (8 x 2 s), and the signatures get temperror (mwload
# shows the first few of Authentication-Results)
run_load unix-late-keys "unix:$work/mw.sock" -c 1 -n 1 -a 198.51.100.20 \
    -f "$src/tests/spam/messages/dkim-8-late-keys.eml" -D
late_ms=$(sed -n 's/^RESULT .* max_ms=\([0-9]*\).*/\1/p' "$work/unix-late-keys.out")
late_results=$(grep -o 'dkim=[a-z]* ' "$work/unix-late-keys.out" | tr -d ' ' | sort -u | tr '\n' ' ')
if grep -q '^exit=0$' "$work/unix-late-keys.out" && [ "${late_ms:-99999}" -lt 6000 ] \
        && [ "$late_results" = "dkim=temperror " ]; then
    ok "8 DKIM keys that never come cost one timeout ($late_ms ms); dkim=temperror"
else
    not_ok "8 DKIM keys that never come cost one timeout; dkim=temperror" \
        "max_ms=${late_ms:-none}, results: $late_results: $(tr '\n' '|' <"$work/unix-late-keys.out" | head -c 900)"
fi
stop_daemon

# --- DKIM signing (when this build has the dkim section) ---
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/bench.key" 2>/dev/null
chmod 600 "$work/bench.key"
write_policy "unix:$work/mw.sock" 1
if "$mw" -t -c "$work/mw.conf" >/dev/null 2>&1; then
    with_dkim=1 start_daemon "unix:$work/mw.sock" test -S "$work/mw.sock"
    run_load unix-dkim "unix:$work/mw.sock" -c 2 -m 4 -n 16 -u alice -a 198.51.100.9 -D
    expect "unix: an authenticated user's mail is DKIM-signed, the signature parsed on every message" \
        "$work/unix-dkim.out" '^exit=0$' ' continue=16 ' 'hdr:DKIM-Signature=16 ' \
        '^  (insheader [0-9]+ |addheader )DKIM-Signature: .*a=rsa-sha256.*d=example\.com.*s=bench'
    stop_daemon
else
    echo "# SKIP dkim signing: this mailwarden build has no dkim policy section"
fi

# --- TCP on loopback ---
port=$(free_port)
start_daemon "inet:$port@127.0.0.1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
workload tcp "inet:$port@127.0.0.1"

# TCP_NODELAY: hold a connection open and read the option on both ends
exec 3<>"/dev/tcp/127.0.0.1/$port"
sleep 0.3
"$probe" "$mw_pid" "$port" >"$work/probe-daemon.out" 2>&1
echo "exit=$?" >>"$work/probe-daemon.out"
"$probe" $$ "$port" >"$work/probe-client.out" 2>&1
echo "exit=$?" >>"$work/probe-client.out"
exec 3<&-
expect "tcp: mailwarden's accepted socket has TCP_NODELAY (set on its listening socket)" "$work/probe-daemon.out" \
    "^fd [0-9]+ local 127\\.0\\.0\\.1:$port peer .* nodelay=1\$" '^exit=0$'
if grep -q 'nodelay=0' "$work/probe-daemon.out"; then
    not_ok "tcp: no accepted socket of mailwarden lacks TCP_NODELAY" "$(cat "$work/probe-daemon.out")"
else
    ok "tcp: no accepted socket of mailwarden lacks TCP_NODELAY"
fi
# the probe can tell: the shell's own client socket, opened without the option, reads 0
expect "tcp: the probe reports nodelay=0 on a socket without the option" "$work/probe-client.out" \
    "peer 127\\.0\\.0\\.1:$port nodelay=0\$" '^exit=0$'
stop_daemon

# --- every reply and modification action, from a filter that sends them all ---
fake_pid=""
run_fake() { # MODE NAME MWLOAD-ARGS...
    local mode=$1 name=$2
    shift 2
    rm -f "$work/fake.sock"
    "$py" "$src/tests/bench/every-action-milter.py" "$work/fake.sock" "$mode" >"$work/fake.log" 2>&1 &
    fake_pid=$!
    for _ in $(seq 50); do [ -S "$work/fake.sock" ] && break; sleep 0.1; done
    run_load "$name" "unix:$work/fake.sock" "$@"
    kill "$fake_pid" 2>/dev/null
    wait "$fake_pid" 2>/dev/null
}
run_fake eom-mods fake-mods -n 4 -m 2 -u alice -D
expect "every modification action at end of message is parsed and counted" "$work/fake-mods.out" \
    '^exit=0$' ' continue=4 ' ' quarantine=4 ' 'hdr:X-Added=4 ' 'hdr:X-Inserted=4 ' \
    'modifications: addheader 4 insheader 4 chgheader 8 replbody 8 addrcpt 4 addrcpt_par 4 delrcpt 4 chgfrom 4 quarantine 4 progress 4$' \
    '^  insheader 0 X-Inserted: inserted value$' '^  chgheader 1 Subject: changed subject$' \
    '^  chgheader 1 X-Deleted: $' '^  replbody 23 bytes$' '^  addrcpt <added@example.net>$' \
    '^  addrcpt_par <added2@example.net> NOTIFY=NEVER$' '^  delrcpt <rcpt@example.net>$' \
    '^  chgfrom <new-sender@example.com>$' '^  quarantine held by the test filter$'
expect "the filter's negotiation is honoured: its macro list, no reply for header fields" \
    "$work/fake-mods.out" 'connections with a setsymlist answer: 2$' 'no reply for: header$'
run_fake reply-5xx fake-5xx -n 3 -D
expect "a 5xx reply code at RCPT counts as reject, with its text" "$work/fake-5xx.out" \
    '^exit=0$' ' reject=3 ' ' continue=0 ' '^first message .*: reject "550 5\.7\.1 mwload test"$'
run_fake reply-4xx fake-4xx -n 3 -m 3
expect "a 4xx reply code at MAIL counts as tempfail; the connection goes on after ABORT" \
    "$work/fake-4xx.out" '^exit=0$' ' tempfail=3 ' ' error=0 '
run_fake discard fake-discard -n 2
expect "discard at end of headers counts as discard" "$work/fake-discard.out" '^exit=0$' ' discard=2 '
run_fake tempfail fake-tempfail -n 2
expect "tempfail at end of message counts as tempfail" "$work/fake-tempfail.out" '^exit=0$' ' tempfail=2 '

# under ASan + UBSan (the second build of run-all.sh) the daemons must not have reported
if grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$work/mw.log"; then
    not_ok "mailwarden reported no sanitizer error under this load" "$(grep -m3 -E 'Sanitizer|runtime error' "$work/mw.log")"
else
    ok "mailwarden reported no sanitizer error under this load"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
