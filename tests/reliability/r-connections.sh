#!/bin/bash
# tests/reliability/r-connections.sh - many milter connections open at the same moment.
# helpers/milter-hold.py opens MW_REL_CONNECTIONS (short and long: 1000) connections to the
# daemon, keeps every one open until all have the answer to CONNECT, then sends one transaction
# on each. Shows:
#   * below milter.max_connections every connection is served: CONNECT continues and every
#     transaction gets a final answer; none is dropped;
#   * above it (max_connections = MW_REL_CONNECTIONS / 10) exactly max_connections are served
#     and every other one gets the documented temporary failure "421 4.3.2 Too many
#     connections to the mail filter", with a warning in the log; none is dropped;
#   * afterwards the connection count went back to zero: a new set of exactly max_connections
#     is served in full, and the daemon holds no more descriptors than before the run.
. "$(dirname "$0")/lib.sh"
mw_init r-connections

rl_size MW_REL_CONNECTIONS 1000 1000
K=$MW_REL_CONNECTIONS
LIMIT=$((K / 10))
[ "$LIMIT" -ge 1 ] || LIMIT=1
# each connection costs a descriptor in the client and one in the daemon, plus their own
rl_check_ulimit $((K + 256)) || die "$MW_WHY"

dns_start
mw_port MW_PORT

# start_daemon MAX: (re)starts the daemon with milter.max_connections = MAX; sets FD_IDLE.
start_daemon() {
    mw_stop_quiet
    mw_policy "$MW_WORK/mailwarden.conf" <<EOF
EOF
    # the held connections wait for each other: never let the daemon time them out first
    rl_policy_timeout "$MW_WORK/mailwarden.conf" 10m
    sed -i -E "s/^  shutdown_grace = /  max_connections = $1\n  shutdown_grace = /" "$MW_WORK/mailwarden.conf"
    grep -q "max_connections = $1" "$MW_WORK/mailwarden.conf" || die "could not set max_connections"
    mw_start "$MW_WORK/mailwarden.conf"
    # one connection and transaction first, so lazily opened descriptors (DNS) are counted
    "$MW_PY" "$MW_REL_HELPERS/milter-hold.py" --port "$MW_PORT" --connections 1 >"$MW_WORK/warm.out" 2>&1 \
        || die "one milter connection failed: $(head -c 300 "$MW_WORK/warm.out")"
    mw_wait_until 30 sh -c "[ \$(ss -Htn state established '( sport = :$MW_PORT )' | grep -c .) = 0 ]"
    FD_IDLE=$(rl_fds "$MW_PID")
    note "daemon pid $MW_PID, max_connections $1, $FD_IDLE descriptors when idle"
}

# hold NAME N: N connections at once; output in $MW_WORK/NAME.out, counts in CONT/TEMP/...
hold() {
    local name=$1 n=$2 start
    start=$(date +%s)
    "$MW_PY" "$MW_REL_HELPERS/milter-hold.py" --port "$MW_PORT" --connections "$n" \
        >"$MW_WORK/$name.out" 2>"$MW_WORK/$name.err"
    HOLD_RC=$?
    note "$name: $n connections in $(( $(date +%s) - start ))s: $(cut -f2,3 "$MW_WORK/$name.out" | grep -v '^open-together' | sort | uniq -c | tr -s ' ' | tr '\t\n' '/;')"
    TOGETHER=$(sed -n 's/^open-together //p' "$MW_WORK/$name.out")
    LINES=$(grep -c $'^[0-9]*\t' "$MW_WORK/$name.out")
    SERVED=$(awk -F'\t' '$2 == "continue" && ($3 == "continue" || $3 == "accept")' "$MW_WORK/$name.out" | wc -l)
    REFUSED=$(awk -F'\t' '$2 == "tempfail" && $3 == "-" && $4 ~ /^421 4\.3\.2 Too many connections to the mail filter/' "$MW_WORK/$name.out" | wc -l)
    ERRORS=$(awk -F'\t' '$2 == "error" || $3 == "error"' "$MW_WORK/$name.out" | wc -l)
    OTHER=$(awk -F'\t' '/^[0-9]/ && !($2 == "continue" && ($3 == "continue" || $3 == "accept")) && !($2 == "tempfail" && $3 == "-")' "$MW_WORK/$name.out" | head -n 3 | tr '\t\n' ' |')
}

# --- below the limit: all served -----------------------------------------------------------
start_daemon 1024
if [ "$K" -ge 1024 ]; then
    die "MW_REL_CONNECTIONS must stay below the default max_connections 1024 for the first case"
fi
hold below "$K"
name="connections: $K milter connections open at once below max_connections (1024): every one served, none dropped"
if [ "$LINES" != "$K" ]; then
    fail "$name" "$LINES answers for $K connections (client exit $HOLD_RC: $(tail -n 2 "$MW_WORK/below.err" | tr '\n' ' '))"
elif [ "$TOGETHER" != "$K" ]; then
    fail "$name" "only $TOGETHER connections were open together"
elif [ "$ERRORS" != 0 ] || [ "$SERVED" != "$K" ]; then
    fail "$name" "$SERVED served, $ERRORS without an answer; e.g. $OTHER"
else
    pass "$name"
fi

name="connections: after $K connections the daemon is back to its idle descriptors ($FD_IDLE)"
if rl_wait_idle "$MW_PID" "$MW_PORT" "$FD_IDLE" 60; then
    pass "$name"
else
    fail "$name" "$(rl_fds "$MW_PID") descriptors open 60 s later: $(rl_fd_list "$MW_PID")"
fi

# --- above the limit: the documented tempfail --------------------------------------------
start_daemon "$LIMIT"
hold above "$K"
name="connections: $K at once with max_connections $LIMIT: $LIMIT served, $((K - LIMIT)) get 421 4.3.2, none dropped"
if [ "$LINES" != "$K" ]; then
    fail "$name" "$LINES answers for $K connections (client exit $HOLD_RC: $(tail -n 2 "$MW_WORK/above.err" | tr '\n' ' '))"
elif [ "$TOGETHER" != "$K" ]; then
    fail "$name" "only $TOGETHER connections were open together"
elif [ "$ERRORS" != 0 ]; then
    fail "$name" "$ERRORS connections without an answer; e.g. $OTHER"
elif [ "$SERVED" != "$LIMIT" ] || [ "$REFUSED" != $((K - LIMIT)) ]; then
    fail "$name" "$SERVED served and $REFUSED refused with '421 4.3.2 Too many connections'; other: $OTHER"
else
    pass "$name"
fi

name="connections: refusals over max_connections are logged as warnings"
if assert_contains "$MW_LOG" "warning: more than milter.max_connections \\($LIMIT\\) connections: tempfail"; then
    pass "$name"; else fail "$name" "$MW_WHY"; fi

name="connections: the count goes back to zero: then $LIMIT connections at once are all served, descriptors back to $FD_IDLE"
if ! rl_wait_idle "$MW_PID" "$MW_PORT" "$FD_IDLE" 60; then
    fail "$name" "$(rl_fds "$MW_PID") descriptors open 60 s after the run: $(rl_fd_list "$MW_PID")"
else
    hold again "$LIMIT"
    if [ "$SERVED" = "$LIMIT" ] && [ "$LINES" = "$LIMIT" ]; then
        pass "$name"
    else
        fail "$name" "$SERVED of $LIMIT served ($REFUSED refused, $ERRORS without answer): the daemon still counts closed connections"
    fi
fi

mw_finish "connections: mailwarden still runs, exits 0 on SIGTERM, no sanitizer report"
