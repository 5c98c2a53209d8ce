#!/bin/bash
# tests/build/test-readme-commands.sh CHECKOUT - runs README.md's two set-up commands as an
# admin would, on fresh clones of CHECKOUT's HEAD, in both orders: the daemon command (build,
# then run the daemon with the shipped policy) and then the test command, and the test command
# first and then the daemon command. The daemon must answer a milter option negotiation on
# 127.0.0.1:8891 and stop cleanly on SIGTERM; the test command runs only its build phase here
# (MW_TEST_PHASES=build: configure and make out of tree), which is what an in-tree build used
# to break. Prints TAP lines ("ok - ", "not ok - "). Needs root, git, and port 8891 free.
# Note: the clones hold what is committed; uncommitted changes are not tried.
set -u
checkout=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
work=$(mktemp -d /tmp/mw-readme.XXXXXX)
chmod 755 "$work"
daemon_pid=""
cleanup() {
    [ -n "$daemon_pid" ] && kill -TERM -- "-$daemon_pid" 2>/dev/null
    [ -n "$daemon_pid" ] && wait "$daemon_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '#   %s\n' "$@"; }

if ! git -C "$checkout" rev-parse --git-dir >/dev/null 2>&1; then
    not_ok "README commands: $checkout is not a git checkout"
    exit 1
fi
# The first two command lines of README.md: indented by four spaces, in order.
mapfile -t commands < <(grep -E '^    [^ ]' "$checkout/README.md" | head -n 2 | sed -E 's/^    //')
daemon_cmd=${commands[0]:-}
test_cmd=${commands[1]:-}
case $daemon_cmd in *mailwarden*-c*) ;; *) not_ok "README's first command runs the daemon" "$daemon_cmd"; exit 1 ;; esac
case $test_cmd in *tests/run-all.sh*) ;; *) not_ok "README's second command runs the tests" "$test_cmd"; exit 1 ;; esac

port_listening() { [ -n "$(ss -Hltn 'sport = :8891' 2>/dev/null)" ]; }

# Speaks milter option negotiation (SMFIC_OPTNEG, protocol 6) to 127.0.0.1:8891 and checks the
# reply is an SMFIC_OPTNEG too.
milter_answers() {
    /usr/bin/python3 - <<'EOF'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", 8891), timeout=10)
body = b"O" + struct.pack(">III", 6, 0x1FF, 0x1FFFFF)
s.sendall(struct.pack(">I", len(body)) + body)
head = s.recv(4, socket.MSG_WAITALL)
if len(head) != 4:
    sys.exit("no reply")
n = struct.unpack(">I", head)[0]
reply = s.recv(n, socket.MSG_WAITALL)
sys.exit(0 if reply[:1] == b"O" else "reply %r" % reply[:1])
EOF
}

# run_daemon_command CLONE LABEL: runs the README's daemon command in CLONE in its own process
# group, waits (up to 10 minutes: it builds first) until the daemon answers, then stops it.
run_daemon_command() {
    local clone=$1 label=$2 log=$work/$2-daemon.log i
    (cd "$clone" && exec setsid bash -c "$daemon_cmd") >"$log" 2>&1 </dev/null &
    daemon_pid=$!
    for ((i = 0; i < 600; i++)); do
        port_listening && break
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 1
    done
    if ! port_listening; then
        not_ok "$label: the daemon command starts the daemon on 127.0.0.1:8891" "$(tail -n 15 "$log")"
        kill -TERM -- "-$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; daemon_pid=""
        return 1
    fi
    if milter_answers; then
        ok "$label: the daemon command's daemon answers a milter negotiation"
    else
        not_ok "$label: the daemon command's daemon answers a milter negotiation" "$(tail -n 5 "$log")"
    fi
    # SIGTERM to the daemon only (the bash of the command is its parent in the group).
    pkill -TERM -g "$daemon_pid" -x mailwarden
    for ((i = 0; i < 60; i++)); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$daemon_pid" 2>/dev/null; then
        not_ok "$label: the daemon stops on SIGTERM" "$(tail -n 5 "$log")"
        kill -KILL -- "-$daemon_pid" 2>/dev/null
    else
        ok "$label: the daemon stops on SIGTERM"
    fi
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=""
}

# run_test_command CLONE LABEL: the README's test command, build phase only.
run_test_command() {
    local clone=$1 label=$2 log=$work/$2-tests.log
    (cd "$clone" && MW_TEST_PHASES=build bash -c "$test_cmd") >"$log" 2>&1 </dev/null
    local rc=$? last
    last=$(tail -n 1 "$log")
    if [ "$rc" -eq 0 ] && [[ $last =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
        ok "$label: the test command builds (\"$last\")"
    else
        not_ok "$label: the test command builds (exit $rc)" "$(tail -n 20 "$log")"
    fi
}

if port_listening; then
    not_ok "README commands: port 8891 is free for the daemon command" "$(ss -Hltnp 'sport = :8891')"
    exit 1
fi

git clone -q "$checkout" "$work/daemon-first" || { not_ok "git clone $checkout"; exit 1; }
run_daemon_command "$work/daemon-first" "daemon command first"
run_test_command "$work/daemon-first" "then test command"

git clone -q "$checkout" "$work/tests-first" || { not_ok "git clone $checkout"; exit 1; }
run_test_command "$work/tests-first" "test command first"
run_daemon_command "$work/tests-first" "then daemon command"
