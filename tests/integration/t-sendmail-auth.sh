#!/bin/bash
# Sendmail + mailwarden with SMTP AUTH: Sendmail offers AUTH PLAIN LOGIN against a private
# sasldb (users alice, mallory); the SASL user reaches the daemon as {auth_authen} without a
# realm ("alice"), and the queue id as macro i already at MAIL FROM.
#   1. alice's message is delivered with our Authentication-Results; mailwarden's summary line
#      for it says sasl=alice and qid= Sendmail's queue id of that message;
#   2. mallory gets the sasl_user rule's 550 5.7.1 at MAIL FROM, nothing is delivered;
#   3. a deny-listed envelope sender refused at MAIL FROM is logged with stage=mail and the
#      queue id Sendmail sent at MAIL (not NOQUEUE).
# The Postfix counterpart of 2 (user@realm) is t-postfix-auth.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-sendmail-auth

N1="sendmail-auth: AUTH PLAIN alice delivered with Authentication-Results; summary has sasl=alice and Sendmail's queue id"
N2="sendmail-auth: AUTH PLAIN mallory refused at MAIL FROM with the sasl_user rule's 550 5.7.1; nothing delivered"
N3="sendmail-auth: deny-listed sender refused at MAIL FROM is logged with stage=mail and the queue id Sendmail sent at MAIL"
NF="sendmail-auth: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

if ! sm_prepare; then
    for c in "$N1" "$N2" "$N3"; do skip "$c" "$SM_WHY"; done
    exit 0
fi
if ! command -v saslpasswd2 >/dev/null || ! compgen -G '/usr/lib/*/sasl2/libplain.so*' >/dev/null; then
    for c in "$N1" "$N2" "$N3"; do
        skip "$c" "no saslpasswd2 or PLAIN mechanism (apt-get install sasl2-bin libsasl2-modules)"
    done
    exit 0
fi

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<'EOF'
access = (
  { name = "no-mallory"; match = "sasl_user"; values = [ "mallory" ];
    action = "reject"; reply = "550 5.7.1 User mallory may not send" },
  { name = "blocked"; match = "sender"; values = [ "spammer@bad.test" ];
    action = "reject"; reply = "550 5.7.1 Sender spammer blocked by test policy" }
)
EOF
mw_start "$MW_WORK/mailwarden.conf"
sink_start
SM_AUTH_USERS="alice:alice-secret mallory:mallory-secret"
sm_start "$MW_PORT"

# 1. alice
t_alice() {
    local tok; tok=$(mw_token auth-alice)
    local f=$MW_WORK/$tok qid rqid line
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user alice --auth-password alice-secret
    local rc=$?
    qid=$(sm_swaks_queued_id "$f.out")
    if ! swaks_authenticated "$f.out"; then
        fail "$N1" "AUTH PLAIN as alice was not accepted (swaks exit $rc): $(swaks_errors "$f.out" | head -n 1)"
    elif [ "$rc" != 0 ] || [ -z "$qid" ]; then
        fail "$N1" "swaks exit $rc, queue id '$qid': $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$N1" "$MW_WHY"
    elif [ "$(our_ar_count "$f.msg.hdr")" != 1 ]; then
        fail "$N1" "expected 1 'Authentication-Results: mw.test;' header, found $(our_ar_count "$f.msg.hdr")"
    else
        # Sendmail's Received: "... by mta.test (...) with ESMTPA id QID ..." (A: authenticated)
        rqid=$(grep -E $'^[0-9]+\tReceived: .*by mta\\.test ' "$f.msg.hdr" | head -n 1 \
            | sed -nE 's/.* with ESMTPS?A id ([0-9A-Za-z]+).*/\1/p')
        if [ "$rqid" != "$qid" ]; then
            fail "$N1" "Sendmail's Received header says 'with ESMTPA id ${rqid:-?}', its 250 reply said $qid: $(grep -E $'\tReceived: .*by mta\\.test' "$f.msg.hdr" | head -n 1 | cut -f2)"
        elif ! line=$(mw_summary_for "from=<alice@example\\.test> .*action=accept"); then
            fail "$N1" "no summary line for from=<alice@example.test> with action=accept in mailwarden's log"
        else
            printf '%s\n' "$line" >"$f.summary"
            if ! grep -qE "(^| )qid=$qid( |$)" "$f.summary"; then
                fail "$N1" "summary line does not carry qid=$qid (Sendmail's queue id): $line"
            elif ! grep -qE '(^| )sasl=alice( |$)' "$f.summary"; then
                fail "$N1" "summary line does not say sasl=alice (Sendmail's {auth_authen} has no realm): $line"
            elif ! grep -qE '(^| )stage=eom( |$)' "$f.summary"; then
                fail "$N1" "summary line is not the end-of-message one (stage=eom): $line"
            else
                pass "$N1"
            fi
        fi
    fi
}

# 3. deny-listed sender: the summary at MAIL FROM already has Sendmail's queue id
t_sender_qid() {
    local tok; tok=$(mw_token auth-deny)
    local f=$MW_WORK/$tok err line qid alice_qid pid
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from spammer@bad.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    err=$(swaks_errors "$f.out" | head -n 1)
    if [ "$rc" != 23 ] || ! printf '%s\n' "$err" | grep -qE '^550 5\.7\.1 (<spammer@bad\.test>\.\.\. )?Sender spammer blocked by test policy$'; then
        fail "$N3" "swaks exit $rc (23 = refused at MAIL FROM), reply '${err:-none}', expected '550 5.7.1 Sender spammer blocked by test policy'"
    elif ! line=$(mw_summary_for "from=<spammer@bad\\.test> .*action=reject"); then
        fail "$N3" "no summary line for from=<spammer@bad.test> with action=reject in mailwarden's log"
    else
        printf '%s\n' "$line" >"$f.summary"
        qid=$(sed -nE 's/^.*(^| )qid=([^ ]*).*$/\2/p' "$f.summary")
        alice_qid=$(sed -nE 's/^.*(^| )qid=([^ ]*) .*from=<alice@example\.test>.*$/\2/p' "$MW_LOG" | tail -n 1)
        if ! grep -qE '(^| )stage=mail( |$)' "$f.summary"; then
            fail "$N3" "summary line is not stage=mail: $line"
        elif [ -z "$qid" ] || [ "$qid" = NOQUEUE ]; then
            fail "$N3" "summary line at MAIL FROM has qid='${qid}' although Sendmail sends macro i at MAIL: $line"
        elif ! printf '%s' "$qid" | grep -qE '^[0-9A-Za-z]{8,}$'; then
            fail "$N3" "qid '$qid' does not look like a Sendmail queue id: $line"
        elif [ -n "$alice_qid" ] && [ "$qid" = "$alice_qid" ]; then
            fail "$N3" "qid $qid is the one of an earlier transaction (alice's): $line"
        elif pid=$(sm_session_pid "MAIL FROM:<spammer@bad.test>"); [ -z "$pid" ]; then
            fail "$N3" "no 'MAIL FROM:<spammer@bad.test>' in Sendmail's traffic log"
        elif [ "${qid%"$(printf '%06d' "$pid")"}" = "$qid" ]; then
            fail "$N3" "qid $qid is not of the SMTP session that sent MAIL FROM:<spammer@bad.test> (Sendmail process $pid; its queue ids end in $(printf '%06d' "$pid"))"
        elif ! not_delivered "$tok"; then
            fail "$N3" "$MW_WHY"
        else
            pass "$N3"
        fi
    fi
}

t_alice
case_sasl_refused "$N2" '^550 5\.7\.1 (<mallory@example\.test>\.\.\. )?User mallory may not send$' mallory
t_sender_qid

mw_finish "$NF"
