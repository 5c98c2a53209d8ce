#!/bin/bash
# tests/cli/test-cli.sh - what an admin sees from the command line: `mailwarden -t` on good and
# broken policies (exit status, file:line: option: reason lines), and `mailwarden-check`
# (verdict, reply, symbols, header edits, exit status per action, --dns-lookup through a real
# DNS server on loopback). Run by `make check` with MW_BUILDDIR and MW_SRCDIR set.
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
mw="$build/filter/mailwarden"
check="$build/filter/mailwarden-check"
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
# expect NAME STATUS OUTPUT-FILE PATTERN... : the exit status and every pattern must match
expect() {
    local name=$1 want=$2 got=$3 file=$4
    shift 4
    if [ "$got" != "$want" ]; then
        not_ok "$name" "exit status $got, expected $want; output: $(head -c 600 "$file")"
        return
    fi
    for pattern in "$@"; do
        if ! grep -qE -- "$pattern" "$file"; then
            not_ok "$name" "no line matches /$pattern/ in: $(head -c 600 "$file")"
            return
        fi
    done
    ok "$name"
}

# --- mailwarden -t ---
"$mw" -t -c "$src/policies/mailwarden.conf" >"$work/out" 2>&1
expect "the shipped policy passes -t" 0 $? "$work/out" "^mailwarden: policy OK" "socket inet:8891@127.0.0.1"
# a new install has nothing to fix: no warning (with Debian's stock rules too, when installed)
if grep -q "warning:" "$work/out"; then
    not_ok "the shipped policy passes -t without a warning" "$(grep "warning:" "$work/out" | head -n 3)"
else
    ok "the shipped policy passes -t without a warning"
fi

mkdir -p "$work/p/policies.d"
cat >"$work/p/mailwarden.conf" <<'POLICY'
include = [ "policies.d/*.conf" ]
milter: {
  socket = "inet:127.0.0.1:8891"
  timout = "30s"
}
networks: { internal = [ "10.1.2.3/8" ] }
POLICY
printf 'access = (\n  { name = "x"; match = "sendr"; values = [ "a@b" ] }\n)\n' >"$work/p/policies.d/20-access.conf"
"$mw" -t -c "$work/p/mailwarden.conf" >"$work/out" 2>&1
expect "-t names file, line, option and fix of every error, in main and included files" 1 $? "$work/out" \
    "mailwarden.conf:3: milter.socket: .*inet:PORT@HOST" \
    "mailwarden.conf:4: milter.timout: unknown option in section milter; did you mean timeout\\?" \
    "mailwarden.conf:6: networks.internal: \"10.1.2.3/8\": address has bits set" \
    "20-access.conf:2: access\\[1\\].match: unknown key \"sendr\"" \
    "^mailwarden: 4 errors in the policy files"

printf 'milter: {\n  socket = "inet:8891@127.0.0.1"\n  backlog = 10\n' >"$work/broken.conf"
"$mw" -t -c "$work/broken.conf" >"$work/out" 2>&1
expect "-t reports a syntax error with its line" 1 $? "$work/out" "broken.conf:4: -: syntax error"

# a rule named like a native check's symbol replaces it: -t warns, naming the file and line
cat >"$work/rules.cf" <<'RULES'
# local rules
header HELO_NOT_FQDN X-Helo =~ /^[^.]+$/
score HELO_NOT_FQDN 2.7
RULES
printf 'rules: { files = [ "%s" ] }\n' "$work/rules.cf" >"$work/clash.conf"
"$mw" -t -c "$work/clash.conf" >"$work/out" 2>&1
expect "-t warns about a rule named like a native symbol, with its file and line" 0 $? "$work/out" \
    "^mailwarden: warning: .*rules.cf:2: rule HELO_NOT_FQDN replaces the native check.s symbol"

# symbols { } refuses a name nothing emits, with the likely meant one; the old store spelling
# is accepted with a notice; an @include circle is named at the @include that closes it.
mkdir -p "$work/sym"
printf 'log: { level = "info" }\nsymbols: {\n  SPF_FIAL: { score = 5.0 }\n}\n' >"$work/sym/typo.conf"
"$mw" -t -c "$work/sym/typo.conf" >"$work/out" 2>&1
expect "-t refuses an unknown symbol with file, line and the likely name" 1 $? "$work/out" \
    "typo.conf:3: symbols: unknown symbol \"SPF_FIAL\" \\(did you mean SPF_FAIL\\?\\)"
printf 'ratelimit: {\n  store: { backend = "memory" }\n}\n' >"$work/sym/old-store.conf"
"$mw" -t -c "$work/sym/old-store.conf" >"$work/out" 2>&1
expect "-t accepts ratelimit.store { } with a notice naming the store section" 0 $? "$work/out" \
    "^mailwarden: notice: .*old-store.conf:2: ratelimit.store: the old spelling, still accepted" \
    "^mailwarden: policy OK"
printf 'log: { level = "info" }\n@include "%s/sym/circle-b.conf"\n' "$work" >"$work/sym/circle-a.conf"
printf 'limits: { max_headers = 100 }\n@include "%s/sym/circle-a.conf"\n' "$work" >"$work/sym/circle-b.conf"
"$mw" -t -c "$work/sym/circle-a.conf" >"$work/out" 2>&1
expect "-t names the @include that closes an include circle" 1 $? "$work/out" \
    "circle-b.conf:2: @include: .*circle-a.conf is already being read: an include circle"

"$mw" -t -c "$work/missing.conf" >"$work/out" 2>&1
expect "-t on a missing file names it" 1 $? "$work/out" "missing.conf: -: cannot read the file: No such file"

"$mw" -x >"$work/out" 2>&1
expect "an unknown option prints usage" 64 $? "$work/out" "^usage: mailwarden"

# --- mailwarden-check ---
# Every lookup the checks make (reverse DNS, SPF, DKIM keys) goes to a real DNS server on
# loopback serving this zone, never to the machine's resolver: the results are the same
# everywhere. 203.0.113.5 is mx.ok.test both ways; ok.test publishes SPF for it.
port=""
if /usr/bin/python3 -c 'import dnslib' 2>/dev/null; then
    cat >"$work/zone" <<'ZONE'
5.113.0.203.in-addr.arpa PTR mx.ok.test
mx.ok.test A 203.0.113.5
ok.test TXT "v=spf1 ip4:203.0.113.5 -all"
mw.test A 192.0.2.10
mw.test TXT "v=spf1 " "-all"
slow.mw.test TIMEOUT
_dmarc.dm.test TXT "v=DMARC1; p=quarantine; rua=mailto:agg@dm.test"
mail.dm.test A 192.0.2.11
ZONE
    /usr/bin/python3 "$src/tests/tools/dnsserver.py" --port 0 --port-file "$work/port" --zone "$work/zone" 2>"$work/dns.err" &
    dns_pid=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    port=$(cat "$work/port" 2>/dev/null)
fi
[ -n "$port" ] || not_ok "check: a DNS server on loopback for the checks" "tests/tools/dnsserver.py did not start (python3-dnslib?)"
# The native checks alone (rules { files = [ ] }): the stock SpamAssassin rules, read by default,
# would add their own points to the scores these cases pin down.
cat >"$work/check.conf" <<POLICY
rules: { files = [ ] }
dns: { nameservers = [ "127.0.0.1@${port:-9}" ]; timeout = "1s" }
authres: { authserv_id = "mw.test" }
networks: { internal = [ "192.0.2.0/24" ]; skip = [ "198.51.100.99" ] }
access = (
  { name = "blocked"; match = "sender"; values = [ "spammer@bad.test" ];
    reply = "550 5.7.1 Sender blocked by test policy" },
  { name = "slow"; match = "helo"; values = [ ".slow.test" ]; action = "tempfail";
    reply = "451 4.7.1 Slow down" },
  { name = "nobody"; match = "recipient"; values = [ "nobody@x.test" ] },
  { name = "hold"; match = "sender_domain"; values = [ "hold.test" ]; action = "quarantine" },
  { name = "suspect"; match = "sender_domain"; values = [ "suspect.test" ]; action = "score"; score = 20.0 }
)
POLICY
printf 'From: a@ok.test\r\nTo: bob@x.test\r\nDate: %s\r\nMessage-ID: <1@ok.test>\r\nAuthentication-Results: mw.test; spf=pass\r\nAuthentication-Results: other.example; dkim=pass\r\nSubject: hi\r\n\r\nbody\r\n' "$(LC_ALL=C date -R)" >"$work/msg.eml"
args=(-c "$work/check.conf" --client-ip 203.0.113.5 --helo mx.ok.test --rcpt bob@x.test)

"$check" "${args[@]}" --from a@ok.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: accepted mail, forged A-R deleted, ours inserted" 0 $? "$work/out" \
    "^action: accept" "delete Authentication-Results #1" "insert Authentication-Results: mw.test;" "spf=pass smtp.mailfrom=ok.test"
if grep -q "delete Authentication-Results #2" "$work/out"; then
    not_ok "check: the foreign A-R is kept" "it was deleted"
else
    ok "check: the foreign A-R is kept"
fi

# A DKIM signature whose i= carries an unbalanced comment and quote (seen in the wild as
# header.i=a(b"c\\@paypal.com): our Authentication-Results writes it as a quoted-string.
printf 'DKIM-Signature: v=1; a=rsa-sha256; d=ok.test; s=sel; c=relaxed/relaxed;\r\n i=a(b"c\\@ok.test; h=from:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AbCd/efgh+ij\r\nFrom: a@ok.test\r\nTo: bob@x.test\r\nSubject: hi\r\n\r\nbody\r\n' >"$work/dkim-i.eml"
"$check" "${args[@]}" --from a@ok.test "$work/dkim-i.eml" >"$work/out" 2>&1
name="check: a hostile DKIM i= is a quoted-string in our Authentication-Results"
if grep -qF 'dkim=permerror header.d=ok.test header.i="a(b\"c\\@ok.test" header.s=sel header.a=rsa-sha256 header.b="AbCd/efg"' "$work/out"; then
    ok "$name"; else not_ok "$name" "$(grep -A3 'Authentication-Results' "$work/out" | head -c 600)"; fi

"$check" "${args[@]}" --from spammer@bad.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: deny-listed sender rejected with the policy's reply" 1 $? "$work/out" \
    "^action: reject" "^reply: 550 5.7.1 Sender blocked by test policy" "ACCESS_BLOCKED 0.0 reject \\(mail\\)"

"$check" -c "$work/check.conf" --client-ip 203.0.113.5 --helo mx.slow.test --from a@ok.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: HELO rule tempfails" 2 $? "$work/out" "^action: tempfail" "^reply: 451 4.7.1 Slow down"

"$check" "${args[@]}" --from a@hold.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: quarantine" 3 $? "$work/out" "^action: quarantine"

# DMARC: From mail.dm.test, MAIL FROM ok.test (SPF pass, not aligned): dm.test's quarantine
# policy (sp falls back to p); --verbose shows the names asked, the record, the
# Organizational Domain, alignment and the result
printf 'From: a@mail.dm.test\r\nTo: bob@x.test\r\nSubject: hi\r\n\r\nbody\r\n' >"$work/dmarc.eml"
"$check" "${args[@]}" --verbose --from bounce@ok.test "$work/dmarc.eml" >"$work/out" 2>/dev/null
expect "check: --verbose shows the DMARC lookups, record, organizational domain and result" 3 $? \
    "$work/out" "^action: quarantine" "DMARC_FAIL_QUARANTINE" \
    "dmarc=fail header.from=mail.dm.test policy.dmarc=quarantine" \
    "^  lookup: _dmarc.mail.dm.test TXT: nxdomain" "^  lookup: _dmarc.dm.test TXT: ok, 1 record" \
    "^    record at dm.test: p=quarantine .*rua=mailto:agg@dm.test" "^    policy: p=quarantine" \
    "^    organizational domain: dm.test" "^    aligned: spf no, dkim no" \
    "^  spf identity: ok.test pass \(mfrom\)" "^  result: fail, disposition: quarantine"

"$check" "${args[@]}" --from a@suspect.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: a score over actions.reject rejects with the spam reply" 1 $? "$work/out" \
    "^action: reject" "^reply: 550 5.7.1 Message rejected as spam" "^score: 20.0"

"$check" -c "$work/check.conf" --client-ip 203.0.113.5 --from a@ok.test --rcpt nobody@x.test --rcpt bob@x.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: a recipient rule refuses only that recipient" 0 $? "$work/out" \
    "^rcpt <nobody@x.test> refused: 550 5.7.1" "^action: accept"

"$check" -c "$work/check.conf" --client-ip 198.51.100.99 --from spammer@bad.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: a client in networks.skip is left alone" 0 $? "$work/out" "in networks.skip"

"$check" -c "$work/check.conf" --client-ip 192.0.2.7 --from a@ok.test "$work/msg.eml" >"$work/out" 2>&1
expect "check: an internal client is marked and gets no spam headers" 0 $? "$work/out" "NETWORK_INTERNAL"
if grep -q "X-Spam" "$work/out"; then not_ok "check: no X-Spam headers on outbound mail" "found"; else ok "check: no X-Spam headers on outbound mail"; fi

printf 'Subject: \x01\x02\r\nX-Bin: \xff\xfe\r\n\r\n\x00\x00binary\x00\r\n' >"$work/bad.eml"
"$check" "${args[@]}" --from a@ok.test "$work/bad.eml" >"$work/out" 2>&1
expect "check: NUL bytes and 8-bit junk get a decision" 0 $? "$work/out" "^action: accept"

"$check" -c "$work/check.conf" --client-ip not-an-ip "$work/msg.eml" >"$work/out" 2>&1
expect "check: a bad --client-ip is a usage error" 64 $? "$work/out" "is not an IP address"

"$check" -c "$work/broken.conf" "$work/msg.eml" >"$work/out" 2>&1
expect "check: a broken policy is exit 78 with the error line" 78 $? "$work/out" "broken.conf:4: -: syntax error"

"$check" -c "$work/check.conf" "$work/nonexistent.eml" >"$work/out" 2>&1
expect "check: an unreadable message is exit 66" 66 $? "$work/out" "cannot read"

# --- --dns-lookup through the same DNS server ---
if [ -n "$port" ]; then
    printf 'dns: { nameservers = [ "127.0.0.1@%s" ]; timeout = "500ms" }\n' "$port" >"$work/dns.conf"
    "$check" -c "$work/dns.conf" --dns-lookup mw.test/TXT >"$work/out" 2>&1
    expect "check --dns-lookup TXT through the configured resolver" 0 $? "$work/out" "^status=ok rcode=0" "^v=spf1 -all$"
    "$check" -c "$work/dns.conf" --dns-lookup nothere.mw.test/A >"$work/out" 2>&1
    expect "check --dns-lookup NXDOMAIN" 1 $? "$work/out" "^status=nxdomain rcode=3"
    "$check" -c "$work/dns.conf" --dns-lookup slow.mw.test/A >"$work/out" 2>&1
    expect "check --dns-lookup gives a timeout within dns.timeout" 1 $? "$work/out" "^status=timeout"
    # spf.query_timeout = 0 (the default) is dns.timeout: the query for a name whose server
    # never answers ends after dns.timeout (DNS timeout), not at the end of spf.budget.
    printf 'dns: { nameservers = [ "127.0.0.1@%s" ]; timeout = "500ms" }\nspf: { budget = "5s" }\n' "$port" >"$work/spf-timeout.conf"
    "$check" -c "$work/spf-timeout.conf" --client-ip 203.0.113.5 --helo mx.ok.test --from a@slow.mw.test "$work/msg.eml" >"$work/out" 2>&1
    expect "check: spf.query_timeout 0 gives each SPF query dns.timeout, not the whole budget" 2 $? "$work/out" \
        "^reply: 451 4.7.24 SPF temperror for slow.mw.test: DNS timeout for slow.mw.test"
fi

# --- offline, mailwarden-check sends no DNS query unless asked ---
# In a private mount and network namespace, /etc/resolv.conf names 127.0.0.1, where a recording
# DNS server listens on port 53 (nothing else is there). A policy without dns.nameservers sends
# it nothing; --dns sends it the checks' queries.
offline_dns() {
    mkdir -p "$work/ns"
    printf 'nameserver 127.0.0.1\n' >"$work/ns/resolv.conf"
    printf 'authres: { authserv_id = "mw.test" }\n' >"$work/ns/offline.conf"
    printf 'ok.test TXT "v=spf1 ip4:203.0.113.5 -all"\n' >"$work/ns/zone"
    : >"$work/ns/queries"
    unshare --mount --net --propagation private /bin/bash -c '
        set -u
        ns=$1 src=$2 check=$3 msg=$4
        ip link set lo up || exit 90
        mount --bind "$ns/resolv.conf" /etc/resolv.conf || exit 91
        /usr/bin/python3 "$src/tests/tools/dnsserver.py" --address 127.0.0.1 --port 53 \
            --port-file "$ns/port" --zone "$ns/zone" --log "$ns/queries" 2>"$ns/dns.err" &
        server=$!
        for _ in $(seq 100); do [ -s "$ns/port" ] && break; sleep 0.1; done
        [ -s "$ns/port" ] || { kill $server; exit 92; }
        args=(-c "$ns/offline.conf" --client-ip 203.0.113.5 --helo mx.ok.test --from a@ok.test --rcpt bob@x.test)
        "$check" "${args[@]}" "$msg" >"$ns/out-offline" 2>&1
        echo "$?" >"$ns/status-offline"
        cp "$ns/queries" "$ns/queries-offline"
        "$check" "${args[@]}" --dns "$msg" >"$ns/out-dns" 2>&1
        echo "$?" >"$ns/status-dns"
        kill $server
        wait $server 2>/dev/null
        exit 0
    ' offline-dns "$work/ns" "$src" "$check" "$work/msg.eml"
}
offline_dns
ns_status=$?
if [ "$ns_status" != 0 ] && [ "$(id -u)" != 0 ]; then
    echo "ok - check: offline checks send no DNS query # SKIP needs root for unshare --mount --net"
elif [ "$ns_status" != 0 ]; then
    not_ok "check: a namespace with a recording DNS server on 127.0.0.1:53" "unshare script exit $ns_status: $(head -c 300 "$work/ns/dns.err" 2>/dev/null)"
else
    name="check: a policy without dns.nameservers sends no DNS query (not even to /etc/resolv.conf's)"
    if [ "$(cat "$work/ns/status-offline")" = 0 ] && [ ! -s "$work/ns/queries-offline" ]; then
        ok "$name"
    else
        not_ok "$name" "exit $(cat "$work/ns/status-offline"); queries: $(head -c 300 "$work/ns/queries-offline" | tr '\n' '|')"
    fi
    name="check: --dns uses /etc/resolv.conf's nameserver for the checks"
    if grep -q "ok.test TXT" "$work/ns/queries" && grep -q "spf=pass smtp.mailfrom=ok.test" "$work/ns/out-dns"; then
        ok "$name"
    else
        not_ok "$name" "queries: $(head -c 300 "$work/ns/queries" | tr '\n' '|'); output: $(head -c 300 "$work/ns/out-dns")"
    fi
fi

# The per-message log line: the client as Postfix writes it (name[ip], unknown[ip] without a
# name) and size= the whole message as Postfix counts it (headers and body, LF line ends).
printf 'From: a@example.com\nTo: b@example.net\nSubject: size\nX-Long: one\n two\n\nline one\r\nline two\n' >"$work/size.eml"
size_want=$(tr -d '\r' <"$work/size.eml" | wc -c)
line=$("$check" -c "$src/policies/mailwarden.conf" --verbose --client-ip 192.0.2.1 --from a@example.com \
    --rcpt b@example.net "$work/size.eml" 2>&1 | grep -m1 ' size=')
name="check: the log line names a client without a name unknown[ip], as Postfix does"
case $line in *" client=unknown[192.0.2.1] "*) ok "$name" ;; *) not_ok "$name" "$line" ;; esac
name="check: the log line's size= is the whole message, headers included ($size_want bytes)"
case $line in *" size=$size_want "*) ok "$name" ;; *) not_ok "$name" "$line" ;; esac
line=$("$check" -c "$src/policies/mailwarden.conf" --verbose --client-ip 192.0.2.1 --client-name mx.example.org \
    --from a@example.com --rcpt b@example.net "$work/size.eml" 2>&1 | grep -m1 ' size=')
name="check: the log line names a named client name[ip]"
case $line in *" client=mx.example.org[192.0.2.1] "*) ok "$name" ;; *) not_ok "$name" "$line" ;; esac

# Without --client-ip the client is unknown, as SpamAssassin sees a file: no address, and the
# checks that need one say so instead of inventing one.
"$check" -c "$src/policies/mailwarden.conf" --verbose "$work/size.eml" >"$work/out" 2>&1
expect "check: without --client-ip the client is unknown (no address; SPF and DMARC not checked)" \
    0 $? "$work/out" " client=unknown\[unknown\] " "spf: not checked: no client address" \
    "not checked: no client address"

# Several messages in one run: each its own transaction after a "message: FILE" line; an
# unreadable one gives status 66 without stopping the others. --rule-status names the state.
printf 'From: a@example.com\nTo: b@example.net\nSubject: two\n\nsecond\n' >"$work/two.eml"
"$check" -c "$src/policies/mailwarden.conf" "$work/size.eml" "$work/missing.eml" "$work/two.eml" \
    >"$work/out" 2>&1
expect "check: several files, one transaction each after a message: line, 66 for the unreadable" \
    66 $? "$work/out" "^message: $work/size.eml\$" "^message: $work/missing.eml\$" \
    "^message: $work/two.eml\$" "cannot read $work/missing.eml"
if [ "$(grep -c '^action: accept' "$work/out")" -eq 2 ]; then
    ok "check: the readable files each get a verdict"
else
    not_ok "check: the readable files each get a verdict" "$(head -c 600 "$work/out")"
fi
cat >"$work/rules.cf" <<'RULES'
header   MY_SUBJ  Subject =~ /two/
body     MY_EVAL  eval:no_such_function()
RULES
cat >"$work/rules.conf" <<POLICY
rules: { files = [ "$work/rules.cf" ] }
POLICY
printf 'MY_SUBJ\nMY_EVAL\nNO_RULE\n' | "$check" -c "$work/rules.conf" --rule-status >"$work/out" 2>&1
expect "check: --rule-status says loaded (with file:line), skipped (with the reason) or unknown" 0 $? \
    "$work/out" "^MY_SUBJ loaded $work/rules.cf:1\$" "^MY_EVAL skipped .+" "^NO_RULE unknown\$"

# Without --from the rules find the envelope sender in the message as SpamAssassin does
# (Return-Path above the Received lines); --from is the sender, whatever the message says.
cat >"$work/envfrom.cf" <<'RULES'
header   ENV_BOUNCE  EnvelopeFrom =~ /^bounce\@lists\.example\.com$/
score    ENV_BOUNCE  1.5
header   ENV_GIVEN   EnvelopeFrom =~ /^given\@example\.com$/
score    ENV_GIVEN   2.5
RULES
printf 'rules: { files = [ "%s" ] }\n' "$work/envfrom.cf" >"$work/envfrom.conf"
printf 'Return-Path: <bounce@lists.example.com>\nReceived: from mail.example.net (mail.example.net [198.51.100.7]) by mx.example.org (Postfix) with ESMTP id 4AB12C0D3; Thu, 3 Dec 2026 10:00:00 +0000\nFrom: a@example.com\nTo: b@example.net\nSubject: hi\n\nhello\n' >"$work/envfrom.eml"
"$check" -c "$work/envfrom.conf" "$work/envfrom.eml" >"$work/out" 2>&1
expect "check: without --from the rules' EnvelopeFrom is the Return-Path above the Received lines" \
    0 $? "$work/out" "^  ENV_BOUNCE 1.5 "
"$check" -c "$work/envfrom.conf" --from given@example.com "$work/envfrom.eml" >"$work/out" 2>&1
if grep -qE "^  ENV_GIVEN 2.5 " "$work/out" && ! grep -q "ENV_BOUNCE" "$work/out"; then
    ok "check: with --from the rules' EnvelopeFrom is that address"
else
    not_ok "check: with --from the rules' EnvelopeFrom is that address" "$(head -c 600 "$work/out")"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
