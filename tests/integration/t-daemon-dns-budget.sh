#!/bin/bash
# One DNS budget per message (dns.message_budget, issue 10 item 6), in the daemon, with a DNS
# server that never answers (tests/tools/dnsserver.py --blackhole): every check may wait 4 s
# (dns.timeout, spf.budget, dkim.verify.budget, spam.dnslist_timeout), the message budget is
# 1 s. Two messages on one connection (tests/bench/mwload), each signed 8 times: each message
# is answered within 3.5 s (each stage waiting its own 4 s cost 12 s a message), the daemon logs
# the budget spent once per message (the second message got a fresh one), and the results are
# those of timeouts: SPF and DKIM temperror, no reverse-DNS or DNS-list symbol.
. "$(dirname "$0")/lib.sh"
mw_init t-daemon-dns-budget

MWLOAD=$MW_BUILDDIR/tests/bench/mwload
[ -x "$MWLOAD" ] || die "no load generator at $MWLOAD (build it first)"

"$MW_PY" "$MW_SRCDIR/tests/tools/dnsserver.py" --blackhole --zone /dev/null --port 0 \
    --port-file "$MW_WORK/dns.port" >>"$MW_WORK/dns.log" 2>&1 &
DNS_PID=$!
mw_on_exit "mw_kill_wait $DNS_PID 5"
dns_port_written() { [ -s "$MW_WORK/dns.port" ]; }
mw_wait_until 10 dns_port_written || die "the blackhole DNS server did not start (see dns.log)"

mw_port MW_PORT
cat >"$MW_WORK/mailwarden.conf" <<EOF
# written by tests/integration ($MW_TEST)
milter: { socket = "inet:$MW_PORT@127.0.0.1"; timeout = "30s"; shutdown_grace = "10s" }
log: { level = "info"; summary = true }
authres: { authserv_id = "mw.test" }
control: { socket = "" }
dns: { nameservers = [ "127.0.0.1@$(cat "$MW_WORK/dns.port")" ]; use_hosts = false;
       timeout = "4s"; message_budget = "1s" }
spf: { budget = "4s" }
dkim: { verify: { budget = "4s" } }
symbols: { SPF_TEMPERROR: { action = "score" }; SPF_HELO_TEMPERROR: { action = "score" } }
spam: { rdns = true; dnslist_timeout = "4s";
        dnslists = ( { zone = "list.example"; type = "ip"; symbol = "LIST_EXAMPLE"; score = 3.0 } ) }
EOF
mw_start "$MW_WORK/mailwarden.conf"

"$MWLOAD" -s "inet:$MW_PORT@127.0.0.1" -q -T 60 -c 1 -m 2 -n 2 -a 198.51.100.7 \
    --helo mail.sender.example -F alice@sender.example \
    -f "$MW_SRCDIR/tests/spam/messages/dkim-8-late-keys.eml" >"$MW_WORK/load.out" 2>&1
note "$(tail -1 "$MW_WORK/load.out")"

name="dns budget: two messages on one connection, both answered continue"
if grep -q ' msgs=2 .* continue=2 ' "$MW_WORK/load.out"; then
    pass "$name"
else
    fail "$name" "$(tr '\n' ' ' <"$MW_WORK/load.out")"
fi

name="dns budget: each message answered within 3.5 s (one 1 s budget, not 3 stages of 4 s)"
max_ms=$(sed -n 's/.* max_ms=\([0-9.]*\) .*/\1/p' "$MW_WORK/load.out" | tail -1)
if [ -n "$max_ms" ] && awk -v m="$max_ms" 'BEGIN { exit !(m < 3500) }'; then
    pass "$name"
else
    fail "$name" "slowest message ${max_ms:-?} ms"
fi

# the summary lines and the budget lines are written by the time the replies are sent
name="dns budget: spent once per message (the second message got a fresh budget)"
spent=$(grep -c "DNS budget (dns.message_budget, 1000 ms) is spent" "$MW_LOG")
if [ "$spent" = 2 ]; then pass "$name"; else fail "$name" "logged $spent times"; fi

name="dns budget: the results are those of timeouts (SPF and DKIM temperror, nothing cleaner)"
why_not=""
[ "$(grep -c 'SPF_TEMPERROR' "$MW_LOG")" -ge 2 ] || why_not="no SPF_TEMPERROR for each message"
[ "$(grep -c 'DKIM_TEMPERROR' "$MW_LOG")" -ge 2 ] || why_not="${why_not:+$why_not; }no DKIM_TEMPERROR for each message"
grep -Eq 'SPF_(PASS|NONE|NEUTRAL)|DKIM_(VALID|PASS|NONE)|RDNS_NONE|LIST_EXAMPLE' "$MW_LOG" \
    && why_not="${why_not:+$why_not; }a result other than a timeout's: $(grep -Eo 'SPF_(PASS|NONE|NEUTRAL)|DKIM_(VALID|PASS|NONE)|RDNS_NONE|LIST_EXAMPLE' "$MW_LOG" | sort -u | tr '\n' ' ')"
if [ -z "$why_not" ]; then pass "$name"; else fail "$name" "$why_not"; fi

mw_finish "dns budget: the daemon stops on SIGTERM"
