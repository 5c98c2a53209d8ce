# shellcheck shell=bash disable=SC2034
# tests/reliability/lib.sh - what the reliability tests add to tests/integration/lib.sh (which
# they source for the private Postfix, the sink, the stub DNS server, free ports, polling and
# the exit trap): the short/long sizes, the daemon's resident memory and open descriptors read
# from /proc, and a wait for the daemon to go idle. Every test stops what it started.
#
# Environment (see README.md): MW_REL_MODE=short|long picks the default sizes; each MW_REL_*
# size can be set on its own.

# shellcheck source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
MW_RELDIR=$MW_SRCDIR/tests/reliability
MW_REL_HELPERS=$MW_RELDIR/helpers
: "${MW_REL_MODE:=short}"

# rl_size VAR SHORT LONG: VAR keeps a value from the environment, else the mode's default.
rl_size() {
    local var=$1 short=$2 long=$3
    if [ -z "${!var:-}" ]; then
        if [ "$MW_REL_MODE" = long ]; then printf -v "$var" '%s' "$long"; else printf -v "$var" '%s' "$short"; fi
    fi
    case ${!var} in ''|*[!0-9]*) die "$var must be a whole number, not '${!var}'" ;; esac
    note "$var=${!var}"
}

# rl_fds PID: the number of descriptors PID has open.
rl_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# rl_rss_kb PID: PID's resident memory in kB (VmRSS).
rl_rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
# rl_fd_list PID: what the descriptors point to, one per line (for failure messages).
rl_fd_list() {
    local f
    for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 8 | tr -s ' ' | tr '\n' ';'
}

# rl_mta_connections PORT: TCP connections to PORT on this host (the MTA's, or a client's).
rl_connections_to() { ss -Htn state established "( sport = :$1 )" 2>/dev/null | grep -c .; }

# rl_wait_idle PID PORT LIMIT [TIMEOUT]: polls until no connection to PORT is open and PID has
# at most LIMIT descriptors; 1 on timeout (the caller then reports what is open).
# (globals, not locals: mw_wait_until's own locals would hide a local named like them)
rl_wait_idle() {
    RL_IDLE_PID=$1 RL_IDLE_PORT=$2 RL_IDLE_FDS=$3
    mw_wait_until "${4:-60}" rl_idle
}
rl_idle() {
    [ "$(rl_connections_to "$RL_IDLE_PORT")" = 0 ] && [ "$(rl_fds "$RL_IDLE_PID")" -le "$RL_IDLE_FDS" ]
}

# rl_policy_timeout FILE DURATION: sets milter.timeout in a policy written by mw_policy.
rl_policy_timeout() { sed -i -E "s/^  timeout = \"30s\"/  timeout = \"$2\"/" "$1"; }

# rl_check_ulimit NEEDED: raises the soft descriptor limit of this shell (and so of the daemon
# and the clients it starts) to NEEDED when it is lower; 1 when the hard limit is lower.
rl_check_ulimit() {
    local need=$1 soft hard
    soft=$(ulimit -Sn) hard=$(ulimit -Hn)
    [ "$soft" = unlimited ] && return 0
    [ "$soft" -ge "$need" ] && return 0
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
        ulimit -Sn "$need" && note "raised the open-files limit from $soft to $need" && return 0
    fi
    why "ulimit -n is $soft (hard $hard), $need descriptors are needed: raise the hard limit"
}

# rl_sink_counts OUT: "TOKEN COUNT" for every X-MW-Test-Id in the sink's dumps, sorted.
rl_sink_counts() {
    grep -rh '^X-MW-Test-Id: ' "$SINK_DIR" 2>/dev/null | tr -d '\r' | awk '{ print $2 }' \
        | sort | uniq -c | awk '{ print $2, $1 }' | sort >"$1"
}

# rl_mw_restart: starts the daemon again with the policy of the last mw_start (which already
# passed `mailwarden -t`), without checking it again: a restart after kill -9 is quick.
rl_mw_restart() {
    "$MW_BIN" -f -c "$MW_CONF" >>"$MW_LOG" 2>&1 &
    MW_PID=$!
    mw_wait_until 20 mw_ready "$MW_PORT" || die "mailwarden did not listen on $MW_PORT again: $(tail -n 3 "$MW_LOG")"
}

# rl_phase TEXT: a note with the seconds since the test started, so the log shows where the
# time goes.
RL_T0=$(date +%s.%N)
rl_phase() { note "[+$(awk -v a="$RL_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s] $*"; }
