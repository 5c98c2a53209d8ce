# tests/integration/cases.sh - checks that run the same way on Postfix and on Sendmail.
# Sourced after lib.sh; each case uses $MTA/$MTA_PORT of the MTA started last, prints one
# PASS/FAIL line and returns 0. The policy they expect is case_policy_rules (below).

case_policy_rules() {
    cat <<'EOF'
access = (
  { name = "blocked"; match = "sender"; values = [ "spammer@bad.test" ];
    action = "reject"; reply = "550 5.7.1 Sender spammer blocked by test policy" },
  { name = "refused-rcpt"; match = "recipient"; values = [ "refused@remote.test" ];
    action = "reject"; reply = "550 5.7.1 Recipient refused by test policy" },
  { name = "slow-helo"; match = "helo"; values = [ "tempfail.test" ];
    action = "tempfail"; reply = "451 4.7.1 Try later, test policy" },
  { name = "hold"; match = "sender"; values = [ "held@example.test" ];
    action = "quarantine"; reply = "Held by test policy" }
)
EOF
}

mw_token() { printf '%s-%s-%s%s' "$1" "$MTA" "$(date +%H%M%S)" "$RANDOM"; }

# our_ar_count HEADERS: how many Authentication-Results fields carry authserv-id mw.test
our_ar_count() { grep -cE $'^[0-9]+\tAuthentication-Results: *mw\\.test *;' "$1"; }

# deliver_ok TOKEN OUT: waits for the MTA's queue to drain, then fetches the delivered message
# into OUT and its unfolded header list into OUT.hdr.
deliver_ok() {
    mta_wait_queue_empty 60 || { why "$MTA queue not empty after 60 s ($(mta_queue_count) files)"; return 1; }
    sink_get "$1" "$2" || return 1
    "$MW_PY" "$MW_HELPERS/mwmsg.py" headers "$2" >"$2.hdr"
}

# not_delivered TOKEN: nothing with TOKEN reached the sink and nothing is left queued.
not_delivered() {
    mta_wait_queue_empty 60 || { why "$MTA queue not empty ($(mta_queue_count) files)"; return 1; }
    local n; n=$(sink_find "$1" | grep -c .)
    [ "$n" = 0 ] || { why "$n message(s) with $1 were delivered"; return 1; }
}

# deliver_body TOKEN TEXT: sends a test message with TEXT appended to its body and fetches the
# delivered copy (headers in $MW_WORK/TOKEN.msg.hdr, as deliver_ok).
deliver_body() {
    local tok=$1 f=$MW_WORK/$1
    mw_msg "$f.eml" "$tok"
    printf '%s\n' "$2" >>"$f.eml"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" ||
        { why "swaks exit $?: $(swaks_errors "$f.out" | head -n 1)"; return 1; }
    deliver_ok "$tok" "$f.msg"
}

MW_GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

# spam_refused TOKEN BASE: sends BASE.eml (swaks' output in BASE.out); true when DATA was
# refused with the policy's "550 5.7.1 Message rejected as spam" and nothing with TOKEN was
# delivered; else MW_WHY says what happened.
spam_refused() {
    local tok=$1 f=$2
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    local rc=$? err
    err=$(swaks_errors "$f.out" | tail -n 1)
    if [ "$rc" = 0 ]; then
        why "the message was accepted"
    elif [ "$err" != "550 5.7.1 Message rejected as spam" ]; then
        why "DATA reply '$err', expected '550 5.7.1 Message rejected as spam'"
    else
        not_delivered "$tok"
    fi
}

# case_gtube_rejected NAME TEXT: a message whose body ends in TEXT (holding $MW_GTUBE) is
# refused as spam_refused says, and mailwarden's summary line names GTUBE with its score 1000.
case_gtube_rejected() {
    local name=$1
    local tok; tok=$(mw_token gtube)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    printf '%s\n' "$2" >>"$f.eml"
    if ! spam_refused "$tok" "$f"; then
        fail "$name" "$MW_WHY"
    elif ! grep -q "symbols=.*GTUBE(1000" "$MW_LOG"; then
        fail "$name" "no GTUBE(1000...) in the summary line: $(grep -m1 "$tok" "$MW_LOG")"
    else
        pass "$name"
    fi
}

# a. Our Authentication-Results header on accepted mail, above the MTA's Received; a forged
#    one with our authserv-id removed, a foreign one kept.
case_authres() {
    local name="$MTA: accepted mail gets Authentication-Results mw.test above Received; forged removed, foreign kept"
    local tok; tok=$(mw_token ar)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok" \
        'Authentication-Results: mw.test; spf=pass smtp.mailfrom=forged@example.test' \
        'Authentication-Results: other.example; dkim=pass header.d=example.test'
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    [ "$rc" = 0 ] || { fail "$name" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"; return 0; }
    deliver_ok "$tok" "$f.msg" || { fail "$name" "$MW_WHY"; return 0; }
    local ours recv
    ours=$(grep -E $'^[0-9]+\tAuthentication-Results: *mw\\.test *;' "$f.msg.hdr" | head -n 1 | cut -f1)
    recv=$(grep -E $'^[0-9]+\tReceived: .*by mta\\.test' "$f.msg.hdr" | head -n 1 | cut -f1)
    if [ "$(our_ar_count "$f.msg.hdr")" != 1 ]; then
        fail "$name" "expected exactly 1 'Authentication-Results: mw.test;' header, found $(our_ar_count "$f.msg.hdr"): $(grep -F Authentication-Results "$f.msg.hdr" | cut -f2 | tr '\n' '|')"
    elif grep -qF 'forged@example.test' "$f.msg.hdr"; then
        fail "$name" "the forged 'Authentication-Results: mw.test; spf=pass smtp.mailfrom=forged@example.test' was delivered"
    elif ! grep -qE $'\tAuthentication-Results: other\\.example; dkim=pass header\\.d=example\\.test' "$f.msg.hdr"; then
        fail "$name" "the foreign 'Authentication-Results: other.example; ...' header is gone"
    elif [ -z "$recv" ]; then
        fail "$name" "no Received header by mta.test in the delivered message"
    elif [ "$ours" -ge "$recv" ]; then
        fail "$name" "our Authentication-Results is header #$ours, below $MTA's Received (#$recv): $(cut -f2 "$f.msg.hdr" | cut -c1-60 | head -n 8 | tr '\n' '|')"
    else
        pass "$name"
    fi
}

# b1. A deny-listed sender gets the configured 5xx at MAIL FROM; nothing is delivered.
case_sender_reject() {
    local name="$MTA: deny-listed sender refused at MAIL FROM with the policy's 550 text"
    local tok; tok=$(mw_token deny)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from spammer@bad.test --to bob@remote.test --data "@$f.eml"
    local rc=$? err
    err=$(swaks_errors "$f.out" | head -n 1)
    # Postfix passes the reply as is; Sendmail puts "<address>... " in front of the text.
    if [ "$rc" != 23 ]; then
        fail "$name" "swaks exit $rc (23 = refused at MAIL FROM): ${err:-no error reply}"
    elif ! printf '%s\n' "$err" | grep -qE '^550 5\.7\.1 (<spammer@bad\.test>\.\.\. )?Sender spammer blocked by test policy$'; then
        fail "$name" "MAIL FROM reply was '$err', expected '550 5.7.1 Sender spammer blocked by test policy'"
    elif [ "$MTA" = postfix ] && [ "$err" != "550 5.7.1 Sender spammer blocked by test policy" ]; then
        fail "$name" "Postfix reply '$err' is not exactly the policy's text"
    elif ! not_delivered "$tok"; then
        fail "$name" "$MW_WHY"
    else
        pass "$name"
    fi
}

# b2. A recipient rule refuses that recipient only; the other one of the same message gets it.
case_recipient_reject() {
    local name="$MTA: recipient rule refuses only that recipient, the other gets the message"
    local tok; tok=$(mw_token rcpt)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@example.test --to refused@remote.test,carol@remote.test \
        --data "@$f.eml"
    local rc=$? err
    err=$(swaks_errors "$f.out" | head -n 1)
    if ! printf '%s\n' "$err" | grep -qE '^550 5\.7\.1 (<refused@remote\.test>\.\.\. )?Recipient refused by test policy$'; then
        fail "$name" "RCPT TO:<refused@remote.test> got '${err:-no error}' (swaks exit $rc)"
        return 0
    fi
    if ! deliver_ok "$tok" "$f.msg"; then fail "$name" "$MW_WHY"; return 0; fi
    "$MW_PY" "$MW_HELPERS/mwmsg.py" rcpts "$f.msg.dump" >"$f.rcpts"
    if [ "$(cat "$f.rcpts")" != "carol@remote.test" ]; then
        fail "$name" "delivered to '$(tr '\n' ' ' <"$f.rcpts")', expected carol@remote.test only"
    else
        pass "$name"
    fi
}

# c. A tempfail rule (HELO) gives the configured 4xx; nothing is delivered.
case_helo_tempfail() {
    local name="$MTA: tempfail rule (HELO tempfail.test) gives the policy's 451 and delivers nothing"
    local tok; tok=$(mw_token tmpf)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --helo tempfail.test --from alice@example.test --to bob@remote.test \
        --data "@$f.eml"
    local rc=$? err
    err=$(swaks_errors "$f.out" | head -n 1)
    if [ "$rc" = 0 ]; then
        fail "$name" "the message was accepted"
    elif ! printf '%s\n' "$err" | grep -qE '^451 4\.7\.1 (<[^>]*>\.\.\. )?Try later, test policy$'; then
        fail "$name" "first error reply '${err:-none}' (swaks exit $rc), expected '451 4.7.1 Try later, test policy'"
    elif swaks_errors "$f.out" | grep -q '^5'; then
        fail "$name" "a 5xx reply too: $(swaks_errors "$f.out" | grep '^5' | head -n 1)"
    elif ! not_delivered "$tok"; then
        fail "$name" "$MW_WHY"
    else
        pass "$name"
    fi
}

# Authenticated mallory is refused at MAIL FROM by the sasl_user rule (the policy's
# no-mallory rule), nothing is delivered, and the summary line says so.
# case_sasl_refused NAME REPLY_REGEX SASL_IN_SUMMARY: the MTAs differ in the reply (Sendmail
# puts "<addr>... " before the text) and in the auth name (Postfix adds the realm).
# swaks_authenticated OUT: the server answered AUTH with 235.
swaks_authenticated() { grep -qE '^ *<- +235 ' "$1"; }
mw_summary_for() { # REGEX: the last summary line of mailwarden matching REGEX (polls 10 s)
    mw_wait_until 10 grep -qE -- "$1" "$MW_LOG" || return 1
    grep -E -- "$1" "$MW_LOG" | tail -n 1
}
case_sasl_refused() {
    local name=$1 reply_re=$2 sasl=$3
    local tok; tok=$(mw_token auth-mallory)
    local f=$MW_WORK/$tok err line
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from mallory@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user mallory --auth-password mallory-secret
    local rc=$?
    err=$(swaks_errors "$f.out" | head -n 1)
    if ! swaks_authenticated "$f.out"; then
        fail "$name" "AUTH PLAIN as mallory was not accepted (swaks exit $rc): ${err:-no error reply}"
    elif [ "$rc" != 23 ]; then
        fail "$name" "swaks exit $rc (23 = refused at MAIL FROM): ${err:-no error reply}"
    elif ! printf '%s\n' "$err" | grep -qE -- "$reply_re"; then
        fail "$name" "MAIL FROM reply was '$err', expected /$reply_re/"
    elif ! not_delivered "$tok"; then
        fail "$name" "$MW_WHY"
    elif ! line=$(mw_summary_for "from=<mallory@example\\.test> .*action=reject"); then
        fail "$name" "no summary line for from=<mallory@example.test> with action=reject in mailwarden's log"
    elif ! printf '%s\n' "$line" | grep -qE "(^| )sasl=$sasl( |\$).*ACCESS_NO_MALLORY.*(^| )stage=mail( |\$)"; then
        fail "$name" "summary line should say sasl=$sasl, ACCESS_NO_MALLORY and stage=mail: $line"
    else
        pass "$name"
    fi
}
