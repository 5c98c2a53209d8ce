#!/bin/bash
# Postfix + mailwarden, spam heuristics (issue 6): a DNSBL hit on the client (the stub DNS lists
# 127.0.0.1), the native header checks and the X-Spam-* headers as Postfix delivers them
# (X-Spam-Status folded into continuation lines, every symbol with its score), and a
# per-recipient-domain reject threshold refusing at end of data what other domains accept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-spam

printf '1.0.0.127.bl.test A 127.0.0.2\n' >"$MW_WORK/dns.zone"
dns_start "$MW_WORK/dns.zone"
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<'POLICY'
actions: {
  add_header = 1.0
  reject = 40.0
  domains = ( { domains = [ "strict.test" ]; reject = 2.0 } )
}
spam: {
  dnslists = ( { zone = "bl.test"; type = "ip"; symbol = "RBL_TEST"; score = 2.5 } )
}
POLICY
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# A shouting Subject and links to an IP and a shortener, from a listed client: delivered with
# the headers. (Postfix adds the missing Message-ID before the milter sees the header.)
t_headers() {
    local name="postfix: spam symbols in X-Spam-Status (folded, with scores), X-Spam-Flag, DNSBL hit"
    local tok; tok=$(mw_token spam)
    local f=$MW_WORK/$tok
    {
        printf 'From: Alice <alice@example.test>\nTo: Bob <bob@remote.test>\n'
        printf 'Subject: URGENT ACTION REQUIRED ON YOUR ACCOUNT!!!\n'
        printf 'Date: %s\nX-MW-Test-Id: %s\n\nPlease see https://bit.ly/abc and http://192.0.2.1/x\n' \
            "$(date -R)" "$tok"
    } >"$f.eml"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    [ "$rc" = 0 ] || { fail "$name" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"; return 0; }
    deliver_ok "$tok" "$f.msg" || { fail "$name" "$MW_WHY"; return 0; }
    local status; status=$(grep -E $'^[0-9]+\tX-Spam-Status: ' "$f.msg.hdr" | cut -f2-)
    if ! grep -qE $'^[0-9]+\tX-Spam-Flag: YES$' "$f.msg.hdr"; then
        fail "$name" "no 'X-Spam-Flag: YES' in the delivered message"
    elif [ -z "$status" ]; then
        fail "$name" "no X-Spam-Status in the delivered message"
    elif ! grep -qE '^X-Spam-Status: Yes, .*$' "$f.msg" || ! grep -A1 '^X-Spam-Status:' "$f.msg" | tail -n 1 | grep -q $'^\t'; then
        fail "$name" "X-Spam-Status is not folded into a continuation line: $(grep -A2 '^X-Spam-Status:' "$f.msg" | tr '\n' '|')"
    else
        local sym missing=""
        for sym in RBL_TEST=2.5 SUBJECT_SHOUTING=1.0 SUBJECT_PUNCTUATION=1.0 \
                URI_SHORTENER=0.5 URI_IP_LITERAL=1.5; do
            printf '%s' "$status" | tr -d ' \t' | grep -qF "$sym" || missing="$missing $sym"
        done
        if [ -n "$missing" ]; then
            fail "$name" "missing from X-Spam-Status:$missing (got: $status)"
        else
            pass "$name"
        fi
    fi
}
t_headers

# The same kind of message to strict.test (reject = 2.0) is refused after DATA.
t_domain_reject() {
    local name="postfix: actions.domains: strict.test's reject threshold refuses what remote.test accepts"
    local tok; tok=$(mw_token strict)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@example.test --to carol@strict.test --data "@$f.eml"
    local rc=$? err
    err=$(swaks_errors "$f.out" | head -n 1)
    if [ "$rc" != 26 ]; then
        fail "$name" "swaks exit $rc (26 = refused at the end of DATA): ${err:-no error reply}"
    elif [ "$err" != "550 5.7.1 Message rejected as spam" ]; then
        fail "$name" "reply '$err', expected '550 5.7.1 Message rejected as spam'"
    elif ! not_delivered "$tok"; then
        fail "$name" "$MW_WHY"
    else
        pass "$name"
    fi
    tok=$(mw_token lenient)
    f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@example.test --to dave@remote.test --data "@$f.eml"
    rc=$?
    if [ "$rc" != 0 ]; then
        fail "$name (remote.test accepts)" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$name (remote.test accepts)" "$MW_WHY"
    else
        pass "$name (remote.test accepts)"
    fi
}
t_domain_reject

mw_finish "postfix-spam: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
