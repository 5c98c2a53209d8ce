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

norules=$MW_WORK/no-rules
mkdir -p "$norules"

# shipped_policy FILE: the shipped policy with the changes above
shipped_policy() {
    sed -e "s|^  socket = \"inet:8891@127.0.0.1\"|  socket = \"inet:$MW_PORT@127.0.0.1\"|" \
        -e 's|^  internal = \[ "127.0.0.0/8", "::1" \]|  internal = [ "192.0.2.0/24" ]|' \
        -e "s|^  nameservers = \[ \]|  nameservers = [ \"127.0.0.1@$DNS_PORT\" ]|" \
        -e "s|^  files = \[ \"/usr/share/spamassassin/\*.cf\", \"/etc/mailwarden/rules.d/\*.cf\" \]|  files = [ \"$norules/*.cf\" ]|" \
        "$MW_SRCDIR/policies/mailwarden.conf" >"$1"
    local want
    for want in "inet:$MW_PORT@" '"192.0.2.0/24"' "127.0.0.1@$DNS_PORT" "$norules/\*.cf"; do
        grep -q -- "$want" "$1" ||
            die "the shipped policy changed: could not set $want in its copy (update this test)"
    done
}

pf_mw_start shipped_policy
if ! grep -q "rules: none" "$MW_WORK/mailwarden-t.log"; then
    die "mailwarden -t loaded rules from the empty rule directory: $(grep 'rules:' "$MW_WORK/mailwarden-t.log" | head -3 | tr '\n' '|')"
fi

t_plain_delivered() {
    local name="postfix: shipped policy, no rule files: a plain message is delivered, no GTUBE"
    local tok; tok=$(mw_token plain)
    if ! deliver_body "$tok" "See you at the meeting on Tuesday."; then
        fail "$name" "$MW_WHY"
    elif grep -q "GTUBE" "$MW_WORK/$tok.msg.hdr"; then
        fail "$name" "GTUBE in the headers: $(grep -i '^X-Spam' "$MW_WORK/$tok.msg.hdr" | head -2 | tr '\n' '|')"
    else
        pass "$name"
    fi
}

case_gtube_rejected "postfix: shipped policy, no rule files: GTUBE is rejected with 550 5.7.1 (native GTUBE)" \
    "$(printf 'This is the GTUBE, the\n\tGeneric\n\tTest for\n\tUnsolicited\n\tBulk\n\tEmail\n\n%s' "$MW_GTUBE")"
t_plain_delivered
mw_finish "postfix-gtube: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
