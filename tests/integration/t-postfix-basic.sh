#!/bin/bash
# Postfix + mailwarden: Authentication-Results, access rules (sender, recipient, HELO tempfail),
# non-SMTP mail (sendmail -C), several transactions on one connection, SASL submission.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-basic

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" < <(case_policy_rules)
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# a, b, c
case_authres
case_sender_reject
case_recipient_reject
case_helo_tempfail

# e2. The per-message log line counts the whole message as the client sent it (headers and
# body, LF line ends, as Postfix counts bytes): before, size= was the body alone. Postfix's own
# size= is larger by the headers it and the milters add (its Received, our
# Authentication-Results), so that is checked as a bound.
t_log_size() {
    local name="postfix: our log line's size= is the whole message the client sent"
    local tok; tok=$(mw_token size)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok" 'X-Folded: first line' $'\tsecond line'
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    [ "$rc" = 0 ] || { fail "$name" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"; return 0; }
    deliver_ok "$tok" "$f.msg" || { fail "$name" "$MW_WHY"; return 0; }
    local qid ours theirs sent
    # swaks sends "CRLF . CRLF" after the file's own last line end: one more empty body line
    sent=$(( $(wc -c <"$f.eml") + 1 ))
    qid=$(grep -oE 'queued as [A-Za-z0-9]+' "$f.out" | tail -n 1 | awk '{ print $3 }')
    mw_wait_until 10 grep -qE "$qid: from=<[^>]*>, size=" "$PF_DIR/maillog"
    ours=$(grep -E "qid=$qid " "$MW_LOG" | grep -oE ' size=[0-9]+' | tail -n 1 | cut -d= -f2)
    theirs=$(grep -E "$qid: from=<[^>]*>, size=" "$PF_DIR/maillog" | grep -oE 'size=[0-9]+' | head -n 1 | cut -d= -f2)
    if [ -z "$qid" ] || [ -z "$ours" ] || [ -z "$theirs" ]; then
        fail "$name" "queue id '$qid', ours '${ours:-none}', Postfix's '${theirs:-none}'"
    elif [ "$ours" != "$sent" ] || [ "$theirs" -le "$ours" ]; then
        fail "$name" "ours $ours, sent $sent bytes, Postfix's $theirs"
    else
        pass "$name"
    fi
}
t_log_size

# f. Non-SMTP mail: Postfix's sendmail -> pickup -> cleanup -> non_smtpd_milters.
t_pickup() {
    local name="postfix: non-SMTP mail (sendmail -C) is delivered with Authentication-Results mw.test"
    local tok; tok=$(mw_token pickup)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    if ! pf_sendmail -f alice@example.test bob@remote.test <"$f.eml" >"$f.out" 2>&1; then
        fail "$name" "sendmail -C failed: $(head -n 2 "$f.out")"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$name" "$MW_WHY"
    elif [ "$(our_ar_count "$f.msg.hdr")" != 1 ]; then
        fail "$name" "expected 1 'Authentication-Results: mw.test;' header, found $(our_ar_count "$f.msg.hdr")"
    else
        pass "$name"
    fi
}
t_pickup

# g. Three transactions on one SMTP connection; the second from the deny-listed sender.
t_session() {
    local name="postfix: 3 transactions on one connection: 1st and 3rd delivered, 2nd (deny-listed) refused"
    local t1 t2 t3 out=$MW_WORK/session.out
    t1=$(mw_token sess1) t2=$(mw_token sess2) t3=$(mw_token sess3)
    "$MW_PY" "$MW_HELPERS/smtp-client.py" session --port "$PF_PORT" \
        "alice@example.test,bob@remote.test,$t1" \
        "spammer@bad.test,bob@remote.test,$t2" \
        "alice@example.test,carol@remote.test,$t3" >"$out" 2>"$MW_WORK/session.err"
    local r1 r2 r3
    r1=$(awk -F'\t' -v t="$t1" '$1 == t { print $2 " " $3 }' "$out")
    r2=$(awk -F'\t' -v t="$t2" '$1 == t { print $2 " " $3 " " $4 }' "$out")
    r3=$(awk -F'\t' -v t="$t3" '$1 == t { print $2 " " $3 }' "$out")
    if [ "$r1" != "END 250" ] || [ "$r3" != "END 250" ]; then
        fail "$name" "1st: '${r1:-no result}', 3rd: '${r3:-no result}', expected END 250 ($(tail -n 1 "$MW_WORK/session.err"))"
    elif [ "$r2" != "MAIL 550 5.7.1 Sender spammer blocked by test policy" ]; then
        fail "$name" "2nd: '${r2:-no result}', expected 'MAIL 550 5.7.1 Sender spammer blocked by test policy'"
    elif ! deliver_ok "$t1" "$MW_WORK/$t1.msg" || ! deliver_ok "$t3" "$MW_WORK/$t3.msg"; then
        fail "$name" "$MW_WHY"
    elif ! not_delivered "$t2"; then
        fail "$name" "$MW_WHY"
    elif [ "$(our_ar_count "$MW_WORK/$t1.msg.hdr")" != 1 ] || [ "$(our_ar_count "$MW_WORK/$t3.msg.hdr")" != 1 ]; then
        fail "$name" "each delivered message should carry exactly 1 'Authentication-Results: mw.test;' (1st: $(our_ar_count "$MW_WORK/$t1.msg.hdr"), 3rd: $(our_ar_count "$MW_WORK/$t3.msg.hdr"))"
    else
        pass "$name"
    fi
}
t_session

# h. AUTH PLAIN as alice: delivered; mailwarden's summary line for that queue id says
#    action=accept and names the SASL user.
t_sasl() {
    local name="postfix: AUTH PLAIN submission delivered with auth=pass smtp.auth=alice@mta.test; summary line has qid, action=accept, sasl user alice"
    local tok; tok=$(mw_token sasl)
    local f=$MW_WORK/$tok qid
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user alice --auth-password alice-secret
    local rc=$?
    qid=$(swaks_queued_id "$f.out")
    if [ "$rc" != 0 ] || [ -z "$qid" ]; then
        fail "$name" "swaks exit $rc, queue id '${qid}': $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$name" "$MW_WHY"
    elif ! grep -qE 'auth=pass smtp\.auth=alice@mta\.test' "$f.msg"; then
        fail "$name" "the delivered message's Authentication-Results lacks auth=pass smtp.auth=alice@mta.test"
    elif ! grep -qE "$qid: client=.*sasl_method=PLAIN, sasl_username=alice" "$PF_DIR/maillog"; then
        fail "$name" "Postfix did not log an authenticated session for $qid"
    elif ! mw_wait_until 10 grep -qE "qid=$qid( |$)" "$MW_LOG"; then
        fail "$name" "no line with qid=$qid in mailwarden's log"
    else
        local line; line=$(grep -E "qid=$qid( |$)" "$MW_LOG" | tail -n 1)
        printf '%s\n' "$line" >"$f.summary"
        if ! grep -qE '(^| )action=accept( |$)' "$f.summary"; then
            fail "$name" "summary line lacks action=accept: $line"
        elif ! grep -qE '(^| )(sasl|sasl_user|sasl_username|auth|user)=<?alice(@mta\.test)?>?( |$)' "$f.summary"; then
            fail "$name" "summary line does not name the SASL user (sasl=alice): $line"
        elif ! grep -qE '(^| )from=<alice@example\.test>' "$f.summary"; then
            fail "$name" "summary line lacks from=<alice@example.test>: $line"
        else
            pass "$name"
        fi
    fi
}
t_sasl

# i. No HELO at all, and an aborted transaction (RSET after RCPT) before a good one, on one
#    connection: the good one is delivered with our header and logged.
t_nohelo_abort() {
    local name="postfix: no HELO, a transaction aborted by RSET, then a good one on the same connection: delivered with our header, logged with helo=-"
    local ta tb out=$MW_WORK/nohelo.out
    ta=$(mw_token aborted) tb=$(mw_token nohelo)
    "$MW_PY" - "$PF_PORT" "$ta" "$tb" >"$out" 2>&1 <<'PY'
import smtplib, sys
port, aborted, good = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP()
s.connect("127.0.0.1", port)
def cmd(line):
    code, text = s.docmd(line)
    print(line.split(":")[0], code)
    return code
cmd("MAIL FROM:<alice@example.test>")
cmd("RCPT TO:<bob@remote.test>")
cmd("RSET")
cmd("MAIL FROM:<alice@example.test>")
cmd("RCPT TO:<bob@remote.test>")
cmd("DATA")
s.send(("Subject: %s\r\nMessage-ID: <%s@example.test>\r\n\r\n%s\r\n.\r\n" % (good, good, good)).encode())
code, text = s.getreply()
print("END", code)
s.quit()
PY
    if ! grep -q '^END 250' "$out"; then
        fail "$name" "the good transaction was not accepted: $(tr '\n' ' ' <"$out")"
    elif ! deliver_ok "$tb" "$MW_WORK/$tb.msg"; then
        fail "$name" "$MW_WHY"
    elif [ "$(our_ar_count "$MW_WORK/$tb.msg.hdr")" != 1 ]; then
        fail "$name" "expected 1 'Authentication-Results: mw.test;' on the delivered message"
    elif ! mw_wait_until 10 grep -qE "helo=- from=<alice@example.test> rcpts=1 .*action=accept" "$MW_LOG"; then
        fail "$name" "no summary line with helo=- and action=accept in mailwarden's log"
    else
        pass "$name"
    fi
}
t_nohelo_abort

# j. A quarantine rule: the message is accepted (250) and parked in Postfix's hold queue
#    (Postfix logs the hold but not the reason); nothing reaches the sink.
t_quarantine() {
    local name="postfix: quarantine rule: 250, message in the hold queue, not delivered, logged action=quarantine"
    local tok; tok=$(mw_token held)
    local f=$MW_WORK/$tok
    mw_msg "$f.eml" "$tok"
    swaks --server 127.0.0.1 --port "$PF_PORT" --from held@example.test --to bob@remote.test \
        --data "$f.eml" >"$f.swaks" 2>&1
    local rc=$?
    local held; held=$(find "$PF_DIR/spool/hold" -type f 2>/dev/null | head -n 1)
    if [ "$rc" != 0 ]; then
        fail "$name" "swaks exit $rc: $(grep -m1 '<\*\*' "$f.swaks")"
    elif ! mw_wait_until 10 grep -qE "milter-hold: END-OF-MESSAGE .*milter triggers HOLD action; from=<held@example.test>" "$PF_DIR/maillog"; then
        fail "$name" "Postfix did not log a milter HOLD for held@example.test"
    elif ! grep -qE "from=<held@example.test> .*symbols=([^ ]*,)?ACCESS_HOLD[(].*action=quarantine" "$MW_LOG"; then
        fail "$name" "mailwarden's summary line lacks ACCESS_HOLD and action=quarantine"
    elif [ -z "$held" ]; then
        fail "$name" "no file in the hold queue"
    elif sink_find "$tok" | grep -q .; then
        fail "$name" "the held message was delivered"
    else
        postsuper -c "$PF_DIR/etc" -d ALL hold >/dev/null 2>&1
        pass "$name"
    fi
}
t_quarantine

# k. Bad input: 1500 header fields, past limits.max_headers (1000): the message still gets a
#    decision and is delivered with our header; the limit is logged once (the first field not
#    kept) and the summary has HEADER_COUNT_LIMIT.
t_header_flood() {
    local name="postfix: 1500 header fields: delivered with our header, header limit logged once"
    local tok; tok=$(mw_token flood)
    local f=$MW_WORK/$tok i
    local extra=()
    for i in $(seq 1500); do extra+=("X-Flood-$i: value $i"); done
    mw_msg "$f.eml" "$tok" "${extra[@]}"
    swaks --server 127.0.0.1 --port "$PF_PORT" --from alice@example.test --to bob@remote.test \
        --data "$f.eml" >"$f.swaks" 2>&1
    local rc=$?
    if [ "$rc" != 0 ]; then
        fail "$name" "swaks exit $rc: $(grep -m1 '<\*\*' "$f.swaks")"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$name" "$MW_WHY"
    elif [ "$(our_ar_count "$f.msg.hdr")" != 1 ]; then
        fail "$name" "expected 1 'Authentication-Results: mw.test;' on the delivered message"
    elif [ "$(grep -c 'not kept: limits.max_headers passed' "$MW_LOG")" != 1 ]; then
        fail "$name" "expected one 'not kept: limits.max_headers passed' line in mailwarden's log, found $(grep -c 'not kept: limits.max_headers passed' "$MW_LOG")"
    elif ! grep -q 'symbols=.*HEADER_COUNT_LIMIT(5.0)' "$MW_LOG"; then
        fail "$name" "no HEADER_COUNT_LIMIT in the summary line"
    else
        pass "$name"
    fi
}
t_header_flood

mw_finish "postfix-basic: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
