#!/bin/bash
# tests/bench/dkim-vs-opendkim.sh - DKIM signing and verifying throughput of mailwarden against
# Debian's opendkim, in one run, with the same RSA-2048 key, the same 2 KB messages and the
# same load generator (tests/bench/mwload), over a unix socket and over TCP on loopback, at
# concurrency 1, 8 and 64. For each run: msgs/s, p50/p99 latency, CPU ms per message (utime +
# stime of the daemon from /proc/PID/stat, before and after), and the daemon's peak RSS
# (VmHWM; each daemon is started afresh for every socket and mode, so the figure after the
# concurrency-64 run is that instance's peak). Prints a Markdown table and the ratios.
#
# Signing: SASL user set and an internal client (10.1.0.0/24). Verifying: the messages signed
# beforehand with python3-dkim, the public key served by tests/tools/dnsserver.py on loopback;
# opendkim asks it through its Nameservers option, mailwarden through dns.nameservers.
# mailwarden does only what OpenDKIM does: its SPF check and spam heuristics (on by default,
# with DNS lookups of their own for every inbound message) are switched off, so both daemons
# do the same work; --all-checks keeps mailwarden's defaults (SPF, reverse DNS, header and
# MIME heuristics) to show what the whole default policy costs.
# When the mailwarden build has no dkim policy section (`mailwarden -t` refuses it), mailwarden
# runs without DKIM and its rows measure the milter glue and engine only; the table says so.
#
# This is a benchmark, not a test: nothing here is timed against a threshold. Each run is
# checked only for being answered (no protocol errors) and, where DKIM runs, for a
# DKIM-Signature on every signed message / a dkim=pass in the verifier's answer.
#
# usage: MW_BUILDDIR=/path/to/build bash tests/bench/dkim-vs-opendkim.sh [options]
#   --messages N        messages per run (default 2000)
#   --per-connection M  messages per milter connection (default 10)
#   --concurrency "1 8 64"
#   --sockets "unix tcp" --modes "sign verify" --daemons "opendkim mailwarden"
#   --out FILE          also write the Markdown table to FILE
#   --keep              keep the work directory (keys, configs, logs, every mwload report)
#   --all-checks        mailwarden with its default checks, not only DKIM
# Needs root (opendkim insists on safe paths; the work directory is made under /var/lib),
# opendkim, openssl, Debian's /usr/bin/python3 with python3-dkim and python3-dnslib.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${MW_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${MW_BUILDDIR:-.}
mw="$build/filter/mailwarden"
mwload="$build/tests/bench/mwload"
py=/usr/bin/python3
messages=2000 per_conn=10 concurrency="1 8 64" sockets="unix tcp" modes="sign verify"
daemons="opendkim mailwarden" out="" keep=0 all_checks=0
while [ $# -gt 0 ]; do
    case $1 in
        --messages) messages=$2; shift 2 ;;
        --per-connection) per_conn=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --sockets) sockets=$2; shift 2 ;;
        --modes) modes=$2; shift 2 ;;
        --daemons) daemons=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --all-checks) all_checks=1; shift ;;
        *) echo "usage: $0 [--messages N] [--per-connection M] [--concurrency \"1 8 64\"] [--sockets \"unix tcp\"] [--modes \"sign verify\"] [--daemons \"opendkim mailwarden\"] [--out FILE] [--keep] [--all-checks]" >&2; exit 2 ;;
    esac
done
die() { echo "dkim-vs-opendkim: $*" >&2; exit 1; }
for f in "$mw" "$mwload"; do [ -x "$f" ] || die "$f is not built (set MW_BUILDDIR)"; done
command -v opendkim >/dev/null || die "opendkim is not installed (apt-get install opendkim)"
"$py" -c 'import dkim, dnslib' 2>/dev/null || die "$py lacks python3-dkim or python3-dnslib"
[ "$(id -u)" = 0 ] || die "run as root: opendkim refuses key and socket paths others can write"

work=$(mktemp -d /var/lib/mwbench.XXXXXX) || die "cannot make a work directory under /var/lib"
chmod 700 "$work"
daemon_pid="" dns_pid=""
stop_daemon() {
    [ -n "$daemon_pid" ] || return 0
    kill "$daemon_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=""
}
cleanup() {
    stop_daemon
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
    if [ "$keep" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- key, DNS, messages ---
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/bench.key" 2>/dev/null \
    || die "openssl could not make an RSA-2048 key"
chmod 600 "$work/bench.key"
pub=$(openssl pkey -in "$work/bench.key" -pubout 2>/dev/null | grep -v '^-----' | tr -d '\n')
echo "bench._domainkey.example.com TXT \"v=DKIM1; k=rsa; p=$pub\"" >"$work/zone"
"$py" "$src/tests/tools/dnsserver.py" --zone "$work/zone" --port 0 --port-file "$work/dns.port" \
    >"$work/dns.log" 2>&1 &
dns_pid=$!
for _ in $(seq 50); do [ -s "$work/dns.port" ] && break; sleep 0.1; done
[ -s "$work/dns.port" ] || die "the DNS server did not start: $(cat "$work/dns.log")"
dns_port=$(cat "$work/dns.port")

mkdir -p "$work/plain" "$work/signed"
"$py" - "$work" <<'PY' || die "could not write the messages"
import sys, dkim
work = sys.argv[1]
key = open(work + "/bench.key", "rb").read()
words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis").split()
for i in range(20):
    head = ("From: Bench Sender <sender@example.com>\r\nTo: Bench Recipient <rcpt@example.net>\r\n"
            "Subject: benchmark message %d\r\nDate: Sun, 22 Nov 2026 06:00:%02d +0000\r\n"
            "Message-ID: <bench-%d@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n" % (i, i, i))
    body, n = "", i
    while len(head) + len(body) < 2048 - 80:
        line = " ".join(words[(n + k) % len(words)] for k in range(10))
        body += line[:76] + "\r\n"
        n += 3
    msg = (head + body).encode()
    open("%s/plain/%02d.eml" % (work, i), "wb").write(msg)
    sig = dkim.sign(msg, b"bench", b"example.com", key, canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    open("%s/signed/%02d.eml" % (work, i), "wb").write(sig + msg)
PY
msg_bytes=$(wc -c <"$work/plain/00.eml")

# --- daemon configurations ---
socket_spec() { # DAEMON SOCKET -> the milter socket string
    case $2 in
        unix) echo "unix:$work/$1.sock" ;;
        tcp) [ "$1" = opendkim ] && echo "inet:$tcp_opendkim@127.0.0.1" || echo "inet:$tcp_mailwarden@127.0.0.1" ;;
    esac
}
free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
tcp_opendkim=$(free_port)
tcp_mailwarden=$(free_port)

write_opendkim_conf() { # SOCKET-SPEC
    cat >"$work/opendkim.conf" <<EOF
Syslog no
Mode sv
Socket $1
Domain example.com
Selector bench
KeyFile $work/bench.key
Canonicalization relaxed/relaxed
SignatureAlgorithm rsa-sha256
InternalHosts 10.0.0.0/8
Nameservers 127.0.0.1@$dns_port
UserID root
PidFile $work/opendkim.pid
EOF
}

mailwarden_dkim_section() {
    cat <<EOF
dkim: {
  sign: { enabled = true; authenticated = true; internal = true; canonicalization = "relaxed/relaxed" }
  verify: { enabled = true }
  keys = ( { name = "bench"; domain = "example.com"; selector = "bench"; file = "$work/bench.key" } )
  signing = ( { from = "example.com"; keys = [ "bench" ] } )
  users = ( { user = "bench-user"; domains = [ "example.com" ] } )
}
EOF
}

write_mailwarden_conf() { # SOCKET-SPEC WITH-DKIM(0|1)
    {
        cat <<EOF
milter: { socket = "$1"; timeout = "60s"; backlog = 256 }
log: { level = "warning"; summary = false }
authres: { authserv_id = "mw.bench" }
networks: { internal = [ "10.0.0.0/8" ] }
dns: { nameservers = [ "127.0.0.1@$dns_port" ]; use_hosts = false; timeout = "2s" }
EOF
        [ "$all_checks" = 1 ] || printf '%s\n' 'spf: { enabled = false }' 'spam: { enabled = false }'
        [ "$2" = 1 ] && mailwarden_dkim_section
    } >"$work/mailwarden.conf"
}

write_mailwarden_conf "unix:$work/probe.sock" 1
if "$mw" -t -c "$work/mailwarden.conf" >"$work/mw-t.log" 2>&1; then
    mw_dkim=1
else
    mw_dkim=0
    echo "note: this mailwarden build refuses the dkim section; its rows measure the milter glue without DKIM:"
    sed 's/^/    /' "$work/mw-t.log" | head -5
fi

wait_ready() { # DAEMON SOCKET
    for _ in $(seq 100); do
        kill -0 "$daemon_pid" 2>/dev/null || return 1
        case $2 in
            unix) [ -S "$work/$1.sock" ] && return 0 ;;
            tcp) ss -ltn 2>/dev/null | grep -q "127.0.0.1:$( [ "$1" = opendkim ] && echo "$tcp_opendkim" || echo "$tcp_mailwarden") " && return 0 ;;
        esac
        sleep 0.1
    done
    return 1
}

start_daemon() { # DAEMON SOCKET
    local spec
    spec=$(socket_spec "$1" "$2")
    rm -f "$work/$1.sock"
    if [ "$1" = opendkim ]; then
        write_opendkim_conf "$spec"
        opendkim -f -x "$work/opendkim.conf" >"$work/opendkim.log" 2>&1 &
    else
        write_mailwarden_conf "$spec" "$mw_dkim"
        "$mw" -f -c "$work/mailwarden.conf" >"$work/mailwarden.log" 2>&1 &
    fi
    daemon_pid=$!
    wait_ready "$1" "$2" || die "$1 did not listen on $spec: $(tail -5 "$work/$1.log")"
}

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
ticks_per_s=$(getconf CLK_TCK)

load_args() { # MODE
    if [ "$1" = sign ]; then
        echo "-f $work/plain -u bench-user -a 10.1.0.0/24"
    else
        echo "-f $work/signed -a 198.51.100.0/24"
    fi
}

# result lines: daemon socket mode c msgs_per_s p50 p99 cpu_ms hwm_kb note
results="$work/results"
: >"$results"
run_one() { # DAEMON SOCKET MODE C
    local d=$1 s=$2 m=$3 c=$4 spec args before after out
    spec=$(socket_spec "$d" "$s")
    args=$(load_args "$m")
    # warm-up: connections, caches, the DNS cache
    # shellcheck disable=SC2086
    "$mwload" -s "$spec" $args -c "$c" -m "$per_conn" -n $((c * 4 > 100 ? c * 4 : 100)) -q >/dev/null 2>&1
    before=$(cpu_ticks "$daemon_pid")
    # shellcheck disable=SC2086
    out=$("$mwload" -s "$spec" $args -c "$c" -m "$per_conn" -n "$messages" -D 2>&1)
    after=$(cpu_ticks "$daemon_pid")
    echo "$out" >"$work/run-$d-$s-$m-$c.out"
    local result note=""
    result=$(echo "$out" | grep '^RESULT ')
    get() { echo "$result" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
    [ "$(get error)" = 0 ] || note="ERRORS: $(get error) unanswered"
    if [ "$m" = sign ] && { [ "$d" = opendkim ] || [ "$mw_dkim" = 1 ]; }; then
        [ "$(get hdr:DKIM-Signature)" = "$messages" ] || note="$note no DKIM-Signature on every message ($(get hdr:DKIM-Signature))"
    fi
    if [ "$m" = verify ] && { [ "$d" = opendkim ] || [ "$mw_dkim" = 1 ]; }; then
        echo "$out" | grep -q 'Authentication-Results: .*dkim=pass' || note="$note first message not dkim=pass"
    fi
    [ "$d" = mailwarden ] && [ "$mw_dkim" = 0 ] && note="$note no DKIM in this build: glue only"
    local cpu_ms
    cpu_ms=$(awk -v t=$((after - before)) -v hz="$ticks_per_s" -v n="$messages" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')
    echo "$d $s $m $c $(get msgs_per_s) $(get p50_ms) $(get p99_ms) $cpu_ms $(hwm_kb "$daemon_pid") ${note:-ok}" >>"$results"
    printf '%-10s %-4s %-6s c=%-3s %8s msgs/s  p50 %7s ms  p99 %7s ms  cpu %6s ms/msg  hwm %6s kB  %s\n' \
        "$d" "$s" "$m" "$c" "$(get msgs_per_s)" "$(get p50_ms)" "$(get p99_ms)" "$cpu_ms" "$(hwm_kb "$daemon_pid")" "${note:-ok}"
}

if [ "$all_checks" = 1 ]; then echo "mailwarden: its default checks (SPF, spam heuristics) and DKIM"
else echo "mailwarden: DKIM only (spf and spam sections disabled), as OpenDKIM"; fi
echo "messages: $msg_bytes bytes (20 files, RSA-2048, relaxed/relaxed), $messages per run, $per_conn per connection"
for d in $daemons; do
    for s in $sockets; do
        for m in $modes; do
            start_daemon "$d" "$s"
            for c in $concurrency; do
                run_one "$d" "$s" "$m" "$c"
            done
            stop_daemon
        done
    done
done

# --- the table and the ratios ---
table() {
    echo "| mode | socket | conc. | OpenDKIM msgs/s | mailwarden msgs/s | ratio | OpenDKIM p50 / p99 ms | mailwarden p50 / p99 ms | OpenDKIM CPU ms/msg | mailwarden CPU ms/msg | OpenDKIM peak RSS kB | mailwarden peak RSS kB |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for m in $modes; do
        for s in $sockets; do
            for c in $concurrency; do
                local o w
                o=$(awk -v s="$s" -v m="$m" -v c="$c" '$1 == "opendkim" && $2 == s && $3 == m && $4 == c' "$results")
                w=$(awk -v s="$s" -v m="$m" -v c="$c" '$1 == "mailwarden" && $2 == s && $3 == m && $4 == c' "$results")
                echo "$o|$w" | awk -F'|' -v m="$m" -v s="$s" -v c="$c" '{
                    split($1, o, " "); split($2, w, " ");
                    ratio = (o[5] > 0 && w[5] != "") ? sprintf("%.2f", w[5] / o[5]) : "-";
                    printf "| %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s | %s | %s | %s |\n",
                        m, s, c, o[5], w[5], ratio, o[6], o[7], w[6], w[7], o[8], w[8], o[9], w[9] }'
            done
        done
    done
    [ "$mw_dkim" = 1 ] || echo; [ "$mw_dkim" = 1 ] || echo "mailwarden ran without DKIM (this build has no dkim section): its rows are the milter glue and engine only."
    grep -v ' ok$' "$results" | grep -v "glue only$" | awk '{ $5 = $6 = $7 = $8 = $9 = ""; print "note:", $0 }' | tr -s ' '
}
echo
table | tee "${out:-/dev/null}"
