#!/bin/bash
# test-spf.sh - `make check` entry for the SPF evaluator's conformance: the OpenSPF RFC 7208
# suite (all 203 tests, results and explanations) and the RFC 4408 suite, each scenario served
# by tests/tools/dnsserver.py on loopback (run-suite.py), then the differential test against
# Debian's pyspf (oracle.py), and mailwarden-check --verbose. TAP lines "ok - " / "not ok - "; a suite whose data
# (../shared/testdata, or $MW_TESTDATA) is absent is skipped by name.
set -u
srcdir=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${MW_BUILDDIR:-$(pwd)}
testdata=${MW_TESTDATA:-$srcdir/../shared/testdata}
spf_eval=$builddir/tests/spf/spf-eval
python=/usr/bin/python3
failed=0 ran=0

if ! $python -c 'import yaml, dnslib' 2>/dev/null; then
    echo "not ok - spf suites: /usr/bin/python3 lacks yaml or dnslib (apt-get install python3-yaml python3-dnslib)"
    exit 1
fi
for suite in rfc7208 rfc4408; do
    file=$testdata/spf/$suite-tests.yml
    if [ ! -r "$file" ]; then
        echo "# SKIP $suite suite: $file is absent"
        continue
    fi
    ran=$((ran + 1))
    exclude=()
    [ -r "$srcdir/tests/spf/$suite-excluded.txt" ] && exclude=(--exclude "$srcdir/tests/spf/$suite-excluded.txt")
    $python "$srcdir/tests/spf/run-suite.py" --suite "$file" --name "$suite" \
        --spf-eval "$spf_eval" "${exclude[@]}" || failed=1
done
# mailwarden-check --verbose: the SPF result of each identity and the DNS lookups it made,
# against tests/tools/dnsserver.py with a small zone.
check_verbose() {
    local work dns_pid port out rc
    work=$(mktemp -d /tmp/test-spf.XXXXXX)
    cat >"$work/zone" <<'ZONE'
ok.test TXT "v=spf1 mx include:inc.ok.test -all"
ok.test MX 10 mx.ok.test
mx.ok.test A 203.0.113.5
inc.ok.test TXT "v=spf1 a:nothing.ok.test ?all"
perm.ok.test TXT "v=spf1 ip4:192.0.2.0/33 -all"
ZONE
    $python "$srcdir/tests/tools/dnsserver.py" --zone "$work/zone" --port 0 \
        --port-file "$work/port" >"$work/dns.log" 2>&1 &
    dns_pid=$!
    for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
    port=$(cat "$work/port" 2>/dev/null)
    printf 'dns: { nameservers = [ "127.0.0.1@%s" ] }\n' "$port" >"$work/policy.conf"
    printf 'From: a@ok.test\r\nSubject: spf\r\n\r\nbody\r\n' >"$work/msg.eml"
    "$builddir/filter/mailwarden-check" -c "$work/policy.conf" --client-ip 198.51.100.1 \
        --helo mx.ok.test --from a@ok.test --rcpt b@x.test --verbose "$work/msg.eml" \
        >"$work/out" 2>"$work/err"
    rc=$?
    if [ "$rc" = 1 ] && grep -qx '  mailfrom: fail for ok.test (DNS lookups 3, void lookups 1, queries 5)' "$work/out" \
        && grep -qx '  helo: none for mx.ok.test (DNS lookups 0, void lookups 0, queries 1)' "$work/out" \
        && grep -q '^reply: 550 5.7.23 SPF fail: 198.51.100.1 is not allowed to send mail from ok.test$' "$work/out"; then
        echo "ok - mailwarden-check --verbose: SPF fail at MAIL FROM, with the identities' results and lookup counts"
    else
        echo "not ok - mailwarden-check --verbose: SPF fail: exit $rc: $(tr '\n' '|' <"$work/out")"
        failed=1
    fi
    "$builddir/filter/mailwarden-check" -c "$work/policy.conf" --client-ip 203.0.113.5 \
        --helo mx.ok.test --from a@ok.test --rcpt b@x.test --verbose "$work/msg.eml" \
        >"$work/out" 2>"$work/err"
    rc=$?
    if [ "$rc" = 0 ] && grep -qx '  mailfrom: pass for ok.test (DNS lookups 1, void lookups 0, queries 3)' "$work/out" \
        && tr '\n' ' ' <"$work/out" | grep -qE 'insert Authentication-Results: [^ ]+;[[:space:]]+spf=pass smtp\.mailfrom=ok\.test'; then
        echo "ok - mailwarden-check --verbose: SPF pass, Authentication-Results spf=pass smtp.mailfrom"
    else
        echo "not ok - mailwarden-check --verbose: SPF pass: exit $rc: $(tr '\n' '|' <"$work/out")"
        failed=1
    fi
    check_policy "$work" "$port"
    kill "$dns_pid" 2>/dev/null
    wait "$dns_pid" 2>/dev/null
    rm -rf "$work"
}

# tap NAME CONDITION-STATUS DETAIL: one TAP line
tap() {
    if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1: $3"; failed=1; fi
}

# The spf policy section through mailwarden-check: the allow lists, the null sender (checked as
# postmaster@HELO, reported as smtp.helo), and errors in the section naming file and line.
check_policy() {
    local work=$1 port=$2 out
    local run=("$builddir/filter/mailwarden-check" --helo mx.ok.test --rcpt b@x.test --verbose)
    printf 'dns: { nameservers = [ "127.0.0.1@%s" ] }\nspf: { allow_clients = [ "198.51.100.0/24" ] }\n' \
        "$port" >"$work/allow-client.conf"
    out=$("${run[@]}" -c "$work/allow-client.conf" --client-ip 198.51.100.1 --from a@ok.test \
        "$work/msg.eml" 2>/dev/null)
    printf '%s\n' "$out" | grep -qx '  mailfrom: not checked' && ! printf '%s\n' "$out" | grep -q 'SPF_'
    tap "spf.allow_clients: a listed client is not checked" $? "$(printf '%s' "$out" | tr '\n' '|')"

    printf 'dns: { nameservers = [ "127.0.0.1@%s" ] }\nspf: { allow_sender_domains = "other.test, .ok.test ok.test" }\n' \
        "$port" >"$work/allow-domain.conf"
    out=$("${run[@]}" -c "$work/allow-domain.conf" --client-ip 198.51.100.1 --from a@ok.test \
        "$work/msg.eml" 2>/dev/null)
    printf '%s\n' "$out" | grep -q '^action: accept' && ! printf '%s\n' "$out" | grep -q 'SPF_'
    tap "spf.allow_sender_domains: a listed sender domain is not checked" $? "$(printf '%s' "$out" | tr '\n' '|')"

    printf 'dns: { nameservers = [ "127.0.0.1@%s" ] }\nspf: { allow_helo = ".ok.test" }\n' \
        "$port" >"$work/allow-helo.conf"
    out=$("${run[@]}" -c "$work/allow-helo.conf" --client-ip 198.51.100.1 --from a@ok.test \
        "$work/msg.eml" 2>/dev/null)
    printf '%s\n' "$out" | grep -q '^action: accept' && ! printf '%s\n' "$out" | grep -q 'SPF_'
    tap "spf.allow_helo: a client whose HELO is below a listed domain is not checked" $? "$(printf '%s' "$out" | tr '\n' '|')"

    # the null sender: postmaster@HELO; mx.ok.test has no SPF record, ok.test (as HELO) fails
    out=$("$builddir/filter/mailwarden-check" -c "$work/policy.conf" --client-ip 198.51.100.1 \
        --helo ok.test --from "" --rcpt b@x.test --verbose "$work/msg.eml" 2>/dev/null)
    printf '%s\n' "$out" | grep -q '^reply: 550 5.7.23 SPF fail: ' \
        && printf '%s\n' "$out" | grep -q '^  SPF_HELO_FAIL 5.0 reject (mail)' \
        && printf '%s\n' "$out" | grep -qx '  mailfrom: fail for ok.test (DNS lookups 3, void lookups 1, queries 5)'
    tap "null sender: checked as postmaster@HELO, the HELO verdict decides (SPF_HELO_FAIL)" $? "$(printf '%s' "$out" | tr '\n' '|')"

    # permerror: a score, accepted, and said so in Authentication-Results
    out=$("$builddir/filter/mailwarden-check" -c "$work/policy.conf" --client-ip 198.51.100.1 \
        --helo mx.ok.test --from a@perm.ok.test --rcpt b@x.test "$work/msg.eml" 2>/dev/null)
    printf '%s\n' "$out" | grep -q '^action: accept' \
        && printf '%s\n' "$out" | grep -qx '  SPF_PERMERROR 1.5 (mail)' \
        && printf '%s\n' "$out" | tr '\n' ' ' | grep -qE 'spf=permerror smtp\.mailfrom=perm\.ok\.test'
    tap "permerror (a bad record): score 1.5, accepted, spf=permerror in Authentication-Results" $? "$(printf '%s' "$out" | tr '\n' '|')"

    # an override of SPF_FAIL's action keeps the reply's class with the action
    printf 'dns: { nameservers = [ "127.0.0.1@%s" ] }\nsymbols: { SPF_FAIL: { action = "tempfail" } }\n' \
        "$port" >"$work/override.conf"
    out=$("${run[@]}" -c "$work/override.conf" --client-ip 198.51.100.1 --from a@ok.test \
        "$work/msg.eml" 2>/dev/null)
    printf '%s\n' "$out" | grep -q '^reply: 451 4.7.23 SPF fail: 198.51.100.1 is not allowed to send mail from ok.test$'
    tap "symbols override: SPF_FAIL made a tempfail answers 451 4.7.23" $? "$(printf '%s' "$out" | tr '\n' '|')"

    printf 'spf: {\n  budgett = "1s"\n  max_dns_lookups = 0\n}\n' >"$work/bad.conf"
    out=$("$builddir/filter/mailwarden" -t -c "$work/bad.conf" 2>&1)
    printf '%s\n' "$out" | grep -q "bad.conf:2: spf.budgett: unknown option in section spf; did you mean budget?" \
        && printf '%s\n' "$out" | grep -q "bad.conf:3: spf.max_dns_lookups: 0 is out of range"
    tap "spf section: errors name file, line and option (did you mean)" $? "$(printf '%s' "$out" | tr '\n' '|')"
}
check_verbose
ran=$((ran + 1))

if [ -r "$srcdir/tests/spf/oracle.py" ]; then
    ran=$((ran + 1))
    $python "$srcdir/tests/spf/oracle.py" --spf-eval "$spf_eval" || failed=1
fi
[ "$ran" -eq 0 ] && exit 77
exit $failed
