#!/bin/bash
# Postfix + mailwarden over a unix socket: a second mailwarden started on the socket the first
# one serves refuses to start, with an error naming the pidfile and the first one's pid; the first
# keeps its socket and mail still flows through it. A stale socket (nothing answers) is replaced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-socket-in-use

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
CONF=$MW_WORK/mailwarden.conf
mw_policy "$CONF" < <(case_policy_rules)
sed -i "s|socket = \"inet:0@127.0.0.1\"|socket = \"unix:$MW_SOCKET_PATH\"\n  socket_mode = \"0660\"\n  socket_owner = \"$RUN_USER:$RUN_GROUP\"\n  user = \"$RUN_USER\"\n  pidfile = \"$PIDFILE\"|" "$CONF"

# a socket left by a process that is gone: nothing answers on it
"$MW_PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$MW_SOCKET_PATH"
[ -S "$MW_SOCKET_PATH" ] || die "could not make a stale socket"
mw_start "$CONF"
name="socket-in-use: a stale socket is replaced"
answers() { "$MW_PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$MW_SOCKET_PATH" 2>"$MW_WORK/stale.err"; }
# polled: a slow (sanitizer) build may still be starting when mw_start returns
if mw_wait_until 30 answers; then
    pass "$name"
else
    fail "$name" "nothing answers on the socket: $(tail -n 1 "$MW_WORK/stale.err")"
fi

sink_start
pf_start "unix:$MW_SOCKET_PATH"

# flows WHAT: a message through Postfix is delivered with our Authentication-Results
flows() {
    local tok; tok=$(mw_token "$1")
    mw_msg "$MW_WORK/$tok.eml" "$tok"
    mw_swaks "$MW_WORK/$tok.out" --from alice@example.test --to bob@remote.test --data "@$MW_WORK/$tok.eml" \
        || { why "swaks exit $?: $(swaks_errors "$MW_WORK/$tok.out" | head -n 1)"; return 1; }
    deliver_ok "$tok" "$MW_WORK/$tok.msg" || return 1
    [ "$(our_ar_count "$MW_WORK/$tok.msg.hdr")" = 1 ] || { why "no Authentication-Results mw.test header"; return 1; }
}

name="socket-in-use: mail flows through the first instance"
if flows first; then pass "$name"; else fail "$name" "$MW_WHY"; fi

FIRST_INODE=$(stat -c %i "$MW_SOCKET_PATH")
socket_replaced() { [ "$(stat -c %i "$MW_SOCKET_PATH" 2>/dev/null)" != "$FIRST_INODE" ]; }
name="socket-in-use: a second start on the same socket fails naming the pidfile and the pid"
SECOND_LOG=$MW_WORK/second.log
"$MW_BIN" -f -c "$CONF" >"$SECOND_LOG" 2>&1 &
second=$!
mw_wait_until 20 eval "mw_pid_gone $second || socket_replaced"
why_not=""
if ! mw_pid_gone "$second"; then
    why_not="the second instance runs (socket replaced: $(socket_replaced && echo yes || echo no))"
    mw_kill_wait "$second" 15      # its stop removes the socket, as it does in the field
else
    wait "$second"; rc=$?
    [ "$rc" != 0 ] || why_not="the second instance exited 0"
    grep -F "$PIDFILE" "$SECOND_LOG" | grep -qw "$MW_PID" \
        || why_not="${why_not:+$why_not; }no error naming $PIDFILE and pid $MW_PID: $(tail -n 2 "$SECOND_LOG" | tr '\n' ' ')"
fi
cat "$SECOND_LOG" >>"$MW_WORK/mailwarden.log"
if [ -z "$why_not" ]; then pass "$name"; else fail "$name" "$why_not"; fi

name="socket-in-use: the first instance keeps its socket and mail still flows through it"
if ! mw_alive; then
    fail "$name" "the first instance died"
elif socket_replaced; then
    fail "$name" "the socket is gone or not the first instance's any more"
elif ! flows after; then
    fail "$name" "$MW_WHY"
else
    pass "$name"
fi
mw_finish "socket-in-use: the first instance stops on SIGTERM"
