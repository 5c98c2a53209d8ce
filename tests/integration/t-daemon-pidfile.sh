#!/bin/bash
# mailwarden started as root with milter.user and a pidfile in a directory that user owns (as the
# packages set it up): whatever that user planted at the pidfile's path (a symbolic link or a hard
# link to a root file, a FIFO) makes the start fail with an error naming the pidfile, and the
# root file keeps its content, owner and mode. A plain stale pidfile is still overwritten.
. "$(dirname "$0")/lib.sh"
mw_init t-daemon-pidfile

RUN_USER=nobody
RUN_DIR=$MW_WORK/run
mkdir -p "$RUN_DIR"
chown "$RUN_USER" "$RUN_DIR"
chmod 755 "$RUN_DIR"
PIDFILE=$RUN_DIR/mailwarden.pid
# the root file the service user must never get: outside its directory, on the same file system
TARGET=$MW_WORK/precious
dns_start
mw_port MW_PORT
CONF=$MW_WORK/mailwarden.conf
mw_policy "$CONF" </dev/null
sed -i "s|^  socket = .*|&\n  user = \"$RUN_USER\"\n  pidfile = \"$PIDFILE\"|" "$CONF"

fresh_target() {
    rm -f "$TARGET"
    printf 'root:precious line\n' >"$TARGET"
    chown root:root "$TARGET"
    chmod 0600 "$TARGET"
    TARGET_BEFORE="$(stat -c '%U:%G %a %s %i' "$TARGET") $(md5sum <"$TARGET")"
}
target_state() { echo "$(stat -c '%U:%G %a %s %i' "$TARGET") $(md5sum <"$TARGET")"; }
target_changed() { [ "$(target_state)" != "$TARGET_BEFORE" ]; }

# start_refused NAME: starts the daemon; passes when it exits non-zero with an error naming the
# pidfile and the target is untouched. A daemon that runs on is stopped.
start_refused() {
    local name=$1 log=$MW_WORK/start-$2.log
    "$MW_BIN" -f -c "$CONF" >"$log" 2>&1 &
    local pid=$!
    # exits (the fix) or has written through the planted path (the defect), whichever comes
    # first; a daemon stuck on a FIFO does neither
    mw_wait_until 20 eval "mw_pid_gone $pid || target_changed"
    local why_not=""
    if ! mw_pid_gone "$pid"; then
        # still running: give it the time to write its pidfile, then stop it
        mw_wait_until 10 eval "target_changed || [ -s '$PIDFILE' ]"
        mw_kill_wait "$pid" 15
        why_not="the daemon started (exit expected)"
    else
        wait "$pid"; local rc=$?
        [ "$rc" != 0 ] || why_not="the daemon exited 0"
        grep -qF "$PIDFILE" "$log" || why_not="${why_not:+$why_not; }no error naming $PIDFILE: $(tail -n 2 "$log" | tr '\n' ' ')"
    fi
    target_changed && why_not="${why_not:+$why_not; }the target changed: '$TARGET_BEFORE' -> '$(target_state)'"
    cat "$log" >>"$MW_WORK/mailwarden.log"
    if [ -z "$why_not" ]; then pass "$name"; else fail "$name" "$why_not"; fi
}

fresh_target
ln -s "$TARGET" "$PIDFILE"; chown -h "$RUN_USER" "$PIDFILE"
start_refused "daemon-pidfile: a symbolic link as the pidfile is refused, its target untouched" symlink
grep -q 'symbolic link' "$MW_WORK/start-symlink.log" \
    && pass "daemon-pidfile: the error says the pidfile is a symbolic link" \
    || fail "daemon-pidfile: the error says the pidfile is a symbolic link" "$(cat "$MW_WORK/start-symlink.log" | tail -n 2 | tr '\n' ' ')"
rm -f "$PIDFILE"

fresh_target
ln "$TARGET" "$PIDFILE"
start_refused "daemon-pidfile: a hard link to a root file as the pidfile is refused, the file untouched" hardlink
rm -f "$PIDFILE"

fresh_target
mkfifo "$PIDFILE"; chown "$RUN_USER" "$PIDFILE"
start_refused "daemon-pidfile: a FIFO as the pidfile is refused at once" fifo
rm -f "$PIDFILE"

# a stale pidfile of a earlier run (a plain file of the service user) is replaced
name="daemon-pidfile: a stale plain pidfile is overwritten with the new pid"
echo 99999 >"$PIDFILE"; chown "$RUN_USER" "$PIDFILE"
mw_start "$CONF"
if mw_wait_until 10 eval '[ "$(cat "$PIDFILE" 2>/dev/null)" = "$MW_PID" ]'; then
    pass "$name"
else
    fail "$name" "pidfile holds '$(cat "$PIDFILE" 2>/dev/null)', expected $MW_PID"
fi
mw_finish "daemon-pidfile: the daemon stops on SIGTERM"
