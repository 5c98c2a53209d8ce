#!/bin/bash
# Postfix + mailwarden rate limits on a real redis-server (started here on a loopback port):
#  1. the (burst+1)th message of SASL user alice gets 451 4.7.1 with the configured text (and
#     not her name, the internal key), while bob still passes;
#  2. recipients are counted per RCPT: of 6 recipients with a budget of 4, 4 are accepted and
#     delivered, 2 get 451 at RCPT;
#  3. two mailwarden daemons (each behind its own smtpd) sharing the redis-server enforce one
#     limit of 5 across both: 8 messages alternating between them, 5 delivered, 3 tempfailed;
#     12 parallel connections over both daemons on one limit of 5: exactly 5 pass;
#  4. redis-server killed mid-run: every message is delivered or tempfailed (none 5xx, none
#     missing), the daemon does not crash and logs the outage once; restarted, the limit of 5
#     applies again and the recovery is logged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-ratelimit

N1="postfix-ratelimit: the 4th message of SASL user alice (burst 3) gets the configured 451 4.7.1 text without her name; bob still passes"
N2="postfix-ratelimit: recipients are counted per RCPT: 4 of 6 accepted and delivered, 2 get 451 at RCPT"
N3="postfix-ratelimit: two daemons sharing one redis-server enforce one limit of 5 across both (8 sent: 5 delivered, 3 tempfailed on both)"
N3P="postfix-ratelimit: 12 parallel connections over both daemons hammering one limit of 5: exactly 5 delivered, 7 tempfailed"
N4="postfix-ratelimit: redis-server killed mid-run: every message delivered or tempfailed (no 5xx, none missing), outage logged once"
N5="postfix-ratelimit: redis-server restarted: the limit of 5 applies again and the recovery is logged"
NF="postfix-ratelimit: both daemons stay up, exit 0 on SIGTERM, no sanitizer reports"

command -v redis-server >/dev/null || { skip "$N1" "redis-server not installed"; exit 0; }

mw_port REDIS_PORT
redis_start() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$MW_WORK" --loglevel warning >>"$MW_WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    mw_wait_listen "$REDIS_PORT" 10 || die "redis-server did not start (see redis.log)"
}
redis_start
mw_on_exit 'mw_kill_wait "$REDIS_PID" 5 KILL'

dns_start
policy() { # FILE: the policy of both daemons (their milter port is $MW_PORT)
    mw_policy "$1" <<EOF
ratelimit: {
  store: { backend = "redis"; host = "127.0.0.1"; port = $REDIS_PORT; fail_mode = "tempfail";
           timeout = "300ms"; connect_timeout = "300ms"; retry_interval = "1s" }
  limits = (
    { name = "per-user"; key = "sasl_user"; count = "messages"; rate = "10/1h"; burst = 3;
      reply = "451 4.7.1 Too much mail from this account (limit per-user)" },
    { name = "rcpts"; key = "sender"; count = "recipients"; rate = "1/1h"; burst = 4;
      exempt_senders = [ "@example.test" ] },
    { name = "fleet"; key = "sender"; count = "messages"; rate = "1/1h"; burst = 5;
      exempt_senders = [ "@rcpt.example" ] }
  )
}
EOF
}
mw_port MW_PORT
policy "$MW_WORK/mailwarden.conf"
mw_start "$MW_WORK/mailwarden.conf"
MW1_PORT=$MW_PORT

# the second daemon: same policy, its own milter port, its own log
mw_port MW_PORT
MW2_PORT=$MW_PORT
policy "$MW_WORK/mailwarden2.conf"
MW2_LOG=$MW_WORK/mailwarden2.log
"$MW_BIN" -t -c "$MW_WORK/mailwarden2.conf" >"$MW_WORK/mailwarden2-t.log" 2>&1 \
    || die "mailwarden -t rejects the second policy: $(head -c 600 "$MW_WORK/mailwarden2-t.log")"
"$MW_BIN" -f -c "$MW_WORK/mailwarden2.conf" >>"$MW2_LOG" 2>&1 &
MW2_PID=$!
mw_on_exit 'mw_kill_wait "$MW2_PID" 40'
mw_wait_listen "$MW2_PORT" 20 || die "the second mailwarden did not listen: $(tail -n 5 "$MW2_LOG")"
MW_PORT=$MW1_PORT

sink_start
pf_start "$MW1_PORT"
# a second smtpd in the same Postfix, with the second daemon as its milter
mw_port PF2_PORT
printf '127.0.0.1:%s inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:%s\n' "$PF2_PORT" "$MW2_PORT" \
    >>"$PF_DIR/etc/master.cf"
postfix -c "$PF_DIR/etc" reload >>"$MW_WORK/postfix-start.log" 2>&1 || die "postfix reload failed"
mw_wait_listen "$PF2_PORT" 20 || die "the second smtpd does not listen on $PF2_PORT"

# send_one OUT PORT FROM TOKEN [swaks args]: one message to bob; returns swaks' status.
send_one() {
    local out=$1 port=$2 from=$3 tok=$4; shift 4
    mw_msg "$out.eml" "$tok"
    swaks --server 127.0.0.1 --port "$port" --helo client.test --timeout 60 \
        --from "$from" --to bob@remote.test --data "@$out.eml" "$@" >"$out" 2>&1
}
# last_reply OUT: the error reply swaks got, "" when none
last_reply() { swaks_errors "$1" | head -n 1; }

# 1. SASL user burst
t_sasl_burst() {
    local i tok f rc err toks=() why_=""
    for i in 1 2 3 4; do
        tok=$(mw_token burst$i); f=$MW_WORK/$tok
        send_one "$f.out" "$PF_PORT" alice@example.test "$tok" \
            --auth PLAIN --auth-user alice --auth-password alice-secret
        rc=$?
        if [ "$i" -le 3 ]; then
            [ "$rc" = 0 ] || { why_="message $i of alice: swaks exit $rc: $(last_reply "$f.out")"; break; }
            toks+=("$tok")
        else
            err=$(last_reply "$f.out")
            if [ "$rc" != 23 ]; then
                why_="message 4 of alice: swaks exit $rc (23 = refused at MAIL FROM): $err"
            elif [ "$err" != "451 4.7.1 Too much mail from this account (limit per-user)" ]; then
                why_="message 4 of alice got '$err'"
            elif printf '%s' "$err" | grep -qi alice; then
                why_="the reply names the key: $err"
            fi
            not_delivered "$tok" || why_="${why_:-$MW_WHY}"
        fi
    done
    local btok; btok=$(mw_token burst-bob)
    if [ -z "$why_" ]; then
        send_one "$MW_WORK/$btok.out" "$PF_PORT" bob@example.test "$btok" \
            --auth PLAIN --auth-user bob --auth-password bob-secret
        rc=$?
        [ "$rc" = 0 ] || why_="bob was refused: swaks exit $rc: $(last_reply "$MW_WORK/$btok.out")"
    fi
    if [ -z "$why_" ]; then
        for tok in "${toks[@]}" "$btok"; do
            deliver_ok "$tok" "$MW_WORK/$tok.msg" || { why_=$MW_WHY; break; }
        done
    fi
    [ -z "$why_" ] && ! mw_summary_for 'sasl=alice@mta\.test .*RATELIMIT_PER_USER.*action=tempfail' >/dev/null \
        && why_="no summary line with RATELIMIT_PER_USER and action=tempfail for alice"
    if [ -z "$why_" ]; then pass "$N1"; else fail "$N1" "$why_"; fi
}

# 2. recipients per RCPT (python's smtplib goes on after a refused RCPT)
t_rcpts() {
    local tok; tok=$(mw_token rcpts)
    local out=$MW_WORK/$tok.out
    "$MW_PY" - "$PF_PORT" "$tok" >"$out" 2>&1 <<'PY'
import smtplib, sys
port, tok = int(sys.argv[1]), sys.argv[2]
rcpts = ["r%d@remote.test" % i for i in range(1, 7)]
msg = ("From: <bulk@rcpt.example>\r\nTo: <undisclosed@remote.test>\r\nSubject: rcpts %s\r\n"
       "X-MW-Test-Id: %s\r\n\r\nsix recipients\r\n" % (tok, tok))
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
try:
    refused = s.sendmail("bulk@rcpt.example", rcpts, msg)
except smtplib.SMTPRecipientsRefused as e:
    refused = e.recipients
for r in rcpts:
    if r in refused:
        print("REFUSED %s %d %s" % (r, refused[r][0], refused[r][1].decode()))
    else:
        print("ACCEPTED %s" % r)
s.quit()
PY
    local accepted refused4 delivered_to
    accepted=$(grep -c '^ACCEPTED r[1-4]@' "$out")
    refused4=$(grep -cE '^REFUSED r[56]@remote\.test 451 4\.7\.1 Rate limit rcpts exceeded' "$out")
    if [ "$accepted" != 4 ] || [ "$refused4" != 2 ]; then
        fail "$N2" "expected r1..r4 accepted and r5, r6 refused with 451 4.7.1: $(tr '\n' '|' <"$out")"
    elif ! deliver_ok "$tok" "$MW_WORK/$tok.msg"; then
        fail "$N2" "$MW_WHY"
    else
        delivered_to=$(grep -oiE 'r[0-9]@remote\.test' "$MW_WORK/$tok.msg.dump" | sort -u | tr '\n' ' ')
        if [ "$delivered_to" != "r1@remote.test r2@remote.test r3@remote.test r4@remote.test " ]; then
            fail "$N2" "the sink got the message for: $delivered_to (expected r1..r4)"
        else
            pass "$N2"
        fi
    fi
}

# send_series NAME FROM COUNT PORT...: COUNT messages from FROM, round robin over the ports;
# writes "tok rc reply" lines to $MW_WORK/NAME.series
send_series() {
    local name=$1 from=$2 count=$3; shift 3
    local ports=("$@") i tok rc
    : >"$MW_WORK/$name.series"
    for ((i = 0; i < count; i++)); do
        tok=$(mw_token "$name$i")
        send_one "$MW_WORK/$tok.out" "${ports[$((i % ${#ports[@]}))]}" "$from" "$tok"
        rc=$?
        printf '%s %s %s\n' "$tok" "$rc" "$(last_reply "$MW_WORK/$tok.out")" >>"$MW_WORK/$name.series"
        if [ -n "${SERIES_HOOK:-}" ] && [ "$i" = "${SERIES_HOOK_AT:-}" ]; then eval "$SERIES_HOOK"; fi
    done
}
# series_check NAME: sets DELIVERED, TEMPFAILED, OTHER; every rc 0 must be in the sink.
series_check() {
    local tok rc reply
    DELIVERED=0 TEMPFAILED=0 OTHER=""
    mta_wait_queue_empty 60 || { OTHER="queue not empty"; return; }
    while read -r tok rc reply; do
        if [ "$rc" = 0 ]; then
            if [ "$(sink_find "$tok" | grep -c .)" = 1 ]; then
                DELIVERED=$((DELIVERED + 1))
            else
                OTHER="$OTHER $tok accepted but not delivered;"
            fi
        elif printf '%s' "$reply" | grep -qE '^4[0-9][0-9] '; then
            TEMPFAILED=$((TEMPFAILED + 1))
            [ "$(sink_find "$tok" | grep -c .)" = 0 ] || OTHER="$OTHER $tok tempfailed but delivered;"
        else
            OTHER="$OTHER $tok rc $rc reply '$reply';"
        fi
    done <"$MW_WORK/$1.series"
}

# 3. two daemons, one limit
t_fleet() {
    send_series fleet fleet@example.test 8 "$PF_PORT" "$PF2_PORT"
    series_check fleet
    local refused1 refused2
    refused1=$(grep -c 'ratelimit fleet exceeded' "$MW_LOG")
    refused2=$(grep -c 'ratelimit fleet exceeded' "$MW2_LOG")
    if [ -n "$OTHER" ]; then
        fail "$N3" "$OTHER"
    elif [ "$DELIVERED" != 5 ] || [ "$TEMPFAILED" != 3 ]; then
        fail "$N3" "delivered $DELIVERED, tempfailed $TEMPFAILED: $(tr '\n' '|' <"$MW_WORK/fleet.series")"
    elif [ "$refused1" = 0 ] || [ "$refused2" = 0 ]; then
        fail "$N3" "each daemon should have refused at least once (daemon 1: $refused1, daemon 2: $refused2)"
    else
        pass "$N3"
    fi
}

# 3b. parallel connections on one key, half through each daemon
t_parallel() {
    local i tok pids=()
    : >"$MW_WORK/parallel.series"
    for ((i = 0; i < 12; i++)); do
        tok=$(mw_token "par$i")
        (
            port=$PF_PORT; [ $((i % 2)) = 1 ] && port=$PF2_PORT
            send_one "$MW_WORK/$tok.out" "$port" hammer@example.test "$tok"
            rc=$?
            # one short line per writer: appends of < PIPE_BUF bytes do not interleave
            printf '%s %s %s\n' "$tok" "$rc" "$(last_reply "$MW_WORK/$tok.out")" >>"$MW_WORK/parallel.series"
        ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    series_check parallel
    if [ -n "$OTHER" ]; then
        fail "$N3P" "$OTHER"
    elif [ "$DELIVERED" != 5 ] || [ "$TEMPFAILED" != 7 ]; then
        fail "$N3P" "delivered $DELIVERED, tempfailed $TEMPFAILED of 12: $(tr '\n' '|' <"$MW_WORK/parallel.series")"
    else
        pass "$N3P"
    fi
}

# 4. and 5. redis-server killed mid-run, then restarted
t_outage() {
    local before; before=$(grep -c "store redis 127.0.0.1:$REDIS_PORT failed" "$MW_LOG")
    SERIES_HOOK='mw_kill_wait "$REDIS_PID" 5 KILL' SERIES_HOOK_AT=3 \
        send_series outage "outage@example.test" 10 "$PF_PORT"
    series_check outage
    local logged; logged=$(grep -c "store redis 127.0.0.1:$REDIS_PORT failed" "$MW_LOG")
    if [ -n "$OTHER" ]; then
        fail "$N4" "$OTHER"
    elif [ "$DELIVERED" != 4 ] || [ "$TEMPFAILED" != 6 ]; then
        fail "$N4" "delivered $DELIVERED + tempfailed $TEMPFAILED of 10 (expected 4 + 6): $(tr '\n' '|' <"$MW_WORK/outage.series")"
    elif ! mw_alive; then
        fail "$N4" "mailwarden died"
    elif [ $((logged - before)) != 1 ]; then
        fail "$N4" "the outage was logged $((logged - before)) times, expected once"
    else
        pass "$N4"
    fi
    redis_start
    sleep 1.2                                   # past retry_interval
    send_series after "after@example.test" 6 "$PF_PORT"
    series_check after
    if [ -n "$OTHER" ]; then
        fail "$N5" "$OTHER"
    elif [ "$DELIVERED" != 5 ] || [ "$TEMPFAILED" != 1 ]; then
        fail "$N5" "delivered $DELIVERED, tempfailed $TEMPFAILED of 6: $(tr '\n' '|' <"$MW_WORK/after.series")"
    elif ! grep -q "store redis 127.0.0.1:$REDIS_PORT is back" "$MW_LOG"; then
        fail "$N5" "no 'store redis ... is back' line in mailwarden's log"
    elif ! tail -n 1 "$MW_WORK/after.series" | grep -q ' 451 4\.7\.1 Rate limit fleet exceeded'; then
        fail "$N5" "the 6th message was not refused by the fleet limit: $(tail -n 1 "$MW_WORK/after.series")"
    else
        pass "$N5"
    fi
}

t_sasl_burst
t_rcpts
t_fleet
t_parallel
t_outage

# the second daemon stops cleanly too
why2=""
if mw_pid_gone "$MW2_PID"; then
    why2="the second mailwarden died"
else
    kill -TERM "$MW2_PID"
    mw_wait_until 40 mw_pid_gone "$MW2_PID" || why2="the second mailwarden did not exit on SIGTERM"
    wait "$MW2_PID"; rc2=$?
    [ -n "$why2" ] || [ "$rc2" = 0 ] || why2="the second mailwarden exited with $rc2"
fi
if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$MW2_LOG"; then why2="sanitizer report in mailwarden2.log"; fi
cp -f "$MW2_LOG" "$MW_LOGDIR/" 2>/dev/null
if [ -n "$why2" ]; then fail "$NF" "$why2"; else mw_finish "$NF"; fi
