#!/bin/bash
# tests/reliability/r-sigkill.sh - kill -9 of mailwarden under load through a real Postfix with
# milter_default_action = tempfail. helpers/smtp-load.py sends messages (one in four from a
# deny-listed sender) over MW_REL_CLIENTS connections, at least MW_REL_MESSAGES in all; the daemon
# is killed with SIGKILL MW_REL_KILLS times while they flow (each time once a further
# MW_REL_MESSAGES/(MW_REL_KILLS+1) are done and at least one was accepted since the last
# restart), stays down until Postfix has tempfailed at least one message, and is started
# again. Shows, by the unique X-MW-Test-Id of each message:
#   * every message got an SMTP answer: none without one (a dropped session);
#   * every message accepted with 250 was delivered to the sink exactly once, with our
#     Authentication-Results (it went through the filter);
#   * every message refused (4xx tempfail, or the policy's 550 for the deny-listed sender)
#     was not delivered; a deny-listed sender was never accepted;
#   * messages got through before, between and after the kills.
. "$(dirname "$0")/lib.sh"
. "$MW_SRCDIR/tests/integration/cases.sh"
mw_init r-sigkill

rl_size MW_REL_MESSAGES 240 5000
rl_size MW_REL_CLIENTS 8 16
rl_size MW_REL_KILLS 2 10
N=$MW_REL_MESSAGES
DENY_TEXT="5.7.1 Sender spammer blocked by test policy"   # with code 550

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" < <(case_policy_rules)
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"
grep -q '^milter_default_action = tempfail$' "$PF_DIR/etc/main.cf" || die "Postfix's milter_default_action is not tempfail"

rl_phase "Postfix and mailwarden ready"
OUT=$MW_WORK/load.out PROGRESS=$MW_WORK/load.progress STOP=$MW_WORK/load.stop
"$MW_PY" "$MW_REL_HELPERS/smtp-load.py" --port "$PF_PORT" --connections "$MW_REL_CLIENTS" \
    --stop-file "$STOP" --tag "kill$RANDOM" --progress-file "$PROGRESS" \
    --sender alice@example.test:3 --sender spammer@bad.test:1 --backoff 0.5 >"$OUT" 2>"$MW_WORK/load.err" &
CLIENT=$!
mw_on_exit "touch '$STOP'; mw_kill_wait $CLIENT 10"

done_count() { cat "$PROGRESS" 2>/dev/null || echo 0; }
accepted_count() { awk -F'\t' '$3 == "accepted"' "$OUT" | wc -l; }
tempfails() { awk -F'\t' '$3 == "tempfail"' "$OUT" | wc -l; }
# phase_done DONE ACCEPTED: this phase has its share of messages and at least one accepted
phase_done() { [ "$(done_count)" -ge "$1" ] && [ "$(accepted_count)" -gt "$2" ]; }
more_tempfails_than() { [ "$(tempfails)" -gt "$1" ]; }

# KILLS+1 phases of about N/(KILLS+1) messages each; a kill -9 ends every phase but the last
PER_PHASE=$((N / (MW_REL_KILLS + 1)))
killed=0 flowed=0
for ((k = 0; k <= MW_REL_KILLS; k++)); do
    mw_pid_gone "$CLIENT" && die "the load client stopped early: $(tail -n 2 "$MW_WORK/load.err")"
    if ! mw_wait_until 600 phase_done $(($(done_count) + PER_PHASE)) "$(accepted_count)"; then
        note "phase $k: no message accepted in 600 s"
        break
    fi
    flowed=$((flowed + 1))
    [ "$k" = "$MW_REL_KILLS" ] && break
    before=$(tempfails)
    kill -KILL "$MW_PID"
    wait "$MW_PID" 2>/dev/null
    MW_PID=""
    killed=$((killed + 1))
    rl_phase "kill -9 number $killed at $(done_count) messages done"
    # down until Postfix has answered at least one message with its milter_default_action
    mw_wait_until 120 more_tempfails_than "$before" || die "no tempfail within 120 s of kill -9 (Postfix did not notice?)"
    rl_mw_restart
done
touch "$STOP"
mw_wait_until 300 mw_pid_gone "$CLIENT" || note "the load client still runs 300 s after it was told to stop"
mw_kill_wait "$CLIENT" 5
N=$(done_count)
rl_phase "load done"
pf_wait_queue_empty 180 || note "Postfix's queue still holds $(pf_queue_count) files"
rl_sink_counts "$MW_WORK/sink.counts"
rl_phase "queue empty, sink counted"

accepted=$(awk -F'\t' '$3 == "accepted"' "$OUT" | wc -l)
tempfail=$(tempfails)
rejected=$(awk -F'\t' '$3 == "reject"' "$OUT" | wc -l)
errors=$(awk -F'\t' '$3 == "error"' "$OUT" | wc -l)
lines=$(grep -c . "$OUT")
note "measured: $N messages, $killed kill -9: $accepted accepted, $tempfail tempfailed, $rejected rejected, $errors without an answer"

name="sigkill: $killed x kill -9 under load: all $N messages got an SMTP answer, none dropped"
if [ "$killed" != "$MW_REL_KILLS" ]; then
    fail "$name" "the load ended before kill number $((killed + 1)) of $MW_REL_KILLS"
elif [ "$lines" != "$N" ]; then
    fail "$name" "$lines outcomes for $N messages (client: $(tail -n 2 "$MW_WORK/load.err" | tr '\n' ' '))"
elif [ "$errors" != 0 ]; then
    fail "$name" "$errors without an answer: $(awk -F'\t' '$3 == "error" { print $1, $5 }' "$OUT" | head -n 3 | tr '\n' '|')"
else
    pass "$name"
fi

# each token: its outcome and how many times the sink got it
join -a1 -e 0 -o 1.1,1.2,1.3,1.4,1.5,2.2 -t $'\t' \
    <(awk -F'\t' '{ print $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5 }' "$OUT" | sort -t $'\t' -k1,1) \
    <(tr ' ' '\t' <"$MW_WORK/sink.counts" | sort -t $'\t' -k1,1) >"$MW_WORK/fates.out"
unknown=$(join -v2 -t $'\t' <(cut -f1 "$OUT" | sort) <(cut -d' ' -f1 "$MW_WORK/sink.counts" | sort) | head -n 3 | tr '\n' ' ')

name="sigkill: every message accepted with 250 was delivered exactly once"
bad=$(awk -F'\t' '$3 == "accepted" && $6 != 1 { print $1 " delivered " $6 " times" }' "$MW_WORK/fates.out" | head -n 5 | tr '\n' '|')
if [ "$accepted" = 0 ]; then
    fail "$name" "no message was accepted at all"
elif [ -n "$bad" ]; then
    fail "$name" "$bad"
elif [ -n "$unknown" ]; then
    fail "$name" "the sink got messages the client never sent: $unknown"
else
    pass "$name"
fi

name="sigkill: no message refused with 4xx or 5xx was delivered; the deny-listed sender was never accepted"
bad=$(awk -F'\t' '$3 != "accepted" && $6 != 0 { print $1 " (" $4 ") delivered " $6 " times" }' "$MW_WORK/fates.out" | head -n 5 | tr '\n' '|')
badreject=$(awk -F'\t' -v t="$DENY_TEXT" '$3 == "reject" && ($2 != "spammer@bad.test" || $4 != 550 || index($5, t) != 1) { print $1, $2, $5 }' "$OUT" | head -n 3 | tr '\n' '|')
spam_ok=$(awk -F'\t' '$2 == "spammer@bad.test" && $3 == "accepted" { print $1 }' "$OUT" | head -n 3 | tr '\n' ' ')
if [ -n "$bad" ]; then
    fail "$name" "$bad"
elif [ -n "$spam_ok" ]; then
    fail "$name" "spammer@bad.test accepted: $spam_ok"
elif [ -n "$badreject" ]; then
    fail "$name" "unexpected 5xx: $badreject"
elif [ "$tempfail" -lt "$killed" ]; then
    fail "$name" "only $tempfail tempfailed for $killed kills: the kills did not hit the traffic"
else
    pass "$name"
fi

name="sigkill: every delivered message carries our Authentication-Results (none passed without the filter)"
missing=$(grep -rLiE '^Authentication-Results: *mw\.test *;' "$SINK_DIR" | head -n 5 | tr '\n' ' ')
if [ "$(find "$SINK_DIR" -type f | wc -l)" -lt "$accepted" ]; then
    fail "$name" "the sink holds fewer messages than were accepted"
elif [ -z "$missing" ]; then pass "$name"; else fail "$name" "without it: $missing"; fi

name="sigkill: mail was accepted again after each of the $MW_REL_KILLS restarts"
if [ "$flowed" = $((MW_REL_KILLS + 1)) ]; then pass "$name"; else
    fail "$name" "no message was accepted within 600 s after restart number $flowed"; fi

mw_finish "sigkill: the restarted mailwarden exits 0 on SIGTERM, no sanitizer report"
