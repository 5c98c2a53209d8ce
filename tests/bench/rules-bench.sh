#!/bin/bash
# tests/bench/rules-bench.sh - CPU per message of the rules with every stock SpamAssassin rule
# (/usr/share/spamassassin/*.cf), in one run, on the same messages of about 2 KB and 20 KB:
#   mailwarden  tests/bench/rules-cpu: mailwarden-check's engine (every check of the policy, the
#               rules included) looping over the messages, CPU from getrusage; with the Hyperscan
#               prefilter (waited for before timing) and with PCRE2 alone
#   spamd       Debian's SpamAssassin 4.0.1, `spamd -L` (no network tests), Bayes off
#               (use_bayes 0), one child; each message through spamc; CPU = utime + stime of
#               spamd and its children from /proc/PID/stat, before and after
#   rspamd      Debian's rspamd 3.4 (installed here with apt-get when missing), its stock
#               configuration with Redis and DNS-based modules off as far as a local.d can;
#               each message through rspamc; CPU of all rspamd processes from /proc, before/after
# The messages are made from tests/measure/corpus (each body repeated to the size), so all three
# read the same bytes. Prints a Markdown table for docs/PERFORMANCE.md. A benchmark, not a test:
# nothing is compared with a threshold.
#
# usage: MW_BUILDDIR=/path/to/build bash tests/bench/rules-bench.sh [--messages N] [--rounds R]
#        [--daemons "mailwarden spamd rspamd"] [--keep]
# Needs root (spamd and rspamd drop to their users), spamassassin, and rspamd.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${MW_SRCDIR:-$(cd "$here/../.." && pwd)}
build=$(cd "${MW_BUILDDIR:-.}" && pwd)
messages=20
rounds=5
daemons="mailwarden spamd rspamd"
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --messages) messages=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --daemons) daemons=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "usage: rules-bench.sh [--messages N] [--rounds R] [--daemons LIST] [--keep]" >&2; exit 64 ;;
    esac
done
sa=/usr/share/spamassassin
ls "$sa"/*.cf >/dev/null 2>&1 || { echo "no SpamAssassin rules in $sa (apt-get install spamassassin)" >&2; exit 1; }
case " $daemons " in *" rspamd "*)
    command -v rspamd >/dev/null || apt-get install -y rspamd >/dev/null ||
        { echo "cannot install rspamd" >&2; exit 1; } ;;
esac
make -C "$build" tests/bench/rules-cpu >/dev/null || exit 1

work=$(mktemp -d /tmp/rules-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    [ "$keep" = 1 ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# --- the messages: corpus bodies repeated to ~2 KB and ~20 KB ---
/usr/bin/python3 - "$src/tests/measure/corpus" "$work" "$messages" <<'PY'
import os, sys
corpus, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.join(d, f) for d in (os.path.join(corpus, "spam"), os.path.join(corpus, "ham"))
               for f in os.listdir(d))
for size in (2048, 20480):
    out = os.path.join(work, "m%d" % (size // 1024))
    os.makedirs(out)
    for i in range(n):
        raw = open(files[i % len(files)], "rb").read().replace(b"\r\n", b"\n")
        head, _, body = raw.partition(b"\n\n")
        body = body or b"hello\n"
        text = body
        while len(head) + len(text) < size:
            text += body
        text = text[: max(size - len(head) - 2, len(body))]
        if not text.endswith(b"\n"):
            text += b"\n"
        open(os.path.join(out, "%03d.eml" % i), "wb").write(head + b"\n\n" + text)
PY

# CPU seconds (utime + stime) of the processes whose command line matches $1, from /proc
proc_cpu() {
    local pattern=$1 total=0 pid ticks
    ticks=$(getconf CLK_TCK)
    for pid in $(pgrep -f "$pattern"); do
        [ -r "/proc/$pid/stat" ] || continue
        total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
    done
    echo "scale=6; $total / $ticks" | bc
}
per_msg_ms() { echo "scale=3; ($2 - $1) * 1000 / $3" | bc; }

declare -A result
count=$((messages * rounds))

# --- mailwarden ---
if [[ " $daemons " == *" mailwarden "* ]]; then
    cat >"$work/mw.conf" <<EOF
networks: { internal = [ ] }
spam: { rdns = false }
rules: { files = [ "$sa/*.cf" ] }
EOF
    out=$("$build/tests/bench/rules-cpu" -c "$work/mw.conf" --rounds "$rounds" "$work/m2" "$work/m20")
    echo "mailwarden hyperscan: $out" >&2
    for size in 2 20; do
        line=$(grep "set=$work/m$size " <<<"$out")
        result[mailwarden,$size]=$(sed -E 's/.*cpu_ms_per_message=([0-9.]+).*/\1/' <<<"$line")
        result[load]=$(sed -E 's/.*policy_load_cpu_s=([0-9.]+).*/\1/' <<<"$line")
        result[compile]=$(sed -E 's/.*prefilter_compile_cpu_s=([0-9.]+).*/\1/' <<<"$line")
    done
    out=$("$build/tests/bench/rules-cpu" -c "$work/mw.conf" --rounds 1 --no-prefilter "$work/m2" "$work/m20")
    echo "mailwarden pcre2: $out" >&2
    for size in 2 20; do
        line=$(grep "set=$work/m$size " <<<"$out")
        result[pcre2,$size]=$(sed -E 's/.*cpu_ms_per_message=([0-9.]+).*/\1/' <<<"$line")
    done
fi

# --- spamd ---
if [[ " $daemons " == *" spamd "* ]]; then
    mkdir -p "$work/sa-site"
    cp /etc/spamassassin/*.pre "$work/sa-site/" 2>/dev/null
    printf 'use_bayes 0\nbayes_auto_learn 0\nuse_auto_welcomelist 0\n' >"$work/sa-site/local.cf"
    port=$((20000 + RANDOM % 20000))
    spamd -L --max-children=1 --min-children=1 --min-spare=1 --max-spare=1 -p "$port" \
        -i 127.0.0.1 -A 127.0.0.1 --siteconfigpath="$work/sa-site" -u nobody \
        --pidfile="$work/spamd.pid" -s stderr 2>"$work/spamd.log" &
    pids+=($!)
    for _ in $(seq 600); do spamc -p "$port" -c </dev/null >/dev/null 2>&1; [ $? -le 1 ] && break; sleep 0.2; done
    for size in 2 20; do
        for f in "$work/m$size"/*.eml; do spamc -p "$port" -c <"$f" >/dev/null; done   # warm-up
        before=$(proc_cpu "spamd")
        for _ in $(seq "$rounds"); do
            for f in "$work/m$size"/*.eml; do spamc -p "$port" -c <"$f" >/dev/null; done
        done
        after=$(proc_cpu "spamd")
        result[spamd,$size]=$(per_msg_ms "$before" "$after" "$count")
        echo "spamd ${size}KB: ${result[spamd,$size]} ms/message" >&2
    done
    kill "${pids[-1]}"
fi

# --- rspamd ---
if [[ " $daemons " == *" rspamd "* ]]; then
    if pgrep -x rspamd >/dev/null; then
        echo "rspamd already runs here: measuring that instance would mix loads; stop it first" >&2
    else
        mkdir -p "$work/rspamd/local.d" "$work/rspamd/dbdir" "$work/rspamd/run"
        chown -R _rspamd "$work/rspamd" 2>/dev/null || chown -R nobody "$work/rspamd"
        cat >"$work/rspamd/local.d/options.inc" <<'EOF'
dns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 0; }
EOF
        for m in redis bayes classifier-bayes fuzzy_check rbl surbl dkim_signing arc asn \
                 neural ratelimit greylist replies history_redis dcc metadata_exporter; do
            printf 'enabled = false;\n' >"$work/rspamd/local.d/$m.conf"
        done
        rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf \
            --var=LOCAL_CONFDIR="$work/rspamd" --var=DBDIR="$work/rspamd/dbdir" \
            --var=RUNDIR="$work/rspamd/run" --var=LOGDIR="$work/rspamd" \
            >"$work/rspamd.log" 2>&1 &
        pids+=($!)
        for _ in $(seq 900); do rspamc stat >/dev/null 2>&1 && break; sleep 0.2; done
        for size in 2 20; do
            rspamc "$work/m$size"/*.eml >/dev/null 2>&1     # warm-up (and Hyperscan cache)
            before=$(proc_cpu "rspamd:")
            for _ in $(seq "$rounds"); do rspamc "$work/m$size"/*.eml >/dev/null 2>&1; done
            after=$(proc_cpu "rspamd:")
            result[rspamd,$size]=$(per_msg_ms "$before" "$after" "$count")
            echo "rspamd ${size}KB: ${result[rspamd,$size]} ms/message" >&2
        done
    fi
fi

echo
echo "CPU per message, every stock SpamAssassin rule, $messages messages x $rounds rounds per size"
echo "($(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo
echo "| engine | 2 KB | 20 KB |"
echo "|---|---|---|"
echo "| mailwarden, Hyperscan prefilter + PCRE2 | ${result[mailwarden,2]:-} ms | ${result[mailwarden,20]:-} ms |"
echo "| mailwarden, PCRE2 alone | ${result[pcre2,2]:-} ms | ${result[pcre2,20]:-} ms |"
echo "| spamd -L (Bayes off) | ${result[spamd,2]:-} ms | ${result[spamd,20]:-} ms |"
echo "| rspamd | ${result[rspamd,2]:-} ms | ${result[rspamd,20]:-} ms |"
echo
echo "mailwarden policy load (stock rules): ${result[load]:-?} s CPU; Hyperscan compile (background): ${result[compile]:-?} s CPU"
