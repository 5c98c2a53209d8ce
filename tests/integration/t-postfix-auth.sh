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

case_sasl_refused "$N1" '^550 5\.7\.1 User mallory may not send$' 'mallory@mta\.test'
t_alice

mw_finish "$NF"
