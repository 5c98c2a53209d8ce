#!/bin/bash
# Postfix + mailwarden greylisting (embedded store, delay 2 s):
#  1. mode "everyone": the first attempt of a triplet gets 451 4.7.1 at RCPT and is not
#     delivered, an immediate retry too; a retry after the delay is delivered;
#  2. after SIGHUP to mode "score": a message scoring above the threshold gets 451 at the end
#     of DATA, a clean one passes at once, and the suspect one's retry after the delay is
#     delivered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-greylist

N1="postfix-greylist: first attempt of a triplet gets 451 4.7.1 at RCPT, not delivered; an early retry too"
N2="postfix-greylist: the retry after the 2 s delay is delivered"
N3="postfix-greylist: mode score (after SIGHUP): a suspect message gets 451 at end of DATA, a clean one passes, the retry after the delay is delivered"
NF="postfix-greylist: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<'EOF'
greylist: { enabled = true; mode = "everyone"; delay = "2s";
            reply = "451 4.7.1 Greylisted by mailwarden, try again in a moment" }
EOF
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# attempt OUT FROM TOKEN: one message to bob from FROM; returns swaks' status.
attempt() {
    mw_msg "$1.eml" "$3"
    mw_swaks "$1" --from "$2" --to bob@remote.test --data "@$1.eml"
}

t_everyone() {
    local tok f rc err why_=""
    tok=$(mw_token grey); f=$MW_WORK/$tok
    attempt "$f.1.out" grey@sender.test "$tok"; rc=$?
    err=$(swaks_errors "$f.1.out" | head -n 1)
    if [ "$rc" != 24 ]; then
        why_="first attempt: swaks exit $rc (24 = every RCPT refused): $err"
    elif [ "$err" != "451 4.7.1 Greylisted by mailwarden, try again in a moment" ]; then
        why_="first attempt got '$err'"
    else
        attempt "$f.2.out" grey@sender.test "$tok"; rc=$?
        [ "$rc" = 24 ] || why_="the immediate retry: swaks exit $rc, expected 24: $(swaks_errors "$f.2.out" | head -n 1)"
    fi
    [ -n "$why_" ] || not_delivered "$tok" || why_=$MW_WHY
    if [ -z "$why_" ]; then pass "$N1"; else fail "$N1" "$why_"; fi
    sleep 2.2
    attempt "$f.3.out" grey@sender.test "$tok"; rc=$?
    if [ "$rc" != 0 ]; then
        fail "$N2" "retry after the delay: swaks exit $rc: $(swaks_errors "$f.3.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N2" "$MW_WHY"
    else
        pass "$N2"
    fi
}

t_score() {
    mw_policy "$MW_WORK/mailwarden.conf" <<'EOF'
access = ( { name = "suspect"; match = "sender_domain"; values = [ "suspect.test" ];
             action = "score"; score = 4.0 } )
greylist: { enabled = true; mode = "score"; score = 3.0; delay = "2s" }
EOF
    mw_hup
    mw_wait_until 10 grep -q 'reload: policy' "$MW_LOG" || { fail "$N3" "no reload line in the log"; return; }
    local tok f rc err ctok why_=""
    ctok=$(mw_token clean)
    attempt "$MW_WORK/$ctok.out" someone@clean.test "$ctok"; rc=$?
    [ "$rc" = 0 ] || why_="the clean message: swaks exit $rc: $(swaks_errors "$MW_WORK/$ctok.out" | head -n 1)"
    tok=$(mw_token suspect); f=$MW_WORK/$tok
    if [ -z "$why_" ]; then
        attempt "$f.1.out" someone@suspect.test "$tok"; rc=$?
        err=$(swaks_errors "$f.1.out" | head -n 1)
        if [ "$rc" != 26 ]; then
            why_="suspect message: swaks exit $rc (26 = refused at the end of DATA): $err"
        elif ! printf '%s' "$err" | grep -qE '^451 4\.7\.1 Greylisted'; then
            why_="suspect message got '$err'"
        fi
    fi
    [ -n "$why_" ] || not_delivered "$tok" || why_=$MW_WHY
    [ -n "$why_" ] || deliver_ok "$ctok" "$MW_WORK/$ctok.msg" || why_=$MW_WHY
    if [ -z "$why_" ]; then
        sleep 2.2
        attempt "$f.2.out" someone@suspect.test "$tok"; rc=$?
        if [ "$rc" != 0 ]; then
            why_="the suspect message's retry: swaks exit $rc: $(swaks_errors "$f.2.out" | head -n 1)"
        else
            deliver_ok "$tok" "$f.msg" || why_=$MW_WHY
        fi
    fi
    if [ -z "$why_" ]; then pass "$N3"; else fail "$N3" "$why_"; fi
}

t_everyone
t_score
mw_finish "$NF"
