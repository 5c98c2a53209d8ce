#!/bin/bash
# Postfix + mailwarden: SIGHUP reloads. A policy file with a syntax error keeps the running policy
# (mail flows, the deny rule still applies) and the log names the file and the line; so does an
# emptied policy file (it would have put built-in defaults in force); a good changed policy then
# takes effect without a restart and the log says, at notice level, what changed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-reload

CONF=$MW_WORK/mailwarden.conf

policy_v1() {
    cat <<'EOF'
access = (
  { name = "blocked"; match = "sender"; values = [ "spammer@bad.test" ];
    action = "reject"; reply = "550 5.7.1 Sender spammer blocked by test policy" }
)
EOF
}
# Broken: no rule for spammer@bad.test (had it been applied, spammer's mail would pass) and a
# line that is not libconfig.
policy_broken() {
    cat <<'EOF'
access = (
  { name = "other"; match = "sender"; values = [ "other@bad.test" ];
    action = "reject"; reply = "550 5.7.1 Other blocked by test policy" }
)
this line is a syntax error
EOF
}
policy_v2() {
    cat <<'EOF'
access = (
  { name = "blocked-new"; match = "sender"; values = [ "newspammer@bad.test" ];
    action = "reject"; reply = "550 5.7.1 Newspammer blocked by test policy v2" },
  { name = "blocked-third"; match = "sender"; values = [ "third@bad.test" ];
    action = "reject"; reply = "550 5.7.1 Third blocked by test policy v2" }
)
greylist: { enabled = false }
EOF
}

# send NAME FROM: one message from FROM; sets RC, ERR, TOK, F
send() {
    TOK=$(mw_token "$1")
    F=$MW_WORK/$TOK
    mw_msg "$F.eml" "$TOK"
    mw_swaks "$F.out" --from "$2" --to bob@remote.test --data "@$F.eml"
    RC=$?
    ERR=$(swaks_errors "$F.out" | head -n 1)
}
# flows NAME: a message from alice is accepted and delivered with our header
flows() {
    send "$1" alice@example.test
    [ "$RC" = 0 ] || { why "mail from alice: swaks exit $RC: $ERR"; return 1; }
    deliver_ok "$TOK" "$F.msg" || return 1
    [ "$(our_ar_count "$F.msg.hdr")" = 1 ] || { why "no Authentication-Results mw.test on mail from alice"; return 1; }
}
# refused NAME FROM TEXT: FROM is refused at MAIL FROM with TEXT, nothing delivered
refused() {
    send "$1" "$2"
    [ "$RC" = 23 ] && [ "$ERR" = "$3" ] || { why "mail from $2: swaks exit $RC, reply '$ERR', expected 23 and '$3'"; return 1; }
    not_delivered "$TOK"
}
# accepted NAME FROM: FROM's mail is accepted and delivered
accepted() {
    send "$1" "$2"
    [ "$RC" = 0 ] || { why "mail from $2: swaks exit $RC: $ERR"; return 1; }
    deliver_ok "$TOK" "$F.msg"
}

dns_start
mw_port MW_PORT
mw_policy "$CONF" < <(policy_v1)
mw_start "$CONF"
PID0=$MW_PID
sink_start
pf_start "$MW_PORT"

name="postfix: reload: policy v1 in force before any SIGHUP"
if flows v1ok && refused v1deny spammer@bad.test "550 5.7.1 Sender spammer blocked by test policy"; then
    pass "$name"; else fail "$name" "$MW_WHY"; fi

# --- SIGHUP with a broken file -----------------------------------------------------------
cp "$CONF" "$MW_WORK/mailwarden.conf.v1"
mw_policy "$CONF" < <(policy_broken)
BAD_LINE=$(grep -n '^this line is a syntax error' "$CONF" | cut -d: -f1)
LOG_BEFORE=$(wc -l <"$MW_LOG")
mw_hup
# The daemon logs why it kept the old policy, naming the file and the line: "file:line",
# "file line N", "file, line N", "file: ... line N" are all fine.
LINE_RE="$(basename "$CONF")(:| line |, line |:.*line )$BAD_LINE([^0-9]|\$)"
log_names_line() { tail -n +"$((LOG_BEFORE + 1))" "$MW_LOG" | grep -qE "$LINE_RE"; }
mw_wait_until 10 log_names_line
tail -n +"$((LOG_BEFORE + 1))" "$MW_LOG" >"$MW_WORK/hup-broken.log"

name="postfix: reload: SIGHUP with a syntax error keeps the daemon running"
if mw_alive && [ "$MW_PID" = "$PID0" ]; then pass "$name"; else
    fail "$name" "mailwarden exited: $(tail -n 3 "$MW_LOG" | tr '\n' ' ')"
    exit 1
fi

name="postfix: reload: after the broken SIGHUP mail flows and the old deny rule still applies"
if flows brokenok && refused brokendeny spammer@bad.test "550 5.7.1 Sender spammer blocked by test policy" \
   && accepted brokenother other@bad.test; then
    pass "$name"; else fail "$name" "$MW_WHY"; fi

name="postfix: reload: the log names the broken file and line $BAD_LINE"
if grep -qE "$LINE_RE" "$MW_WORK/hup-broken.log"; then
    pass "$name"
else
    fail "$name" "no log line names $(basename "$CONF") and line $BAD_LINE; the daemon logged: $(head -c 400 "$MW_WORK/hup-broken.log" | tr '\n' '|')"
fi

# --- SIGHUP with an emptied file ---------------------------------------------------------
: >"$CONF"
LOG_BEFORE=$(wc -l <"$MW_LOG")
mw_hup
log_has_empty_error() { tail -n +"$((LOG_BEFORE + 1))" "$MW_LOG" | grep -q "the policy has no setting at all"; }
mw_wait_until 10 log_has_empty_error
tail -n +"$((LOG_BEFORE + 1))" "$MW_LOG" >"$MW_WORK/hup-empty.log"

name="postfix: reload: SIGHUP with an empty file keeps the old policy (its deny rule still rejects)"
if mw_alive && [ "$MW_PID" = "$PID0" ] && flows emptyok \
   && refused emptydeny spammer@bad.test "550 5.7.1 Sender spammer blocked by test policy"; then
    pass "$name"; else fail "$name" "${MW_WHY:-mailwarden is not the same running process}"; fi

name="postfix: reload: the log says the empty file has no setting and nothing was installed"
if grep -qE "$(basename "$CONF"): -: the policy has no setting at all" "$MW_WORK/hup-empty.log" \
   && grep -qE "error: reload: .*$(basename "$CONF") has 1 error" "$MW_WORK/hup-empty.log" \
   && ! grep -q "reload: policy from .* in force" "$MW_WORK/hup-empty.log"; then
    pass "$name"
else
    fail "$name" "the daemon logged: $(head -c 600 "$MW_WORK/hup-empty.log" | tr '\n' '|')"
fi

# --- SIGHUP with a good, changed file ---------------------------------------------------
mw_policy "$CONF" < <(policy_v2)
LOG_BEFORE=$(wc -l <"$MW_LOG")
mw_hup
# The reload is asynchronous: probe with the new deny-listed sender until it is refused.
probe_new_rule() {
    send v2probe newspammer@bad.test
    [ "$RC" = 23 ]
}
mw_wait_until 15 probe_new_rule
mta_wait_queue_empty 30

name="postfix: reload: SIGHUP with a good changed policy takes effect without a restart"
if ! mw_alive || [ "$MW_PID" != "$PID0" ]; then
    fail "$name" "mailwarden is not the same running process"
elif refused v2deny newspammer@bad.test "550 5.7.1 Newspammer blocked by test policy v2" \
     && accepted v2old spammer@bad.test && flows v2ok; then
    pass "$name"
else
    fail "$name" "$MW_WHY"
fi

tail -n +"$((LOG_BEFORE + 1))" "$MW_LOG" >"$MW_WORK/hup-v2.log"
name="postfix: reload: the good reload logs the summary of changes at notice level"
if grep -q "notice: reload: changed: sections added: greylist" "$MW_WORK/hup-v2.log" \
   && grep -q "notice: reload: changed: access rules: 1 -> 2" "$MW_WORK/hup-v2.log" \
   && grep -q "notice: reload: policy summary: sections: .*greylist; 1 file, 2 access rules," "$MW_WORK/hup-v2.log"; then
    pass "$name"
else
    fail "$name" "the daemon logged: $(grep 'reload' "$MW_WORK/hup-v2.log" | head -c 800 | tr '\n' '|')"
fi

mw_finish "postfix-reload: mailwarden exits 0 on SIGTERM, no sanitizer reports"
