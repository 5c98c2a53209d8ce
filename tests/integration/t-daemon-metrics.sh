#!/bin/bash
# mailwarden with its Prometheus listener on (filter/daemon/metrics_http.c), driven by the milter load
# generator tests/bench/mwload: the counters move by exactly the messages sent and their actions
# (20 accepted, 7 rejected at MAIL by an access rule, 27 connections, 7 hits of the access
# rule's symbol), the gauges are back at 0, reloads are counted by outcome; GET /metrics has the
# text format's Content-Type and parses strictly (helpers/metrics.py, whose strictness is shown
# on broken texts); other paths get 404, other methods 405; a client outside metrics.allow gets
# 403 (the allow list of the policy in force, after a reload, and from the start in a second
# run); a port below 1024 is refused by `mailwarden -t`; and every metric the Grafana dashboard
# (packaging/grafana/mailwarden-dashboard.json) queries is served.
. "$(dirname "$0")/lib.sh"
mw_init t-daemon-metrics

MWLOAD=$MW_BUILDDIR/tests/bench/mwload
[ -x "$MWLOAD" ] || die "no load generator at $MWLOAD (build it first)"
PROM="$MW_PY $MW_HELPERS/metrics.py"
DASHBOARD=$MW_SRCDIR/packaging/grafana/mailwarden-dashboard.json

dns_start
mw_port MW_PORT
mw_port METRICS_PORT
URL=http://127.0.0.1:$METRICS_PORT/metrics
CONF=$MW_WORK/mailwarden.conf

write_policy() { # ALLOW-LIST
    mw_policy "$CONF" <<EOF
access = (
  { name = "blocked-senders"; match = "sender"; values = [ "@spam.example" ];
    action = "reject"; reply = "550 5.7.1 Sender blocked by local policy" }
)
metrics: {
  listen = "127.0.0.1:$METRICS_PORT"
  allow = [ $1 ]
}
EOF
}
write_policy '"127.0.0.0/8", "::1"'
mw_start "$CONF"
mw_wait_listen "$METRICS_PORT" 20 || die "the metrics listener did not listen on $METRICS_PORT"

get() { $PROM get "$URL" "$1"; }
ACCEPT='mailwarden_messages_total{action="accept",direction="inbound"}'
REJECT='mailwarden_messages_total{action="reject",direction="inbound"}'
SYMBOL='mailwarden_symbol_hits_total{symbol="ACCESS_BLOCKED_SENDERS"}'
declare -A before
for s in "$ACCEPT" "$REJECT" mailwarden_connections_total; do before[$s]=$(get "$s"); done
before[$SYMBOL]=$(get "$SYMBOL")
[ "${before[$SYMBOL]}" = absent ] && before[$SYMBOL]=0

# 20 accepted messages on 4 connections of 5 would be 4 connections: one message a connection
# makes the connection count a second, independent number
"$MWLOAD" -s "inet:$MW_PORT@127.0.0.1" -c 2 -n 20 -a 198.51.100.0/28 -q >"$MW_WORK/load-accept.out" 2>&1
"$MWLOAD" -s "inet:$MW_PORT@127.0.0.1" -c 2 -n 7 -a 198.51.100.0/28 -F spammer@spam.example -q \
    >"$MW_WORK/load-reject.out" 2>&1
name="metrics: mwload got 20 answers of continue and 7 of reject"
if grep -q ' msgs=20 .* continue=20 ' "$MW_WORK/load-accept.out" \
        && grep -q ' msgs=7 .* reject=7 ' "$MW_WORK/load-reject.out"; then
    pass "$name"
else
    fail "$name" "$(cat "$MW_WORK/load-accept.out" "$MW_WORK/load-reject.out" | tr '\n' ' ')"
fi

delta_is() { # NAME SERIES EXPECTED
    local now; now=$(get "$2")
    if [ "$now" != absent ] && [ $((now - before[$2])) = "$3" ]; then
        pass "$1"
    else
        fail "$1" "$2 went from ${before[$2]} to $now, expected +$3"
    fi
}
delta_is "metrics: messages_total{accept,inbound} moved by exactly 20" "$ACCEPT" 20
delta_is "metrics: messages_total{reject,inbound} moved by exactly 7" "$REJECT" 7
delta_is "metrics: connections_total moved by exactly 27" mailwarden_connections_total 27
delta_is "metrics: the access rule's symbol counted 7 times" "$SYMBOL" 7
name="metrics: connections_open and transactions_in_flight are back at 0"
open=$(get mailwarden_connections_open); flight=$(get mailwarden_transactions_in_flight)
[ "$open" = 0 ] && [ "$flight" = 0 ] && pass "$name" || fail "$name" "open $open, in flight $flight"
name="metrics: each check's latency histogram counted the check's calls"
calls=$(get 'mailwarden_check_duration_seconds_count{check="access"}')
# access runs at connect, helo and mail (all 27), and at rcpt (the 20 not rejected at mail)
[ "$calls" = $((27 * 3 + 20)) ] && pass "$name" || fail "$name" "access: $calls calls"
name="metrics: build_info carries the version"
[ "$(get "mailwarden_build_info{version=\"$("$MW_BIN" -V | awk '{ print $2 }')\"}")" = 1 ] \
    && pass "$name" || fail "$name" "$(get mailwarden_build_info)"

name="metrics: GET /metrics has Content-Type text/plain; version=0.0.4 and parses strictly"
out=$($PROM check "$URL") && pass "$name ($out)" || fail "$name" "$out"
$PROM fetch "$URL" >"$MW_WORK/scrape.out"

name="metrics: the strict parser refuses broken texts (so its ok above means something)"
bad=0
printf '# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n' >"$MW_WORK/bad1.txt"
printf 'a_total{x="1\\q"} 1\n' >"$MW_WORK/bad2.txt"
printf '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 3\n' >"$MW_WORK/bad3.txt"
printf 'a_total 1\nb 2\na_total{x="y"} 3\n' >"$MW_WORK/bad4.txt"
printf '# TYPE c counter\nc 1\n' >"$MW_WORK/bad5.txt"
for i in 1 2 3 4 5; do
    $PROM parse-file "$MW_WORK/bad$i.txt" >"$MW_WORK/bad$i.out" && bad=$((bad + 1))
done
$PROM parse-file "$MW_WORK/scrape.out" >/dev/null || bad=$((bad + 1))
[ "$bad" = 0 ] && pass "$name" || fail "$name" "$bad of 5 broken texts accepted, or the real one refused"

name="metrics: another path gets 404, POST gets 405"
s404=$($PROM status "http://127.0.0.1:$METRICS_PORT/other"); s405=$($PROM status "$URL" POST)
[ "$s404" = 404 ] && [ "$s405" = 405 ] && pass "$name" || fail "$name" "got $s404 and $s405"

name="metrics: every metric the Grafana dashboard queries is served"
out=$($PROM dashboard "$DASHBOARD" "$URL") && pass "$name ($out)" || fail "$name" "$out"

# reloads by outcome; then an allow list without loopback takes effect with the reload
name="metrics: a good reload counts as success, a refused one as failure"
cp "$CONF" "$MW_WORK/good.conf"
mw_hup
mw_wait_until 10 eval '[ "$(get "mailwarden_reloads_total{outcome=\"success\"}")" = 1 ]'
echo 'metrics: { listen = "127.0.0.1:80" }' >>"$CONF"
mw_hup
mw_wait_until 10 eval '[ "$(get "mailwarden_reloads_total{outcome=\"failure\"}")" = 1 ]'
ok=$(get 'mailwarden_reloads_total{outcome="success"}'); ko=$(get 'mailwarden_reloads_total{outcome="failure"}')
[ "$ok" = 1 ] && [ "$ko" = 1 ] && pass "$name" || fail "$name" "success $ok, failure $ko"

name="metrics: after a reload to an allow list without 127.0.0.1, a loopback client gets 403"
write_policy '"10.0.0.0/8"'
mw_hup
mw_wait_until 10 eval '[ "$($PROM status "$URL")" = 403 ]'
status=$($PROM status "$URL")
[ "$status" = 403 ] && pass "$name" || fail "$name" "status $status"
mw_finish "metrics: the daemon stops cleanly, no sanitizer report"

name="metrics: a second run started with that allow list answers 403 from the start"
mw_wait_port_free "$METRICS_PORT" 20
mw_start "$CONF"
mw_wait_listen "$METRICS_PORT" 20
status=$($PROM status "$URL")
[ "$status" = 403 ] && pass "$name" || fail "$name" "status $status"
mw_finish "metrics: the second daemon stops cleanly, no sanitizer report"

name="metrics: mailwarden -t refuses a metrics port below 1024, naming metrics.listen"
write_policy '"127.0.0.0/8"'
sed -i "s|listen = \"127.0.0.1:$METRICS_PORT\"|listen = \"127.0.0.1:443\"|" "$CONF"
"$MW_BIN" -t -c "$CONF" >"$MW_WORK/t-low-port.out" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q 'metrics.listen: "127.0.0.1:443": ports below 1024' "$MW_WORK/t-low-port.out"; then
    pass "$name"
else
    fail "$name" "exit $rc: $(tr '\n' ' ' <"$MW_WORK/t-low-port.out")"
fi
