#!/bin/bash
# Postfix + mailwarden's DMARC check (RFC 9989), with the records served by the real test DNS
# server (tests/tools/dnsserver.py) on loopback. Postfix connects to mailwarden from 127.0.0.1,
# so that is the client IP SPF judges; MAIL FROM relay.test passes SPF but is not aligned with
# any From domain below:
#   dmarc-reject.test  p=reject      550 5.7.1 at the end of DATA, the text naming the domain
#   dmarc-hold.test    p=quarantine  accepted, parked in Postfix's hold queue (postqueue -j)
#   dmarc-pass.test    p=reject, SPF pass for 127.0.0.0/8 as MAIL FROM: delivered with
#                      Authentication-Results dmarc=pass header.from=... policy.dmarc=reject
#   news.dmarc-dkim.test  under dmarc-dkim.test's p=reject, signed (python3-dkim) with
#                      d=dmarc-dkim.test, a key from mailwarden-keygen: DKIM aligned relaxed,
#                      delivered with dmarc=pass
# and an authenticated client sending From dmarc-reject.test is not checked at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-dmarc

N1="postfix-dmarc: a p=reject domain without aligned SPF or DKIM gets 550 5.7.1 at the end of DATA naming the domain"
N2="postfix-dmarc: a p=quarantine domain's message is accepted and parked in Postfix's hold queue"
N3="postfix-dmarc: an aligned SPF pass is delivered with Authentication-Results dmarc=pass header.from policy.dmarc"
N4="postfix-dmarc: an authenticated client is not checked (delivered, no DMARC symbol or result)"
N5="postfix-dmarc: a DKIM signature of the Organizational Domain aligns (relaxed) and passes a p=reject subdomain"
NF="postfix-dmarc: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

cat >"$MW_WORK/dmarc.zone" <<'ZONE'
relay.test TXT "v=spf1 ip4:127.0.0.0/8 -all"
dmarc-pass.test TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.dmarc-pass.test TXT "v=DMARC1; p=reject"
_dmarc.dmarc-reject.test TXT "v=DMARC1; p=reject; rua=mailto:agg@dmarc-reject.test"
_dmarc.dmarc-hold.test TXT "v=DMARC1; p=quarantine"
_dmarc.dmarc-dkim.test TXT "v=DMARC1; p=reject; sp=reject"
news.dmarc-dkim.test A 192.0.2.25
ZONE
# the DKIM key of dmarc-dkim.test, its record in the zone (strings of at most 255 bytes)
keygen_out=$("$MW_BUILDDIR/filter/mailwarden-keygen" -d dmarc-dkim.test -s sel -t rsa \
    -o "$MW_WORK/dmarc-dkim.key") || die "mailwarden-keygen failed"
printf 'sel._domainkey.dmarc-dkim.test TXT %s\n' \
    "$(printf '%s\n' "$keygen_out" | sed -n '/^# DNS TXT/,/^# dkim.keys/p' | grep -o '"[^"]*"' | tr '\n' ' ')" \
    >>"$MW_WORK/dmarc.zone"
"$MW_PY" "$(dirname "$0")/../tools/dnsserver.py" --zone "$MW_WORK/dmarc.zone" --port 0 \
    --port-file "$MW_WORK/dns.port" --log "$MW_WORK/dns-queries.log" >>"$MW_WORK/dns.log" 2>&1 &
DNS_SERVER_PID=$!
mw_on_exit "mw_kill_wait $DNS_SERVER_PID 5"
mw_wait_until 10 test -s "$MW_WORK/dns.port" || die "dnsserver.py did not start: $(tail -n 3 "$MW_WORK/dns.log")"
DNS_PORT=$(cat "$MW_WORK/dns.port")

mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<'POLICY'
dmarc: {
  quarantine = "hold"
}
POLICY
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# fields_of HDR: the "N<TAB>Name: value" lines of mwmsg.py headers, without the numbers
fields_of() { cut -f2- "$1"; }

# dmarc_msg FILE TOKEN FROM: a message from FROM (an address)
dmarc_msg() {
    {
        printf 'From: Alice <%s>\n' "$3"
        printf 'To: Bob <bob@remote.test>\n'
        printf 'Subject: mailwarden DMARC test %s\n' "$2"
        printf 'Date: %s\n' "$(date -R)"
        printf 'Message-ID: <%s@mw.test>\n' "$2"
        printf '\nHello Bob,\n\nthis is test message %s.\n' "$2"
    } >"$1"
}

t_reject() {
    local tok; tok=$(mw_token dmarc-reject)
    local f=$MW_WORK/$tok err
    dmarc_msg "$f.eml" "$tok" alice@dmarc-reject.test
    mw_swaks "$f.out" --from bounce@relay.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    err=$(swaks_errors "$f.out" | head -n 1)
    if [ "$rc" != 26 ]; then
        fail "$N1" "swaks exit $rc (26 = refused at the end of DATA): ${err:-no error reply}"
    elif ! printf '%s\n' "$err" | grep -qE '^550 5\.7\.1 .*dmarc-reject\.test'; then
        fail "$N1" "end of DATA reply was '$err'"
    elif ! not_delivered "$tok"; then
        fail "$N1" "$MW_WHY"
    elif ! mw_summary_for 'from=<bounce@relay\.test> .*DMARC_FAIL_REJECT.*action=reject' >/dev/null; then
        fail "$N1" "no summary line with DMARC_FAIL_REJECT and action=reject"
    elif ! grep -q '_dmarc\.dmarc-reject\.test' "$MW_WORK/dns-queries.log"; then
        fail "$N1" "the DNS server never saw a query for _dmarc.dmarc-reject.test"
    else
        pass "$N1"
    fi
}

# The hold queue entry of QID in `postqueue -j` (one JSON object a line), or nothing.
held_in_postqueue() {
    postqueue -c "$PF_DIR/etc" -j 2>/dev/null \
        | "$MW_PY" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("queue_id") == sys.argv[1] and m.get("queue_name") == "hold":
        print(m["queue_id"])' "$1" | grep -q .
}

t_quarantine() {
    local tok; tok=$(mw_token dmarc-hold)
    local f=$MW_WORK/$tok qid
    dmarc_msg "$f.eml" "$tok" alice@dmarc-hold.test
    mw_swaks "$f.out" --from bounce@relay.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    qid=$(swaks_queued_id "$f.out")
    if [ "$rc" != 0 ] || [ -z "$qid" ]; then
        fail "$N2" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! mw_wait_until 10 held_in_postqueue "$qid"; then
        fail "$N2" "postqueue -j does not show $qid in the hold queue: $(postqueue -c "$PF_DIR/etc" -j 2>&1 | head -c 400)"
    elif ! mw_wait_until 10 grep -qE "$qid: milter-hold: END-OF-MESSAGE .*milter triggers HOLD action" "$PF_DIR/maillog"; then
        fail "$N2" "Postfix did not log a milter HOLD for $qid"
    elif ! mw_summary_for "qid=$qid .*DMARC_FAIL_QUARANTINE.*action=quarantine" >/dev/null; then
        fail "$N2" "no summary line with DMARC_FAIL_QUARANTINE and action=quarantine"
    elif sink_find "$tok" | grep -q .; then
        fail "$N2" "the held message was delivered"
    else
        pass "$N2"
    fi
    postsuper -c "$PF_DIR/etc" -d ALL hold >/dev/null 2>&1
}

t_pass() {
    local tok; tok=$(mw_token dmarc-pass)
    local f=$MW_WORK/$tok
    dmarc_msg "$f.eml" "$tok" alice@dmarc-pass.test
    mw_swaks "$f.out" --from alice@dmarc-pass.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    if [ "$rc" != 0 ]; then
        fail "$N3" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N3" "$MW_WHY"
    elif ! fields_of "$f.msg.hdr" | grep -qiE '^Authentication-Results: mw\.test;.*dmarc=pass header\.from=dmarc-pass\.test policy\.dmarc=reject'; then
        fail "$N3" "no dmarc=pass header.from=dmarc-pass.test policy.dmarc=reject in: $(fields_of "$f.msg.hdr" | grep -i '^Authentication-Results' | head -n 2)"
    else
        pass "$N3"
    fi
}

t_authenticated() {
    local tok; tok=$(mw_token dmarc-auth)
    local f=$MW_WORK/$tok qid line
    dmarc_msg "$f.eml" "$tok" alice@dmarc-reject.test
    mw_swaks "$f.out" --from bounce@relay.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user alice --auth-password alice-secret
    local rc=$?
    qid=$(swaks_queued_id "$f.out")
    if ! swaks_authenticated "$f.out"; then
        fail "$N4" "AUTH PLAIN as alice was not accepted (swaks exit $rc)"
    elif [ "$rc" != 0 ] || [ -z "$qid" ]; then
        fail "$N4" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N4" "$MW_WHY"
    elif ! line=$(mw_summary_for "qid=$qid( |$)"); then
        fail "$N4" "no summary line with qid=$qid"
    elif printf '%s\n' "$line" | grep -q 'DMARC_'; then
        fail "$N4" "a DMARC symbol for an authenticated client: $line"
    elif fields_of "$f.msg.hdr" | grep -qiE '^Authentication-Results: mw\.test.*dmarc='; then
        fail "$N4" "a DMARC result on authenticated mail"
    else
        pass "$N4"
    fi
}

t_dkim_aligned() {
    local tok; tok=$(mw_token dmarc-dkim)
    local f=$MW_WORK/$tok
    dmarc_msg "$f.plain" "$tok" alice@news.dmarc-dkim.test
    if ! "$MW_PY" - "$f.plain" "$MW_WORK/dmarc-dkim.key" >"$f.eml" <<'PYEOF'; then
import re, sys, dkim
msg = re.sub(rb"\r?\n", b"\r\n", open(sys.argv[1], "rb").read())
sig = dkim.sign(msg, b"sel", b"dmarc-dkim.test", open(sys.argv[2], "rb").read())
sys.stdout.buffer.write(sig + msg)
PYEOF
        fail "$N5" "python3-dkim could not sign"
        return
    fi
    mw_swaks "$f.out" --from bounce@relay.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    if [ "$rc" != 0 ]; then
        fail "$N5" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N5" "$MW_WHY"
    elif ! fields_of "$f.msg.hdr" | grep -qiE '^Authentication-Results: mw\.test;.*dkim=pass header\.d=dmarc-dkim\.test'; then
        fail "$N5" "no dkim=pass header.d=dmarc-dkim.test: $(fields_of "$f.msg.hdr" | grep -i '^Authentication-Results' | head -n 1)"
    elif ! fields_of "$f.msg.hdr" | grep -qiE '^Authentication-Results: mw\.test;.*dmarc=pass header\.from=news\.dmarc-dkim\.test policy\.dmarc=reject'; then
        fail "$N5" "no dmarc=pass header.from=news.dmarc-dkim.test policy.dmarc=reject: $(fields_of "$f.msg.hdr" | grep -i '^Authentication-Results' | head -n 1)"
    else
        pass "$N5"
    fi
}

t_reject
t_quarantine
t_pass
t_authenticated
t_dkim_aligned

mw_finish "$NF"
