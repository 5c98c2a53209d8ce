#!/bin/bash
# Postfix + mailwarden's SPF check, with the sender domains' records served by the real test DNS
# server (tests/tools/dnsserver.py) on loopback. Postfix connects to mailwarden from 127.0.0.1,
# so that is the client IP the records judge:
#   spf-fail.test   v=spf1 ip4:192.0.2.1 -all     127.0.0.1 is not in it: 550 5.7.23 at MAIL FROM
#   spf-pass.test   v=spf1 ip4:127.0.0.0/8 -all   pass: delivered with spf=pass (A-R, Received-SPF)
#   spf-dead.test   TIMEOUT (never answered)       451 4.7.24 within spf.budget (1 s), which is
#                                                  shorter than the fixture's dns.timeout (2 s)
# and an authenticated client sending as spf-fail.test is not checked at all, nor is a sender
# in a subdomain spf.allow_sender_domains names with "*.allowed.test" (the pattern language).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-spf

N1="postfix-spf: a client IP not in the sender domain's record is rejected at MAIL FROM with 550 5.7.23 and the domain's explanation"
N2="postfix-spf: an SPF pass is delivered with Authentication-Results spf=pass smtp.mailfrom and a matching Received-SPF"
N3="postfix-spf: a DNS server that does not answer gives 451 4.7.24 at MAIL FROM within the configured budget"
N4="postfix-spf: an authenticated client is not checked (delivered, no SPF symbol or header)"
N5="postfix-spf: a sender domain matching spf.allow_sender_domains = \"*.allowed.test\" is not checked (its -all record would refuse it)"
NF="postfix-spf: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

BUDGET_S=1
cat >"$MW_WORK/spf.zone" <<'ZONE'
spf-fail.test TXT "v=spf1 ip4:192.0.2.1 -all exp=why.spf-fail.test"
why.spf-fail.test TXT "%{i} is not one of our mail servers"
spf-pass.test TXT "v=spf1 ip4:127.0.0.0/8 -all"
spf-dead.test TIMEOUT
mx.allowed.test TXT "v=spf1 -all"
ZONE
"$MW_PY" "$(dirname "$0")/../tools/dnsserver.py" --zone "$MW_WORK/spf.zone" --port 0 \
    --port-file "$MW_WORK/dns.port" --log "$MW_WORK/dns-queries.log" >>"$MW_WORK/dns.log" 2>&1 &
DNS_SERVER_PID=$!
mw_on_exit "mw_kill_wait $DNS_SERVER_PID 5"
mw_wait_until 10 test -s "$MW_WORK/dns.port" || die "dnsserver.py did not start: $(tail -n 3 "$MW_WORK/dns.log")"
DNS_PORT=$(cat "$MW_WORK/dns.port")

mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<POLICY
spf: {
  budget = "${BUDGET_S}s"
  received_spf = true
  allow_sender_domains = "*.allowed.test"
}
POLICY
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# fields_of HDR: the "N<TAB>Name: value" lines of mwmsg.py headers, without the numbers
fields_of() { cut -f2- "$1"; }

t_fail() {
    local tok; tok=$(mw_token spf-fail)
    local f=$MW_WORK/$tok err
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@spf-fail.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    err=$(swaks_errors "$f.out" | head -n 1)
    if [ "$rc" != 23 ]; then
        fail "$N1" "swaks exit $rc (23 = refused at MAIL FROM): ${err:-no error reply}"
    elif ! printf '%s\n' "$err" | grep -qE '^550 5\.7\.23 SPF fail: spf-fail\.test says: 127\.0\.0\.1 is not one of our mail servers$'; then
        fail "$N1" "MAIL FROM reply was '$err'"
    elif ! not_delivered "$tok"; then
        fail "$N1" "$MW_WHY"
    elif ! mw_summary_for 'from=<alice@spf-fail\.test> .*SPF_FAIL.*action=reject.*stage=mail' >/dev/null; then
        fail "$N1" "no summary line with SPF_FAIL, action=reject, stage=mail"
    else
        pass "$N1"
    fi
}

t_pass() {
    local tok; tok=$(mw_token spf-pass)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@spf-pass.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    if [ "$rc" != 0 ]; then
        fail "$N2" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N2" "$MW_WHY"
    elif ! fields_of "$f.msg.hdr" | grep -qiE '^Authentication-Results: mw\.test;.*spf=pass smtp\.mailfrom=spf-pass\.test'; then
        fail "$N2" "no spf=pass smtp.mailfrom=spf-pass.test in: $(fields_of "$f.msg.hdr" | grep -i '^Authentication-Results' | head -n 2)"
    elif ! fields_of "$f.msg.hdr" | grep -qE '^Received-SPF: pass .*\(.*designates 127\.0\.0\.1 as permitted sender\) client-ip=127\.0\.0\.1; envelope-from="alice@spf-pass\.test";.*identity=mailfrom'; then
        fail "$N2" "no matching Received-SPF: $(fields_of "$f.msg.hdr" | grep -i '^Received-SPF')"
    elif fields_of "$f.msg.hdr" | grep -qE '^Received-SPF: (fail|softfail|neutral|none|permerror|temperror)'; then
        fail "$N2" "a Received-SPF contradicts the pass"
    else
        pass "$N2"
    fi
}

t_dead_dns() {
    local tok; tok=$(mw_token spf-dead)
    local f=$MW_WORK/$tok err start elapsed
    mw_msg "$f.eml" "$tok"
    start=$(date +%s.%N)
    mw_swaks "$f.out" --from alice@spf-dead.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    err=$(swaks_errors "$f.out" | head -n 1)
    elapsed=$(echo "$(date +%s.%N) - $start" | bc)
    if [ "$rc" != 23 ]; then
        fail "$N3" "swaks exit $rc (23 = refused at MAIL FROM): ${err:-no error reply}"
    elif ! printf '%s\n' "$err" | grep -qE '^451 4\.7\.24 SPF temperror for spf-dead\.test'; then
        fail "$N3" "MAIL FROM reply was '$err'"
    elif [ "$(echo "$elapsed < $BUDGET_S + 0.9" | bc)" != 1 ]; then
        fail "$N3" "the whole session took ${elapsed}s: more than the ${BUDGET_S}s budget and 0.9s for the rest"
    elif ! not_delivered "$tok"; then
        fail "$N3" "$MW_WHY"
    else
        pass "$N3"
    fi
}

t_authenticated() {
    local tok; tok=$(mw_token spf-auth)
    local f=$MW_WORK/$tok qid line
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@spf-fail.test --to bob@remote.test --data "@$f.eml" \
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
    elif printf '%s\n' "$line" | grep -q 'SPF_'; then
        fail "$N4" "an SPF symbol for an authenticated client: $line"
    elif ! fields_of "$f.msg.hdr" | grep -qi '^Authentication-Results: mw\.test'; then
        fail "$N4" "no Authentication-Results at all: the header check below would prove nothing"
    elif fields_of "$f.msg.hdr" | grep -qiE '^Received-SPF:|^Authentication-Results: mw\.test.*spf='; then
        fail "$N4" "SPF headers on authenticated mail"
    else
        pass "$N4"
    fi
}

t_allowed_subdomain() {
    local tok; tok=$(mw_token spf-allowed)
    local f=$MW_WORK/$tok qid line
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@mx.allowed.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    qid=$(swaks_queued_id "$f.out")
    if [ "$rc" != 0 ] || [ -z "$qid" ]; then
        fail "$N5" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N5" "$MW_WHY"
    elif ! line=$(mw_summary_for "qid=$qid( |$)"); then
        fail "$N5" "no summary line with qid=$qid"
    elif printf '%s\n' "$line" | grep -q 'SPF_'; then
        fail "$N5" "an SPF symbol for an allowed sender domain: $line"
    else
        pass "$N5"
    fi
}

t_fail
t_allowed_subdomain
t_pass
t_dead_dns
t_authenticated

mw_finish "$NF"
