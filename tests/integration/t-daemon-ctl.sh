#!/bin/bash
# mailwarden-ctl on the daemon's control socket, with Postfix in front: `reload` of a good
# changed policy exits 0, prints what changed and the new rule applies at once (no waiting: the
# reload is synchronous); `reload` of a broken policy exits 1, prints the errors as
# file:line: option: reason and the old policy keeps serving; `status` names the version, the
# policy generation and file, connections, transactions, store and DNS health; `stats` prints
# the counters; `test-key` checks a key file against its DNS record; `flush-dns-cache` really
# empties the cache (a record changed in DNS is seen only after it); a user outside the control
# group is refused, by the socket's mode and, with the mode opened, by SO_PEERCRED; a user whose
# group is the control group is served. A daemon that drops to milter.user = nobody: the
# socket is nobody's; test-key and reload read the key as nobody, so a key file only root may
# read makes test-key and reload fail (the reload naming the policy file and line) while the
# old policy keeps serving - the refused reload that `systemctl reload` used to report as done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-daemon-ctl

CONF=$MW_WORK/mailwarden.conf
SOCK=$MW_WORK/mailwarden.control.sock
CTL=$MW_WORK/mailwarden-ctl       # a copy every user can run (the build dir may be private)
cp "$MW_BUILDDIR/filter/mailwarden-ctl" "$CTL" && chmod 755 "$CTL" || die "cannot copy mailwarden-ctl"
KEYGEN=$MW_BUILDDIR/filter/mailwarden-keygen

# Two keys; DNS first publishes key "one"'s record for selector sel.
mkdir -p "$MW_WORK/keys"
record_of() { # KEYGEN_OUTPUT: the TXT record's strings joined
    sed -n '/^# DNS TXT record/,/^# dkim.keys/p' "$1" | grep -o '"[^"]*"' | tr -d '"' | tr -d '\n'
}
for k in one two; do
    "$KEYGEN" -d example.test -s sel -t ed25519 -o "$MW_WORK/keys/$k.key" >"$MW_WORK/keygen-$k.out" \
        || die "mailwarden-keygen failed"
done
publish() { # KEY: sel._domainkey.example.test publishes KEY's public key
    printf 'sel._domainkey.example.test. 300 IN TXT "%s"\n' "$(record_of "$MW_WORK/keygen-$1.out")" \
        >"$MW_WORK/dns.zone.new"
    mv "$MW_WORK/dns.zone.new" "$MW_WORK/dns.zone"
}
publish one

access_rules() { # the access list; with "v2" a second rule
    echo 'access = ('
    echo '  { name = "blocked"; match = "sender"; values = [ "spammer@bad.test" ];'
    echo '    action = "reject"; reply = "550 5.7.1 Sender spammer blocked by test policy" }'
    [ "${1:-}" != v2 ] || {
        echo '  ,{ name = "blocked-new"; match = "sender"; values = [ "newspammer@bad.test" ];'
        echo '    action = "reject"; reply = "550 5.7.1 Newspammer blocked by test policy v2" }'
    }
    echo ')'
}
policy_v1() {
    access_rules
    cat <<EOF
dkim: {
  keys = ( { name = "k"; domain = "example.test"; selector = "sel"; file = "$MW_WORK/keys/one.key" } )
}
EOF
}
policy_v2() {
    access_rules v2
    cat <<EOF
dkim: {
  keys = ( { name = "k"; domain = "example.test"; selector = "sel"; file = "$MW_WORK/keys/one.key" } )
}
EOF
}

# send FROM: one message from FROM; sets RC, ERR, TOK, F
send() {
    TOK=$(mw_token ctl)
    F=$MW_WORK/$TOK
    mw_msg "$F.eml" "$TOK"
    mw_swaks "$F.out" --from "$1" --to bob@remote.test --data "@$F.eml"
    RC=$?
    ERR=$(swaks_errors "$F.out" | head -n 1)
}
refused() { # FROM TEXT
    send "$1"
    [ "$RC" = 23 ] && [ "$ERR" = "$2" ] || { why "mail from $1: swaks exit $RC, reply '$ERR', expected 23 and '$2'"; return 1; }
}
accepted() { # FROM
    send "$1"
    [ "$RC" = 0 ] || { why "mail from $1: swaks exit $RC: $ERR"; return 1; }
}

# ctl NAME ARGS...: runs mailwarden-ctl, output in $OUT, exit status in $RC
ctl() {
    local name=$1; shift
    OUT=$MW_WORK/ctl-$name.out
    timeout 60 "$CTL" -s "$SOCK" "$@" >"$OUT" 2>&1
    RC=$?
    { echo "### mailwarden-ctl $* -> $RC"; cat "$OUT"; } >>"$MW_WORK/ctl-runs.log"
}
# has PATTERN...: the last output matches every extended regex
has() {
    local p
    for p in "$@"; do
        grep -qE -- "$p" "$OUT" || { why "mailwarden-ctl output lacks /$p/: $(head -c 600 "$OUT" | tr '\n' '|')"; return 1; }
    done
}

dns_start
mw_port MW_PORT
mw_policy "$CONF" < <(policy_v1)
mw_start "$CONF"
sink_start
pf_start "$MW_PORT"

name="ctl: the control socket is mode 0660, owned by the daemon's group"
if [ "$(stat -c %a "$SOCK")" = 660 ] && [ "$(stat -c %g "$SOCK")" = 0 ]; then pass "$name"
else fail "$name" "$(stat -c '%a %U:%G' "$SOCK")"; fi

ctl status1 status
name="ctl: status exits 0 with version, uptime, policy generation 1 and its file, counts, store and DNS"
if [ "$RC" = 0 ] && has "^version: [0-9]" "^uptime: [0-9]+ s" "^policy: generation 1, loaded [0-9T:-]+Z from $CONF\$" \
    "^connections: [0-9]+\$" "^transactions: [0-9]+\$" "^rules: " "^store default: memory: up\$" "^dns: up: probe com NS: " \
    "^dns queries: [0-9]+ answered, [0-9]+ servfail, [0-9]+ timeout, [0-9]+ error\$" "^dns last failure: "; then
    pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi

name="ctl: policy v1 in force: spammer refused, newspammer accepted"
if refused spammer@bad.test "550 5.7.1 Sender spammer blocked by test policy" && accepted newspammer@bad.test; then
    pass "$name"; else fail "$name" "$MW_WHY"; fi

# --- reload of a good changed policy: synchronous, so the new rule applies on return ---
mw_policy "$CONF" < <(policy_v2)
ctl reload-good reload
name="ctl: reload of a good policy exits 0 and prints what changed and the new generation"
if [ "$RC" = 0 ] && has "^changed: access rules: 1 -> 2\$" "^installed: generation 2 from $CONF\$" "^summary: sections: "; then
    pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
name="ctl: once reload has returned, the new policy decides (newspammer refused)"
if refused newspammer@bad.test "550 5.7.1 Newspammer blocked by test policy v2"; then pass "$name"
else fail "$name" "$MW_WHY"; fi

# --- reload of a broken policy: refused, errors with file and line, old policy serves ---
mw_policy "$CONF" < <(policy_v1; echo 'this line is a syntax error')
BAD_LINE=$(grep -n '^this line is a syntax error' "$CONF" | cut -d: -f1)
ctl reload-broken reload
name="ctl: reload of a broken policy exits 1 and prints file:line: option: reason"
if [ "$RC" = 1 ] && has "^$CONF:$BAD_LINE: [^ ]+: syntax error" "^refused: 1 error; the policy in force \\(generation 2\\) stays in force\$" \
    && ! grep -q '^installed:' "$OUT"; then
    pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
name="ctl: after the refused reload the old policy keeps serving (newspammer still refused)"
if mw_alive && refused newspammer@bad.test "550 5.7.1 Newspammer blocked by test policy v2" \
    && accepted alice@example.test; then pass "$name"; else fail "$name" "${MW_WHY:-mailwarden died}"; fi
ctl status2 status
name="ctl: status after the refused reload: still generation 2, one reload refused"
if [ "$RC" = 0 ] && has "^policy: generation 2, " "^reloads refused: 1\$"; then pass "$name"
else fail "$name" "exit $RC; ${MW_WHY:-}"; fi

# SIGHUP still reloads (the same entry point, serialised with the control socket's reloads)
mw_policy "$CONF" < <(policy_v2)
mw_hup
gen3() { ctl status-hup status; grep -q "^policy: generation 3, " "$OUT"; }
name="ctl: SIGHUP still reloads: status shows generation 3"
if mw_wait_until 20 gen3; then pass "$name"; else fail "$name" "$(head -c 300 "$OUT" | tr '\n' '|')"; fi

ctl stats stats
name="ctl: stats exits 0 with name value lines"
if [ "$RC" = 0 ] && has "^connections_open [0-9]+\$" "^transactions_in_flight [0-9]+\$" "^policy_generation 3\$" \
    "^reloads_refused 1\$" "^shadow_would_have_reject [0-9]+\$" && ! grep -vqE '^[a-z_]+ [0-9]+$' "$OUT"; then
    pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi

# --- test-key and flush-dns-cache ---
ctl testkey1 test-key k
name="ctl: test-key k exits 0: the key file loads and DNS publishes its key"
if [ "$RC" = 0 ] && has "^k: $MW_WORK/keys/one.key loads \\(ed25519, 256 bits\\)" "^k: sel._domainkey.example.test TXT: matches "; then
    pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
ctl testkey-none test-key nosuchkey
name="ctl: test-key of a name not in dkim.keys exits 1 and says so"
if [ "$RC" = 1 ] && has "^nosuchkey: no key of that name in dkim.keys"; then pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi

publish two            # DNS now has key two's record; the daemon has key one's cached (TTL 300)
ctl testkey-cached test-key k
name="ctl: before flush-dns-cache the daemon still answers from its cache (record of key one)"
if [ "$RC" = 0 ] && has "TXT: matches "; then pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
ctl flush flush-dns-cache
name="ctl: flush-dns-cache exits 0"
if [ "$RC" = 0 ] && has "^DNS cache flushed"; then pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
ctl testkey-flushed test-key k
name="ctl: after flush-dns-cache test-key sees the changed record and exits 1 (does NOT match)"
if [ "$RC" = 1 ] && has "TXT: does NOT match $MW_WORK/keys/one.key"; then pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
name="ctl: mail still flows after the flush (the new resolver serves)"
if accepted alice@example.test; then pass "$name"; else fail "$name" "$MW_WHY"; fi

# --- permissions ---
as_nobody() { # GROUP ARGS...: mailwarden-ctl as user nobody with only GROUP
    local group=$1; shift
    OUT=$MW_WORK/ctl-nobody.out
    timeout 30 setpriv --reuid=nobody --regid="$group" --clear-groups "$CTL" -s "$SOCK" "$@" >"$OUT" 2>&1
    RC=$?
}
as_nobody nogroup status
name="ctl: a user outside the daemon's group is refused by the socket's mode (exit 77)"
if [ "$RC" = 77 ] && has "Permission denied"; then pass "$name"; else fail "$name" "exit $RC: $(head -c 300 "$OUT")"; fi

as_nobody 0 status
name="ctl: a user whose group is the daemon's group is served"
if [ "$RC" = 0 ] && has "^version: "; then pass "$name"; else fail "$name" "exit $RC: $(head -c 300 "$OUT")"; fi

chmod 0666 "$SOCK"     # open the file mode: the daemon's own check (SO_PEERCRED) must still refuse
LOG_BEFORE=$(wc -l <"$MW_LOG")
as_nobody nogroup reload
name="ctl: with the socket opened to all, SO_PEERCRED still refuses an outsider (exit 77, logged, no reload)"
if [ "$RC" = 77 ] && has "permission denied" \
    && tail -n +"$((LOG_BEFORE + 1))" "$MW_LOG" | grep -q "control: refused a client (uid $(id -u nobody)" \
    && ! tail -n +"$((LOG_BEFORE + 1))" "$MW_LOG" | grep -q "reload: policy from"; then
    pass "$name"; else fail "$name" "exit $RC: $(head -c 300 "$OUT")"; fi

ctl bad-request reload now
name="ctl: a malformed command is a usage error (exit 64) and never reaches the daemon"
if [ "$RC" = 64 ] && has "reload takes no argument"; then pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
# the daemon's own refusal of a request it does not understand
timeout 10 "$MW_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"relaod\n")
sys.stdout.write(s.makefile("r").read())' "$SOCK" >"$MW_WORK/raw.out" 2>&1
name="ctl: the daemon answers an unknown command with ERROR and a reason"
if grep -qx 'ERROR unknown command "relaod" (use reload, status, stats, test-key NAME or flush-dns-cache)' "$MW_WORK/raw.out"; then
    pass "$name"; else fail "$name" "$(head -c 300 "$MW_WORK/raw.out")"; fi

mw_finish "ctl: mailwarden exits 0 on SIGTERM, no sanitizer reports"
name="ctl: the daemon removes its control socket when it stops"
if [ ! -e "$SOCK" ]; then pass "$name"; else fail "$name" "$SOCK is still there"; fi

# --- a daemon that drops root: the commands run as milter.user ---
RUN2=$MW_WORK/run2                # nobody's directory: the daemon removes its socket there
mkdir -p "$RUN2" && chown nobody:nogroup "$RUN2"
cp "$MW_WORK/keys/two.key" "$RUN2/k.key"       # DNS publishes key two now
chown nobody "$RUN2/k.key" && chmod 0600 "$RUN2/k.key"
CONF2=$RUN2/mailwarden.conf
SOCK=$RUN2/mailwarden.control.sock
printf 'dkim: {\n  keys = ( { name = "k"; domain = "example.test"; selector = "sel"; file = "%s" } )\n}\n' \
    "$RUN2/k.key" | mw_policy "$CONF2"
sed -i 's|^  socket = .*|&\n  user = "nobody"\n  group = "nogroup"|' "$CONF2"
mw_start "$CONF2"

name="ctl: with milter.user nobody the socket belongs to nobody and its group nogroup, mode 0660"
if [ "$(stat -c '%U:%G %a' "$SOCK")" = "nobody:nogroup 660" ]; then pass "$name"
else fail "$name" "$(stat -c '%U:%G %a' "$SOCK")"; fi

ctl testkey-user test-key k
name="ctl: test-key as the daemon's user: nobody reads its key and DNS matches"
if [ "$RC" = 0 ] && has "TXT: matches $RUN2/k.key"; then pass "$name"; else fail "$name" "exit $RC; ${MW_WHY:-}"; fi

chown root "$RUN2/k.key"          # now only root may read it: the daemon's user cannot
ctl testkey-root test-key k
name="ctl: test-key fails (exit 1) for a key file the daemon's user cannot read"
if [ "$RC" = 1 ] && has "^k: .*$RUN2/k.key" && ! grep -q "TXT: matches" "$OUT"; then pass "$name"
else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
ctl reload-rootkey reload
KEY_LINE=$(grep -n 'name = "k"' "$CONF2" | cut -d: -f1)
name="ctl: reload with a key only root can read exits 1 naming the policy file, line and dkim.keys"
if [ "$RC" = 1 ] && has "^$CONF2:$KEY_LINE: dkim.keys: " "^refused: "; then pass "$name"
else fail "$name" "exit $RC; ${MW_WHY:-}"; fi
ctl status-rootkey status
name="ctl: after that refused reload the policy in force is still generation 1"
if [ "$RC" = 0 ] && has "^policy: generation 1, " "^reloads refused: 1\$"; then pass "$name"
else fail "$name" "exit $RC; ${MW_WHY:-}"; fi

mw_finish "ctl: the daemon running as nobody exits 0 on SIGTERM, no sanitizer reports"
name="ctl: the daemon running as nobody removes its control socket when it stops"
if [ ! -e "$SOCK" ]; then pass "$name"; else fail "$name" "$SOCK is still there"; fi
