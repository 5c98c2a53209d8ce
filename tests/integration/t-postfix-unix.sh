#!/bin/bash
# Postfix + mailwarden over a unix socket, started as root the way the packages start it:
# the socket gets the configured mode and owner, the daemon drops root to milter.user, writes
# milter.pidfile, mail flows through Postfix with our header, and SIGTERM removes the pidfile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-unix

name="postfix-unix: socket mode and owner, privileges dropped, pidfile, mail flows"
if [ "$(id -u)" != 0 ]; then
    skip "$name" "needs root"
    exit 0
fi
RUN_USER=nobody
RUN_GROUP=$(id -gn postfix)
SOCK_DIR=$MW_WORK/run
mkdir -p "$SOCK_DIR"
chown "$RUN_USER:$RUN_GROUP" "$SOCK_DIR"
chmod 750 "$SOCK_DIR"
MW_SOCKET_PATH=$SOCK_DIR/milter.sock
PIDFILE=$SOCK_DIR/mailwarden.pid

dns_start
MW_PORT=0
mw_policy "$MW_WORK/mailwarden.conf" < <(case_policy_rules)
# the fixture's policy uses an inet socket: point it at the unix socket instead
sed -i "s|socket = \"inet:0@127.0.0.1\"|socket = \"unix:$MW_SOCKET_PATH\"\n  socket_mode = \"0660\"\n  socket_owner = \"$RUN_USER:$RUN_GROUP\"\n  user = \"$RUN_USER\"\n  pidfile = \"$PIDFILE\"|" \
    "$MW_WORK/mailwarden.conf"
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "unix:$MW_SOCKET_PATH"

why_not=""
mode=$(stat -c '%a %U:%G' "$MW_SOCKET_PATH")
[ "$mode" = "660 $RUN_USER:$RUN_GROUP" ] || why_not="socket is '$mode', expected '660 $RUN_USER:$RUN_GROUP'"
uid=$(ps -o user= -p "$MW_PID" | tr -d ' ')
[ -z "$why_not" ] && [ "$uid" != "$RUN_USER" ] && why_not="daemon runs as '$uid', expected $RUN_USER"
[ -z "$why_not" ] && [ "$(cat "$PIDFILE" 2>/dev/null)" != "$MW_PID" ] && why_not="pidfile holds '$(cat "$PIDFILE" 2>/dev/null)', expected $MW_PID"
if [ -z "$why_not" ]; then
    tok=$(mw_token unix)
    mw_msg "$MW_WORK/$tok.eml" "$tok"
    if ! swaks --server 127.0.0.1 --port "$PF_PORT" --from alice@example.test --to bob@remote.test \
            --data "$MW_WORK/$tok.eml" >"$MW_WORK/$tok.swaks" 2>&1; then
        why_not="swaks failed: $(grep -m1 '<\*\*' "$MW_WORK/$tok.swaks")"
    elif ! deliver_ok "$tok" "$MW_WORK/$tok.msg"; then
        why_not="$MW_WHY"
    elif [ "$(our_ar_count "$MW_WORK/$tok.msg.hdr")" != 1 ]; then
        why_not="no Authentication-Results: mw.test header on the delivered message"
    fi
fi
if [ -z "$why_not" ]; then pass "$name"; else fail "$name" "$why_not"; fi

name="postfix-unix: SIGTERM exits 0 and removes the pidfile"
if ! mw_stop; then
    fail "$name" "$MW_WHY"
elif [ -e "$PIDFILE" ]; then
    fail "$name" "the pidfile is still there"
else
    pass "$name"
fi
mw_sanitizer_clean || fail "postfix-unix: no sanitizer reports" "$MW_WHY"
