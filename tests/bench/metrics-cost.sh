#!/bin/bash
# tests/bench/metrics-cost.sh - what the metrics cost at about 3000 messages/s: mailwarden
# (default checks, a DNS server on loopback with an empty zone) under tests/bench/mwload on a
# unix socket, concurrency 8, 10 messages per connection, in rounds that alternate
#   off:      no `metrics` section (the counters count, nobody reads them)
#   scraped:  the listener on, and a client fetching /metrics every second all through the run
#   baseline: (with --baseline DIR) the daemon built from a tree without the metrics at all
# Each round starts the daemon afresh, warms up (500 messages), then measures N messages:
# msgs/s, p50/p99 latency, the daemon's CPU ms per message (utime+stime from /proc/PID/stat).
# Prints one line per run and a markdown table of the medians. Not a test: numbers, with the
# command and the machine, go to docs/PERFORMANCE.md.
#
#   MW_BUILDDIR=/path/to/build bash tests/bench/metrics-cost.sh [--rounds 3] [--messages 20000]
#       [--baseline /path/to/build-without-metrics]
set -u
build=${MW_BUILDDIR:-.}
src=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
rounds=3 messages=20000 baseline=""
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --messages) messages=$2; shift 2 ;;
        --baseline) baseline=$2; shift 2 ;;
        *) echo "usage: $0 [--rounds N] [--messages N] [--baseline BUILDDIR]" >&2; exit 64 ;;
    esac
done
mwload="$build/tests/bench/mwload"
for f in "$build/filter/mailwarden" "$mwload"; do
    [ -x "$f" ] || { echo "$f is not built" >&2; exit 1; }
done
work=$(mktemp -d)
mw_pid="" dns_pid="" scraper_pid=""
cleanup() {
    [ -n "$scraper_pid" ] && kill "$scraper_pid" 2>/dev/null && wait "$scraper_pid" 2>/dev/null
    [ -n "$mw_pid" ] && kill "$mw_pid" 2>/dev/null && wait "$mw_pid" 2>/dev/null
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

: >"$work/zone"
"$py" "$src/tests/tools/dnsserver.py" --zone "$work/zone" --port 0 --port-file "$work/dns.port" \
    >"$work/dns.log" 2>&1 &
dns_pid=$!
for _ in $(seq 50); do [ -s "$work/dns.port" ] && break; sleep 0.1; done
[ -s "$work/dns.port" ] || { echo "the DNS server did not start: $(cat "$work/dns.log")" >&2; exit 1; }
metrics_port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

write_policy() { # WITH-METRICS(0/1)
    cat <<EOF
milter: { socket = "unix:$work/mw.sock"; timeout = "30s" }
log: { level = "warning"; summary = false }
authres: { authserv_id = "mw.bench" }
dns: { nameservers = [ "127.0.0.1@$(cat "$work/dns.port")" ]; use_hosts = false; timeout = "2s" }
access = (
  { name = "blocked-senders"; match = "sender"; values = [ "@spam.example" ];
    action = "reject"; reply = "550 5.7.1 Sender blocked by local policy" }
)
EOF
    [ "$1" = 1 ] && echo "metrics: { listen = \"127.0.0.1:$metrics_port\" }"
}

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# scrape every second until SIGTERM; then prints the number of good scrapes (HTTP 200 with
# counters) and of failed ones
cat >"$work/scraper.py" <<'EOF'
import signal, sys, time, urllib.request
url, good, bad = sys.argv[1], 0, 0
def stop(*_):
    print(f"scrapes={good} failed={bad}")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = r.read()
            good += r.status == 200 and b"mailwarden_messages_total" in body
    except Exception:
        bad += 1
    time.sleep(1)
EOF

run() { # MODE ROUND
    local mode=$1 round=$2 daemon=$build/filter/mailwarden with_metrics=0
    [ "$mode" = baseline ] && daemon=$baseline/filter/mailwarden
    [ "$mode" = scraped ] && with_metrics=1
    write_policy "$with_metrics" >"$work/mw.conf"
    rm -f "$work/mw.sock"
    "$daemon" -f -c "$work/mw.conf" >>"$work/mw-$mode.log" 2>&1 &
    mw_pid=$!
    for _ in $(seq 100); do [ -S "$work/mw.sock" ] && break; sleep 0.1; done
    [ -S "$work/mw.sock" ] || { echo "mailwarden ($mode) did not start: $(tail -3 "$work/mw-$mode.log")" >&2; exit 1; }
    "$mwload" -s "unix:$work/mw.sock" -c 8 -m 10 -n 500 -a 198.51.100.0/24 -q >/dev/null 2>&1
    if [ "$mode" = scraped ]; then
        "$py" "$work/scraper.py" "http://127.0.0.1:$metrics_port/metrics" >"$work/scraper.out" 2>&1 &
        scraper_pid=$!
    fi
    local before after load
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(cpu_ticks "$mw_pid")
    "$mwload" -s "unix:$work/mw.sock" -c 8 -m 10 -n "$messages" -a 198.51.100.0/24 -q >"$work/run.out" 2>&1
    after=$(cpu_ticks "$mw_pid")
    local scrapes=-
    if [ -n "$scraper_pid" ]; then
        kill "$scraper_pid"; wait "$scraper_pid" 2>/dev/null; scraper_pid=""
        scrapes=$(sed -n 's/^scrapes=\([0-9]*\) failed=\([0-9]*\)$/\1 ok, \2 failed/p' "$work/scraper.out")
    fi
    kill "$mw_pid"; wait "$mw_pid" 2>/dev/null; mw_pid=""
    get() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" "$work/run.out"; }
    local answered; answered=$(get continue)
    local cpu_ms; cpu_ms=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$messages" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')
    echo "$mode $round $(get msgs_per_s) $(get p50_ms) $(get p99_ms) $cpu_ms $load $answered" >>"$work/results"
    printf '%-8s round %s: %8s msgs/s  p50 %6s ms  p99 %7s ms  cpu %s ms/msg  load %s  answered %s  scrapes: %s\n' \
        "$mode" "$round" "$(get msgs_per_s)" "$(get p50_ms)" "$(get p99_ms)" "$cpu_ms" "$load" \
        "$answered/$messages" "$scrapes"
}

modes="off scraped"
[ -n "$baseline" ] && modes="baseline off scraped"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $messages messages per run, c=8, 10 per connection, unix socket"
for round in $(seq "$rounds"); do
    for mode in $modes; do run "$mode" "$round"; done
done

echo
echo "| mode | msgs/s (median of $rounds) | p50 / p99 ms (median) | CPU ms/msg (median) | runs msgs/s |"
echo "|---|---|---|---|---|"
for mode in $modes; do
    awk -v m="$mode" '$1 == m' "$work/results" | "$py" -c '
import statistics, sys
rows = [l.split() for l in sys.stdin]
med = lambda i: statistics.median(float(r[i]) for r in rows)
runs = ", ".join(r[2] for r in rows)
print(f"| {rows[0][0]} | {med(2):.1f} | {med(3):.3f} / {med(4):.3f} | {med(5):.3f} | {runs} |")'
done
