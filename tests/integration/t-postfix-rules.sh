#!/bin/bash
# Postfix + mailwarden with SpamAssassin-syntax rules (the `rules` section): Debian's stock
# SpamAssassin rules reject the GTUBE message at end of DATA with the policy's 550 reply, an
# admin's inline rule adds its symbol and the X-Spam-* headers to a delivered message, and a
# plain message passes without them. Needs the spamassassin package (its rule files).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-rules
MTA=postfix
sa=${MW_SA_RULES:-/usr/share/spamassassin}
if ! ls "$sa"/*.cf >/dev/null 2>&1; then
    skip "postfix: stock SpamAssassin rules" "no rule files in $sa (apt-get install spamassassin)"
    exit 0
fi

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<POLICY
actions: { add_header = 5.0; reject = 15.0 }
rules: {
  files = [ "$sa/*.cf" ]
  inline = [ "body LOCAL_PURPLE_MONKEY /\\\\bpurple monkey dishwasher\\\\b/i", "score LOCAL_PURPLE_MONKEY 6.0" ]
}
POLICY
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

t_gtube() {
    local name="postfix: the GTUBE string is rejected at end of DATA with 550 5.7.1 (stock rule GTUBE)"
    local tok; tok=$(mw_token gtube)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    printf '%s\n' "$gtube" >>"$f.eml"
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

# deliver TOKEN-NAME BODY-LINE: sends, waits for delivery, leaves headers in $MW_WORK/TOKEN.msg.hdr
deliver() {
    local tok=$1 f=$MW_WORK/$1
    mw_msg "$f.eml" "$tok"
    printf '%s\n' "$2" >>"$f.eml"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" ||
        { why "swaks exit $?: $(swaks_errors "$f.out" | head -n 1)"; return 1; }
    deliver_ok "$tok" "$f.msg"
}

t_inline_rule() {
    local name="postfix: an inline rule's symbol and score reach X-Spam-Status; X-Spam-Flag set"
    local tok; tok=$(mw_token monkey)
    if ! deliver "$tok" "The password is purple monkey dishwasher."; then
        fail "$name" "$MW_WHY"
    elif ! grep -qE '(^|\s)X-Spam-Status: Yes,.*LOCAL_PURPLE_MONKEY=6\.0' "$MW_WORK/$tok.msg.hdr"; then
        fail "$name" "no LOCAL_PURPLE_MONKEY in X-Spam-Status: $(grep -i '^X-Spam' "$MW_WORK/$tok.msg.hdr" | head -3 | tr '\n' '|')"
    elif ! grep -qE '(^|\s)X-Spam-Flag: YES' "$MW_WORK/$tok.msg.hdr"; then
        fail "$name" "no X-Spam-Flag: YES"
    else
        pass "$name"
    fi
}

t_plain() {
    local name="postfix: a plain message is delivered without the rule's symbol or X-Spam-Flag"
    local tok; tok=$(mw_token plain)
    if ! deliver "$tok" "See you at the meeting on Tuesday."; then
        fail "$name" "$MW_WHY"
    elif ! grep -qE '(^|\s)X-Spam-Status: No,' "$MW_WORK/$tok.msg.hdr"; then
        fail "$name" "no X-Spam-Status: No header (was the message checked?)"
    elif grep -qE 'LOCAL_PURPLE_MONKEY|GTUBE' "$MW_WORK/$tok.msg.hdr"; then
        fail "$name" "a rule symbol is in the headers: $(grep -i '^X-Spam-Status' "$MW_WORK/$tok.msg.hdr")"
    elif grep -qE '(^|\s)X-Spam-Flag:' "$MW_WORK/$tok.msg.hdr"; then
        fail "$name" "X-Spam-Flag present"
    else
        pass "$name"
    fi
}

t_gtube
t_inline_rule
t_plain
mw_finish "postfix-rules: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
