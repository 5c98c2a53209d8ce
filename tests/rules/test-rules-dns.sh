#!/bin/bash
# tests/rules/test-rules-dns.sh - the network plugins' rules (URIDNSBL, AskDNS, DNSEval)
# through mailwarden-check and our resolver, against the loopback DNS server
# (tests/tools/dnsserver.py) serving the lists' zones: a URI's domain listed in a urirhssub
# list hits, one not listed does not; an askdns rule on the author's domain hits by its
# subtest; a list that does not answer (the server drops the query) hits nothing and the
# message still gets its verdict; without a resolver nothing of it hits (SpamAssassin -L); a
# rule named like a native SPF symbol takes the name without crashing the SPF check.
# Prints TAP "ok - " lines; exits 77 (skip) without python3-dnslib.
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
check="$build/filter/mailwarden-check"
if ! /usr/bin/python3 -c 'import dnslib' 2>/dev/null; then
    echo "SKIP: python3-dnslib is not installed"
    exit 77
fi
work=$(mktemp -d)
dns_pid=""
cleanup() {
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

cat >"$work/zone" <<'ZONE'
www.bad.test.dbl.test A 127.0.1.2
bad.test.multi.test A 127.0.0.10
other.test.multi.test A 127.0.0.1
news.test.fresh.test A 127.2.0.14
slow.test.multi.test TIMEOUT
ZONE
/usr/bin/python3 "$src/tests/tools/dnsserver.py" --port 0 --port-file "$work/port" \
    --zone "$work/zone" --log "$work/dns.log" 2>"$work/dns.err" &
dns_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
if [ -z "$port" ]; then
    echo "not ok - the loopback DNS server did not start: $(head -c 400 "$work/dns.err")"
    exit 1
fi

cat >"$work/net.cf" <<'RULES'
# .test is no TLD of the public list: SpamAssassin (and so we) take URI domains only under
# the util_rb_tld list, which 20_aux_tlds.cf and the rule updates carry
util_rb_tld test
urirhssub  T_DBL_SPAM  dbl.test.   A  127.0.1.2
body       T_DBL_SPAM  eval:check_uridnsbl('T_DBL_SPAM')
tflags     T_DBL_SPAM  net domains_only notrim
score      T_DBL_SPAM  3.0
urirhssub  T_MULTI_PH  multi.test. A  8
body       T_MULTI_PH  eval:check_uridnsbl('T_MULTI_PH')
tflags     T_MULTI_PH  net
score      T_MULTI_PH  2.0
urirhssub  T_MULTI_X   multi.test. A  16
body       T_MULTI_X   eval:check_uridnsbl('T_MULTI_X')
score      T_MULTI_X   2.0
askdns     T_NEWDOM    _AUTHORDOMAIN_.fresh.test. A /^127\.2\.0\.14$/
score      T_NEWDOM    1.5
askdns     T_NEWDOM28  _AUTHORDOMAIN_.fresh.test. A /^127\.2\.0\.28$/
score      T_NEWDOM28  1.5
RULES
cat >"$work/dns.conf" <<POLICY
dns: { nameservers = [ "127.0.0.1@$port" ]; timeout = "1s"; message_budget = "5s" }
rules: { files = [ "$work/net.cf" ] }
POLICY
cat >"$work/nodns.conf" <<POLICY
rules: { files = [ "$work/net.cf" ] }
POLICY

printf 'From: a@news.test\r\nTo: b@example.org\r\nSubject: offer\r\n\r\nsee http://www.bad.test/x and http://good.test/\r\n' >"$work/listed.eml"
printf 'From: a@example.org\r\nTo: b@example.org\r\nSubject: offer\r\n\r\nsee http://www.good.test/x\r\n' >"$work/clean.eml"
printf 'From: a@example.org\r\nTo: b@example.org\r\nSubject: offer\r\n\r\nsee http://www.slow.test/x\r\n' >"$work/slow.eml"

symbols() {   # conf message -> the symbols, one a line, in $work/out.sym
    "$check" -c "$work/$1" --from a@example.org --rcpt b@example.org "$work/$2" >"$work/out" 2>&1
    sed -n '/^symbols:/,/^[a-z]/p' "$work/out" | sed -nE 's/^  ([A-Z0-9_]+) .*/\1/p' >"$work/out.sym"
}
has() { grep -qx "$1" "$work/out.sym"; }

symbols dns.conf listed.eml
if has T_DBL_SPAM && has T_MULTI_PH && has T_NEWDOM; then
    ok "listed URI host, domain and author domain hit through the resolver"
else
    not_ok "listed URI host, domain and author domain hit" "$(head -c 800 "$work/out")"
fi
if ! has T_MULTI_X && ! has T_NEWDOM28; then
    ok "answers that fail the subtest do not hit"
else
    not_ok "answers that fail the subtest do not hit" "$(head -c 800 "$work/out")"
fi
if grep -qi "www.bad.test.dbl.test" "$work/dns.log" && grep -qi "bad.test.multi.test" "$work/dns.log"; then
    ok "the queries reached the DNS server (host with notrim, domain without)"
else
    not_ok "the queries reached the DNS server" "$(tail -c 600 "$work/dns.log")"
fi

symbols dns.conf clean.eml
if ! has T_DBL_SPAM && ! has T_MULTI_PH && ! has T_NEWDOM && grep -q '^action: accept' "$work/out"; then
    ok "unlisted names hit nothing"
else
    not_ok "unlisted names hit nothing" "$(head -c 800 "$work/out")"
fi

symbols dns.conf slow.eml
if ! has T_MULTI_PH && ! has T_MULTI_X && grep -q '^action: ' "$work/out"; then
    ok "a list that does not answer hits nothing and the message gets its verdict"
else
    not_ok "a list that does not answer" "$(head -c 800 "$work/out")"
fi

symbols nodns.conf listed.eml
if ! has T_DBL_SPAM && ! has T_MULTI_PH && ! has T_NEWDOM; then
    ok "without a resolver the network rules do not hit (SpamAssassin -L)"
else
    not_ok "without a resolver the network rules do not hit" "$(head -c 800 "$work/out")"
fi

# A loaded rule named like check_spf's symbol (the stock SPF_HELO_NONE) owns the name: the
# SPF check then adds nothing of its own and must not read a result that is not there (it
# crashed), and the rule hits from our SPF result.
cat >"$work/spf.cf" <<'RULES'
header SPF_HELO_NONE eval:check_for_spf_helo_none()
score  SPF_HELO_NONE 0.5
RULES
cat >"$work/spf.conf" <<POLICY
dns: { nameservers = [ "127.0.0.1@$port" ]; timeout = "1s" }
spam: { rdns = false }
rules: { files = [ "$work/spf.cf" ] }
POLICY
"$check" -c "$work/spf.conf" --client-ip 198.51.100.200 --helo mail.nowhere.test \
    --from a@nowhere.test --rcpt b@example.org "$work/clean.eml" >"$work/out" 2>&1
rc=$?
if [ "$rc" -lt 64 ] && grep -qE '^  SPF_HELO_NONE 0\.5 ' "$work/out"; then
    ok "a rule named like the SPF check's symbol hits from our SPF result, no crash"
else
    not_ok "a rule named like the SPF check's symbol" "exit $rc: $(head -c 600 "$work/out")"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
