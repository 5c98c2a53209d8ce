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

# rules_policy FILE: the stock rules and an admin's inline rule
rules_policy() {
    mw_policy "$1" <<POLICY
actions: { add_header = 5.0; reject = 15.0 }
rules: {
  files = [ "$sa/*.cf" ]
  inline = [ "body LOCAL_PURPLE_MONKEY /\\\\bpurple monkey dishwasher\\\\b/i", "score LOCAL_PURPLE_MONKEY 6.0" ]
}
POLICY
}

pf_mw_start rules_policy

t_inline_rule() {
    local name="postfix: an inline rule's symbol and score reach X-Spam-Status; X-Spam-Flag set"
    local tok; tok=$(mw_token monkey)
    if ! deliver_body "$tok" "The password is purple monkey dishwasher."; then
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
    if ! deliver_body "$tok" "See you at the meeting on Tuesday."; then
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

case_gtube_rejected "postfix: the GTUBE string is rejected at end of DATA with 550 5.7.1 (stock rule GTUBE)" \
    "$MW_GTUBE"
t_inline_rule
t_plain
mw_finish "postfix-rules: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
