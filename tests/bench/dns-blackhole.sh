#!/bin/bash
# tests/bench/dns-blackhole.sh - throughput and latency of the daemon when DNS never answers.
# Starts tests/tools/dnsserver.py --blackhole (reads every query, answers none), a mailwarden
# with the default inbound checks (reverse DNS, HELO, SPF, DKIM verification, one DNS list)
# using it, and runs tests/bench/mwload at each concurrency with messages carrying 8 DKIM
# signatures (tests/spam/messages/dkim-8-late-keys.eml), one round of CONCURRENCY connections
# of one message each, from different client addresses, on a fresh daemon per concurrency. Prints mwload's RESULT line per concurrency and the target
# CONCURRENCY / BUDGET msg/s, where BUDGET is the per-message DNS budget set below
# (dns.message_budget; every check's own budget/timeout is set to it too). Not part of `make check`: it takes minutes.
#
#   MW_BUILDDIR=_b MW_SRCDIR=. tests/bench/dns-blackhole.sh [BUDGET_S [CONCURRENCY...]]
#   (defaults: 2 s; 8 64)
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
budget=${1:-2}
shift $(( $# > 0 ? 1 : 0 ))
concurrencies=${*:-8 64}
rounds=${MW_BENCH_ROUNDS:-3}
mw="$build/filter/mailwarden"
mwload="$build/tests/bench/mwload"
py=/usr/bin/python3
work=$(mktemp -d)
mw_pid="" dns_pid=""

cleanup() {
    [ -n "$mw_pid" ] && kill "$mw_pid" 2>/dev/null && wait "$mw_pid" 2>/dev/null
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$py" "$src/tests/tools/dnsserver.py" --blackhole --zone /dev/null --port 0 \
    --port-file "$work/dns.port" >"$work/dns.log" 2>&1 &
dns_pid=$!
for _ in $(seq 50); do [ -s "$work/dns.port" ] && break; sleep 0.1; done
[ -s "$work/dns.port" ] || { echo "the DNS server did not start: $(cat "$work/dns.log")"; exit 1; }
free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_daemon() { # PORT: a fresh daemon, so that libunbound starts knowing nothing of the server
    cat >"$work/mw.conf" <<POLICY
milter: { socket = "inet:$1@127.0.0.1"; timeout = "120s"; shutdown_grace = 0 }
log: { level = "warning"; summary = false }
authres: { authserv_id = "mw.bench" }
dns: { nameservers = [ "127.0.0.1@$(cat "$work/dns.port")" ]; use_hosts = false; timeout = "${budget}s";
       message_budget = "${budget}s" }
spf: { budget = "${budget}s" }
dkim: { verify: { budget = "${budget}s" } }
symbols: { SPF_TEMPERROR: { action = "score" }; SPF_HELO_TEMPERROR: { action = "score" } }
spam: { rdns = true; dnslist_timeout = "${budget}s";
        dnslists = ( { zone = "list.example"; type = "ip"; score = 3.0 } ) }
POLICY
    "$mw" -t -c "$work/mw.conf" >"$work/check.log" 2>&1 || { cat "$work/check.log"; exit 1; }
    "$mw" -f -c "$work/mw.conf" >>"$work/mw.log" 2>&1 &
    mw_pid=$!
    for _ in $(seq 100); do
        "$py" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return
        sleep 0.1
    done
    echo "mailwarden did not start: $(tail -3 "$work/mw.log")"
    exit 1
}

stop_daemon() {
    kill "$mw_pid" 2>/dev/null
    wait "$mw_pid" 2>/dev/null
    mw_pid=""
}

echo "# budget ${budget} s; $(nproc) CPUs; $(uname -sr); $(date -u +%Y-%m-%d)"
for c in $concurrencies; do
    port=$(free_port)
    start_daemon "$port"
    "$mwload" -s "inet:$port@127.0.0.1" -q -T 120 -c "$c" -m 1 -n "$((c * rounds))" -a 198.51.100.0/24 \
        -f "$src/tests/spam/messages/dkim-8-late-keys.eml" >"$work/load.out" 2>&1
    stop_daemon
    echo "concurrency $c: $(tail -1 "$work/load.out")"
    echo "concurrency $c: target $("$py" -c "print('%.1f' % ($c / $budget))") msgs/s"
done
