#!/bin/bash
# Postfix + mailwarden with the SHIPPED policy (policies/mailwarden.conf) and no rule files:
# GTUBE is recognised natively (check_gtube.c, score 1000) and the message is rejected at end
# of DATA with the policy's 550 reply; a plain message is delivered. The copy of the shipped
# policy changes only what a test must: the milter port, networks.internal (Postfix and the
# client are on 127.0.0.1, which the shipped policy counts as our own users), the loopback DNS
# server, and rules.files pointed at an empty directory (no SpamAssassin rules at all).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-gtube
MTA=postfix

dns_start
mw_port MW_PORT
norules=$MW_WORK/no-rules
mkdir -p "$norules"
shipped=$MW_SRCDIR/policies/mailwarden.conf
sed -e "s|^  socket = \"inet:8891@127.0.0.1\"|  socket = \"inet:$MW_PORT@127.0.0.1\"|" \
    -e 's|^  internal = \[ "127.0.0.0/8", "::1" \]|  internal = [ "192.0.2.0/24" ]|' \
    -e "s|^  nameservers = \[ \]|  nameservers = [ \"127.0.0.1@$DNS_PORT\" ]|" \
    -e "s|^  files = \[ \"/usr/share/spamassassin/\*.cf\", \"/etc/mailwarden/rules.d/\*.cf\" \]|  files = [ \"$norules/*.cf\" ]|" \
    "$shipped" >"$MW_WORK/mailwarden.conf"
for want in "inet:$MW_PORT@" '"192.0.2.0/24"' "127.0.0.1@$DNS_PORT" "$norules/\*.cf"; do
    grep -q -- "$want" "$MW_WORK/mailwarden.conf" ||
        die "the shipped policy changed: could not set $want in its copy (update this test)"
done
mw_start "$MW_WORK/mailwarden.conf"
if ! grep -q "rules: none" "$MW_WORK/mailwarden-t.log"; then
    die "mailwarden -t loaded rules from the empty rule directory: $(grep 'rules:' "$MW_WORK/mailwarden-t.log" | head -3 | tr '\n' '|')"
fi
sink_start
pf_start "$MW_PORT"

gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

t_gtube_no_rules() {
    local name="postfix: shipped policy, no rule files: GTUBE is rejected with 550 5.7.1 (native GTUBE)"
    local tok; tok=$(mw_token gtube)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    printf 'This is the GTUBE, the\n\tGeneric\n\tTest for\n\tUnsolicited\n\tBulk\n\tEmail\n\n%s\n' "$gtube" >>"$f.eml"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    local rc=$? err
    err=$(swaks_errors "$f.out" | tail -n 1)
    if [ "$rc" = 0 ]; then
        fail "$name" "the message was accepted"
    elif [ "$err" != "550 5.7.1 Message rejected as spam" ]; then
        fail "$name" "DATA reply '$err', expected '550 5.7.1 Message rejected as spam'"
    elif ! not_delivered "$tok"; then
        fail "$name" "$MW_WHY"
    elif ! grep -q "symbols=.*GTUBE(1000" "$MW_LOG"; then
        fail "$name" "no GTUBE(1000...) in the summary line: $(grep -m1 "$tok" "$MW_LOG")"
    else
        pass "$name"
    fi
}

t_plain_delivered() {
    local name="postfix: shipped policy, no rule files: a plain message is delivered, no GTUBE"
    local tok; tok=$(mw_token plain)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    printf 'See you at the meeting on Tuesday.\n' >>"$f.eml"
    if ! mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"; then
        fail "$name" "swaks: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$name" "$MW_WHY"
    elif grep -q "GTUBE" "$f.msg.hdr"; then
        fail "$name" "GTUBE in the headers: $(grep -i '^X-Spam' "$f.msg.hdr" | head -2 | tr '\n' '|')"
    else
        pass "$name"
    fi
}

t_gtube_no_rules
t_plain_delivered
mw_finish "postfix-gtube: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
