#!/bin/bash
# tests/reliability/run.sh - runs the reliability tests (tests/reliability/r-*.sh, or the ones
# named) against a built daemon, each in its own bash under a time limit, prints their
# "PASS: ..." / "FAIL: ..." lines and ends with "N passed, N failed" (", N skipped"). Exit
# status 0 only when nothing failed. As root (private Postfix); see README.md.
#
#   MW_BUILDDIR=/path/to/build bash tests/reliability/run.sh [--long] [r-name ...]
#
# --long (or MW_REL_MODE=long) uses the admin sizes instead of the short CI sizes; every size
# can also be set alone (MW_REL_MESSAGES, MW_REL_HUPS, ...: README.md). MW_REL_TIMEOUT: seconds
# one test may take (default 300 short, 3600 long). Logs: $MW_BUILDDIR/tests/reliability-logs/.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/../.." && pwd)
: "${MW_BUILDDIR:=$SRCDIR}"
MW_BUILDDIR=$(cd "$MW_BUILDDIR" && pwd)
export MW_BUILDDIR
: "${MW_REL_MODE:=short}"
tests=()
for a in "$@"; do
    case $a in
        --long) MW_REL_MODE=long ;;
        --short) MW_REL_MODE=short ;;
        *)
            t=$(basename "$a" .sh)
            [ -f "$HERE/$t.sh" ] || { echo "run.sh: no test $HERE/$t.sh" >&2; exit 2; }
            tests+=("$HERE/$t.sh") ;;
    esac
done
export MW_REL_MODE
[ ${#tests[@]} -gt 0 ] || tests=("$HERE"/r-*.sh)
if [ "$MW_REL_MODE" = long ]; then TIMEOUT=${MW_REL_TIMEOUT:-3600}; else TIMEOUT=${MW_REL_TIMEOUT:-300}; fi
LOGROOT=$MW_BUILDDIR/tests/reliability-logs

passed=0 failed=0 skipped=0
count() { # PASS/FAIL/SKIP lines on stdin: echoed and counted
    local line
    while IFS= read -r line; do
        case $line in
            PASS:*) passed=$((passed + 1)) ;;
            FAIL:*) failed=$((failed + 1)) ;;
            SKIP:*) skipped=$((skipped + 1)) ;;
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

if [ "$(id -u)" != 0 ]; then
    count < <(for t in "${tests[@]}"; do printf 'SKIP: %s: needs root (private Postfix)\n' "$(basename "$t" .sh)"; done)
    summary
fi

rm -rf -- "$LOGROOT"
mkdir -p "$LOGROOT"
echo "# reliability tests ($MW_REL_MODE): build $MW_BUILDDIR, logs $LOGROOT, ${TIMEOUT}s per test"
start_all=$(date +%s)
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    logdir=$LOGROOT/$name
    mkdir -p "$logdir"
    start=$(date +%s)
    MW_LOGDIR=$logdir timeout -k 15 "$TIMEOUT" bash "$t" >"$logdir/output.txt" 2>&1 </dev/null
    rc=$?
    failed_before=$failed
    count <"$logdir/output.txt"
    if ! grep -qE '^(PASS|FAIL|SKIP):' "$logdir/output.txt"; then
        count <<<"FAIL: $name: produced no result (exit status $rc)"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        count <<<"FAIL: $name: timed out after ${TIMEOUT}s"
    elif [ "$rc" != 0 ] && ! grep -q '^FAIL:' "$logdir/output.txt"; then
        count <<<"FAIL: $name: exited with status $rc"
    fi
    grep -E '^# (measured|sizes):' "$logdir/output.txt"
    echo "# $name: $(( $(date +%s) - start ))s"
    if [ "$failed" -gt "$failed_before" ]; then
        for f in "$logdir"/output.txt "$logdir"/mailwarden.log "$logdir"/postfix-maillog; do
            [ -s "$f" ] || continue
            echo "  ---- tail of ${f#"$LOGROOT"/}"
            tail -n 25 "$f" | sed 's/^/  | /'
        done
    fi
done
echo "# all reliability tests: $(( $(date +%s) - start_all ))s"
summary
