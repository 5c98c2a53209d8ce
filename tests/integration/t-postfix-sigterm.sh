#!/bin/bash
# Postfix + mailwarden: SIGTERM while messages are in flight loses none.
# 5 connections send 4 messages each (20). The 2nd message of every connection stops in the
# middle of DATA; mailwarden gets SIGTERM while those 5 are open, then they go on.
# Every message must end up accepted (250, then delivered or still queued) or tempfailed (4xx):
# none refused with 5xx, none vanished; mailwarden exits with status 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-sigterm

CONNS=5 PER_CONN=4
SENT=$((CONNS * PER_CONN))

dns_start
mw_port MW_PORT
MW_GRACE=10s mw_policy "$MW_WORK/mailwarden.conf" < <(case_policy_rules)
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

READY=$MW_WORK/ready GO=$MW_WORK/go OUT=$MW_WORK/burst.out
mkdir -p "$READY"
"$MW_PY" "$MW_HELPERS/smtp-client.py" burst --port "$PF_PORT" --connections "$CONNS" \
    --messages "$PER_CONN" --ready-dir "$READY" --go-file "$GO" --tag "$RANDOM" \
    >"$OUT" 2>"$MW_WORK/burst.err" &
CLIENT=$!
mw_on_exit "touch '$GO'; mw_kill_wait $CLIENT 10"

all_ready() { [ "$(find "$READY" -name '*.ready' | wc -l)" -ge "$CONNS" ]; }
if ! mw_wait_until 60 all_ready; then
    fail "postfix: SIGTERM with messages in flight" "only $(find "$READY" -name '*.ready' | wc -l) of $CONNS connections got to the middle of DATA"
    exit 1
fi
note "$(grep -c . "$OUT") messages done before SIGTERM, $CONNS in the middle of DATA"
mw_term
# Let the daemon start shutting down (it should stop listening), then let the clients go on.
mw_wait_until 3 sh -c "! ss -Hltn 'sport = :$MW_PORT' | grep -q ."
touch "$GO"
mw_wait_until 120 mw_pid_gone "$CLIENT" || note "client still running after 120 s"
mw_kill_wait "$CLIENT" 5

name="postfix: SIGTERM: mailwarden exits with status 0 within its shutdown grace"
if mw_wait_exit 40 && [ "$MW_EXIT" = 0 ]; then
    pass "$name"
else
    fail "$name" "exit status '${MW_EXIT:-still running after 40 s}': $(tail -n 3 "$MW_LOG" | tr '\n' ' ')"
    [ -n "$MW_PID" ] && { kill -KILL "$MW_PID"; wait "$MW_PID"; MW_PID=""; }
fi

pf_wait_queue_empty 60 || note "queue still holds $(pf_queue_count) files"

accepted=$(awk -F'\t' '$2 == "accepted"' "$OUT" | wc -l)
tempfail=$(awk -F'\t' '$2 == "tempfail"' "$OUT" | wc -l)
other=$(awk -F'\t' '$2 != "accepted" && $2 != "tempfail"' "$OUT")
total=$(grep -c . "$OUT")
note "sent $SENT: $accepted accepted, $tempfail tempfailed, $((total - accepted - tempfail)) other"

lost="" dup=""
while IFS=$'\t' read -r tok res _code _text qid; do
    if [ "$res" = accepted ]; then
        if [ -z "$(sink_find "$tok")" ] && ! { [ -n "$qid" ] && pf_in_queue "$qid"; }; then
            lost="$lost $tok($qid)"
        fi
    elif [ -n "$(sink_find "$tok")" ]; then
        dup="$dup $tok"
    fi
done <"$OUT"

name="postfix: SIGTERM: no message lost: accepted + tempfailed == sent, none refused with 5xx"
if [ "$total" != "$SENT" ]; then
    fail "$name" "$total results for $SENT messages (client: $(tail -n 1 "$MW_WORK/burst.err"))"
elif [ -n "$other" ]; then
    fail "$name" "not accepted nor tempfailed: $(printf '%s\n' "$other" | head -n 3 | tr '\t\n' ' |')"
elif [ $((accepted + tempfail)) != "$SENT" ]; then
    fail "$name" "$accepted accepted + $tempfail tempfailed != $SENT"
elif [ -n "$lost" ]; then
    fail "$name" "accepted (250) but neither delivered nor queued:$lost"
elif [ -n "$dup" ]; then
    fail "$name" "tempfailed but delivered anyway:$dup"
else
    pass "$name"
fi

name="postfix: SIGTERM: the $CONNS transactions in flight at SIGTERM were completed (250)"
inflight=$(awk -F'\t' '$1 ~ /^burst-[0-9]+-01-/' "$OUT")
ok=$(printf '%s\n' "$inflight" | awk -F'\t' '$2 == "accepted"' | wc -l)
if [ "$ok" = "$CONNS" ]; then
    pass "$name"
else
    fail "$name" "$ok of $CONNS accepted: $(printf '%s\n' "$inflight" | awk -F'\t' '$2 != "accepted" { print $1, $3, $4 }' | head -n 2 | tr '\n' '|')"
fi

name="postfix: SIGTERM: no sanitizer reports"
if mw_sanitizer_clean; then pass "$name"; else fail "$name" "$MW_WHY"; fi
