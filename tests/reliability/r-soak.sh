#!/bin/bash
# tests/reliability/r-soak.sh - a soak: tests/bench/mwload keeps the daemon busy (concurrency
# MW_REL_SOAK_CLIENTS, the ham/spam/rules test messages, Debian's SpamAssassin rules when
# installed) in rounds of MW_REL_SOAK_MESSAGES messages. After the warm-up (MW_REL_SOAK_WARMUP
# messages, same concurrency: the worker threads, their malloc arenas and the caches are made
# then; with rules, the Hyperscan prefilter is compiled then, once: the soak waits for it and
# runs the warm-up again with it in use) and after each of the MW_REL_SOAK_ROUNDS rounds, once
# no connection is open, the
# daemon's resident memory (VmRSS) and open descriptors (/proc/PID/fd) are sampled. Shows:
#   * every message of every round got an answer (no protocol or socket error);
#   * RSS after the last round is at most RSS after warm-up + 10% + 4 MB (MW_REL_RSS_PCT,
#     MW_REL_RSS_KB): a leak of L bytes per message shows once L x messages passes that;
#   * the descriptors after the last round are at most those after warm-up + 2 (MW_REL_FD_SLACK).
# The RSS check is skipped for a sanitizer build (ASan's quarantine holds freed memory).
. "$(dirname "$0")/lib.sh"
. "$MW_SRCDIR/tests/integration/cases.sh"
mw_init r-soak

rl_size MW_REL_SOAK_CLIENTS 8 16
rl_size MW_REL_SOAK_WARMUP 2000 20000
rl_size MW_REL_SOAK_ROUNDS 4 20
rl_size MW_REL_SOAK_MESSAGES 2000 20000
rl_size MW_REL_RSS_PCT 10 10
rl_size MW_REL_RSS_KB 4096 4096
rl_size MW_REL_FD_SLACK 2 2
MWLOAD=$MW_BUILDDIR/tests/bench/mwload
[ -x "$MWLOAD" ] || die "no $MWLOAD: build it first (make)"
SA=${MW_SA_RULES:-/usr/share/spamassassin}

dns_start
mw_port MW_PORT
RULES=""
if compgen -G "$SA/*.cf" >/dev/null; then
    RULES="rules: { files = [ \"$SA/*.cf\" ] }"
else
    note "no SpamAssassin rules in $SA: the soak runs without rules (apt-get install spamassassin)"
fi
{ case_policy_rules; echo "$RULES"; } | MW_LOGLEVEL=notice mw_policy "$MW_WORK/mailwarden.conf"
sed -i 's/^  summary = true/  summary = false/' "$MW_WORK/mailwarden.conf"
mw_start "$MW_WORK/mailwarden.conf"
rl_phase "mailwarden ready"

MSGS=()
for d in "$MW_SRCDIR"/tests/measure/corpus/ham "$MW_SRCDIR"/tests/measure/corpus/spam \
         "$MW_SRCDIR"/tests/rules/messages "$MW_SRCDIR"/tests/spam/messages; do
    [ -d "$d" ] && MSGS+=(-f "$d")
done

# round NAME COUNT: one mwload run; ROUND_OK=1 when every message got an answer
round() {
    local out=$MW_WORK/$1.mwload
    "$MWLOAD" -s "inet:$MW_PORT@127.0.0.1" -c "$MW_REL_SOAK_CLIENTS" -m 10 -n "$2" -T 120 \
        -a 198.51.100.0/24 -a 192.0.2.10 "${MSGS[@]}" -q >"$out" 2>&1
    local rc=$?
    ROUND_OK=0
    if [ "$rc" = 0 ] && grep -qE "^RESULT msgs=$2 .* error=0 " "$out"; then ROUND_OK=1; fi
    [ "$ROUND_OK" = 1 ] || ROUND_WHY="$1: mwload exit $rc: $(tail -n 3 "$out" | tr '\n' ' ' | cut -c1-300)"
}
# sample NAME MESSAGES: once idle, appends "NAME MESSAGES RSS FDS HWM" to the table
sample() {
    rl_wait_idle "$MW_PID" "$MW_PORT" 1000000 60 \
        || note "$1: connections still open after 60 s: $(ss -Htn state established "( sport = :$MW_PORT )" | head -n 3 | tr -s " " | tr "\n" ";")"
    local rss fds hwm
    rss=$(rl_rss_kb "$MW_PID") fds=$(rl_fds "$MW_PID")
    hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$MW_PID/status")
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rss" "$fds" "$hwm" >>"$MW_WORK/samples.out"
    rl_phase "$1: after $2 messages: RSS $rss kB, $fds descriptors, peak RSS $hwm kB"
}

printf 'when\tmessages\trss_kb\tfds\thwm_kb\n' >"$MW_WORK/samples.out"
sample start 0
round warmup "$MW_REL_SOAK_WARMUP"
all_ok=$ROUND_OK all_why=${ROUND_WHY:-}
done_msgs=$MW_REL_SOAK_WARMUP
# The prefilter compiles once per policy (tens of seconds of CPU for the stock rules, started by
# the 50th message): memory it takes is not growth; wait for it, then warm up with it in use.
prefilter_ready() { grep -q "rules: Hyperscan prefilter ready" "$MW_LOG"; }
if "$MW_BIN" -t -c "$MW_WORK/mailwarden.conf" 2>&1 | grep -q "Hyperscan prefilter waiting"; then
    sample compiling "$done_msgs"
    mw_wait_until 900 prefilter_ready || { all_ok=0; all_why="the Hyperscan prefilter was not ready after 900 s"; }
    rl_phase "prefilter: $(grep -o 'rules: Hyperscan prefilter ready.*' "$MW_LOG" | head -n 1)"
    round warmup2 "$MW_REL_SOAK_WARMUP"
    [ "$ROUND_OK" = 1 ] || { all_ok=0; all_why=$ROUND_WHY; }
    done_msgs=$((done_msgs + MW_REL_SOAK_WARMUP))
fi
sample warmup "$done_msgs"
warm_msgs=$done_msgs
RSS_WARM=$(rl_rss_kb "$MW_PID") FD_WARM=$(rl_fds "$MW_PID")
for ((r = 1; r <= MW_REL_SOAK_ROUNDS; r++)); do
    round "round$r" "$MW_REL_SOAK_MESSAGES"
    [ "$ROUND_OK" = 1 ] || { all_ok=0; all_why=$ROUND_WHY; }
    done_msgs=$((done_msgs + MW_REL_SOAK_MESSAGES))
    sample "round$r" "$done_msgs"
    mw_alive || break
done
RSS_END=$(rl_rss_kb "$MW_PID") FD_END=$(rl_fds "$MW_PID")
RSS_LIMIT=$((RSS_WARM + RSS_WARM * MW_REL_RSS_PCT / 100 + MW_REL_RSS_KB))
note "measured: $done_msgs messages; RSS $RSS_WARM kB after warm-up, $RSS_END kB at the end (limit $RSS_LIMIT); descriptors $FD_WARM -> $FD_END"

name="soak: every one of $done_msgs messages got an answer"
if [ "$all_ok" = 1 ] && mw_alive; then pass "$name"; else fail "$name" "${all_why:-the daemon died}"; fi

name="soak: resident memory after $((done_msgs - warm_msgs)) messages past warm-up at most +$MW_REL_RSS_PCT% + $MW_REL_RSS_KB kB"
if ldd "$MW_BIN" 2>/dev/null | grep -qE 'libasan|libtsan|libmsan'; then
    skip "$name" "sanitizer build: ASan's quarantine keeps freed memory resident"
elif [ -z "$RSS_END" ]; then
    fail "$name" "no sample at the end"
elif [ "$RSS_END" -le "$RSS_LIMIT" ]; then
    pass "$name"
else
    fail "$name" "RSS grew from $RSS_WARM kB to $RSS_END kB (limit $RSS_LIMIT): $(cut -f1,3 "$MW_WORK/samples.out" | tail -n +2 | tr '\t\n' '=,')"
fi

name="soak: open descriptors after the last round at most warm-up + $MW_REL_FD_SLACK"
if [ -n "$FD_END" ] && [ "$FD_END" -le $((FD_WARM + MW_REL_FD_SLACK)) ]; then pass "$name"; else
    fail "$name" "descriptors went from $FD_WARM to ${FD_END:-?}: $(rl_fd_list "$MW_PID")"; fi

mw_finish "soak: mailwarden exits 0 on SIGTERM, no sanitizer report"
