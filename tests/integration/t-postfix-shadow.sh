#!/bin/bash
# Postfix + mailwarden, shadow mode: a message an inline rule (score 10, reject at 5) makes the
# policy reject at end of DATA is rejected while the rules enforce; once `rules.mode = "shadow"`
# is reloaded (mailwarden-ctl reload), the same message is delivered, its X-Spam-Status names
# the symbol as "(shadow)" with a score that does not count, and the log line names the
# would-have symbol and the action it would have given (shadow_action=reject).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-shadow
MTA=postfix
CONF=$MW_WORK/mailwarden.conf

policy() { # MODE: the rules' mode
    mw_policy "$CONF" <<POLICY
actions: { add_header = 1.0; reject = 5.0 }
rules: {
  files = [ ]
  inline = [ "body LOCAL_SHADOW_PILLS /\\\\bcheap pills\\\\b/i", "score LOCAL_SHADOW_PILLS 10.0" ]
  mode = "$1"
}
POLICY
}

# send TOKEN: the spammy message; sets RC and ERR
send() {
    local f=$MW_WORK/$1
    mw_msg "$f.eml" "$1"
    printf 'Buy cheap pills today.\n' >>"$f.eml"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    RC=$?
    ERR=$(swaks_errors "$f.out" | tail -n 1)
}

dns_start
mw_port MW_PORT
policy enforce
mw_start "$CONF"
sink_start
pf_start "$MW_PORT"

name="postfix: shadow: with the rules enforcing, the message is rejected at end of DATA"
tok=$(mw_token enforce)
send "$tok"
if [ "$RC" != 0 ] && [ "$ERR" = "550 5.7.1 Message rejected as spam" ] && not_delivered "$tok"; then
    pass "$name"
else
    fail "$name" "swaks exit $RC, reply '$ERR'${MW_WHY:+; $MW_WHY}"
fi

policy shadow
mw_ctl reload >"$MW_WORK/reload.out" 2>&1
name="postfix: shadow: mailwarden-ctl reload installs rules.mode = shadow"
if [ $? = 0 ] && grep -q '^installed: generation 2' "$MW_WORK/reload.out"; then pass "$name"
else fail "$name" "$(head -c 400 "$MW_WORK/reload.out" | tr '\n' '|')"; fi

name="postfix: shadow: in shadow mode the same message is delivered"
tok=$(mw_token shadow)
send "$tok"
if [ "$RC" = 0 ] && deliver_ok "$tok" "$MW_WORK/$tok.msg"; then pass "$name"
else fail "$name" "swaks exit $RC, reply '$ERR'${MW_WHY:+; $MW_WHY}"; fi

name="postfix: shadow: X-Spam-Status names the symbol as (shadow) and the score leaves it out"
if grep -qE '(^|\s)X-Spam-Status: No, score=[0-4]\.[0-9] required=1\.0 tests=.*LOCAL_SHADOW_PILLS\(shadow\)=10' "$MW_WORK/$tok.msg.hdr"; then
    pass "$name"
else
    fail "$name" "$(grep -i 'X-Spam' "$MW_WORK/$tok.msg.hdr" | head -3 | tr '\n' '|')"
fi

name="postfix: shadow: the log line names the would-have symbol and shadow_action=reject"
if grep -qE "symbols=.*LOCAL_SHADOW_PILLS\\(shadow\\)\\(10\\.0\\) score=[0-4]\\.[0-9] action=accept stage=eom shadow_action=reject " "$MW_LOG"; then
    pass "$name"
else
    fail "$name" "no such summary line: $(grep 'LOCAL_SHADOW_PILLS' "$MW_LOG" | tail -n 2 | tr '\n' '|')"
fi

mw_ctl stats >"$MW_WORK/stats.out" 2>&1
name="postfix: shadow: mailwarden-ctl stats counts the would-have reject"
if grep -qx 'shadow_would_have_reject 1' "$MW_WORK/stats.out"; then pass "$name"
else fail "$name" "$(grep shadow "$MW_WORK/stats.out" | tr '\n' '|')"; fi

mw_finish "postfix-shadow: mailwarden exits 0 on SIGTERM, no sanitizer reports"
