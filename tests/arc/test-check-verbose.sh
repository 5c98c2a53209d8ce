#!/bin/bash
# tests/arc/test-check-verbose.sh - mailwarden-check --verbose prints the ARC chain instance
# by instance and where and why it fails: a two-hop chain sealed by python3-dkim
# (tests/arc/pyarc.py, keys made by mailwarden-keygen and served by tests/tools/dnsserver.py on
# loopback) passes with both hops shown; the same chain with the second hop's
# ARC-Authentication-Results changed fails at i=2, its ARC-Seal, "signature". Run by
# `make check` with MW_BUILDDIR and MW_SRCDIR set; skipped (77) without python3-dnslib or
# python3-dkim.
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
check="$build/filter/mailwarden-check"
keygen="$build/filter/mailwarden-keygen"
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

/usr/bin/python3 -c 'import dnslib, dkim, authres' 2>/dev/null || { echo "# skipped: python3-dnslib or python3-dkim missing"; exit 77; }

: >"$work/zone"
for hop in one two; do
    out=$("$keygen" -d "$hop.test" -s hop -t rsa -o "$work/$hop.key") || { echo "not ok - mailwarden-keygen failed"; exit 1; }
    record=$(printf '%s\n' "$out" | sed -n '/^# DNS TXT/,/^# dkim.keys/p' | grep -o '"[^"]*"' | tr -d '"\n')
    printf 'hop._domainkey.%s.test TXT "%s"\n' "$hop" "$record" >>"$work/zone"
done
/usr/bin/python3 "$src/tests/tools/dnsserver.py" --port 0 --port-file "$work/port" --zone "$work/zone" 2>"$work/dns.err" &
dns_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
[ -n "$port" ] || { echo "not ok - dnsserver.py did not start: $(cat "$work/dns.err")"; exit 1; }

printf 'From: a@author.test\nTo: list@one.test\nSubject: chain\nDate: %s\nMessage-ID: <c1@author.test>\n\nhello\n' \
    "$(LC_ALL=C date -R)" >"$work/plain.eml"
/usr/bin/python3 "$src/tests/arc/pyarc.py" seal --key "$work/one.key" --domain one.test --selector hop \
    --srv-id one.test --results "spf=pass smtp.mailfrom=author.test" "$work/plain.eml" >"$work/hop1.eml" \
    && /usr/bin/python3 "$src/tests/arc/pyarc.py" seal --key "$work/two.key" --domain two.test --selector hop \
    --srv-id two.test --results "arc=pass; dkim=none" "$work/hop1.eml" >"$work/hop2.eml" \
    || { echo "not ok - dkim.arc_sign failed"; exit 1; }
sed 's/^\(ARC-Authentication-Results: i=2; two.test;\) /\1 dkim=pass header.d=forged.test; /' \
    "$work/hop2.eml" >"$work/broken.eml"
cmp -s "$work/hop2.eml" "$work/broken.eml" && { echo "not ok - the AAR of i=2 was not changed"; exit 1; }

cat >"$work/check.conf" <<POLICY
dns: { nameservers = [ "127.0.0.1@$port" ]; timeout = "2s" }
authres: { authserv_id = "mw.test" }
POLICY
args=(-c "$work/check.conf" --verbose --client-ip 203.0.113.5 --helo mx.two.test --from a@author.test --rcpt b@x.test)

"$check" "${args[@]}" "$work/hop2.eml" >"$work/pass.out" 2>&1
name="check --verbose: a two-hop chain passes, both hops shown with their sealers and AARs"
if grep -q '^  result: pass (ARC_PASS), 2 sets' "$work/pass.out" \
    && grep -q '^  i=1 cv=none seal d=one.test s=hop: ok' "$work/pass.out" \
    && grep -q '^  i=2 cv=pass seal d=two.test s=hop: ok' "$work/pass.out" \
    && grep -q '^      aar: one.test: spf=pass/author.test' "$work/pass.out"; then
    ok "$name"
else
    not_ok "$name" "$(sed -n '/^arc:/,$p' "$work/pass.out" | tr '\n' '|')"
fi

"$check" "${args[@]}" "$work/broken.eml" >"$work/fail.out" 2>&1
name="check --verbose: the second hop's changed ARC-Authentication-Results fails at i=2, ARC-Seal, signature"
if grep -q '^  result: fail (ARC_FAIL), 2 sets' "$work/fail.out" \
    && grep -q '^  i=2 cv=pass seal d=two.test s=hop: FAILED' "$work/fail.out" \
    && grep -q '^      fails here: ARC-Seal: signature: ' "$work/fail.out"; then
    ok "$name"
else
    not_ok "$name" "$(sed -n '/^arc:/,$p' "$work/fail.out" | tr '\n' '|')"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
