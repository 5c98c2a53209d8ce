#!/bin/bash
# Postfix + mailwarden against hostile header blocks. A spam whose Subject, Content-Type and
# Content-Transfer-Encoding come after 1200 junk fields (limits.max_headers is 1000) is
# rejected with 550 like the same spam without the padding (it was accepted with 250 when the
# fields past the limit were not kept); a clean message with the same padding is delivered
# with HEADER_COUNT_LIMIT and X-Spam-Flag. A single 100 KB header field (Postfix sends up to
# header_size_limit, 100 KB by default, in one milter packet; libmilter's default is 64 KB)
# gets a verdict; Postfix cuts a field at about 60 KB, so a 200 KB field (over libmilter's
# default packet size of 64 KB, which dropped the session) is sent straight over the milter
# protocol (helpers/milter-send.py) and gets a verdict too; a 2 MB field, over the 1 MB that
# libmilter reads at most, ends the session and our log says so. Inline rules only: needs no
# SpamAssassin rule files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-header-flood
MTA=postfix

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<'POLICY'
actions: { add_header = 5.0; reject = 15.0 }
rules: {
  inline = [ "header LOCAL_PILLS_SUBJECT Subject =~ /cheap pills/i", "score LOCAL_PILLS_SUBJECT 8.0",
             "body LOCAL_VIAGRA_BODY /buy viagra now/i", "score LOCAL_VIAGRA_BODY 8.0" ]
}
POLICY
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# junk_fields N: N fields "X-Junk-0001: x" ...
junk_fields() { local i; for ((i = 1; i <= $1; i++)); do printf 'X-Junk-%04d: x\n' "$i"; done; }

# flood_msg FILE TOKEN JUNK SUBJECT BODY: JUNK junk fields before the Subject and the MIME
# fields; the body is base64, so a body rule matches only when Content-Transfer-Encoding is seen
flood_msg() {
    local f=$1 tok=$2 junk=$3 subject=$4 body=$5
    {
        printf 'From: Alice <alice@example.test>\nTo: Bob <bob@remote.test>\n'
        printf 'Date: %s\nMessage-ID: <%s@example.test>\nX-MW-Test-Id: %s\n' "$(date -R)" "$tok" "$tok"
        junk_fields "$junk"
        printf 'Subject: %s\nMIME-Version: 1.0\n' "$subject"
        printf 'Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: base64\n\n'
        printf '%s\r\n' "$body" | base64
    } >"$f"
}

spam_rejected() { # NAME JUNK
    local name=$1 junk=$2
    local tok; tok=$(mw_token "flood$junk")
    local f=$MW_WORK/$tok
    flood_msg "$f.eml" "$tok" "$junk" "Cheap pills $tok" "Buy viagra now, limited offer!"
    if spam_refused "$tok" "$f"; then
        pass "$name"
    else
        fail "$name" "$MW_WHY"
    fi
}

t_spam() {
    spam_rejected "postfix: the spam without padding is rejected with 550 (Subject and base64 body rules)" 0
}

t_padded_spam() {
    local name="postfix: the spam after 1200 junk header fields is rejected with 550 too"
    spam_rejected "$name" 1200
    local line
    name="postfix: the padded spam's summary line has both rules and HEADER_COUNT_LIMIT"
    if ! line=$(mw_summary_for 'symbols=.*HEADER_COUNT_LIMIT.*action=reject'); then
        fail "$name" "no summary line with HEADER_COUNT_LIMIT and action=reject: $(grep 'symbols=' "$MW_LOG" | tail -n 1)"
    elif ! [[ $line == *LOCAL_PILLS_SUBJECT* && $line == *LOCAL_VIAGRA_BODY* ]]; then
        fail "$name" "the Subject and body rules did not both hit: $line"
    else
        pass "$name"
    fi
}

t_padded_clean() {
    local name="postfix: a clean message after 1200 junk fields is delivered with X-Spam-Flag and HEADER_COUNT_LIMIT"
    local tok; tok=$(mw_token floodclean)
    local f=$MW_WORK/$tok
    flood_msg "$f.eml" "$tok" 1200 "Lunch on Friday $tok" "Shall we meet at noon?"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    if [ "$rc" != 0 ]; then
        fail "$name" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$name" "$MW_WHY"
    elif ! grep -qE 'X-Spam-Status: Yes,.*HEADER_COUNT_LIMIT=5' "$f.msg.hdr"; then
        fail "$name" "no HEADER_COUNT_LIMIT in X-Spam-Status: $(grep -i 'X-Spam-Status' "$f.msg.hdr" | head -n 1)"
    elif ! grep -qE '(^|\s)X-Spam-Flag: YES' "$f.msg.hdr"; then
        fail "$name" "no X-Spam-Flag: YES"
    elif ! grep -qE 'header field X-Junk-[0-9]+ not kept: limits.max_headers passed' "$MW_LOG"; then
        fail "$name" "no log line naming the first field not kept"
    else
        pass "$name"
    fi
}

# big_field_msg FILE TOKEN BYTES: one X-Big field of BYTES bytes on one line (Postfix 3.7 keeps
# about 60 KB of it, folded or not, whatever header_size_limit says)
big_field_msg() {
    local f=$1 tok=$2 bytes=$3
    mw_msg "$f.tmp" "$tok"
    {
        sed -n '1,/^$/p' "$f.tmp" | sed '$d'
        printf 'X-Big: '
        head -c "$bytes" /dev/zero | tr '\0' x
        printf '\n\n'
        sed '1,/^$/d' "$f.tmp"
    } >"$f"
    rm -f "$f.tmp"
}

t_big_field() {
    local name="postfix: a message with a 100 KB header field is delivered with our verdict (Postfix passes about 60 KB of it)"
    local tok; tok=$(mw_token bigfield)
    local f=$MW_WORK/$tok
    big_field_msg "$f.eml" "$tok" 100000
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    if [ "$rc" != 0 ]; then
        fail "$name" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1); maillog: $(grep -i milter "$PF_DIR/maillog" | tail -n 1)"
    elif ! deliver_ok "$tok" "$f.msg"; then
        fail "$name" "$MW_WHY"
    elif ! grep -qE '(^|\s)X-Spam-Status: No,' "$f.msg.hdr"; then
        fail "$name" "the delivered message has no X-Spam-Status from mailwarden"
    elif grep -q 'the message ended before its end of data' "$MW_LOG"; then
        fail "$name" "our log says a message ended early: $(grep -m1 'ended before' "$MW_LOG")"
    else
        pass "$name"
    fi
}

# direct_field NAME BYTES EXPECTED: one message with a BYTES-byte header field straight to
# mailwarden over the milter protocol (Postfix would cut it); EXPECTED is the verdict printed
direct_field() {
    "$MW_PY" "$MW_HELPERS/milter-send.py" --port "$MW_PORT" --field-bytes "$2" --qid "$3" 2>&1
}

t_direct_big_field() {
    local name="milter: a 200 KB header field gets a verdict, not a dropped session (libmilter's default is 64 KB)"
    local out
    out=$(direct_field "$name" 200000 BIGFIELD200K)
    if [ "$out" != "verdict: continue" ]; then
        fail "$name" "$out (expected 'verdict: continue'); log: $(tail -n 2 "$MW_LOG" | tr '\n' '|')"
    elif ! mw_summary_for 'qid=BIGFIELD200K .*action=accept' >/dev/null; then
        fail "$name" "no summary line for qid BIGFIELD200K"
    else
        pass "$name"
    fi
}

t_direct_huge_field() {
    local name="milter: a 2 MB header field (over the 1 MB libmilter reads) ends the session, and our log says so"
    local out
    out=$(direct_field "$name" 2000000 HUGEFIELD)
    if [ "$out" != "verdict: dropped" ]; then
        fail "$name" "$out (expected 'verdict: dropped')"
    elif ! mw_wait_until 10 grep -qE 'the message ended before its end of data, after [0-9]+ header fields' "$MW_LOG"; then
        fail "$name" "no log line about the message that ended early: $(tail -n 3 "$MW_LOG" | tr '\n' '|')"
    else
        pass "$name"
    fi
}

t_spam
t_padded_spam
t_padded_clean
t_big_field
t_direct_big_field
t_direct_huge_field
mw_finish "postfix-header-flood: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
