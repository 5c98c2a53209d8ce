#!/bin/bash
# tests/bench/postfix-e2e.sh - what a milter costs a real Postfix, measured from outside:
# smtp-source -> a private Postfix -> smtp-sink, the SMTP client timing how fast Postfix
# accepts the messages (one message per SMTP session, as the issue measured it). The same
# Postfix has one smtpd listener per setup, so every setup runs in the same instance and the
# same round:
#
#   alone        no milter
#   mw-sign      mailwarden signing every message (RSA-2048, the client 127.0.0.1 internal)
#   mw-pass      mailwarden with the client internal and nothing to do (no key, no check that
#                reads the message): what the milter protocol alone costs Postfix, our floor
#   mw-inbound   mailwarden with the default inbound policy (SPF, reverse DNS, header and MIME
#                heuristics, DKIM verification), DNS answered by the loopback stub server
#   opendkim     Debian's OpenDKIM signing with the same key (when installed)
#   null, null-edit, null-late, null-like
#                tests/bench/null-milter: a milter that does nothing as cheaply as it can (one
#                thread, no check), negotiating what mailwarden does, so Postfix still sends it
#                the whole message; null-edit also adds one header field at the end of the
#                message, as a signer does. What Postfix itself spends on any milter: the floor
#                under mw-pass and mw-sign (when asked for). null-late is null-edit with MAIL
#                and RCPT unanswered too (a milter that decides only at the end of the message);
#                null-like is null-edit with mailwarden's own negotiation (null-milter -m)
#   base-sign, base-inbound
#                mw-sign and mw-inbound run by another build (--baseline BUILDDIR, for
#                example the commit before a change): before and after in the same rounds
#
# each milter once over TCP (inet:127.0.0.1:PORT) and once over a unix socket. Rounds run
# the setups one after the other at each session count, so a machine that gets busier slows
# them alike, and each round starts one setup later than the one before, so that none is always
# first; the ratio to Postfix alone is taken within a round, and the table shows the median of
# the rounds. Between two runs the queue is left to drain (not timed).
#
# This is a benchmark, not a test: nothing is compared with a threshold. Each setup is
# checked once, before it is timed, for doing its work (DKIM-Signature on a delivered message,
# our Authentication-Results header inbound) and every run for being accepted in full. The milter's
# CPU time per message (user + system, from /proc/PID/stat around each run) is shown too: on
# a busy machine it moves less than the rates do.
#
# usage (root): MW_BUILDDIR=/path/to/build bash tests/bench/postfix-e2e.sh [options]
#   --messages N     messages per run (default 1000)
#   --rounds N       rounds (default 3)
#   --sessions "1 8 64"
#   --sockets "inet unix"
#   --setups "alone mw-sign mw-inbound opendkim" (mw-pass, null, null-edit, null-late, null-like when asked for)
#   --size BYTES     message length for smtp-source -l (default 2048)
#   --out FILE       also write the Markdown table to FILE
#   --baseline DIR   a build directory for the base-* setups (added to --setups when given)
# Uses tests/integration/lib.sh for Postfix, the sink, the DNS stub and the policies; MW_KEEP=1
# keeps the work directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# OpenDKIM refuses sockets and keys under a world-writable directory such as /tmp
export TMPDIR=${TMPDIR:-/var/lib}
. "$here/../integration/lib.sh"

messages=1000 rounds=3 sessions="1 8 64" sockets="inet unix" size=2048 out="" baseline=""
setups="alone mw-sign mw-inbound opendkim"
while [ $# -gt 0 ]; do
    case $1 in
        --messages) messages=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --sessions) sessions=$2; shift 2 ;;
        --sockets) sockets=$2; shift 2 ;;
        --setups) setups=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --baseline) baseline=$2; shift 2 ;;
        *) sed -n '/^# usage/,/^# Uses/p' "$0" >&2; exit 2 ;;
    esac
done
command -v opendkim >/dev/null || setups=$(echo "$setups" | sed 's/opendkim//')
if [ -n "$baseline" ]; then
    [ -x "$baseline/filter/mailwarden" ] || { echo "no daemon at $baseline/filter/mailwarden" >&2; exit 2; }
    case " $setups " in *" base-"*) ;; *) setups="$setups base-sign base-inbound" ;; esac
fi

MW_LOGDIR=${MW_LOGDIR:-$MW_BUILDDIR/tests/bench-logs/postfix-e2e}
mw_init postfix-e2e

# --- key, DNS, sink ---
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$MW_WORK/bench.key" 2>/dev/null \
    || die "openssl could not make an RSA-2048 key"
chmod 600 "$MW_WORK/bench.key"
pub=$(openssl pkey -in "$MW_WORK/bench.key" -pubout 2>/dev/null | grep -v '^-----' | tr -d '\n')
printf 'bench._domainkey.example.test. 300 IN TXT "%s" "%s"\n' "${pub:0:250}" "${pub:250}" >"$MW_WORK/dns.zone"
dns_start
sink_start

# --- the milters: one daemon per setup and socket, each with a port or a socket path ---
sign_section() {
    cat <<EOF
dkim: {
  sign: { enabled = true; internal = true; canonicalization = "relaxed/relaxed" }
  keys = ( { name = "bench"; domain = "example.test"; selector = "bench"; file = "$MW_WORK/bench.key" } )
  signing = ( { from = "example.test"; keys = [ "bench" ] } )
}
EOF
}

milter_addr() { # SETUP SOCKET -> Postfix's name of the milter
    case $2 in
        inet) eval "echo inet:127.0.0.1:\$PORT_${1//-/_}" ;;
        unix) echo "unix:$MW_WORK/$1.sock" ;;
    esac
}

start_mailwarden() { # SETUP SOCKET
    local conf=$MW_WORK/$1-$2.conf pid sock bin=$MW_BIN
    case $1 in
        base-*)
            [ -n "$baseline" ] || die "$1 needs --baseline BUILDDIR"
            bin=$baseline/filter/mailwarden ;;
    esac
    case $1 in
        mw-sign|base-sign) MW_INTERNAL='"127.0.0.0/8"' MW_LOGLEVEL=warning mw_policy "$conf" < <(sign_section) ;;
        mw-pass) MW_INTERNAL='"127.0.0.0/8"' MW_LOGLEVEL=warning mw_policy "$conf" </dev/null ;;
        mw-inbound|base-inbound) MW_LOGLEVEL=warning mw_policy "$conf" </dev/null ;;
    esac
    if [ "$2" = unix ]; then
        sock=$MW_WORK/$1.sock
        sed -i "s|socket = \"inet:$MW_PORT@127.0.0.1\"|socket = \"unix:$sock\"\n  socket_mode = \"0666\"|" "$conf"
    fi
    "$bin" -t -c "$conf" >"$MW_WORK/$1-$2-t.log" 2>&1 || die "mailwarden -t refuses $conf: $(head -c 400 "$MW_WORK/$1-$2-t.log")"
    "$bin" -f -c "$conf" >>"$MW_WORK/$1-$2.log" 2>&1 &
    pid=$!
    MILTER_PID=$pid
    mw_on_exit "mw_kill_wait $pid 20"
    if [ "$2" = unix ]; then
        mw_wait_until 20 test -S "$sock" || die "mailwarden ($1, unix) did not start: $(tail -n 3 "$MW_WORK/$1-$2.log")"
    else
        mw_wait_listen "$MW_PORT" 20 || die "mailwarden ($1, inet) did not start: $(tail -n 3 "$MW_WORK/$1-$2.log")"
    fi
}

start_null() { # SETUP SOCKET
    local spec flag=""
    case $1 in
        null-edit) flag=-a ;;
        null-late) flag="-a -r" ;;
        null-like) flag="-a -m" ;;
    esac
    case $2 in
        inet) spec="inet:$MW_PORT@127.0.0.1" ;;
        unix) spec="unix:$MW_WORK/$1.sock" ;;
    esac
    [ -x "$MW_BUILDDIR/tests/bench/null-milter" ] || die "no $MW_BUILDDIR/tests/bench/null-milter: make tests/bench/null-milter"
    "$MW_BUILDDIR/tests/bench/null-milter" $flag "$spec" >>"$MW_WORK/$1-$2.log" 2>&1 &
    MILTER_PID=$!
    mw_on_exit "mw_kill_wait $MILTER_PID 20"
    if [ "$2" = unix ]; then
        mw_wait_until 20 test -S "$MW_WORK/$1.sock" || die "null-milter (unix) did not start: $(tail -n 3 "$MW_WORK/$1-$2.log")"
    else
        mw_wait_listen "$MW_PORT" 20 || die "null-milter (inet) did not start: $(tail -n 3 "$MW_WORK/$1-$2.log")"
    fi
}

start_opendkim() { # SOCKET
    local spec pid
    case $1 in
        inet) spec="inet:$MW_PORT@127.0.0.1" ;;
        unix) spec="local:$MW_WORK/opendkim.sock" ;;
    esac
    cat >"$MW_WORK/opendkim-$1.conf" <<EOF
Syslog no
Mode sv
Socket $spec
UMask 000
Domain example.test
Selector bench
KeyFile $MW_WORK/bench.key
Canonicalization relaxed/relaxed
SignatureAlgorithm rsa-sha256
InternalHosts 127.0.0.0/8
Nameservers 127.0.0.1@$DNS_PORT
UserID root
RequireSafeKeys no
PidFile $MW_WORK/opendkim-$1.pid
EOF
    opendkim -f -x "$MW_WORK/opendkim-$1.conf" >>"$MW_WORK/opendkim-$1.log" 2>&1 &
    pid=$!
    MILTER_PID=$pid
    mw_on_exit "mw_kill_wait $pid 20"
    if [ "$1" = unix ]; then
        mw_wait_until 20 test -S "$MW_WORK/opendkim.sock" || die "opendkim (unix) did not start: $(tail -n 3 "$MW_WORK/opendkim-$1.log")"
    else
        mw_wait_listen "$MW_PORT" 20 || die "opendkim (inet) did not start: $(tail -n 3 "$MW_WORK/opendkim-$1.log")"
    fi
}

# every listener: "SETUP SOCKET PORT MILTER_PID" in $MW_WORK/listeners
: >"$MW_WORK/listeners"
PF_EXTRA_LISTENERS=""
add_listener() { # SETUP SOCKET MILTER [PID]
    local port
    mw_port port
    echo "$1 $2 $port ${4:--}" >>"$MW_WORK/listeners"
    PF_EXTRA_LISTENERS="$PF_EXTRA_LISTENERS${PF_EXTRA_LISTENERS:+
}127.0.0.1:$port inet n - n - 200 smtpd -o smtpd_milters=$3 -o non_smtpd_milters="
}
for setup in $setups; do
    if [ "$setup" = alone ]; then
        add_listener alone - ""
        continue
    fi
    for sock in $sockets; do
        mw_port MW_PORT
        eval "PORT_${setup//-/_}=$MW_PORT"
        case $setup in
            mw-*|base-*) start_mailwarden "$setup" "$sock" ;;
            opendkim) start_opendkim "$sock" ;;
            null|null-edit|null-late|null-like) start_null "$setup" "$sock" ;;
            *) die "unknown setup $setup" ;;
        esac
        add_listener "$setup" "$sock" "$(milter_addr "$setup" "$sock")" "$MILTER_PID"
    done
done
pf_start "inet:127.0.0.1:1"   # the default listener is not used
while read -r setup sock port pid; do
    mw_wait_listen "$port" 20 || die "postfix does not listen on $port ($setup $sock)"
done <"$MW_WORK/listeners"

# CPU seconds (user + system) a process has used so far; 0 for "-"
cpu_s() {
    [ "$1" != - ] || { echo 0; return; }
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}

# --- one run ---
source_run() { # PORT SESSIONS MESSAGES -> prints msg/s; 1 when not every message was accepted
    local port=$1 s=$2 n=$3 t0 t1 rc
    t0=$(mw_now)
    smtp-source -s "$s" -m "$n" -l "$size" -f bench@example.test -t rcpt@remote.test \
        -M client.test "127.0.0.1:$port" >"$MW_WORK/source.out" 2>&1
    rc=$?
    t1=$(mw_now)
    pf_wait_queue_empty 600 || note "the queue did not drain within 600 s"
    [ "$rc" = 0 ] && ! grep -q . "$MW_WORK/source.out" || { note "smtp-source: exit $rc: $(head -c 300 "$MW_WORK/source.out")"; return 1; }
    awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", n / (b - a) }'
}

# --- each setup does its work: checked on a few messages before the timed runs ---
while read -r setup sock port pid; do
    rm -f "$SINK_DIR"/*
    source_run "$port" 1 3 >/dev/null || die "$setup ($sock): the check messages were not accepted"
    mw_wait_until 30 test "$(sink_count)" -ge 3 || die "$setup ($sock): the check messages were not delivered"
    f=$(find "$SINK_DIR" -type f | head -n 1)
    case $setup in
        mw-sign|base-sign|opendkim) grep -q '^DKIM-Signature:' "$f" || die "$setup ($sock): no DKIM-Signature on $(basename "$f")" ;;
    esac
    # outbound mail with nothing to state gets no Authentication-Results (ARCHITECTURE.md)
    case $setup in
        mw-inbound|base-inbound) grep -q '^Authentication-Results: mw.test' "$f" || die "$setup ($sock): no Authentication-Results from mailwarden" ;;
        null-edit|null-late|null-like) grep -q '^X-Null-Milter: passed' "$f" || die "$setup ($sock): no X-Null-Milter field" ;;
    esac
done <"$MW_WORK/listeners"
rm -f "$SINK_DIR"/*

# --- the rounds ---
results=$MW_WORK/results
: >"$results"
note "$(nproc) CPUs, load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $messages messages of $size bytes per run, $rounds rounds"
mapfile -t listeners <"$MW_WORK/listeners"
for ((r = 1; r <= rounds; r++)); do
    for s in $sessions; do
        # each round starts one listener later: a machine that slows down or speeds up within
        # a round does not favour the setups that come first
        for ((k = 0; k < ${#listeners[@]}; k++)); do
            read -r setup sock port pid <<<"${listeners[(k + r - 1) % ${#listeners[@]}]}"
            c0=$(cpu_s "$pid")
            rate=$(source_run "$port" "$s" "$messages") || rate=ERR
            cpu=$(awk -v a="$c0" -v b="$(cpu_s "$pid")" -v n="$messages" 'BEGIN { printf "%.2f", (b - a) * 1000 / n }')
            [ "$pid" = - ] && cpu=-
            echo "$r $s $setup $sock $rate $cpu" >>"$results"
            note "round $r, $s session(s): $setup $sock: $rate msg/s, milter CPU $cpu ms/msg (load $(cut -d' ' -f1 /proc/loadavg))"
        done
        find "$SINK_DIR" -type f -delete
    done
done
cp "$results" "$MW_LOGDIR/results"

# --- the table: medians of the rounds, ratio to Postfix alone within each round ---
table() {
    echo "| setup | socket | sessions | msg/s (median) | msg/s per round | ratio to Postfix alone (median) | ratio per round | milter CPU ms/msg (median) |"
    echo "|---|---|---|---|---|---|---|---|"
    while read -r setup sock port pid; do
        for s in $sessions; do
            awk -v s="$s" -v setup="$setup" -v sock="$sock" '
                $2 == s && $3 == "alone" { alone[$1] = $5 }
                $2 == s && $3 == setup && $4 == sock { rate[$1] = $5; rounds[++n] = $1; if ($6 != "-") cpu[++c] = $6 }
                function median(a, k,   i, j, t) {
                    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
                }
                END {
                    list = ""; rlist = ""; m = 0; q = 0
                    for (i = 1; i <= n; i++) {
                        r = rounds[i]; list = list (i > 1 ? " " : "") rate[r]
                        if (rate[r] != "ERR") v[++m] = rate[r]
                        if (rate[r] != "ERR" && alone[r] > 0 && alone[r] != "ERR") {
                            ratio[++q] = rate[r] / alone[r]
                            rlist = rlist (q > 1 ? " " : "") sprintf("%.2f", ratio[q])
                        }
                    }
                    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", setup, sock, s,
                        m ? sprintf("%.1f", median(v, m)) : "-", list,
                        setup == "alone" ? "1" : (q ? sprintf("%.2f", median(ratio, q)) : "-"),
                        setup == "alone" ? "-" : rlist,
                        c ? sprintf("%.2f", median(cpu, c)) : "-"
                }' "$results"
        done
    done <"$MW_WORK/listeners"
}
echo
table | tee "${out:-/dev/null}"
