#!/bin/bash
# tests/integration/run.sh - runs every tests/integration/t-*.sh (or the ones named on the
# command line) against real MTAs, one bash each, and ends with the line "N passed, N failed"
# (", N skipped" when any). Exit status 0 only when nothing failed.
#
#   MW_BUILDDIR=/path/to/build bash tests/integration/run.sh [t-name ...]
#   make check-integration
#
# Needs root (private Postfix/Sendmail instances); as another user every test is skipped.
# Logs: $MW_BUILDDIR/tests/integration-logs/<test>/ (the test's output, mailwarden.log,
# postfix-maillog, sendmail-traffic.log, the sink's dumps, ...).
# MW_FAKE_MILTER=1 runs the suite against helpers/fake-milter.py (to check the harness itself).
# MW_INTEGRATION_STRICT=1 counts skipped tests as failed (for CI, where every tool is installed).
# MW_TEST_TIMEOUT: seconds one test file may take (default 240).

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/../.." && pwd)
: "${MW_BUILDDIR:=$SRCDIR}"
MW_BUILDDIR=$(cd "$MW_BUILDDIR" && pwd)
export MW_BUILDDIR
LOGROOT=$MW_BUILDDIR/tests/integration-logs
TIMEOUT=${MW_TEST_TIMEOUT:-240}

if [ $# -gt 0 ]; then
    tests=()
    for t in "$@"; do
        t=$(basename "$t" .sh)
        [ -f "$HERE/$t.sh" ] || { echo "run.sh: no test $HERE/$t.sh" >&2; exit 2; }
        tests+=("$HERE/$t.sh")
    done
else
    tests=("$HERE"/t-*.sh)
fi

passed=0 failed=0 skipped=0
count() { # reads PASS/FAIL/SKIP lines on stdin, echoes them, updates the counters
    local line
    while IFS= read -r line; do
        case $line in
            PASS:*) passed=$((passed + 1)) ;;
            FAIL:*) failed=$((failed + 1)) ;;
            SKIP:*) if [ "${MW_INTEGRATION_STRICT:-0}" = 1 ]; then
                        failed=$((failed + 1)); line="FAIL: ${line#SKIP: } (skipped, MW_INTEGRATION_STRICT=1)"
                    else
                        skipped=$((skipped + 1))
                    fi ;;
            *) continue ;;
        esac
        printf '%s\n' "$line"
    done
}
summary() {
    if [ "$skipped" -gt 0 ]; then
        printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
    else
        printf '%d passed, %d failed\n' "$passed" "$failed"
    fi
    [ "$failed" = 0 ]
    exit
}

# --- prerequisites --------------------------------------------------------------------------
why_skip=""
if [ "$(id -u)" != 0 ]; then
    why_skip="needs root (private Postfix and Sendmail instances)"
else
    missing=""
    for c in postfix postconf smtp-sink swaks saslpasswd2 ss unshare runuser m4 timeout; do
        command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
    done
    /usr/bin/python3 -c 'import dnslib' 2>/dev/null || missing="$missing python3-dnslib"
    [ -z "$missing" ] || why_skip="missing:$missing (apt-get install postfix swaks sasl2-bin libsasl2-modules m4 libwrap0 iproute2 util-linux python3-dnslib)"
fi
if [ -n "$why_skip" ]; then
    count < <(for t in "${tests[@]}"; do printf 'SKIP: %s: %s\n' "$(basename "$t" .sh)" "$why_skip"; done)
    summary
fi

rm -rf -- "$LOGROOT"
mkdir -p "$LOGROOT"
echo "# integration tests: build $MW_BUILDDIR, logs $LOGROOT"
if [ "${MW_FAKE_MILTER:-0}" = 1 ]; then
    echo "# MW_FAKE_MILTER=1: the milter is helpers/fake-milter.py, not mailwarden"
else
    echo "# daemon: ${MW_BIN:-$MW_BUILDDIR/filter/mailwarden}"
fi
start_all=$(date +%s)

show_logs() { # LOGDIR: the tails CI needs to see why a test failed
    local d=$1 f
    for f in "$d"/output.txt "$d"/mailwarden.log "$d"/postfix-maillog "$d"/sendmail-traffic.log \
             "$d"/sendmail-sendmail.log "$d"/sink.log "$d"/dns.log "$d"/burst.err "$d"/session.err; do
        [ -s "$f" ] || continue
        echo "  ---- tail of ${f#"$LOGROOT"/}"
        tail -n "${MW_TAIL_LINES:-30}" "$f" | sed 's/^/  | /'
    done
}

for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    logdir=$LOGROOT/$name
    mkdir -p "$logdir"
    start=$(date +%s)
    MW_LOGDIR=$logdir timeout -k 15 "$TIMEOUT" bash "$t" >"$logdir/output.txt" 2>&1 </dev/null
    rc=$?
    end=$(date +%s)
    failed_before=$failed
    count <"$logdir/output.txt"
    if ! grep -qE '^(PASS|FAIL|SKIP):' "$logdir/output.txt"; then
        count <<<"FAIL: $name: produced no result (exit status $rc)"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        count <<<"FAIL: $name: timed out after ${TIMEOUT}s"
    elif [ "$rc" != 0 ] && ! grep -q '^FAIL:' "$logdir/output.txt"; then
        count <<<"FAIL: $name: exited with status $rc"
    fi
    echo "# $name: $((end - start))s"
    [ "$failed" -gt "$failed_before" ] && show_logs "$logdir"
done

echo "# all integration tests: $(( $(date +%s) - start_all ))s"
summary
