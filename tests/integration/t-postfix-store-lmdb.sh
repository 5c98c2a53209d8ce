#!/bin/bash
# Postfix + mailwarden with the store on disk (store backend "lmdb", in this test's directory):
#  1. greylisting (delay 2 s): the first attempt of a triplet gets 451 4.7.1; the daemon is
#     stopped and started again; the retry after the delay is delivered (the triplet was kept
#     on disk: with the memory store the restarted daemon would greylist it again);
#  2. a rate limit of 2 messages per sender: 2 delivered, the daemon restarted, the 3rd gets
#     the configured 451 4.7.1 (the counter was kept);
#  3. the store's directory was made 0750 and its files are 0640.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-store-lmdb

N1="postfix-store-lmdb: greylisted before a restart, the retry after the delay is delivered after it"
N2="postfix-store-lmdb: a rate limit of 2 per sender holds across a restart: the 3rd message gets 451 4.7.1"
N3="postfix-store-lmdb: the store's directory is 0750, data.mdb and lock.mdb are 0640"
NF="postfix-store-lmdb: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

STORE=$MW_WORK/store
dns_start
mw_port MW_PORT
# policy GREYLIST_ENABLED: both features on the store "disk"
policy() {
    mw_policy "$MW_WORK/mailwarden.conf" <<EOF
store: { disk: { backend = "lmdb"; path = "$STORE"; max_size = "16M" } }
greylist: { enabled = $1; store = "disk"; mode = "everyone"; delay = "2s";
            reply = "451 4.7.1 Greylisted by mailwarden, try again in a moment" }
ratelimit: {
  store = "disk"
  limits = (
    { name = "per-sender"; key = "sender"; count = "messages"; rate = "1/1h"; burst = 2;
      reply = "451 4.7.1 Too much mail from this sender (limit per-sender)" }
  )
}
EOF
}
policy true
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# attempt OUT FROM TOKEN: one message to bob from FROM; returns swaks' status.
attempt() {
    mw_msg "$1.eml" "$3"
    mw_swaks "$1" --from "$2" --to bob@remote.test --data "@$1.eml"
}

# restart: the daemon stopped (SIGTERM, status 0) and started again on the same policy.
restart() {
    mw_stop || return 1
    mw_start "$MW_WORK/mailwarden.conf"
}

t_greylist_restart() {
    local tok f rc err why_=""
    tok=$(mw_token grey); f=$MW_WORK/$tok
    attempt "$f.1.out" grey@sender.test "$tok"; rc=$?
    err=$(swaks_errors "$f.1.out" | head -n 1)
    if [ "$rc" != 24 ]; then
        why_="first attempt: swaks exit $rc (24 = every RCPT refused): $err"
    elif [ "$err" != "451 4.7.1 Greylisted by mailwarden, try again in a moment" ]; then
        why_="first attempt got '$err'"
    elif ! restart; then
        why_="restart: $MW_WHY"
    fi
    if [ -n "$why_" ]; then fail "$N1" "$why_"; return; fi
    sleep 2.2
    attempt "$f.2.out" grey@sender.test "$tok"; rc=$?
    if [ "$rc" != 0 ]; then
        fail "$N1" "retry after the delay and the restart: swaks exit $rc: $(swaks_errors "$f.2.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N1" "$MW_WHY"
    else
        pass "$N1"
    fi
}

# Every attempt counts at MAIL FROM, greylisted or not: greylisting is switched off (a restart
# on the new policy) so that each message is one attempt.
t_ratelimit_restart() {
    local i tok f rc err why_="" toks=()
    policy false
    restart || why_="restart: $MW_WHY"
    for i in 1 2; do
        [ -z "$why_" ] || break
        tok=$(mw_token rl$i); f=$MW_WORK/$tok
        attempt "$f.out" busy@sender.test "$tok"; rc=$?
        [ "$rc" = 0 ] || { why_="message $i: swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"; break; }
        toks+=("$tok")
    done
    [ -n "$why_" ] || restart || why_="restart: $MW_WHY"
    if [ -z "$why_" ]; then
        tok=$(mw_token rl3); f=$MW_WORK/$tok
        attempt "$f.out" busy@sender.test "$tok"; rc=$?
        err=$(swaks_errors "$f.out" | head -n 1)
        if [ "$rc" != 23 ]; then
            why_="message 3 after the restart: swaks exit $rc (23 = refused at MAIL FROM): $err"
        elif [ "$err" != "451 4.7.1 Too much mail from this sender (limit per-sender)" ]; then
            why_="message 3 got '$err'"
        fi
        [ -n "$why_" ] || not_delivered "$tok" || why_=$MW_WHY
    fi
    for tok in "${toks[@]}"; do
        [ -n "$why_" ] || deliver_ok "$tok" "$MW_WORK/$tok.msg" || why_=$MW_WHY
    done
    if [ -z "$why_" ]; then pass "$N2"; else fail "$N2" "$why_"; fi
}

t_modes() {
    local d m l
    d=$(stat -c %a "$STORE" 2>&1); m=$(stat -c %a "$STORE/data.mdb" 2>&1); l=$(stat -c %a "$STORE/lock.mdb" 2>&1)
    if [ "$d:$m:$l" = 750:640:640 ]; then pass "$N3"; else fail "$N3" "directory:data:lock modes are $d:$m:$l"; fi
}

t_greylist_restart
t_ratelimit_restart
t_modes
mw_finish "$NF"
