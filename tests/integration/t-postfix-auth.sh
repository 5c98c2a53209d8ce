#!/bin/bash
# Postfix + mailwarden with SMTP AUTH: Postfix hands the SASL user to the milter with its realm
# ({auth_authen}=mallory@mta.test); the sasl_user rule value "mallory" must still match it.
# The Sendmail side (no realm) is t-sendmail-auth.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-auth

N1="postfix-auth: AUTH PLAIN mallory (mallory@mta.test) refused at MAIL FROM by the sasl_user rule value \"mallory\""
N2="postfix-auth: AUTH PLAIN alice (alice@mta.test) is not matched by that rule and is delivered"
NF="postfix-auth: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<'EOF'
access = (
  { name = "no-mallory"; match = "sasl_user"; values = [ "mallory" ];
    action = "reject"; reply = "550 5.7.1 User mallory may not send" }
)
EOF
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"
# The fixture's sasldb has alice and bob; add mallory the same way (realm mta.test, readable
# by postfix). smtpd opens the sasldb for each authentication, so no restart is needed.
printf '%s' mallory-secret | saslpasswd2 -p -c -f "$PF_DIR/sasl/sasldb2" -u mta.test mallory \
    || die "saslpasswd2 for mallory failed"
chown -R postfix "$PF_DIR/sasl"

swaks_authenticated() { grep -qE '^ *<- +235 ' "$1"; }
mw_summary_for() { # REGEX: the last summary line of mailwarden matching REGEX (polls 10 s)
    mw_wait_until 10 grep -qE -- "$1" "$MW_LOG" || return 1
    grep -E -- "$1" "$MW_LOG" | tail -n 1
}

t_mallory() {
    local tok; tok=$(mw_token auth-mallory)
    local f=$MW_WORK/$tok err line
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from mallory@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user mallory --auth-password mallory-secret
    local rc=$?
    err=$(swaks_errors "$f.out" | head -n 1)
    if ! swaks_authenticated "$f.out"; then
        fail "$N1" "AUTH PLAIN as mallory was not accepted (swaks exit $rc): ${err:-no error reply}"
    elif [ "$rc" != 23 ]; then
        fail "$N1" "swaks exit $rc (23 = refused at MAIL FROM): ${err:-no error reply}"
    elif [ "$err" != "550 5.7.1 User mallory may not send" ]; then
        fail "$N1" "MAIL FROM reply was '$err', expected '550 5.7.1 User mallory may not send'"
    elif ! not_delivered "$tok"; then
        fail "$N1" "$MW_WHY"
    elif ! line=$(mw_summary_for "from=<mallory@example\\.test> .*action=reject"); then
        fail "$N1" "no summary line for from=<mallory@example.test> with action=reject in mailwarden's log"
    elif ! printf '%s\n' "$line" | grep -qE '(^| )sasl=mallory@mta\.test( |$).*ACCESS_NO_MALLORY.*(^| )stage=mail( |$)'; then
        fail "$N1" "summary line should say sasl=mallory@mta.test (Postfix's {auth_authen} has the realm), ACCESS_NO_MALLORY and stage=mail: $line"
    else
        pass "$N1"
    fi
}

t_alice() {
    local tok; tok=$(mw_token auth-alice)
    local f=$MW_WORK/$tok qid line
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user alice --auth-password alice-secret
    local rc=$?
    qid=$(swaks_queued_id "$f.out")
    if ! swaks_authenticated "$f.out"; then
        fail "$N2" "AUTH PLAIN as alice was not accepted (swaks exit $rc): $(swaks_errors "$f.out" | head -n 1)"
    elif [ "$rc" != 0 ] || [ -z "$qid" ]; then
        fail "$N2" "swaks exit $rc, queue id '$qid': $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N2" "$MW_WHY"
    elif ! line=$(mw_summary_for "qid=$qid( |$)"); then
        fail "$N2" "no summary line with qid=$qid in mailwarden's log"
    elif ! printf '%s\n' "$line" | grep -qE '(^| )sasl=alice@mta\.test( |$).*(^| )action=accept( |$)'; then
        fail "$N2" "summary line should say sasl=alice@mta.test and action=accept: $line"
    else
        pass "$N2"
    fi
}

t_mallory
t_alice

mw_finish "$NF"
